"""Regressions found in review: each test failed before its fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import typer
from click.testing import CliRunner as ClickRunner
from typer.testing import CliRunner

from localtelemetry import Telemetry

import hostapp
from conftest import HOSTAPP, all_files, clean_env, run_script, store_documents


def _record(args: list[str]) -> Any:
    return CliRunner().invoke(hostapp.app, ["--telemetry", *args])


def _blob(base: Path) -> bytes:
    return b"".join(p.read_bytes() for p in all_files(base / "hostapp"))


def test_argv_values_quoted_in_error_messages_never_reach_disk(base: Path, tmp_path: Path) -> None:
    _record(["acme_client_merger"])  # unknown command, quoted by click
    _record(["ok", "--secret-flag-hunter2"])  # unknown option
    _record(["paint", "--color", "JaneDoeSecret"])  # bad choice
    _record(["boom", "--where", "clients/acme/ledger.csv"])  # relative path in a message
    _record(["open", "acme-ledger-2026.xlsx"])  # FileNotFoundError quotes the bare name
    blob = _blob(base)
    for needle in (b"acme", b"hunter2", b"JaneDoe", b"ledger"):
        assert needle not in blob, needle
    messages = [
        d["payload"]["error_message"]
        for d in store_documents(base / "hostapp")
        if d["kind"] == "cli-command"
    ]
    assert all(m for m in messages)
    assert any("<redacted:argument>" in m for m in messages)
    # a path the user gave becomes the same hash as its descriptor, so it can be matched
    assert any("<path:" in m for m in messages)


def test_tuple_parameters_with_free_text_are_hashed(base: Path) -> None:
    result = _record(["paint", "--pair", "red", "SECRETPROJECTNAME", "--big", "1" + "0" * 30])
    assert result.exit_code == 0, result.output
    assert b"SECRETPROJECTNAME" not in _blob(base)
    (command,) = [d for d in store_documents(base / "hostapp") if d["kind"] == "cli-command"]
    params = {p["name"]: p for p in command["payload"]["parameters"]}
    assert "hashes" in params["pair"] and len(params["pair"]["hashes"]) == 2
    assert params["big"]["values"][0] != 10**30  # out of range: hashed, document still valid


def test_command_names_made_up_by_lazy_groups_are_hashed(base: Path) -> None:
    class Plugins(click.Group):
        def list_commands(self, ctx: click.Context) -> list[str]:
            return ["known"]

        def get_command(self, ctx: click.Context, name: str) -> click.Command:
            return click.Command(name, callback=lambda: click.echo(f"ran {name}"))

    cli = Plugins("plug")
    Telemetry("plug", version="1").install(cli)
    assert ClickRunner().invoke(cli, ["known", "--telemetry"]).exit_code == 0
    assert ClickRunner().invoke(cli, ["acme_secret_customer", "--telemetry"]).exit_code == 0
    paths = [
        d["payload"]["command_path"]
        for d in store_documents(base / "plug")
        if d["kind"] == "cli-command"
    ]
    assert paths[0] == ["known"]
    assert paths[1][0].startswith("h:")
    assert b"acme" not in b"".join(p.read_bytes() for p in all_files(base / "plug"))


def test_standalone_mode_false_callers_get_the_real_exit_code(base: Path) -> None:
    code = hostapp.app(["--telemetry", "fail", "--code", "3"], standalone_mode=False)
    assert code == 3
    (command,) = [d for d in store_documents(base / "hostapp") if d["kind"] == "cli-command"]
    assert command["payload"]["exit_code"] == 3
    assert command["payload"]["outcome"] == "failure"


def test_bad_recording_api_arguments_behave_the_same_in_both_kinds_of_run(tmp_path: Path) -> None:
    home, base = tmp_path / "home", tmp_path / "store"
    home.mkdir()
    env = clean_env(base, home)
    plain = run_script(HOSTAPP, ["odd"], env)
    recorded = run_script(HOSTAPP, ["odd", "--telemetry"], env)
    assert (
        (plain.returncode, plain.stdout)
        == (recorded.returncode, recorded.stdout)
        == (0, "odd done\n")
    )
    store_documents(base / "hostapp")  # whatever was written validates


def test_unusual_exit_values_are_recorded_as_the_os_reports_them(tmp_path: Path) -> None:
    home, base = tmp_path / "home", tmp_path / "store"
    home.mkdir()
    env = clean_env(base, home)
    for code in ("true", "256", "-1"):
        plain = run_script(HOSTAPP, ["quit", "--code", code], env)
        recorded = run_script(HOSTAPP, ["quit", "--code", code, "--telemetry"], env)
        assert plain.returncode == recorded.returncode
    commands = [d for d in store_documents(base / "hostapp") if d["kind"] == "cli-command"]
    assert [c["payload"]["exit_code"] for c in commands] == [1, 0, 255]


def test_a_clock_far_ahead_for_one_run_does_not_wipe_the_store(base: Path) -> None:
    from datetime import datetime, timezone

    app = typer.Typer()
    normal = Telemetry("clocky", version="1")
    normal.install(app)

    @app.command()
    def go() -> None:
        pass

    @app.command()
    def other() -> None:
        pass

    for _ in range(5):
        CliRunner().invoke(app, ["go", "--telemetry"])
    ahead = Telemetry("clocky", version="1", now=lambda: datetime(2250, 1, 1, tzinfo=timezone.utc))
    app2 = typer.Typer()
    ahead.install(app2)
    app2.command()(go)
    app2.command()(other)
    CliRunner().invoke(app2, ["go", "--telemetry"])
    assert len(store_documents(base / "clocky")) == 12  # nothing was aged out
    CliRunner().invoke(app, ["go", "--telemetry"])  # the clock is right again
    documents = store_documents(base / "clocky")
    # the two documents dated 2250 went first; the real ones are all still there
    assert len(documents) == 12
    assert not [d for d in documents if str(d["created_at"]).startswith("2250")]


def test_single_command_apps_get_the_management_commands(base: Path) -> None:
    app = typer.Typer()
    telemetry = Telemetry("solo", version="1")
    telemetry.install(app)

    @app.command()
    def main(name: str) -> None:
        print("hello", name)

    assert CliRunner().invoke(app, ["world", "--telemetry"]).stdout == "hello world\n"
    status = CliRunner().invoke(app, ["telemetry", "status"])
    assert status.exit_code == 0, status.output
    assert "documents:  2" in status.stdout
    bare = CliRunner().invoke(app, ["telemetry"])
    assert bare.exit_code == 0 and "status" in bare.stdout  # the management help
    # a positional that merely starts with "telemetry" still reaches the app
    assert CliRunner().invoke(app, ["telemetry-report"]).stdout == "hello telemetry-report\n"
