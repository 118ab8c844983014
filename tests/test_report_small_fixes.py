"""Three small report fixes from issue 13, point 8: the command-by-version matrix names
the app of each version when several apps share a report, overlapping snapshot dots keep
every series visible, and the peak-memory p95 cell is filled."""

from __future__ import annotations

import random
import re
from datetime import timedelta
from pathlib import Path

from bundle_factory import EPOCH, Run, documents_for, write_bundle

from localtelemetry._receive.report import build_report
from localtelemetry._receive.report_html import render_html


def _report(tmp_path: Path, runs: list[Run]) -> dict[str, object]:
    rng = random.Random(13)
    documents = [d for run in runs for d in documents_for(run, rng)]
    bundle = write_bundle(tmp_path / "b.zip", documents)
    return build_report([bundle], skip_invalid=False, jobs=1)


def test_matrix_headers_name_the_app_when_apps_share_versions(tmp_path: Path) -> None:
    runs = [
        Run(("sync",), app="alpha", version="1.0"),
        Run(("sync",), "failure", 5.0, "E", app="alpha", version="2.0"),
        Run(("sync",), app="beta", version="1.0"),
        Run(("sync",), app="beta", version="2.0"),
    ]
    page = render_html(_report(tmp_path, runs))
    matrix = page[page.index('data-table="command-version"') :]
    matrix = matrix[: matrix.index("</table>")]
    headers = re.findall(r'<th class="num">([^<]*)</th>', matrix)
    assert headers == ["alpha 1.0", "alpha 2.0", "beta 1.0", "beta 2.0"]
    rows = re.findall(r'<tr><td class="name">([^<]*)</td>(.*?)</tr>', matrix)
    cells = {name: re.findall(r'<td class="cell"([^>]*)>', tds) for name, tds in rows}
    # alpha sync ran in alpha's versions only: beta's columns stay empty, and the other way.
    assert [bool(c.strip()) for c in cells["alpha sync"]] == [True, True, False, False]
    assert [bool(c.strip()) for c in cells["beta sync"]] == [False, False, True, True]
    assert 'data-app="alpha" ' in cells["alpha sync"][1]


def test_matrix_of_one_app_keeps_plain_version_headers(tmp_path: Path) -> None:
    runs = [Run(("sync",), version="1.0"), Run(("sync",), version="2.0")]
    page = render_html(_report(tmp_path, runs))
    matrix = page[page.index('data-table="command-version"') :]
    assert re.findall(r'<th class="num">([^<]*)</th>', matrix[: matrix.index("</table>")]) == [
        "1.0",
        "2.0",
    ]


def test_coinciding_snapshot_dots_stay_visible(tmp_path: Path) -> None:
    runs = [
        Run(("sync",), when=EPOCH + timedelta(days=d), snapshot=("catalog", {"a": 5, "b": 5}))
        for d in range(3)
    ]
    page = render_html(_report(tmp_path, runs))
    dots = re.findall(r'<circle class="point" [^>]*r="([\d.]+)"[^>]*data-series="(\w)"', page)
    radii = {series: {float(r) for r, s in dots if s == series} for _, series in dots}
    assert set(radii) == {"a", "b"}
    # Drawn in order a, b: b's dots are smaller, so a's show around them.
    assert max(radii["b"]) < min(radii["a"])


def test_peak_memory_p95_is_reported(tmp_path: Path) -> None:
    runs = [Run(("sync",), peak_rss_kib=1024 * (i + 1)) for i in range(20)]
    report = _report(tmp_path, runs)
    rss = report["run_summaries"]["peak_rss_kib"]  # type: ignore[index]
    assert rss == {"p50": 1024 * 11, "p95": 1024 * 19, "max": 1024 * 20}
    page = render_html(report)
    row = re.search(r"<tr><td>peak memory</td>(.*?)</tr>", page)
    assert row is not None
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", row.group(1))
    assert cells == ["11.0 MiB", "19.0 MiB", "20.0 MiB"]
