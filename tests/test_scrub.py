"""Tests for localtelemetry._record.scrub.

Every fake secret below is assembled from pieces at import time, so that no literal in
this file looks like a real credential to a secret scanner.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
import unicodedata

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from privacy_corpus.generate import luhn_complete

from localtelemetry._record.scrub import PATH_KINDS, RULE_KINDS, RULES, Rule, ScrubResult, scrub

# The autouse fixtures of conftest.py only point HOME etc. at temporary directories,
# which is harmless to share between the examples of one Hypothesis test.
FAST = settings(
    deadline=None,
    max_examples=150,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def hp(text: str) -> str:
    """A deterministic stand-in for the keyed path hash."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


def run(text: str, max_length: int | None = None) -> ScrubResult:
    return scrub(text, hash_path=hp, max_length=max_length)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


# ---------------------------------------------------------------------- fake secrets

AWS_ID = "AK" + "IA" + "Z7Q2" * 4
AWS_ID2 = "AS" + "IA" + "Q4W8E6R2" * 2
AWS_SECRET = "Ab3/" * 10
AWS_SECRET2 = "wJal" + "rXUt" + "nFEM" * 8
GOOGLE_KEY = "AI" + "za" + "Sy" + "A1b2C3d4" * 4 + "x"
GOOGLE_KEY2 = "AI" + "za" + "Sy" + "Zz_9-Yy8" * 4 + "Q"
GOOGLE_OAUTH = "ya" + "29." + "a0Bc1De2" * 4
GOOGLE_CLIENT_SECRET = "GOC" + "SPX-" + "Zz9Yy8Xx7" * 3
GITHUB = "gh" + "p_" + "A1b2" * 9
GITHUB2 = "gh" + "o_" + "Z9y8" * 10
GITHUB_PAT = "github" + "_pat_" + "11ABCDEFG0" + "_" + "x1Y2z3" * 10
GITLAB = "gl" + "pat-" + "Ab1Cd2Ef3Gh4Ij5Kl6Mn"
GITLAB2 = "gl" + "dt-" + "Zy9Xw8Vu7Ts6Rq5Po4Nm3"
SLACK_HOOK = "https://hooks.slack.com/services/" + "T0000AAAA/B0000BBBB/" + "Xx1" * 8
SLACK_HOOK2 = "https://hooks.slack.com/workflows/" + "T0000CCCC/A0000DDDD/" + "9zZ" * 8
SLACK = "xo" + "xb-" + "123456789012-" + "1234567890123-" + "Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8"
SLACK2 = "xo" + "xp-" + "2222222222-" + "3333333333-" + "aBcD" * 6
STRIPE = "sk" + "_live_" + "4eC39Hq" * 4
STRIPE2 = "rk" + "_test_" + "51Hd" * 6
SENDGRID = "SG" + "." + "a1B2c3D4e5F6g7H8i9J0kL" + "." + "M1n2O3p4Q5" * 4 + "r6S"
SENDGRID2 = "SG" + "." + "Zz" * 11 + "." + "y9" * 21 + "X"
ANTHROPIC = "sk-" + "ant-" + "api03-" + "Ab1_Cd2-Ef3" * 3
ANTHROPIC2 = "sk-" + "ant-" + "admin01-" + "Q9w8E7r6" * 4
OPENAI = "sk-" + "proj-" + "Ab1Cd2Ef3Gh4" * 3
OPENAI2 = "sk-" + "T3Bl" + "Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9St0Uv1Wx2Yz"
HUGGINGFACE = "hf" + "_" + "Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9St0Uv1Wx"
HUGGINGFACE2 = "hf" + "_" + "zYxW" * 9
NPM = "np" + "m_" + "Ab1Cd2Ef3Gh4" * 3
NPM2 = "np" + "m_" + "9Z8y" * 9
PYPI = "py" + "pi-" + "AgEIcHlwaS5vcmc" + "CJGE0ZjM4" * 3
PYPI2 = "py" + "pi-" + "AgENdGVzdC5weXBpLm9yZw" + "Ix2Yz3" * 4
JWT = ".".join(
    [
        b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()),
        b64url(json.dumps({"sub": "1234567890", "name": "Jo"}).encode()),
        "Sig" + "n4tUr3_-" * 4,
    ]
)
JWT2 = ".".join(
    [
        b64url(json.dumps({"alg": "RS256"}).encode()),
        b64url(json.dumps({"iss": "x", "exp": 1}).encode()),
        "Zz9" * 10,
    ]
)
PEM_BODY = "MIIEow" + "IBAAKCAQEA" * 3
PEM = (
    "-----BEGIN RSA "
    + "PRIVATE KEY-----\n"
    + PEM_BODY
    + "\n"
    + "abcDEF123+/=" * 3
    + "\n-----END RSA PRIVATE "
    + "KEY-----"
)
PEM_BODY2 = "b3BlbnNzaC1rZXktdjE" + "AAAABG5vbmU" * 2
PEM2 = (
    "-----BEGIN OPENSSH "
    + "PRIVATE KEY-----\\n"
    + PEM_BODY2
    + "\\n-----END OPENSSH PRIVATE "
    + "KEY-----"
)
PEM_BODY3 = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"
PEM3 = "-----BEGIN " + "PRIVATE KEY-----\n" + PEM_BODY3  # cut off: no END line
AZURE_KEY = "Zm9vYmFy" * 8 + "=="
AZURE_KEY2 = "QmFyQmF6" * 5 + "="
AZURE_CONN = (
    "DefaultEndpointsProtocol=https;AccountName=acmestorage;AccountKey="
    + AZURE_KEY
    + ";EndpointSuffix=core.windows.net"
)
AZURE_CONN2 = "DefaultEndpointsProtocol=http;AccountName=devacct;AccountKey=" + AZURE_KEY2
AZURE_SAS = "sv=2021-06-08&ss=b&srt=sco&sig=" + "abc%2Bdef" * 3
AZURE_SIG = "Ab1Cd2Ef3Gh4Ij5Kl6%3D"
CARD_VISA = "4111 " + "1111 " * 2 + "1111"
CARD_MC = "5500-" + "0000-" * 2 + "0004"
CARD_AMEX = "3782" + "82246310005"
CARD_AMEX2 = "3782 " + "822463 " + "10005"

