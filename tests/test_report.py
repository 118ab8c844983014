"""Issue 6: `localtelemetry report` over a mix of bundles, a store and a directory of
bundles. Every number is checked against values worked out by hand from the runs
below (the comments show the arithmetic)."""

from __future__ import annotations

import json
import random
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from bundle_factory import Run, documents_for, invoke, write_bundle, write_store

from localtelemetry._receive.report import build_report, render_text, version_key


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=timezone.utc)


def _build(status: str, total: float, compile_ms: float, link_ms: float) -> Any:
    link_status = "failure" if status == "failure" else "success"
    return (
        "build",
        status,
        total,
        (("compile", compile_ms, "success"), ("link", link_ms, link_status)),
    )


# Bundle A: linux/x86_64, local, 1.0.0
R1 = Run(("build",), "success", 100.0, when=_at(2, 9), build=_build("success", 90.0, 60.0, 20.0))
R2 = Run(("build",), "failure", 300.0, "TimeoutError", when=_at(2, 9, 10),
         build=_build("failure", 250.0, 200.0, 40.0))  # fmt: skip
R3 = Run(
    ("test",), "success", 50.0, when=_at(3, 9), snapshot=("suite", {"tests": 10, "skipped": 1})
)
# Bundle B: macos/arm64, ci, 1.1.0
MAC = {"os": "macos", "arch": "arm64", "context": "ci", "version": "1.1.0"}
R4 = Run(
    ("build",),
    "success",
    200.0,
    when=_at(3, 10),
    build=_build("success", 180.0, 150.0, 20.0),
    **MAC,
)
R5 = Run(("deploy", "prod"), "failure", 1000.0, "KeyError", when=_at(4, 9), **MAC)
R6 = Run(("deploy", "prod"), "interrupted", 2000.0, "KeyboardInterrupt", when=_at(4, 9, 30), **MAC)
# Bundle C: linux/x86_64, container, 1.1.0
BOX = {"context": "container", "version": "1.1.0"}
R7 = Run(
    ("test",),
    "success",
    70.0,
    when=_at(4, 11),
    snapshot=("suite", {"tests": 12, "skipped": 3}),
    **BOX,
)
R8 = Run(
    ("build",),
    "success",
    400.0,
    when=_at(4, 12),
    build=_build("success", 380.0, 300.0, 60.0),
    **BOX,
)
# The store: linux/x86_64, local, 1.1.0 (and a copy of R3's documents)
R9 = Run(("test",), "failure", 30.0, "AssertionError", version="1.1.0", when=_at(4, 13),
         snapshot=("suite", {"tests": 14, "skipped": 0}))  # fmt: skip


def make_sources(root: Path) -> list[Path]:
    """Bundle A, a store (R9 and a copy of R3) and a directory with bundles B and C."""
    root.mkdir(parents=True, exist_ok=True)
    rng = random.Random(1)
    docs = {
        name: documents_for(run, rng)
        for name, run in globals().items()
        if name[:1] == "R" and name[1:].isdigit()
    }
    a = write_bundle(root / "a.zip", docs["R1"] + docs["R2"] + docs["R3"])
    folder = root / "received"
    folder.mkdir()
    write_bundle(folder / "b.zip", docs["R4"] + docs["R5"] + docs["R6"])
    write_bundle(folder / "c.zip", docs["R7"] + docs["R8"])
    (folder / "notes.txt").write_text("not a bundle: ignored")
    store = write_store(root / "store" / "shop", docs["R9"] + docs["R3"])  # R3 twice
    return [a, store, folder]


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return make_sources(tmp_path_factory.mktemp("sources"))


@pytest.fixture(scope="module")
def report(sources: list[Path]) -> dict[str, Any]:
    return build_report(sources)


def test_sources_and_counts(report: dict[str, Any]) -> None:
    assert report["sources"] == {
        "bundles": 3,
        "stores": 1,
        "extracted": 0,
        "files": 0,
        "skipped": 0,
        "skipped_listed": [],
    }
    # 9 runs: a cli-command and a run-summary each, builds for R1 R2 R4 R8, snapshots
    # for R3 R7 R9: 18 + 4 + 3 = 25; R3's 3 documents are also in the store.
    assert report["documents"] == 25
    assert report["duplicates"] == 3
    assert report["by_kind"] == {"build": 4, "cli-command": 9, "run-summary": 9, "snapshot": 3}
    assert report["apps"] == {"shop": 25}
    assert report["first"] == "2026-03-02T09:00:00.000Z"  # R1's build
    assert report["last"] == "2026-03-04T13:00:00.002Z"  # R9's run-summary (snapshot, cli, summary)
    assert (report["runs"], report["failures"], report["failure_rate"]) == (9, 3, 0.3333)


