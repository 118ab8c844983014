"""One option convention across every command (issue 13, point 5), checked by walking
the whole command tree: ``--format text|json`` for stdout, ``-o/--output FILE`` for files
only, ``--app`` wherever a command reads a store. Also: the old ``--output json``
spelling, ``-o /dev/null``, ``run --format json``, ``apps``, and human output that fits
the terminal and the host's context settings."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
import typer
from typer.testing import CliRunner

from localtelemetry import Telemetry
from localtelemetry._cli.app import make_app
from localtelemetry._integration import mount_of

import hostapp
from conftest import ROOT, clean_env

#: Commands that read no store of one app, and why (docs/user-guide.md says the same).
NO_APP = {
    "apps": "lists every store",
    "inspect": "reads a bundle",
    "report": "reads bundles and stores given as SOURCES",
    "ingest": "reads bundles and stores given as SOURCES",
    "demo": "records its own example app",
}
#: Commands that write a file named by -o (run: its result; export: the bundle).
FILE_OUTPUT = {"export", "report", "run"}


def _tree(bound: Any) -> dict[str, Any]:
    group = typer.main.get_command(make_app(bound))
    return dict(group.commands)  # type: ignore[attr-defined]


def _choices(param: Any) -> set[str]:
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is not None:  # Typer with its own coercion
        values = descriptor.choices or ()
    else:
        values = getattr(param.type, "choices", ())
    return {getattr(v, "value", v) for v in values}


def _option(command: Any, name: str) -> Any:
    found = [p for p in command.params if name in getattr(p, "opts", ())]
    return found[0] if found else None


@pytest.mark.parametrize("mounted", [False, True], ids=["standalone", "mounted"])
def test_every_command_follows_the_convention(mounted: bool) -> None:
    tree = _tree(mount_of(Telemetry("conv", version="1")) if mounted else None)
    assert {"status", "list", "show", "export"} <= set(tree)
    for name, command in tree.items():
        fmt = _option(command, "--format")
        assert fmt is not None, f"{name} has no --format"
        assert sorted(fmt.opts) == ["--format"], name
        expected = {"text", "json", "html"} if name == "report" else {"text", "json"}
        assert _choices(fmt) == expected, name
        output = _option(command, "--output") or _option(command, "-o")
        if name in FILE_OUTPUT:
            assert output is not None, f"{name} has no -o/--output FILE"
            assert sorted(output.opts) == ["--output", "-o"] and output.metavar == "FILE", name
            assert not _choices(output), f"{name}: -o must name a file, not a format"
            assert _option(command, "--force") is not None, f"{name}: -o without --force"
        else:
            assert output is None, f"{name} has -o/--output but writes no file"
        app = _option(command, "--app")
        if name in NO_APP:
            assert app is None, f"{name} takes --app but reads no store: {NO_APP[name]}"
        else:
            assert app is not None, f"{name} reads a store but takes no --app"
            assert app.hidden is (mounted and name != "run"), name
        for param in command.params:  # no format hidden behind another option name
            if param.name != "report_format" and _choices(param) >= {"json"}:
                assert "--format" in param.opts, (name, param.opts)


def test_the_user_guide_table_matches_the_commands() -> None:
    guide = (ROOT / "docs" / "user-guide.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `(\w[\w-]*)` \| (.+) \|$", guide, re.MULTILINE))
    tree = _tree(None)
    for name, command in tree.items():
        assert name in rows, f"docs/user-guide.md: no row for {name} in the options table"
        cells = [c.strip() for c in rows[name].split("|")]
        assert len(cells) == 3, name
        fmt, output, app = cells
        assert fmt == ("`text`, `json`, `html`" if name == "report" else "`text`, `json`"), name
        assert (not output.startswith("no")) is (name in FILE_OUTPUT), name
        assert (app == "yes") is (_option(command, "--app") is not None and name != "run"), name


def _json(result: Any) -> dict[str, Any]:
    value = json.loads(result.stdout)
    assert isinstance(value, dict)
    return value


def _console(args: list[str], tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return subprocess.run(
        [sys.executable, "-m", "localtelemetry", *args],
        env=clean_env(tmp_path / "store", home, **extra),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )


# -- the old spelling -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "typed"),
    [
        (["status", "--app", "x", "--output", "json"], "--output json"),
        (["list", "-o", "json"], "-o json"),
        (["explain", "--output=json"], "--output=json"),
        (["explain", "-ojson"], "-ojson"),
        (["status", "-o", "text"], "-o text"),
        (["export", "--app", "x", "-o", "json"], "-o json"),
        (["report", ".", "--output", "html"], "--output html"),
    ],
)
def test_old_output_spelling_is_refused_with_the_new_one(
    tmp_path: Path, args: list[str], typed: str
) -> None:
    proc = _console(args, tmp_path)
    assert proc.returncode == 2
    word = typed.replace("=", " ").replace("-ojson", "-o json").split()[-1]
    assert proc.stderr == (
        f"error: '{typed}' is now spelled '--format {word}': -o/--output only names a file "
        f"(for a file named {word}, write -o ./{word})\n"
    )
    if word == "json":  # whoever asked for JSON gets JSON, even for this error
        envelope = json.loads(proc.stdout)
        assert envelope["ok"] is False and envelope["error"]["exit_code"] == 2
    else:
        assert proc.stdout == ""
    assert not (tmp_path / "json").exists() and not (tmp_path / "store").exists()


def test_old_spelling_mounted_and_after_a_double_dash(base: Path, tmp_path: Path) -> None:
    mounted = CliRunner().invoke(hostapp.app, ["telemetry", "list", "--output", "json"])
    assert mounted.exit_code == 2 and "'--format json'" in mounted.stderr
    assert _json(mounted)["ok"] is False
    # After '--' the words belong to the wrapped program.
    proc = _console(
        ["run", "--", sys.executable, "-c", "import sys; print(sys.argv[1:])", "-o", "json"],
        tmp_path,
    )
    assert proc.returncode == 0 and proc.stdout == "['-o', 'json']\n"


def test_a_file_named_like_a_format_is_written_with_a_path(base: Path, tmp_path: Path) -> None:
    CliRunner().invoke(hostapp.app, ["--telemetry", "ok"])
    here = tmp_path / "here"
    here.mkdir()
    os.chdir(here)
    try:
        result = CliRunner().invoke(make_app(None), ["export", "--app", "hostapp", "-o", "./json"])
    finally:
        os.chdir(ROOT)
    assert result.exit_code == 0, result.output
    assert (here / "json").is_file()
    refused = CliRunner().invoke(make_app(None), ["export", "--app", "hostapp", "-o", "json"])
    assert refused.exit_code == 2 and "is now spelled '--format json'" in refused.stderr


# -- -o /dev/null ------------------------------------------------------------------------------


@pytest.mark.skipif(not os.path.exists(os.devnull), reason="needs /dev/null")
def test_dash_o_dev_null_works(base: Path, tmp_path: Path) -> None:
    CliRunner().invoke(hostapp.app, ["--telemetry", "ok"])
    export = CliRunner().invoke(
        make_app(None), ["export", "--app", "hostapp", "-o", os.devnull, "--format", "json"]
    )
    assert export.exit_code == 0, export.output
    assert _json(export)["result"]["bundle"] == os.devnull
    bundle = tmp_path / "b.zip"
    assert (
        CliRunner()
        .invoke(make_app(None), ["export", "--app", "hostapp", "-o", str(bundle)])
        .exit_code
        == 0
    )
    report = CliRunner().invoke(make_app(None), ["report", str(bundle), "-o", os.devnull])
    assert report.exit_code == 0, report.output
    assert f"wrote {os.devnull} (text" in report.stdout
    assert os.path.exists(os.devnull) and not Path(os.devnull).is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.zip", "lt"]


# -- run --format json ------------------------------------------------------------------------


CHILD = [
    sys.executable,
    "-c",
    "import sys; print('to stdout'); print('to stderr', file=sys.stderr)",
]


def test_run_json_goes_to_stderr_and_leaves_stdout_to_the_program(tmp_path: Path) -> None:
    proc = _console(
        ["run", "--telemetry", "--app", "wrapped", "--format", "json", "--", *CHILD], tmp_path
    )
    assert proc.returncode == 0
    assert proc.stdout == "to stdout\n"
    assert proc.stderr.startswith("to stderr\n")
    envelope = json.loads(proc.stderr[len("to stderr\n") :])
    assert envelope["command"] == "run" and envelope["ok"] is True
    result = envelope["result"]
    assert result["exit_code"] == 0 and result["recorded"] is True and result["app"] == "wrapped"
    kinds = [d["kind"] for d in result["documents"]]
    assert kinds == ["cli-command", "run-summary"]
    for doc in result["documents"]:
        stored = json.loads(Path(doc["file"]).read_text())
        assert stored["id"] == doc["id"] and stored["run_id"] == result["run_id"]
    assert result["store"] == str(tmp_path / "store" / "wrapped")


def test_run_result_into_a_file(tmp_path: Path) -> None:
    target = tmp_path / "run.json"
    failing = [sys.executable, "-c", "raise SystemExit(3)"]
    proc = _console(["run", "--format", "json", "-o", str(target), "--", *failing], tmp_path)
    assert proc.returncode == 3 and proc.stdout == "" and proc.stderr == ""
    result = json.loads(target.read_text())["result"]
    assert result["exit_code"] == 3 and result["recorded"] is False and result["documents"] == []
    again = _console(["run", "-o", str(target), "--", *failing], tmp_path)
    assert again.returncode == 2 and "already exists" in again.stderr  # refused before running
    text = _console(["run", "-o", str(target), "--force", "--", *failing], tmp_path)
    assert text.returncode == 3
    assert target.read_text() == "exit code 3; nothing recorded\n"
    plain = _console(["run", "--", *CHILD], tmp_path)
    assert plain.stdout == "to stdout\n" and plain.stderr == "to stderr\n"  # text: silent


# -- apps ----------------------------------------------------------------------------------------


def test_apps_lists_the_stores_under_the_base(base: Path) -> None:
    empty = CliRunner().invoke(make_app(None), ["apps"])
    assert empty.exit_code == 0
    assert empty.stdout.startswith(f"no stores in {base} (LOCALTELEMETRY_DIR directory)")
    CliRunner().invoke(hostapp.app, ["--telemetry", "ok"])
    CliRunner().invoke(hostapp.app, ["--telemetry", "fail"])
    (base / "not-a-store").mkdir()
    (base / "stray.txt").write_text("x")
    data = _json(CliRunner().invoke(make_app(None), ["apps", "--format", "json"]))["result"]
    assert data["base"] == str(base) and data["base_from"] == "LOCALTELEMETRY_DIR"
    (row,) = data["apps"]
    assert row["app"] == "hostapp" and row["documents"] == 6 and row["problem"] is None
    files = list((base / "hostapp").glob("*.json"))
    assert row["bytes"] == sum(p.stat().st_size for p in files)
    newest = max(json.loads(p.read_text())["created_at"] for p in files)
    assert row["newest"] == newest
    text = CliRunner().invoke(make_app(None), ["apps"]).stdout
    assert text.startswith(f"1 store in {base} (LOCALTELEMETRY_DIR directory):\n\napp ")
    assert re.search(r"^hostapp\s+6\s+\d", text, re.MULTILINE)


def test_apps_in_the_platform_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, home: Path
) -> None:
    monkeypatch.delenv("LOCALTELEMETRY_DIR")
    state = home / ".local" / "state"
    (state / "some-other-program").mkdir(parents=True)
    CliRunner().invoke(hostapp.app, ["--telemetry", "ok"])
    assert (state / "hostapp" / "telemetry").is_dir()
    data = _json(CliRunner().invoke(make_app(None), ["apps", "--format", "json"]))["result"]
    assert data["base"] == str(state) and data["base_from"] == "platform"
    assert [a["app"] for a in data["apps"]] == ["hostapp"]
    assert data["apps"][0]["store"] == str(state / "hostapp" / "telemetry")
    typo = CliRunner().invoke(make_app(None), ["list", "--app", "hostap"])
    assert typo.stderr == f"error: no store for app 'hostap' in {state}; did you mean 'hostapp'?\n"


def test_apps_reports_an_unsafe_store(base: Path, tmp_path: Path) -> None:
    CliRunner().invoke(hostapp.app, ["--telemetry", "ok"])
    (base / "linked").symlink_to(base / "hostapp")
    rows = _json(CliRunner().invoke(make_app(None), ["apps", "--format", "json"]))["result"]["apps"]
    linked = next(r for r in rows if r["app"] == "linked")
    assert "symlink" in linked["problem"] and linked["documents"] is None
    show = CliRunner().invoke(make_app(None), ["status", "--app", "linked"])
    assert show.exit_code == 2 and "symlink" in show.stderr


# -- width and the host's context settings ------------------------------------------------------


def test_explain_fits_the_terminal(tmp_path: Path) -> None:
    narrow = _console(["explain"], tmp_path, COLUMNS="72")
    assert narrow.returncode == 0
    lines = narrow.stdout.splitlines()
    assert max(len(line) for line in lines) <= 72
    assert "payload.parameters[].hashes" in narrow.stdout
    wide = _console(["explain"], tmp_path, COLUMNS="250")
    assert 120 < max(len(line) for line in wide.stdout.splitlines()) <= 250
    # Into a pipe, without COLUMNS: not wrapped at all (grep sees whole lines).
    piped = _console(["explain"], tmp_path, COLUMNS="")
    assert max(len(line) for line in piped.stdout.splitlines()) > 250
    # The first column names the field: it is never broken.
    from localtelemetry._cli.commands import explain

    for info in explain(None)["kinds"].values():
        for field in info["fields"]:
            assert re.search(rf"^{re.escape(field['field'])} ", narrow.stdout, re.MULTILINE)


def _host_with_settings() -> click.Group:
    @click.group(context_settings={"help_option_names": ["-h", "--help"], "terminal_width": 64})
    def cli() -> None:
        pass

    @cli.command()
    def build() -> None:
        click.echo("built")

    Telemetry("settings", version="1").install(cli)
    return cli


def test_mounted_group_inherits_help_names_and_width(base: Path) -> None:
    from click.testing import CliRunner as ClickRunner

    cli = _host_with_settings()
    short = ClickRunner().invoke(cli, ["telemetry", "-h"])
    assert short.exit_code == 0, short.output
    assert "Usage: cli telemetry" in short.output and "-h, --help" in short.output
    sub = ClickRunner().invoke(cli, ["telemetry", "status", "-h"])
    assert sub.exit_code == 0 and "--format" in sub.output
    assert max(len(line) for line in sub.output.splitlines()) <= 64
    explain = ClickRunner().invoke(cli, ["telemetry", "explain"], env={"COLUMNS": "200"})
    assert explain.exit_code == 0
    assert max(len(line) for line in explain.output.splitlines()) <= 64


def test_single_command_host_routes_its_help_names(base: Path) -> None:
    from click.testing import CliRunner as ClickRunner

    @click.command(context_settings={"help_option_names": ["-h", "--help"]})
    def solo() -> None:
        click.echo("solo")

    Telemetry("solo2", version="1").install(solo)
    result = ClickRunner().invoke(solo, ["telemetry", "-h"])
    assert result.exit_code == 0 and "Usage: solo telemetry" in result.output
