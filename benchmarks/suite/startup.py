"""Measurements 1 and 2: the example app run as a new process, A/B interleaved.

Variants (each a new process through ``benchmarks/apps/harness.py``):

* ``plain``    benchmarks/apps/notebook_plain.py: the example app without localtelemetry
* ``lt-off``   examples/notebook.py: integration installed, run without --telemetry
* ``lt-on``    examples/notebook.py --telemetry (writes cli-command + build + run-summary)
* ``stdlib``   plain app recorded by the stdlib-only floor (benchmarks/baselines)
* ``otel``     plain app recorded by one OpenTelemetry SDK span to a file
* ``posthog``  plain app captured by the posthog client with sending disabled

Every round runs each variant ``reps`` times, all in one fresh random order; a round's
figure for a variant is its fastest run in the round (on a shared machine contention
only ever adds time) and differences are paired by round. Two figures per run:

* whole process: wall time from spawning the interpreter to reaping it, what a user
  waits for. On a busy machine its noise (tens of ms) hides differences of a few ms.
* in process: the harness imports typer (shared by every variant) before its clock
  starts, then times importing the app module (with localtelemetry, for lt-*) and
  running it. The disabled-path cost is lt-off minus plain over both; the added cost
  of recording is the run time of lt-on minus lt-off (recording's own imports happen
  there), and of a baseline minus plain (the baseline's imports happen there too).
  These intervals are short, so far less noise lands in them: the targets use them.
"""

from __future__ import annotations

import importlib.util
import json
import random
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .common import (
    BENCH,
    EXAMPLE,
    PYTHON,
    ROOT,
    Sample,
    bootstrap_ci,
    child_env,
    median,
    ms,
    paired,
    run_timed,
    table,
)

HARNESS = BENCH / "apps" / "harness.py"
HEAVY = ("orjson", "blake3", "jsonschema", "rich", "platformdirs", "referencing")
BASELINE_PACKAGES = {"otel": "opentelemetry.sdk", "posthog": "posthog"}
BASELINE_LABELS = {
    "localtelemetry": "localtelemetry (lt-on - lt-off)",
    "lt-b3": "  the same, blake3 loaded beforehand",
    "stdlib": "(a) stdlib-only floor (- plain)",
    "otel": "(b) OpenTelemetry SDK span (- plain)",
    "posthog": "(c) posthog capture, send off (- plain)",
}

_NOTES = {
    f"note{i:02d}.md": f"Note {i}: see [[note{(i + 1) % 24:02d}]] and [[note{(i + 7) % 24:02d}]].\n"
    for i in range(24)
}

_PROBE = r"""
import json, runpy, sys
sys.argv = [sys.argv[1], *sys.argv[2:]]
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)))
"""


def _available(name: str) -> bool:
    package = BASELINE_PACKAGES.get(name)
    if package is None:
        return True
    try:
        return importlib.util.find_spec(package) is not None
    except ModuleNotFoundError:
        return False


def _variants(notes: Path) -> dict[str, list[str]]:
    check = ["check", str(notes)]
    on = ["--telemetry", *check]
    return {
        "plain": ["plain", *check],
        "lt-off": ["example", *check],
        "lt-on": ["example", *on],
        # Breakdown: the same two runs with the blake3 extension loaded beforehand.
        "lt-off-b3": ["example+blake3", *check],
        "lt-on-b3": ["example+blake3", *on],
        "stdlib": ["stdlib", *on],
        "otel": ["otel", *on],
        "posthog": ["posthog", *on],
    }


def _timing(sample: Sample) -> dict[str, float]:
    for line in reversed(sample.stderr.splitlines()):
        if line.startswith("BENCH-TIMING "):
            data: dict[str, float] = json.loads(line[len("BENCH-TIMING ") :])
            return data
    raise RuntimeError(f"no timing line from the harness: {sample.stderr[-2000:]}")


def heavy_modules(home: Path, notes: Path) -> dict[str, Any]:
    """Which heavy modules a run of the example app without --telemetry imports."""
    sample = run_timed([PYTHON, "-c", _PROBE, str(EXAMPLE), "check", str(notes)], child_env(home))
    modules = set(json.loads(sample.stdout.strip().splitlines()[-1]))
    return {
        "heavy_imported": [m for m in HEAVY if m in modules],
        "localtelemetry_modules": sorted(m for m in modules if m.startswith("localtelemetry")),
        "modules_total": len(modules),
    }


def _importtime(code: str, home: Path) -> dict[str, int]:
    """-X importtime: cumulative µs of the localtelemetry package import, and the sum of
    the self times of localtelemetry's own modules."""
    sample = run_timed([PYTHON, "-X", "importtime", "-c", code], child_env(home))
    cumulative = 0
    own = 0
    for line in sample.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        parts = [p.strip() for p in line[len("import time:") :].split("|")]
        if not parts[0].isdigit():
            continue
        if parts[2] == "localtelemetry":
            cumulative = int(parts[1])
        if parts[2].startswith("localtelemetry"):
            own += int(parts[0])
    return {"cumulative_us": cumulative, "own_modules_self_us": own}


