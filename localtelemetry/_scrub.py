"""Scrubbing of free text (exception messages, warning text) before it is stored or exported.

Engine
------
``scrub`` works in this order:

1. Control characters (Unicode category Cc) other than ``\\n`` and ``\\t`` become spaces.
2. Markers already in the text -- ``<redacted:KIND>`` and ``<path:HEX>`` / ``<path:HEX.ext>``
   -- are split off as *protected* segments. No rule ever looks inside a protected segment.
3. Every rule of ``RULES`` runs, in table order, over the unprotected segments. A match
   (or only the rule's ``group``, so that e.g. ``password=`` stays readable) becomes a
   ``<redacted:KIND>`` marker, which is itself a protected segment from then on. A rule's
   ``validate`` hook may reject a candidate (Luhn check for cards, "looks random" for
   keys); the text is then left as it was and the search resumes one character later.
4. A fixed path stage runs last: URLs (``scheme://...``) and file-system paths become
   ``<path:{hash_path(p)}{ext}>`` tokens, counted as ``url``, ``home-path`` or ``path``.
5. Steps 2-4 repeat until a pass changes nothing (usually one extra pass when something
   was replaced), which makes ``scrub`` idempotent: ``scrub(scrub(x).text) == scrub(x)``
   for a deterministic ``hash_path``.
6. ``max_length`` caps the result; the cut never splits a marker.

Order matters: a rule only sees text that no earlier rule has claimed, so the table lists
the most specific formats first (PEM blocks, vendor tokens with a fixed prefix), then
context rules (credentials in URLs, ``Authorization:`` headers, ``password=`` style
assignments), then personal data (e-mail, MAC, IPv6, IPv4, card numbers), and paths last.
A GitHub token in ``token=ghp_...`` is therefore counted as ``github-token``, not as a
generic assignment.

Cost
----
Importing compiles nothing; the patterns are compiled on first use (``RULES`` is built
lazily through the module ``__getattr__``). Every rule has cheap pre-filters (substrings
and small gate patterns checked against the lower-cased text), so on a typical message
only a handful of patterns actually run, and a second pass re-runs only the rules that
passed their pre-filters in the first. The patterns are written to run in linear time
(anchored starts, bounded repetition, no ambiguous nested quantifiers); the tests feed
them pathological inputs.

Decisions
---------
* Paths. Rooted paths (``/a/b``, ``C:\\a``, ``\\\\server\\share``, ``~/a``, ``~user/``,
  ``./a``, ``../a``) are paths; a POSIX root path needs two components or a file extension
  (``/etc/hosts``, ``/config.yaml``), so ``/tmp``, ``/8`` or ``/api`` stay. A bare relative
  path (``src/pkg/mod.py``) needs three components, or two and an extension containing a
  letter, and at least one ASCII letter: ``and/or``, ``text/html``, ``11/23/2026``,
  ``requests/2.31.0`` and ``Mozilla/5.0`` stay. Path components end at whitespace, quotes,
  ``: ; , = < > | * ? ( ) [ ] { }``; a trailing ``.`` is treated as punctuation. Quoted
  paths (``'/Users/a b/c d.txt'``) may contain spaces; so may the inner components of
  Windows drive/UNC paths (``C:\\Users\\John Smith\\x``).
* The extension kept in a token is the lower-cased last suffix of the last component if it
  is ``.[a-z0-9]{1,8}``; dot-files (``.bashrc``) have none, like ``os.path.splitext``.
* Home directories (``/home/NAME``, ``/Users/NAME``, ``/root``, ``C:\\Users\\NAME``,
  ``~`` and ``~NAME``, also under ``/var``, ``/usr``, ``/export``, ``/mnt/c``) are paths
  too: the whole path becomes one ``<path:...>`` token, so no user name survives, and it
  is counted as ``home-path`` instead of ``path``.
* URLs. Everything after ``scheme://`` (host, port, path, query, fragment) becomes one
  ``<path:...>`` token counted as ``url``; the scheme stays (``https://<path:ab12.json>``).
  A URL with a user:password part becomes ``scheme://<redacted:url-credentials>``, the host
  included. Bare domains (``example.com``) stay: they cannot be told from ``os.path``.
* IPv4: a dotted quad with every octet 0-255 that is not part of a longer dotted or
  alphanumeric run (so ``v1.2.3.4``, ``1.2.3.4.5`` and ``1.2.3`` stay, but a four-part
  version written as ``1.2.3.4`` is taken for an address). Loopback ``127.x.x.x`` and
  ``0.0.0.0`` stay: they identify no one and help diagnosis.
* IPv6: full or compressed hex groups; a compressed form needs three groups, or two with
  a four-digit first group (``fe80::1``), so ``::``, ``::1``, ``a::b``, slices such as
  ``1::2`` and ``std::vector`` stay; times (``12:30:45``) are never eight groups.
* Cards: 13-19 digits starting with 2-6, contiguous or in 4-4-4-x / 4-6-5 groups of spaces
  or dashes, and passing the Luhn check.
* AWS secret keys: a 40-character base64 run with upper- and lower-case letters within 48
  characters after the word ``aws`` or ``secret`` (so a 40-hex git SHA stays).
* Assignments (``password=``, ``token:``, ``api_key =``, JSON ``"secret": "..."``) keep the
  key and separator and replace the value: up to whitespace, quote, comma, semicolon or
  ``&``; a quoted value is replaced up to its closing quote.
* ``max_length``: a longer result is cut to at most ``max_length`` characters ending with
  ``\u2026[truncated]``; a marker that would be cut is dropped whole. If ``max_length`` is
  shorter than that suffix, the result is just ``\u2026`` (or ``""`` for 0).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple

__all__ = ["PATH_KINDS", "RULES", "RULE_KINDS", "Rule", "ScrubResult", "scrub"]


# NamedTuples, not dataclasses: this module loads in every recorded run, and creating a
# dataclass costs about a millisecond.
class Rule(NamedTuple):
    """One redaction rule: matches of ``pattern`` (its ``group``) become ``<redacted:kind>``."""

    kind: str
    pattern: re.Pattern[str]
    description: str
    group: str | int = 0
    validate: Callable[[str], bool] | None = None


class ScrubResult(NamedTuple):
    """The scrubbed text and the number of substitutions per kind."""

    text: str
    counts: dict[str, int]


# --------------------------------------------------------------------------- validators


def _luhn(candidate: str) -> bool:
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


def _mixed_case(candidate: str) -> bool:
    return any(c.isupper() for c in candidate) and any(c.islower() for c in candidate)


def _looks_random(candidate: str) -> bool:
    """Upper, lower and digit: random keys have all three, prose and identifiers rarely."""
    return _mixed_case(candidate) and any(c.isdigit() for c in candidate)


def _digit_and_letter(candidate: str) -> bool:
    return any(c.isdigit() for c in candidate) and any(c.isalpha() for c in candidate)


def _email_domain(candidate: str) -> bool:
    tld = candidate.rsplit(".", 1)[-1]
    return len(tld) >= 2 and tld.isascii() and tld.isalpha()


def _public_ipv4(candidate: str) -> bool:
    return not candidate.startswith("127.") and candidate != "0.0.0.0"


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


def _ipv6(candidate: str) -> bool:
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


# ------------------------------------------------------------------------------- rules

# Start of a token: not glued to a letter or digit, but allowed right after an escaped
# "\n", "\r" or "\t" as found in logged JSON or repr() output.
_B = r"(?:(?<![A-Za-z0-9])|(?<=\\[nrt]))"
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = rf"{_OCTET}(?:\.{_OCTET}){{3}}"
_ASSIGN = r"""["']?[ \t]*[:=]{1,2}>?[ \t]*["']?"""
_VALUE = r"""(?P<value>(?<=")[^"\n]+(?=")|(?<=')[^'\n]+(?=')|[^\s"',;&]+)"""
_URL_REST = r"""[^\s<>"'`]*[^\s<>"'`.,;:!?)\]}]"""
_PASSWORD_KEYS = r"passw(?:or)?d|passphrase|(?<![A-Za-z0-9])pwd"
_SECRET_KEYS = (
    r"secret(?:[_\-]?key)?|token|api[_\-]?key|private[_\-]?key|access[_\-]?key"
    r"|session[_\-]?id|auth|credentials?"
)
_AUTH_SCHEMES = r"bearer|basic|token|digest|negotiate|ntlm|apikey"

# kind, pattern, description, group, validate, hints, gate, cased_gate. Pre-filters, so that
# most rules cost next to nothing on text that cannot match: ``hints`` are lower-case
# strings one of which every match contains, lower-cased; ``gate`` is a pattern found in
# every match, lower-cased; ``cased_gate`` one found in every match as it is. A gate must
# not use lookarounds (a gate that finds nothing in a text finds nothing in its parts).
_Spec = tuple[
    str,
    str,
    str,
    "str | int",
    "Callable[[str], bool] | None",
    tuple[str, ...],
    "str | None",
    "str | None",
]


def _spec(
    kind: str,
    pattern: str,
    description: str,
    *,
    hints: tuple[str, ...] = (),
    gate: str | None = None,
    cased_gate: str | None = None,
    group: str | int = 0,
    validate: Callable[[str], bool] | None = None,
) -> _Spec:
    return (kind, pattern, description, group, validate, hints, gate, cased_gate)


_SPECS: tuple[_Spec, ...] = (
    _spec(
        "pem-private-key",
        r"-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----"
        r"(?:(?:(?!-----)[\s\S]){0,65536}?-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----"
        r"|(?:(?:\s|\\[nr])*(?:[A-Za-z0-9+/]{16,}={0,2}|[A-Za-z0-9+/]{1,15}={1,2}))*)",
        "PEM/OpenSSH/PGP private key block, BEGIN to END over many lines (without END: "
        "the header and the base64 lines after it).",
        hints=("private key",),
    ),
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
    _spec(
        "aws-access-key-id",
        r"(?=A)" + _B + r"(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA|AROA|ASCA)"
        r"[A-Z0-9]{16}(?![A-Za-z0-9])",
        "AWS access key id: AKIA/ASIA/... followed by 16 upper-case letters or digits.",
        cased_gate=r"A[BCGIKNPRS][A-Z]A[A-Z0-9]{16}",
    ),
    _spec(
        "aws-secret-access-key",
        r"(?ai:(?<![A-Za-z0-9])(?:aws|secret))[^\n]{0,48}?"
        r"(?<![A-Za-z0-9/+=])(?P<value>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])",
        "AWS secret access key: 40 base64 characters with mixed case within 48 characters "
        "after the word aws or secret (aws_secret_access_key=..., SecretAccessKey: ...).",
        gate=r"[a-z0-9/+][a-z0-9/+]{39}",
        hints=("aws", "secret"),
        group="value",
        validate=_mixed_case,
    ),
    _spec(
        "google-api-key",
        r"AIza[0-9A-Za-z_\-]{35}",
        "Google API key: AIza followed by 35 characters.",
        hints=("aiza",),
    ),
    _spec(
        "google-oauth-token",
        r"ya29\.[0-9A-Za-z_\-]{20,}",
        "Google OAuth access token (ya29.).",
        hints=("ya29.",),
    ),
    _spec(
        "google-oauth-client-secret",
        r"GOCSPX-[0-9A-Za-z_\-]{24,}",
        "Google OAuth client secret (GOCSPX-).",
        hints=("gocspx-",),
    ),
    _spec(
        "github-token",
        r"gh[pousr]_[A-Za-z0-9]{36,255}",
        "GitHub classic token: ghp_, gho_, ghu_, ghs_, ghr_ followed by 36+ characters.",
        hints=("gh",),
        gate=r"gh[pousr]_",
    ),
    _spec(
        "github-fine-grained-token",
        r"github_pat_[A-Za-z0-9_]{22,255}",
        "GitHub fine-grained personal access token (github_pat_).",
        hints=("github_pat_",),
    ),
    _spec(
        "gitlab-token",
        r"gl(?:pat|dt|rt|ptt|ft|soat|cbt|imt|agent)-[0-9A-Za-z_\-]{20,}(?:\.[0-9A-Za-z_\-]{2,})*",
        "GitLab token: glpat-, gldt-, glrt-, glptt-, ... followed by 20+ characters.",
        hints=("gl",),
        gate=r"gl(?:pat|dt|rt|ptt|ft|soat|cbt|imt|agent)-",
    ),
    _spec(
        "slack-webhook-url",
        r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/\-]+",
        "Slack incoming webhook URL, replaced whole.",
        hints=("hooks.slack.com",),
    ),
    _spec(
        "slack-token",
        r"(?:xox[abeoprs]|xapp)-[0-9A-Za-z\-]{10,}",
        "Slack token: xoxb-, xoxp-, xoxa-, xoxr-, xoxs-, xoxe-, xoxo-, xapp-.",
        hints=("xox", "xapp-"),
    ),
    _spec(
        "stripe-key",
        r"(?:[prs]k_(?:live|test)|whsec)_[0-9A-Za-z]{16,}",
        "Stripe key: sk_live_, sk_test_, rk_live_, pk_live_, ... and whsec_ webhook secrets.",
        hints=("k_live_", "k_test_", "whsec_"),
    ),
    _spec(
        "sendgrid-api-key",
        r"SG\.[0-9A-Za-z_\-]{22}\.[0-9A-Za-z_\-]{43}",
        "SendGrid API key (SG.xxx.yyy).",
        hints=("sg.",),
    ),
    _spec(
        "anthropic-api-key",
        r"sk-ant-[0-9A-Za-z_\-]{20,}",
        "Anthropic API key (sk-ant-).",
        hints=("sk-ant-",),
    ),
    _spec(
        "openai-api-key",
        r"(?=s)(?:(?<![0-9A-Za-z_\-])|(?<=\\[nrt]))sk-(?:proj-|svcacct-|admin-)?"
        r"[0-9A-Za-z_\-]{20,}",
        "OpenAI-style key: sk- or sk-proj- followed by 20+ characters with upper, lower "
        "and digits.",
        hints=("sk-",),
        validate=_looks_random,
    ),
    _spec(
        "huggingface-token",
        r"hf_[A-Za-z0-9]{34,}",
        "Hugging Face token: hf_ followed by 34+ characters.",
        hints=("hf_",),
    ),
    _spec(
        "npm-token",
        r"npm_[A-Za-z0-9]{36,}",
        "npm access token: npm_ followed by 36 characters.",
        hints=("npm_",),
    ),
    _spec(
        "pypi-token",
        r"pypi-AgE(?:IcHlwaS5vcmc|NdGVzdC5weXBpLm9yZw)[0-9A-Za-z_\-]{20,}",
        "PyPI / TestPyPI upload token (pypi-AgEIcHlwaS5vcmc...).",
        hints=("pypi-age",),
    ),
    _spec(
        "jwt",
        r"(?=e)(?:(?<![0-9A-Za-z_\-])|(?<=\\[nrt]))"
        r"eyJ[0-9A-Za-z_\-]{8,}\.[0-9A-Za-z_\-]{4,}\.[0-9A-Za-z_\-]*",
        "JSON Web Token: three base64url segments, the first starting with eyJ.",
        hints=("eyj",),
    ),
    _spec(
        "url-credentials",
        r"""://(?P<value>[^\s/?#@:<>"']*:[^\s/?#<>"']*@""" + _URL_REST + ")",
        "URL with user:password@: everything after scheme:// (credentials and host).",
        hints=("://",),
        gate=r"://[^\s/?#@]*@",
        group="value",
    ),
    _spec(
        "authorization-header",
        r"(?=[AaPp])(?ai:(?<![A-Za-z0-9])(?:proxy-)?authorization"
        rf"""["']?[ \t]*[:=][ \t]*["']?(?:(?:{_AUTH_SCHEMES})[ \t]+)?"""
        rf"(?!(?:{_AUTH_SCHEMES})(?![A-Za-z0-9])))"
        r"""(?P<value>[^\s"',;]+)""",
        "Credential in an Authorization: / Proxy-Authorization: header (scheme kept).",
        hints=("authorization",),
        group="value",
    ),
    _spec(
        "bearer-token",
        r"(?=[Bb])(?ai:(?<![A-Za-z0-9])bearer[ \t]+)(?P<value>[A-Za-z0-9\-._~+/]{16,}=*)",
        "Bearer token outside a header: 'Bearer' followed by 16+ token characters with "
        "letters and digits.",
        hints=("bearer",),
        group="value",
        validate=_digit_and_letter,
    ),
    _spec(
        "password-assignment",
        rf"(?ai:{_PASSWORD_KEYS}){_ASSIGN}{_VALUE}",
        "Value assigned to password / passwd / passphrase / pwd (=, :, quotes; key kept).",
        hints=("passw", "passphrase", "pwd"),
        gate=r"p(?:assw(?:or)?d|assphrase|wd)[\"']?[ \t]*[:=]",
        group="value",
    ),
    _spec(
        "secret-assignment",
        rf"(?ai:{_SECRET_KEYS}){_ASSIGN}{_VALUE}",
        "Value assigned to secret, client_secret, token, access_token, api_key, apikey, "
        "api-key, private_key, auth, credentials, ... (=, :, quotes; key kept).",
        hints=("secret", "token", "key", "auth", "credential", "session"),
        gate=r"(?:secret|token|key|session[_\-]?id|auth|credentials?)[\"']?[ \t]*[:=]",
        group="value",
    ),
    _spec(
        "email",
        r"(?=[A-Za-z0-9._%+\-])(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+@"
        r"[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+",
        "E-mail address (the top-level domain must be 2+ letters, so pkg@1.2.3 stays).",
        hints=("@",),
        validate=_email_domain,
    ),
    _spec(
        "mac-address",
        r"(?=[0-9A-Fa-f])(?<![\w:.\-])[0-9A-Fa-f]{2}([:\-])[0-9A-Fa-f]{2}(?:\1[0-9A-Fa-f]{2}){4}"
        r"(?![\w:\-]|\.\w)",
        "MAC address, aa:bb:cc:dd:ee:ff or aa-bb-cc-dd-ee-ff.",
        gate=r"[:\-][0-9a-f]{2}[:\-][0-9a-f]{2}[:\-]",
    ),
    _spec(
        "ipv6-address",
        r"(?=[0-9A-Fa-f:])(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}"
        rf"(?:{_IPV4}|[0-9A-Fa-f]{{1,4}})?(?:%[0-9A-Za-z_.\-]{1, 32})?(?![\w:]|\.\w)",
        "IPv6 address, full or compressed (see the module docstring for what is excluded).",
        gate=r":[0-9a-f]{0,4}:",
        validate=_ipv6,
    ),
    _spec(
        "ipv4-address",
        rf"(?=[0-9])(?<![\w.]){_IPV4}(?![\w]|\.\w)",
        "IPv4 dotted quad, not part of a longer dotted run; loopback and 0.0.0.0 stay.",
        gate=r"\.[0-9]{1,3}\.[0-9]{1,3}\.",
        validate=_public_ipv4,
    ),
    _spec(
        "credit-card",
        r"(?=[2-6])(?<![\w.])(?:[2-6][0-9]{12,18}"
        r"|[2-6][0-9]{3}([ \-])[0-9]{4}\1[0-9]{4}\1[0-9]{1,4}"
        r"|3[0-9]{3}([ \-])[0-9]{6}\2[0-9]{4,5})(?![\w]|[.,][0-9])",
        "Payment card number, 13-19 digits (spaces or dashes allowed) passing the Luhn check.",
        cased_gate=r"[0-9][0-9]{3}[ \-]?[0-9]{4}",
        validate=_luhn,
    ),
)

