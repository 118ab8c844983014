"""Generate the privacy corpus: realistic texts with planted secrets and personal data, and
benign look-alikes that must come through the scrubber unchanged.

    python tests/privacy_corpus/generate.py          # rewrite corpus.json
    python tests/privacy_corpus/generate.py --check  # exit 1 if corpus.json is stale

Every value is synthesized from a fixed seed in the public format of its kind. None is
a real credential: where the alphabet allows, values carry FAKE / EXAMPLE / TEST, hex
values use obviously made-up runs, phone numbers come from the ranges reserved for
fiction (555-01xx, Ofcom's drama numbers), card numbers are the issuers' test numbers
shape, and no literal in this file has the shape of a secret (values are built from
pieces at run time).

Each entry: ``{"kind": ..., "text": ..., "planted": [...]}`` for a secret (every planted
string must be gone from the scrubbed text, also in lower case) or
``{"kind": ..., "text": ..., "benign": true}`` for a look-alike (the text must survive
unchanged).
"""

from __future__ import annotations

import base64
import json
import random
import string
import sys
from collections.abc import Callable
from pathlib import Path

SEED = 20261123
HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus.json"
TEXTS_PER_KIND = 7

LOWER = string.ascii_lowercase
UPPER = string.ascii_uppercase
DIGITS = string.digits
ALNUM = LOWER + UPPER + DIGITS
HEX = "0123456789abcdef"
B32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