def test_commands(report: dict[str, Any]) -> None:
    rows = {c["command"]: c for c in report["commands"]}
    assert [c["command"] for c in report["commands"]] == ["build", "test", "deploy prod"]
    build = rows["build"]
    # durations 100 200 300 400: p50 at index round(0.5*3)=2, p95 at round(0.95*3)=3
    assert (build["runs"], build["success"], build["failure"], build["interrupted"]) == (4, 3, 1, 0)
    assert build["failure_rate"] == 0.25
    assert build["duration"] == {"p50_ms": 300.0, "p95_ms": 400.0, "max_ms": 400.0}
    assert build["error_kinds"] == {"TimeoutError": 1}
    assert build["by_version"] == [
        {"version": "1.0.0", "runs": 2, "failures": 1, "failure_rate": 0.5},
        {"version": "1.1.0", "runs": 2, "failures": 0, "failure_rate": 0.0},
    ]
    assert (
        build["duration_buckets"]["100ms_500ms"] == 4
        and sum(build["duration_buckets"].values()) == 4
    )
    test = rows["test"]  # 30 50 70: p50 index 1, p95 index round(1.9)=2
    assert (test["runs"], test["failure"], test["failure_rate"]) == (3, 1, 0.3333)
    assert test["duration"] == {"p50_ms": 50.0, "p95_ms": 70.0, "max_ms": 70.0}
    assert test["error_kinds"] == {"AssertionError": 1}
    deploy = rows["deploy prod"]  # 1000 2000: p50 index round(0.5)=0, p95 index round(0.95)=1
    assert deploy["command_path"] == ["deploy", "prod"]
    assert (deploy["runs"], deploy["failure"], deploy["interrupted"]) == (2, 1, 1)
    assert deploy["failure_rate"] == 0.5
    assert deploy["duration"] == {"p50_ms": 1000.0, "p95_ms": 2000.0, "max_ms": 2000.0}
    assert deploy["error_kinds"] == {"KeyError": 1, "KeyboardInterrupt": 1}
    assert deploy["duration_buckets"]["500ms_1s"] == 0 and deploy["duration_buckets"]["1s_5s"] == 2
    assert report["errors"][0] == {"error_kind": "AssertionError", "count": 1, "commands": ["test"]}
    assert {e["error_kind"] for e in report["errors"]} == {
        "AssertionError", "KeyError", "KeyboardInterrupt", "TimeoutError",
    }  # fmt: skip


def test_versions_platforms_contexts(report: dict[str, Any]) -> None:
    versions = {v["version"]: v for v in report["versions"]}
    assert list(versions) == ["1.0.0", "1.1.0"]
    one, two = versions["1.0.0"], versions["1.1.0"]
    assert (one["runs"], one["failures"], one["interrupted"], one["documents"]) == (3, 1, 0, 9)
    assert one["failure_rate"] == 0.3333
    # R4..R9: R5 and R9 failed, R6 interrupted; documents 3+2+2+3+3+3
    assert (two["runs"], two["failures"], two["interrupted"], two["documents"]) == (6, 2, 1, 16)
    assert two["failure_rate"] == 0.3333
    assert (two["first"], two["last"]) == ("2026-03-03T10:00:00.000Z", "2026-03-04T13:00:00.002Z")
    assert report["platforms"] == [
        {
            "os": "linux",
            "arch": "x86_64",
            "documents": 18,
            "runs": 6,
            "failures": 2,
            "failure_rate": 0.3333,
        },
        {
            "os": "macos",
            "arch": "arm64",
            "documents": 7,
            "runs": 3,
            "failures": 1,
            "failure_rate": 0.3333,
        },
    ]
    contexts = {c["runtime_context"]: c for c in report["runtime_contexts"]}
    assert [c["runtime_context"] for c in report["runtime_contexts"]] == [
        "local",
        "ci",
        "container",
    ]
    assert (
        contexts["local"]["runs"],
        contexts["local"]["failures"],
        contexts["local"]["documents"],
    ) == (4, 2, 12)
    assert (contexts["ci"]["runs"], contexts["ci"]["failures"], contexts["ci"]["documents"]) == (
        3,
        1,
        7,
    )
    assert contexts["container"]["failure_rate"] == 0.0


