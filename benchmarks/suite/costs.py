"""Issue 14: what localtelemetry costs a host app, against the same app without it.

Every figure is of a whole process, as a user runs it, with bytecode compiled first:

* instructions: each variant once under ``valgrind --tool=callgrind`` with
  ``PYTHONHASHSEED=0`` (``callgrind.py``); a row's cost is the difference of two
  variants' counts, converted to milliseconds with the plain app's own CPU time per
  instruction (its median whole-process CPU time divided by its count). A few variants
  run more than once, to show how well counts repeat.
* wall and CPU time: every variant run natively in interleaved rounds (each round runs
  all variants ``reps`` times in one random order; a round's figure for a variant is
  its fastest run), a row's cost is the median of the paired differences by round,
  with a 95 % bootstrap interval. CPU is the kernel's accounting of the child (wait4).

Hosts: the README's kind of Typer app (``examples/notebook.py``, and the same app
without localtelemetry, ``benchmarks/apps/notebook_plain.py``) and the same app for
Click (``benchmarks/apps/click_notes.py`` with and without the integration). Each host
runs ``check`` over 24 notes: ``plain`` (no localtelemetry), ``installed`` (integration
installed, no ``--telemetry``), ``recorded`` (``--telemetry``: cli-command, build and
run-summary documents), and the same three over notes where the last one has a broken
link, so ``check`` fails with a message holding a path and an e-mail address, which a
recorded run must scrub. The comparison recorders (``benchmarks/baselines``) record
the plain Typer app's successful run. ``localtelemetry run -- true`` is measured
against ``python -c pass``.
"""

from __future__ import annotations

import importlib.util
import json
import random
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import callgrind
from .common import (
    BENCH,
    EXAMPLE,
    PLAIN,
    PYTHON,
    child_env,
    median,
    paired,
    run_timed,
    table,
)

APPS = BENCH / "apps"
HEAVY = ("orjson", "blake3", "jsonschema", "rich", "platformdirs", "referencing")
BASELINE_PACKAGES = {"otel": "opentelemetry.sdk", "posthog": "posthog"}
_NOTES = 24


@dataclass(frozen=True)
class Variant:
    argv: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Row:
    """``a`` minus ``b``; ``target_ms`` is checked against the instruction figure."""

    host: str
    label: str
    a: str
    b: str
    target_ms: float | None = None


HOSTS = {
    "typer": (PLAIN, EXAMPLE),
    "click": (APPS / "notebook_click_plain.py", APPS / "notebook_click.py"),
}
BASELINES = {
    "stdlib": "(a) stdlib-only floor",
    "otel": "(b) OpenTelemetry SDK span",
    "posthog": "(c) posthog capture, send off",
}

ROWS = [
    row
    for host in HOSTS
    for row in (
        Row(host, "installed, no --telemetry - plain app", f"{host}:installed", f"{host}:plain", 1),
        Row(host, "recorded run, success - plain app", f"{host}:recorded", f"{host}:plain", 3),
        Row(
            host,
            "recorded failing run, message scrubbed - same run unrecorded",
            f"{host}:recorded-fail",
            f"{host}:installed-fail",
            5,
        ),
        Row(
            host,
            "recorded failing run - plain app failing",
            f"{host}:recorded-fail",
            f"{host}:plain-fail",
        ),
        Row(
            host,
            "unrecorded failing run - plain app failing",
            f"{host}:installed-fail",
            f"{host}:plain-fail",
        ),
    )
] + [
    Row("typer", f"{label} - plain app", f"typer:{name}", "typer:plain")
    for name, label in BASELINES.items()
]

#: Absolute rows: (variant, label, target in ms of whole-process wall time).
RUN_ROWS = (
    ("run:run", "localtelemetry run -- true", 40.0),
    ("run:run-telemetry", "localtelemetry run --telemetry -- true", None),
    ("run:python", "python -c pass", None),
)
#: Variants counted more than once in a full run, to show how well counts repeat.
REPEATED = ("typer:plain", "typer:recorded", "click:recorded-fail")


