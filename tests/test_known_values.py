"""Known-value redaction (issue 11, points 1-3): every value a run saw from the user, the
environment, the machine or the app's API calls is redacted wherever free text quotes
it, in any case, before anything is written.

The subprocess cases run real Typer and Click apps (tests/leaky_apps.py) whose errors
quote such values, then grep every byte of the store for them.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from localtelemetry import Telemetry
from localtelemetry._record.documents import Hasher, SafeValues
from localtelemetry._record.known import (
    ANYWHERE_LENGTH,
    COMMON_WORDS,
    MIN_LENGTH,
    Redactor,
    machine_values,
    parts,
    system_identity,
)

from conftest import TESTS, all_files, clean_env, store_documents

LEAKY = TESTS / "leaky_apps.py"


def _forms(value: str) -> set[bytes]:
    return {v.encode() for v in (value, value.lower(), value.upper())}


def assert_store_clean(store: Path, planted: list[str]) -> list[dict[str, object]]:
    """No planted value, in any of its cases, in any byte or file name of the store;
    every document valid against schema/."""
    files = all_files(store)
    assert files, "nothing was recorded"
    blob = b"".join(p.read_bytes() for p in files)
    names = "\n".join(str(p.relative_to(store)) for p in files).encode()
    for value in planted:
        for form in _forms(value):
            assert form not in blob, f"{form!r} reached the store"
            assert form not in names.lower() and form not in names, form
    return store_documents(store)


def _message(documents: list[dict[str, object]], kind: str = "cli-command") -> str:
    (doc,) = [d for d in documents if d["kind"] == kind]
    message = doc["payload"]["error_message"]  # type: ignore[index]
    assert isinstance(message, str) and message, "the message itself must survive"
    return message


def _run(
    tmp_path: Path,
    which: str,
    args: list[str],
    *,
    input: str | None = None,
    cwd: Path | None = None,
    **env: str,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    base = tmp_path / "store"
    proc = subprocess.run(
        [sys.executable, str(LEAKY), which, "--telemetry", *args],
        env=clean_env(base, home, **{"COLUMNS": "400", **env}),
        input=input,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=cwd or tmp_path,
    )
    assert proc.returncode != 0, proc.stdout
    assert "Traceback" in proc.stderr or "Error" in proc.stderr, proc.stderr
    return base / ("leakyt" if which == "typer" else "leakyc"), proc


# -- finding 2: values typed on the command line --------------------------------------


@pytest.mark.parametrize(
    ("which", "args", "planted"),
    [
        ("typer", ["lookup", "4155550199"], ["4155550199"]),
        ("click", ["clookup", "4155550199"], ["4155550199"]),
        ("typer", ["users", "--users", "alice,quentin,bob"], ["quentin", "alice"]),
        ("click", ["cusers", "--users", "annette;zebedee;qzpart"], ["qzpart"]),
        ("typer", ["resolve", "HOST-42.ACME.INTERNAL"], ["host-42.acme.internal", "acme"]),
        ("typer", ["set", "dbpass=zq-kv-secret-91"], ["zq-kv-secret-91", "dbpass"]),
        ("typer", ["tally", "-lQZSHORTVAL"], ["QZSHORTVAL"]),
        ("click", ["count", "-nQZCLICKSHORT"], ["QZCLICKSHORT"]),
    ],
)
def test_command_line_values_never_reach_the_store(
    tmp_path: Path, which: str, args: list[str], planted: list[str]
) -> None:
    store, proc = _run(tmp_path, which, args)
    assert any(p.lower() in proc.stderr.lower() for p in planted), "the app quoted it"
    documents = assert_store_clean(store, planted)
    assert "<redacted:argument>" in _message(documents)


@pytest.mark.parametrize(
    ("which", "args", "env", "planted"),
    [
        ("typer", ["tally"], {"LEAKYT_LABEL": "zq-envsecret-77"}, ["zq-envsecret-77"]),
        ("click", ["greet"], {"LEAKYC_GREET_NAME": "qz-autoenv-name"}, ["qz-autoenv-name"]),
        ("click", ["count"], {"LEAKYC_COUNT_COUNT": "qz-autoenv-count"}, ["qz-autoenv-count"]),
    ],
)
def test_option_values_from_the_environment_never_reach_the_store(
    tmp_path: Path, which: str, args: list[str], env: dict[str, str], planted: list[str]
) -> None:
    store, proc = _run(tmp_path, which, args, **env)
    assert planted[0] in proc.stderr
    assert "<redacted:argument>" in _message(assert_store_clean(store, planted))


def test_option_values_from_the_default_map_never_reach_the_store(tmp_path: Path) -> None:
    defaults = tmp_path / "defaults.json"
    defaults.write_text(json.dumps({"conf": {"profile": "qz-defaultmap-prof"}}))
    store, proc = _run(tmp_path, "click", ["conf"], LEAKYC_DEFAULTS=str(defaults))
    assert "qz-defaultmap-prof" in proc.stderr
    assert_store_clean(store, ["qz-defaultmap-prof"])


def test_option_values_from_a_prompt_never_reach_the_store(tmp_path: Path) -> None:
    store, proc = _run(tmp_path, "click", ["ask"], input="qz-prompt-token\n")
    assert "qz-prompt-token" in proc.stderr
    assert_store_clean(store, ["qz-prompt-token"])


# -- finding 1: values handed to the API ------------------------------------------------


@pytest.mark.parametrize("inside", [False, True])
def test_values_handed_to_the_api_never_reach_the_store(tmp_path: Path, inside: bool) -> None:
    config = tmp_path / "scan.conf"
    config.write_text("qz-include-glob qz-table-name qzsrc/qz-ledger.db qz-where-clause\n")
    args = ["scan", str(config), *(["--inside"] if inside else [])]
    store, proc = _run(tmp_path, "typer", args)
    assert "qz-table-name" in proc.stderr
    planted = ["qz-include-glob", "qz-table-name", "qz-ledger", "qz-where-clause", "qzsrc"]
    documents = assert_store_clean(store, planted)
    message = _message(documents)
    assert "<redacted:value>" in message
    # The path the app handed to b.path() becomes the token its descriptor carries.
    (build,) = [d for d in documents if d["kind"] == "build"]
    digest = build["payload"]["inputs"][0]["path"]["hash"]  # type: ignore[index]
    assert f"<path:{digest}.db>" in message
    if inside:
        assert f"<path:{digest}.db>" in _message(documents, "build")


# -- finding 3: the machine's identity ---------------------------------------------------


@pytest.mark.parametrize("which", ["typer", "click"])
def test_login_name_from_the_environment_never_reaches_the_store(
    tmp_path: Path, which: str
) -> None:
    args = ["session" if which == "typer" else "csession"]
    store, proc = _run(tmp_path, which, args, LOGNAME="qzlogin", USER="qzlogin")
    assert "qzlogin" in proc.stderr
    message = _message(assert_store_clean(store, ["qzlogin"]))
    assert "<redacted:user>" in message


def test_cwd_and_home_never_reach_the_store(tmp_path: Path) -> None:
    work = tmp_path / "qz-cwd-project"
    work.mkdir()
    store, proc = _run(tmp_path, "typer", ["where"], cwd=work)
    assert "qz-cwd-project" in proc.stderr
    assert_store_clean(store, ["qz-cwd-project", str(tmp_path / "home")])


# -- the rule, in-process ---------------------------------------------------------------

HASHER = Hasher(b"k" * 32, home="/home/someone")
_HASH_OR_ID = re.compile(r"[0-9a-f]{32}|[0-9a-hjkmnp-tv-z]{26}")
_OURS = re.compile(r"<(?:redacted:[a-z0-9-]+|path:[0-9a-f]+(?:\.[a-z0-9]{1,10})?)>")


def _scrubbed(text: str, values: list[tuple[str, str]], exclude: tuple[str, ...] = ()) -> str:
    redactor = Redactor(values, exclude=exclude)
    result = SafeValues(HASHER).message(text, lambda: redactor)
    assert result is not None
    return result


def _redacted(text: str, value: str, kind: str = "argument", **kw: object) -> bool:
    """Whether ``value`` was taken out of ``text``."""
    return value.lower() not in _scrubbed(text, [(value, kind)], **kw).lower()  # type: ignore[arg-type]


def test_threshold_boundaries() -> None:
    assert (MIN_LENGTH, ANYWHERE_LENGTH) == (3, 5)
    # shorter than 3: never
    assert not _redacted("user qz logged in", "qz")
    # 3 and 4 characters: as a token only
    for value in ("qzx", "qzxw"):
        assert _redacted(f"user {value} logged in", value)
        assert _redacted(f"user {value.upper()}'s key", value)
        assert _redacted(f"user_{value}_2", value)
        assert _redacted(f"{value}2", value)  # a digit does not continue a word of letters
        assert not _redacted(f"the {value}sled", value)
        assert not _redacted(f"the a{value}", value)
    assert _redacted("code 415 failed", "415")
    assert not _redacted("code 4150 failed", "415")
    assert _redacted("x4155y", "4155") and not _redacted("41550", "4155")
    # 5 characters and more: anywhere, inside words too
    assert _redacted("theqzxwvsled", "qzxwv")
    assert _redacted("no account 14155550199", "4155550199")


def test_digit_only_values_are_redacted() -> None:
    assert _scrubbed("KeyError: 'no account 4155550199'", [("4155550199", "argument")]) == (
        "KeyError: 'no account <redacted:argument>'"
    )


def test_common_words_and_the_apps_own_names_are_kept() -> None:
    assert not _redacted("release build failed", "release")
    assert "build" in _scrubbed("build failed", [("build", "argument")])
    assert not _redacted("no such thing: frobnicate", "frobnicate", exclude=("frobnicate",))
    assert sorted(COMMON_WORDS) == sorted({w.casefold() for w in COMMON_WORDS})
    assert all(len(w) >= MIN_LENGTH for w in COMMON_WORDS)


def test_whole_identity_values_are_redacted_even_when_common() -> None:
    assert _redacted("cannot open session for build", "build", kind="user")
    text = "Will Smith will see it; Smith too"
    out = _scrubbed(text, [("Will Smith", "user")])
    assert out == "<redacted:user> will see it; <redacted:user> too"
    # a part of a host name that is a common word stays, the host's own name does not
    out = _scrubbed("build-7.internal and build-7 and internal", [("build-7.internal", "host")])
    assert out == "<redacted:host> and <redacted:host> and internal"


def test_parts_of_values() -> None:
    assert parts("alice,quentin;bob") == ["alice", "quentin", "bob"]
    assert parts("KEY=VALUE") == ["KEY", "VALUE"]
    assert parts("-nVALUE") == ["nVALUE", "VALUE"]
    assert parts("--name=jane") == ["name", "jane", "name=jane"]
    assert "HOST-42" in parts("HOST-42.ACME.INTERNAL")
    assert sorted(parts("user@host.example:/srv/a b")) == sorted(
        ["user", "host.example", "host", "example", "srv", "a", "b"]
    )
    assert (
        _scrubbed("a ### b", [("###", "argument"), ("--", "argument")]) == "a <redacted:argument> b"
    )
    out = _scrubbed("unknown user QUENTIN; key VALUE", [("alice,quentin,bob", "argument")])
    assert out == "unknown user <redacted:argument>; key VALUE"


def test_paths_become_the_token_their_descriptor_carries() -> None:
    safe = SafeValues(HASHER)
    digest = HASHER.path_descriptor("data/qz-ledger.db")["hash"]
    out = _scrubbed("cannot read data/qz-ledger.db", [("data/qz-ledger.db", "value")])
    assert (
        out
        == f"cannot read <path:{digest}.db>"
        == f"cannot read {safe.path_token('data/qz-ledger.db')}"
    )
    # a known value inside a longer path takes the whole path with it
    out = _scrubbed("see /srv/qzuser/.netrc now", [("qzuser", "user")])
    assert out.startswith("see <path:") and out.endswith("> now") and "netrc" not in out
    out = _scrubbed("in /tmp/qz-work/x", [("/tmp/qz-work", "directory")])
    assert "qz-work" not in out and "/x" not in out


def test_the_counts_say_what_was_redacted() -> None:
    safe = SafeValues(HASHER)
    redactor = Redactor([("qzlogin", "user"), ("4155550199", "argument"), ("qz-table", "value")])
    safe.message("qzlogin 4155550199 qz-table qz-table", lambda: redactor)
    assert safe.redactions == {"user": 1, "argument": 1, "value": 2}


_VALUE_ALPHABET = st.characters(
    blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp"), blacklist_characters="<>"
)
_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="<>"), max_size=40)


@given(
    value=st.text(_VALUE_ALPHABET, min_size=MIN_LENGTH, max_size=30),
    prefix=_TEXT,
    suffix=_TEXT,
    case=st.sampled_from(["as-is", "lower", "upper"]),
    kind=st.sampled_from(["argument", "value", "user", "host"]),
)
@settings(max_examples=500, deadline=None)
def test_a_known_value_never_survives_in_any_case(
    value: str, prefix: str, suffix: str, case: str, kind: str
) -> None:
    """The invariant: a value of at least MIN_LENGTH characters that is not a common word,
    planted in any case in any message (as a token when shorter than ANYWHERE_LENGTH),
    is not in the stored text in any case."""
    assume(value == value.strip() and value.casefold() not in COMMON_WORDS)
    planted = {"as-is": value, "lower": value.lower(), "upper": value.upper()}[case]
    if len(value) < ANYWHERE_LENGTH:
        prefix, suffix = prefix + " ", " " + suffix
    out = _OURS.sub("\x00", _scrubbed(prefix + planted + suffix, [(value, kind)]))
    for form in {value, value.lower(), value.upper()}:
        assert form not in out, (form, out)


@given(
    value=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._@-]{4,24}", fullmatch=True),
    case=st.sampled_from(["as-is", "lower", "upper"]),
)
@settings(max_examples=25, deadline=None)
def test_a_value_typed_on_the_command_line_never_reaches_the_store(
    tmp_path_factory: pytest.TempPathFactory, value: str, case: str
) -> None:
    """End to end, in-process: the value goes through argv, the app quotes it in an
    exception in another case, and no byte of the store holds it."""
    assume(value.casefold() not in COMMON_WORDS and value.casefold() != "fetch")
    assume(sum(c.isalpha() for c in value) >= 2)  # a number could be any figure
    base = tmp_path_factory.mktemp("store")
    app = typer.Typer()
    telemetry = Telemetry("inv", version="1.0", directory=base, identity={})
    telemetry.install(app)

    @app.command()
    def other() -> None:
        pass

    @app.command()
    def fetch(item: str) -> None:
        shown = {"as-is": item, "lower": item.lower(), "upper": item.upper()}[case]
        raise RuntimeError(f"cannot fetch {shown}!")

    result = CliRunner().invoke(app, ["fetch", value, "--telemetry"])
    assert isinstance(result.exception, RuntimeError)
    documents = (base / "inv").glob("*.json")
    # hashes and ids are random hex and base32: a value may turn up in them by chance
    text = _HASH_OR_ID.sub("#", "".join(p.read_text() for p in documents))
    for form in _forms(value):
        assert form.decode() not in text
    store_documents(base / "inv")


# -- the machine's identity, injected ----------------------------------------------------


def test_machine_values_read_the_environment_and_the_system() -> None:
    env = {"USER": "qzuser", "HOSTNAME": "localhost", "HOME": "/home/qzuser", "PWD": "/"}
    assert machine_values({"USER": "root", "LOGNAME": "nobody"}, system={}) == {}
    values = machine_values(env, system={"Quentin Zylberstein": "user", "qzbox": "host"})
    assert values == {
        "qzuser": "user",
        "/home/qzuser": "directory",
        "Quentin Zylberstein": "user",
        "qzbox": "host",
    }


def test_system_identity_reads_host_names_from_files_only() -> None:
    import os

    node = os.uname().nodename
    files = {
        "/etc/hostname": f"{node}\n",
        "/etc/hosts": f"127.0.0.1 localhost\n10.1.2.3 {node}.corp.example {node} # me\n"
        "10.9.9.9 other.example\n",
    }
    values = system_identity(read=lambda path: files.get(path, ""))
    assert values[f"{node}.corp.example"] == "host" and values[node] == "host"
    assert "localhost" not in values and "other.example" not in values
    assert values[os.getcwd()] == "directory"


def test_identity_given_to_telemetry_is_redacted(tmp_path: Path) -> None:
    app = typer.Typer()
    identity = {"qzthrow": "user", "Quentin Zylberstein": "user", "qz-box-7781": "host"}
    telemetry = Telemetry("ident", version="1.0", directory=tmp_path, identity=identity)
    telemetry.install(app)

    @app.command()
    def other() -> None:
        pass

    @app.command()
    def go() -> None:
        raise RuntimeError("no session for QZTHROW (quentin zylberstein) on qz-box-7781.lan")

    CliRunner().invoke(app, ["go", "--telemetry"])
    documents = assert_store_clean(
        tmp_path / "ident", ["qzthrow", "quentin", "zylberstein", "qz-box-7781"]
    )
    assert _message(documents) == (
        "no session for <redacted:user> (<redacted:user>) on <redacted:host>.lan"
    )


# -- cost ----------------------------------------------------------------------------------

_PROBE = r"""
import json, sys
sys.argv = ["hostapp", *sys.argv[1:]]
import hostapp
try:
    hostapp.app()
