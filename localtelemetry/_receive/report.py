"""``localtelemetry report``: what many bundles and stores say, taken together.

Reading is split from counting. Each document is first reduced to a small record of
the facts the report uses (``fact_of``); an ``Aggregator`` then counts facts. Bundles,
the expensive part (every digest and schema is checked), can be reduced in worker
processes (``--jobs``, ``concurrent.futures``); their facts come back in input order and
are counted in this process, so the result is the same whatever the number of workers.
One process is the default: it measured faster than workers (docs/performance.md,
"Libraries instead of hand-written code"). Memory grows only with the
number of distinct documents (their ids, to count a document shared by two bundles
once, and the durations behind the percentiles), never with the size of the inputs.

Definitions used throughout (and in the docs):

- a *run* is one cli-command document; its *failure rate* is failures / runs, where a
  failure is the outcome ``failure`` (``interrupted`` is counted apart, not as failure);
- percentiles are nearest-rank on the sorted values: p50 is the value at index
  ``round(0.5 * (n - 1))``, p95 at ``round(0.95 * (n - 1))`` (as ``inspect`` does);
- a phase's *time share* is its total time over the total time of its build;
- time series use UTC days, or ISO weeks (the Monday) or months when the data spans
  more than 120 days or 156 weeks.
"""

from __future__ import annotations

import os
import re
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, NamedTuple

from localtelemetry._record.documents import BUCKET_NAMES

from .inspect import percentile
from .reader import (
    Document,
    Source,
    bundle_message,
    plan_sources,
    read_bundle,
    read_source,
)
from .text import commands_table, percent, plural, table, tally

REPORT_VERSION = 1
MAX_SKIPPED_LISTED = 100
#: Use worker processes only when there are at least this many bundles.
PARALLEL_THRESHOLD = 64

_CLI, _BUILD, _SNAPSHOT, _SUMMARY = "cli-command", "build", "snapshot", "run-summary"


@dataclass(slots=True)
class Fact:
    """What the report counts of any document (picklable: it comes back from workers)."""

    kind: str
    id: str
    created: str
    app: str
    version: str
    os: str
    arch: str
    context: str


@dataclass(slots=True)
class CommandFact(Fact):
    command: str
    outcome: str
    duration: float
    bucket: str
    error_kind: str | None


class Phase(NamedTuple):
    name: str
    duration: float
    status: str


@dataclass(slots=True)
class BuildFact(Fact):
    name: str
    status: str
    duration: float
    phases: tuple[Phase, ...]


@dataclass(slots=True)
class SnapshotFact(Fact):
    name: str
    counts: tuple[tuple[str, float], ...]


@dataclass(slots=True)
class SummaryFact(Fact):
    outcome: str
    duration: float
    overhead: float
    peak_rss: int | None


def fact_of(document: Document) -> Fact:
    """The few fields of a document that the report counts."""
    env = document.environment
    head = (
        document.kind,
        document.id,
        document.data["created_at"],
        document.app_name,
        document.app_version,
        env.os,
        env.arch,
        env.runtime_context,
    )
    p = document.payload
    if document.kind == _CLI:
        command = " ".join(p["command_path"])
        return CommandFact(
            *head,
            command=command,
            outcome=p["outcome"],
            duration=float(p["duration_ms"]),
            bucket=p["duration_bucket"],
            error_kind=p["error_kind"],
        )
    if document.kind == _BUILD:
        phases = tuple(
            Phase(ph["name"], float(ph["duration_ms"]), ph["status"]) for ph in p["phases"]
        )
        return BuildFact(
            *head,
            name=p["name"],
            status=p["status"],
            duration=float(p["duration_ms"]),
            phases=phases,
        )
    if document.kind == _SNAPSHOT:
        return SnapshotFact(*head, name=p["name"], counts=tuple(sorted(p["counts"].items())))
    return SummaryFact(
        *head,
        outcome=p["outcome"],
        duration=float(p["duration_ms"]),
        overhead=float(p["recorder_overhead_ms"]),
        peak_rss=p["peak_rss_kib"],
    )


