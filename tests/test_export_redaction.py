"""Issue 11: user-controlled redaction at export (--redact, --redact-file, --no-messages),
this machine's identifying values redacted at export, and --preview listing every
free-text string a bundle would share. Planted values are searched for in every
decompressed byte of each bundle, as written and in lower and upper case; every bundle is
verified with inspect and every document validated against schema/."""

from __future__ import annotations

import io
import json
import os
import platform
import re
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from export_helpers import (
    cli,
    content_strings,
    manifest_of,
    members,
    plant,
    record_runs,
    recording_app,
    schema_errors,
    verified,
    without_own_text,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from localtelemetry import Telemetry
from localtelemetry._record import known as known_module
from localtelemetry._share import redact as redact_module
from localtelemetry._share.export import Redaction, Selection, export
from localtelemetry._share.redact import MIN_WORD_LENGTH, Redactor, machine_values
from localtelemetry._store.store import Store

from conftest import clean_env

# Planted values: each has a letter outside hexadecimal and Crockford base32 (i, l, o, u,
# or a capital), so no hash or id can hold it by chance.
WORD = "quentinfictive"
FILE_WORD = "Zanzibar Holdings"
REGEX_VALUE = "ticket-ABQ-88213"
LOGIN = "ulrikmachine"
REAL_NAME = "Ulrika Mockingbird"
HOST_SHORT = "buildhost-lulu"
HOST_FQDN = "buildhost-lulu.intra.example"
HOME = "/home/ulrikmachine"


def _message() -> str:
    return (
        f"sync failed for {WORD.upper()} at {FILE_WORD.lower()} ({REGEX_VALUE}); "
        f"session of {LOGIN} ({REAL_NAME}) on {HOST_FQDN} and {HOST_SHORT.title()}, "
        f"home {HOME}/notes.txt; details in ~/{LOGIN}.log"
    )


def _redact_file(tmp_path: Path) -> Path:
    path = tmp_path / "redact.txt"
    path.write_text(
        "# people and customers\n"
        "\n"
        f"  {FILE_WORD}  \n"
        r"re:ticket-[A-Z]{3}-\d{5}" + "\n",
        encoding="utf-8",
    )
    return path


def _machine(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """This process as if it ran for LOGIN on HOST: the operating system says so (the
    password database, uname and the hosts file, as ``_known.system_identity`` reads
    them), the environment too."""
    system = {LOGIN: "user", REAL_NAME: "user", "Room 4": "user", "555-0100": "user"}
    system.update({HOME: "directory", HOST_SHORT: "host", HOST_FQDN: "host"})
    monkeypatch.setattr(known_module, "system_identity", lambda: system)
    return {"USER": LOGIN, "HOSTNAME": HOST_SHORT}


PLANTED = [WORD, FILE_WORD, REGEX_VALUE, LOGIN, REAL_NAME, HOST_SHORT, HOST_FQDN, HOME]


def _assert_absent(bundle: Path, values: list[str]) -> None:
    """No value in any decompressed byte of the bundle: as written, lower, upper and
    title case, and in no case at all."""
    blob = b"\n".join(members(bundle).values())
    for value in values:
        for form in {value, value.lower(), value.upper(), value.title()}:
            assert form.encode() not in blob, f"{form!r} reached {bundle.name}"
        assert value.lower().encode() not in blob.lower(), value


@pytest.fixture
def planted_store(base: Path) -> Path:
    record_runs(recording_app())
    store = base / "privy"
    plant(store, message=_message(), word=WORD)
    return store


def test_redact_words_file_and_machine_values_never_reach_the_bundle(
    planted_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = _machine(monkeypatch)
    before = b"\n".join(p.read_bytes() for p in planted_store.glob("*.json"))
    for value in PLANTED:
        assert value.lower().encode() in before.lower(), value
    bundle = tmp_path / "b.zip"
    result = cli(
        [
            "export",
            "--app",
            "privy",
            "-o",
            str(bundle),
            "--redact",
            WORD,
            "--redact-file",
            str(_redact_file(tmp_path)),
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    documents = verified(bundle)
    _assert_absent(bundle, [*PLANTED, *REAL_NAME.split()])
    manifest = manifest_of(bundle)
    subs = manifest["redaction"]["substitutions"]
    assert subs["user-redaction"] > 0 and subs["machine-value"] > 0
    assert manifest["redaction"]["names_hashed"] > 0
    assert (
        manifest["counts"]["documents"] == len(documents) == len(list(planted_store.glob("*.json")))
    )
    messages = [
        d["payload"]["error_message"]
        for _, d in documents
        if d["payload"].get("error_message") is not None
    ]
    assert messages and all("<redacted:user-redaction>" in m for m in messages)
    assert all("<redacted:machine-value>" in m for m in messages)
    assert all("sync failed for" in m and "session of" in m for m in messages)  # the rest stays
    # Names that held a word are hashed; fixed-format fields keep their shape.
    for _, document in documents:
        payload = document["payload"]
        assert document["app"]["version"] == "1.0+redacted"
        if document["kind"] == "build":
            assert payload["name"].startswith("h:")
            assert payload["phases"][0]["name"].startswith("h:")
            assert payload["counters"]["rows"] == 2 and len(payload["counters"]) == 2
        if document["kind"] == "cli-command":
            assert payload["flags"] == ["--redacted-mode"]
            assert payload["command_path"][0].startswith("h:")


def test_redaction_in_a_real_subprocess(planted_store: Path, tmp_path: Path) -> None:
    """The real command line: options parsed by the installed entry point, the machine's
    values read from its environment (the login and host names given as variables)."""
    home = tmp_path / "home"
    home.mkdir()
    env = clean_env(planted_store.parent, home, USER=LOGIN, LOGNAME=LOGIN, HOSTNAME=HOST_FQDN)
    env["HOME"] = HOME  # a home that does not exist: only its name matters here
    bundle = tmp_path / "sub.zip"
    proc = subprocess.run(
        [sys.executable, "-m", "localtelemetry", "export", "--app", "privy", "-o", str(bundle),
         "--redact", WORD.lower(), "--redact-file", str(_redact_file(tmp_path)),
         "--format", "json"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)["result"]
    assert summary["redaction"]["substitutions"]["user-redaction"] > 0
    verified(bundle)
    _assert_absent(bundle, [WORD, FILE_WORD, REGEX_VALUE, LOGIN, HOST_SHORT, HOST_FQDN, HOME])


def test_no_messages_leaves_no_free_text(planted_store: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "quiet.zip"
    result = cli(["export", "--app", "privy", "-o", str(bundle), "--no-messages"])
    assert result.exit_code == 0, result.output
    assert "free text left out (--no-messages)" in result.stdout
    documents = verified(bundle)
    for _, document in documents:
        if "error_message" in document["payload"]:
            assert document["payload"]["error_message"] is None
    blob = b"\n".join(members(bundle).values())
    assert b"sync failed" not in blob and b"session of" not in blob
    dropped = manifest_of(bundle)["redaction"]["substitutions"]["messages-dropped"]
    assert dropped == sum(1 for p in planted_store.glob("*.json") if "sync failed" in p.read_text())
    # Said in the manifest even when there was no message to drop.
    only = tmp_path / "snapshots.zip"
    assert cli(["export", "--app", "privy", "-o", str(only), "--kind", "snapshot",
                "--no-messages"]).exit_code == 0  # fmt: skip
    verified(only)
    assert manifest_of(only)["redaction"]["substitutions"] == {"messages-dropped": 0}


def _normalized(text: str) -> str:
    """Hashes come from a fresh key in every bundle (and every preview)."""
    return re.sub(r"[0-9a-f]{32}", "HASH", text)


def _bundle_free_text(bundle: Path) -> list[tuple[str, str, str]]:
    found = []
    for name, document in verified(bundle):
        message = document["payload"].get("error_message")
        if isinstance(message, str):
            found.append((name.split("/")[1], "payload.error_message", _normalized(message)))
    return sorted(found)


@pytest.mark.parametrize("options", [[], ["--redact", WORD], ["--no-messages"]])
def test_preview_lists_exactly_the_free_text_the_bundle_holds_and_writes_nothing(
    planted_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, options: list[str]
) -> None:
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    result = cli(["export", "--app", "privy", "--preview", "--format", "json", *options])
    assert result.exit_code == 0, result.output
    assert list(here.iterdir()) == []
    preview = json.loads(result.stdout)["result"]
    listed = sorted(
        (e["kind"], e["field"], _normalized(e["text"]))
        for e in preview["free_text"]
        for _ in range(e["count"])
    )
    bundle = tmp_path / "b.zip"
    assert cli(["export", "--app", "privy", "-o", str(bundle), *options]).exit_code == 0
    assert listed == _bundle_free_text(bundle)
    if "--no-messages" in options:
        assert listed == [] and preview["messages"] == "dropped"
    else:
        assert listed
    text = cli(["export", "--app", "privy", "--preview", *options])
    assert text.exit_code == 0 and list(here.iterdir()) == []
    if "--no-messages" in options:
        assert "free text: none (--no-messages" in text.stdout
    else:
        assert "free text that would be shared (" in text.stdout
        for entry in preview["free_text"]:
            shown = json.dumps(entry["text"], ensure_ascii=False)
            assert _normalized(shown) in _normalized(text.stdout)
            assert f"{entry['count']}x" in text.stdout
    if WORD in options:
        assert WORD not in text.stdout.lower() and WORD.upper() not in text.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("re:([a-z]+\n", "line 1: bad regular expression"),
        ("ok-word\nre:x*\n", "line 2: regular expression 'x*' matches the empty string"),
        ("ab\n", "line 1: 'ab' is shorter than 3 characters"),
        (b"\xff\xfe not utf-8", "not UTF-8 text"),
    ],
)
def test_a_bad_redact_file_is_one_line_and_exit_2(
    planted_store: Path, tmp_path: Path, content: str | bytes, message: str
) -> None:
    path = tmp_path / "bad.txt"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    bundle = tmp_path / "never.zip"
    result = cli(["export", "--app", "privy", "-o", str(bundle), "--redact-file", str(path)])
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1 and message in result.stderr
    assert str(path) in result.stderr
    assert not bundle.exists()


def test_unreadable_redact_file_and_short_word_are_exit_2(
    planted_store: Path, tmp_path: Path
) -> None:
    missing = cli(["export", "--app", "privy", "--redact-file", str(tmp_path / "nope.txt")])
    assert missing.exit_code == 2 and "cannot read it" in missing.stderr
    assert missing.stderr.count("\n") == 1
    short = cli(["export", "--app", "privy", "--redact", "ab", "--preview"])
    assert short.exit_code == 2 and "shorter than 3 characters" in short.stderr
    json_out = cli(["export", "--app", "privy", "--redact", "ab", "--format", "json"])
    assert json_out.exit_code == 2 and json.loads(json_out.stdout)["ok"] is False


def test_redact_file_syntax(tmp_path: Path) -> None:
    path = tmp_path / "r.txt"
    path.write_text(
        "\ufeff# a comment\n\n   \n  Alice Example  \n#not-a-word\nre: [0-9]{3}-x\nre:^lead\n"
    )
    words, regexes = redact_module.read_redact_file(path)
    assert words == ["Alice Example"]
    assert regexes == [" [0-9]{3}-x", "^lead"]  # the rest of the line, exactly as written


def test_machine_values_rules(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # What the operating system says (the recorder's ``_known.system_identity``).
    system = {
        "Jo Ann Sample": "user",  # the real name of the account (GECOS)
        "Room 7": "user",
        "/root": "directory",
        "ci-box-7.corp.example": "host",
        "ci-box-7": "host",
        "/srv/work/qa": "directory",
    }
    env = {"USER": "runner", "HOME": "/home/qa-person", "USERDOMAIN": "ACME"}
    values = machine_values(env, system=system)
    assert {"Jo Ann Sample", "Sample", "Room 7", "ci-box-7.corp.example", "ci-box-7"} <= values
    assert {"/home/qa-person", "\\home\\qa-person", "ACME", "/srv/work/qa"} <= values
    # Too short or too common to identify anyone: never redacted.
    assert not {"root", "runner", "/root", "Jo"} & values
    assert all(len(v) >= MIN_WORD_LENGTH for v in values)
    # The operating system's own answer includes the working directory.
    monkeypatch.chdir(tmp_path)
    assert str(tmp_path) in machine_values({})
    # A short value only as a whole word; a longer one anywhere.
    text, counts = Redactor(machine=values).free_text("annual report by ann, Sample-Sampler")
    assert text == (
        "annual report by <redacted:machine-value>, "
        "<redacted:machine-value>-<redacted:machine-value>r"
    )
    assert counts == {"machine-value": 3}


def test_fixed_format_fields_take_another_replacement_or_leave_the_document_out(
    base: Path, tmp_path: Path
) -> None:
    """'act' is inside 'redacted', so a flag or version holding it is cleaned with the next
    replacement word; a value no replacement can clean leaves its document out (counted
    as invalid) rather than sharing it."""
    record_runs(recording_app())
    plant(base / "privy", message="nothing here", word="actor")
    bundle = tmp_path / "b.zip"
    result = cli(["export", "--app", "privy", "-o", str(bundle), "--redact", "act"])
    assert result.exit_code == 0, result.output
    for _, document in verified(bundle):
        assert document["app"]["version"] == "1.0+removedor"
        if document["kind"] == "cli-command":
            assert document["payload"]["flags"] == ["--removedor-mode"]
        if document["kind"] == "build":
            assert document["payload"]["inputs"][0]["path"]["extension"] == ".removedor"
        # 'act' stays in the format's own words ("redaction", "exact" in README.txt), and
        # nowhere else.
        for where, text in content_strings(document):
            assert "act" not in without_own_text(text).lower(), (where, text)
    rules = tmp_path / "letters.txt"
    rules.write_text("re:[a-z]{3}\n")
    never = tmp_path / "never.zip"
    result = cli(["export", "--app", "privy", "-o", str(never), "--redact-file", str(rules)])
    assert result.exit_code == 1, result.output  # every document's app.version held one
    assert "skipped as unreadable or invalid" in result.stderr and not never.exists()


# -- Hypothesis: any word of the minimum length or more never survives -----------------

_WORD_CHARS = st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"))


@given(
    word=st.text(_WORD_CHARS, min_size=MIN_WORD_LENGTH, max_size=12).filter(lambda w: w.strip()),
    before=st.text(_WORD_CHARS, max_size=30),
    after=st.text(_WORD_CHARS, max_size=30),
    shout=st.booleans(),
)
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_redacted_word_never_survives(
    tmp_path: Path, word: str, before: str, after: str, shout: bool
) -> None:
    word = word.strip()
    if len(word) < MIN_WORD_LENGTH:
        return
    directory = tmp_path / os.urandom(4).hex()
    telemetry = Telemetry("fuzz", version="1", directory=directory, stderr=io.StringIO())
    planted = word.upper() if shout else word
    run = telemetry.begin_run(True)
    assert run is not None
    telemetry.snapshot(f"s{planted}", counts={planted: 1, "plain": 2})

    def failing_build() -> None:
        with telemetry.build(planted) as b:
            b.count(f"n{planted}", 1)
            b.warning(planted)
            with b.phase(f"p-{planted}"):
                pass
            raise ValueError(before + planted + after + " / " + planted)

    with pytest.raises(ValueError, match=r"(?s).*"):
        failing_build()
    telemetry.end_run(run, 1)
    bundle = tmp_path / f"{os.urandom(4).hex()}.zip"
    export(
        Store(telemetry.location),
        target=bundle,
        force=False,
        selection=Selection(),
        keep_hashes=False,
        now=datetime.now(timezone.utc),
        redaction=Redaction(words=(word,)),
    )
    pattern = re.compile(re.escape(word), re.IGNORECASE)
    documents = verified(bundle)
    assert documents
    for name, document in documents:
        assert not schema_errors(document)
        for where, text in content_strings(document):
            left = without_own_text(text)
            assert not pattern.search(left), (name, where, text)


def test_redactor_counts_and_protects_markers() -> None:
    redactor = Redactor(words=["secret-thing", "path"], regexes=[r"(?=x)", r"id-\d+"])
    text, counts = redactor.free_text(
        "SECRET-THING at <path:0123456789abcdef0123456789abcdef.txt> path id-42 x"
    )
    assert text == (
        "<redacted:user-redaction> at <path:0123456789abcdef0123456789abcdef.txt> "
        "<redacted:user-redaction> <redacted:user-redaction> x"
    )
    assert counts == {"user-redaction": 3}  # a look-ahead alone hides nothing
    assert redactor.count("no match here") is None
    both = Redactor(words=["shared-value"], machine=["Shared-Value"])
    assert both.free_text("shared-value")[1] == {"machine-value": 1}


def test_the_schema_decides_what_is_free_text_and_what_is_made_by_localtelemetry() -> None:
    """Free text is every field of the ``message`` definition (found in the schema files
    here, independently); every envelope node export never searches for known values
    exists, so a change of the schemas cannot silently move a field out of reach."""
    from localtelemetry._share.projection import MACHINE_MADE, free_text_fields, machine_made_nodes

    from conftest import ROOT

    for kind in ("cli-command", "build", "snapshot", "run-summary"):
        text = (ROOT / "schema" / f"{kind}.schema.json").read_text()
        refs = re.findall(r'"([a-z_]+)": \{\s*"\$ref": "[^"]*#/\$defs/message"', text)
        assert sorted(".".join(p) for p in free_text_fields(kind)) == sorted(
            f"payload.{name}" for name in refs
        )
    from localtelemetry._contract.schemas import load_schema, resolve

    # Each kind's schema has its own copy of the shared definitions: the nodes export
    # never searches are found in every one (the hash definition where it is used).
    for kind in ("cli-command", "build", "snapshot", "run-summary"):
        schema = load_schema(kind)
        for pointer in MACHINE_MADE:
            if pointer == "/$defs/hash" and "hash" not in schema["$defs"]:
                continue
            assert id(resolve({"$ref": "#" + pointer}, schema)[0]) in machine_made_nodes()


def test_values_localtelemetry_makes_are_never_searched_for_words(
    base: Path, tmp_path: Path
) -> None:
    """Regression: the nodes export leaves alone were looked up in the envelope's schema
    only, while documents are walked with their own kind's copy of those definitions, so
    ``--redact 3.11`` took the Python version apart and every document was left out."""
    record_runs(recording_app(), runs=1)
    python = "{}.{}".format(*sys.version_info[:2])
    bundle = tmp_path / "b.zip"
    result = cli(["export", "--app", "privy", "-o", str(bundle), "--redact", python])
    assert result.exit_code == 0, result.output
    documents = [d for _, d in verified(bundle)]
    assert documents
    assert {d["environment"]["python"] for d in documents} == {platform.python_version()}


def test_a_word_the_length_cap_would_cut_is_taken_out_whole(base: Path, tmp_path: Path) -> None:
    """Messages are capped at 500 characters; scrubbing at export makes this one longer
    (the path becomes a 42-character token), which puts the word across the cut: it must
    not leave its first half behind."""
    record_runs(recording_app(), runs=1)
    cut = "x" * 438 + " /srv/data/b.txt " + WORD + " end"
    assert len(cut) <= 500
    plant(base / "privy", message=cut, word="plain")
    bundle = tmp_path / "b.zip"
    assert cli(["export", "--app", "privy", "-o", str(bundle), "--redact", WORD]).exit_code == 0
    messages = [d["payload"].get("error_message") for _, d in verified(bundle)]
    messages = [m for m in messages if m]
    assert messages and all(len(m) <= 500 for m in messages)
    assert all(WORD[:4] not in m for m in messages), messages[0][-40:]