def _available(name: str) -> bool:
    package = BASELINE_PACKAGES.get(name.split(":")[-1])
    if package is None:
        return True
    try:
        return importlib.util.find_spec(package) is not None
    except ModuleNotFoundError:
        return False


def localtelemetry_command() -> list[str]:
    """The ``localtelemetry`` console script users run, or ``python -m localtelemetry``
    when it is not installed next to this interpreter."""
    script = Path(sys.executable).parent / "localtelemetry"
    return [str(script)] if script.exists() else [PYTHON, "-m", "localtelemetry"]


def make_notes(work: Path) -> tuple[Path, Path]:
    """24 linked notes, and the same 24 where the last links to a missing note (so
    ``check`` reads every note, then fails)."""
    good, bad = work / "notes", work / "notes-broken"
    for directory in (good, bad):
        directory.mkdir()
        for i in range(_NOTES):
            links = f"[[note{(i + 1) % _NOTES:02d}]] and [[note{(i + 7) % _NOTES:02d}]]"
            if directory is bad and i == _NOTES - 1:
                links += " and [[missing-note]]"
            (directory / f"note{i:02d}.md").write_text(f"Note {i}: see {links}.\n", "utf-8")
    return good, bad


def variants(good: Path, bad: Path) -> dict[str, Variant]:
    out: dict[str, Variant] = {}
    for host, (plain, app) in HOSTS.items():
        for suffix, notes in (("", good), ("-fail", bad)):
            check = ("check", str(notes))
            out[f"{host}:plain{suffix}"] = Variant((PYTHON, str(plain), *check))
            out[f"{host}:installed{suffix}"] = Variant((PYTHON, str(app), *check))
            out[f"{host}:recorded{suffix}"] = Variant((PYTHON, str(app), "--telemetry", *check))
    for name in BASELINES:
        argv = (PYTHON, str(PLAIN), "--telemetry", "check", str(good))
        out[f"typer:{name}"] = Variant(argv, {"BENCH_BASELINE": name})
    lt = localtelemetry_command()
    out["run:run"] = Variant((*lt, "run", "--", "true"))
    out["run:run-telemetry"] = Variant((*lt, "run", "--telemetry", "--", "true"))
    out["run:python"] = Variant((PYTHON, "-c", "pass"))
    return {k: v for k, v in out.items() if _available(k)}


# -- whole-process wall and CPU times ---------------------------------------------------


def time_rounds(
    chosen: dict[str, Variant], home: Path, *, rounds: int, reps: int, warmup: int, seed: int = 4
) -> dict[str, dict[str, list[float]]]:
    """metric ('wall', 'cpu', 'maxrss_kib') -> variant -> per round, the fastest run."""
    rng = random.Random(seed)
    out: dict[str, dict[str, list[float]]] = {
        m: {k: [] for k in chosen} for m in ("wall", "cpu", "rss")
    }
    for i in range(warmup + rounds):
        order = list(chosen) * reps
        rng.shuffle(order)
        seen: dict[str, list[tuple[float, float, float]]] = {k: [] for k in chosen}
        for name in order:
            v = chosen[name]
            sample = run_timed(v.argv, child_env(home, **v.env), timeout=300)
            failing = name.endswith("-fail")
            if (sample.returncode != 0) != failing:
                raise RuntimeError(f"{name} exited {sample.returncode}: {sample.stderr[-2000:]}")
            seen[name].append((sample.wall_s, sample.cpu_s, sample.maxrss_kib / 1024))
        if i >= warmup:
            for name, runs in seen.items():
                out["wall"][name].append(min(r[0] for r in runs))
                out["cpu"][name].append(min(r[1] for r in runs))
                out["rss"][name].append(min(r[2] for r in runs))
    return out


