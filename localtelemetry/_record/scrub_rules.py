# ruff: noqa: S105  (patterns that name secrets are not secrets)
"""The scrubber's rule table: patterns, their cheap pre-filters and their validators.

Written from the public format descriptions of the tokens and from the default rule sets
of the open secret scanners (gitleaks, detect-secrets, trufflehog); no pattern is copied
from them. ``_record/scrub`` runs the rules in table order and compiles a rule only when its
pre-filters say a message may contain a match (see ``Spec``).

Every pattern is written to run in linear time: a literal or a fixed character set starts
each match, repetition is bounded, and no two quantifiers compete for the same characters
(``tests/test_scrub*.py`` feed them pathological inputs).
"""

from __future__ import annotations

import re
from collections.abc import Callable

# A validator sees the candidate (the rule's group) and the whole match; False rejects it.
Validator = Callable[[str, "re.Match[str]"], bool]


class Spec:
    """One rule before compilation (a plain class: a typing.NamedTuple costs this module,
    loaded by every run that scrubs, more than a millisecond to create).

    Pre-filters, all of which must pass before the pattern is compiled and run: one of
    ``hints`` (lower-case strings) occurs in the lower-cased text; one of ``cased`` occurs
    in the text as it is; the text has at least ``min_digits`` ASCII digits; ``pre`` (a
    cheap test of the lower-cased text) is true. Every match contains what its pre-filters
    look for, so a pre-filter never hides a match, and a part of a text passes no filter
    the whole text fails (the engine's second pass relies on that)."""

    __slots__ = (
        "cased",
        "description",
        "group",
        "hints",
        "kind",
        "min_digits",
        "pattern",
        "pre",
        "validate",
    )

    def __init__(
        self,
        kind: str,
        pattern: str,
        description: str,
        group: str | int = 0,
        validate: Validator | None = None,
        hints: tuple[str, ...] = (),
        cased: tuple[str, ...] = (),
        min_digits: int = 0,
        pre: Callable[[str], bool] | None = None,
    ) -> None:
        self.kind = kind
        self.pattern = pattern
        self.description = description
        self.group = group
        self.validate = validate
        self.hints = hints
        self.cased = cased
        self.min_digits = min_digits
        self.pre = pre


# --------------------------------------------------------------------------- validators


def _luhn_ok(candidate: str) -> bool:
    digits = [ord(c) - 48 for c in candidate if "0" <= c <= "9"]
    if not 13 <= len(digits) <= 19:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _luhn(candidate: str, m: re.Match[str]) -> bool:
    return _luhn_ok(candidate)


def _mixed_case(candidate: str, m: re.Match[str] | None = None) -> bool:
    return any(c.isupper() for c in candidate) and any(c.islower() for c in candidate)


def _looks_random(candidate: str, m: re.Match[str] | None = None) -> bool:
    """Upper, lower and digit: random keys have all three, prose and identifiers rarely."""
    return _mixed_case(candidate) and any(c.isdigit() for c in candidate)


def _has_digit(candidate: str, m: re.Match[str]) -> bool:
    return any(c.isdigit() for c in candidate)


def _email_domain(candidate: str, m: re.Match[str]) -> bool:
    tld = candidate.rsplit(".", 1)[-1]
    return len(tld) >= 2 and tld.isascii() and tld.isalpha()


def _public_ipv4(candidate: str, m: re.Match[str]) -> bool:
    return not candidate.startswith("127.") and candidate != "0.0.0.0"  # noqa: S104


def _ipv6_groups(part: str, *, last: bool) -> int:
    """Number of 16-bit groups in ``part`` (between ``::``), or -1 if malformed."""
    if not part:
        return 0
    groups = part.split(":")
    if any(not g for g in groups):
        return -1
    n = len(groups)
    if "." in groups[-1]:
        if not last:
            return -1
        n += 1  # an embedded IPv4 address counts as two groups
    return -1 if any("." in g for g in groups[:-1]) else n


def _ipv6(candidate: str, m: re.Match[str]) -> bool:
    address = candidate.split("%", 1)[0]
    if ":::" in address:
        return False
    halves = address.split("::")
    if len(halves) > 2:
        return False
    if len(halves) == 1:
        return _ipv6_groups(address, last=True) == 8
    head = _ipv6_groups(halves[0], last=False)
    tail = _ipv6_groups(halves[1], last=True)
    if head < 0 or tail < 0 or head + tail > 7:
        return False
    if head + tail >= 3:
        return True
    return head + tail == 2 and len(halves[0].split(":", 1)[0]) == 4


def _entropy(text: str) -> float:
    """Shannon entropy in bits per character."""
    import math  # only when a candidate needs it: keeps the module's import cheap

    counts: dict[str, int] = {}
    for c in text:
        counts[c] = counts.get(c, 0) + 1
    n = len(text)
    return -sum(k / n * math.log2(k / n) for k in counts.values())


def _classes(text: str) -> int:
    upper = lower = digit = other = 0
    for c in text:
        if "a" <= c <= "z":
            lower = 1
        elif "A" <= c <= "Z":
            upper = 1
        elif "0" <= c <= "9":
            digit = 1
        else:
            other = 1
    return upper + lower + digit + other


_PLACEHOLDER_STARTS = ("${", "$(", "{{", "%(", "<", "***", "xxx", "http:", "https:")


def secret_like(value: str) -> bool:
    """Whether ``value`` looks like a generated credential rather than a word, a number,
    a version, a path or a placeholder: 8+ characters of at least two character classes
    whose entropy is that of random text (3 bits per character, 2.5 for 8-11 characters
    of three or more classes)."""
    v = value.strip("\"'`")
    n = len(v)
    if n < 8 or "://" in v or v.lower().startswith(_PLACEHOLDER_STARTS):
        return False
    classes = _classes(v)
    if classes < 2 or not v.strip("0123456789.:-_ "):
        return False  # a number, a version, a date or a time
    h = _entropy(v)
    if n < 12:
        return classes >= 3 and h >= 2.5
    return h >= 3.0


def _secret_value(candidate: str, m: re.Match[str]) -> bool:
    return secret_like(candidate)


def _random_value(candidate: str, m: re.Match[str]) -> bool:
    """Stricter, for a token named only in prose ("the token AbC..."): upper, lower and
    digits, 16+ characters, random-looking."""
    return len(candidate) >= 16 and _looks_random(candidate) and _entropy(candidate) >= 3.5


def _bearer_value(candidate: str, m: re.Match[str]) -> bool:
    """Any length, but not a word ("Bearer token", "Bearer realm=")."""
    word = candidate.rstrip("=")
    return not (len(word) < 20 and word.isalpha() and (word.islower() or word.istitle()))


def _basic_value(candidate: str, m: re.Match[str]) -> bool:
    """A Basic credential decodes to ``user:password``."""
    import binascii

    try:
        raw = binascii.a2b_base64(candidate + "=" * (-len(candidate) % 4))
    except (binascii.Error, ValueError):
        return False
    return b":" in raw and all(32 <= b < 127 or b >= 128 for b in raw)


def _not_a_key(candidate: str, m: re.Match[str]) -> bool:
    """An empty assignment followed by another key (``ACCESSKEY= X-Api-Key: v``) is not
    the value: a word-like name of several parts right before a colon is rejected, and
    the search resumes and finds the next key's value."""
    if m.string[m.end("value") : m.end("value") + 1] != ":":
        return True
    keylike = (
        candidate[:1].isalpha()
        and ("-" in candidate or "_" in candidate)
        and all(c.isalpha() or c in "-_." for c in candidate)
    )
    return not keylike


def _password_value(candidate: str, m: re.Match[str]) -> bool:
    """After a bare ``pass`` key a count is not a password ("pass: 12, fail: 0")."""
    key = m.group("key").lower().rstrip("\"' \t:=>")
    return not (key == "pass" and candidate.isdigit()) and _not_a_key(candidate, m)


_IDENTIFIER_OWNERS = frozenset(
    {
        "threading",
        "self",
        "cls",
        "os",
        "sys",
        "this",
        "ctx",
        "request",
        "g",
        "asyncio",
        "contextvars",
        "np",
        "torch",
        "super",
        "obj",
        "app",
        "state",
        "localhost",
    }
)


