"""Issue 4: the benchmarks cannot rot. CI runs their smoke mode (every measurement at
tiny sizes, no thresholds); the thresholds are checked by a full run, never by tests."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

TITLES = (
    "1. Disabled path",
    "2. Enabled path",
    "3. In-process cost per document",
    "4. Export",
    "5. Store operations",
    "Retention step of one recorded run",
)


@pytest.mark.slow
def test_smoke_mode_runs_every_measurement(tmp_path: Path) -> None:
    out = tmp_path / "smoke.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--smoke", "--json", str(out)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for title in TITLES:
        assert title in result.stdout, title
    assert "targets are not checked" in result.stdout
    data = json.loads(out.read_text())
    assert data["mode"] == "smoke" and data["targets"] == []
    results = data["results"]
    assert set(results) == {"startup", "write", "scale"}
    # Three recorded runs, with and without blake3 loaded beforehand (the breakdown row).
    assert results["startup"]["documents_written_by_lt_on"] == {
        "cli-command": 6,
        "build": 6,
        "run-summary": 6,
    }
    assert results["startup"]["blake3_load"]["n"] == results["startup"]["rounds"]
    assert results["startup"]["heavy"]["heavy_imported"] == []
    assert results["write"]["documents_per_second"] > 0
    for row in results["scale"]["export"]["sizes"].values():
        # generated documents are real: every one validates and exports
        assert row["exported_documents"] == row["store_documents"] and not row["skipped"]
    assert data["machine"]["nproc"] >= 1 and "compileall" in data["bytecode"]