def test_builds_and_phase_shares(report: dict[str, Any]) -> None:
    (build,) = report["builds"]
    assert build["build"] == "build" and build["runs"] == 4
    assert build["statuses"] == {"failure": 1, "success": 3}
    assert build["failure_rate"] == 0.25
    # totals 90 + 250 + 180 + 380 = 900; sorted 90 180 250 380
    assert build["total_ms"] == 900.0
    assert build["duration"] == {"p50_ms": 250.0, "p95_ms": 380.0, "max_ms": 380.0}
    compile_, link = build["phases"]
    # compile 60 + 200 + 150 + 300 = 710 of 900; link 20 + 40 + 20 + 60 = 140 of 900
    assert (compile_["phase"], compile_["total_ms"], compile_["share"]) == (
        "compile",
        710.0,
        0.7889,
    )
    assert compile_["duration"] == {"p50_ms": 200.0, "p95_ms": 300.0, "max_ms": 300.0}
    assert (link["phase"], link["total_ms"], link["share"], link["failures"]) == (
        "link",
        140.0,
        0.1556,
        1,
    )
    assert link["duration"] == {"p50_ms": 40.0, "p95_ms": 60.0, "max_ms": 60.0}


def test_snapshots_timeline_and_summaries(report: dict[str, Any]) -> None:
    (suite,) = report["snapshots"]
    assert suite["snapshot"] == "suite" and suite["runs"] == 3
    assert suite["series"] == [
        {"period": "2026-03-03", "snapshots": 1, "counts": {
            "skipped": {"mean": 1.0, "min": 1, "max": 1},
            "tests": {"mean": 10.0, "min": 10, "max": 10}}},
        {"period": "2026-03-04", "snapshots": 2, "counts": {  # R7 (12, 3) and R9 (14, 0)
            "skipped": {"mean": 1.5, "min": 0, "max": 3},
            "tests": {"mean": 13.0, "min": 12, "max": 14}}},
    ]  # fmt: skip
    assert report["timeline"]["bucket"] == "day"
    assert report["timeline"]["points"] == [
        {"period": "2026-03-02", "documents": 6, "runs": 2, "success": 1, "failure": 1,
         "interrupted": 0, "failure_rate": 0.5},
        {"period": "2026-03-03", "documents": 6, "runs": 2, "success": 2, "failure": 0,
         "interrupted": 0, "failure_rate": 0.0},
        {"period": "2026-03-04", "documents": 13, "runs": 5, "success": 2, "failure": 2,
         "interrupted": 1, "failure_rate": 0.4},
    ]  # fmt: skip
    summaries = report["run_summaries"]
    # run durations are the command's + 1: 31 51 71 101 201 301 401 1001 2001
    assert summaries["runs"] == 9
    assert summaries["outcomes"] == {"failure": 3, "interrupted": 1, "success": 5}
    assert summaries["duration"] == {"p50_ms": 201.0, "p95_ms": 2001.0, "max_ms": 2001.0}
    assert summaries["recorder_overhead"]["p50_ms"] == 1.5
    assert summaries["peak_rss_kib"] == {"p50": 40000, "p95": 40000, "max": 40000}


def test_order_of_sources_does_not_change_the_numbers(
    sources: list[Path], report: dict[str, Any]
) -> None:
    again = build_report(list(reversed(sources)))
    assert again["documents"] == report["documents"] and again["duplicates"] == 3
    for key in (
        "commands",
        "versions",
        "platforms",
        "builds",
        "snapshots",
        "timeline",
        "run_summaries",
    ):
        assert again[key] == report[key], key