def _hostname(candidate: str, m: re.Match[str]) -> bool:
    """``threading.local()``, ``self.internal`` and ``localhost.localdomain`` are not hosts."""
    if m.string[m.end() : m.end() + 1] in ("(", "["):
        return False
    labels = candidate.lower().split(".")
    return not (labels[0] in _IDENTIFIER_OWNERS and len(labels) <= 3)


def _digits_between(low: int, high: int) -> Validator:
    def check(candidate: str, m: re.Match[str]) -> bool:
        n = sum(c.isdigit() for c in candidate)
        return low <= n <= high

    return check


def _phone_international(candidate: str, m: re.Match[str]) -> bool:
    digits = sum(c.isdigit() for c in candidate.replace("(0)", ""))
    if candidate.startswith("00"):
        digits -= 2
    return 8 <= digits <= 15


def _iban(candidate: str, m: re.Match[str]) -> bool:
    compact = candidate.replace(" ", "")
    if not 15 <= len(compact) <= 34:
        return False
    moved = compact[4:] + compact[:4]
    number = "".join(str(int(c, 36)) for c in moved)
    return int(number) % 97 == 1


def _pgpass(candidate: str, m: re.Match[str]) -> bool:
    host = candidate.split(":", 1)[0]
    return host == "*" or any(c.isalpha() for c in host)


# ----------------------------------------------------------------------- pre-filters


# A pre-filter is a superset of its pattern: every text the pattern matches passes it
# (tests/test_scrub_prefilters.py checks each on the examples and on generated text).
# The shape checks below cost a few string operations; a pattern that runs costs its
# compilation, about 0.3 ms each, the first time.

_ASCII_DIGITS = "0123456789"


def _digits_at(lower: str, start: int, n: int) -> bool:
    """Whether ``lower[start:start + n]`` is ``n`` ASCII digits."""
    run = lower[start : start + n]
    return start >= 0 and len(run) == n and not run.strip(_ASCII_DIGITS)


def _dot_digit(lower: str) -> bool:
    """A dotted quad: three dots, each between two digits."""
    found = 0
    i = lower.find(".", 1)
    while i > 0:
        if lower[i - 1 : i].isdigit() and lower[i + 1 : i + 2].isdigit():
            found += 1
            if found == 3:
                return True
        i = lower.find(".", i + 1)
    return False


def _hex_key_shape(lower: str) -> bool:
    """``key-`` or 32 characters of ``0-9a-h``, a dash, 8, a dash (Mailgun)."""
    if "key-" in lower:
        return True
    i = lower.find("-", 32)
    while i > 0:
        if (
            not lower[i - 32 : i].strip("0123456789abcdefgh")
            and lower[i + 9 : i + 10] == "-"
            and not lower[i + 1 : i + 9].strip("0123456789abcdefgh")
            and len(lower[i + 1 : i + 9]) == 8
        ):
            return True
        i = lower.find("-", i + 1)
    return False


def _ssn_shape(lower: str) -> bool:
    """Three digits, a dash, two digits, a dash, four digits."""
    i = lower.find("-", 3)
    while i > 0:
        if (
            _digits_at(lower, i - 3, 3)
            and _digits_at(lower, i + 1, 2)
            and lower[i + 3 : i + 4] == "-"
            and _digits_at(lower, i + 4, 4)
        ):
            return True
        i = lower.find("-", i + 1)
    return False


def _nanp_shape(lower: str) -> bool:
    """Three digits, a space, dot or dash, four digits: how every North American number
    ends."""
    for sep in " .-":
        i = lower.find(sep, 3)
        while i > 0:
            if _digits_at(lower, i - 3, 3) and _digits_at(lower, i + 1, 4):
                return True
            i = lower.find(sep, i + 1)
    return False


def _ipv6_colons(lower: str) -> bool:
    return "::" in lower or lower.count(":") >= 7


def _plus_or_double_zero(lower: str) -> bool:
    return "+" in lower or "00" in lower


_HEX = frozenset("0123456789abcdef")


def _mac_separators(lower: str) -> bool:
    if lower.count(":") >= 5 or lower.count("-") >= 5:
        return True
    # Cisco style aabb.ccdd.eeff: a dot between two runs of four hex digits
    i = lower.find(".", 4)
    while 0 < i < len(lower) - 4:
        if _HEX.issuperset(lower[i - 4 : i]) and _HEX.issuperset(lower[i + 1 : i + 5]):
            return True
        i = lower.find(".", i + 1)
    return False


def _four_colons(lower: str) -> bool:
    return lower.count(":") >= 4


def _discord_shape(lower: str) -> bool:
    """A word of 24+ characters right before a dot, then another dot."""
    parts = lower.split(".")
    return len(parts) >= 3 and any(
        part and not part[-1].isspace() and len(part.rsplit(None, 1)[-1]) >= 24
        for part in parts[:-2]
    )


def _digit_run(lower: str) -> bool:
    """Six digits in a row, spaces ignored (NINO, IBAN)."""
    run = 0
    for c in lower.replace(" ", ""):
        if "0" <= c <= "9":
            run += 1
            if run >= 6:
                return True
        else:
            run = 0
    return False


# ------------------------------------------------------------------------- fragments

# Start of a token: not glued to a letter or digit, but allowed right after an escaped
# "\n", "\r" or "\t" as found in logged JSON or repr() output.
_B = r"(?:(?<![A-Za-z0-9])|(?<=\\[nrt]))"
# ... for tokens whose alphabet includes "_" and "-"
_BW = r"(?:(?<![A-Za-z0-9_\-])|(?<=\\[nrt]))"
_E = r"(?![A-Za-z0-9])"  # end of a token
_EW = r"(?![A-Za-z0-9_\-])"
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = rf"{_OCTET}(?:\.{_OCTET}){{3}}"
# "\\?": the quotes of JSON logged inside JSON are escaped (\"password\": \"x\")
_ASSIGN = r"""(?:\\?["'])?[ \t]*(?::=|=>|[:=]{1,2})[ \t]*(?:\\?["'])?"""
# (an unquoted value never ends with a colon: "key=VALUE: more")
_VALUE = r"""(?P<value>(?<=")[^"\n]+(?=")|(?<=')[^'\n]+(?=')|[^\s"',;&]*[^\s"',;&:])"""
_URL_REST = r"""[^\s<>"'`]*[^\s<>"'`.,;:!?)\]}]"""
_PASSWORD_KEYS = (
    r"passw(?:or)?d|passphrase|(?<![A-Za-z0-9])pwd|(?<![A-Za-z])pass(?:wd)?(?![A-Za-z])"
    r"|[_\-.]pass(?![A-Za-z])|passwort|kennwort|contrase(?:n|\u00f1)a|senha|wachtwoord"
    r"|mot[_\- ]de[_\- ]passe"
)
_SECRET_KEYS = (
    r"secret(?:[_\-]?key)?|token|api[_\-]?key|private[_\-]?key|access[_\-]?key"
    r"|session[_\-]?id|auth|credentials?"
)
_PARAM = r"""[A-Za-z][A-Za-z0-9_\-]{0,30}=(?:"[^"\n]*"|[^\s"',;]+)"""  # Digest/AWS4 parameter
_AUTH_SCHEMES = r"bearer|basic|token|digest|negotiate|ntlm|apikey|aws4-hmac-sha256|hoba|mutual"
# Words that make an assignment's key a credential context for the high-entropy rule:
# credential words, and the names of services whose keys scanners look for by name.
_CONTEXT_WORDS = (
    "key",
    "token",
    "secret",
    "passw",
    "pwd",
    "pass",
    "auth",
    "cred",
    "sig",
    "cookie",
    "session",
    "bearer",
    "private",
    "salt",
    "hmac",
    "otp",
    "dsn",
    "dockercfg",
    "dockerconfigjson",
    "adafruit",
    "adobe",
    "airtable",
    "algolia",
    "alibaba",
    "asana",
    "atlassian",
    "jira",
    "confluence",
    "beamer",
    "bitbucket",
    "bittrex",
    "cloudflare",
    "codecov",
    "cohere",
    "coinbase",
    "confluent",
    "contentful",
    "datadog",
    "discord",
    "droneci",
    "dropbox",
    "etsy",
    "facebook",
    "fastly",
    "finicity",
    "finnhub",
    "flickr",
    "freshbooks",
    "gitter",
    "gocardless",
    "heroku",
    "hubspot",
    "intercom",
    "jfrog",
    "artifactory",
    "kraken",
    "kucoin",
    "launchdarkly",
    "linear",
    "linkedin",
    "mailchimp",
    "mailgun",
    "mapbox",
    "mattermost",
    "messagebird",
    "netlify",
    "newrelic",
    "new_relic",
    "nytimes",
    "okta",
    "plaid",
    "rapidapi",
    "sendbird",
    "sentry",
    "snyk",
    "sonar",
    "squarespace",
    "sumo",
    "telegram",
    "travis",
    "twilio",
    "twitch",
    "twitter",
    "typeform",
    "yandex",
    "zendesk",
    "ibm",
    "iam",
    "cloudant",
    "softlayer",
    "contribsys",
    "vercel",
    "supabase",
    "firebase",
    "auth0",
    "pagerduty",
    "opsgenie",
    "bugsnag",
    "rollbar",
    "segment",
    "mixpanel",
    "amplitude",
    "airbrake",
    "honeycomb",
    "lightstep",
    "buildkite",
    "circleci",
    "azure",
    "devops",
)