def heavy_modules(good: Path, home: Path) -> dict[str, Any]:
    """Which heavy modules each host imports in a run without --telemetry."""
    probe = (
        "import json, os, runpy, sys\n"
        "sys.argv = sys.argv[1:]\n"
        "sys.path[0] = os.path.dirname(os.path.abspath(sys.argv[0]))\n"
        "try:\n    runpy.run_path(sys.argv[0], run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out: dict[str, Any] = {}
    for host, (_, app) in HOSTS.items():
        sample = run_timed([PYTHON, "-c", probe, str(app), "check", str(good)], child_env(home))
        if sample.returncode != 0:
            raise RuntimeError(f"module probe of {app.name} failed: {sample.stderr[-2000:]}")
        modules = set(json.loads(sample.stdout.strip().splitlines()[-1]))
        out[host] = [m for m in HEAVY if m in modules]
    return out


# -- putting it together ----------------------------------------------------------------


def run(
    *,
    rounds: int,
    reps: int,
    warmup: int,
    smoke: bool,
    install_valgrind: bool,
    workers: int,
    callgrind_repeats: int,
    keep_callgrind: Path | None = None,
) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="lt-bench-costs-"))
    try:
        home = work / "home"
        home.mkdir()
        good, bad = make_notes(work)
        chosen = variants(good, bad)
        all_names = {f"typer:{b}" for b in BASELINES}
        skipped = sorted(n for n in all_names if n not in chosen)
        # Native runs first: the warm-up round writes every .pyc and creates each
        # recorded variant's store and key, so counted runs find a store in use.
        times = time_rounds(chosen, home, rounds=rounds, reps=reps, warmup=warmup)
        valgrind, valgrind_note = callgrind.ensure_valgrind(install=install_valgrind and not smoke)
        counts: dict[str, list[int]] = {}
        if valgrind is not None:
            if smoke:  # the smallest process only: the machinery works, the counts repeat
                names = ["run:python", "run:python"]
            else:
                names = [n for n in chosen for _ in range(callgrind_repeats)]
                names += [
                    n for n in REPEATED if n in chosen for _ in range(max(0, 3 - callgrind_repeats))
                ]
            jobs = [(n, list(chosen[n].argv), child_env(home, **chosen[n].env)) for n in names]
            if keep_callgrind is not None:
                keep_callgrind.mkdir(parents=True, exist_ok=True)
            counts = callgrind.count_many(valgrind, jobs, workers=workers, keep_dir=keep_callgrind)
        result: dict[str, Any] = {
            "rounds": rounds,
            "runs_per_variant_per_round": reps,
            "warmup_rounds": warmup,
            "variants": {
                k: list(v.argv) + [f"{e}={x}" for e, x in v.env.items()] for k, v in chosen.items()
            },
            "skipped_variants": skipped,
            "valgrind": valgrind_note,
            "instructions": counts,
            "instruction_spread": {k: callgrind.spread(v) for k, v in counts.items() if len(v) > 1},
            "medians": {
                "wall_ms": {k: median(v) * 1000 for k, v in times["wall"].items()},
                "cpu_ms": {k: median(v) * 1000 for k, v in times["cpu"].items()},
                "peak_rss_mib": {k: median(v) for k, v in times["rss"].items()},
            },
            "rounds_s": {"wall": times["wall"], "cpu": times["cpu"]},
            "heavy_imported": heavy_modules(good, home),
        }
        result["ns_per_instruction"] = {
            host: _ns_per_instruction(times["cpu"][f"{host}:plain"], counts.get(f"{host}:plain"))
            for host in HOSTS
        }
        result["ns_per_instruction_median_cpu"] = {
            host: _ns_per_instruction(
                times["cpu"][f"{host}:plain"], counts.get(f"{host}:plain"), median
            )
            for host in HOSTS
        }
        result["rows"] = [
            _row(r, times, counts, result["ns_per_instruction"])
            for r in ROWS
            if r.a in chosen and r.b in chosen
        ]
        result["run_rows"] = [
            _run_row(name, label, target, times, counts, result["ns_per_instruction"]["typer"])
            for name, label, target in RUN_ROWS
            if name in chosen
        ]
        result["ratios"] = _ratios(result["rows"])
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _ns_per_instruction(
    cpu_rounds: list[float], count: list[int] | None, pick: Any = min
) -> float | None:
    """CPU time per instruction of the plain app: its fastest whole-process CPU time
    (by default: contention on a shared machine only ever adds CPU time, through caches
    and the other hardware thread) over its instruction count."""
    if not count:
        return None
    return float(pick(cpu_rounds)) * 1e9 / median([float(c) for c in count])