def import_times(home: Path, repeats: int) -> dict[str, Any]:
    """Median (and fastest) of several -X importtime runs."""
    alone = [_importtime("import localtelemetry", home) for _ in range(repeats)]
    after = [_importtime("import typer; import localtelemetry", home) for _ in range(repeats)]
    return {
        "repeats": repeats,
        "alone_cumulative_us": median([r["cumulative_us"] for r in alone]),
        "after_typer_cumulative_us": median([r["cumulative_us"] for r in after]),
        "after_typer_cumulative_min_us": min(r["cumulative_us"] for r in after),
        "after_typer_own_self_us": median([r["own_modules_self_us"] for r in after]),
    }


_METRICS: dict[str, Callable[[Sample, dict[str, float]], float]] = {
    "wall": lambda s, t: s.wall_s,
    "cpu": lambda s, t: s.cpu_s,
    "app": lambda s, t: t["import_s"] + t["run_s"],
    "run": lambda s, t: t["run_s"],
}


def run(rounds: int, warmup: int, reps: int, seed: int = 4) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="lt-bench-startup-"))
    try:
        home = work / "home"
        home.mkdir()
        notes = work / "notes"
        notes.mkdir()
        for name, text in _NOTES.items():
            (notes / name).write_text(text, encoding="utf-8")
        env = child_env(home)
        variants = {k: v for k, v in _variants(notes).items() if _available(k)}
        skipped = sorted(set(_variants(notes)) - set(variants))
        rng = random.Random(seed)
        # metric -> variant -> per round: the fastest of the round's runs
        rounds_of: dict[str, dict[str, list[float]]] = {
            m: {k: [] for k in variants} for m in _METRICS
        }
        every_wall: dict[str, list[float]] = {k: [] for k in variants}
        for i in range(warmup + rounds):
            order = list(variants) * reps
            rng.shuffle(order)
            seen: dict[str, dict[str, list[float]]] = {
                m: {k: [] for k in variants} for m in _METRICS
            }
            for name in order:
                sample = run_timed([PYTHON, str(HARNESS), *variants[name]], env, timeout=120)
                if sample.returncode != 0:
                    raise RuntimeError(f"{name} failed ({sample.returncode}): {sample.stderr}")
                timing = _timing(sample)
                for metric, value in _METRICS.items():
                    seen[metric][name].append(value(sample, timing))
            if i >= warmup:
                for metric in _METRICS:
                    for name in variants:
                        rounds_of[metric][name].append(min(seen[metric][name]))
                for name in variants:
                    every_wall[name].extend(seen["wall"][name])
        store = home / ".local" / "state" / "nb" / "telemetry"
        kinds = [p.name[:-32] for p in store.glob("*.json") if p.is_file()]
        written = {k: kinds.count(k) for k in sorted(set(kinds))}
        r = rounds_of
        result: dict[str, Any] = {
            "rounds": rounds,
            "runs_per_variant_per_round": reps,
            "warmup_rounds": warmup,
            "variants": sorted(variants),
            "skipped_variants": skipped,
            "documents_written_by_lt_on": written,
            "medians_ms": {
                metric: {k: median(v) * 1000 for k, v in per.items()} for metric, per in r.items()
            },
            "medians_of_every_run_ms": {k: median(v) * 1000 for k, v in every_wall.items()},
            "disabled": {
                "in_process": paired(r["app"]["lt-off"], r["app"]["plain"]),
                "whole_process": paired(r["wall"]["lt-off"], r["wall"]["plain"]),
                "cpu": paired(r["cpu"]["lt-off"], r["cpu"]["plain"]),
            },
            "added": {},
            "rounds_s": r,
        }
        pairs = {"localtelemetry": ("lt-on", "lt-off"), "lt-b3": ("lt-on-b3", "lt-off-b3")}
        pairs.update({b: (b, "plain") for b in ("stdlib", "otel", "posthog") if b in variants})
        diffs: dict[str, list[float]] = {}
        for label, (a, b) in pairs.items():
            result["added"][label] = {
                "in_process": paired(r["run"][a], r["run"][b]),
                "whole_process": paired(r["wall"][a], r["wall"][b]),
                "cpu": paired(r["cpu"][a], r["cpu"][b]),
            }
            diffs[label] = [x - y for x, y in zip(r["run"][a], r["run"][b], strict=True)]
        lt = diffs["localtelemetry"]
        if "stdlib" in diffs:
            result["lt_over_stdlib"] = _ratio(lt, diffs["stdlib"])
        if "otel" in diffs:
            result["otel_over_lt"] = _ratio(diffs["otel"], lt)
        # What loading the blake3 extension adds to a recorded run: the added time minus
        # the added time with blake3 loaded beforehand, paired by round.
        result["blake3_load"] = paired(diffs["localtelemetry"], diffs["lt-b3"])
        result["heavy"] = heavy_modules(home, notes)
        result["importtime"] = import_times(home, repeats=max(3, min(rounds, 9)))
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _ratio(a: list[float], b: list[float]) -> dict[str, Any]:
    """Ratio of the median paired differences, with a bootstrap CI (rounds resampled)."""
    return {"ratio": _ratio_of_medians(a, b), "ci95": list(bootstrap_ci([a, b], _ratio_of_medians))}