PATH_KINDS: frozenset[str] = frozenset({"url", "home-path", "path"})
"""Kinds counted by the path stage, which emits ``<path:...>`` tokens instead of markers."""

RULE_KINDS: frozenset[str] = frozenset(spec[0] for spec in _SPECS) | PATH_KINDS
"""Every kind that can appear in ``ScrubResult.counts``: the rules' kinds and PATH_KINDS."""

RULES: tuple[Rule, ...]
"""The rules in the order they run (most specific first). Compiled on first use, so that
importing this module stays cheap: see ``__getattr__``."""

# --------------------------------------------------------------------------- path stage

_URL = (
    r"(?=[A-Za-z])(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]{0,31}://"
    rf"(?P<value>{_URL_REST})"
)
_C = r"""[^\s\\/'"`<>|*?:;,()\[\]{}=]"""  # a path-component character
_CE = r"""[^\s\\/'"`<>|*?:;,()\[\]{}=.]"""  # ... that may end a path
_SEP = r"[\\/]+"
_LAST = rf"(?:{_C}*{_CE})?"
_BODY = rf"(?:{_C}+{_SEP})*{_LAST}"
# Inner components of Windows paths may contain spaces: C:\Program Files\x, C:\Users\A B\x
_BODY_WS = rf"(?:{_C}+(?:(?: {_C}+){{1,3}}(?=\\))?{_SEP})*{_LAST}"
_QROOT = r"(?:/|~|\.{1,2}[\\/]|[A-Za-z]:[\\/]|\\\\)"
_PATH = (
    r"""(?<![^\s'"`(\[{=,;:])(?:"""  # a path starts the text or follows one of these
    rf"(?<='){_QROOT}[^'\n]*(?=')"  # quoted: may contain spaces
    rf"""|(?<="){_QROOT}[^"\n]*(?=")"""
    rf"|(?:[A-Za-z]:[\\/]|\\\\){_BODY_WS}"  # C:\... and \\server\share\...
    rf"|~(?:[A-Za-z_][A-Za-z0-9_.\-]*)?[\\/]{_BODY}"  # ~/... and ~user/...
    rf"|\.{{1,2}}[\\/]{_BODY}"  # ./... and ../...
    rf"|/{_BODY}"  # /...
    rf"|{_C}+{_SEP}{_BODY})"  # a/b...
)
_HOME = (
    r"(?i)(?:[a-z]:)?[\\/]+(?:(?:var|usr|export|mnt[\\/]+[a-z])[\\/]+)?"
    r"(?:(?:home|users|documents and settings)[\\/]+[^\\/]|root(?:[\\/]|\Z))|~"
)


