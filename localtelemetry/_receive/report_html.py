"""``report --format html``: one self-contained HTML page.

No script, no font, no image, nothing fetched: the charts are inline SVG drawn here,
the styles are inline, and a Content-Security-Policy forbids the page to load
anything at all. Every number shown comes from the same report data as
``report --format json``; each chart element and numeric cell carries that number in
a ``data-value`` attribute, so the page can be checked against the JSON.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from localtelemetry._record.documents import BUCKET_NAMES

# Colours chosen to read well for most kinds of colour vision, and in print.
OK = "#4c78a8"
FAIL = "#e45756"
INTERRUPTED = "#f2a93b"
MUTED = "#9aa5b1"
INK = "#1f2933"
GRID = "#e4e7eb"
PALETTE = (
    "#4c78a8",
    "#f58518",
    "#54a24b",
    "#b279a2",
    "#eeca3b",
    "#72b7b2",
    "#ff9da6",
    "#9d755d",
    "#bab0ac",
    "#e45756",
)
MAX_CHART_ROWS = 15
NONE = "\u2013"  # an en dash: no value
MAX_VERSIONS = 40
BUCKET_LABELS = {
    "lt_100ms": "< 100 ms",
    "100ms_500ms": "100-500 ms",
    "500ms_1s": "0.5-1 s",
    "1s_5s": "1-5 s",
    "5s_30s": "5-30 s",
    "30s_2m": "30 s-2 min",
    "2m_10m": "2-10 min",
    "gte_10m": "≥ 10 min",
}

CSS = """
:root { --ink: #1f2933; --muted: #616e7c; --line: #e4e7eb; --bg: #f5f7fa; --card: #fff; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  sans-serif; }
header { background: #243b53; color: #fff; padding: 22px 32px 18px; }
header h1 { margin: 0 0 4px; font-size: 22px; font-weight: 600; }
header p { margin: 0; color: #bcccdc; }
main { max-width: 1180px; margin: 0 auto; padding: 20px 24px 40px; }
nav { margin: 0 0 18px; font-size: 13px; }
nav a { color: #334e68; margin-right: 14px; text-decoration: none; }
nav a:hover { text-decoration: underline; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr));
  gap: 12px; margin-bottom: 20px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
  padding: 12px 14px; }
.card .label { color: var(--muted); font-size: 12px; text-transform: uppercase;
  letter-spacing: .04em; }
.card .value { font-size: 24px; font-weight: 600; margin-top: 2px;
  font-variant-numeric: tabular-nums; }
.card .value.bad { color: #c81e1e; }
.card .sub { color: var(--muted); font-size: 12px; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
  padding: 16px 20px 18px; margin-bottom: 18px; }
section h2 { margin: 0 0 4px; font-size: 17px; font-weight: 600; }
section p.note { margin: 0 0 12px; color: var(--muted); font-size: 13px; }
.grid2 { display: grid; grid-template-columns: 1fr 1fr; gap: 18px; }
@media (max-width: 900px) { .grid2 { grid-template-columns: 1fr; } }
svg.chart { width: 100%; height: auto; display: block; }
svg text { font: 12px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
  fill: var(--ink); }
svg .axis text { fill: #616e7c; font-size: 11px; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 5px 8px; border-bottom: 1px solid var(--line); text-align: left;
  vertical-align: top; }
th { font-size: 12px; color: var(--muted); font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; white-space: nowrap; }
td.name { white-space: nowrap; font-size: 13px;
  font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
tr:hover td { background: #f8fafc; }
.rate { display: inline-flex; align-items: center; gap: 6px; justify-content: flex-end; }
.rate i.track { display: inline-block; width: 56px; height: 8px; background: #edf0f3;
  border-radius: 2px; overflow: hidden; }
.rate i.track i { display: block; height: 100%; background: #e45756; }
.rate b { font-weight: 400; min-width: 46px; text-align: right; }
.legend { display: flex; flex-wrap: wrap; gap: 14px; font-size: 12px; color: var(--muted);
  margin: 4px 0 8px; }
.legend span::before { content: ""; display: inline-block; width: 10px; height: 10px;
  border-radius: 2px; margin-right: 5px; vertical-align: -1px; background: var(--c); }
.heat td.cell { text-align: center; font-size: 12px; }
.kinds { color: var(--muted); font-size: 12px; }
footer { color: var(--muted); font-size: 12px; max-width: 1180px; margin: 0 auto;
  padding: 0 24px 30px; }
footer code { font-size: 11px; }
.empty { color: var(--muted); font-style: italic; }
"""


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def fmt_int(n: int | None) -> str:
    return "" if n is None else f"{n:,}"


def fmt_rate(rate: float | None) -> str:
    return NONE if rate is None else f"{rate * 100:.1f}%"


def fmt_ms(ms: float | None) -> str:
    """A duration for people: 0.42 ms, 183 ms, 1.24 s, 3.5 min."""
    if ms is None:
        return NONE
    if ms < 1:
        return f"{ms:.2f} ms"
    if ms < 1000:
        return f"{ms:.3g} ms" if ms < 100 else f"{ms:.0f} ms"
    if ms < 60_000:
        return f"{ms / 1000:.3g} s"
    if ms < 3_600_000:
        return f"{ms / 60_000:.3g} min"
    return f"{ms / 3_600_000:.3g} h"


def _value_attr(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def cell(
    value: object, text: str | None = None, *, cls: str = "num", key: str | None = None
) -> str:
    data = f' data-value="{esc(_value_attr(value))}"'
    if key:
        data += f' data-key="{esc(key)}"'
    shown = text if text is not None else fmt_int(value) if isinstance(value, int) else value
    return f'<td class="{cls}"{data}>{esc(shown)}</td>'


def rate_cell(rate: float | None, key: str | None = None) -> str:
    width = 0.0 if rate is None else min(rate, 1.0) * 100
    bar = f'<i class="track"><i style="width:{width:.1f}%"></i></i>'
    data = f' data-value="{esc(_value_attr(rate))}"'
    if key:
        data += f' data-key="{esc(key)}"'
    return f'<td class="num"{data}><span class="rate">{bar}<b>{fmt_rate(rate)}</b></span></td>'


# -- charts --------------------------------------------------------------------------


def nice_ticks(top: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to at least ``top``."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    ticks = [0.0]
    while ticks[-1] < top - 1e-12:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def _svg(width: int, height: int, chart: str, label: str, body: str) -> str:
    return (
        f'<svg class="chart" data-chart="{esc(chart)}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{esc(label)}" '
        f'xmlns="http://www.w3.org/2000/svg">{body}</svg>'
    )


def column_chart(
    chart: str,
    label: str,
    categories: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[float]]],
    *,
    value_format: Callable[[float], str],
    tooltips: Sequence[str] | None = None,
    top_labels: Sequence[str] | None = None,
    axis_labels: Sequence[str] | None = None,
    sub_labels: Sequence[str] | None = None,
    width: int = 960,
    height: int = 260,
) -> str:
    """Vertical bars, stacked when there are several series (name, colour, values).
    Axis labels are thinned out so that they never overlap."""
    shown = list(axis_labels or categories)
    left, right, top, bottom = 52, 12, 20, 46 if sub_labels else 30
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(s[2][i] for s in series) for i in range(len(categories))]
    ticks = nice_ticks(max(totals, default=0) or 1)
    ymax = ticks[-1]
    parts = ['<g class="axis">']
    for t in ticks:
        y = top + plot_h - plot_h * t / ymax
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{GRID}"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{esc(value_format(t))}</text>'
        )
    parts.append("</g>")
    n = max(len(categories), 1)
    slot = plot_w / n
    bar_w = max(2.0, min(56.0, slot * 0.72))
    label_px = max((7 * len(t) for t in [*shown, *(sub_labels or [])]), default=0) + 12
    label_every = max(1, math.ceil(label_px / slot))
    for i, category in enumerate(categories):
        x = left + slot * i + (slot - bar_w) / 2
        y = top + plot_h
        for name, colour, values in series:
            value = values[i]
            h = plot_h * value / ymax if ymax else 0
            y -= h
            tip = (tooltips[i] if tooltips else f"{category}: {value_format(value)}") + (
                f" ({name})" if len(series) > 1 else ""
            )
            parts.append(
                f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" '
                f'height="{max(h, 0):.1f}" fill="{colour}" data-series="{esc(name)}" '
                f'data-category="{esc(category)}" data-value="{esc(_value_attr(value))}">'
                f"<title>{esc(tip)}</title></rect>"
            )
        if top_labels is not None and bar_w >= 24:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{y - 5:.1f}" text-anchor="middle" '
                f'font-size="11">{esc(top_labels[i])}</text>'
            )
        if i % label_every == 0:
            cx = x + bar_w / 2
            ly = top + plot_h + 16
            parts.append(
                f'<g class="axis"><text x="{cx:.1f}" y="{ly:.1f}" text-anchor="middle">'
                f"{esc(shown[i])}</text>"
                + (
                    f'<text x="{cx:.1f}" y="{ly + 15:.1f}" text-anchor="middle">'
                    f"{esc(sub_labels[i])}</text>"
                    if sub_labels
                    else ""
                )
                + "</g>"
            )
    parts.append(
        f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" '
        f'stroke="{MUTED}"/>'
    )
    return _svg(width, height, chart, label, "".join(parts))


def _log_ticks(low: float, high: float) -> list[float]:
    candidates = [
        0.01, 0.1, 1, 10, 100, 1_000, 10_000, 60_000, 600_000, 3_600_000, 36_000_000,
    ]  # fmt: skip
    return [t for t in candidates if low <= t <= high]


def duration_chart(rows: Sequence[dict[str, Any]], *, width: int = 960) -> str:
    """Per command: a bar from p50 to p95 and a tick at the max, on a log scale."""
    row_h, left, right, top, bottom = 26, 170, 200, 8, 30
    height = top + bottom + row_h * len(rows)
    values = [
        v
        for r in rows
        for v in (r["duration"]["p50_ms"], r["duration"]["p95_ms"], r["duration"]["max_ms"])
        if v is not None
    ]
    positive = [v for v in values if v > 0] or [1.0]
    low = 10 ** math.floor(math.log10(min(positive)))
    high = 10 ** math.ceil(math.log10(max(positive)))
    if high <= low:
        high = low * 10
    plot_w = width - left - right

    def x_of(v: float) -> float:
        v = max(v, low)
        return left + plot_w * (math.log10(v) - math.log10(low)) / (
            math.log10(high) - math.log10(low)
        )

    parts = ['<g class="axis">']
    for t in _log_ticks(low, high):
        x = x_of(t)
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{height - bottom}" stroke="{GRID}"/>'
            f'<text x="{x:.1f}" y="{height - bottom + 16}" text-anchor="middle">'
            f"{esc(fmt_ms(t))}</text>"
        )
    parts.append("</g>")
    for i, r in enumerate(rows):
        y = top + row_h * i
        d = r["duration"]
        p50, p95, most = d["p50_ms"], d["p95_ms"], d["max_ms"]
        name = r["command"]
        parts.append(
            f'<text x="{left - 10}" y="{y + 17}" text-anchor="end" '
            f'font-family="ui-monospace, Menlo, Consolas, monospace">{esc(_clip(name, 26))}</text>'
        )
        if p50 is None:
            continue
        x50, x95, xmax = x_of(p50), x_of(p95), x_of(most)
        tip = f"{name}: p50 {fmt_ms(p50)}, p95 {fmt_ms(p95)}, max {fmt_ms(most)}"
        parts.append(
            f'<line x1="{x95:.1f}" x2="{xmax:.1f}" y1="{y + 13}" y2="{y + 13}" '
            f'stroke="{MUTED}" stroke-dasharray="3 3"/>'
            f'<rect class="range" x="{x50:.1f}" y="{y + 6}" width="{max(x95 - x50, 3):.1f}" '
            f'height="14" rx="3" fill="{OK}" fill-opacity="0.35" stroke="{OK}" '
            f'data-command="{esc(name)}" data-p50="{p50}" data-p95="{p95}">'
            f"<title>{esc(tip)}</title></rect>"
            f'<line x1="{x50:.1f}" x2="{x50:.1f}" y1="{y + 4}" y2="{y + 22}" stroke="{OK}" '
            f'stroke-width="3"/>'
            f'<line class="max" x1="{xmax:.1f}" x2="{xmax:.1f}" y1="{y + 7}" y2="{y + 19}" '
            f'stroke="{INK}" stroke-width="1.5" data-value="{most}"/>'
            f'<text x="{width - right + 8}" y="{y + 17}" class="axis" fill="#616e7c">'
            f"{esc(fmt_ms(p50))} · {esc(fmt_ms(p95))} · {esc(fmt_ms(most))}</text>"
        )
    return _svg(width, height, "durations", "Duration by command", "".join(parts))


def share_bar(build: dict[str, Any], colours: dict[str, str], *, width: int = 960) -> str:
    """One 100% bar: each phase's share of the build's total time."""
    height, left, right = 34, 0, 0
    plot_w = width - left - right
    x = float(left)
    parts = []
    for phase in build["phases"]:
        share = phase["share"] or 0.0
        w = plot_w * min(share, 1.0)
        tip = f"{phase['phase']}: {fmt_rate(share)} of build time ({fmt_ms(phase['total_ms'])})"
        parts.append(
            f'<rect class="share" x="{x:.1f}" y="4" width="{max(w, 0):.1f}" height="24" '
            f'fill="{colours[phase["phase"]]}" data-phase="{esc(phase["phase"])}" '
            f'data-value="{esc(_value_attr(phase["share"]))}"><title>{esc(tip)}</title></rect>'
        )
        if w > 56:
            parts.append(
                f'<text x="{x + w / 2:.1f}" y="21" text-anchor="middle" fill="#fff" '
                f'style="fill:#fff">{esc(_clip(phase["phase"], int(w / 8)))} '
                f"{esc(fmt_rate(share))}</text>"
            )
        x += w
    rest = left + plot_w - x
    if rest > 0.5:
        parts.append(
            f'<rect x="{x:.1f}" y="4" width="{rest:.1f}" height="24" fill="{GRID}">'
            "<title>outside any phase</title></rect>"
        )
    return _svg(
        width, height, "phase-share", f"Phase time share of {build['build']}", "".join(parts)
    )


def line_chart(
    chart: str,
    label: str,
    periods: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[float | None]]],
    *,
    width: int = 460,
    height: int = 200,
) -> str:
    left, right, top, bottom = 44, 12, 14, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for _, _, vs in series for v in vs if v is not None]
    ticks = nice_ticks(max(values, default=0) or 1, 4)
    ymax = ticks[-1]
    n = len(periods)

    def x_of(i: int) -> float:
        return left + (plot_w / 2 if n == 1 else plot_w * i / (n - 1))

    def y_of(v: float) -> float:
        return top + plot_h - plot_h * v / ymax

    parts = ['<g class="axis">']
    for t in ticks:
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y_of(t):.1f}" y2="{y_of(t):.1f}" '
            f'stroke="{GRID}"/><text x="{left - 5}" y="{y_of(t) + 4:.1f}" '
            f'text-anchor="end">{esc(f"{t:g}")}</text>'
        )
    every = max(1, math.ceil(n / max(2, plot_w // 60)))
    for i in range(0, n, every):
        if 0 <= i < n:
            parts.append(
                f'<text x="{x_of(i):.1f}" y="{height - 10}" text-anchor="middle">'
                f"{esc(periods[i][5:] if len(periods[i]) == 10 else periods[i])}</text>"
            )
    parts.append("</g>")
    for k, (name, colour, vs) in enumerate(series):
        # Later series draw smaller dots: where values coincide every series stays visible.
        radius = 3 + 1.5 * (len(series) - 1 - k)
        points = [(x_of(i), y_of(v), v) for i, v in enumerate(vs) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points)
            parts.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>'
            )
        kept = [p for p, v in zip(periods, vs, strict=True) if v is not None]
        for (x, y, v), period in zip(points, kept, strict=True):
            parts.append(
                f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="{radius:g}" fill="{colour}" '
                f'data-series="{esc(name)}" data-period="{esc(period)}" data-value="{v}">'
                f"<title>{esc(f'{name} {period}: {v:g}')}</title></circle>"
            )
    return _svg(width, height, chart, label, "".join(parts))


def _clip(text: str, most: int) -> str:
    return text if len(text) <= most else text[: max(most - 1, 1)] + "…"


def _legend(items: Sequence[tuple[str, str]]) -> str:
    return (
        '<div class="legend">'
        + "".join(f'<span style="--c:{c}">{esc(n)}</span>' for n, c in items)
        + "</div>"
    )


# -- the page ------------------------------------------------------------------------


def _cards(r: dict[str, Any]) -> str:
    src = r["sources"]
    versions = len(r["versions"])
    failing = r["failure_rate"] is not None and r["failure_rate"] >= 0.1
    cards = [
        ("documents", fmt_int(r["documents"]), "documents", f"{r['duplicates']:,} duplicates"),
        ("runs", fmt_int(r["runs"]), "command runs", f"{r['failures']:,} failed"),
        ("failure_rate", fmt_rate(r["failure_rate"]), "failure rate", "of all command runs"),
        ("versions", fmt_int(versions), "app versions", ", ".join(r["apps"])),
        (
            "bundles",
            fmt_int(src["bundles"]),
            "bundles read",
            f"{src['stores'] + src['extracted']} stores/dirs, {src['skipped']} skipped",
        ),
        ("period", _days(r), "period", _span(r)),
    ]
    values = {
        "documents": r["documents"],
        "runs": r["runs"],
        "failure_rate": r["failure_rate"],
        "versions": versions,
        "bundles": src["bundles"],
        "period": r["first"],
    }
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card" data-card="{key}" data-value="{esc(_value_attr(values[key]))}">'
            f'<div class="label">{esc(label)}</div>'
            f'<div class="value{" bad" if key == "failure_rate" and failing else ""}">'
            f"{esc(value)}</div>"
            f'<div class="sub">{esc(sub)}</div></div>'
            for key, value, label, sub in cards
        )
        + "</div>"
    )


def _days(r: dict[str, Any]) -> str:
    if not r["first"] or not r["last"]:
        return NONE
    from datetime import date

    span = (date.fromisoformat(r["last"][:10]) - date.fromisoformat(r["first"][:10])).days + 1
    return f"{span:,} day{'s' if span != 1 else ''}"


def _span(r: dict[str, Any]) -> str:
    first, last = (r["first"] or "")[:10], (r["last"] or "")[:10]
    return f"{first} to {last[5:] if first[:4] == last[:4] else last}"


def _versions_section(r: dict[str, Any]) -> str:
    versions = r["versions"][-MAX_VERSIONS:]
    multi = len(r["apps"]) > 1
    names = [f"{v['app']} {v['version']}" if multi else v["version"] for v in versions]
    with_runs = [v for v in versions if v["runs"]]
    chart = (
        column_chart(
            "failure-by-version",
            "Failure rate by version",
            names,
            [("failure rate", FAIL, [v["failure_rate"] or 0.0 for v in versions])],
            value_format=lambda t: f"{t * 100:.0f}%",
            tooltips=[
                f"{n}: {fmt_rate(v['failure_rate'])} of {v['runs']:,} runs failed"
                for n, v in zip(names, versions, strict=True)
            ],
            top_labels=[fmt_rate(v["failure_rate"]) if v["runs"] else "" for v in versions],
            sub_labels=[f"{v['runs']:,} runs" for v in versions],
        )
        if with_runs
        else '<p class="empty">No command runs.</p>'
    )
    rows = "".join(
        "<tr>"
        + f'<td class="name">{esc(n)}</td>'
        + cell(v["runs"], key="runs")
        + cell(v["failures"], key="failures")
        + cell(v["interrupted"], key="interrupted")
        + rate_cell(v["failure_rate"], "failure_rate")
        + cell(v["documents"], key="documents")
        + cell(v["first"], v["first"][:10], cls="", key="first")
        + cell(v["last"], v["last"][:10], cls="", key="last")
        + "</tr>"
        for n, v in zip(names, versions, strict=True)
    )
    more = (
        f" Showing the last {MAX_VERSIONS} of {len(r['versions'])}."
        if len(r["versions"]) > MAX_VERSIONS
        else ""
    )
    return (
        '<section id="versions"><h2>Failure rate by version</h2>'
        '<p class="note">Share of command runs that failed, per app version (natural version '
        f"order).{more}</p>"
        + chart
        + '<table data-table="versions"><thead><tr><th>version</th><th class="num">runs</th>'
        '<th class="num">failed</th><th class="num">interrupted</th>'
        '<th class="num">failure rate</th><th class="num">documents</th><th>first</th>'
        f"<th>last</th></tr></thead><tbody>{rows}</tbody></table></section>"
    )


def _timeline_section(r: dict[str, Any]) -> str:
    points = r["timeline"]["points"]
    bucket = r["timeline"]["bucket"]
    if not points or not r["runs"]:
        return ""
    periods = [p["period"] for p in points]
    chart = column_chart(
        "timeline",
        "Command runs over time",
        periods,
        [
            ("success", OK, [p["success"] for p in points]),
            ("failure", FAIL, [p["failure"] for p in points]),
            ("interrupted", INTERRUPTED, [p["interrupted"] for p in points]),
        ],
        value_format=lambda t: f"{t:g}",
        tooltips=[
            f"{p['period']}: {p['runs']:,} runs, {p['failure']:,} failed "
            f"({fmt_rate(p['failure_rate'])})"
            for p in points
        ],
        axis_labels=[_short_period(p) for p in periods],
        height=240,
    )
    return (
        f'<section id="timeline"><h2>Timeline</h2><p class="note">Command runs per {bucket} '
        "(UTC), by outcome.</p>"
        + _legend([("success", OK), ("failure", FAIL), ("interrupted", INTERRUPTED)])
        + chart
        + "</section>"
    )


def _short_period(period: str) -> str:
    """2026-03-02 -> 03-02 (the year is in the header); months stay 2026-03."""
    return period[5:] if len(period) == 10 else period


def _commands_section(r: dict[str, Any]) -> str:
    commands = r["commands"]
    if not commands:
        return ""
    rows = "".join(
        f'<tr data-command="{esc(c["command"])}"><td class="name">{esc(c["command"])}</td>'
        + cell(c["runs"], key="runs")
        + cell(c["success"], key="success")
        + cell(c["failure"], key="failure")
        + cell(c["interrupted"], key="interrupted")
        + rate_cell(c["failure_rate"], "failure_rate")
        + cell(c["duration"]["p50_ms"], fmt_ms(c["duration"]["p50_ms"]), key="p50_ms")
        + cell(c["duration"]["p95_ms"], fmt_ms(c["duration"]["p95_ms"]), key="p95_ms")
        + cell(c["duration"]["max_ms"], fmt_ms(c["duration"]["max_ms"]), key="max_ms")
        + '<td class="kinds">'
        + esc(", ".join(f"{k} \u00d7{v}" for k, v in c["error_kinds"].items()))
        + "</td></tr>"
        for c in commands
    )
    shown = commands[:MAX_CHART_ROWS]
    more = (
        f" The charts show the {MAX_CHART_ROWS} commands with the most runs."
        if len(commands) > MAX_CHART_ROWS
        else ""
    )
    heat_rows = "".join(
        f'<tr><td class="name">{esc(c["command"])}</td>'
        + "".join(
            _heat(c["duration_buckets"][b], c["runs"], f"{c['command']} {BUCKET_LABELS[b]}")
            for b in BUCKET_NAMES
        )
        + "</tr>"
        for c in shown
    )
    return (
        '<section id="commands"><h2>Commands</h2><p class="note">Runs, outcomes and '
        "durations per command. Percentiles are nearest-rank; failure rate counts "
        f"<em>failure</em> outcomes only.{more}</p>"
        '<table data-table="commands"><thead><tr><th>command</th><th class="num">runs</th>'
        '<th class="num">ok</th><th class="num">failed</th><th class="num">interrupted</th>'
        '<th class="num">failure rate</th><th class="num">p50</th><th class="num">p95</th>'
        f'<th class="num">max</th><th>error kinds</th></tr></thead><tbody>{rows}</tbody>'
        "</table></section>"
        '<section id="durations"><h2>Duration by command</h2><p class="note">Bar: p50 to '
        "p95; dashed line to the slowest run (log scale). Labels: p50 · p95 · max.</p>"
        + duration_chart(shown)
        + '<h3 style="font-size:14px;margin:16px 0 6px">Distribution</h3>'
        '<table class="heat" data-table="duration-buckets"><thead><tr><th>command</th>'
        + "".join(f'<th class="num">{esc(BUCKET_LABELS[b])}</th>' for b in BUCKET_NAMES)
        + f"</tr></thead><tbody>{heat_rows}</tbody></table></section>"
    )


def _heat(count: int, runs: int, title: str) -> str:
    share = count / runs if runs else 0
    alpha = 0 if not count else 0.12 + 0.78 * share
    colour = "#fff" if alpha > 0.55 else INK
    return (
        f'<td class="cell" data-value="{count}" title="{esc(title)}: {count:,} runs" '
        f'style="background:rgba(76,120,168,{alpha:.2f});color:{colour}">'
        f"{fmt_int(count) if count else ''}</td>"
    )


def _matrix_section(r: dict[str, Any]) -> str:
    """Failure rate per command and version: where a regression started."""
    commands = [c for c in r["commands"][:MAX_CHART_ROWS] if c["by_version"]]
    versions: list[tuple[str, str]] = []  # (app, version): apps may share version numbers
    for v in r["versions"]:
        if (v["app"], v["version"]) not in versions:
            versions.append((v["app"], v["version"]))
    versions = versions[-12:]
    if len(versions) < 2 or not commands:
        return ""
    multi = len({app for app, _ in versions}) > 1
    rows = []
    for c in commands:
        by = {(c["app"], v["version"]): v for v in c["by_version"]}
        tds = []
        for app, version in versions:
            v = by.get((app, version))
            if v is None:
                tds.append('<td class="cell"></td>')
                continue
            rate = v["failure_rate"] or 0.0
            alpha = 0.06 + 0.85 * rate if v["failures"] else 0.0
            colour = "#fff" if alpha > 0.5 else INK
            tds.append(
                f'<td class="cell" data-value="{esc(_value_attr(v["failure_rate"]))}" '
                f'data-version="{esc(version)}" data-app="{esc(app)}" '
                f'title="{esc(c["command"])} {esc(version)}: {v["failures"]:,} of '
                f'{v["runs"]:,} runs failed" '
                f'style="background:rgba(228,87,86,{alpha:.2f});color:{colour}">'
                f"{fmt_rate(v['failure_rate'])}</td>"
            )
        rows.append(f'<tr><td class="name">{esc(c["command"])}</td>{"".join(tds)}</tr>')
    return (
        '<section id="regressions"><h2>Failure rate by command and version</h2>'
        '<p class="note">Each cell: failed runs / runs of that command in that version. '
        "Empty: no runs.</p>"
        '<table class="heat" data-table="command-version"><thead><tr><th>command</th>'
        + "".join(f'<th class="num">{esc(f"{a} {v}" if multi else v)}</th>' for a, v in versions)
        + f"</tr></thead><tbody>{''.join(rows)}</tbody></table></section>"
    )


def _errors_and_platforms(r: dict[str, Any]) -> str:
    errors = "".join(
        f'<tr><td class="name">{esc(e["error_kind"])}</td>'
        + cell(e["count"], key="count")
        + f'<td class="kinds">{esc(", ".join(e["commands"]))}</td></tr>'
        for e in r["errors"][:20]
    )
    error_table = (
        '<table data-table="errors"><thead><tr><th>error kind</th><th class="num">count</th>'
        f"<th>commands</th></tr></thead><tbody>{errors}</tbody></table>"
        if errors
        else '<p class="empty">No errors recorded.</p>'
    )
    platform_rows = _rate_rows((f"{p['os']}/{p['arch']}", p) for p in r["platforms"])
    context_rows = _rate_rows((c["runtime_context"], c) for c in r["runtime_contexts"])
    head = (
        '<thead><tr><th>{}</th><th class="num">runs</th><th class="num">failure rate</th>'
        '<th class="num">documents</th></tr></thead>'
    )
    return (
        '<div class="grid2"><section id="errors"><h2>Errors</h2><p class="note">Error kinds '
        "(exception classes) of failed runs, most frequent first.</p>"
        + error_table
        + '</section><section id="platforms"><h2>Platforms</h2><p class="note">Operating '
        "system and architecture, then where the runs happened.</p>"
        f'<table data-table="platforms">{head.format("platform")}<tbody>{platform_rows}</tbody>'
        f'</table><br><table data-table="contexts">{head.format("context")}'
        f"<tbody>{context_rows}</tbody></table></section></div>"
    )


def _rate_rows(named: Iterable[tuple[str, dict[str, Any]]]) -> str:
    """Rows of runs, failure rate and documents, one per (name, group) pair."""
    return "".join(
        f'<tr><td class="name">{esc(name)}</td>'
        + cell(group["runs"], key="runs")
        + rate_cell(group["failure_rate"], "failure_rate")
        + cell(group["documents"], key="documents")
        + "</tr>"
        for name, group in named
    )


def _builds_section(r: dict[str, Any]) -> str:
    builds = r["builds"]
    if not builds:
        return ""
    names: list[str] = []
    for b in builds:
        for p in b["phases"]:
            if p["phase"] not in names:
                names.append(p["phase"])
    colours = {n: PALETTE[i % len(PALETTE)] for i, n in enumerate(names)}
    parts = []
    for b in builds[:MAX_CHART_ROWS]:
        statuses = ", ".join(f"{k} {v:,}" for k, v in b["statuses"].items())
        rows = "".join(
            f'<tr><td class="name"><span style="color:{colours[p["phase"]]}">■</span> '
            f"{esc(p['phase'])}</td>"
            + cell(p["runs"], key="runs")
            + cell(p["share"], fmt_rate(p["share"]), key="share")
            + cell(p["total_ms"], fmt_ms(p["total_ms"]), key="total_ms")
            + cell(p["duration"]["p50_ms"], fmt_ms(p["duration"]["p50_ms"]), key="p50_ms")
            + cell(p["duration"]["p95_ms"], fmt_ms(p["duration"]["p95_ms"]), key="p95_ms")
            + cell(p["duration"]["max_ms"], fmt_ms(p["duration"]["max_ms"]), key="max_ms")
            + cell(p["failures"], key="failures")
            + "</tr>"
            for p in b["phases"]
        )
        d = b["duration"]
        parts.append(
            f'<div class="build" data-build="{esc(b["build"])}">'
            f'<h3 style="font-size:14px;margin:14px 0 2px"><span class="name">{esc(b["build"])}'
            f'</span></h3><p class="note">{b["runs"]:,} runs ({esc(statuses)}); '
            f"p50 {fmt_ms(d['p50_ms'])}, p95 {fmt_ms(d['p95_ms'])}, max {fmt_ms(d['max_ms'])}"
            "</p>"
            + (share_bar(b, colours) if b["phases"] else "")
            + (
                '<table data-table="phases"><thead><tr><th>phase</th><th class="num">runs</th>'
                '<th class="num">time share</th><th class="num">total</th>'
                '<th class="num">p50</th><th class="num">p95</th><th class="num">max</th>'
                f'<th class="num">failed</th></tr></thead><tbody>{rows}</tbody></table>'
                if rows
                else ""
            )
            + "</div>"
        )
    return (
        '<section id="builds"><h2>Builds and phases</h2><p class="note">Each bar is the '
        "build's total time; each phase's share is its total time over that. Grey: time "
        "outside any phase.</p>" + "".join(parts) + "</section>"
    )


def _snapshots_section(r: dict[str, Any]) -> str:
    snapshots = r["snapshots"]
    if not snapshots:
        return ""
    bucket = r["timeline"]["bucket"]
    charts = []
    for s in snapshots[:MAX_CHART_ROWS]:
        periods = [p["period"] for p in s["series"]]
        names = sorted({n for p in s["series"] for n in p["counts"]})[: len(PALETTE)]
        series = [
            (
                n,
                PALETTE[i % len(PALETTE)],
                [p["counts"][n]["mean"] if n in p["counts"] else None for p in s["series"]],
            )
            for i, n in enumerate(names)
        ]
        charts.append(
            f'<div data-snapshot="{esc(s["snapshot"])}"><h3 style="font-size:14px;margin:6px 0 0">'
            f'<span class="name">{esc(s["snapshot"])}</span> <span class="kinds">'
            f"{s['runs']:,} snapshots</span></h3>"
            + _legend([(n, c) for n, c, _ in series])
            + line_chart(
                "snapshot",
                f"Counts of snapshot {s['snapshot']} over time",
                periods,
                series,
                width=460 if len(snapshots) > 1 else 960,
                height=200 if len(snapshots) > 1 else 220,
            )
            + "</div>"
        )
    layout = "grid2" if len(charts) > 1 else "single"
    return (
        f'<section id="snapshots"><h2>Snapshots over time</h2><p class="note">Mean of each '
        f"count per {bucket} (UTC).</p>"
        f'<div class="{layout}">{"".join(charts)}</div></section>'
    )


def _recorder_section(r: dict[str, Any]) -> str:
    s = r["run_summaries"]
    if not s["runs"]:
        return ""
    rss = s["peak_rss_kib"]
    overhead = s["recorder_overhead"]
    return (
        '<section id="recorder"><h2>Runs and the recorder</h2><p class="note">From the '
        "run-summary documents: whole-run time and the recorder's own cost.</p>"
        '<table data-table="recorder"><thead><tr><th></th><th class="num">p50</th>'
        '<th class="num">p95</th><th class="num">max</th></tr></thead><tbody>'
        "<tr><td>run duration</td>"
        + cell(s["duration"]["p50_ms"], fmt_ms(s["duration"]["p50_ms"]))
        + cell(s["duration"]["p95_ms"], fmt_ms(s["duration"]["p95_ms"]))
        + cell(s["duration"]["max_ms"], fmt_ms(s["duration"]["max_ms"]))
        + "</tr><tr><td>recorder overhead</td>"
        + cell(overhead["p50_ms"], fmt_ms(overhead["p50_ms"]))
        + cell(overhead["p95_ms"], fmt_ms(overhead["p95_ms"]))
        + cell(overhead["max_ms"], fmt_ms(overhead["max_ms"]))
        + "</tr><tr><td>peak memory</td>"
        + cell(rss["p50"], _kib(rss["p50"]))
        + cell(rss["p95"], _kib(rss["p95"]))
        + cell(rss["max"], _kib(rss["max"]))
        + "</tr></tbody></table></section>"
    )


def _kib(value: float | None) -> str:
    return NONE if value is None else f"{value / 1024:.1f} MiB"


def _footer(r: dict[str, Any]) -> str:
    src = r["sources"]
    skipped = "".join(
        f"<li><code>{esc(s['source'])}</code>: {esc(s['reason'])}</li>"
        for s in src["skipped_listed"]
    )
    return (
        "<footer><p>Made by <code>localtelemetry report</code> (report format "
        f"{r['report_version']}) from {src['bundles']:,} bundles, {src['stores']:,} stores, "
        f"{src['extracted']:,} extracted bundles and {src['files']:,} document files; every "
        "bundle was verified (manifest, digests, schemas) before it was counted. A document "
        "found in several inputs is counted once. Times are UTC.</p>"
        + (f"<p>Skipped as invalid ({src['skipped']:,}):</p><ul>{skipped}</ul>" if skipped else "")
        + "</footer>"
    )


def render_html(result: dict[str, Any]) -> str:
    """The whole page, as one string."""
    apps = ", ".join(result["apps"]) or "no app"
    title = f"{apps}: diagnostics report"
    period = f"{(result['first'] or '')[:10]} to {(result['last'] or '')[:10]}"
    body = "".join(
        [
            _cards(result),
            _versions_section(result),
            _timeline_section(result),
            _commands_section(result),
            _matrix_section(result),
            _errors_and_platforms(result),
            _builds_section(result),
            _snapshots_section(result),
            _recorder_section(result),
        ]
    )
    links = [
        (anchor, name)
        for anchor, name in (
            ("versions", "Versions"),
            ("timeline", "Timeline"),
            ("commands", "Commands"),
            ("durations", "Durations"),
            ("regressions", "By version"),
            ("errors", "Errors"),
            ("platforms", "Platforms"),
            ("builds", "Builds"),
            ("snapshots", "Snapshots"),
            ("recorder", "Recorder"),
        )
        if f'id="{anchor}"' in body
    ]
    nav = "<nav>" + "".join(f'<a href="#{a}">{esc(n)}</a>' for a, n in links) + "</nav>"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="generator" content="localtelemetry report">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{esc(title)}</h1><p>{result['documents']:,} documents, "
        f"{result['runs']:,} command runs, {esc(period)} (UTC)</p></header>"
        f"<main>{nav}{body}</main>{_footer(result)}</body></html>\n"
    )