def _row(
    r: Row,
    times: dict[str, dict[str, list[float]]],
    counts: dict[str, list[int]],
    ns: dict[str, float | None],
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "host": r.host,
        "label": r.label,
        "a": r.a,
        "b": r.b,
        "target_ms": r.target_ms,
        "wall": paired(times["wall"][r.a], times["wall"][r.b]),
        "cpu": paired(times["cpu"][r.a], times["cpu"][r.b]),
    }
    a, b = counts.get(r.a), counts.get(r.b)
    per = ns.get(r.host)
    if a and b and per is not None:
        ia, ib = median([float(x) for x in a]), median([float(x) for x in b])
        out.update(
            instructions_a=ia,
            instructions_b=ib,
            instructions_diff=ia - ib,
            instructions_pct=(ia - ib) / ib * 100,
            ms=(ia - ib) * per / 1e6,
        )
    if r.target_ms is not None and "ms" in out:
        out["status"] = "PASS" if out["ms"] <= r.target_ms else "MISS"
        # what the target allows at this run's conversion factor (it varies by tens of
        # percent between runs on a shared machine; the counts do not)
        out["budget_instructions"] = r.target_ms * 1e6 / per if per else None
    elif r.target_ms is not None:
        out["status"] = "SKIP"
    return out


def _run_row(
    name: str,
    label: str,
    target: float | None,
    times: dict[str, dict[str, list[float]]],
    counts: dict[str, list[int]],
    ns: float | None,
) -> dict[str, Any]:
    wall = median(times["wall"][name]) * 1000
    out: dict[str, Any] = {
        "variant": name,
        "label": label,
        "target_ms": target,
        "wall_ms": wall,
        "cpu_ms": median(times["cpu"][name]) * 1000,
    }
    if counts.get(name):
        out["instructions"] = median([float(c) for c in counts[name]])
        if ns is not None:
            out["ms_from_instructions"] = out["instructions"] * ns / 1e6
    if target is not None:
        out["status"] = "PASS" if wall <= target else "MISS"
    return out