def _has_letter(text: str) -> bool:
    return any("a" <= c <= "z" or "A" <= c <= "Z" for c in text)


def _extension(last: str, c: _Compiled) -> str:
    m = c.ext.search(last)
    return "." + m.group(1).lower() if m else ""


def _path_kind(p: str, c: _Compiled) -> tuple[str, str] | None:
    """(``"home-path"`` or ``"path"``, extension), or None if ``p`` is not taken for a path."""
    comps = [comp for comp in c.split_sep.split(p) if comp]
    if not comps:
        return None
    first = p[0]
    ext = _extension(comps[-1], c) if p[-1] not in "\\/" else ""
    if first == "/":
        ok = len(comps) >= 2 or _has_letter(ext)
    elif p.startswith("\\\\"):
        ok = len(comps) >= 2
    elif first == "~":
        ok = len(comps) >= 2 or comps[0] != "~"
    elif len(p) > 2 and p[1] == ":" and p[2] in "\\/":
        ok = len(comps) >= 2
    elif comps[0] in (".", ".."):
        ok = any(comp not in (".", "..") for comp in comps)
    else:
        ok = _has_letter(p) and (len(comps) >= 3 or (len(comps) == 2 and _has_letter(ext)))
    if not ok:
        return None
    return ("home-path" if c.home.match(p) else "path"), ext


