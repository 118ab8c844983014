"""The maintainer's commands (``report``, ``ingest``, ``inspect``, ``validate``) hold to
the convention of docs/user-guide.md, run through the console entry point itself
(``localtelemetry._cli.app.main``, in-process; a few as real subprocesses):

- exit code 0 on success, 1 when the operation failed, 2 for bad input or usage;
- an error is exactly one line on stderr, ``error: ...``, and no traceback; with text
  output nothing else is printed;
- ``--format json`` prints exactly one JSON object on stdout: on success
  ``{"localtelemetry": 1, "command", "ok": true, "result"}``, on error
  ``{"localtelemetry": 1, "command", "ok": false, "error": {"message", "exit_code"}}``
  whose message is the stderr line's.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from localtelemetry._cli.app import main, make_app

import hostapp
from conftest import clean_env

ENVELOPE_OK = {"localtelemetry", "command", "ok", "result"}


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding ``b.zip`` (a bundle of the 6 documents of two recorded runs),
    ``store/`` (the store it came from), ``invalid.json``, ``garbage.zip``, ``empty/``
    and ``exists.txt``."""
    root = tmp_path_factory.mktemp("maintainer")
    env = {"LOCALTELEMETRY_DIR": str(root / "store")}
    for args in (["--telemetry", "ok"], ["--telemetry", "fail"]):
        CliRunner().invoke(hostapp.app, args, env=env)
    exported = CliRunner().invoke(
        make_app(None), ["export", "--app", "hostapp", "-o", str(root / "b.zip")], env=env
    )
    assert exported.exit_code == 0, exported.output
    snapshot = next((root / "store" / "hostapp").glob("snapshot-*.json"))
    document = json.loads(snapshot.read_text())
    document["payload"]["not_in_the_schema"] = 1
    (root / "invalid.json").write_text(json.dumps(document))
    (root / "garbage.zip").write_bytes(b"PK\x03\x04 not really a zip")
    (root / "empty").mkdir()
    (root / "exists.txt").write_text("keep me")
    return root