# (kind, text, substrings that must be gone)
POSITIVE: list[tuple[str, str, tuple[str, ...]]] = [
    ("pem-private-key", f"loaded key\n{PEM}\nthen failed", (PEM_BODY, "abcDEF123")),
    ("pem-private-key", f"key='{PEM2}'", (PEM_BODY2,)),
    ("pem-private-key", f"truncated {PEM3}", (PEM_BODY3,)),
    ("azure-storage-connection-string", f"cannot connect with {AZURE_CONN}", ("acme", AZURE_KEY)),
    ("azure-storage-connection-string", f"conn '{AZURE_CONN2}' rejected", ("devacct", AZURE_KEY2)),
    ("azure-account-key", f"AccountName=acme;AccountKey={AZURE_KEY} bad", (AZURE_KEY,)),
    ("azure-account-key", f"SharedAccessKeyName=root;SharedAccessKey={AZURE_KEY2}", (AZURE_KEY2,)),
    ("azure-sas-token", f"BlobEndpoint=x;SharedAccessSignature={AZURE_SAS} bad", ("abc%2B",)),
    (
        "azure-sas-token",
        f"GET https://a.blob.core.windows.net/c?sv=1&sig={AZURE_SIG}",
        (AZURE_SIG,),
    ),
    ("aws-access-key-id", f"key id {AWS_ID} was rejected", (AWS_ID,)),
    ("aws-access-key-id", f"AWS_ACCESS_KEY_ID={AWS_ID2}", (AWS_ID2,)),
    ("aws-secret-access-key", f"aws_secret_access_key = {AWS_SECRET}", (AWS_SECRET,)),
    ("aws-secret-access-key", f'{{"SecretAccessKey": "{AWS_SECRET2}"}}', (AWS_SECRET2,)),
    ("aws-secret-access-key", f"AWS secret {AWS_SECRET2} expired", (AWS_SECRET2,)),
    ("google-api-key", f"quota exceeded for {GOOGLE_KEY}", (GOOGLE_KEY,)),
    ("google-api-key", f"GET /maps?key={GOOGLE_KEY2}&q=x", (GOOGLE_KEY2,)),
    ("google-oauth-token", f"token {GOOGLE_OAUTH} expired", (GOOGLE_OAUTH,)),
    ("google-oauth-token", f"Bearer {GOOGLE_OAUTH}", (GOOGLE_OAUTH,)),
    ("google-oauth-client-secret", f"client secret {GOOGLE_CLIENT_SECRET} bad", ("Zz9Yy8",)),
    ("google-oauth-client-secret", f'"{GOOGLE_CLIENT_SECRET}"', ("Zz9Yy8",)),
    ("github-token", f"push rejected for {GITHUB}", (GITHUB,)),
    ("github-token", f"token={GITHUB2}", (GITHUB2,)),
    ("github-token", f"json line\\n{GITHUB} in log", (GITHUB,)),
    ("github-fine-grained-token", f"using {GITHUB_PAT}", (GITHUB_PAT,)),
    ("github-fine-grained-token", f"GH_TOKEN='{GITHUB_PAT}'", (GITHUB_PAT,)),
    ("gitlab-token", f"401 for {GITLAB}", (GITLAB,)),
    ("gitlab-token", f"deploy token {GITLAB2}.", (GITLAB2,)),
    ("slack-webhook-url", f"POST {SLACK_HOOK} failed", ("T0000AAAA", "Xx1Xx1")),
    ("slack-webhook-url", f"webhook={SLACK_HOOK2}", ("T0000CCCC", "9zZ9zZ")),
    ("slack-token", f"invalid_auth for {SLACK}", (SLACK,)),
    ("slack-token", f"SLACK={SLACK2}", (SLACK2,)),
    ("stripe-key", f"No such customer; key {STRIPE}", (STRIPE,)),
    ("stripe-key", f"restricted key {STRIPE2} lacks scope", (STRIPE2,)),
    ("sendgrid-api-key", f"sendgrid rejected {SENDGRID}", (SENDGRID,)),
    ("sendgrid-api-key", f"({SENDGRID2})", (SENDGRID2,)),
    ("anthropic-api-key", f"x-api-key {ANTHROPIC} invalid", (ANTHROPIC,)),
    ("anthropic-api-key", f"ANTHROPIC_API_KEY={ANTHROPIC2}", (ANTHROPIC2,)),
    ("openai-api-key", f"Incorrect API key provided: {OPENAI}.", (OPENAI,)),
    ("openai-api-key", f"key {OPENAI2} revoked", (OPENAI2,)),
    ("huggingface-token", f"401 with {HUGGINGFACE}", (HUGGINGFACE,)),
    ("huggingface-token", f"HF_TOKEN={HUGGINGFACE2}", (HUGGINGFACE2,)),
    ("npm-token", f"npm ERR! 403 {NPM}", (NPM,)),
    ("npm-token", f"//registry.npmjs.org/:_authToken={NPM2}", (NPM2,)),
    ("pypi-token", f"upload with {PYPI} failed", (PYPI,)),
    ("pypi-token", f"TWINE_PASSWORD={PYPI2}", (PYPI2,)),
    ("jwt", f"invalid signature on {JWT}", (JWT, "Sign4tUr3")),
    ("jwt", f"Authorization: Bearer {JWT2}", (JWT2,)),
    ("url-credentials", "postgres://bob:hunter2@db.internal:5432/app down", ("bob", "hunter2")),
    ("url-credentials", "redis://:s3cr3tpw@cache.local:6379/0 refused", ("s3cr3tpw", "cache")),
    ("authorization-header", "Authorization: Basic dXNlcjpwYXNz sent", ("dXNlcjpwYXNz",)),
    ("authorization-header", "proxy-authorization: Token abc123def456 bad", ("abc123def456",)),
    ("bearer-token", "sent Bearer abcDEF123456ghiJKL789 to the server", ("abcDEF123456",)),
    ("bearer-token", "using bearer 0a1b2c3d4e5f6a7b8c9d", ("0a1b2c3d4e5f",)),
    ("password-assignment", "login failed: password=hunter2!", ("hunter2",)),
    ("password-assignment", "DB_PASSWORD: 'correct horse battery'", ("correct horse",)),
    ("password-assignment", '{"passwd": "s3cr3t-value"}', ("s3cr3t",)),
    ("password-assignment", "ftp pwd=abc123xyz", ("abc123xyz",)),
    ("secret-assignment", "client_secret=abcd1234efgh, retrying", ("abcd1234efgh",)),
    ("secret-assignment", "header api-key: k-1234567", ("k-1234567",)),
    ("secret-assignment", "access_token='tok-98765'", ("tok-98765",)),
    ("secret-assignment", "auth=xyz789; apikey = qwerty55", ("xyz789", "qwerty55")),
    ("email", "no account for alice@example.com here", ("alice",)),
    ("email", "From: <bob.smith+tag@mail.example.co.uk>", ("bob.smith", "example.co.uk")),
    ("mac-address", "interface aa:bb:cc:dd:ee:ff is down", ("aa:bb:cc",)),
    ("mac-address", "MAC 00-1A-2B-3C-4D-5E.", ("00-1A-2B",)),
    ("ipv6-address", "bind 2001:db8::8a2e:370:7334 failed", ("2001:db8", "7334")),
    ("ipv6-address", "from fe80::1ff:fe23:4567:890a%eth0.", ("fe80", "890a")),
    ("ipv6-address", "peer 2001:0db8:0000:0000:0000:ff00:0042:8329", ("2001:0db8", "8329")),
    ("ipv6-address", "mapped ::ffff:192.0.2.128 ok", ("192.0.2.128",)),
    ("ipv4-address", "connect to 192.168.1.20 refused", ("192.168.1.20",)),
    ("ipv4-address", "dns 8.8.4.4:53 timeout.", ("8.8.4.4",)),
    ("credit-card", f"card {CARD_VISA} declined", (CARD_VISA,)),
    ("credit-card", f"card {CARD_MC} 12/25 declined", (CARD_MC,)),
    ("credit-card", f"amex {CARD_AMEX} and {CARD_AMEX2}", (CARD_AMEX, CARD_AMEX2)),
    ("url", "GET https://example.com/users/alice/profile.json 404", ("example.com", "alice")),
    ("url", "see http://intranet.acme.local:8080/wiki?page=Plan.", ("acme", "Plan")),
    ("home-path", "No such file: '/home/alice/projects/app.py'", ("alice", "projects")),
    ("home-path", "cannot read /Users/bob/Library/x.plist", ("bob", "Library")),
    ("home-path", r"open C:\Users\Carol Smith\Documents\report.docx failed", ("Carol", "Smith")),
    ("home-path", "config ~dave/.config/app.toml and ~/notes.txt", ("dave", "notes")),
    ("path", "cannot parse /etc/app/config.yaml.", ("etc/app", "config")),
    ("path", "run ./src/main.py or src/pkg/mod.py", ("src/main", "pkg/mod")),
    ("path", r"read C:\data\x.csv and \\server\share\file.txt", ("data", "server", "share")),
]