# ------------------------------------------------------------------------------ engine

_CONTROL = r"[\x00-\x08\x0b-\x1f\x7f-\x9f]"
_MARKER = r"<(?:redacted:[a-z0-9]+(?:-[a-z0-9]+)*|path:[0-9a-f]+(?:\.[a-z0-9]{1,8})?)>"
_TRUNCATED = "\u2026[truncated]"
_MAX_PASSES = 8

_REDACT, _URL_MODE, _PATH_MODE = 0, 1, 2


class _Stage:
    """A compiled rule, or the URL / path stage, plus its cheap pre-filters."""

    __slots__ = (
        "cased_gate",
        "gate",
        "group",
        "hints",
        "kind",
        "marker",
        "mode",
        "pattern",
        "validate",
    )

    def __init__(
        self,
        kind: str,
        pattern: re.Pattern[str],
        *,
        mode: int = _REDACT,
        group: str | int = 0,
        validate: Callable[[str], bool] | None = None,
        hints: tuple[str, ...] = (),
        gate: str | None = None,
        cased_gate: str | None = None,
    ) -> None:
        self.kind = kind
        self.pattern = pattern
        self.mode = mode
        self.group = group
        self.validate = validate
        self.hints = hints
        self.gate = re.compile(gate) if gate else None
        self.cased_gate = re.compile(cased_gate) if cased_gate else None
        self.marker = f"<redacted:{kind}>"


