"""A project or organisation turns recording off for a directory tree with a
``.localtelemetry-off`` file: looked up only when --telemetry is given, from the working
directory up to the home directory (or the root), refused with one stderr line exactly
like DO_NOT_TRACK, and shown by status."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import localtelemetry._record as _offswitch
from localtelemetry._record import MARKER, find_marker, off_reason

import hostapp
from conftest import HOSTAPP, ROOT, clean_env


def _tree(tmp_path: Path) -> tuple[Path, Path]:
    home = tmp_path / "home"
    project = home / "work" / "project" / "src" / "deep"
    project.mkdir(parents=True)
    return home, project


def test_marker_found_in_the_working_directory_or_above(tmp_path: Path) -> None:
    home, deep = _tree(tmp_path)
    assert find_marker(str(deep), str(home)) is None
    marker = home / "work" / "project" / MARKER
    marker.write_text("")
    assert find_marker(str(deep), str(home)) == str(marker)
    assert find_marker(str(home / "work" / "project"), str(home)) == str(marker)
    assert find_marker(str(home / "work"), str(home)) is None  # below only, never beside
    nearer = deep / MARKER
    nearer.mkdir()  # a directory of that name counts too
    assert find_marker(str(deep), str(home)) == str(nearer)


def test_walk_stops_after_the_home_directory(tmp_path: Path) -> None:
    home, deep = _tree(tmp_path)
    (tmp_path / MARKER).write_text("")  # above home: not looked at from inside it
    assert find_marker(str(deep), str(home)) is None
    (home / MARKER).write_text("")  # home itself is: a user can turn off everything
    assert find_marker(str(deep), str(home)) == str(home / MARKER)
    # Outside home the walk goes up to the root.
    elsewhere = tmp_path / "srv" / "app"
    elsewhere.mkdir(parents=True)
    assert find_marker(str(elsewhere), str(home)) == str(tmp_path / MARKER)


def test_walk_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    deep = tmp_path.joinpath(*[f"d{i}" for i in range(8)])
    deep.mkdir(parents=True)
    (tmp_path / MARKER).write_text("")
    assert find_marker(str(deep), None) == str(tmp_path / MARKER)
    monkeypatch.setattr(_offswitch, "MAX_LEVELS", 5)
    assert find_marker(str(deep), None) is None


def test_a_removed_working_directory_is_no_marker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    assert find_marker(None, None) is None


def test_variables_win_over_the_marker(tmp_path: Path) -> None:
    home, deep = _tree(tmp_path)
    (deep / MARKER).write_text("")
    env = {"HOME": str(home)}
    assert (
        off_reason(env, str(deep)) == f"{deep / MARKER} turns recording off in this directory tree"
    )
    assert off_reason({**env, "DO_NOT_TRACK": "1"}, str(deep)) == "DO_NOT_TRACK is set"
    assert off_reason(env, str(home)) is None


def _host(tmp_path: Path, cwd: Path, args: list[str]) -> subprocess.CompletedProcess[str]:
    env = clean_env(tmp_path / "store", tmp_path / "home")
    env["PYTHONPATH"] = f"{ROOT}:{ROOT / 'tests'}"
    return subprocess.run(
        [sys.executable, str(HOSTAPP), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_marked_tree_refuses_recording_with_one_line(tmp_path: Path) -> None:
    home, deep = _tree(tmp_path)
    marker = home / "work" / "project" / MARKER
    marker.write_text("set by the organisation\n")
    proc = _host(tmp_path, deep, ["ok", "src", "--telemetry"])
    assert proc.returncode == 0
    assert proc.stdout == "ok src=src include=* jobs=1 verbose=False\n"
    assert proc.stderr == (
        f"hostapp: telemetry: {marker} turns recording off in this directory tree, "
        "so --telemetry is ignored and nothing is recorded\n"
    )
    assert not (tmp_path / "store").exists()
    # Outside the tree the same command records.
    elsewhere = _host(tmp_path, home, ["ok", "src", "--telemetry"])
    assert elsewhere.returncode == 0 and elsewhere.stderr == ""
    assert len(list((tmp_path / "store" / "hostapp").glob("*.json"))) == 4


PROBE = r"""
import sys
sys.argv = ["hostapp", *sys.argv[1:]]
import hostapp
try:
    hostapp.app()
except SystemExit:
    pass
print("localtelemetry._record" in sys.modules, file=sys.stderr)
"""


def test_runs_without_the_flag_do_not_look(tmp_path: Path) -> None:
    home, deep = _tree(tmp_path)
    (deep / MARKER).write_text("")
    env = clean_env(tmp_path / "store", home)
    env["PYTHONPATH"] = f"{ROOT}:{ROOT / 'tests'}"
    for args, looked in ((["ok"], "False"), (["ok", "--telemetry"], "True")):
        proc = subprocess.run(
            [sys.executable, "-c", PROBE, *args],
            env=env,
            cwd=deep,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert proc.stderr.strip().splitlines()[-1] == looked, proc.stderr


def test_status_shows_the_marker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home, deep = _tree(tmp_path)
    marker = deep / MARKER
    marker.write_text("")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(deep)
    text = CliRunner().invoke(hostapp.app, ["telemetry", "status"])
    assert text.exit_code == 0
    assert (
        f"blocked:    {marker} turns recording off in this directory tree: --telemetry is "
        "ignored here\n"
    ) in text.stdout
    data = json.loads(
        CliRunner().invoke(hostapp.app, ["telemetry", "status", "--format", "json"]).stdout
    )
    assert data["result"]["off_marker"] == str(marker)
    monkeypatch.chdir(home)
    data = json.loads(
        CliRunner().invoke(hostapp.app, ["telemetry", "status", "--format", "json"]).stdout
    )
    assert data["result"]["off_marker"] is None


CHILD = [sys.executable, "-c", "print('child')"]


def test_the_wrapper_honours_the_marker(tmp_path: Path) -> None:
    home, deep = _tree(tmp_path)
    (deep / MARKER).write_text("")
    env = clean_env(tmp_path / "store", home)
    proc = subprocess.run(
        [sys.executable, "-m", "localtelemetry", "run", "--telemetry", "--app", "w", "--", *CHILD],
        env=env,
        cwd=deep,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0 and proc.stdout == "child\n"
    assert proc.stderr == (
        f"w: telemetry: {deep / MARKER} turns recording off in this directory tree, "
        "so --telemetry is ignored and nothing is recorded\n"
    )
    assert not (tmp_path / "store").exists()


def test_marker_name_is_documented() -> None:
    guide = (ROOT / "docs" / "user-guide.md").read_text(encoding="utf-8")
    assert f"`{MARKER}`" in guide