def _ratios(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Our recorded run's cost as a ratio to each comparison recorder's, in instructions
    (the same as in converted ms: one conversion factor) and in whole-process CPU."""
    by = {(r["a"], r["b"]): r for r in rows}
    ours = by.get(("typer:recorded", "typer:plain"))
    out: dict[str, Any] = {}
    if ours is None:
        return out
    for name in BASELINES:
        theirs = by.get((f"typer:{name}", "typer:plain"))
        if theirs is None:
            continue
        entry: dict[str, Any] = {}
        if (
            "instructions_diff" in ours
            and "instructions_diff" in theirs
            and theirs["instructions_diff"] > 0
        ):
            entry["instructions"] = ours["instructions_diff"] / theirs["instructions_diff"]
        cpu = theirs["cpu"]["diff_median"]
        if cpu > 0 and ours["cpu"]["diff_median"] > 0:
            entry["cpu"] = ours["cpu"]["diff_median"] / cpu
        out[name] = entry
    return out


# -- rendering ----------------------------------------------------------------------------


def _ms_ci(p: dict[str, Any]) -> str:
    lo, hi = p["diff_ci95"]
    return f"{p['diff_median'] * 1000:+.1f} ({lo * 1000:+.1f}..{hi * 1000:+.1f})"


def _target_cell(r: dict[str, Any]) -> str:
    if r["target_ms"] is None:
        return ""
    budget = r.get("budget_instructions")
    return f"<= {r['target_ms']:g} ms" + (f" ({budget / 1e6:.1f}M)" if budget else "")


def render(result: dict[str, Any]) -> str:
    ns = result["ns_per_instruction"]
    at_median = result["ns_per_instruction_median_cpu"]
    conv = ", ".join(
        f"{host} {v:.3f} ns/instruction (at its median CPU time {at_median[host]:.3f})"
        if v and at_median[host]
        else f"{host} n/a"
        for host, v in ns.items()
    )
    rows = []
    for r in result["rows"]:
        has = "instructions_diff" in r
        rows.append(
            (
                r["host"],
                r["label"],
                f"{r['instructions_diff']:+,.0f}" if has else "-",
                f"{r['instructions_pct']:+.2f}%" if has else "-",
                f"{r['ms']:+.2f}" if has else "-",
                _ms_ci(r["wall"]),
                _ms_ci(r["cpu"]),
                _target_cell(r),
                r.get("status", ""),
            )
        )
    n = result["rounds"]
    lines = [
        table(
            "1. Cost over the plain app, whole process (instructions: valgrind --tool=callgrind, "
            f"PYTHONHASHSEED=0; ms = instructions x the plain app's CPU time per instruction, "
            f"from its fastest run: "
            f"{conv}; wall/CPU: {n} interleaved rounds, fastest of "
            f"{result['runs_per_variant_per_round']} runs per round, median of paired "
            "differences, 95% CI)",
            (
                "host",
                "row (a - b)",
                "instructions",
                "%",
                "ms",
                "wall ms (95% CI)",
                "CPU ms (95% CI)",
                "target",
                "status",
            ),
            rows,
        )
    ]
    if result["valgrind"]:
        lines.append(result["valgrind"])
    run_rows = []
    for r in result["run_rows"]:
        run_rows.append(
            (
                r["label"],
                f"{r['instructions']:,.0f}" if "instructions" in r else "-",
                f"{r['ms_from_instructions']:.1f}" if "ms_from_instructions" in r else "-",
                f"{r['wall_ms']:.1f}",
                f"{r['cpu_ms']:.1f}",
                f"<= {r['target_ms']:g} ms wall" if r["target_ms"] is not None else "",
                r.get("status", ""),
            )
        )
    lines += [
        "",
        table(
            "2. localtelemetry run, whole process (median of the rounds' fastest runs; "
            "instructions of the Python process only, converted with the Typer app's factor)",
            ("command", "instructions", "ms (instr)", "wall ms", "CPU ms", "target", "status"),
            run_rows,
        ),
    ]
    ratios = result["ratios"]
    if ratios:
        parts = []
        for name, entry in ratios.items():
            figures = []
            if "instructions" in entry:
                figures.append(f"{entry['instructions']:.2f}x in instructions")
            if "cpu" in entry:
                figures.append(f"{entry['cpu']:.2f}x in whole-process CPU (noisy)")
            text = f"{BASELINES[name]}: {', '.join(figures) or 'n/a'}"
            parts.append("  " + text)
        lines += [
            "",
            "localtelemetry's recorded run (cost over the plain app) as a ratio to:",
            *parts,
        ]
    spread = result["instruction_spread"]
    if spread:
        lines.append(
            "instruction counts repeat within: "
            + ", ".join(
                f"{k} {v * 100:.4f}% ({len(result['instructions'][k])} runs)"
                for k, v in spread.items()
            )
        )
    heavy = result["heavy_imported"]
    lines.append(
        "heavy modules imported without --telemetry: "
        + "; ".join(f"{h}: {', '.join(v) or 'none'}" for h, v in heavy.items())
        + f" (checked: {', '.join(HEAVY)})"
    )
    med = result["medians"]
    lines.append(
        "whole-process medians (ms wall / ms CPU / MiB peak RSS): "
        + ", ".join(
            f"{k} {med['wall_ms'][k]:.0f}/{med['cpu_ms'][k]:.0f}/{med['peak_rss_mib'][k]:.1f}"
            for k in sorted(med["wall_ms"])
        )
    )
    if result["skipped_variants"]:
        lines.append(f"not installed (bench extra): {', '.join(result['skipped_variants'])}")
    return "\n".join(lines)


__all__ = ["render", "run"]
