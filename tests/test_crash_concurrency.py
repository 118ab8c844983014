"""Principle 6: atomic documents under SIGKILL, and many processes recording at once."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from localtelemetry._store import TEMP_NAME_RE

import hostapp
from conftest import HOSTAPP, clean_env, store_documents

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


@pytest.mark.slow
def test_sigkill_at_random_moments_leaves_only_whole_valid_documents(tmp_path: Path) -> None:
    home, base = tmp_path / "home", tmp_path / "store"
    home.mkdir()
    env = clean_env(base, home)
    loop = [sys.executable, str(HOSTAPP), "--telemetry", "loop", "--runs", "50"]
    # Kill at random instants within what one whole loop takes on this machine: a fixed
    # delay misses the loop altogether once recording gets faster or the machine idles.
    started = time.monotonic()
    subprocess.run(loop, env=env, capture_output=True, timeout=120, check=True)
    whole_s = time.monotonic() - started
    rng = random.Random(1234)
    kills = 0
    for _ in range(40):
        proc = subprocess.Popen(loop, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.15, 0.9) * whole_s)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait(timeout=60)
    assert kills >= 30
    store = base / "hostapp"
    documents = store_documents(store)  # every visible document parses and validates
    assert len(documents) > 50
    assert len({d["id"] for d in documents}) == len(documents)
    # The next run removes temp files whose writers were killed.
    result = CliRunner().invoke(
        hostapp.app, ["--telemetry", "ok"], env={"LOCALTELEMETRY_DIR": str(base)}
    )
    assert result.exit_code == 0
    leftovers = [p.name for p in store.iterdir() if TEMP_NAME_RE.match(p.name)]
    assert leftovers == []


def test_stale_temp_file_of_a_dead_process_is_removed_but_live_ones_stay(base: Path) -> None:
    CliRunner().invoke(hostapp.app, ["--telemetry", "ok"])
    store = base / "hostapp"
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = int(dead.stdout)
    stale = store / f".tmp-{dead_pid}-{'a' * 16}.partial"
    stale.write_bytes(b'{"half": ')
    live = store / f".tmp-{os.getppid()}-{'b' * 16}.partial"
    live.write_bytes(b"{")
    CliRunner().invoke(hostapp.app, ["--telemetry", "ok"])
    assert not stale.exists()
    assert live.exists()  # its writer (our parent process) is alive: not ours to remove yet
    live.unlink()


@pytest.mark.slow
def test_eight_processes_recording_at_once_lose_nothing(tmp_path: Path) -> None:
    home, base = tmp_path / "home", tmp_path / "store"
    home.mkdir()
    env = clean_env(base, home)
    procs = [
        subprocess.Popen(
            [sys.executable, str(HOSTAPP), "loop", "--runs", "100"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(8)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        assert out.splitlines()[-1] == "looped 100"
        assert err == ""
    documents = store_documents(base / "hostapp")
    ids = [d["id"] for d in documents]
    assert len(ids) == len(set(ids))
    by_kind: dict[str, int] = {}
    for d in documents:
        by_kind[str(d["kind"])] = by_kind.get(str(d["kind"]), 0) + 1
    assert by_kind == {"cli-command": 800, "build": 800, "snapshot": 800, "run-summary": 800}
    assert len({d["run_id"] for d in documents}) == 800
    assert not [p for p in (base / "hostapp").iterdir() if TEMP_NAME_RE.match(p.name)]
