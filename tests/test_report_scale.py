"""Issue 6, scale: the small variant of benchmarks/report_scale.py (which measures
`report` over 10,000 bundles; see docs/performance.md). 200 generated bundles, every
one verified with inspect's reader; the report's totals match what was generated, and
worker processes (--jobs 2) give exactly the report of one process."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

from conftest import ROOT


def _benchmark() -> Any:
    spec = importlib.util.spec_from_file_location(
        "report_scale", ROOT / "benchmarks" / "report_scale.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_report_over_200_bundles(tmp_path: Path) -> None:
    bench = _benchmark()
    made = bench.generate(200, tmp_path / "bundles")
    assert made["bundles"] == 200
    assert bench.verify(made["paths"], None) == 200  # every bundle verifies like inspect
    parallel = bench.measure(tmp_path / "bundles", 2)
    serial = bench.measure(tmp_path / "bundles", 1)
    assert parallel["report"] == serial["report"]
    report = serial["report"]
    assert report["sources"]["bundles"] == 200 and report["duplicates"] == 0
    assert (report["documents"], report["runs"], report["failures"]) == (
        made["documents"],
        made["runs"],
        made["failures"],
    )
    assert sum(c["runs"] for c in report["commands"]) == made["runs"]
    assert sum(v["runs"] for v in report["versions"]) == made["runs"]
    assert sum(p["runs"] for p in report["timeline"]["points"]) == made["runs"]
    assert serial["peak_rss_mib"] < 300 and parallel["workers_peak_rss_mib"] < 300


def test_the_benchmark_script_runs(tmp_path: Path) -> None:
    out = tmp_path / "figures.json"
    summary = _benchmark().main(
        ["--bundles", "30", "--small", "10", "--jobs", "1", "--json", str(out)]
    )
    assert json.loads(out.read_text()) == summary
    assert summary["full"]["bundles"] == 30 and summary["small"]["bundles"] == 10
    assert summary["full"]["documents"] == summary["documents"]