class Gen:
    """Random pieces, all from one seeded generator."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def chars(self, alphabet: str, n: int) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def alnum(self, n: int, marker: str = "FAKE") -> str:
        """Mixed-case letters and digits, with ``marker`` inside where it fits."""
        body = self.chars(ALNUM, n)
        while not (any(c.isdigit() for c in body) and any(c.islower() for c in body)):
            body = self.chars(ALNUM, n)
        if n >= len(marker) + 4:
            at = self.rng.randrange(2, n - len(marker))
            body = body[:at] + marker + body[at + len(marker) :]
        return body

    def hex(self, n: int) -> str:
        """Hex that reads as made up: runs of dead/beef/cafe/f00d between random digits."""
        words = ["dead", "beef", "cafe", "f00d", "face", "fade", "c0de", "0ff1ce"]
        out = ""
        while len(out) < n:
            out += self.rng.choice(words) + self.chars(HEX, 3)
        return out[:n]

    def upper_alnum(self, n: int, marker: str = "EXAMPLE") -> str:
        body = self.chars(UPPER + DIGITS, n)
        if n >= len(marker) + 2:
            body = body[: n - len(marker)] + marker
        return body

    def digits(self, n: int) -> str:
        return self.chars(DIGITS, n)

    def b64(self, nbytes: int) -> str:
        return base64.b64encode(self.rng.randbytes(nbytes)).decode()

    def b64url(self, n: int) -> str:
        return self.chars(ALNUM + "-_", n)

    def word(self) -> str:
        return self.rng.choice(["orion", "vega", "lyra", "draco", "cygnus", "hydra", "ara"])

    def user(self) -> str:
        return self.rng.choice(["jdoe", "asmith", "mrossi", "kwong", "lmartin"]) + self.digits(3)

    def password(self) -> str:
        return self.rng.choice(["Tr0ub4dor", "hunter", "S3cr3t", "Passw0rd", "letmein"]) + (
            self.chars(ALNUM + "!#%", 6)
        )

    def choice(self, options: list[str]) -> str:
        return self.rng.choice(options)


def luhn_complete(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return body + str((10 - total % 10) % 10)


def iban_complete(country: str, bban: str) -> str:
    moved = bban + country + "00"
    check = 98 - int("".join(str(int(c, 36)) for c in moved)) % 97
    return f"{country}{check:02d}{bban}"


# A kind: a function that draws (planted values, snippets) -- each snippet is a way the
# values show up in text -- from the generator.
Kind = Callable[[Gen], tuple[list[str], list[str]]]


def _aws_id(g: Gen) -> tuple[list[str], list[str]]:
    v = g.choice(["AK" + "IA", "AS" + "IA"]) + g.upper_alnum(16, "EXAMPLE")
    return [v], [
        f"aws_access_key_id = {v}",
        f"AWS_ACCESS_KEY_ID={v}",
        f"The security token included in the request is invalid: {v}",
        f'"AccessKeyId": "{v}"',
    ]


def _aws_secret(g: Gen) -> tuple[list[str], list[str]]:
    v = g.alnum(36, "FAKE") + "/" + g.chars(ALNUM, 3)
    return [v], [
        f"aws_secret_access_key = {v}",
        f"AWS_SECRET_ACCESS_KEY={v}",
        f'"SecretAccessKey": "{v}"',
        f"[default]\naws_access_key_id = AKIA{g.upper_alnum(16)}\naws_secret_access_key = {v}",
    ]


def _aws_session(g: Gen) -> tuple[list[str], list[str]]:
    v = "IQoJb3JpZ2luX2VjE" + g.alnum(60, "FAKE") + "=="
    return [v], [f"aws_session_token = {v}", f"AWS_SESSION_TOKEN={v}", f'"SessionToken": "{v}"']


def _aws_account(g: Gen) -> tuple[list[str], list[str]]:
    v = "1" + g.digits(11)
    return [v], [
        f"User: arn:aws:iam::{v}:user/deploy is not authorized to perform: s3:GetObject",
        f"AccessDenied for arn:aws:sts::{v}:assumed-role/ci/session",
        f"role arn:aws:iam::{v}:role/app-runner not found",
    ]


def _gcp_api_key(g: Gen) -> tuple[list[str], list[str]]:
    v = "AI" + "za" + "Sy" + g.alnum(33, "FAKE")
    return [v], [
        f"API key not valid. Please pass a valid API key. key={v}",
        f"GOOGLE_API_KEY={v}",
        f"GET /maps/api/geocode/json?address=x&key={v} 403",
    ]


def _gcp_service_account(g: Gen) -> tuple[list[str], list[str]]:
    kid = g.hex(40)
    body = g.b64(48)
    pem = "-----BEGIN PRIVATE " + "KEY-----\\n" + body + "\\n-----END PRIVATE " + "KEY-----\\n"
    return [kid, body], [
        f'{{"type": "service_account", "project_id": "demo-{g.word()}", '
        f'"private_key_id": "{kid}", "private_key": "{pem}"}}',
        f'invalid service account file: "private_key_id": "{kid}", "private_key": "{pem}"',
    ]


def _google_oauth(g: Gen) -> tuple[list[str], list[str]]:
    v = "ya" + "29." + g.b64url(60)
    return [v], [f"Authorization failed for token {v}", f"access_token={v}&expires_in=3599"]


def _google_client_secret(g: Gen) -> tuple[list[str], list[str]]:
    v = "GOC" + "SPX-" + g.alnum(28, "FAKE")
    return [v], [f'"client_secret": "{v}"', f"oauth client secret {v} was rejected"]


def _azure_conn(g: Gen) -> tuple[list[str], list[str]]:
    key = g.b64(64)
    acct = "acme" + g.word() + g.digits(2)
    conn = (
        f"DefaultEndpointsProtocol=https;AccountName={acct};AccountKey={key};"
        "EndpointSuffix=core.windows.net"
    )
    return [key, acct], [
        f"AZURE_STORAGE_CONNECTION_STRING={conn}",
        f'"ConnectionStrings": {{"Blob": "{conn}"}}',
        f"Failed to create BlobServiceClient from '{conn}'",
    ]


def _azure_sas(g: Gen) -> tuple[list[str], list[str]]:
    sig = g.b64(32).replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")
    return [sig], [
        f"403 on https://acme.blob.core.windows.net/c/x.bin?sv=2022-11-02&sp=r&sig={sig}",
        f"SharedAccessSignature=sv=2022-11-02&ss=b&sig={sig}",
    ]


def _azure_client_secret(g: Gen) -> tuple[list[str], list[str]]:
    v = g.chars(ALNUM, 3) + g.digits(1) + "Q~" + g.alnum(34, "FAKE")
    return [v], [f"AZURE_CLIENT_SECRET={v}", f"AADSTS7000215: Invalid client secret provided: {v}"]


def _alibaba(g: Gen) -> tuple[list[str], list[str]]:
    v = "LT" + "AI" + g.alnum(20, "FAKE")
    return [v], [f"InvalidAccessKeyId.NotFound: {v}", f"ALIBABA_CLOUD_ACCESS_KEY_ID={v}"]


def _ibm(g: Gen) -> tuple[list[str], list[str]]:
    v = g.alnum(44, "FAKE")
    return [v], [f"IBM_CLOUD_API_KEY={v}", f'ibmcloud_api_key = "{v}"', f"iam_apikey: {v}"]


def _digitalocean(g: Gen) -> tuple[list[str], list[str]]:
    v = "do" + "p_v1_" + g.hex(64)
    return [v], [f"DIGITALOCEAN_ACCESS_TOKEN={v}", f"Unable to authenticate you: {v}"]


def _heroku(g: Gen) -> tuple[list[str], list[str]]:
    v = "HR" + "KU-AA" + g.alnum(58, "FAKE")
    u = f"{g.hex(8)}-{g.hex(4)}-{g.hex(4)}-{g.hex(4)}-{g.hex(12)}"
    return [v, u], [
        f"HEROKU_API_KEY={u} is an old-style key; replace it with {v}",
        f"heroku_api_key: {u}; new {v}",
    ]


def _cloudflare(g: Gen) -> tuple[list[str], list[str]]:
    v = g.alnum(40, "FAKE")
    return [v], [f"CLOUDFLARE_API_TOKEN={v}", f"cloudflare_api_key = {v}", f"CF_API_KEY: {v}"]


def _github(g: Gen) -> tuple[list[str], list[str]]:
    v = g.choice(["gh" + "p_", "gh" + "o_", "gh" + "s_", "gh" + "u_"]) + g.alnum(36, "FAKE")
    return [v], [
        f"remote: Invalid username or token {v}",
        f"GITHUB_TOKEN={v}",
        f"https://x-access-token:{v}@github.com/acme/repo.git",
        f"Authorization: token {v}",
    ]


def _github_pat(g: Gen) -> tuple[list[str], list[str]]:
    v = "github" + "_pat_" + g.alnum(22, "FAKE") + "_" + g.alnum(59, "FAKE")
    return [v], [f"GH_TOKEN={v}", f"Bad credentials for {v}"]


def _gitlab(g: Gen) -> tuple[list[str], list[str]]:
    v = g.choice(["gl" + "pat-", "gl" + "dt-", "gl" + "rt-", "gl" + "cbt-"]) + g.alnum(20, "FAKE")
    return [v], [f"GITLAB_TOKEN={v}", f"401 Unauthorized using {v}", f"PRIVATE-TOKEN: {v}"]


def _atlassian(g: Gen) -> tuple[list[str], list[str]]:
    v = "ATA" + "TT3" + g.alnum(180, "FAKE")
    return [v], [f"JIRA_API_TOKEN={v}", f"confluence token {v} expired"]


def _artifactory(g: Gen) -> tuple[list[str], list[str]]:
    v = "AK" + "Cp" + g.alnum(69, "FAKE")
    return [v], [f"X-JFrog-Art-Api: {v}", f"artifactory_api_key={v}"]


def _dockerhub(g: Gen) -> tuple[list[str], list[str]]:
    v = "dckr" + "_pat_" + g.alnum(27, "FAKE")
    return [v], [
        f"echo {v} | docker login -u acme --password-stdin",
        f"docker login -u acme -p {v} registry-1.docker.io",
        f"DOCKERHUB_TOKEN={v}",
    ]


def _docker_auth(g: Gen) -> tuple[list[str], list[str]]:
    user, pw = g.user(), g.password()
    v = base64.b64encode(f"{user}:{pw}".encode()).decode()
    cfg = json.dumps({"auths": {"ghcr.io": {"auth": v}}})
    encoded = base64.b64encode(cfg.encode()).decode()
    return [v, encoded], [
        f'{{"auths": {{"registry.example.com": {{"auth": "{v}"}}}}}}',
        f"error parsing ~/.docker/config.json: auths.ghcr.io.auth = {v}",
        f".dockerconfigjson: {encoded}",
    ]


def _npm(g: Gen) -> tuple[list[str], list[str]]:
    v = "np" + "m_" + g.alnum(36, "FAKE")
    return [v], [
        f"//registry.npmjs.org/:_authToken={v}",
        f"npm ERR! 403 Forbidden - PUT https://registry.npmjs.org/pkg - token {v}",
        f"NPM_TOKEN={v}",
    ]


def _pypi(g: Gen) -> tuple[list[str], list[str]]:
    v = "py" + "pi-" + "AgEIcHlwaS5vcmc" + g.b64url(70)
    return [v], [f"TWINE_PASSWORD={v}", f"[pypi]\nusername = __token__\npassword = {v}"]


def _rubygems(g: Gen) -> tuple[list[str], list[str]]:
    v = "rubygems" + "_" + g.hex(48)
    return [v], [f"GEM_HOST_API_KEY={v}", f":rubygems_api_key: {v}"]


def _terraform(g: Gen) -> tuple[list[str], list[str]]:
    v = g.alnum(14, "TEST") + ".atlas" + "v1." + g.b64url(67)
    return [v], [f'credentials "app.terraform.io" {{\n  token = "{v}"\n}}', f"TFE_TOKEN={v}"]


def _pulumi(g: Gen) -> tuple[list[str], list[str]]:
    v = "pu" + "l-" + g.hex(40)
    return [v], [f"PULUMI_ACCESS_TOKEN={v}", f"error: invalid access token {v}"]


def _vault(g: Gen) -> tuple[list[str], list[str]]:
    v = "hv" + "s." + g.alnum(90, "FAKE")
    return [v], [f"VAULT_TOKEN={v}", f"X-Vault-Token: {v}", f"permission denied for {v}"]


def _doppler(g: Gen) -> tuple[list[str], list[str]]:
    v = "dp" + ".pt." + g.alnum(43, "FAKE")
    return [v], [f"DOPPLER_TOKEN={v}", f"doppler: invalid service token {v}"]


def _databricks(g: Gen) -> tuple[list[str], list[str]]:
    v = "da" + "pi" + g.hex(32)
    return [v], [f"DATABRICKS_TOKEN={v}", f"token = {v}\nhost = https://adb-1.azuredatabricks.net"]


def _grafana(g: Gen) -> tuple[list[str], list[str]]:
    v = "gl" + "sa_" + g.alnum(32, "FAKE") + "_" + g.hex(8)
    w = "gl" + "c_" + g.alnum(80, "FAKE") + "="
    return [v, w], [f"GRAFANA_TOKEN={v}", f"grafana cloud token {w} rejected", f"{v} / {w}"]


def _newrelic(g: Gen) -> tuple[list[str], list[str]]:
    v = "NR" + "AK-" + g.upper_alnum(27, "EXAMPLE")
    return [v], [f"NEW_RELIC_API_KEY={v}", f"newrelic: 403 for key {v}"]


def _datadog(g: Gen) -> tuple[list[str], list[str]]:
    api, app = g.hex(32), g.hex(40)
    return [api, app], [
        f"DD_API_KEY={api}\nDD_APP_KEY={app}",
        f"DD-API-KEY: {api}",
        f"datadog_app_key={app}",
    ]


def _sentry_token(g: Gen) -> tuple[list[str], list[str]]:
    v = "sn" + "tryu_" + g.hex(64)
    return [v], [f"SENTRY_AUTH_TOKEN={v}", f"sentry-cli: invalid token {v}"]


def _sentry_dsn(g: Gen) -> tuple[list[str], list[str]]:
    key = g.hex(32)
    return [key], [
        f"SENTRY_DSN=https://{key}@o{g.digits(6)}.ingest.sentry.io/{g.digits(7)}",
        f"sentry_sdk.init(dsn='https://{key}@o1.ingest.us.sentry.io/2')",
    ]


def _linear(g: Gen) -> tuple[list[str], list[str]]:
    v = "lin" + "_api_" + g.alnum(40, "FAKE")
    return [v], [f"LINEAR_API_KEY={v}", f"linear: authentication failed ({v})"]


def _postman(g: Gen) -> tuple[list[str], list[str]]:
    v = "PM" + "AK-" + g.hex(24) + "-" + g.hex(34)
    return [v], [f"POSTMAN_API_KEY={v}", f"x-api-key: {v}"]


def _slack(g: Gen) -> tuple[list[str], list[str]]:
    v = "xo" + "xb-" + g.digits(12) + "-" + g.digits(13) + "-" + g.alnum(24, "FAKE")
    return [v], [f"SLACK_BOT_TOKEN={v}", f"slack_sdk.errors.SlackApiError: invalid_auth ({v})"]


def _slack_webhook(g: Gen) -> tuple[list[str], list[str]]:
    v = "T" + g.upper_alnum(8, "FAKE") + "/B" + g.upper_alnum(8, "FAKE") + "/" + g.alnum(24)
    url = "https://hooks.slack.com/services/" + v
    return [v], [f"POST {url} returned 404", f"SLACK_WEBHOOK_URL={url}"]


def _discord_bot(g: Gen) -> tuple[list[str], list[str]]:
    v = "M" + g.alnum(25, "FAKE") + "." + g.b64url(6) + "." + g.alnum(27, "FAKE")
    return [v], [f"DISCORD_TOKEN={v}", f"discord.errors.LoginFailure: Improper token {v}"]


def _discord_webhook(g: Gen) -> tuple[list[str], list[str]]:
    v = g.b64url(68)
    url = f"https://discord.com/api/webhooks/{g.digits(18)}/{v}"
    return [v], [f"webhook {url} -> 401", f"DISCORD_WEBHOOK={url}"]


def _telegram(g: Gen) -> tuple[list[str], list[str]]:
    v = g.digits(10) + ":AA" + g.alnum(33, "FAKE")
    return [v], [f"TELEGRAM_BOT_TOKEN={v}", f"telegram.error.InvalidToken: {v}"]


def _twilio(g: Gen) -> tuple[list[str], list[str]]:
    sid, tok = "S" + "K" + g.hex(32), g.hex(32)
    return [sid, tok], [
        f"TWILIO_API_KEY={sid}\nTWILIO_AUTH_TOKEN={tok}",
        f"twilio: key {sid} secret {tok}",
    ]


def _mailgun(g: Gen) -> tuple[list[str], list[str]]:
    v = "key" + "-" + g.hex(32)
    return [v], [f"MAILGUN_API_KEY={v}", f"mailgun rejected api key {v}"]


def _mailchimp(g: Gen) -> tuple[list[str], list[str]]:
    v = g.hex(32) + "-us" + g.digits(2)
    return [v], [f"MAILCHIMP_API_KEY={v}", f"mailchimp: API key {v} is invalid"]


def _sendgrid(g: Gen) -> tuple[list[str], list[str]]:
    v = "SG" + "." + g.alnum(22, "FAKE") + "." + g.alnum(43, "FAKE")
    return [v], [
        f"SENDGRID_API_KEY={v}",
        f"sendgrid: The provided authorization grant is invalid: {v}",
    ]


def _shopify(g: Gen) -> tuple[list[str], list[str]]:
    v = "shp" + "at_" + g.hex(32)
    return [v], [f"X-Shopify-Access-Token: {v}", f"SHOPIFY_TOKEN={v}"]


def _square(g: Gen) -> tuple[list[str], list[str]]:
    v = "EA" + "AA" + g.alnum(60, "FAKE")
    w = "sq0" + "csp-" + g.b64url(43)
    return [v, w], [f"SQUARE_ACCESS_TOKEN={v}", f"square oauth secret {w}", f"{v} {w}"]


def _stripe(g: Gen) -> tuple[list[str], list[str]]:
    v = g.choice(["sk" + "_live_", "rk" + "_live_", "sk" + "_test_"]) + g.alnum(24, "FAKE")
    return [v], [
        f"stripe.error.AuthenticationError: Invalid API Key provided: {v}",
        f"STRIPE_SECRET_KEY={v}",
        f"curl https://api.stripe.com/v1/charges -u {v}:",
    ]


def _openai(g: Gen) -> tuple[list[str], list[str]]:
    v = "sk-" + "proj-" + g.alnum(40, "FAKE") + "T3Blbk" + "FJ" + g.alnum(40, "FAKE")
    return [v], [f"Incorrect API key provided: {v}.", f"OPENAI_API_KEY={v}"]


def _anthropic(g: Gen) -> tuple[list[str], list[str]]:
    v = "sk-" + "ant-" + "api03-" + g.b64url(93) + "AA"
    return [v], [f"ANTHROPIC_API_KEY={v}", f"x-api-key: {v}"]


def _huggingface(g: Gen) -> tuple[list[str], list[str]]:
    v = "hf" + "_" + g.alnum(34, "FAKE")
    return [v], [f"HF_TOKEN={v}", f"huggingface_hub.utils.HfHubHTTPError: 401 with token {v}"]


def _jwt(g: Gen) -> tuple[list[str], list[str]]:
    def seg(obj: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    v = ".".join(
        [seg({"alg": "HS256", "typ": "JWT"}), seg({"sub": g.user(), "exp": 1}), g.b64url(43)]
    )
    return [v], [f"jwt.exceptions.ExpiredSignatureError for {v}", f"id_token={v}", f"token: {v}"]


def _pem(g: Gen) -> tuple[list[str], list[str]]:
    body = g.b64(48)
    kind = g.choice(["RSA ", "EC ", "OPENSSH ", ""])
    pem = (
        f"-----BEGIN {kind}PRIVATE "
        + f"KEY-----\n{body}\n{g.b64(48)}\n-----END {kind}PRIVATE "
        + "KEY-----"
    )
    return [body], [f"could not load key:\n{pem}", f"key_data = '''{pem}'''"]


def _age(g: Gen) -> tuple[list[str], list[str]]:
    v = "AGE-" + "SECRET-KEY-1" + g.chars(B32.upper(), 58)
    return [v], [f"# created: 2026-01-01\n{v}", f"SOPS_AGE_KEY={v}"]


def _db_url(g: Gen) -> tuple[list[str], list[str]]:
    user, pw = g.user(), g.password().replace("!", "").replace("#", "").replace("%", "")
    scheme = g.choice(["postgresql", "mysql", "mongodb+srv", "redis", "amqp", "mssql+pyodbc"])
    host = g.choice(["db.prod.example.com", "10.1.2.3", "cluster0.abcde.mongodb.net"])
    url = f"{scheme}://{user}:{pw}@{host}:5432/app"
    return [user, pw], [
        f"sqlalchemy.exc.OperationalError: could not connect to {url}",
        f"DATABASE_URL={url}",
        f"connecting to '{url}' failed: timeout",
    ]


def _conn_string(g: Gen) -> tuple[list[str], list[str]]:
    user, pw = g.user(), g.password()
    return [pw], [
        f"Server=tcp:acme.database.windows.net,1433;Database=app;User ID={user};Password={pw};",
        f"jdbc:postgresql://db:5432/app?user={user}&password={pw}&ssl=true",
        f"host=db port=5432 dbname=app user={user} password={pw} sslmode=require",
        f"Data Source=db;Initial Catalog=app;uid={user};pwd={pw}",
    ]


def _password_config(g: Gen) -> tuple[list[str], list[str]]:
    pw = g.password()
    return [pw], [
        f"[database]\nhost = db\nuser = app\npassword = {pw}",
        f"database:\n  user: app\n  password: {pw}",
        f'[smtp]\npassword = "{pw}"',
        f"DB_PASSWORD={pw}",
        f'{{"user": "app", "password": "{pw}"}}',
        f"spring.datasource.password={pw}",
        f"SMTP_PASS={pw}",
        f"passphrase: '{pw}'",
    ]


def _password_xml(g: Gen) -> tuple[list[str], list[str]]:
    pw = g.password()
    return [pw], [
        f"<server><id>nexus</id><username>deploy</username><password>{pw}</password></server>",
        f'<add key="ClearTextPassword" value="{pw}" />',
        f'<connection user="app" password="{pw}" host="db"/>',
        f"<credentials>\n  <secretKey>{pw}</secretKey>\n</credentials>",
    ]


def _password_cli(g: Gen) -> tuple[list[str], list[str]]:
    pw = g.password().replace("!", "").replace("#", "")
    return [pw], [
        f"mysql -h db -u root -p{pw} app",
        f"mysqldump --user=app --password={pw} app",
        f"psql failed; env PGPASSWORD={pw} psql -h db",
        f"MYSQL_PWD={pw} mysql -u app",
        f"app deploy --password {pw} --env prod",
        f"sshpass -p {pw} ssh deploy@host",
        f"keytool -importkeystore -srcstorepass {pw} -deststorepass {pw}",
        f"openssl pkcs12 -export -passout pass:{pw} -out cert.p12",
        f"redis-cli -h cache -a {pw} ping",
        f"docker login -u acme -p {pw} registry.example.com",
    ]


def _auth_header(g: Gen) -> tuple[list[str], list[str]]:
    v = g.alnum(int(g.choice(["6", "12", "40"])), "X")
    return [v], [
        f"Authorization: Bearer {v}",
        f"{{'Authorization': 'Token {v}', 'Accept': 'application/json'}}",
        f'"authorization": "Bearer {v}"',
        f"Proxy-Authorization: Basic {v}",
    ]


def _bearer(g: Gen) -> tuple[list[str], list[str]]:
    v = g.alnum(g.rng.randrange(8, 50), "X")
    return [v], [f"sent Bearer {v} to the API", f"using bearer {v}; got 401"]


def _basic(g: Gen) -> tuple[list[str], list[str]]:
    user, pw = g.user(), g.password()
    v = base64.b64encode(f"{user}:{pw}".encode()).decode()
    return [v], [f"Authorization: Basic {v}", f"header was Basic {v} (rejected)"]


def _cookie(g: Gen) -> tuple[list[str], list[str]]:
    sid, csrf = g.alnum(32, "FAKE"), g.alnum(32, "TEST")
    return [sid, csrf], [
        f"Cookie: sessionid={sid}; csrftoken={csrf}",
        f"Set-Cookie: session={sid}; Path=/; HttpOnly\nSet-Cookie: csrf={csrf}",
    ]


def _generic_key(g: Gen) -> tuple[list[str], list[str]]:
    v = g.alnum(g.rng.randrange(20, 48), "FAKE")
    svc = g.choice(["ALGOLIA", "ASANA", "OKTA", "NETLIFY", "FASTLY", "TWITCH", "PLAID"])
    return [v], [
        f"{svc}_API_KEY={v}",
        f"X-Api-Key: {v}",
        f"GET /v2/items?api_key={v}&page=2 401",
        f'{svc.lower()}:\n  client_secret: "{v}"',
        f"{svc.lower()}.apiToken = {v}",
        f"the API key {v} is not valid",
    ]


def _kubeconfig(g: Gen) -> tuple[list[str], list[str]]:
    data = g.b64(90)
    tok = g.alnum(40, "FAKE")
    return [data, tok], [
        f"users:\n- name: admin\n  user:\n    client-key-data: {data}\n    token: {tok}",
        f"invalid kubeconfig: client-key-data: {data}, token: {tok}",
    ]


def _netrc(g: Gen) -> tuple[list[str], list[str]]:
    user, pw = g.user(), g.password()
    return [user, pw], [
        f"machine api.example.com login {user} password {pw}",
        f"parse error in netrc:\nmachine git.example.com\n  login {user}\n  password {pw}",
    ]


def _pgpass(g: Gen) -> tuple[list[str], list[str]]:
    user, pw = g.user(), g.password().replace(":", "")
    return [user, pw], [
        f"db.example.com:5432:app:{user}:{pw}",
        f"pgpass entry *:5432:*:{user}:{pw} ignored",
    ]


def _email(g: Gen) -> tuple[list[str], list[str]]:
    v = f"{g.user()}.{g.word()}@example-{g.word()}.com"
    return [v], [
        f"no account for {v}",
        f"From: Jane Doe <{v}>",
        f"git config user.email {v}",
        f"SMTPRecipientsRefused: {{'{v}': (550, b'User unknown')}}",
    ]


def _phone(g: Gen) -> tuple[list[str], list[str]]:
    n4 = "01" + g.digits(2)
    forms = [
        f"+1 (415) 555-{n4}",
        f"(415) 555-{n4}",
        f"415-555-{n4}",
        f"415.555.{n4}",
        f"+44 20 7946 0{g.digits(3)}",
        f"+44 (0)20 7946 0{g.digits(3)}",
        f"020 7946 0{g.digits(3)}",
        f"07700 900{g.digits(3)}",
        f"+49 30 {g.digits(8)}",
        f"030 {g.digits(8)}",
        f"+33 1 {g.digits(2)} {g.digits(2)} {g.digits(2)} {g.digits(2)}",
        f"01 {g.digits(2)} {g.digits(2)} {g.digits(2)} {g.digits(2)}",
        f"+1415555{n4}",
    ]
    v = g.choice(forms)
    return [v], [
        f"SMS to {v} failed: undeliverable",
        f"contact: {v}",
        f"phone={v}",
        f"call {v} for access",
    ]


def _ssn(g: Gen) -> tuple[list[str], list[str]]:
    v = f"{g.rng.randrange(100, 665):03d}-{g.rng.randrange(10, 99):02d}-{g.rng.randrange(1000, 9999):04d}"
    bare = v.replace("-", "")
    return [v, bare], [f"duplicate SSN {v} in row 7", f"ssn={bare}", f"applicant {v} rejected"]


def _nino(g: Gen) -> tuple[list[str], list[str]]:
    v = f"{g.choice(['AB', 'CE', 'JH', 'PR', 'SW'])} {g.digits(2)} {g.digits(2)} {g.digits(2)} {g.choice(list('ABCD'))}"
    return [v, v.replace(" ", "")], [f"NI number {v} not found", f"nino={v.replace(' ', '')}"]


def _iban(g: Gen) -> tuple[list[str], list[str]]:
    v = iban_complete("GB", "NWBK" + "60161331926819"[:6] + g.digits(8))
    grouped = " ".join(v[i : i + 4] for i in range(0, len(v), 4))
    return [v, grouped], [f"payout to {v} failed", f"IBAN: {grouped}", f"iban={v}"]


def _card(g: Gen) -> tuple[list[str], list[str]]:
    n = luhn_complete("4" + g.digits(14))
    spaced = " ".join(n[i : i + 4] for i in range(0, 16, 4))
    return [n, spaced], [f"card {n} declined", f"charge failed for card {spaced}", f"pan={n}"]


def _ipv4(g: Gen) -> tuple[list[str], list[str]]:
    v = f"{g.rng.randrange(11, 223)}.{g.rng.randrange(0, 255)}.{g.rng.randrange(0, 255)}.{g.rng.randrange(1, 254)}"
    return [v], [f"connect to {v}:5432 refused", f"client {v} banned", f"upstream={v}"]


def _ipv6(g: Gen) -> tuple[list[str], list[str]]:
    v = f"2001:db8:{g.hex(4)}:{g.hex(4)}::{g.hex(3)}"
    return [v], [f"bind {v}: address in use", f"peer [{v}]:443 reset", f"from {v} port 22"]


def _mac(g: Gen) -> tuple[list[str], list[str]]:
    h = g.hex(12)
    forms = [
        ":".join(h[i : i + 2] for i in range(0, 12, 2)),
        "-".join(h[i : i + 2] for i in range(0, 12, 2)).upper(),
        ".".join(h[i : i + 4] for i in range(0, 12, 4)),
    ]
    v = g.choice(forms)
    return [v], [f"interface {v}: link down", f"dhcp lease for {v} expired", f"mac={v}"]


def _hostname(g: Gen) -> tuple[list[str], list[str]]:
    v = f"{g.word()}-{g.digits(2)}.{g.choice(['acme.internal', 'corp', 'local', 'lan', 'home.arpa', 'intranet', 'localdomain'])}"
    return [v], [
        f"could not resolve host {v}",
        f"ssh: connect to host {v} port 22: timeout",
        f"{v}:8080 unreachable",
    ]


def _sid(g: Gen) -> tuple[list[str], list[str]]:
    v = f"S-1-5-21-{g.digits(10)}-{g.digits(10)}-{g.digits(9)}-{g.rng.randrange(1000, 9999)}"
    return [v], [f"access denied for {v}", f"owner SID {v} unknown"]


def _home_path(g: Gen) -> tuple[list[str], list[str]]:
    user = g.user() + g.word()
    return [user], [
        f"No such file or directory: '/home/{user}/projects/app/config.yaml'",
        f"PermissionError: [Errno 13] Permission denied: '/Users/{user}/Library/Caches/x'",
        f"cannot open C:\\Users\\{user}\\AppData\\Local\\acme\\log.txt",
    ]


def _url_token(g: Gen) -> tuple[list[str], list[str]]:
    v = g.alnum(32, "FAKE")
    return [v], [
        f"GET https://api.example.com/v1/me?access_token={v} 401",
        f"redirect to /callback?code={v}&state=x",
    ]


def _firebase(g: Gen) -> tuple[list[str], list[str]]:
    v = "AAAA" + g.b64url(7) + ":APA91b" + g.b64url(134)
    return [v], [f"FCM_SERVER_KEY={v}", f"fcm: 401 with server key {v}"]


KINDS: dict[str, Kind] = {
    "aws-access-key-id": _aws_id,
    "aws-secret-access-key": _aws_secret,
    "aws-session-token": _aws_session,
    "aws-account-id": _aws_account,
    "gcp-api-key": _gcp_api_key,
    "gcp-service-account": _gcp_service_account,
    "google-oauth-token": _google_oauth,
    "google-oauth-client-secret": _google_client_secret,
    "azure-storage-connection-string": _azure_conn,
    "azure-sas-token": _azure_sas,
    "azure-ad-client-secret": _azure_client_secret,
    "alibaba-access-key-id": _alibaba,
    "ibm-cloud-api-key": _ibm,
    "digitalocean-token": _digitalocean,
    "heroku-api-key": _heroku,
    "cloudflare-api-token": _cloudflare,
    "github-token": _github,
    "github-fine-grained-token": _github_pat,
    "gitlab-token": _gitlab,
    "atlassian-api-token": _atlassian,
    "artifactory-token": _artifactory,
    "dockerhub-token": _dockerhub,
    "docker-config-auth": _docker_auth,
    "npm-token": _npm,
    "pypi-token": _pypi,
    "rubygems-api-key": _rubygems,
    "terraform-cloud-token": _terraform,
    "pulumi-token": _pulumi,
    "vault-token": _vault,
    "doppler-token": _doppler,
    "databricks-token": _databricks,
    "grafana-token": _grafana,
    "new-relic-key": _newrelic,
    "datadog-key": _datadog,
    "sentry-token": _sentry_token,
    "sentry-dsn": _sentry_dsn,
    "linear-api-key": _linear,
    "postman-api-key": _postman,
    "slack-token": _slack,
    "slack-webhook-url": _slack_webhook,
    "discord-bot-token": _discord_bot,
    "discord-webhook-url": _discord_webhook,
    "telegram-bot-token": _telegram,
    "twilio-key": _twilio,
    "mailgun-api-key": _mailgun,
    "mailchimp-api-key": _mailchimp,
    "sendgrid-api-key": _sendgrid,
    "shopify-token": _shopify,
    "square-token": _square,
    "stripe-key": _stripe,
    "openai-api-key": _openai,
    "anthropic-api-key": _anthropic,
    "huggingface-token": _huggingface,
    "firebase-cloud-messaging-key": _firebase,
    "jwt": _jwt,
    "pem-private-key": _pem,
    "age-secret-key": _age,
    "database-url": _db_url,
    "connection-string-password": _conn_string,
    "password-in-config": _password_config,
    "password-in-xml": _password_xml,
    "password-on-command-line": _password_cli,
    "authorization-header": _auth_header,
    "bearer-token": _bearer,
    "basic-auth": _basic,
    "cookie": _cookie,
    "generic-api-key": _generic_key,
    "kubeconfig-credentials": _kubeconfig,
    "netrc-credentials": _netrc,
    "pgpass-entry": _pgpass,
    "url-query-token": _url_token,
    "email": _email,
    "phone-number": _phone,
    "us-ssn": _ssn,
    "uk-nino": _nino,
    "iban": _iban,
    "credit-card": _card,
    "ipv4-address": _ipv4,
    "ipv6-address": _ipv6,
    "mac-address": _mac,
    "internal-hostname": _hostname,
    "windows-sid": _sid,
    "home-path": _home_path,
}

# Contexts a snippet is found in: error messages, log lines, tracebacks, config dumps,
# JSON logs (the snippet JSON-escaped), Windows and POSIX paths around it.
WRAPPERS: list[Callable[[str], str]] = [
    lambda s: f"RuntimeError: {s}",
    lambda s: f"2026-03-01 12:00:00,123 ERROR [worker-3] {s}",
    lambda s: (
        'Traceback (most recent call last):\n  File "/srv/app/main.py", line 42, in <module>\n'
        f"    main()\nValueError: {s}"
    ),
    lambda s: f"failed to apply configuration fragment:\n{s}\n",
    lambda s: s,
    lambda s: f"error while reading C:\\ProgramData\\Acme\\settings.ini: {s}",
    lambda s: f"while loading /etc/acme/app.conf: {s} (line 12)",
    lambda s: '{"level": "error", "ts": "2026-03-01T12:00:00Z", "msg": ' + json.dumps(s) + "}",
]


# ---------------------------------------------------------------------------- benign


def _benign(g: Gen) -> list[tuple[str, str]]:
    """(kind, text): look-alikes of secrets and personal data that are not."""
    out: list[tuple[str, str]] = []

    def uuid() -> str:
        h = g.chars(HEX, 32)
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"

    for _ in range(20):
        out.append(("uuid", g.choice([
            f"request {uuid()} failed after 3 retries",
            f"KeyError: '{uuid()}'",
            f"job_id={uuid()} finished with status 500",
            f"trace id {uuid().upper()}",
        ])))  # fmt: skip
    for _ in range(20):
        sha = g.chars(HEX, int(g.choice(["40", "64"])))
        out.append(("commit-sha", g.choice([
            f"HEAD is now at {sha[:7]} fix the parser",
            f"commit {sha}",
            f"fatal: bad object {sha}",
            f"error: pathspec '{sha[:12]}' did not match any file(s) known to git",
            f"merged {sha} into main",
        ])))  # fmt: skip
    for _ in range(20):
        digest = g.chars(HEX, 64)
        out.append(("content-hash", g.choice([
            f"sha256:{digest} does not match the expected digest",
            f"integrity check failed: expected sha256={digest}",
            f"md5 mismatch: {digest[:32]} != {g.chars(HEX, 32)}",
            f"image digest sha256:{digest}",
            f"ETag: \"{digest[:32]}\"",
        ])))  # fmt: skip
    for _ in range(20):
        a, b, c = g.rng.randrange(0, 20), g.rng.randrange(0, 40), g.rng.randrange(0, 200)
        out.append(("version", g.choice([
            f"requires Python >= 3.{b % 14}, found 3.{b % 14}.{c % 20}",
            f"version {a}.{b}.{c} is not supported (need >= {a + 1}.0)",
            f"v{a}.{b}.{c}-rc.{c % 5} is a pre-release",
            f"numpy {a}.{b}.{c} is incompatible with pandas {b}.{c}",
            f"Using setuptools {a + 60}.{b}.{c}",
        ])))  # fmt: skip
    for _ in range(20):
        pkg = g.choice(["requests", "urllib3", "pydantic", "numpy", "click", "typer", "rich"])
        out.append(("package-pin", g.choice([
            f"Could not find a version that satisfies the requirement {pkg}=={g.rng.randrange(1, 9)}.{g.rng.randrange(0, 40)}.{g.rng.randrange(0, 9)}",
            f"{pkg}>={g.rng.randrange(1, 9)}.{g.rng.randrange(0, 9)},<{g.rng.randrange(10, 20)}",
            f"conflict: {pkg}~={g.rng.randrange(1, 9)}.{g.rng.randrange(0, 9)} and {pkg}!={g.rng.randrange(1, 9)}.0.1",
            f"{pkg}@{g.rng.randrange(1, 9)}.{g.rng.randrange(0, 9)}.{g.rng.randrange(0, 9)} resolved",
        ])))  # fmt: skip
    for _ in range(20):
        y, mo, d = 2020 + g.rng.randrange(7), g.rng.randrange(1, 13), g.rng.randrange(1, 29)
        h, mi, s = g.rng.randrange(24), g.rng.randrange(60), g.rng.randrange(60)
        out.append(("date-time", g.choice([
            f"certificate expired on {y}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}Z",
            f"at {h:02d}:{mi:02d}:{s:02d} on {d:02d}.{mo:02d}.{y}",
            f"timestamp {y}-{mo:02d}-{d:02d} {h:02d}:{mi:02d}:{s:02d}.{g.digits(6)} out of range",
            f"{mo}/{d}/{y} {h}:{mi:02d} PM",
            f"took {g.rng.randrange(1, 999)}.{g.digits(3)} s (timeout {g.rng.randrange(10, 60)} s)",
            f"epoch {1_700_000_000 + g.rng.randrange(10**7)} is in the future",
        ])))  # fmt: skip
    for _ in range(20):
        code = g.choice(
            [
                "200",
                "201",
                "204",
                "301",
                "400",
                "401",
                "403",
                "404",
                "409",
                "429",
                "500",
                "502",
                "503",
            ]
        )
        out.append(("http-status", g.choice([
            f"HTTP {code} from upstream after {g.rng.randrange(1, 30)} retries",
            f"status_code={code}, reason='Service Unavailable'",
            f"Server responded with {code} Not Found",
            f"HTTPError: {code} Client Error: Unauthorized",
            f"got {code}, expected 200",
        ])))  # fmt: skip
    for _ in range(20):
        port = g.rng.randrange(1024, 65535)
        out.append(("port", g.choice([
            f"Address already in use: port {port}",
            f"listening on localhost:{port}",
            f"connect to 127.0.0.1:{port} refused",
            f"bind 0.0.0.0:{port} failed",
            f"[::1]:{port} unreachable",
        ])))  # fmt: skip
    prose = [
        "The quick brown fox jumps over the lazy dog.",
        "Please set a password before continuing.",
        "Your token has expired; sign in again.",
        "Enter the API key from your dashboard.",
        "Bearer authentication required",
        "Basic authentication is disabled on this server",
        "The secret store is locked.",
        "invalid token",
        "key not found",
        "Session expired, please log in again",
        "Passwords do not match",
        "the credentials file is empty",
        "Cookie policy rejected",
        "call the phone number on the back of your card",
        "no password was supplied",
        "token refresh failed: network is unreachable",
        "KeyError: 'password'",
        "KeyError: 'api_key'",
        "missing required field: client_secret",
        "Error: Option '--password' requires an argument.",
        "Missing option '--token'.",
        "the authorization server is down",
        "unable to parse the cookie jar",
        "could not read the private key header",
        "SSN field is required",
    ]
    for text in prose:
        out.append(("prose", text))
    identifiers = [
        "AttributeError: 'NoneType' object has no attribute 'get_secret_key'",
        "NameError: name 'api_token_count' is not defined",
        "TypeError: connect() got an unexpected keyword argument 'passwd_file'",
        "threading.local() cannot be pickled",
        "max_tokens=4096, token_count=17",
        "ValueError: invalid literal for int() with base 10: 'abc'",
        "ZeroDivisionError: division by zero",
        "ImportError: cannot import name 'TokenAuth' from 'acme.auth'",
        "RecursionError: maximum recursion depth exceeded while calling a Python object",
        "self.internal_state is None",
        "sort_key=created_at, primary_key=id",
        "os.environ['HOME'] is not set",
        "AssertionError: assert 3 == 4",
        "module 'acme.secrets' has no attribute 'load_keyring'",
        "UnicodeDecodeError: 'utf-8' codec can't decode byte 0xff in position 0",
        "keyboard interrupt received, shutting down",
        "cache hit ratio 0.93, evictions 12",
        "worker pid 4242 exited with code 137",
        "processed 12,345 rows in 3.2 s",
        "retrying in 5 seconds (attempt 2 of 5)",
        "colour #ff00aa is not a valid theme colour",
        "std::vector<int> index out of range",
        "Section 3.2.1, e.g. this",
        "@property and @app.route",
        "KeyboardInterrupt",
    ]
    for text in identifiers:
        out.append(("identifier", text))
    markers = [
        "already scrubbed: <redacted:email> at <path:0123abcd.py>",
        "token=<redacted:secret-assignment>",
        "see <path:4111111111111111>",
    ]
    for text in markers:
        out.append(("marker", text))
    return out


def generate() -> list[dict[str, object]]:
    g = Gen(SEED)
    entries: list[dict[str, object]] = []
    for kind, make in KINDS.items():
        for i in range(TEXTS_PER_KIND):
            planted, snippets = make(g)
            snippet = snippets[i % len(snippets)]
            wrapper = WRAPPERS[g.rng.randrange(len(WRAPPERS))]
            text = wrapper(snippet)
            present = [p for p in planted if p in text]
            assert present, (kind, text)
            entries.append({"kind": kind, "text": text, "planted": present})
    for kind, text in _benign(g):
        entries.append({"kind": kind, "text": text, "benign": True})
    return entries


def dump(entries: list[dict[str, object]]) -> str:
    return json.dumps(entries, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    text = dump(generate())
    if "--check" in argv:
        if CORPUS.read_text(encoding="utf-8") != text:
            print(f"{CORPUS} is stale: run python {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    CORPUS.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