class _Compiled:
    """Everything compiled, built on first use."""

    __slots__ = (
        "control",
        "ext",
        "hex",
        "home",
        "marker",
        "marker_split",
        "rules",
        "split_sep",
        "stages",
    )

    def __init__(self) -> None:
        rules: list[Rule] = []
        stages: list[_Stage] = []
        for kind, pattern, description, group, validate, hints, gate, cased_gate in _SPECS:
            rule = Rule(kind, re.compile(pattern), description, group, validate)
            rules.append(rule)
            stages.append(
                _Stage(
                    kind,
                    rule.pattern,
                    group=group,
                    validate=validate,
                    hints=hints,
                    gate=gate,
                    cased_gate=cased_gate,
                )
            )
        url = re.compile(_URL)
        stages.append(_Stage("url", url, mode=_URL_MODE, group="value", hints=("://",)))
        stages.append(_Stage("path", re.compile(_PATH), mode=_PATH_MODE, hints=("/", "\\")))
        self.rules = tuple(rules)
        self.stages = tuple(stages)
        self.home = re.compile(_HOME)
        self.control = re.compile(_CONTROL)
        self.marker = re.compile(_MARKER)
        self.marker_split = re.compile(f"({_MARKER})")
        self.hex = re.compile(r"[0-9a-f]+")
        self.split_sep = re.compile(r"[\\/]+")
        self.ext = re.compile(r"[^.]\.([A-Za-z0-9]{1,8})\Z")