def marker_for(kind: str) -> str:
    if kind == "url":
        return "://<path:"
    if kind in PATH_KINDS:
        return "<path:"
    return f"<redacted:{kind}>"


@pytest.mark.parametrize(("kind", "text", "gone"), POSITIVE)
def test_positive(kind: str, text: str, gone: tuple[str, ...]) -> None:
    sentence = f"Error: {text} (see above)"
    result = run(sentence)
    for part in gone:
        assert part not in result.text
    assert marker_for(kind) in result.text
    assert result.text.startswith("Error: ")
    assert result.text.endswith(" (see above)")
    assert result.counts.get(kind, 0) >= 1, result.counts


def test_positive_kinds_are_rule_kinds() -> None:
    # test_scrub_families.py::test_every_kind_has_two_examples covers every kind
    assert {kind for kind, _, _ in POSITIVE} <= RULE_KINDS


BENIGN = [
    "550e8400-e29b-41d4-a716-446655440000",
    "commit 3f786850e387550fdab836ed7e6dc881de23001b",
    "secret rotated in commit 3f786850e387550fdab836ed7e6dc881de23001b",
    "short shas a1b2c3d and 9fceb02d0ae5",
    "versions 1.2.3, v2.0.0-rc.1, 3.11.7 and Python 3.11.7",
    "pins requests==2.31.0 numpy>=1.26 pkg@1.2.3",
    "colour #ff00aa",
    "at 12:30:45 on 2026-11-23 (2026-11-23T12:30:45Z)",
    "call os.path.join on module.Class",
    "std::vector<int> and a::b and x[1::2] and ::1",
    "plain numbers 42 3.14159 1000000 -17",
    "card-like 4111 1111 1111 1112 and 4111111111111112",
    "Enter password",
    "password",
    "token",
    "invalid token",
    "user@",
    "The quick brown fox jumps over the lazy dog.",
    "KeyError: 'name'",
    "KeyError: 'api_key'",
    "ValueError: invalid literal for int() with base 10: 'abc'",
    "ZeroDivisionError: division by zero",
    "TypeError: unsupported operand type(s) for +: 'int' and 'str'",
    "and/or, text/html, I/O error, 50/50, 11/23/2026, Mozilla/5.0, HTTP/1.1",
    "requests/2.31.0 from /tmp",
    "local 127.0.0.1:8000 and 0.0.0.0 and localhost",
    "1.2.3.4.5 and v1.2.3.4",
    "max_tokens=100, token_count: 5",
    "sk-learn-compatible-estimator-wrapper",
    "Bearer authentication required",
    "The author: Jane",
    "phase:load step-1 a:b:c",
    "Section 3.2.1, e.g. this",
    "@property and @app.route",
    "multi\nline\ttext",
    "",
]


