"""The README's main job: `localtelemetry demo`, as a real subprocess."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import EXAMPLE, all_files, clean_env, run_script, store_documents


def test_demo_records_and_reports(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    store_base = tmp_path / "demo-store"
    env = clean_env(tmp_path / "unused", home)
    proc = subprocess.run(
        [sys.executable, "-m", "localtelemetry", "demo", "--dir", str(store_base)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "check links (fails on purpose): exit code 1" in proc.stdout
    assert "<redacted:email>" in proc.stdout
    documents = store_documents(store_base / "nb")
    kinds = sorted(d["kind"] for d in documents)
    assert kinds.count("cli-command") == 3  # the run without --telemetry recorded nothing
    assert "snapshot" in kinds and "build" in kinds
    blob = b"".join(p.read_bytes() for p in all_files(store_base))
    assert b"alice.smith" not in blob and b"localtelemetry-demo-" not in blob


def test_demo_json_output(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = clean_env(tmp_path / "unused", home)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "localtelemetry",
            "demo",
            "--dir",
            str(tmp_path / "s"),
            "--format",
            "json",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert [r["exit_code"] for r in data["result"]["runs"]] in ([0, 0, 1, 0], [0, 0, 1, 0, 0])
    assert data["result"]["status"]["documents"] >= 9


def test_demo_uses_the_default_store_when_not_relocated(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = clean_env(tmp_path / "unused", home)
    del env["LOCALTELEMETRY_DIR"]
    env["XDG_STATE_HOME"] = str(home / "state")
    proc = subprocess.run(
        [sys.executable, "-m", "localtelemetry", "demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    if sys.platform.startswith("linux"):
        assert store_documents(home / "state" / "nb" / "telemetry")


def test_example_app_runs_on_its_own(tmp_path: Path) -> None:
    home = tmp_path / "home"
    notes = tmp_path / "notes"
    home.mkdir()
    notes.mkdir()
    (notes / "a.md").write_text("[[b]]")
    (notes / "b.md").write_text("x")
    env = clean_env(tmp_path / "store", home)
    proc = run_script(EXAMPLE, ["index", str(notes), "--telemetry"], env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("indexed 2 notes")
    assert len(store_documents(tmp_path / "store" / "nb")) == 4
    shutil.rmtree(tmp_path / "store")
