"""Issues 4 and 14: the benchmarks cannot rot. CI runs their smoke mode (every measurement
at tiny sizes, no thresholds); the thresholds are checked by a full run, never by tests."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

TITLES = (
    "1. Cost over the plain app",
    "2. localtelemetry run",
    "3. In-process cost per document",
    "4. Export, whole process",
    "5. Store operations",
    "Retention step of one recorded run",
)


@pytest.mark.slow
def test_smoke_mode_runs_every_measurement(tmp_path: Path) -> None:
    out = tmp_path / "smoke.json"
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "run.py"),
            "--smoke",
            "--no-install",
            "--json",
            str(out),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for title in TITLES:
        assert title in result.stdout, title
    assert "targets are not checked" in result.stdout
    data = json.loads(out.read_text())
    assert data["mode"] == "smoke" and data["targets"] == []
    results = data["results"]
    assert set(results) == {"costs", "write", "scale"}
    costs = results["costs"]
    # Every row of issue 14's table, for both hosts, with paired whole-process figures.
    rows = {(r["host"], r["a"], r["b"]) for r in costs["rows"]}
    for host in ("typer", "click"):
        assert (host, f"{host}:installed", f"{host}:plain") in rows
        assert (host, f"{host}:recorded", f"{host}:plain") in rows
        assert (host, f"{host}:recorded-fail", f"{host}:installed-fail") in rows
    assert {r["variant"] for r in costs["run_rows"]} >= {"run:run", "run:python"}
    assert costs["heavy_imported"] == {"typer": [], "click": []}
    if shutil.which("valgrind"):
        # the smoke run counts the smallest process twice: the counts repeat
        counts = costs["instructions"]["run:python"]
        assert len(counts) == 2 and min(counts) > 1_000_000
        assert costs["instruction_spread"]["run:python"] < 0.001
    assert results["write"]["documents_per_second"] > 0
    scale = results["scale"]
    for row in scale["export"]["sizes"].values():
        # generated documents are real: every one validates and exports
        assert row["exported_documents"] == row["store_documents"] and not row["skipped"]
        assert row["peak_rss_mib"] > 0
    # Children are started from a small parent, so their peak memory is their own: the
    # floor (what `true` reports) is a bare interpreter's size, not the benchmark's.
    assert 0 < scale["spawn_floor_mib"] < 20
    assert set(scale["export"]["growth_bytes_per_document"]) == {"100-300"}
    assert data["machine"]["nproc"] >= 1 and "compileall" in data["bytecode"]