@pytest.mark.parametrize("text", BENIGN)
def test_benign_unchanged(text: str) -> None:
    result = run(text)
    assert result.text == text
    assert result.counts == {}


# ------------------------------------------------------------------------ engine details


def test_rules_table() -> None:
    kinds = [rule.kind for rule in RULES]
    # a kind may have several rules (phone-number has four), listed next to each other
    assert all(kinds.index(k) == i or kinds[i - 1] == k for i, k in enumerate(kinds))
    assert frozenset(kinds) | PATH_KINDS == RULE_KINDS
    assert "path" in RULE_KINDS
    for rule in RULES:
        assert isinstance(rule, Rule)
        assert re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", rule.kind)
        assert isinstance(rule.pattern, re.Pattern)
        assert rule.description
        assert "\n" not in rule.description
        if isinstance(rule.group, str):
            assert rule.group in rule.pattern.groupindex


def test_existing_markers_are_left_alone() -> None:
    text = "was <redacted:email> at <path:0123abcd.py> and <path:4111111111111111>"
    assert run(text) == ScrubResult(text, {})


def test_assignment_keeps_key() -> None:
    assert run("password=hunter2").text == "password=<redacted:password-assignment>"
    assert run('token: "a b c"').text == 'token: "<redacted:secret-assignment>"'
    assert run("Authorization: Bearer abc").text == (
        "Authorization: Bearer <redacted:authorization-header>"
    )


