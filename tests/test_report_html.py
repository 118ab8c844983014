"""Issue 6: `report --format html` is one self-contained page. Checked statically (no
script, nothing fetched, everything escaped) and in a real headless Chromium: it loads
without console errors, the charts render, and the numbers are the JSON report's."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bundle_factory import Population, invoke
from test_report import make_sources

from localtelemetry._receive.report import build_report
from localtelemetry._receive.report_html import fmt_int, fmt_ms, fmt_rate, render_html

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("html-sources")
    population = Population(80, seed=21, days=40)
    list(population.write(root / "population"))
    return [*make_sources(root / "hand"), root / "population"]


@pytest.fixture(scope="module")
def pages(
    sources: list[Path], tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, Any], Path]:
    out = tmp_path_factory.mktemp("html") / "report.html"
    args = [str(s) for s in sources]
    written = invoke("report", *args, "--format", "html", "-o", str(out))
    assert written.exit_code == 0, written.output
    result = invoke("report", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(result.stdout)["result"]
    return report, out


def test_the_page_is_self_contained(pages: tuple[dict[str, Any], Path]) -> None:
    _, path = pages
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert "Content-Security-Policy" in text and "default-src 'none'" in text
    lowered = text.lower()
    for needle in ("<script", "<link", "<img", "<iframe", "@import", "url(", "src="):
        assert needle not in lowered, needle
    urls = set(re.findall(r"https?://[^\s\"'<>]+", text))
    assert urls <= {"http://www.w3.org/2000/svg"}  # the SVG namespace name, never fetched
    assert all(h.startswith("#") for h in re.findall(r'href="([^"]*)"', text))


def test_hostile_names_are_escaped(tmp_path: Path) -> None:
    sources = make_sources(tmp_path / "hand")
    evil = tmp_path / "<img src=x onerror=alert(1)>.zip"
    evil.write_bytes(b"not a zip")
    report = build_report([sources[0], evil], skip_invalid=True)
    page = render_html(report)
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;.zip" in page


def test_small_reports_render(tmp_path: Path) -> None:
    report = build_report(make_sources(tmp_path)[2:])  # one directory, two bundles
    page = render_html(report)
    assert page.count('<svg class="chart"') >= 3


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        try:
            subprocess.run(
                ["apt-get", "update", "-qq"], env=env, capture_output=True, timeout=600, check=True
            )
            subprocess.run(
                ["apt-get", "install", "-y", "-qq", "chromium"],
                env=env,
                capture_output=True,
                timeout=900,
                check=True,
            )
        except (subprocess.SubprocessError, OSError) as exc:
            pytest.skip(
                f"Debian's chromium is not installed and apt-get could not install it ({exc})"
            )
        found = shutil.which("chromium")
        if found:
            return found
    pytest.skip("needs Debian's chromium (apt-get install chromium); it is not installed here")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="needs playwright (pip install playwright) to drive Chromium"
    )
    executable = _chromium()
    with sync_api.sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        except Exception as exc:  # playwright's own error type
            pytest.skip(f"Chromium at {executable} does not start: {str(exc).splitlines()[0]}")
        try:
            yield launched
        finally:
            launched.close()


def test_in_a_real_browser(
    browser: Any, pages: tuple[dict[str, Any], Path], tmp_path: Path
) -> None:
    report, path = pages
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    messages: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: messages.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: messages.append(f"pageerror: {e}"))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    assert messages == []
    assert requests == [path.as_uri()]  # the page itself, nothing else

    # every chart renders with a size
    charts = page.eval_on_selector_all(
        "svg.chart",
        "els => els.map(e => { const r = e.getBoundingClientRect();"
        " return [e.dataset.chart, r.width, r.height, e.querySelectorAll('rect,circle,line').length]; })",
    )
    kinds = {c[0] for c in charts}
    assert {"failure-by-version", "timeline", "durations", "phase-share", "snapshot"} <= kinds
    for name, width, height, marks in charts:
        assert width > 100 and height > 20 and marks > 0, name

    # cards
    cards = page.eval_on_selector_all(
        ".card",
        "els => els.map(e => [e.dataset.card, e.dataset.value, e.querySelector('.value').textContent])",
    )
    by_card = {c[0]: c for c in cards}
    assert by_card["documents"][1:] == [str(report["documents"]), fmt_int(report["documents"])]
    assert by_card["runs"][1:] == [str(report["runs"]), fmt_int(report["runs"])]
    assert float(by_card["failure_rate"][1]) == report["failure_rate"]
    assert by_card["failure_rate"][2] == fmt_rate(report["failure_rate"])

    # failure rate by version: one bar per version, its value and height follow the JSON
    bars = page.eval_on_selector_all(
        "svg[data-chart=failure-by-version] rect.bar",
        "els => els.map(e => [e.dataset.category, e.dataset.value, e.getBoundingClientRect().height])",
    )
    assert [b[0] for b in bars] == [v["version"] for v in report["versions"]]
    for (_, value, height), version in zip(bars, report["versions"], strict=True):
        assert float(value) == (version["failure_rate"] or 0.0)
        assert (height > 0) == bool(version["failures"])
    heights = {b[0]: b[2] for b in bars}
    top = max(report["versions"], key=lambda v: v["failure_rate"] or 0)
    assert heights[top["version"]] == max(heights.values())

    # timeline: the stacked bars add up to the runs of each period and in total
    segments = page.eval_on_selector_all(
        "svg[data-chart=timeline] rect.bar",
        "els => els.map(e => [e.dataset.category, e.dataset.series, e.dataset.value])",
    )
    per_period: dict[str, int] = {}
    for period, _series, value in segments:
        per_period[period] = per_period.get(period, 0) + int(float(value))
    assert per_period == {p["period"]: p["runs"] for p in report["timeline"]["points"]}

    # commands table: every number is the JSON's, shown as formatted
    rows = page.eval_on_selector_all(
        "table[data-table=commands] tbody tr",
        "rows => rows.map(r => [r.dataset.command, Object.fromEntries([...r.querySelectorAll('td[data-key]')]"
        ".map(td => [td.dataset.key, [td.dataset.value, td.textContent.trim()]]))])",
    )
    assert [r[0] for r in rows] == [c["command"] for c in report["commands"]]
    for (_, cells), command in zip(rows, report["commands"], strict=True):
        for key in ("runs", "success", "failure", "interrupted"):
            assert cells[key] == [str(command[key]), fmt_int(command[key])]
        assert float(cells["failure_rate"][0]) == command["failure_rate"]
        assert cells["failure_rate"][1].endswith(fmt_rate(command["failure_rate"]))
        for key in ("p50_ms", "p95_ms", "max_ms"):
            assert float(cells[key][0]) == command["duration"][key]
            assert cells[key][1] == fmt_ms(command["duration"][key])

    # duration ranges and phase shares
    ranges = page.eval_on_selector_all(
        "svg[data-chart=durations] rect.range",
        "els => els.map(e => [e.dataset.command, +e.dataset.p50, +e.dataset.p95, e.getBoundingClientRect().width])",
    )
    expected = {c["command"]: c["duration"] for c in report["commands"]}
    for name, p50, p95, width in ranges:
        assert (p50, p95) == (expected[name]["p50_ms"], expected[name]["p95_ms"]) and width > 0
    shares = page.eval_on_selector_all(
        ".build",
        "els => els.map(b => [b.dataset.build, [...b.querySelectorAll('rect.share')].map(r => [r.dataset.phase, +r.dataset.value])])",
    )
    for name, phases in shares:
        build = next(b for b in report["builds"] if b["build"] == name)
        assert phases == [[p["phase"], p["share"]] for p in build["phases"]]

    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 50_000
    page.close()