def _names_credential(key: str) -> bool:
    """Whether an assignment's key names a credential or a service (an exception class
    such as ``KeyError: '...'`` does not)."""
    lower = key.lower()
    if lower.endswith(("error", "exception", "warning")):
        return False
    return any(word in lower for word in _CONTEXT_WORDS)


_DB_CLIENTS = (
    r"mysql|mysqldump|mysqladmin|mysqlimport|mysqlshow|mysqlcheck|mysqlpump|mysqlsh"
    r"|mariadb|mariadb-dump|mongo|mongosh|mongodump|mongorestore|mongoexport|mongoimport"
    r"|7z|7za|7zz|unrar|rar"
)
_LOGIN_CLIENTS = (
    r"(?:docker|podman|nerdctl|buildah|helm|oras|skopeo|crane|regctl|cf|oc)"
    r"(?:[ \t]+registry)?[ \t]+login|sshpass|sqlcmd|bcp|zip|redis-cli|keytool|ldapsearch"
    r"|ldapmodify|ldapadd|smbclient|rabbitmqctl|mongo|mongosh|psexec"
)
_LONG_SECRET_OPTIONS = (
    r"password|passwd|pass|pwd|passphrase|token|api-?key|secret|client-secret|secret-key"
    r"|access-key|secret-access-key|auth-token|access-token|refresh-token|bearer-token"
    r"|db-password|http-password|proxy-password|ftp-password|keystore-password"
    r"|key-password|store-password|storepass|keypass|srcstorepass|deststorepass"
    r"|srckeypass|destkeypass|private-key-passphrase|master-password|admin-password"
    r"|root-password|registry-password|docker-password|oauth-token|github-token"
    r"|gitlab-token|npm-token|pypi-token|vault-token|sas-token|webhook-secret|apikey"
)


#: The table's constructor for rules found by shape and context (keyword arguments after
#: the description; ``Spec`` itself, so each rule costs the import one call).
_spec = Spec


def _xml_secret(pattern: str, description: str, words: tuple[str, str]) -> Spec:
    """A secret in XML (group ``value``): the text of an element or a setting's value.
    The first of ``words`` is the hint, and the second must occur too (both in the
    lower-cased text) before the pattern is compiled."""
    hint, also = words
    return Spec(
        "xml-secret",
        pattern,
        description,
        group="value",
        hints=(hint,),
        pre=lambda lower: also in lower,
    )


def _assignment(
    kind: str, keys: str, description: str, hints: tuple[str, ...], validate: Validator
) -> Spec:
    """A value assigned to one of ``keys`` (a pattern; any case) with ``=``, ``:``,
    ``:=``, ``=>`` and quotes: the value is replaced, the key (group ``key``) kept."""
    return Spec(
        kind,
        rf"(?P<key>(?ai:{keys}){_ASSIGN}){_VALUE}",
        description,
        group="value",
        validate=validate,
        hints=hints,
    )


def _token(kind: str, pattern: str, description: str, *hints: str, **kw: object) -> Spec:
    """A vendor token found by its documented prefix; ``hints`` are the lower-cased prefixes."""
    return Spec(kind, pattern, description, hints=hints, **kw)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- table