def test_specific_rule_wins_over_generic() -> None:
    result = run(f"token={GITHUB}")
    assert result.text == "token=<redacted:github-token>"
    assert result.counts == {"github-token": 1}


def test_path_tokens() -> None:
    result = run("read /etc/app/Config.YAML and /etc/app/Config.YAML")
    token = f"<path:{hp('/etc/app/Config.YAML')}.yaml>"
    assert result.text == f"read {token} and {token}"
    assert result.counts == {"path": 2}
    assert run("/home/eve/.bashrc").text == f"<path:{hp('/home/eve/.bashrc')}>"
    assert run("/srv/data/").text == f"<path:{hp('/srv/data/')}>"


def test_url_keeps_scheme_only() -> None:
    url = "https://example.com/a/b.JSON?q=1#frag"
    result = run(f"fetch {url}.")
    assert result.text == f"fetch https://<path:{hp(url[8:])}.json>."
    assert result.counts == {"url": 1}


def test_hash_token_is_not_rescrubbed() -> None:
    def digits(_: str) -> str:
        return "4111111111111111"  # hex, and Luhn-valid

    once = scrub("see /etc/app/x.py", hash_path=digits).text
    assert once == "see <path:4111111111111111.py>"
    again = scrub(once, hash_path=digits)
    assert again == ScrubResult(once, {})


