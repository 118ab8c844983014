"""The management commands: standalone (`localtelemetry`) and mounted (`mycli telemetry`)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from localtelemetry import Telemetry
from localtelemetry._cli.app import MOUNTED_COMMANDS, STANDALONE_COMMANDS, make_app
from localtelemetry._integration import mount_of

import hostapp
from conftest import ROOT, clean_env, store_documents


def standalone(args: list[str], **kw: Any) -> Any:
    return CliRunner().invoke(make_app(None), args, **kw)


def _record(n: int = 1, args: list[str] | None = None) -> None:
    for _ in range(n):
        result = CliRunner().invoke(hostapp.app, ["--telemetry", *(args or ["ok"])])
        assert result.exit_code in (0, 1, 2, 3)


def _json(result: Any) -> dict[str, Any]:
    value = json.loads(result.stdout)  # exactly one JSON object and nothing else
    assert isinstance(value, dict)
    return value


def test_mounted_status_before_the_first_recorded_run_creates_nothing(base: Path) -> None:
    # Mounted, the app is known: a store that does not exist yet is simply empty.
    result = CliRunner().invoke(hostapp.app, ["telemetry", "status"])
    assert result.exit_code == 0, result.output
    assert "not created yet" in result.stdout
    assert not base.exists()


def test_standalone_commands_refuse_an_app_without_a_store(base: Path) -> None:
    # Standalone, --app names a store: a typo is an error with the closest names.
    _record()
    for args in (
        ["status"],
        ["list"],
        ["show", "0000"],
        ["validate"],
        ["purge", "--yes"],
        ["reset-key"],
        ["export"],
        ["explain"],
        ["schema"],
    ):
        result = standalone([*args, "--app", "hostap"])
        assert result.exit_code == 2, (args, result.output)
        assert result.stderr == (
            f"error: no store for app 'hostap' in {base}; did you mean 'hostapp'?\n"
        ), args
        assert result.stdout == ""
    far = standalone(["status", "--app", "zzz"])
    assert far.exit_code == 2
    assert "(stores there: hostapp; 'localtelemetry apps' lists them)" in far.stderr
    assert sorted(p.name for p in base.iterdir()) == ["hostapp"]  # nothing was created


def test_unknown_app_in_an_empty_base_says_how_stores_appear(base: Path) -> None:
    result = standalone(["list", "--app", "mycli", "--format", "json"])
    assert result.exit_code == 2
    assert "first run with --telemetry" in result.stderr
    assert _json(result)["error"]["exit_code"] == 2
    assert not base.exists()


def test_status_counts_and_json(base: Path) -> None:
    _record(2)
    data = _json(standalone(["status", "--app", "hostapp", "--format", "json"]))
    assert data["ok"] is True and data["command"] == "status"
    result = data["result"]
    assert result["documents"] == 8
    assert result["by_kind"]["cli-command"]["count"] == 2
    assert re.fullmatch(r"[0-9a-f]{16}", result["key_id"])
    # Standalone status cannot see hostapp's Telemetry(limits=...): it shows the limits
    # its last recorded run applied, kept in the store's .retention file.
    assert result["limits"]["max_documents"] == 100_000
    assert result["limits_source"] == "recorded"
    assert result["store"] == str(base / "hostapp")
    text = standalone(["status", "--app", "hostapp"]).stdout
    assert (
        "limits:     100000 documents, 1.0 GB, 30 days "
        "(oldest removed first; as set by the app's last recorded run)\n"
    ) in text
    mounted = _json(CliRunner().invoke(hostapp.app, ["telemetry", "status", "--format", "json"]))
    assert mounted["result"]["limits_source"] == "app"
    assert mounted["result"]["limits"] == result["limits"]


def test_status_shows_active_overrides(base: Path) -> None:
    result = CliRunner().invoke(hostapp.app, ["telemetry", "status"], env={"DO_NOT_TRACK": "yes"})
    assert "DO_NOT_TRACK is set" in result.stdout


def test_list_filters(base: Path) -> None:
    _record(2)
    _record(1, ["fail"])
    data = _json(
        standalone(["list", "--app", "hostapp", "--kind", "cli-command", "--format", "json"])
    )
    rows = data["result"]["documents"]
    assert len(rows) == 3 and {r["kind"] for r in rows} == {"cli-command"}
    assert "fail: failure (exit 3) Exit" in rows[-1]["summary"]
    run_id = rows[0]["run_id"]
    by_run = _json(
        standalone(["list", "--app", "hostapp", "--run", run_id[:20], "--format", "json"])
    )
    assert {r["run_id"] for r in by_run["result"]["documents"]} == {run_id}
    assert len(by_run["result"]["documents"]) == 4
    recent = _json(standalone(["list", "--app", "hostapp", "--since", "1h", "--format", "json"]))
    assert recent["result"]["total"] == 10
    text = standalone(["list", "--app", "hostapp", "--limit", "2"])
    assert "(2 of 10 shown" in text.stdout


def test_show_by_prefix_and_errors(base: Path) -> None:
    _record()
    doc = next(d for d in store_documents(base / "hostapp") if d["kind"] == "build")
    result = standalone(["show", str(doc["id"])[-8:], "--app", "hostapp"])
    assert result.exit_code == 2  # a suffix is not a prefix
    assert result.stderr.count("\n") == 1
    ids = [str(d["id"]) for d in store_documents(base / "hostapp")]
    # the shortest prefix that only this document has (ids of one run share long prefixes)
    prefix = next(
        str(doc["id"])[:n]
        for n in range(4, 27)
        if sum(i.startswith(str(doc["id"])[:n]) for i in ids) == 1
    )
    shown = _json(standalone(["show", prefix, "--app", "hostapp", "--format", "json"]))
    assert shown["result"]["document"] == doc
    missing = standalone(["show", "zzzzzzzz", "--app", "hostapp", "--format", "json"])
    assert missing.exit_code == 2
    assert _json(missing)["ok"] is False
    assert missing.stderr.startswith("error: no document")


def test_explain_lists_every_schema_field(base: Path) -> None:
    result = standalone(["explain", "cli-command"])
    assert result.exit_code == 0
    for field in (
        "payload.command_path",
        "payload.error_message",
        "environment.ci_provider",
        "payload.parameters[].hashes",
        "hashing.key_id",
    ):
        assert field in result.stdout
    everything = _json(standalone(["explain", "--format", "json"]))
    assert set(everything["result"]["kinds"]) == {"cli-command", "build", "snapshot", "run-summary"}
    bad = standalone(["explain", "nope"])
    assert bad.exit_code == 2 and "unknown kind" in bad.stderr


def test_schema_prints_the_shipped_schema() -> None:
    data = _json(standalone(["schema", "build", "--format", "json"]))
    on_disk = json.loads((ROOT / "schema" / "build.schema.json").read_text())
    assert data["result"]["schema"] == on_disk
    text = standalone(["schema", "envelope"])
    assert json.loads(text.stdout)["$id"].endswith(":envelope:1")


def test_validate_store_and_files(base: Path, tmp_path: Path) -> None:
    _record()
    ok = standalone(["validate", "--app", "hostapp"])
    assert ok.exit_code == 0 and "4 valid, 0 invalid" in ok.stdout
    doc = next(d for d in store_documents(base / "hostapp") if d["kind"] == "snapshot")
    doc["payload"]["extra"] = "not allowed"  # type: ignore[index]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    garbage = tmp_path / "garbage.json"
    garbage.write_bytes(b"\xff\xfe not json")
    result = standalone(["validate", str(bad), str(garbage)])
    assert result.exit_code == 1
    assert "Additional properties" in result.stdout and "not valid JSON" in result.stdout
    missing = standalone(["validate", str(tmp_path / "missing.json")])
    assert missing.exit_code == 2 and missing.stderr.count("\n") == 1


def test_purge_needs_yes_when_not_interactive(base: Path) -> None:
    _record()
    refused = standalone(["purge", "--app", "hostapp"])
    assert refused.exit_code == 2 and "--yes" in refused.stderr
    assert len(store_documents(base / "hostapp")) == 4
    done = _json(standalone(["purge", "--app", "hostapp", "--yes", "--format", "json"]))
    assert done["result"]["removed"] == 4
    assert store_documents(base / "hostapp") == []
    assert (base / "hostapp" / ".hashkey").exists()  # purge removes documents, not the key


def test_purge_older_than(base: Path) -> None:
    _record()
    kept = _json(
        standalone(["purge", "--app", "hostapp", "--older-than", "1d", "--yes", "--format", "json"])
    )
    assert kept["result"]["removed"] == 0
    bad = standalone(["purge", "--app", "hostapp", "--older-than", "soon", "--yes"])
    assert bad.exit_code == 2 and "duration" in bad.stderr


def test_reset_key_rotates(base: Path) -> None:
    _record()
    before = _json(standalone(["status", "--app", "hostapp", "--format", "json"]))["result"][
        "key_id"
    ]
    rotated = _json(standalone(["reset-key", "--app", "hostapp", "--format", "json"]))["result"]
    assert rotated["old_key_id"] == before and rotated["new_key_id"] != before
    _record()
    key_ids = {d["hashing"]["key_id"] for d in store_documents(base / "hostapp")}  # type: ignore[index]
    assert key_ids == {before, rotated["new_key_id"]}


def test_missing_app_is_a_usage_error(base: Path) -> None:
    _record()
    result = standalone(["status"])
    assert result.exit_code == 2
    assert result.stderr == "error: which app? pass --app NAME (stores found: hostapp)\n"
    assert standalone(["status", "--app", "../etc"]).exit_code == 2


def test_json_output_is_one_object_for_every_command(base: Path) -> None:
    _record()
    doc_id = str(store_documents(base / "hostapp")[0]["id"])
    for args in (
        ["status"],
        ["list"],
        ["show", doc_id],
        ["validate"],
        ["explain"],
        ["schema"],
        ["reset-key"],
        ["purge", "--yes"],
    ):
        extra = ["--app", "hostapp"] if args[0] not in ("explain", "schema") else []
        result = standalone([*args, *extra, "--format", "json"])
        assert result.exit_code == 0, (args, result.output)
        assert _json(result)["command"] == args[0]


def test_management_commands_never_record(base: Path) -> None:
    for args in (["telemetry", "status"], ["telemetry", "list"], ["telemetry", "explain"]):
        result = CliRunner().invoke(hostapp.app, ["--telemetry", *args])
        assert result.exit_code == 0, result.output
    assert not base.exists()


def test_every_command_is_documented() -> None:
    # Walks the real command tree: a command added later is held to it too.
    guide = (ROOT / "docs" / "user-guide.md").read_text()
    help_text = CliRunner().invoke(make_app(None), ["--help"]).stdout
    tree = typer.main.get_command(make_app(None)).commands  # type: ignore[attr-defined]
    for command in tree:
        assert f"\n### `{command}`\n" in guide, f"docs/user-guide.md: no section for {command}"
        assert re.search(rf"^  {re.escape(command)}\b", help_text, re.M), command


def test_python_dash_m_and_console_script(tmp_path: Path) -> None:
    import subprocess
    import sys

    home = tmp_path / "home"
    home.mkdir()
    env = clean_env(tmp_path / "store", home)
    proc = subprocess.run(
        [sys.executable, "-m", "localtelemetry", "explain", "snapshot"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "payload.fingerprint" in proc.stdout


@pytest.mark.parametrize("command", STANDALONE_COMMANDS)
def test_each_command_has_help(command: str) -> None:
    result = standalone([command, "--help"])
    assert result.exit_code == 0
    assert "--format" in result.stdout


def test_the_standalone_and_mounted_command_sets() -> None:
    # A host app mounts the management commands only: running other programs, the demo
    # and the maintainer's commands belong to the standalone localtelemetry command.
    standalone = typer.main.get_command(make_app(None)).commands  # type: ignore[attr-defined]
    mounted = typer.main.get_command(make_app(mount_of(Telemetry("x", version="1")))).commands  # type: ignore[attr-defined]
    assert list(mounted) == list(MOUNTED_COMMANDS)
    assert list(standalone) == list(STANDALONE_COMMANDS)
    for command in ("apps", "demo", "inspect", "ingest", "report", "run"):
        assert command in standalone and command not in mounted, command
    for command in ("status", "list", "show", "purge", "reset-key", "export"):
        assert command in mounted, command


def _console(args: list[str], tmp_path: Path) -> Any:
    import subprocess
    import sys

    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return subprocess.run(
        [sys.executable, "-m", "localtelemetry", *args],
        env=clean_env(tmp_path / "store", home),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_bad_usage_is_one_stderr_line_and_json_when_asked(tmp_path: Path) -> None:
    text = _console(["status", "--bogus"], tmp_path)
    assert text.returncode == 2 and text.stdout == ""
    assert text.stderr == "error: No such option: --bogus (see 'localtelemetry status --help')\n"
    as_json = _console(
        ["list", "--app", "x", "--kind", "build", "--limit", "lots", "--format", "json"], tmp_path
    )
    assert as_json.returncode == 2
    assert json.loads(as_json.stdout)["ok"] is False
    assert as_json.stderr.count("\n") == 1
    assert _console(["nosuch"], tmp_path).returncode == 2
    bare = _console([], tmp_path)
    assert bare.returncode == 0 and "Commands" in bare.stdout


def test_mounted_bad_usage_is_one_line(base: Path) -> None:
    result = CliRunner().invoke(hostapp.app, ["telemetry", "list", "--bogus"])
    assert result.exit_code == 2
    assert result.stderr.strip().startswith("error: No such option: --bogus")
    assert result.stderr.count("\n") == 1


def test_an_app_name_with_a_trailing_newline_is_refused(base: Path) -> None:
    # The checks once used `^...$` regexes, whose `$` also matches before a final "\n".
    result = standalone(["status", "--app", "nb\n"])
    assert result.exit_code == 2
    assert "not a valid app name" in result.stderr and result.stderr.count("\n") == 1
    assert not base.exists()


def test_one_of_a_thing_is_singular(base: Path) -> None:
    from localtelemetry._cli.commands import summary_of

    assert (
        summary_of({"kind": "build", "payload": {"name": "b", "status": "success", "phases": [{}]}})
        == "b: success, 1 phase"
    )
    assert (
        summary_of(
            {"kind": "run-summary", "payload": {"exit_code": 0, "documents": {"cli-command": 1}}}
        )
        == "exit 0, 1 document"
    )
    assert (
        summary_of(
            {"kind": "build", "payload": {"name": "b", "status": "success", "phases": [{}, {}]}}
        )
        == "b: success, 2 phases"
    )
    CliRunner().invoke(hostapp.app, ["--telemetry", "fail"])
    store = base / "hostapp"
    (summary,) = store.glob("run-summary-*.json")
    summary.write_bytes(b"not json")
    listing = standalone(["list", "--app", "hostapp"])
    assert listing.stdout.endswith("\n(1 unreadable document skipped)\n")
    preview = standalone(["export", "--app", "hostapp", "--preview"])
    assert preview.stdout.startswith("would export 1 document: cli-command 1\n")
    purged = standalone(["purge", "--app", "hostapp", "--yes"])
    assert purged.stdout == f"removed 2 documents from {store}\n"
    CliRunner().invoke(hostapp.app, ["--telemetry", "fail"])
    (summary,) = store.glob("run-summary-*.json")
    summary.unlink()
    purged = standalone(["purge", "--app", "hostapp", "--yes", "--older-than", "0s"])
    assert purged.stdout == f"removed 1 document from {store}\n"


def test_explain_and_schema_take_the_app_and_mounted_app_must_match(base: Path) -> None:
    _record()
    explained = _json(standalone(["explain", "snapshot", "--app", "hostapp", "--format", "json"]))
    assert explained["result"]["app"] == "hostapp"
    assert set(explained["result"]["kinds"]) == {"snapshot"}
    assert standalone(["schema", "build", "--app", "hostapp"]).exit_code == 0
    same = CliRunner().invoke(hostapp.app, ["telemetry", "status", "--app", "hostapp"])
    assert same.exit_code == 0
    other = CliRunner().invoke(hostapp.app, ["telemetry", "status", "--app", "other"])
    assert other.exit_code == 2
    assert other.stderr == (
        "error: this is the telemetry group of hostapp; for app 'other' use "
        "'localtelemetry COMMAND --app other'\n"
    )