_compiled: _Compiled | None = None


def _get_compiled() -> _Compiled:
    global _compiled
    if _compiled is None:
        _compiled = _Compiled()
    return _compiled


def __getattr__(name: str) -> object:
    """``RULES`` is compiled on first access (PEP 562), keeping the import at ~1 ms."""
    if name == "RULES":
        rules = _get_compiled().rules
        globals()["RULES"] = rules
        return rules
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _token(hash_path: Callable[[str], str], p: str, ext: str, c: _Compiled) -> str:
    digest = hash_path(p)
    if not c.hex.fullmatch(digest):
        raise ValueError("hash_path must return a lower-case hexadecimal string")
    return f"<path:{digest}{ext}>"


def _apply(
    stage: _Stage,
    seg: str,
    m: re.Match[str] | None,
    hash_path: Callable[[str], str],
    counts: dict[str, int],
    c: _Compiled,
) -> list[str] | None:
    """Replace the matches of ``stage`` in ``seg``, starting with the match ``m``.

    Returns alternating free text and markers, or None if nothing was replaced. A
    rejected candidate is retried one character later (so a failed Luhn check on a
    longer run cannot hide a card number inside it)."""
    out: list[str] = []
    pos = 0  # end of the text already emitted
    search = stage.pattern.search
    while m is not None:
        start, end = m.span(stage.group)
        replacement: str | None = None
        kind = stage.kind
        if start < end:
            value = seg[start:end]
            if stage.mode == _REDACT:
                if stage.validate is None or stage.validate(value):
                    replacement = stage.marker
            elif stage.mode == _URL_MODE:
                path = value.split("?", 1)[0].split("#", 1)[0]
                ext = _extension(path.rsplit("/", 1)[1], c) if "/" in path else ""
                replacement = _token(hash_path, value, ext, c)
            else:
                qualified = _path_kind(value, c)
                if qualified is not None:
                    kind, ext = qualified
                    replacement = _token(hash_path, value, ext, c)
        if replacement is None:
            m = search(seg, m.start() + 1)
            continue
        out.append(seg[pos:start])
        out.append(replacement)
        pos = end
        counts[kind] = counts.get(kind, 0) + 1
        m = search(seg, max(m.end(), m.start() + 1))
    if not out:
        return None
    out.append(seg[pos:])
    return out