def test_hash_path_must_return_hex() -> None:
    with pytest.raises(ValueError, match="hexadecimal"):
        scrub("/etc/app/x.py", hash_path=lambda p: "NOT-HEX")


def test_control_characters() -> None:
    result = run("a\x00b\x1b[31mc\rd\x7fe\x85f\ng\th")
    assert result.text == "a b [31mc d e f\ng\th"


def test_truncation() -> None:
    text = "x" * 40 + " alice@example.com " + "y" * 10 + " /etc/app/config.yaml " + "z" * 20
    full = run(text).text
    suffix = "\u2026[truncated]"
    marker = re.compile(r"<(?:redacted:[a-z-]+|path:[0-9a-f]+(?:\.[a-z0-9]+)?)>")
    for limit in range(len(full) + 2):
        out = run(text, max_length=limit).text
        assert len(out) <= limit
        if limit >= len(full):
            assert out == full
        elif limit >= len(suffix):
            assert out.endswith(suffix)
            head = out[: -len(suffix)]
            assert full.startswith(head)
            assert "<" not in marker.sub("", head)  # no marker cut in half
            assert len(head) >= limit - len(suffix) - len("<path:>.yaml") - 16
        else:
            assert out == ("\u2026" if limit else "")
    with pytest.raises(ValueError, match="max_length"):
        run(text, max_length=-1)


PATHOLOGICAL = [
    "sk-",
    "eyJ",
    "-----BEGIN PRIVATE " + "KEY-----",
    "a/",
    "a ",
    "1.",
    "aa:",
    "a@",
    "4 ",
    "'/a b",
    "C:\\x y\\",
    "password='",
    "aws secret ",
    "Bearer ",
    "://",
]


@pytest.mark.parametrize("unit", PATHOLOGICAL)
def test_linear_time_on_pathological_input(unit: str) -> None:
    text = unit * (20_000 // len(unit))
    start = time.perf_counter()
    run(text)
    assert time.perf_counter() - start < 1.0  # quadratic behaviour takes many seconds


# -------------------------------------------------------------------------- Hypothesis

ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
NON_HEX = "ghijklmnopqrstuvwxyz"


def token(prefix: str, size: int, alphabet: str = ALNUM) -> st.SearchStrategy[str]:
    return st.text(alphabet, min_size=size, max_size=size + 8).map(lambda s: prefix + s)


@st.composite
def luhn_cards(draw: st.DrawFn) -> str:
    first = draw(st.sampled_from("23456"))
    length = draw(st.sampled_from([13, 15, 16, 19]))
    body = first + "".join(
        draw(st.lists(st.sampled_from("0123456789"), min_size=length - 2, max_size=length - 2))
    )
    number = luhn_complete(body)
    if length == 16 and draw(st.booleans()):
        sep = draw(st.sampled_from(" -"))
        number = sep.join(number[i : i + 4] for i in range(0, 16, 4))
    return number


@st.composite
def emails(draw: st.DrawFn) -> str:
    local = draw(st.from_regex(r"[a-z][a-z0-9._+-]{0,10}[a-z0-9]", fullmatch=True))
    labels = draw(st.lists(st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True), min_size=1, max_size=3))
    tld = draw(st.from_regex(r"[a-z]{2,6}", fullmatch=True))
    return f"{local}@{'.'.join(labels)}.{tld}"


@st.composite
def ipv4s(draw: st.DrawFn) -> str:
    first = draw(st.integers(1, 223).filter(lambda n: n != 127))
    rest = draw(st.lists(st.integers(0, 255), min_size=3, max_size=3))
    return ".".join(str(n) for n in [first, *rest])


