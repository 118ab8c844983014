"""Principle 4: recording never changes the host's exit code or stdout (real processes)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import HOSTAPP, clean_env, run_script, store_documents

CASES = {
    "success": ["ok", "src", "--include", "*.md", "--jobs", "3"],
    "exit-3": ["fail", "--code", "3"],
    "exception": ["boom"],
    "usage-error": ["ok", "--jobs", "many"],
    "unknown-command": ["nosuch"],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_exit_code_and_stdout_identical_with_and_without_flag(tmp_path: Path, case: str) -> None:
    home, base = tmp_path / "home", tmp_path / "store"
    home.mkdir()
    env = clean_env(base, home)
    plain = run_script(HOSTAPP, CASES[case], env)
    recorded = run_script(HOSTAPP, [*CASES[case], "--telemetry"], env)
    assert recorded.returncode == plain.returncode
    assert recorded.stdout == plain.stdout
    # stderr may differ only in traceback text; the recorder itself adds nothing
    assert "telemetry:" not in recorded.stderr
    documents = store_documents(base / "hostapp")
    (command,) = [d for d in documents if d["kind"] == "cli-command"]
    assert command["payload"]["exit_code"] == plain.returncode


def test_expected_exit_codes(tmp_path: Path) -> None:
    home, base = tmp_path / "home", tmp_path / "store"
    home.mkdir()
    env = clean_env(base, home)
    codes = {
        case: run_script(HOSTAPP, ["--telemetry", *args], env).returncode
        for case, args in CASES.items()
    }
    assert codes == {
        "success": 0,
        "exit-3": 3,
        "exception": 1,
        "usage-error": 2,
        "unknown-command": 2,
    }


def _interrupt(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    proc = subprocess.Popen(
        [sys.executable, str(HOSTAPP), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == "sleeping\n"
    time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    return proc.returncode, "sleeping\n" + out


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_gives_same_exit_and_output(tmp_path: Path) -> None:
    home, base = tmp_path / "home", tmp_path / "store"
    home.mkdir()
    env = clean_env(base, home)
    plain_code, plain_out = _interrupt(["sleep"], env)
    code, out = _interrupt(["sleep", "--telemetry"], env)
    assert (code, out) == (plain_code, plain_out)
    (command,) = [d for d in store_documents(base / "hostapp") if d["kind"] == "cli-command"]
    assert command["payload"]["outcome"] == "interrupted"
    assert command["payload"]["error_kind"] == "KeyboardInterrupt"
    assert command["payload"]["exit_code"] == code