def _pass(
    text: str,
    hash_path: Callable[[str], str],
    counts: dict[str, int],
    c: _Compiled,
    stages: tuple[_Stage, ...],
) -> tuple[str | None, tuple[_Stage, ...]]:
    """Run ``stages`` once. Returns the new text (None if nothing was replaced) and the
    stages that passed their pre-filters: only those can match in the next pass, whose
    free text consists of parts of this pass's free text."""
    if "<" in text:
        parts = c.marker_split.split(text)  # free text at even, markers at odd indices
        lower = "\0".join(parts[::2]).lower()  # "\0": no hint or gate spans a marker
    else:
        parts = [text]
        lower = text.lower()
    changed = False
    active: list[_Stage] = []
    for stage in stages:
        if stage.hints:
            for hint in stage.hints:
                if hint in lower:
                    break
            else:
                continue
        if stage.gate is not None and stage.gate.search(lower) is None:
            continue
        if stage.cased_gate is not None and stage.cased_gate.search(text) is None:
            continue
        active.append(stage)
        search = stage.pattern.search
        new_parts: list[str] | None = None
        for i in range(0, len(parts), 2):
            seg = parts[i]
            m = search(seg) if seg else None
            pieces = None if m is None else _apply(stage, seg, m, hash_path, counts, c)
            if pieces is not None:
                if new_parts is None:
                    new_parts = parts[:i]
                new_parts.extend(pieces)
            elif new_parts is not None:
                new_parts.append(seg)
            if new_parts is not None and i + 1 < len(parts):
                new_parts.append(parts[i + 1])
        if new_parts is not None:
            parts = new_parts
            changed = True
    return ("".join(parts) if changed else None), tuple(active)