SPECS: tuple[Spec, ...] = (
    # -- private keys ---------------------------------------------------------------
    _spec(
        "pem-private-key",
        r"-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----"
        r"(?:(?:(?!-----)[\s\S]){0,65536}?-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----"
        r"|(?:(?:\s|\\[nr])*(?:[A-Za-z0-9+/]{16,}={0,2}|[A-Za-z0-9+/]{1,15}={1,2}))*)",
        "PEM/OpenSSH/PGP private key block, BEGIN to END over many lines (without END: "
        "the header and the base64 lines after it).",
        hints=("private key",),
    ),
    _token(
        "age-secret-key",
        r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}",
        "age encryption secret key (AGE-SECRET-KEY-1 and 58 bech32 characters).",
        "age-secret-key-1",
    ),
    _spec(
        "gcp-service-account-key",
        r"""private_key_id["']?[ \t]*[:=][ \t]*["']?(?P<value>[0-9a-f]{40})(?![0-9a-f])""",
        "private_key_id of a Google Cloud service-account key file (its private_key is a "
        "PEM block, see pem-private-key).",
        hints=("private_key_id",),
        group="value",
    ),
    # -- cloud providers --------------------------------------------------------------
    _spec(
        "azure-storage-connection-string",
        r"""DefaultEndpointsProtocol=[A-Za-z]*(?:;[A-Za-z]+=[^;\s"'<>]*)+;?""",
        "Azure storage connection string (DefaultEndpointsProtocol=...;AccountName=...;"
        "AccountKey=...), replaced whole.",
        hints=("defaultendpointsprotocol=",),
    ),
    _spec(
        "azure-account-key",
        r"(?ai:(?<![A-Za-z0-9])(?:Account|SharedAccess)Key=)(?P<value>[A-Za-z0-9+/]{20,}={0,2})",
        "Value of AccountKey= / SharedAccessKey= in Azure connection strings.",
        hints=("accountkey=", "sharedaccesskey="),
        group="value",
    ),
    _spec(
        "azure-sas-token",
        r"""(?ai:(?<=SharedAccessSignature=))[^;\s"'<>]+|(?ai:(?<=[?&]sig=))[A-Za-z0-9%+/=]{16,}""",
        "Azure shared access signature: SharedAccessSignature=... value or sig= URL parameter.",
        hints=("sharedaccesssignature=", "sig="),
    ),
    _token(
        "azure-ad-client-secret",
        r"(?<![A-Za-z0-9_~.\-])[A-Za-z0-9_~.]{3}[0-9]Q~[A-Za-z0-9_~.\-]{31,34}"
        r"(?![A-Za-z0-9_~.\-])",
        "Microsoft Entra ID (Azure AD) client secret: three characters, a digit, Q~ and "
        "31-34 more.",
        "q~",
    ),
    _spec(
        "aws-access-key-id",
        r"(?=A)" + _B + r"(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA"
        r"|AROA|ASCA)[A-Z0-9]{16}(?![A-Za-z0-9])",
        "AWS access key id: AKIA/ASIA/A3T.../... followed by 16 upper-case letters or digits.",
        cased=(
            "AKIA",
            "ASIA",
            "ABIA",
            "ACCA",
            "AGPA",
            "AIDA",
            "AIPA",
            "ANPA",
            "ANVA",
            "APKA",
            "AROA",
            "ASCA",
            "A3T",
        ),
    ),
    _spec(
        "aws-secret-access-key",
        r"(?ai:(?<![A-Za-z0-9])(?:aws|secret))[^\n]{0,48}?"
        r"(?<![A-Za-z0-9/+=])(?P<value>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])",
        "AWS secret access key: 40 base64 characters with mixed case within 48 characters "
        "after the word aws or secret (aws_secret_access_key=..., SecretAccessKey: ...).",
        hints=("aws", "secret"),
        group="value",
        validate=_mixed_case,
    ),
    _token(
        "aws-mws-key",
        r"amzn\.mws\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        "Amazon Marketplace Web Service auth token (amzn.mws.UUID).",
        "amzn.mws.",
    ),
    _spec(
        "aws-account-id",
        r"arn:aws[a-z\-]{0,12}:[a-z0-9\-]{0,40}:[a-z0-9\-]{0,40}:(?P<value>[0-9]{12})(?=:)",
        "The 12-digit account id inside an AWS ARN (arn:aws:iam::123456789012:role/x).",
        hints=("arn:aws",),
        group="value",
    ),
    _token(
        "alibaba-access-key-id",
        _B + r"LTAI[A-Za-z0-9]{12,20}" + _E,
        "Alibaba Cloud AccessKey id (LTAI and 12-20 characters).",
        "ltai",
    ),
    _token(
        "google-api-key",
        r"AIza[0-9A-Za-z_\-]{35}",
        "Google API key: AIza followed by 35 characters.",
        "aiza",
    ),
    _token(
        "google-oauth-token",
        r"ya29\.[0-9A-Za-z_\-]{20,}",
        "Google OAuth access token (ya29.).",
        "ya29.",
    ),
    _token(
        "google-oauth-client-secret",
        r"GOCSPX-[0-9A-Za-z_\-]{24,}",
        "Google OAuth client secret (GOCSPX-).",
        "gocspx-",
    ),
    _token(
        "firebase-cloud-messaging-key",
        r"AAAA[A-Za-z0-9_\-]{7}:APA91b[A-Za-z0-9_\-]{100,}",
        "Firebase Cloud Messaging legacy server key (AAAA...:APA91b...).",
        "apa91b",
    ),
    _token(
        "digitalocean-token",
        r"do[opr]_v1_[a-f0-9]{64}",
        "DigitalOcean personal, OAuth or refresh token (dop_v1_, doo_v1_, dor_v1_).",
        "dop_v1_",
        "doo_v1_",
        "dor_v1_",
    ),
    _token(
        "heroku-api-key",
        r"HRKU-AA[0-9A-Za-z_\-]{58}",
        "Heroku API key, new format (HRKU-AA...); old UUID keys are found by context "
        "(see high-entropy-secret).",
        "hrku-aa",
    ),
    _token(
        "cloudflare-origin-ca-key",
        r"v1\.0-[a-f0-9]{24}-[a-f0-9]{146}",
        "Cloudflare Origin CA key (v1.0-HEX24-HEX146).",
        "v1.0-",
    ),
    _token(
        "ibm-cloud-key",
        r"(?ai:(?:ibm|iam|cloudant|softlayer|cos)[_\-]?(?:cloud[_\-]?)?(?:iam[_\-]?)?"
        r"(?:hmac[_\-]?)?(?:api[_\-]?)?(?:secret[_\-]?(?:access[_\-]?)?)?"
        r"(?:key|pwd|password|pass|token|apikey))" + _ASSIGN + r"(?P<value>[A-Za-z0-9_\-]{32,64})",
        "IBM Cloud IAM API key, Cloudant/SoftLayer password or COS HMAC secret assigned to "
        "an ibm_/iam_/cloudant_/softlayer_/cos_ key.",
        "ibm",
        "iam",
        "cloudant",
        "softlayer",
        "cos_",
        "cos-",
        "coshmac",
        group="value",
    ),
    # -- code hosting, registries, CI ------------------------------------------------------
    _spec(
        "github-token",
        r"gh[pousr]_[A-Za-z0-9]{36,255}",
        "GitHub classic token: ghp_, gho_, ghu_, ghs_, ghr_ followed by 36+ characters.",
        hints=("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
    ),
    _token(
        "github-fine-grained-token",
        r"github_pat_[A-Za-z0-9_]{22,255}",
        "GitHub fine-grained personal access token (github_pat_).",
        "github_pat_",
    ),
    _token(
        "gitlab-token",
        r"gl(?:pat|dt|rt|ptt|ft|soat|cbt|imt|agent|oas|ffct)-[0-9A-Za-z_\-]{20,}"
        r"(?:\.[0-9A-Za-z_\-]{2,})*|GR1348941[0-9A-Za-z_\-]{20,}|_gitlab_session=[0-9a-z]{32}",
        "GitLab token: glpat-, gldt-, glrt-, glptt-, glcbt-, gloas-, ... runner registration "
        "GR1348941..., _gitlab_session cookie.",
        "glpat-",
        "gldt-",
        "glrt-",
        "glptt-",
        "glft-",
        "glsoat-",
        "glcbt-",
        "glimt-",
        "glagent-",
        "gloas-",
        "glffct-",
        "gr1348941",
        "_gitlab_session=",
    ),
    _token(
        "atlassian-api-token",
        r"AT(?:ATT|CTT)3[A-Za-z0-9_\-=]{120,}|" + _B + r"ATBB[A-Za-z0-9]{32}" + _E,
        "Atlassian (Jira, Confluence) API token ATATT3/ATCTT3..., Bitbucket app password ATBB.",
        "atatt3",
        "atctt3",
        "atbb",
    ),
    _token(
        "artifactory-token",
        _B + r"(?:AKCp[A-Za-z0-9]{60,80}|cmVmd[A-Za-z0-9]{59})" + _E,
        "JFrog Artifactory API key (AKCp...) or reference token (cmVmd...).",
        "akcp",
        "cmvmd",
    ),
    _token(
        "dockerhub-token",
        r"dckr_(?:pat|oat)_[A-Za-z0-9_\-]{20,}",
        "Docker Hub personal or organisation access token (dckr_pat_, dckr_oat_).",
        "dckr_pat_",
        "dckr_oat_",
    ),
    _token(
        "docker-config-auth",
        r"eyJhdXRocyI6[A-Za-z0-9+/]{16,}={0,2}",
        'Base64 of a Docker config file ({"auths": ...}), as in a .dockerconfigjson '
        'secret; plain config files are caught by their "auth" entries.',
        "eyjhdxrocyi6",
    ),
    _token(
        "npm-token",
        r"npm_[A-Za-z0-9]{36,}",
        "npm access token: npm_ followed by 36 characters.",
        "npm_",
    ),
    _token(
        "pypi-token",
        r"pypi-AgE(?:IcHlwaS5vcmc|NdGVzdC5weXBpLm9yZw)[0-9A-Za-z_\-]{20,}",
        "PyPI / TestPyPI upload token (pypi-AgEIcHlwaS5vcmc...).",
        "pypi-age",
    ),
    _token(
        "rubygems-api-key",
        r"rubygems_[a-f0-9]{48}",
        "RubyGems API key (rubygems_ and 48 hex digits).",
        "rubygems_",
    ),
    _token(
        "terraform-cloud-token",
        _B + r"[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9\-_=]{60,70}",
        "Terraform Cloud / Enterprise API token (XXXXXXXXXXXXXX.atlasv1....).",
        "atlasv1",
    ),
    _token(
        "pulumi-token",
        _B + r"pul-[a-f0-9]{40}" + _E,
        "Pulumi access token (pul- and 40 hex digits).",
        "pul-",
    ),
    _token(
        "vault-token",
        r"hv[sbr]\.[A-Za-z0-9_\-]{24,}",
        "HashiCorp Vault service, batch or recovery token (hvs., hvb., hvr.).",
        "hvs.",
        "hvb.",
        "hvr.",
    ),
    _token(
        "doppler-token",
        r"dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,64}",
        "Doppler token (dp.pt., dp.st., dp.sa., dp.ct., dp.scim., dp.audit.).",
        "dp.pt.",
        "dp.st.",
        "dp.sa.",
        "dp.ct.",
        "dp.scim.",
        "dp.audit.",
    ),
    _token(
        "databricks-token",
        _B + r"dapi[a-f0-9]{32}(?:-[0-9])?" + _E,
        "Databricks personal access token (dapi and 32 hex digits).",
        "dapi",
    ),
    _token(
        "harness-token",
        r"(?:pat|sat)\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{20}",
        "Harness personal or service account token (pat./sat. and three parts).",
        "pat.",
        "sat.",
    ),
    _token(
        "octopus-deploy-api-key",
        _B + r"API-[A-Z0-9]{26}" + _E,
        "Octopus Deploy API key (API- and 26 upper-case letters or digits).",
        "api-",
        validate=_has_digit,
    ),
    _token(
        "scalingo-token",
        r"tk-us-[A-Za-z0-9_\-]{48}",
        "Scalingo API token (tk-us-).",
        "tk-us-",
    ),
    _token(
        "flyio-token",
        r"fo1_[A-Za-z0-9_\-]{43}|fm[12][ar]?_[A-Za-z0-9+/]{64,}={0,3}",
        "Fly.io access token (fo1_, fm1a_, fm1r_, fm2_).",
        "fo1_",
        "fm1",
        "fm2_",
    ),
    _token(
        "openshift-token",
        r"sha256~[A-Za-z0-9_\-]{43}",
        "OpenShift user token (sha256~ and 43 characters).",
        "sha256~",
    ),
    _token(
        "planetscale-token",
        r"pscale_(?:tkn|oauth|pw)_[A-Za-z0-9_=.\-]{32,64}",
        "PlanetScale API token, OAuth token or password (pscale_tkn_, pscale_oauth_, pscale_pw_).",
        "pscale_",
    ),
    # -- observability, messaging, SaaS --------------------------------------------------
    _token(
        "grafana-token",
        r"eyJrIjoi[A-Za-z0-9]{60,400}={0,3}|glc_[A-Za-z0-9+/]{32,400}={0,3}"
        r"|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}",
        "Grafana API key (eyJrIjoi...), Grafana Cloud token (glc_), service account token (glsa_).",
        "eyjrijoi",
        "glc_",
        "glsa_",
    ),
    _token(
        "new-relic-key",
        r"NR(?:AK|AA|II|JS)-[A-Za-z0-9\-]{19,32}|" + _B + r"[A-Za-z0-9]{36}NRAL" + _E,
        "New Relic user, admin, insert, browser or license key (NRAK-, NRAA-, NRII-, NRJS-, "
        "...NRAL).",
        "nrak-",
        "nraa-",
        "nrii-",
        "nrjs-",
        "nral",
    ),
    _token(
        "sentry-token",
        r"sntrys_eyJ[A-Za-z0-9+/=_]{40,}|sntryu_[a-f0-9]{64}",
        "Sentry organisation or user auth token (sntrys_, sntryu_); DSN keys are URL user "
        "names (see url-credentials).",
        "sntrys_",
        "sntryu_",
    ),
    _token(
        "dynatrace-token",
        r"dt0c01\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{64}",
        "Dynatrace API token (dt0c01.).",
        "dt0c01.",
    ),
    _token(
        "linear-api-key",
        r"lin_(?:api|oauth)_[A-Za-z0-9]{40}",
        "Linear API key or OAuth token (lin_api_, lin_oauth_).",
        "lin_api_",
        "lin_oauth_",
    ),
    _token(
        "postman-api-key",
        r"PMAK-[a-fA-F0-9]{24}-[a-fA-F0-9]{34}",
        "Postman API key (PMAK-).",
        "pmak-",
    ),
    _token(
        "notion-token",
        r"ntn_[0-9]{11}[A-Za-z0-9]{35}|" + _B + r"secret_[A-Za-z0-9]{43}" + _E,
        "Notion integration token (ntn_, and the older secret_ and 43 characters).",
        "ntn_",
        "secret_",
    ),
    _token(
        "slack-webhook-url",
        r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/\-]+",
        "Slack incoming webhook URL, replaced whole.",
        "hooks.slack.com",
    ),
    _token(
        "webhook-url",
        r"https://(?:(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/[0-9]+/[A-Za-z0-9_\-]+"
        r"|[A-Za-z0-9\-]+\.webhook\.office\.com/webhookb2/[^\s\"'<>]+"
        r"|outlook\.office(?:365)?\.com/webhook/[^\s\"'<>]+"
        r"|chat\.googleapis\.com/v1/spaces/[^\s\"'<>]+)",
        "Discord, Microsoft Teams and Google Chat webhook URLs, replaced whole.",
        "discord",
        "webhook",
        "chat.googleapis.com",
    ),
    _token(
        "slack-token",
        r"(?:xoxe\.)?(?:xox[abeoprs]|xapp)-[0-9A-Za-z\-]{10,}",
        "Slack token: xoxb-, xoxp-, xoxa-, xoxr-, xoxs-, xoxe-, xoxo-, xapp-.",
        "xox",
        "xapp-",
    ),
    _spec(
        "discord-bot-token",
        _BW + r"[MNO][A-Za-z0-9_\-]{23,27}\.[A-Za-z0-9_\-]{6,7}\.[A-Za-z0-9_\-]{27,38}" + _EW,
        "Discord bot token: a base64 user id starting M, N or O, a timestamp and an HMAC, "
        "dot-separated.",
        cased=("M", "N", "O"),
        pre=_discord_shape,
        validate=_looks_random,
    ),
    _spec(
        "telegram-bot-token",
        r"(?<![0-9])[0-9]{5,16}:A[A-Za-z0-9_\-]{34}" + _EW,
        "Telegram bot token: the bot id, a colon and 35 characters starting with A.",
        hints=(":a",),
        min_digits=5,
    ),
    _token(
        "twilio-key",
        _B + r"(?:SK|AC)[0-9a-f]{32}" + _E,
        "Twilio API key SID (SK...) or account SID (AC...), 32 hex digits.",
        cased=("SK", "AC"),
        min_digits=4,
    ),
    _token(
        "mailgun-api-key",
        _B
        + r"(?:pub)?key-[0-9a-f]{32}"
        + _E
        + r"|"
        + _B
        + r"[0-9a-h]{32}-[0-9a-h]{8}-[0-9a-h]{8}"
        + _E,
        "Mailgun private or public API key (key-, pubkey- and 32 hex digits) and webhook "
        "signing key.",
        "key-",
        "-",
        min_digits=4,
        pre=_hex_key_shape,
    ),
    _token(
        "mailchimp-api-key",
        _B + r"[0-9a-f]{32}-us[0-9]{1,2}" + _E,
        "Mailchimp API key (32 hex digits, -us and the data centre number).",
        "-us",
    ),
    _token(
        "sendgrid-api-key",
        r"SG\.[0-9A-Za-z_\-]{22}\.[0-9A-Za-z_\-]{43}",
        "SendGrid API key (SG.xxx.yyy).",
        "sg.",
    ),
    _token(
        "sendinblue-api-key",
        r"x(?:keysib|smtpsib)-[a-f0-9]{64}-[A-Za-z0-9]{16}",
        "Brevo (Sendinblue) API or SMTP key (xkeysib-, xsmtpsib-).",
        "xkeysib-",
        "xsmtpsib-",
    ),
    _token(
        "shopify-token",
        r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}",
        "Shopify access token, custom app token, private app token or shared secret.",
        "shpat_",
        "shpca_",
        "shppa_",
        "shpss_",
    ),
    _token(
        "square-token",
        r"sq0(?:atp|idp)-[A-Za-z0-9_\-]{22,60}|sq0csp-[A-Za-z0-9_\-]{43}|"
        + _B
        + r"EAAA[A-Za-z0-9_\-]{60}"
        + _EW,
        "Square access token (EAAA..., sq0atp-), application id and OAuth secret (sq0csp-).",
        "sq0atp-",
        "sq0idp-",
        "sq0csp-",
        "eaaa",
    ),
    _token(
        "stripe-key",
        r"(?:[prs]k_(?:live|test|prod)|whsec)_[0-9A-Za-z]{16,}",
        "Stripe key: sk_live_, sk_test_, rk_live_, pk_live_, ... and whsec_ webhook secrets.",
        "k_live_",
        "k_test_",
        "k_prod_",
        "whsec_",
    ),
    _token(
        "facebook-access-token",
        _B + r"EAA[MC][A-Za-z0-9]{90,}",
        "Facebook / Meta access token (EAAM..., EAAC...).",
        "eaam",
        "eaac",
    ),
    _token(
        "shippo-token",
        r"shippo_(?:live|test)_[a-fA-F0-9]{40}",
        "Shippo API token (shippo_live_, shippo_test_).",
        "shippo_",
    ),
    _token(
        "easypost-api-key",
        _B + r"EZ[AT]K[A-Za-z0-9]{54}" + _E,
        "EasyPost production or test API key (EZAK, EZTK).",
        "ezak",
        "eztk",
    ),
    _token(
        "duffel-token",
        r"duffel_(?:test|live)_[A-Za-z0-9_\-=]{43}",
        "Duffel API token (duffel_test_, duffel_live_).",
        "duffel_",
    ),
    _token(
        "flutterwave-key",
        r"FLW(?:SECK|PUBK)_TEST-[a-hA-H0-9]{12,32}(?:-X)?",
        "Flutterwave secret, public or encryption key (FLWSECK_TEST-, FLWPUBK_TEST-).",
        "flwseck_",
        "flwpubk_",
    ),
    _token(
        "frameio-token",
        r"fio-u-[A-Za-z0-9\-_=]{64}",
        "Frame.io API token (fio-u-).",
        "fio-u-",
    ),
    _token(
        "infracost-token",
        _B + r"ico-[A-Za-z0-9]{32}" + _E,
        "Infracost API token (ico- and 32 characters).",
        "ico-",
    ),
    _token(
        "maxmind-license-key",
        r"[A-Za-z0-9]{6}_[A-Za-z0-9]{29}_mmk",
        "MaxMind license key (..._mmk).",
        "_mmk",
    ),
    _token(
        "readme-api-key",
        r"rdme_[a-z0-9]{70}",
        "ReadMe API key (rdme_).",
        "rdme_",
    ),
    _token(
        "prefect-api-key",
        r"pnu_[A-Za-z0-9]{36}",
        "Prefect API key (pnu_).",
        "pnu_",
    ),
    _token(
        "perplexity-api-key",
        r"pplx-[A-Za-z0-9]{48}",
        "Perplexity API key (pplx-).",
        "pplx-",
    ),
    _token(
        "adobe-client-secret",
        r"p8e-[A-Za-z0-9]{32}",
        "Adobe client secret (p8e-).",
        "p8e-",
    ),
    _token(
        "clickhouse-api-key",
        _B + r"4b1d[A-Za-z0-9]{38}" + _E,
        "ClickHouse Cloud API secret key (4b1d and 38 characters).",
        "4b1d",
        validate=_looks_random,
    ),
    _token(
        "onepassword-token",
        r"A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}"
        r"-[A-Z0-9]{5}|ops_eyJ[A-Za-z0-9+/]{100,}={0,3}",
        "1Password account secret key (A3-...) and service account token (ops_eyJ...).",
        "a3-",
        "ops_eyj",
    ),
    _token(
        "yandex-token",
        r"t1\.[A-Za-z0-9_\-]{8,}=*\.[A-Za-z0-9_\-]{86}=*|"
        + _B
        + r"AQVN[A-Za-z0-9_\-]{35,38}"
        + _EW,
        "Yandex Cloud IAM token (t1....) and API key (AQVN...).",
        "t1.",
        "aqvn",
    ),
    _token(
        "intra42-secret",
        r"s-s4t2(?:ud|af)-[a-f0-9]{64}",
        "42 school intra client secret (s-s4t2ud-, s-s4t2af-).",
        "s-s4t2",
    ),
    # -- AI services ----------------------------------------------------------------------
    _token(
        "anthropic-api-key",
        r"sk-ant-[0-9A-Za-z_\-]{20,}",
        "Anthropic API key (sk-ant-).",
        "sk-ant-",
    ),
    _token(
        "openai-api-key",
        r"(?=s)(?:(?<![0-9A-Za-z_\-])|(?<=\\[nrt]))sk-(?:proj-|svcacct-|admin-)?"
        r"[0-9A-Za-z_\-]{20,}",
        "OpenAI-style key: sk- or sk-proj- followed by 20+ characters with upper, lower "
        "and digits.",
        "sk-",
        validate=_looks_random,
    ),
    _token(
        "huggingface-token",
        r"hf_[A-Za-z0-9]{34,}|api_org_[A-Za-z]{34}",
        "Hugging Face token: hf_ followed by 34+ characters, or an api_org_ token.",
        "hf_",
        "api_org_",
    ),
    # -- tokens without a vendor ------------------------------------------------------------
    _token(
        "jwt",
        r"(?=e)(?:(?<![0-9A-Za-z_\-])|(?<=\\[nrt]))"
        r"eyJ[0-9A-Za-z_\-]{8,}\.[0-9A-Za-z_\-]{4,}\.[0-9A-Za-z_\-]*",
        "JSON Web Token: three base64url segments, the first starting with eyJ.",
        "eyj",
    ),
    _spec(
        "url-credentials",
        r"""://(?P<value>(?:[^\s/?#@:<>"']*:[^\s/?#<>"']*|[A-Za-z0-9_\-.~%+]{16,})@"""
        + _URL_REST
        + ")",
        "URL with user:password@ or a token as its user name (a Sentry DSN key, "
        "https://TOKEN@host): everything after scheme:// (credentials and host).",
        hints=("://",),
        group="value",
        validate=lambda value, m: (
            ":" in value.split("@", 1)[0] or secret_like(value.split("@", 1)[0])
        ),
    ),
    _spec(
        "authorization-header",
        r"(?=[AaPp])(?ai:(?<![A-Za-z0-9])(?:proxy-)?authorization"
        rf"""["']?[ \t]*[:=][ \t]*["']?(?:(?:{_AUTH_SCHEMES})[ \t]+)?"""
        rf"(?!(?:{_AUTH_SCHEMES})(?![A-Za-z0-9\-])))"
        rf"(?P<value>(?:{_PARAM}|[^\s\"',;]+)(?:(?:,[ \t]*|[ \t]+){_PARAM})*)",
        "Credential in an Authorization: / Proxy-Authorization: header, any length (the "
        "scheme is kept; Digest and AWS4 parameters are replaced too).",
        hints=("authorization",),
        group="value",
    ),
    _spec(
        "cookie",
        r"""(?ai:(?<![A-Za-z0-9\-])(?:set-)?cookie["']?[ \t]*[:=][ \t]*["']?)"""
        r"""(?P<value>[^\r\n"']*[^\s"'])""",
        "Values of a Cookie: / Set-Cookie: header (session ids), to the end of the line.",
        hints=("cookie",),
        group="value",
    ),
    _spec(
        "bearer-token",
        r"(?=[Bb])(?ai:(?<![A-Za-z0-9])bearer[ \t]+)(?P<value>[A-Za-z0-9\-._~+/]+=*)",
        "Bearer token outside a header, any length ('Bearer' and a word stays).",
        hints=("bearer",),
        group="value",
        validate=_bearer_value,
    ),
    _spec(
        "basic-auth",
        r"(?=[Bb])(?ai:(?<![A-Za-z0-9])basic[ \t]+)"
        r"(?P<value>[A-Za-z0-9+/]+={0,2})(?![A-Za-z0-9+/=])",
        "Basic credential outside a header: 'Basic' and base64 that decodes to user:password, "
        "any length.",
        hints=("basic",),
        group="value",
        validate=_basic_value,
    ),
    # -- passwords and secrets by their key ---------------------------------------------------
    _spec(
        "command-line-secret",
        r"(?<![A-Za-z0-9_\-])(?:--?(?:" + _LONG_SECRET_OPTIONS + r")(?:=|[ \t]+)"
        r"|-pass(?:in|out)?[ \t]+pass:)"
        r"""(?P<value>"[^"\n]*"|'[^'\n]*'|(?!-)[^\s"']+)""",
        "Value of a command-line option named for a secret: --password PASS, --password=PASS, "
        "--token T, -storepass P, openssl -passin pass:P.",
        hints=("-",),
        pre=lambda lower: (
            "pass" in lower
            or "pwd" in lower
            or "token" in lower
            or "key" in lower
            or "secret" in lower
        ),
        group="value",
    ),
    _spec(
        "command-line-secret",
        r"(?ai:(?<![A-Za-z0-9_\-./])(?:" + _DB_CLIENTS + r")(?![A-Za-z0-9_\-])[^\n]{0,200}?"
        r"[ \t]-p)(?P<value>[^\s\"'-][^\s\"']*)",
        "Password glued to -p on a database or archive client's command line: mysql -pPASS, "
        "7z -pPASS.",
        hints=("mysql", "mariadb", "mongo", "7z", "rar"),
        group="value",
    ),
    _spec(
        "command-line-secret",
        r"(?ai:(?<![A-Za-z0-9_\-./])(?:" + _LOGIN_CLIENTS + r")(?![A-Za-z0-9_\-])[^\n]{0,200}?"
        r"[ \t](?:-p|-P|-a|-w|-k)[ \t]*)(?P<value>[^\s\"'-][^\s\"']*)",
        "Password after -p/-P/-a/-w of a login command: docker login -p P, sshpass -p P, "
        "sqlcmd -P P, redis-cli -a P, ldapsearch -w P.",
        hints=(
            "login",
            "sshpass",
            "sqlcmd",
            "bcp",
            "zip",
            "redis-cli",
            "keytool",
            "ldap",
            "smbclient",
            "rabbitmqctl",
            "mongo",
            "psexec",
        ),
        group="value",
    ),
    _spec(
        "command-line-secret",
        r"(?ai:(?<![A-Za-z0-9_\-./])(?:curl|wget|http|https|xh|httpie)(?![A-Za-z0-9_\-])"
        r"[^\n]{0,200}?[ \t](?:-u|-U|--user|--proxy-user)(?:=|[ \t]*))"
        r"(?P<value>[^\s\"':]+:[^\s\"']+|\"[^\"\n:]+:[^\"\n]+\"|'[^'\n:]+:[^'\n]+')",
        "user:password after curl -u / --user / --proxy-user (both parts replaced).",
        hints=("curl", "wget", "http ", "https ", "xh "),
        group="value",
    ),
    _spec(
        "netrc-credentials",
        r"(?ai:(?<![A-Za-z0-9])machine\s+\S+\s+)(?P<value>(?ai:login)\s+\S+\s+(?ai:password)\s+\S+)",
        ".netrc entry: the login and password after machine HOST (both replaced).",
        hints=("machine",),
        group="value",
    ),
    _assignment(
        "password-assignment",
        _PASSWORD_KEYS,
        "Value assigned to password / passwd / passphrase / pwd / pass and its translations "
        "(=, :, :=, =>, quotes; key kept), in INI, YAML, TOML, .env, JSON, XML attributes, "
        "connection strings, MYSQL_PWD=, PGPASSWORD=.",
        ("pass", "pwd", "kennwort", "contrase", "senha", "wachtwoord"),
        _password_value,
    ),
    _spec(
        "password-assignment",
        r"(?ai:(?<![A-Za-z0-9])identified[ \t]+by[ \t]+(?:password[ \t]+)?)"
        r"""(?P<value>'[^'\n]*'|"[^"\n]*"|[^\s;]+)""",
        "SQL IDENTIFIED BY 'password'.",
        hints=("identified",),
        group="value",
    ),
    _xml_secret(
        r"<(?=[A-Za-z0-9_.:\-]{0,40}?(?i:passw|pwd|secret|token|apikey|api_key|api-key"
        r"|credential|privatekey|private_key|accesskey|access_key|auth))"
        r"(?P<tag>[A-Za-z_][A-Za-z0-9_.:\-]{0,40})(?:[ \t][^<>]{0,200})?>"
        r"(?P<value>[^<]{1,4096})</(?P=tag)>",
        "Text of an XML element named for a secret: <password>...</password>, "
        "<apiKey>...</apiKey>.",
        ("<", "</"),
    ),
    _xml_secret(
        r"""(?ai:key[ \t]*=[ \t]*\\?"[^"\n]{0,60}(?:passw|secret|token|apikey|api_key|pwd)"""
        r"""[^"\n]{0,60}"[ \t]+value[ \t]*=[ \t]*\\?")(?P<value>[^"\\\n]*)(?=\\?")""",
        'XML setting <add key="ClearTextPassword" value="..."/> (NuGet, .NET app settings).',
        ("value", "key"),
    ),
    _assignment(
        "secret-assignment",
        _SECRET_KEYS,
        "Value assigned to secret, client_secret, token, access_token, api_key, apikey, "
        "api-key, private_key, auth, credentials, ... (=, :, quotes; key kept).",
        ("secret", "token", "key", "auth", "credential", "session"),
        _not_a_key,
    ),
    _spec(
        "high-entropy-secret",
        r"(?<![A-Za-z0-9_.\-])(?P<key>[A-Za-z0-9_.\-]{1,64})"
        r"""(?:["'\]]{1,2}[ \t]*|[ \t]*)(?::=|=>|==?|:|\|\|)[ \t]*["'`]?"""
        r"(?P<value>[A-Za-z0-9+/=_\-.~%:!@#$^*]{8,1024})",
        "Random-looking value (see secret_like) assigned to a key that names a credential "
        "or a service: key=, token:, *_secret, X-Api-Key:, ?sig=, DATADOG_APP_KEY=, ...",
        hints=_CONTEXT_WORDS,
        group="value",
        validate=lambda value, m: secret_like(value) and _names_credential(m.group("key")),
    ),
    _spec(
        "high-entropy-secret",
        r"(?<![?&])[?&](?ai:code|access_token|id_token|refresh_token|token|key|api_?key"
        r"|secret|client_secret|password|passwd|auth|sig|signature|x-amz-signature"
        r"|x-amz-security-token|x-goog-signature|session|sessionid|jwt)="
        r"(?P<value>[^&#\s\"'<>]{8,1024})",
        "Random-looking value of a URL query parameter such as ?code=, &access_token=, "
        "&X-Amz-Signature=.",
        hints=("?", "&"),
        pre=lambda lower: "=" in lower,
        group="value",
        validate=_secret_value,
    ),
    _spec(
        "high-entropy-secret",
        r"(?ai:(?<![A-Za-z0-9])(?:token|key|api[ _\-]?key|access[ _\-]key)s?"
        r"(?:[ \t]+(?:is|was|of|for))?[ \t]+[\"'`]?)"
        r"(?P<value>[A-Za-z0-9+/=_\-.~]{16,1024})",
        "Random-looking token (upper, lower and digits, 16+ characters) named in prose: "
        "'the token AbC...', 'API key Zx9...'.",
        hints=("token", "key"),
        group="value",
        validate=_random_value,
    ),
    _spec(
        "high-entropy-secret",
        r"(?ai:(?<![A-Za-z0-9])(?:secret|password|passphrase|credential|secret[ _\-]key)s?"
        r"(?:[ \t]+(?:is|was|of|for))?[ \t]+[\"'`]?)"
        r"(?P<value>[A-Za-z0-9+/=_\-.~]{16,1024})",
        "Random-looking value (see secret_like: hex too) right after 'secret', 'password', "
        "'passphrase' or 'credential' in prose.",
        hints=("secret", "passw", "passphrase", "credential"),
        group="value",
        validate=_secret_value,
    ),
    _spec(
        "pgpass-entry",
        r"(?<![\w.\-:])(?P<value>(?:\*|[A-Za-z0-9.\-\[\]]{1,253}):(?:[0-9]{2,5}|\*)"
        r":[A-Za-z0-9_.\-*]{1,63}:[A-Za-z0-9_.\-@*]{1,63}:[^\s:]{1,256})(?![\w:])",
        "A .pgpass line, host:port:database:user:password (replaced whole).",
        pre=_four_colons,
        min_digits=2,
        group="value",
        validate=_pgpass,
    ),
    # -- personal data and addresses ---------------------------------------------------------
    _spec(
        "email",
        r"(?=[A-Za-z0-9._%+\-])(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+@"
        r"[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+",
        "E-mail address (the top-level domain must be 2+ letters, so pkg@1.2.3 stays).",
        hints=("@",),
        validate=_email_domain,
    ),
    _spec(
        "windows-sid",
        r"(?:(?<![A-Za-z0-9\-])|(?<=\\[nrt]))S-1-5-21(?:-[0-9]{1,10}){3,4}(?![0-9])",
        "Windows security identifier of an account (S-1-5-21-...).",
        cased=("S-1-5-21-",),
    ),
    _spec(
        "internal-hostname",
        r"(?:(?<![A-Za-z0-9_.\-@/:\\%])|(?<=\\[nrt]))(?:[A-Za-z0-9][A-Za-z0-9\-]{0,62}\.){1,10}"
        r"(?i:internal|corp|local|lan|home\.arpa|intranet|localdomain|intra)"
        r"(?![A-Za-z0-9_\-]|\.[A-Za-z0-9])",
        "Host name under a private-use suffix: *.internal, *.corp, *.local, *.lan, "
        "*.home.arpa, *.intranet, *.localdomain, *.intra (threading.local() and the like stay).",
        hints=(".internal", ".corp", ".local", ".lan", ".home.arpa", ".intranet", ".intra"),
        validate=_hostname,
    ),
    _spec(
        "mac-address",
        r"(?=[0-9A-Fa-f])(?:(?<![\w:.\-])|(?<=\\[nrt]))(?:[0-9A-Fa-f]{2}([:\-])[0-9A-Fa-f]{2}(?:\1[0-9A-Fa-f]{2}){4}"
        r"|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4})"
        r"(?![\w\-]|[:\-.][0-9A-Fa-f])",
        "MAC address: aa:bb:cc:dd:ee:ff, aa-bb-cc-dd-ee-ff or Cisco style aabb.ccdd.eeff "
        "(also right before a colon).",
        pre=_mac_separators,
    ),
    _spec(
        "ipv6-address",
        r"(?=[0-9A-Fa-f:])(?:(?<![\w:.])|(?<=\\[nrt]))(?:[0-9A-Fa-f]{0,4}:){2,7}"
        rf"(?:{_IPV4}|[0-9A-Fa-f]{{1,4}}|(?<=::))(?:%[0-9A-Za-z_.\-]{{1,32}})?"
        r"(?![\w]|:[0-9A-Fa-f:]|\.\w)",
        "IPv6 address, full or compressed, also right before a colon (see the module "
        "docstring for what is excluded).",
        pre=_ipv6_colons,
        validate=_ipv6,
    ),
    _spec(
        "ipv4-address",
        rf"(?=[0-9])(?:(?<![\w.])|(?<=\\[nrt])){_IPV4}(?![\w]|\.\w)",
        "IPv4 dotted quad, not part of a longer dotted run; loopback and 0.0.0.0 stay.",
        min_digits=4,
        pre=_dot_digit,
        validate=_public_ipv4,
    ),
    _spec(
        "credit-card",
        r"(?=[2-6])(?:(?<![\w.])|(?<=\\[nrt]))(?:[2-6][0-9]{12,18}"
        r"|[2-6][0-9]{3}([ \-])[0-9]{4}\1[0-9]{4}\1[0-9]{1,4}"
        r"|3[0-9]{3}([ \-])[0-9]{6}\2[0-9]{4,5})(?![\w]|[.,][0-9])",
        "Payment card number, 13-19 digits (spaces or dashes allowed) passing the Luhn check.",
        min_digits=13,
        validate=_luhn,
    ),
    _spec(
        "iban",
        _B + r"[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?"
        r"(?![A-Za-z0-9])",
        "International bank account number (country, check digits, 11-30 characters, "
        "grouped or not) passing the mod-97 check.",
        min_digits=8,
        pre=_digit_run,
        validate=_iban,
    ),
    _spec(
        "us-ssn",
        r"(?:(?<![\w\-])|(?<=\\[nrt]))(?!000|666|9)[0-8][0-9]{2}-(?!00)[0-9]{2}-(?!0000)[0-9]{4}(?![\w]|-[0-9])",
        "US social security number, 123-45-6789 (never 000, 666 or 9xx first).",
        min_digits=9,
        hints=("-",),
        pre=_ssn_shape,
    ),
    _spec(
        "us-ssn",
        r"(?ai:(?<![A-Za-z])(?:ssn|social[ _\-]security(?:[ _\-](?:no|number|num))?)"
        r"[^0-9\n]{0,20})(?P<value>[0-9]{3}[ \-]?[0-9]{2}[ \-]?[0-9]{4})(?![0-9])",
        "Nine digits after 'SSN' or 'social security number', grouped or not.",
        min_digits=9,
        hints=("ssn", "social"),
        group="value",
    ),
    _spec(
        "uk-nino",
        _B + r"(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]"
        r" ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-D](?![A-Za-z0-9])",
        "UK National Insurance number (QQ 12 34 56 C, with or without spaces).",
        min_digits=6,
        pre=_digit_run,
    ),
    _spec(
        "phone-number",
        r"(?:(?<![\w+.\-/:])|(?<=\\[nrt]))(?:\+|00)[1-9][0-9]{0,3}"
        r"(?:[ .\-]?\(0\)[ .\-]?[0-9]{1,5})?"
        r"(?:[ .\-]\(?[0-9]{1,8}\)?|\([0-9]{1,5}\)){1,6}(?![\w]|[.\-][0-9])"
        r"|(?:(?<![\w+.\-/:])|(?<=\\[nrt]))\+[1-9][0-9]{7,14}(?![\w]|[.\-][0-9])",
        "Phone number in international form: +44 20 7946 0958, +1 (415) 555-0199, "
        "+4915123456789, 0044 20 7946 0958 (8-15 digits).",
        min_digits=8,
        pre=_plus_or_double_zero,
        validate=_phone_international,
    ),
    _spec(
        "phone-number",
        r"(?:(?<![\w+.\-/:])|(?<=\\[nrt]))(?:1[ .\-])?(?:\([2-9][0-9]{2}\)[ ]?[2-9][0-9]{2}[ .\-]"
        r"|[2-9][0-9]{2}([ .\-])[2-9][0-9]{2}\1)[0-9]{4}(?![\w]|[.\-][0-9])",
        "North American phone number: (415) 555-0199, 415-555-0199, 415.555.0199, "
        "415 555 0199, 1-800-555-0199.",
        min_digits=10,
        pre=_nanp_shape,
    ),
    _spec(
        "phone-number",
        r"(?:(?<![\w+.\-/:])|(?<=\\[nrt]))(?:0[1-9](?:[ .\-][0-9]{2}){4}"
        r"|\(0[1-9][0-9]{1,4}\)[ ]?[0-9]{2,8}(?:[ \-][0-9]{2,8}){0,2}"
        r"|0[1-9][0-9]{1,4}(?:[ /\-][0-9]{2,9}){1,3})(?![\w]|[.\-/][0-9])",
        "National phone number with a leading 0 and separators: UK 020 7946 0958, "
        "07700 900123; DE 030 901820, 030/901820, (030) 12345678; FR 01 23 45 67 89 "
        "(9-12 digits).",
        min_digits=9,
        validate=_digits_between(9, 12),
    ),
    _spec(
        "phone-number",
        r"(?ai:(?<![A-Za-z0-9])(?:phone|tel|telephone|mobile|cell|fax|sms|whatsapp|handy|portable"
        r"|telefon|t\u00e9l\u00e9phone)(?:[ _\-]?(?:no|nr|num|number|#))?\.?[ \t]*[:=#]?[ \t]*)"
        r"(?P<value>\+?[0-9][0-9 ().\-/]{5,22}[0-9])(?![0-9])",
        "Any 7-15 digit number after phone / tel / mobile / fax / ... .",
        hints=(
            "phone",
            "tel",
            "mobile",
            "cell",
            "fax",
            "sms",
            "whatsapp",
            "handy",
            "portable",
            "t\u00e9l\u00e9phone",
        ),
        min_digits=7,
        group="value",
        validate=_digits_between(7, 15),
    ),
)