@st.composite
def home_paths(draw: st.DrawFn) -> str:
    name = draw(st.text(NON_HEX, min_size=6, max_size=10))
    root = draw(st.sampled_from(["/home/", "/Users/", "C:\\Users\\", "~"]))
    sep = "\\" if root.startswith("C:") else "/"
    leaf = draw(st.text(NON_HEX, min_size=1, max_size=8))
    return f"{root}{name}{sep}{leaf}.txt"


SECRETS: dict[str, st.SearchStrategy[str]] = {
    "aws-access-key-id": st.from_regex(r"(AKIA|ASIA)[A-Z0-9]{16}", fullmatch=True),
    "aws-secret-access-key": st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=20, max_size=20)
    .flatmap(lambda up: st.just(up + up.lower()))
    .map(lambda k: "aws_secret_access_key=" + k),
    "google-api-key": token("AI" + "za", 35, ALNUM + "_-").map(lambda s: s[:39]),
    "github-token": token("gh" + "p_", 36),
    "github-fine-grained-token": token("github" + "_pat_", 30, ALNUM + "_"),
    "gitlab-token": token("gl" + "pat-", 20),
    "slack-token": token("xo" + "xb-", 20, ALNUM + "-"),
    "stripe-key": token("sk" + "_live_", 24),
    "anthropic-api-key": token("sk-" + "ant-", 30, ALNUM + "_-"),
    "huggingface-token": token("hf" + "_", 34),
    "npm-token": token("np" + "m_", 36),
    "pypi-token": token("py" + "pi-" + "AgEIcHlwaS5vcmc", 30, ALNUM + "_-"),
    "jwt": st.tuples(
        token("eyJ", 10, ALNUM + "_-"), token("", 10, ALNUM + "_-"), token("", 20, ALNUM + "_-")
    ).map(".".join),
    "email": emails(),
    "ipv4-address": ipv4s(),
    "credit-card": luhn_cards(),
    "home-path": home_paths(),
    "password-assignment": st.text(ALNUM, min_size=8, max_size=16).map(lambda v: "password=" + v),
}
SEPARATORS = st.sampled_from([" ", "\n", "\t", ", ", ": ", " (", ") ", "'", '"', "; ", ". ", "["])
SECRET_OR_TEXT = st.one_of(
    st.text(max_size=20),
    SEPARATORS,
    st.sampled_from([p[1] for p in POSITIVE] + BENIGN),
    *SECRETS.values(),
)


def must_vanish(kind: str, secret: str) -> str:
    """The part of a generated secret that must not survive."""
    return secret.split("=", 1)[1] if kind.endswith("assignment") else secret


@FAST
@given(
    kind=st.sampled_from(sorted(SECRETS)),
    data=st.data(),
    prefix=st.text(max_size=30),
    suffix=st.text(max_size=30),
    before=SEPARATORS,
    after=SEPARATORS,
)
def test_secret_never_survives(
    kind: str, data: st.DataObject, prefix: str, suffix: str, before: str, after: str
) -> None:
    secret = data.draw(SECRETS[kind])
    gone = must_vanish(kind, secret)
    assume(gone not in prefix and gone not in suffix)
    result = run(prefix + before + secret + after + suffix)
    assert gone not in result.text


@FAST
@given(parts=st.lists(SECRET_OR_TEXT, max_size=8))
def test_idempotent(parts: list[str]) -> None:
    once = run("".join(parts))
    twice = run(once.text)
    assert twice.text == once.text
    assert twice.counts == {}


@FAST
@given(text=st.text(max_size=300), limit=st.none() | st.integers(0, 120))
def test_never_raises_and_respects_max_length(text: str, limit: int | None) -> None:
    result = run(text, max_length=limit)
    if limit is not None:
        assert len(result.text) <= limit
    assert all(n > 0 and kind in RULE_KINDS for kind, n in result.counts.items())


@FAST
@given(text=st.text(st.characters(codec="utf-8") | st.characters(categories=["Cc"]), max_size=100))
def test_no_control_characters_survive(text: str) -> None:
    out = run(text).text
    assert all(ch in "\n\t" or unicodedata.category(ch) != "Cc" for ch in out)