def _truncate(text: str, max_length: int, c: _Compiled) -> str:
    if len(text) <= max_length:
        return text
    if max_length < len(_TRUNCATED):
        return _TRUNCATED[: min(1, max_length)]
    cut = max_length - len(_TRUNCATED)
    start = text.rfind("<", 0, cut)
    if start >= 0:
        m = c.marker.match(text, start)
        if m is not None and m.end() > cut:
            cut = start
    return text[:cut] + _TRUNCATED


def scrub(
    text: str, *, hash_path: Callable[[str], str], max_length: int | None = None
) -> ScrubResult:
    """Replace secrets and personal data in ``text`` by ``<redacted:KIND>`` markers and
    paths/URLs by ``<path:{hash_path(p)}{ext}>`` tokens; see the module docstring.

    ``hash_path`` must return lower-case hex (ValueError otherwise). ``max_length`` caps
    the result, in characters, after scrubbing.
    """
    if max_length is not None and max_length < 0:
        raise ValueError("max_length must not be negative")
    c = _compiled or _get_compiled()
    if not text.isprintable() and c.control.search(text):
        text = c.control.sub(" ", text)
    counts: dict[str, int] = {}
    stages = c.stages
    for _ in range(_MAX_PASSES):
        new, stages = _pass(text, hash_path, counts, c, stages)
        if new is None:
            break
        text = new
    if max_length is not None:
        text = _truncate(text, max_length, c)
    return ScrubResult(text, counts)