except BaseException:
    pass
print(json.dumps(sorted(m for m in sys.modules if m.startswith("localtelemetry"))), file=sys.stderr)
"""


@pytest.mark.parametrize(("args", "loaded"), [(["ok", "src"], False), (["boom"], True)])
def test_known_values_and_the_scrubber_load_only_for_a_message(
    tmp_path: Path, args: list[str], loaded: bool
) -> None:
    """A run without a message never imports the scrubber or reads the machine's
    identity (issue 14 budgets the recording path)."""
    home = tmp_path / "home"
    home.mkdir()
    env = clean_env(tmp_path / "store", home, PYTHONPATH=f"{TESTS.parent}:{TESTS}")
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, "--telemetry", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    modules = set(json.loads(proc.stderr.strip().splitlines()[-1]))
    assert "localtelemetry._record.recorder" in modules  # it recorded
    assert ("localtelemetry._record.known" in modules) is loaded
    assert ("localtelemetry._record.scrub" in modules) is loaded


def test_a_huge_command_line_compiles_only_the_values_a_message_quotes() -> None:
    """`mycli lint $(find .)` may hand a run tens of thousands of values; a message
    pays only for those it quotes."""
    values = [(f"src/pkg{i}/module{i}.py", "argument") for i in range(20_000)]
    redactor = Redactor(values)
    text = "lint failed in src/pkg7/module7.py and SRC/PKG19999/MODULE19999.PY"
    pattern = redactor._pattern(text)
    # the two paths quoted, and those of their parts that are in the text
    assert pattern is not None and pattern.pattern.count("|") < 20
    out = SafeValues(HASHER).message(text, lambda: redactor)
    assert out is not None and "pkg7" not in out.lower() and "19999" not in out


def test_the_apps_own_names_stay_readable_in_every_message(tmp_path: Path) -> None:
    app = typer.Typer()
    telemetry = Telemetry("own", version="1.0", directory=tmp_path, identity={})
    telemetry.install(app)

    @app.command()
    def other() -> None:
        pass

    @app.command("compile")
    def compile_(target: str, optimize: bool = typer.Option(False, "--optimize")) -> None:
        with telemetry.build("compile"):
            raise RuntimeError(f"compile --optimize failed for {target}")

    CliRunner().invoke(app, ["compile", "qz-target-7", "--optimize", "--telemetry"])
    documents = assert_store_clean(tmp_path / "own", ["qz-target-7"])
    expected = "compile --optimize failed for <redacted:argument>"
    assert _message(documents) == _message(documents, "build") == expected


def test_numbers_answered_at_a_prompt_are_known(tmp_path: Path) -> None:
    import click
    from click.testing import CliRunner as ClickRunner

    @click.command()
    @click.option("--account", type=int, prompt=True)
    def cli(account: int) -> None:
        raise KeyError(f"no account {account}")

    Telemetry("prompted", version="1.0", directory=tmp_path, identity={}).install(cli)
    ClickRunner().invoke(cli, ["--telemetry"], input="4155550199\n")
    documents = assert_store_clean(tmp_path / "prompted", [])
    assert _message(documents) == "'no account <redacted:argument>'"