def _main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of ``localtelemetry ARGS``, in-process."""
    capsys.readouterr()
    old = sys.argv
    sys.argv = ["localtelemetry", *args]
    try:
        with pytest.raises(SystemExit) as done:
            main()
    finally:
        sys.argv = old
    out, err = capsys.readouterr()
    code = done.value.code
    return (code if isinstance(code, int) else 1), out, err


def _one_error_line(err: str) -> str:
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert err.startswith("error: ") and "Traceback" not in err
    return err[len("error: ") : -1]


def _one_object(out: str) -> dict[str, Any]:
    value = json.loads(out)  # refuses anything after the object
    assert isinstance(value, dict)
    return value


# -- errors: the code, one stderr line, and the JSON envelope -------------------------------

ERRORS = [
    # (arguments, exit code, command in the envelope, what the message says)
    (["report", "missing.zip"], 2, "report", "missing.zip does not exist"),
    (["report", "garbage.zip"], 2, "report", "not a zip file"),
    (["report", "empty"], 1, "report", "no documents found in the sources"),
    (["report", "b.zip", "--jobs", "-1"], 2, "report", "--jobs must be 0 or more"),
    (["report", "b.zip", "-o", "exists.txt"], 2, "report", "already exists"),
    (["report", "b.zip", "-o", "no/such/dir/r.txt"], 2, "report", "does not exist"),
    (["report", "b.zip", "--bogus"], 2, "usage", "No such option: --bogus"),
    (["report"], 2, "usage", "Missing argument 'SOURCES'"),
    (["inspect", "missing.zip"], 2, "inspect", "does not exist"),
    (["inspect", "garbage.zip"], 2, "inspect", "not a zip file"),
    (["inspect", "empty"], 2, "inspect", "not a regular file"),
    (["inspect", "b.zip", "--extract", "exists.txt"], 2, "inspect", "is not a directory"),
    (["ingest", "b.zip", "--into", "nope"], 2, "ingest", "unknown target 'nope'"),
    (["ingest", "b.zip", "--into", "duckdb::memory:"], 2, "ingest", "keeps nothing"),
    (["ingest", "missing.zip", "--into", "duckdb:x.db"], 2, "ingest", "does not exist"),
    (["ingest", "b.zip"], 2, "usage", "Missing option '--into'"),
    (["validate", "missing.json"], 2, "validate", "does not exist"),
]


@pytest.mark.parametrize(
    ("args", "code", "command", "says"), ERRORS, ids=[" ".join(e[0]) for e in ERRORS]
)
def test_an_error_is_one_line_its_exit_code_and_one_json_object(
    work: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    code: int,
    command: str,
    says: str,
) -> None:
    monkeypatch.chdir(work)
    before = sorted(p.name for p in work.iterdir())
    text_code, out, err = _main(args, capsys)
    assert text_code == code
    message = _one_error_line(err)
    assert says in message
    assert out == ""
    json_code, out, err = _main([*args, "--format", "json"], capsys)
    assert json_code == code
    assert _one_error_line(err) == message
    assert _one_object(out) == {
        "localtelemetry": 1,
        "command": command,
        "ok": False,
        "error": {"message": message, "exit_code": code},
    }
    assert sorted(p.name for p in work.iterdir()) == before  # a failed command writes nothing
    assert (work / "exists.txt").read_text() == "keep me"


# -- success: exit 0, nothing on stderr, one envelope with the result ----------------------


def test_report_json(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _main(["report", str(work / "b.zip"), "--format", "json"], capsys)
    assert (code, err) == (0, "")
    envelope = _one_object(out)
    assert set(envelope) == ENVELOPE_OK
    assert (envelope["localtelemetry"], envelope["command"], envelope["ok"]) == (1, "report", True)
    result = envelope["result"]
    assert result["documents"] == 6 and result["runs"] == 2
    assert result["sources"]["bundles"] == 1 and result["sources"]["skipped"] == 0


def test_report_to_a_file_prints_a_summary_envelope(
    work: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "report.json"
    args = ["report", str(work / "b.zip"), "--format", "json", "-o", str(target)]
    code, out, err = _main(args, capsys)
    assert (code, err) == (0, "")
    summary = _one_object(out)["result"]
    written = json.loads(target.read_text())
    assert summary["written"] == str(target) and summary["bytes"] == target.stat().st_size
    assert summary["documents"] == written["documents"] == 6
    # A second run would replace it: refused without --force, done with it.
    assert _main(args, capsys)[0] == 2
    assert _main([*args, "--force"], capsys)[0] == 0


def test_report_text_and_html_print_no_envelope(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _main(["report", str(work / "b.zip")], capsys)
    assert (code, err) == (0, "")
    assert re.search(
        r"^documents:\s+6 \(build 1, cli-command 2, run-summary 2, snapshot 1\)$", out, re.M
    )
    assert re.search(r"^runs:\s+2 commands, 1 failed \(50\.0%\)$", out, re.M)
    code, out, err = _main(["report", str(work / "b.zip"), "--format", "html"], capsys)
    assert (code, err) == (0, "")
    assert out.lstrip().lower().startswith("<!doctype html>")


def test_inspect_json(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _main(["inspect", str(work / "b.zip"), "--format", "json"], capsys)
    assert (code, err) == (0, "")
    envelope = _one_object(out)
    assert set(envelope) == ENVELOPE_OK and envelope["command"] == "inspect"
    result = envelope["result"]
    assert result["verified"] is True and result["documents"] == 6
    assert result["by_kind"] == {"cli-command": 2, "build": 1, "snapshot": 1, "run-summary": 2}


def test_validate_exit_codes_and_json(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    valid = next((work / "store" / "hostapp").glob("build-*.json"))
    code, out, err = _main(["validate", str(valid), "--format", "json"], capsys)
    assert (code, err) == (0, "")
    result = _one_object(out)["result"]
    assert (result["checked"], result["valid"], result["invalid"]) == (1, 1, 0)
    # An invalid document is a failed check (1), reported as a result, not a usage error.
    args = ["validate", str(valid), str(work / "invalid.json"), "--format", "json"]
    code, out, err = _main(args, capsys)
    assert (code, err) == (1, "")
    envelope = _one_object(out)
    assert set(envelope) == ENVELOPE_OK and envelope["command"] == "validate"
    result = envelope["result"]
    assert (result["checked"], result["valid"], result["invalid"]) == (2, 1, 1)
    (bad,) = [r for r in result["results"] if not r["valid"]]
    assert bad["file"] == str(work / "invalid.json")
    assert any("not_in_the_schema" in e for e in bad["errors"])


def test_ingest_json(work: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    pytest.importorskip("duckdb")
    into = f"duckdb:{tmp_path / 'lt.duckdb'}"
    code, out, err = _main(
        ["ingest", str(work / "b.zip"), "--into", into, "--format", "json"], capsys
    )
    assert (code, err) == (0, "")
    envelope = _one_object(out)
    assert set(envelope) == ENVELOPE_OK and envelope["command"] == "ingest"
    assert envelope["result"]["target"] == into
    assert "lt_cli_commands" in envelope["result"]["tables"]


# -- the same through a real process ---------------------------------------------------------


def test_as_a_real_process(work: Path, tmp_path: Path) -> None:
    env = clean_env(tmp_path / "store", tmp_path)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "localtelemetry", *args],
            env=env,
            cwd=work,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    ok = run("inspect", "b.zip", "--format", "json")
    assert ok.returncode == 0 and ok.stderr == ""
    assert _one_object(ok.stdout)["result"]["documents"] == 6
    bad = run("report", "garbage.zip", "--format", "json")
    assert bad.returncode == 2
    message = _one_error_line(bad.stderr)
    assert _one_object(bad.stdout)["error"] == {"message": message, "exit_code": 2}
    failed = run("report", "empty")
    assert (failed.returncode, failed.stdout) == (1, "")
    assert _one_error_line(failed.stderr) == "no documents found in the sources"
