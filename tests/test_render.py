"""``_render``: human text for people, tested by properties that hold whatever draws the
tables (plain aligned columns today; a library such as rich would do as well): every
value appears, columns line up, no line is longer than the width given (a single word
too long for any line aside), counts take the right plural, byte sizes read as people
write them. The commands' text is checked against their own ``--format json`` result.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from localtelemetry._cli.app import make_app
from localtelemetry._cli.render import human_bytes, wrap
from localtelemetry._receive.text import plural, table

import hostapp

WORDS = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=10)


def _at(lines: list[str], token: str) -> tuple[int, int]:
    """(line, column) of the one place ``token`` appears as a whole word."""
    found = [
        (n, m.start())
        for n, line in enumerate(lines)
        for m in re.finditer(rf"(?<![\w.]){re.escape(token)}(?![\w.])", line)
    ]
    assert len(found) == 1, (token, found)
    return found[0]


def _fits(text: str, width: int) -> None:
    """No line is longer than ``width``, unless a word on it (a path) is too long to
    share a line with its label."""
    for line in text.splitlines():
        assert len(line) <= width or max(map(len, line.split())) > width - 20, (width, line)


# -- tables --------------------------------------------------------------------------------


@st.composite
def grids(draw: st.DrawFn) -> tuple[list[str], list[list[str]]]:
    """Headers and rows whose cells are unique tokens (``r2c1`` + padding), so each can be
    found in the output."""
    columns = draw(st.integers(1, 5))
    rows = draw(st.integers(1, 8))
    headers = [f"h{j}" + "x" * draw(st.integers(0, 8)) for j in range(columns)]
    cells = [
        [f"r{i}c{j}" + "y" * draw(st.integers(0, 14)) for j in range(columns)] for i in range(rows)
    ]
    return headers, cells


@given(grids())
@settings(max_examples=100, deadline=None)
def test_every_cell_appears_in_order_and_columns_line_up(
    grid: tuple[list[str], list[list[str]]],
) -> None:
    headers, rows = grid
    lines = table(headers, rows).splitlines()
    header_lines = {_at(lines, h)[0] for h in headers}
    assert len(header_lines) == 1  # the headers share one line...
    places = [[_at(lines, cell) for cell in row] for row in rows]
    row_lines = [{line for line, _ in row} for row in places]
    assert all(len(s) == 1 for s in row_lines)  # ...each row is one line...
    order = [header_lines.pop()] + [s.pop() for s in row_lines]
    assert order == sorted(order) and len(set(order)) == len(order)  # ...in order
    for j in range(len(headers)):
        starts = {row[j][1] for row in places}
        ends = {row[j][1] + len(rows[i][j]) for i, row in enumerate(places)}
        assert len(starts) == 1 or len(ends) == 1, f"column {j} is ragged"
        if j:  # columns do not overlap: each starts after the previous one ends
            assert min(starts) > max(
                p[j - 1][1] + len(r[j - 1]) for p, r in zip(places, rows, strict=True)
            )


def test_numbers_and_missing_values() -> None:
    text = table(("name", "runs", "note"), [("a", 7, None), ("bb", 1234, "x")])
    lines = text.splitlines()
    assert _at(lines, "7")[0] < _at(lines, "1234")[0]
    assert "None" not in text  # a missing value shows as an empty cell


@given(
    st.lists(st.lists(WORDS, min_size=1, max_size=12).map(" ".join), min_size=3, max_size=3),
    st.lists(WORDS, min_size=1, max_size=2),
    st.integers(40, 160),
)
@settings(max_examples=150, deadline=None)
def test_a_table_fits_the_width_and_keeps_every_word(
    texts: list[str], names: list[str], width: int
) -> None:
    rows = [[f"{name}{i}", t, t.upper()] for i, name in enumerate(names) for t in texts[:2]]
    rows.append(["last", texts[2], "z"])
    text = table(("field", "meaning", "more"), rows, width)
    _fits(text, width)
    words = set(re.findall(r"[\w]+", text))
    for row in rows:
        for cell in row:
            assert set(cell.split()) <= words, cell


@given(
    st.lists(st.lists(WORDS, min_size=2, max_size=6).map(" ".join), min_size=4, max_size=4),
    st.integers(55, 75),
)
@settings(max_examples=100, deadline=None)
def test_many_columns_narrow_past_the_usual_minimum_to_fit(texts: list[str], width: int) -> None:
    # Five columns of 10+ characters and a 26-character first one need 77 columns when no
    # column may get narrower than 10 (the bug behind 'list' on a 72-column terminal);
    # down to their header words (and the whole id) they need 55.
    headers = ("id", "kind", "created (UTC)", "run", "summary")
    rows = [["0" * 24 + f"{i:02}", *(t + " padding" for t in texts)] for i in range(3)]
    text = table(headers, rows, width)
    _fits(text, width)
    lines = text.splitlines()
    assert {_at(lines, row[0])[1] for row in rows} == {0}  # the id stays whole, first
    assert {w for h in headers for w in h.split()} <= set(text.split())  # header words whole
    # Each cell reads back whole from its column (long words may be cut to fit it).
    dashes = next(n for n, ln in enumerate(lines) if set(ln) == {"-", " "})
    spans = [m.span() for m in re.finditer("-+", lines[dashes])]
    starts = [_at(lines, row[0])[0] for row in rows] + [len(lines)]
    for i, row in enumerate(rows):
        block = lines[starts[i] : starts[i + 1]]
        for cell, (a, b) in zip(row, spans, strict=True):
            assert "".join(ln[a:b] for ln in block).replace(" ", "") == cell.replace(" ", "")


def _dashes(text: str) -> list[int]:
    (line,) = [ln for ln in text.splitlines() if set(ln) == {"-", " "}]
    return [len(dashes) for dashes in line.split()]


def test_columns_narrow_past_the_usual_minimum_only_when_they_must() -> None:
    rows = [("x", "2026-12-03T13:36:33.367Z", "compile: success, 1 phase, 3 warnings")]
    # 29 columns: "created (UTC)" (13) and summary (10) fit at the usual minimum, so the
    # header stays on one line and the summary takes the narrowing.
    text = table(("id", "created (UTC)", "summary"), rows, 29)
    _fits(text, 29)
    assert "created (UTC)" in text.splitlines()[0]
    assert _dashes(text) == [2, 13, 10]
    # 24 columns: they must go past it; the header wraps between its words.
    text = table(("id", "created (UTC)", "summary"), rows, 24)
    _fits(text, 24)
    assert "created" in text.split() and "(UTC)" in text.split()
    assert sum(_dashes(text)) == 24 - 4


def test_without_a_width_nothing_is_wrapped() -> None:
    long = " ".join(["word"] * 100)
    text = table(("a", "b"), [("x", long)])
    assert any(long in line for line in text.splitlines())


@given(
    (st.lists(WORDS, max_size=8) | st.lists(WORDS, min_size=30, max_size=80)).map(" ".join),
    st.integers(40, 120),
    st.sampled_from(["", "  "]),
)
@settings(max_examples=100, deadline=None)
def test_wrapped_text_fits_and_keeps_its_words(text: str, width: int, indent: str) -> None:
    out = wrap(text, width, indent)
    _fits(out, width)
    assert out.split() == text.split()
    assert all(line.startswith(indent) for line in out.splitlines())
    assert wrap(text, None, indent) == indent + text


# -- plurals and sizes ---------------------------------------------------------------------


def test_plurals() -> None:
    assert [plural(n, "document") for n in (0, 1, 2, 1000)] == [
        "0 documents",
        "1 document",
        "2 documents",
        "1000 documents",
    ]


def test_human_byte_sizes_as_the_user_guide_shows_them() -> None:
    # docs/user-guide.md shows "14.8 KB", "20.0 MB", "131.2 MB": decimal units.
    examples = {
        0: "0 B",
        1: "1 B",
        999: "999 B",
        1000: "1.0 KB",
        14_800: "14.8 KB",
        999_949: "999.9 KB",
        20_000_000: "20.0 MB",
        131_200_000: "131.2 MB",
        3 * 10**9: "3.0 GB",
        5 * 10**12: "5000.0 GB",
    }
    assert {n: human_bytes(n) for n in examples} == examples


@pytest.mark.parametrize(
    ("n", "shown"),
    [
        (999_949, "999.9 KB"),
        (999_950, "1.0 MB"),
        (999_949_999, "999.9 MB"),
        (999_950_000, "1.0 GB"),
    ],
)
def test_a_size_that_rounds_up_takes_the_next_unit(n: int, shown: str) -> None:
    # Regression: the unit was chosen before rounding, so 999,950 bytes showed "1000.0 KB".
    assert human_bytes(n) == shown


@given(
    st.integers(0, 10**13)
    | st.sampled_from([999_950 * 1000**k + d for k in (0, 1) for d in (-1, 0, 1)])
)
@settings(max_examples=300, deadline=None)
def test_human_byte_sizes_read_back_to_about_the_size(n: int) -> None:
    number, unit = human_bytes(n).split()
    scale = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9}[unit]
    assert abs(float(number) * scale - n) <= 0.05 * scale + 0.5
    assert unit == "GB" or float(number) < 1000  # the largest unit that keeps it below 1000
    assert unit == "B" or float(number) >= 0.95


# -- the commands' text against their JSON -------------------------------------------------


def _both(args: list[str], columns: int) -> tuple[str, dict[str, Any]]:
    app = make_app(None)
    text = CliRunner().invoke(app, args, env={"COLUMNS": str(columns)})
    assert text.exit_code == 0, text.output
    data = CliRunner().invoke(app, [*args, "--format", "json"])
    assert data.exit_code == 0, data.output
    return text.stdout, json.loads(data.stdout)["result"]


def _record(runs: int = 2) -> None:
    for _ in range(runs):
        assert CliRunner().invoke(hostapp.app, ["--telemetry", "ok"]).exit_code == 0
    CliRunner().invoke(hostapp.app, ["--telemetry", "fail"])


def _list_is_whole(text: str, result: dict[str, Any]) -> None:
    lines = text.splitlines()
    places = [_at(lines, d["id"]) for d in result["documents"]]
    assert [line for line, _ in places] == sorted(line for line, _ in places)
    assert len({column for _, column in places}) == 1
    for d in result["documents"]:
        line = lines[_at(lines, d["id"])[0]]
        assert d["kind"] in line.split() and d["created_at"] in line


def test_list_shows_every_document_and_fits(base: Path) -> None:
    _record()
    for columns in (120, 250):
        text, result = _both(["list", "--app", "hostapp"], columns)
        _fits(text, columns)
        _list_is_whole(text, result)
    # Narrower, long cells wrap inside their column; the id, which names the row, does not.
    text, result = _both(["list", "--app", "hostapp"], 80)
    _fits(text, 80)
    lines = text.splitlines()
    assert {_at(lines, d["id"])[1] for d in result["documents"]} == {0}


def test_list_fits_a_narrow_terminal(base: Path) -> None:
    _record()
    text, result = _both(["list", "--app", "hostapp"], 72)
    _fits(text, 72)
    lines = text.splitlines()
    assert {_at(lines, d["id"])[1] for d in result["documents"]} == {0}


def _status_is_whole(text: str, result: dict[str, Any]) -> None:
    size = re.escape(human_bytes(result["bytes"]))
    assert re.search(rf"^documents:\s+{result['documents']} \({size}\)$", text, re.M)
    limits = result["limits"]
    flat = " ".join(text.split())  # wrapped lines joined again
    shown = f"{plural(limits['max_documents'], 'document')}, {human_bytes(limits['max_bytes'])}"
    assert shown in flat and result["key_id"] in flat
    lines = text.splitlines()
    for kind, count in result["by_kind"].items():
        line = lines[_at(lines, kind)[0]]
        assert line.split() == [kind, str(count["count"]), *human_bytes(count["bytes"]).split()]


def test_status_shows_its_figures(base: Path) -> None:
    _record(1)
    text, result = _both(["status", "--app", "hostapp"], 250)
    _fits(text, 250)
    _status_is_whole(text, result)


def test_status_keeps_its_table_on_an_80_column_terminal(base: Path) -> None:
    _record(1)
    text, result = _both(["status", "--app", "hostapp"], 80)
    _fits(text, 80)
    _status_is_whole(text, result)


def test_apps_counts_stores_with_the_right_plural(base: Path) -> None:
    _record(1)
    one, result = _both(["apps"], 250)
    assert re.match(r"1 store in ", one)
    (app,) = result["apps"]
    size = re.escape(human_bytes(app["bytes"]))
    assert re.search(rf"^hostapp\s+{app['documents']}\s+{size}\s", one, re.M)
    shutil.copytree(base / "hostapp", base / "second")
    two, result = _both(["apps"], 250)
    assert re.match(r"2 stores in ", two)
    assert [a["app"] for a in result["apps"]] == ["hostapp", "second"]


def test_explain_lists_every_field_and_fits(base: Path) -> None:
    for columns in (60, 100):
        text, result = _both(["explain", "build"], columns)
        _fits(text, columns)
        for field in result["kinds"]["build"]["fields"]:
            # the first column names the field, never broken, on exactly one line
            (line,) = [ln for ln in text.splitlines() if ln.split()[:1] == [field["field"]]]
            assert field["type"].split()[0] in line


def test_validate_names_each_invalid_file_and_counts(base: Path, tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    bad = tmp_path / "bad.json"
    _record(1)
    store = base / "hostapp"
    document = json.loads(next(store.glob("snapshot-*.json")).read_text())
    good.write_text(json.dumps(document))
    document["payload"]["extra"] = 1
    bad.write_text(json.dumps(document))
    app = make_app(None)
    text = CliRunner().invoke(app, ["validate", str(good), str(bad)], env={"COLUMNS": "60"})
    data = CliRunner().invoke(app, ["validate", str(good), str(bad), "--format", "json"])
    assert text.exit_code == data.exit_code == 1
    result = json.loads(data.stdout)["result"]
    _fits(text.stdout, 60)
    assert text.stdout.splitlines()[-1] == (
        f"{result['checked']} checked: {result['valid']} valid, {result['invalid']} invalid"
    )
    assert (result["checked"], result["valid"], result["invalid"]) == (2, 1, 1)
    assert f"INVALID {bad}" in text.stdout and str(good) not in text.stdout


def test_report_text_counts_one_run_in_the_singular(base: Path, tmp_path: Path) -> None:
    assert CliRunner().invoke(hostapp.app, ["--telemetry", "ok"]).exit_code == 0
    bundle = tmp_path / "b.zip"
    app = make_app(None)
    exported = CliRunner().invoke(app, ["export", "--app", "hostapp", "-o", str(bundle)])
    assert exported.exit_code == 0, exported.output
    text = CliRunner().invoke(app, ["report", str(bundle)]).stdout
    assert re.search(r"^read:\s+1 bundle$", text, re.M)
    assert re.search(r"^runs:\s+1 command, 0 failed", text, re.M)
    # one build run, one snapshot over one day: singular too
    assert re.search(r"^build compile: 1 run \(success 1\), p50 ", text, re.M)
    assert re.search(r"^snapshot catalog: 1 taken over 1 day;", text, re.M)


def test_report_text_counts_one_document_in_the_singular(base: Path, tmp_path: Path) -> None:
    assert CliRunner().invoke(hostapp.app, ["--telemetry", "ok"]).exit_code == 0
    bundle = tmp_path / "one.zip"
    app = make_app(None)
    exported = CliRunner().invoke(
        app, ["export", "--app", "hostapp", "--kind", "cli-command", "-o", str(bundle)]
    )
    assert exported.exit_code == 0, exported.output
    text = CliRunner().invoke(app, ["report", str(bundle)]).stdout
    assert re.search(r"^apps:\s+hostapp \(1 document\)$", text, re.M)
