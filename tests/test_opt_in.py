"""Principles 1 and 2: only --telemetry records; DO_NOT_TRACK always wins."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import hostapp
from conftest import HOSTAPP, all_files, clean_env, run_script, store_documents


def test_run_without_flag_creates_nothing_on_disk_subprocess(tmp_path: Path) -> None:
    home, base = tmp_path / "home", tmp_path / "store"
    home.mkdir()
    env = clean_env(base, home)
    for args in (["ok", "src"], ["fail"], ["boom"], ["--help"], ["ok", "--", "--telemetry"]):
        run_script(HOSTAPP, args, env)
    assert not base.exists(), "a run without --telemetry created the store"
    assert all_files(home) == [], "a run without --telemetry wrote into HOME"


def test_run_without_flag_creates_nothing_in_process(base: Path, home: Path) -> None:
    result = CliRunner().invoke(hostapp.app, ["ok", "src", "--include", "*.py"])
    assert result.exit_code == 0, result.output
    assert not base.exists()
    assert all_files(home) == []
    assert not hostapp.telemetry.enabled


def test_flag_after_double_dash_is_an_argument_not_a_request(base: Path) -> None:
    result = CliRunner().invoke(hostapp.app, ["ok", "--", "--telemetry"])
    assert result.exit_code == 0, result.output
    assert "src=--telemetry" in result.stdout
    assert not base.exists()


@pytest.mark.parametrize("position", ["first", "last", "middle"])
def test_flag_anywhere_before_double_dash_records(base: Path, position: str) -> None:
    args = {
        "first": ["--telemetry", "ok", "src"],
        "last": ["ok", "src", "--telemetry"],
        "middle": ["ok", "--telemetry", "src"],
    }[position]
    result = CliRunner().invoke(hostapp.app, args)
    assert result.exit_code == 0, result.output
    assert "src=src" in result.stdout  # the app never saw the flag
    kinds = sorted(d["kind"] for d in store_documents(base / "hostapp"))
    assert kinds == ["build", "cli-command", "run-summary", "snapshot"]


@pytest.mark.parametrize("variable", ["DO_NOT_TRACK", "LOCALTELEMETRY_DISABLED"])
@pytest.mark.parametrize("value", ["1", "true", "TRUE", "yes", "Y", "on", "On", " 1 "])
def test_hard_off_blocks_recording_with_one_stderr_line(
    base: Path, variable: str, value: str
) -> None:
    result = CliRunner().invoke(hostapp.app, ["--telemetry", "ok", "src"], env={variable: value})
    assert result.exit_code == 0
    assert "ok src=src" in result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and variable in lines[0] and "nothing is recorded" in lines[0]
    assert not base.exists()


@pytest.mark.parametrize("value", ["0", "false", "no", "off", ""])
def test_false_values_do_not_block(base: Path, value: str) -> None:
    result = CliRunner().invoke(hostapp.app, ["--telemetry", "ok"], env={"DO_NOT_TRACK": value})
    assert result.exit_code == 0
    assert result.stderr == ""
    assert store_documents(base / "hostapp")


def test_do_not_track_blocks_in_a_real_subprocess(tmp_path: Path) -> None:
    home, base = tmp_path / "home", tmp_path / "store"
    home.mkdir()
    proc = run_script(HOSTAPP, ["--telemetry", "ok"], clean_env(base, home, DO_NOT_TRACK="1"))
    assert proc.returncode == 0
    assert proc.stderr.count("\n") == 1 and "DO_NOT_TRACK" in proc.stderr
    assert not base.exists()


def test_environment_variable_alone_never_turns_recording_on(base: Path) -> None:
    env = {"LOCALTELEMETRY": "1", "LOCALTELEMETRY_ENABLED": "1", "TELEMETRY": "1"}
    result = CliRunner().invoke(hostapp.app, ["ok"], env=env)
    assert result.exit_code == 0
    assert not base.exists()