def test_cli_json_text_and_files(
    sources: list[Path], report: dict[str, Any], tmp_path: Path
) -> None:
    args = [str(p) for p in sources]
    result = invoke("report", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    envelope = json.loads(result.stdout)
    assert envelope["command"] == "report" and envelope["ok"] is True
    assert envelope["result"] == json.loads(json.dumps(report))
    text = invoke("report", *args)
    assert text.exit_code == 0
    assert (
        "documents:  25 (build 4, cli-command 9, run-summary 9, snapshot 3); 3 duplicates"
        in text.stdout
    )
    assert "deploy prod" in text.stdout and "KeyError x1" in text.stdout
    assert text.stdout == render_text(report) + "\n"
    out = tmp_path / "r.json"
    written = invoke("report", *args, "--format", "json", "-o", str(out))
    assert written.exit_code == 0, written.output
    assert json.loads(written.stdout)["result"]["written"] == str(out)
    assert json.loads(out.read_text()) == envelope["result"]
    again = invoke("report", *args, "--format", "json", "-o", str(out))
    assert again.exit_code == 2 and "already exists" in again.stderr
    assert invoke("report", *args, "--format", "json", "-o", str(out), "--force").exit_code == 0
    page = invoke("report", *args, "--format", "html")
    assert page.exit_code == 0 and page.stdout.startswith("<!DOCTYPE html>")


def test_invalid_bundle_stops_or_is_skipped(sources: list[Path], tmp_path: Path) -> None:
    bad = tmp_path / "bad.zip"
    data = bytearray(sources[0].read_bytes())
    with zipfile.ZipFile(sources[0]) as zf:  # a byte of a document's data, not of a header
        info = zf.infolist()[1]
    data[info.header_offset + 30 + len(info.filename) + info.compress_size // 2] ^= 0xFF
    bad.write_bytes(bytes(data))
    result = invoke("report", str(sources[0]), str(bad))
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert str(bad) in result.stderr and "Traceback" not in result.output
    skipped = invoke("report", str(sources[0]), str(bad), "--skip-invalid", "--format", "json")
    assert skipped.exit_code == 0, skipped.output
    data_ = json.loads(skipped.stdout)["result"]
    assert data_["documents"] == 9  # bundle A only: nothing of the bad bundle counted
    assert data_["sources"]["skipped"] == 1
    assert data_["sources"]["skipped_listed"][0]["source"] == str(bad)


def test_usage_errors(tmp_path: Path) -> None:
    missing = invoke("report", str(tmp_path / "nope.zip"))
    assert missing.exit_code == 2 and "does not exist" in missing.stderr
    assert missing.stderr.count("\n") == 1
    empty = invoke("report", str(tmp_path))
    assert empty.exit_code == 1 and "no documents" in empty.stderr
    jobs = invoke("report", str(tmp_path), "--jobs", "-1")
    assert jobs.exit_code == 2 and "--jobs" in jobs.stderr
    old_spelling = invoke("report", str(tmp_path), "--format", "json", "-o", "json")
    assert old_spelling.exit_code == 2 and "'--format json'" in old_spelling.stderr
    assert json.loads(old_spelling.stdout)["ok"] is False


def test_several_apps_are_told_apart(tmp_path: Path) -> None:
    rng = random.Random(2)
    one = write_bundle(tmp_path / "one.zip", documents_for(Run(("sync",), app="alpha"), rng))
    two = write_bundle(
        tmp_path / "two.zip", documents_for(Run(("sync",), "failure", 5.0, "E", app="beta"), rng)
    )
    report = build_report([one, two])
    assert [c["command"] for c in report["commands"]] == ["alpha sync", "beta sync"]
    assert [(v["app"], v["failures"]) for v in report["versions"]] == [("alpha", 0), ("beta", 1)]


def test_version_order_is_natural() -> None:
    versions = ["1.10.0", "1.9.1", "2.0.0rc1", "1.9.0", "2.0.0", "1.2"]
    assert sorted(versions, key=version_key) == [
        "1.2",
        "1.9.0",
        "1.9.1",
        "1.10.0",
        "2.0.0",
        "2.0.0rc1",
    ]


def test_long_periods_use_weeks_then_months(tmp_path: Path) -> None:
    rng = random.Random(3)
    runs = [
        Run(when=datetime(2026, 1, 1, tzinfo=timezone.utc)),
        Run(when=datetime(2026, 8, 1, tzinfo=timezone.utc)),
    ]
    weeks = build_report(
        [write_bundle(tmp_path / "w.zip", [d for r in runs for d in documents_for(r, rng)])]
    )
    assert weeks["timeline"]["bucket"] == "week"
    assert [p["period"] for p in weeks["timeline"]["points"]] == [
        "2025-12-29",
        "2026-07-27",
    ]  # Mondays
    runs.append(Run(when=datetime(2029, 1, 1, tzinfo=timezone.utc)))
    months = build_report(
        [write_bundle(tmp_path / "m.zip", [d for r in runs for d in documents_for(r, rng)])]
    )
    assert months["timeline"]["bucket"] == "month"
    assert [p["period"] for p in months["timeline"]["points"]] == ["2026-01", "2026-08", "2029-01"]


def test_worker_processes_give_the_same_report(
    sources: list[Path], report: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from localtelemetry._receive import report as _report

    monkeypatch.setattr(_report, "PARALLEL_THRESHOLD", 1)  # workers even for 3 bundles
    assert build_report(sources, jobs=2) == report
    assert build_report(list(reversed(sources)), jobs=3)["commands"] == report["commands"]