def bundle_facts(path: str) -> tuple[list[Fact], str | None]:
    """A whole bundle's facts, or no facts and the reason it failed verification."""
    from localtelemetry._contract.exceptions import BundleError

    try:
        return [fact_of(d) for d in read_bundle(path)], None
    except BundleError as exc:
        return [], str(exc)


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _durations(values: array[float]) -> dict[str, float | None]:
    ordered = sorted(values)
    return {
        "p50_ms": percentile(ordered, 0.5),
        "p95_ms": percentile(ordered, 0.95),
        "max_ms": round(ordered[-1], 3) if ordered else None,
    }


def version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    """Natural order: 1.10 after 1.9, numbers before words at the same place."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part)
        for part in re.findall(r"\d+|[A-Za-z]+", version)
    )


@dataclass
class _Command:
    runs: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    durations: array[float] = field(default_factory=lambda: array("d"))
    buckets: dict[str, int] = field(default_factory=dict)
    error_kinds: dict[str, int] = field(default_factory=dict)
    by_version: dict[str, list[int]] = field(default_factory=dict)  # [runs, failures]


@dataclass
class _Phase:
    runs: int = 0
    failures: int = 0
    total_ms: float = 0.0
    durations: array[float] = field(default_factory=lambda: array("d"))


@dataclass
class _Build:
    runs: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    durations: array[float] = field(default_factory=lambda: array("d"))
    total_ms: float = 0.0
    phases: dict[str, _Phase] = field(default_factory=dict)


@dataclass
class _Snapshot:
    runs: int = 0
    # day -> [snapshots, {count name: [sum, min, max, n]}]
    days: dict[str, tuple[list[int], dict[str, list[float]]]] = field(default_factory=dict)


def _bump(counter: dict[str, int], key: str, by: int = 1) -> None:
    counter[key] = counter.get(key, 0) + by


class Aggregator:
    """Counts facts; ``result()`` gives the report as plain data."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.duplicates = 0
        self.by_kind: dict[str, int] = {}
        self.apps: dict[str, int] = {}
        self.first: str | None = None
        self.last: str | None = None
        self.commands: dict[tuple[str, str], _Command] = {}
        self.errors: dict[str, list[Any]] = {}  # kind -> [count, set of commands]
        self.versions: dict[tuple[str, str], list[Any]] = {}
        self.platforms: dict[tuple[str, str], list[int]] = {}
        self.contexts: dict[str, list[int]] = {}
        self.days: dict[str, list[int]] = {}  # day -> [documents, runs, ok, failed, interrupted]
        self.builds: dict[tuple[str, str], _Build] = {}
        self.snapshots: dict[tuple[str, str], _Snapshot] = {}
        self.summaries = 0
        self.summary_outcomes: dict[str, int] = {}
        self.summary_durations: array[float] = array("d")
        self.overheads: array[float] = array("d")
        self.peak_rss: array[float] = array("d")

    def add(self, fact: Fact) -> bool:
        """Count one fact; False (and counted as a duplicate) if its id was seen."""
        kind, created, app, version = fact.kind, fact.created, fact.app, fact.version
        if fact.id in self.seen:
            self.duplicates += 1
            return False
        self.seen.add(fact.id)
        _bump(self.by_kind, kind)
        _bump(self.apps, app)
        if self.first is None or created < self.first:
            self.first = created
        if self.last is None or created > self.last:
            self.last = created
        day = created[:10]
        per_day = self.days.get(day)
        if per_day is None:
            per_day = self.days[day] = [0, 0, 0, 0, 0]
        per_day[0] += 1
        v = self.versions.get((app, version))
        if v is None:
            v = self.versions[(app, version)] = [0, 0, 0, 0, created, created]
        v[3] += 1
        v[4] = min(v[4], created)
        v[5] = max(v[5], created)
        platform = self.platforms.setdefault((fact.os, fact.arch), [0, 0, 0])
        platform[2] += 1
        ctx = self.contexts.setdefault(fact.context, [0, 0, 0])
        ctx[2] += 1
        if isinstance(fact, CommandFact):
            self._command(fact, per_day, v, platform, ctx)
        elif isinstance(fact, BuildFact):
            self._build(fact)
        elif isinstance(fact, SnapshotFact):
            self._snapshot(fact, day)
        elif isinstance(fact, SummaryFact):
            self.summaries += 1
            _bump(self.summary_outcomes, fact.outcome)
            self.summary_durations.append(fact.duration)
            self.overheads.append(fact.overhead)
            if fact.peak_rss is not None:
                self.peak_rss.append(float(fact.peak_rss))
        return True

    def _command(
        self,
        fact: CommandFact,
        per_day: list[int],
        v: list[Any],
        platform: list[int],
        ctx: list[int],
    ) -> None:
        app, command, outcome, error_kind = fact.app, fact.command, fact.outcome, fact.error_kind
        stats = self.commands.get((app, command))
        if stats is None:
            stats = self.commands[(app, command)] = _Command()
        stats.runs += 1
        _bump(stats.outcomes, outcome)
        stats.durations.append(fact.duration)
        _bump(stats.buckets, fact.bucket)
        failed = outcome == "failure"
        by_version = stats.by_version.setdefault(fact.version, [0, 0])
        by_version[0] += 1
        per_day[1] += 1
        v[0] += 1
        platform[0] += 1
        ctx[0] += 1
        if failed:
            by_version[1] += 1
            per_day[3] += 1
            v[1] += 1
            platform[1] += 1
            ctx[1] += 1
        elif outcome == "interrupted":
            per_day[4] += 1
            v[2] += 1
        else:
            per_day[2] += 1
        if error_kind:
            _bump(stats.error_kinds, error_kind)
            entry = self.errors.setdefault(error_kind, [0, set()])
            entry[0] += 1
            entry[1].add((app, command))

    def _build(self, fact: BuildFact) -> None:
        stats = self.builds.get((fact.app, fact.name))
        if stats is None:
            stats = self.builds[(fact.app, fact.name)] = _Build()
        stats.runs += 1
        _bump(stats.statuses, fact.status)
        stats.durations.append(fact.duration)
        stats.total_ms += fact.duration
        for phase_name, phase_ms, phase_status in fact.phases:
            phase = stats.phases.get(phase_name)
            if phase is None:
                phase = stats.phases[phase_name] = _Phase()
            phase.runs += 1
            phase.total_ms += phase_ms
            phase.durations.append(phase_ms)
            if phase_status == "failure":
                phase.failures += 1

    def _snapshot(self, fact: SnapshotFact, day: str) -> None:
        counts = fact.counts
        stats = self.snapshots.get((fact.app, fact.name))
        if stats is None:
            stats = self.snapshots[(fact.app, fact.name)] = _Snapshot()
        stats.runs += 1
        slot = stats.days.get(day)
        if slot is None:
            slot = stats.days[day] = ([0], {})
        slot[0][0] += 1
        for count_name, value in counts:
            acc = slot[1].get(count_name)
            if acc is None:
                slot[1][count_name] = [float(value), float(value), float(value), 1.0]
            else:
                acc[0] += value
                acc[1] = min(acc[1], value)
                acc[2] = max(acc[2], value)
                acc[3] += 1

    # -- the result ------------------------------------------------------------------

    def result(self) -> dict[str, Any]:
        multi = len(self.apps) > 1

        def label(app: str, name: str) -> str:
            shown = name or "(root)"
            return f"{app} {shown}" if multi else shown

        bucket, to_bucket = _bucketing(sorted(self.days))
        return {
            "documents": sum(self.by_kind.values()),
            "duplicates": self.duplicates,
            "by_kind": dict(sorted(self.by_kind.items())),
            "apps": dict(sorted(self.apps.items())),
            "first": self.first,
            "last": self.last,
            "runs": sum(c.runs for c in self.commands.values()),
            "failures": sum(c.outcomes.get("failure", 0) for c in self.commands.values()),
            "failure_rate": _rate(
                sum(c.outcomes.get("failure", 0) for c in self.commands.values()),
                sum(c.runs for c in self.commands.values()),
            ),
            "commands": self._commands(label),
            "errors": [
                {
                    "error_kind": kind,
                    "count": entry[0],
                    "commands": sorted(label(a, c) for a, c in entry[1]),
                }
                for kind, entry in sorted(self.errors.items(), key=lambda i: (-i[1][0], i[0]))
            ],
            "versions": [
                {
                    "app": app,
                    "version": version,
                    "documents": v[3],
                    "runs": v[0],
                    "failures": v[1],
                    "interrupted": v[2],
                    "failure_rate": _rate(v[1], v[0]),
                    "first": v[4],
                    "last": v[5],
                }
                for (app, version), v in sorted(
                    self.versions.items(), key=lambda i: (i[0][0], version_key(i[0][1]), i[0][1])
                )
            ],
            "platforms": [
                {
                    "os": os_,
                    "arch": arch,
                    "documents": p[2],
                    "runs": p[0],
                    "failures": p[1],
                    "failure_rate": _rate(p[1], p[0]),
                }
                for (os_, arch), p in sorted(self.platforms.items(), key=lambda i: (-i[1][2], i[0]))
            ],
            "runtime_contexts": [
                {
                    "runtime_context": name,
                    "documents": c[2],
                    "runs": c[0],
                    "failures": c[1],
                    "failure_rate": _rate(c[1], c[0]),
                }
                for name, c in sorted(self.contexts.items(), key=lambda i: (-i[1][2], i[0]))
            ],
            "builds": self._builds(label),
            "snapshots": self._snapshots(label, to_bucket),
            "run_summaries": self._summaries(),
            "timeline": {"bucket": bucket, "points": self._timeline(to_bucket)},
        }

    def _commands(self, label: Callable[[str, str], str]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for (app, command), c in self.commands.items():
            failures = c.outcomes.get("failure", 0)
            rows.append(
                {
                    "command": label(app, command),
                    "app": app,
                    "command_path": command.split(" ") if command else [],
                    "runs": c.runs,
                    "success": c.outcomes.get("success", 0),
                    "failure": failures,
                    "interrupted": c.outcomes.get("interrupted", 0),
                    "failure_rate": _rate(failures, c.runs),
                    "error_kinds": dict(sorted(c.error_kinds.items(), key=lambda i: (-i[1], i[0]))),
                    "duration": _durations(c.durations),
                    "duration_buckets": {b: c.buckets.get(b, 0) for b in BUCKET_NAMES},
                    "by_version": [
                        {
                            "version": version,
                            "runs": counts[0],
                            "failures": counts[1],
                            "failure_rate": _rate(counts[1], counts[0]),
                        }
                        for version, counts in sorted(
                            c.by_version.items(), key=lambda i: (version_key(i[0]), i[0])
                        )
                    ],
                }
            )
        rows.sort(key=lambda r: (-r["runs"], r["command"]))
        return rows

    def _builds(self, label: Callable[[str, str], str]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for (app, name), b in self.builds.items():
            phases: list[dict[str, Any]] = [
                {
                    "phase": phase_name,
                    "runs": ph.runs,
                    "failures": ph.failures,
                    "total_ms": round(ph.total_ms, 3),
                    "share": round(ph.total_ms / b.total_ms, 4) if b.total_ms else None,
                    "duration": _durations(ph.durations),
                }
                for phase_name, ph in b.phases.items()
            ]
            phases.sort(key=lambda r: (-r["total_ms"], r["phase"]))
            rows.append(
                {
                    "build": label(app, name),
                    "app": app,
                    "name": name,
                    "runs": b.runs,
                    "statuses": dict(sorted(b.statuses.items())),
                    "failure_rate": _rate(b.statuses.get("failure", 0), b.runs),
                    "total_ms": round(b.total_ms, 3),
                    "duration": _durations(b.durations),
                    "phases": phases,
                }
            )
        rows.sort(key=lambda r: (-r["runs"], r["build"]))
        return rows

    def _snapshots(
        self, label: Callable[[str, str], str], to_bucket: Callable[[str], str]
    ) -> list[dict[str, Any]]:
        rows = []
        for (app, name), s in sorted(self.snapshots.items()):
            merged: dict[str, tuple[list[int], dict[str, list[float]]]] = {}
            for day, (n, counts) in sorted(s.days.items()):
                key = to_bucket(day)
                slot = merged.setdefault(key, ([0], {}))
                slot[0][0] += n[0]
                for count_name, acc in counts.items():
                    into = slot[1].get(count_name)
                    if into is None:
                        slot[1][count_name] = list(acc)
                    else:
                        into[0] += acc[0]
                        into[1] = min(into[1], acc[1])
                        into[2] = max(into[2], acc[2])
                        into[3] += acc[3]
            series = [
                {
                    "period": period,
                    "snapshots": n[0],
                    "counts": {
                        count_name: {
                            "mean": round(acc[0] / acc[3], 3),
                            "min": _number(acc[1]),
                            "max": _number(acc[2]),
                        }
                        for count_name, acc in sorted(counts.items())
                    },
                }
                for period, (n, counts) in sorted(merged.items())
            ]
            rows.append(
                {
                    "snapshot": label(app, name),
                    "app": app,
                    "name": name,
                    "runs": s.runs,
                    "series": series,
                }
            )
        return rows

    def _summaries(self) -> dict[str, Any]:
        return {
            "runs": self.summaries,
            "outcomes": dict(sorted(self.summary_outcomes.items())),
            "duration": _durations(self.summary_durations),
            "recorder_overhead": _durations(self.overheads),
            "peak_rss_kib": {
                "p50": _number(percentile(sorted(self.peak_rss), 0.5)),
                "p95": _number(percentile(sorted(self.peak_rss), 0.95)),
                "max": _number(max(self.peak_rss)) if self.peak_rss else None,
            },
        }

    def _timeline(self, to_bucket: Callable[[str], str]) -> list[dict[str, Any]]:
        merged: dict[str, list[int]] = {}
        for day, counts in self.days.items():
            slot = merged.setdefault(to_bucket(day), [0, 0, 0, 0, 0])
            for i, value in enumerate(counts):
                slot[i] += value
        return [
            {
                "period": period,
                "documents": c[0],
                "runs": c[1],
                "success": c[2],
                "failure": c[3],
                "interrupted": c[4],
                "failure_rate": _rate(c[3], c[1]),
            }
            for period, c in sorted(merged.items())
        ]


def _number(value: float | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else round(value, 3)


def _bucketing(days: list[str]) -> tuple[str, Callable[[str], str]]:
    """Days, ISO weeks (their Monday) or months, whichever keeps a series readable."""
    if not days:
        return "day", lambda d: d
    first, last = date.fromisoformat(days[0]), date.fromisoformat(days[-1])
    span = (last - first).days + 1
    if span <= 120:
        return "day", lambda d: d
    if span <= 156 * 7:

        def monday(d: str) -> str:
            day = date.fromisoformat(d)
            return (day - timedelta(days=day.weekday())).isoformat()

        return "week", monday
    return "month", lambda d: d[:7]


# -- running a report over sources ---------------------------------------------------


@dataclass
class Progress:
    """What was read, for the report's ``sources`` section."""

    bundles: int = 0
    stores: int = 0
    extracted: int = 0
    files: int = 0
    skipped: int = 0
    skipped_listed: list[dict[str, str]] = field(default_factory=list)

    def skip(self, where: str, why: str) -> None:
        self.skipped += 1
        if len(self.skipped_listed) < MAX_SKIPPED_LISTED:
            self.skipped_listed.append({"source": where, "reason": why})

    def count(self, source: Source) -> None:
        if source.kind == "bundle":
            self.bundles += 1
        elif source.kind == "store":
            self.stores += 1
        elif source.kind == "extracted":
            self.extracted += 1
        else:
            self.files += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "bundles": self.bundles,
            "stores": self.stores,
            "extracted": self.extracted,
            "files": self.files,
            "skipped": self.skipped,
            "skipped_listed": self.skipped_listed,
        }


def default_jobs() -> int:
    """One process: since schema validation takes microseconds (jsonschema-rs), worker
    processes cost more to start and feed than they save (docs/performance.md)."""
    return 1


def iter_facts(
    sources: list[Source], *, skip_invalid: bool, jobs: int, progress: Progress
) -> Iterator[Fact]:
    """Every source's facts, in order. With ``jobs`` > 1 and enough bundles, bundles are
    verified in that many worker processes (``ProcessPoolExecutor``, started fresh
    rather than forked: nothing of the calling program is copied into them); an invalid
    input raises, or is skipped and listed."""
    from localtelemetry._contract.exceptions import BundleError

    on_skip = progress.skip if skip_invalid else None
    bundles = [str(s.path) for s in sources if s.kind == "bundle"]
    pool = None
    results: Iterator[tuple[list[Fact], str | None]]
    if jobs > 1 and len(bundles) >= PARALLEL_THRESHOLD:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        workers = min(jobs, len(bundles))
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
        results = pool.map(
            bundle_facts, bundles, chunksize=max(1, min(16, len(bundles) // workers))
        )
    else:
        results = map(bundle_facts, bundles)
    try:
        for source in sources:
            progress.count(source)
            if source.kind == "bundle":
                facts, error = _next(results)
                if error is not None:
                    if on_skip is None:
                        raise BundleError(bundle_message(source.path, error))
                    on_skip(str(source.path), error)
                yield from facts
            else:
                for document in read_source(source, on_skip=on_skip):
                    yield fact_of(document)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)


def _next(results: Iterator[tuple[list[Fact], str | None]]) -> tuple[list[Fact], str | None]:
    from concurrent.futures.process import BrokenProcessPool

    try:
        return next(results)
    except BrokenProcessPool as exc:
        from localtelemetry._contract.exceptions import OperationFailed

        raise OperationFailed(f"a worker process failed ({exc}); try again with --jobs 1") from None


def build_report(
    paths: Iterable[str | os.PathLike[str]],
    *,
    skip_invalid: bool = False,
    jobs: int = 1,
) -> dict[str, Any]:
    """The report over every document in ``paths`` (bundles, stores, directories).
    Raises ``UsageError`` (a path does not exist) or ``DocumentError``/``BundleError``
    (an invalid input, unless ``skip_invalid``). With ``jobs`` > 1, bundles are
    verified in that many worker processes."""
    sources = plan_sources(paths)
    progress = Progress()
    aggregator = Aggregator()
    for fact in iter_facts(
        sources, skip_invalid=skip_invalid, jobs=max(1, jobs), progress=progress
    ):
        aggregator.add(fact)
    return {"report_version": REPORT_VERSION, "sources": progress.as_dict(), **aggregator.result()}


# -- text ----------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    if value is None:
        return ""
    if value >= 100:
        return f"{value:.0f}"
    return f"{value:.1f}" if value >= 1 else f"{value:.3f}"


def _duration_cells(summary: dict[str, Any]) -> tuple[str, str, str]:
    """p50, p95 and max of a ``duration`` summary, as table cells."""
    return _ms(summary["p50_ms"]), _ms(summary["p95_ms"]), _ms(summary["max_ms"])


def render_text(result: dict[str, Any]) -> str:
    """The report as plain aligned tables."""
    src = result["sources"]
    parts = [
        plural(n, word)
        for n, word in (
            (src["bundles"], "bundle"),
            (src["stores"], "store"),
            (src["extracted"], "extracted bundle"),
            (src["files"], "document file"),
        )
        if n
    ]
    lines = [
        f"read:       {', '.join(parts) or 'nothing'}"
        + (f"; {src['skipped']} invalid skipped" if src["skipped"] else ""),
        f"documents:  {result['documents']} ("
        + tally(result["by_kind"])
        + ")"
        + (f"; {result['duplicates']} duplicates counted once" if result["duplicates"] else ""),
        "apps:       "
        + ", ".join(f"{k} ({plural(v, 'document')})" for k, v in result["apps"].items()),
        f"period:     {result['first']} .. {result['last']}",
        f"runs:       {plural(result['runs'], 'command')}, {result['failures']} failed"
        + (f" ({percent(result['failure_rate'])})" if result["runs"] else ""),
    ]
    rows: list[tuple[object, ...]]
    headers: tuple[str, ...]
    if result["commands"]:
        commands = commands_table(
            result["commands"], lambda c: _duration_cells(c["duration"]), failure_rate=True
        )
        lines += ["", commands]
    if result["versions"]:
        rows = [
            (
                v["version"] if len(result["apps"]) == 1 else f"{v['app']} {v['version']}",
                v["runs"],
                v["failures"],
                percent(v["failure_rate"]),
                v["documents"],
                v["first"][:10],
                v["last"][:10],
            )
            for v in result["versions"]
        ]
        headers = ("version", "runs", "failed", "fail %", "documents", "first", "last")
        lines += ["", table(headers, rows)]
    platform_rows = [
        (
            f"{p['os']}/{p['arch']}",
            p["runs"],
            p["failures"],
            percent(p["failure_rate"]),
            p["documents"],
        )
        for p in result["platforms"]
    ] + [
        (c["runtime_context"], c["runs"], c["failures"], percent(c["failure_rate"]), c["documents"])
        for c in result["runtime_contexts"]
    ]
    if platform_rows:
        headers = ("platform / context", "runs", "failed", "fail %", "documents")
        lines += ["", table(headers, platform_rows)]
    for b in result["builds"]:
        p50, p95, most = _duration_cells(b["duration"])
        lines += [
            "",
            f"build {b['build']}: {plural(b['runs'], 'run')} ({tally(b['statuses'])}), "
            f"p50 {p50} ms, p95 {p95} ms, max {most} ms",
        ]
        if b["phases"]:
            rows = [
                (
                    p["phase"],
                    p["runs"],
                    percent(p["share"]),
                    _ms(p["total_ms"]),
                    *_duration_cells(p["duration"]),
                    p["failures"],
                )
                for p in b["phases"]
            ]
            headers = (
                "phase",
                "runs",
                "share",
                "total ms",
                "p50 ms",
                "p95 ms",
                "max ms",
                "failed",
            )
            lines += ["  " + line for line in table(headers, rows).splitlines()]
    for s in result["snapshots"]:
        latest = s["series"][-1] if s["series"] else None
        counts = (
            ", ".join(f"{k} {v['mean']:g}" for k, v in latest["counts"].items()) if latest else ""
        )
        lines += [
            "",
            f"snapshot {s['snapshot']}: {s['runs']} taken over "
            f"{plural(len(s['series']), result['timeline']['bucket'])}"
            + (f"; latest ({latest['period']}) mean counts: {counts}" if latest else ""),
        ]
    if src["skipped_listed"]:
        lines += ["", "skipped (invalid):"]
        lines += [f"  {s['source']}: {s['reason']}" for s in src["skipped_listed"]]
        if src["skipped"] > len(src["skipped_listed"]):
            lines.append(f"  ... and {src['skipped'] - len(src['skipped_listed'])} more")
    return "\n".join(lines)
