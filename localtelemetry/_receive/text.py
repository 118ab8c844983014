"""Plain text for people: aligned tables, plurals and counts, and the per-command table
that both ``inspect`` and ``report`` print.

Receive layer: the report renders its own text with these, and the command line
(``_cli/render``) builds on them; this module imports nothing of the package.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

#: When a table is too wide, no column but the first gets narrower than this, unless
#: the table cannot fit otherwise: then columns narrow down to their header's longest word.
MIN_COLUMN = 10


def plural(n: int, word: str) -> str:
    """``1 document``, ``2 documents``."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def tally(counts: Mapping[str, object], times: str = "") -> str:
    """``build 2, snapshot 1`` (with ``times="x"``: ``ValueError x2``)."""
    return ", ".join(f"{name} {times}{count}" for name, count in counts.items())


def percent(rate: float | None) -> str:
    """A rate as ``12.5%``; nothing for a rate that is not defined (no runs)."""
    return "" if rate is None else f"{rate * 100:.1f}%"


def _fit(widths: list[int], minimums: list[int], width: int) -> list[int]:
    """Narrow the widest columns first until the table fits in ``width``."""
    widths = list(widths)
    excess = sum(widths) + 2 * (len(widths) - 1) - width
    while excess > 0:
        shrinkable = [i for i, w in enumerate(widths) if w > minimums[i]]
        if not shrinkable:
            break
        widest = max(widths[i] for i in shrinkable)
        for i in shrinkable:
            if widths[i] == widest and excess > 0:
                widths[i] -= 1
                excess -= 1
    return widths


def _minimums(headers: Sequence[str], widths: list[int], width: int, tight: bool) -> list[int]:
    """How narrow each column may get: past ``MIN_COLUMN`` only when ``tight``, and then
    never below the longest word of its header. The first column, which names the row,
    is kept whole while it takes at most 60% of the width."""
    minimums = [
        min(w, max((len(word) for word in h.split()), default=1))
        if tight
        else max(len(h), min(w, MIN_COLUMN))
        for h, w in zip(headers, widths, strict=True)
    ]
    if widths[0] <= width * 3 // 5:
        minimums[0] = widths[0]
    return minimums


def table(
    headers: Sequence[str], rows: Sequence[Sequence[object]], width: int | None = None
) -> str:
    """Aligned columns; with ``width``, the widest columns wrap so that lines fit in it
    (the first column, which names the row, is kept whole up to 60% of the width)."""
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    if width is not None:
        natural = widths
        widths = _fit(natural, _minimums(headers, natural, width, tight=False), width)
        if sum(widths) + 2 * (len(widths) - 1) > width:
            widths = _fit(natural, _minimums(headers, natural, width, tight=True), width)
    lines = []
    for n, row in enumerate(cells):
        wrapped = [
            textwrap.wrap(c, w, break_on_hyphens=False) if len(c) > w else [c]
            for c, w in zip(row, widths, strict=True)
        ]
        for k in range(max(len(parts) for parts in wrapped)):
            pieces = [parts[k] if k < len(parts) else "" for parts in wrapped]
            lines.append(
                "  ".join(p.ljust(w) for p, w in zip(pieces, widths, strict=True)).rstrip()
            )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def commands_table(
    commands: Iterable[Mapping[str, Any]],
    durations: Callable[[Mapping[str, Any]], Sequence[object]],
    *,
    failure_rate: bool = False,
) -> str:
    """One row per command: runs by outcome, duration p50/p95/max (``durations`` picks
    them from a command's entry: ``inspect`` and ``report`` keep them differently) and the
    error kinds seen; with ``failure_rate``, a "fail %" column from ``failure_rate``."""
    rate_header = ("fail %",) if failure_rate else ()
    headers = ("command", "runs", "ok", "failed", "interrupted", *rate_header)
    rows = [
        (
            c["command"],
            c["runs"],
            c["success"],
            c["failure"],
            c["interrupted"],
            *((percent(c["failure_rate"]),) if failure_rate else ()),
            *durations(c),
            tally(c["error_kinds"], "x"),
        )
        for c in commands
    ]
    return table((*headers, "p50 ms", "p95 ms", "max ms", "error kinds"), rows)
