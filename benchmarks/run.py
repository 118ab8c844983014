"""localtelemetry benchmarks: what the recorder costs its host, against the same app without it.

    python benchmarks/run.py                 # full run (about 10 minutes), targets checked
    python benchmarks/run.py --smoke         # every measurement at tiny sizes, no targets
    python benchmarks/run.py --json OUT.json --check   # exit 1 if a target is missed

Baselines need the bench extra: ``pip install -e ".[bench]"`` (OpenTelemetry SDK,
posthog, pyinstrument); without it those rows say "not installed". Instruction counts
need valgrind (Debian's package; installed with apt-get where missing, and the run says
so; ``--no-install`` skips them instead).

Parts (issue 14): ``costs``: 1. the cost of each path over the plain app, for a Typer
and a Click host, in instructions (callgrind, converted to ms) and whole-process wall and
CPU time; 2. ``localtelemetry run -- true``. ``write``: 3. in-process cost per document.
``scale``: 4. export (whole process, time and memory) and 5. status/list/retention at
1k/10k/100k documents. ``attribute`` (not in the default run): where each row's
instructions go (``suite/attribute.py``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from suite import attribute, costs, scale, write_path  # noqa: E402
from suite.common import compile_bytecode, machine  # noqa: E402

DEFAULT_JSON = HERE / "results" / "latest.json"
PARTS = ("costs", "write", "scale", "attribute")
DEFAULT_PARTS = ("costs", "write", "scale")


def _target(name: str, ok: bool | None, value: str, goal: str, note: str = "") -> dict[str, Any]:
    status = "SKIP" if ok is None else ("PASS" if ok else "MISS")
    return {"target": name, "status": status, "value": value, "goal": goal, "note": note}


def check_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    targets = []
    co = results.get("costs")
    if co:
        for host, heavy in co["heavy_imported"].items():
            targets.append(
                _target(
                    f"1. {host} host without --telemetry imports nothing heavy",
                    not heavy,
                    ", ".join(heavy) or "none",
                    "none of " + ", ".join(costs.HEAVY),
                )
            )
        for r in co["rows"]:
            if r["target_ms"] is None:
                continue
            has = "ms" in r
            value = (
                f"{r['ms']:+.2f} ms ({r['instructions_diff']:+,.0f} instructions, "
                f"{r['instructions_pct']:+.2f}%); wall {r['wall']['diff_median'] * 1000:+.1f} ms, "
                f"CPU {r['cpu']['diff_median'] * 1000:+.1f} ms"
                if has
                else "no instruction count (valgrind missing)"
            )
            targets.append(
                _target(
                    f"1. {r['host']}: {r['label']}",
                    r["ms"] <= r["target_ms"] if has else None,
                    value,
                    f"<= {r['target_ms']:g} ms (instructions converted)"
                    + (
                        f" = {r['budget_instructions'] / 1e6:.1f}M instructions at this run's "
                        "factor"
                        if r.get("budget_instructions")
                        else ""
                    ),
                )
            )
        for r in co["run_rows"]:
            if r["target_ms"] is None:
                continue
            instr = (
                f"; {r['instructions']:,.0f} instructions, about {r['ms_from_instructions']:.0f} ms"
                if "ms_from_instructions" in r
                else ""
            )
            targets.append(
                _target(
                    f"2. {r['label']}, whole process",
                    r["wall_ms"] <= r["target_ms"],
                    f"{r['wall_ms']:.0f} ms wall, {r['cpu_ms']:.0f} ms CPU{instr}",
                    f"<= {r['target_ms']:g} ms wall",
                )
            )
    sc = results.get("scale")
    if sc:
        sizes = sc["export"]["sizes"]
        for size, limit in ((1_000, 1.0), (10_000, 3.0)):
            row = sizes.get(str(size))
            if row is None:
                continue
            targets.append(
                _target(
                    f"4. export of {size:,} documents, whole process",
                    row["process_wall_s"] < limit,
                    f"{row['process_wall_s']:.2f} s wall ({row['process_cpu_s']:.2f} s CPU, "
                    f"{row['documents_per_second']:,.0f} documents/s)",
                    f"< {limit:g} s",
                )
            )
        biggest = max(sizes.values(), key=lambda r: r["peak_rss_mib"])
        targets.append(
            _target(
                "4. export peak memory",
                biggest["peak_rss_mib"] < 64,
                f"{biggest['peak_rss_mib']:.1f} MiB at {biggest['store_documents']:,} documents "
                f"(largest at any size)",
                "< 64 MiB at every size",
            )
        )
        growth = sc["export"]["growth_bytes_per_document"]
        if growth:
            worst = max(growth.values())
            targets.append(
                _target(
                    "4. export memory growth per document",
                    worst <= 32,
                    ", ".join(
                        f"{k.replace('-', ' -> ')}: {v:,.0f} B/doc" for k, v in growth.items()
                    ),
                    "a few bytes per document (checked as <= 32 B/doc: room for a packed id)",
                )
            )
        keys = sorted(sizes, key=int)
        ops = sc["store_ops"]["sizes"][keys[-1]]
        for op in ("status", "list"):
            t = ops[op]["in_process_s"]["median"]
            targets.append(
                _target(
                    f"5. {op} on {int(keys[-1]):,} documents",
                    t < 0.5,
                    f"{t * 1000:.0f} ms in-process "
                    f"(whole command {ops[op]['command_wall_s'] * 1000:.0f} ms, "
                    f"{ops[op]['command_wall_empty_store_s'] * 1000:.0f} ms on an empty store)",
                    "< 0.5 s",
                )
            )
        for scenario, rows in sc["retention"].items():
            rkeys = sorted(rows, key=int)
            lo_r, hi_r = rows[rkeys[0]], rows[rkeys[-1]]
            ok = hi_r["median"] <= 2 * lo_r["median"] + 0.001
            targets.append(
                _target(
                    f"5. retention per run does not grow with the store ({scenario})",
                    ok,
                    f"median {lo_r['median'] * 1000:.2f} ms at {int(rkeys[0]):,} vs "
                    f"{hi_r['median'] * 1000:.2f} ms at {int(rkeys[-1]):,} "
                    f"(mean {lo_r['mean'] * 1000:.2f} vs {hi_r['mean'] * 1000:.2f})",
                    "median at the largest <= 2x the smallest + 1 ms",
                )
            )
    return targets


def render_targets(targets: list[dict[str, Any]]) -> str:
    from suite.common import table

    return table(
        "Targets",
        ("status", "target", "measured", "goal"),
        [(t["status"], t["target"], t["value"], t["goal"]) for t in targets],
    )


def _clean(value: Any) -> Any:
    """JSON without NaN/inf (they are not JSON)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, no targets (seconds)")
    parser.add_argument("--json", type=Path, default=None, help=f"default: {DEFAULT_JSON}")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    parser.add_argument(
        "--only",
        default=",".join(DEFAULT_PARTS),
        help=f"comma-separated parts: {', '.join(PARTS)} (default: {', '.join(DEFAULT_PARTS)})",
    )
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds (costs)")
    parser.add_argument("--reps", type=int, default=None, help="runs per variant per round")
    parser.add_argument(
        "--callgrind-repeats",
        type=int,
        default=1,
        help="callgrind runs per variant (a few variants always run 3 times, to show the spread)",
    )
    parser.add_argument(
        "--jobs", type=int, default=min(2, os.cpu_count() or 1), help="callgrind runs at once"
    )
    parser.add_argument(
        "--keep-callgrind",
        type=Path,
        default=None,
        help="keep callgrind profiles in this directory",
    )
    parser.add_argument(
        "--no-install", action="store_true", help="do not apt-get install a missing valgrind"
    )
    parser.add_argument(
        "--sizes", default=None, help="store sizes for export/status/list (default 1k,10k,100k)"
    )
    args = parser.parse_args(argv)
    parts = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        parser.error(f"unknown part(s): {', '.join(unknown)}")
    smoke = args.smoke
    out_path: Path = args.json or DEFAULT_JSON
    started = time.time()
    info = machine()
    note = compile_bytecode()
    print(f"localtelemetry benchmarks ({'smoke' if smoke else 'full'} mode)")
    print(
        f"machine: {info['nproc']} CPUs, {info['cpu_model']}, Python {info['python']}, "
        f"load average {', '.join(f'{x:.2f}' for x in info['loadavg_at_start'])}"
    )
    print(note)
    print()
    results: dict[str, Any] = {}
    if "costs" in parts:
        results["costs"] = costs.run(
            rounds=args.rounds or (1 if smoke else 10),
            reps=args.reps or (1 if smoke else 2),
            warmup=1,
            smoke=smoke,
            install_valgrind=not args.no_install,
            workers=args.jobs,
            callgrind_repeats=args.callgrind_repeats,
            keep_callgrind=args.keep_callgrind,
        )
        print(costs.render(results["costs"]))
        print()
    if "write" in parts:
        results["write"] = write_path.run(
            per_batch=20 if smoke else 200, batches=3 if smoke else 15
        )
        print(write_path.render(results["write"]))
        print()
    if "scale" in parts:
        if args.sizes:
            sizes = [int(s) for s in args.sizes.split(",")]
        else:
            sizes = [100, 300] if smoke else [1_000, 10_000, 100_000]
        repeats = {s: 1 if smoke or s >= 100_000 else (2 if s >= 10_000 else 3) for s in sizes}
        results["scale"] = scale.run(
            sizes,
            export_repeats=repeats,
            ops_repeats=1 if smoke else 3,
            retention_iterations=3 if smoke else 40,
            retention_budget_s=5 if smoke else 60,
        )
        print(scale.render(results["scale"]))
        print()
    if "attribute" in parts:
        results["attribute"] = attribute.run(
            smoke=smoke, install_valgrind=not args.no_install, workers=args.jobs
        )
        print(attribute.render(results["attribute"]))
        print()
    try:
        load_at_end = list(os.getloadavg())
    except OSError:
        load_at_end = []
    info["loadavg_at_end"] = load_at_end
    print("load average at the end: " + ", ".join(f"{x:.2f}" for x in load_at_end))
    targets = [] if smoke else check_targets(results)
    if targets:
        print(render_targets(targets))
    else:
        print("smoke mode: targets are not checked" if smoke else "no targets measured")
    command = "python benchmarks/run.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    document = {
        "format": "localtelemetry-benchmarks",
        "version": 1,
        "mode": "smoke" if smoke else "full",
        "command": command.strip(),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "seconds": time.time() - started,
        "machine": info,
        "bytecode": note,
        "results": results,
        "targets": targets,
    }
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(_clean(document), indent=2) + "\n", encoding="utf-8")
    print(f"\nresults written to {out_path} ({document['seconds']:.0f} s)")
    missed = [t for t in targets if t["status"] == "MISS"]
    if args.check and missed:
        print(f"{len(missed)} target(s) missed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    sys.exit(main())