def _ratio_of_medians(a: list[float], b: list[float]) -> float:
    mb = median(b)
    return median(a) / mb if mb > 0 else float("inf")


def _diff_cell(p: dict[str, Any]) -> str:
    return f"{ms(p['diff_median'])} ({ms(p['diff_ci95'][0])}..{ms(p['diff_ci95'][1])})"


def render(result: dict[str, Any]) -> str:
    reps = result["runs_per_variant_per_round"]
    d = result["disabled"]
    med = result["medians_ms"]
    lines = [
        table(
            f"1. Disabled path: example app without --telemetry, integration installed vs "
            f"not ({result['rounds']} paired rounds, interleaved; per round the fastest of "
            f"{reps} runs)",
            ("figure", "plain ms", "installed ms", "difference ms (95% CI)", "ratio (IQR)"),
            [
                (
                    label,
                    f"{med[metric]['plain']:.2f}",
                    f"{med[metric]['lt-off']:.2f}",
                    _diff_cell(d[key]),
                    f"{d[key]['ratio_median']:.3f} ({d[key]['ratio_iqr'][0]:.3f}.."
                    f"{d[key]['ratio_iqr'][1]:.3f})",
                )
                for label, metric, key in (
                    ("in process (app import + run)", "app", "in_process"),
                    ("whole process (wall)", "wall", "whole_process"),
                    ("whole process (CPU)", "cpu", "cpu"),
                )
            ],
        ),
        f"heavy modules imported without --telemetry: {result['heavy']['heavy_imported'] or 'none'}"
        f" (checked: {', '.join(HEAVY)})",
        "import localtelemetry (-X importtime, median of "
        f"{result['importtime']['repeats']}): alone "
        f"{result['importtime']['alone_cumulative_us'] / 1000:.2f} ms cumulative; after typer "
        f"{result['importtime']['after_typer_cumulative_us'] / 1000:.2f} ms cumulative "
        f"(fastest {result['importtime']['after_typer_cumulative_min_us'] / 1000:.2f} ms; "
        f"{result['importtime']['after_typer_own_self_us'] / 1000:.2f} ms in its own modules)",
        "",
    ]
    rows = []
    for name, label in BASELINE_LABELS.items():
        a = result["added"].get(name)
        if a is None:
            rows.append((label, "not installed", "", ""))
            continue
        rows.append(
            (
                label,
                _diff_cell(a["in_process"]),
                _diff_cell(a["whole_process"]),
                _diff_cell(a["cpu"]),
            )
        )
    lines.append(
        table(
            f"2. Enabled path: added time of one recorded run ({result['rounds']} paired rounds,"
            f" fastest of {reps} runs each; the recorded runs wrote "
            f"{result['documents_written_by_lt_on']})",
            (
                "recorder",
                "in process ms (95% CI)",
                "whole process wall ms (95% CI)",
                "whole process CPU ms (95% CI)",
            ),
            rows,
        )
    )
    if "lt_over_stdlib" in result:
        x = result["lt_over_stdlib"]
        lines.append(
            f"localtelemetry / stdlib floor (in process): {x['ratio']:.2f}x "
            f"(95% CI {x['ci95'][0]:.2f}..{x['ci95'][1]:.2f})"
        )
    if "otel_over_lt" in result:
        x = result["otel_over_lt"]
        lines.append(
            f"OpenTelemetry / localtelemetry (in process): {x['ratio']:.1f}x "
            f"(95% CI {x['ci95'][0]:.1f}..{x['ci95'][1]:.1f})"
        )
    if "blake3_load" in result:
        lines.append(
            "of the recorded run's added time, loading the blake3 extension (the two rows "
            f"above, paired by round): {_diff_cell(result['blake3_load'])} ms"
        )
    lines.append(
        "whole-process medians of the rounds' fastest runs (ms): "
        + ", ".join(f"{k} {v:.1f}" for k, v in sorted(med["wall"].items()))
    )
    return "\n".join(lines)


__all__ = ["ROOT", "render", "run"]
