"""localtelemetry benchmarks: what the recorder costs, against real alternatives.

    python benchmarks/run.py                 # full run (several minutes), targets checked
    python benchmarks/run.py --smoke         # seconds: every measurement, tiny sizes
    python benchmarks/run.py --json OUT.json --check   # exit 1 if a target is missed

Baselines need the bench extra: ``pip install -e ".[bench]"`` (OpenTelemetry SDK,
posthog, pyinstrument); without it those rows say "not installed".

Measurements (issue 4): 1. disabled path, 2. enabled path vs baselines, 3. in-process
cost per document, 4. export at 1k/10k/100k documents vs ``zip -r``, 5. status, list and
retention at scale. Whole-process figures come from A/B interleaved runs (each round runs
every variant once, in random order) and are reported as medians of the paired
differences with bootstrap confidence intervals, because this kind of machine is noisy.
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

from suite import scale, startup, write_path  # noqa: E402
from suite.common import compile_bytecode, machine  # noqa: E402

DEFAULT_JSON = HERE / "results" / "latest.json"
PARTS = ("startup", "write", "scale")


def _target(name: str, ok: bool | None, value: str, goal: str, note: str = "") -> dict[str, Any]:
    status = "SKIP" if ok is None else ("PASS" if ok else "MISS")
    return {"target": name, "status": status, "value": value, "goal": goal, "note": note}


def check_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    targets = []
    st = results.get("startup")
    if st:
        heavy = st["heavy"]["heavy_imported"]
        targets.append(
            _target(
                "1. disabled path imports nothing heavy",
                not heavy,
                ", ".join(heavy) or "none",
                "none of orjson, blake3, jsonschema, rich, platformdirs",
            )
        )
        d = st["disabled"]["in_process"]
        w = st["disabled"]["whole_process"]
        lo, hi = w["diff_ci95"]
        targets.append(
            _target(
                "1. disabled path: no measurable difference",
                lo <= 0.0 <= hi,
                f"whole process {w['diff_median'] * 1000:+.2f} ms (95% CI {lo * 1000:+.2f}.."
                f"{hi * 1000:+.2f}), ratio {w['ratio_median']:.3f}; in process "
                f"{d['diff_median'] * 1000:+.2f} ms",
                "95% CI of the whole-process paired difference contains 0",
            )
        )
        lt = st["added"]["localtelemetry"]["in_process"]
        targets.append(
            _target(
                "2. enabled path: added wall time",
                lt["diff_median"] <= 0.005,
                f"{lt['diff_median'] * 1000:.2f} ms (95% CI {lt['diff_ci95'][0] * 1000:.2f}.."
                f"{lt['diff_ci95'][1] * 1000:.2f})",
                "<= 5 ms median (in process, imports included)",
            )
        )
        r = st.get("lt_over_stdlib")
        targets.append(
            _target(
                "2. within 1.5x of the stdlib-only floor",
                None if r is None else r["ratio"] <= 1.5,
                "n/a" if r is None else f"{r['ratio']:.2f}x",
                "<= 1.5x",
            )
        )
        r = st.get("otel_over_lt")
        targets.append(
            _target(
                "2. at least 8x cheaper than OpenTelemetry",
                None if r is None else r["ratio"] >= 8,
                "not installed" if r is None else f"{r['ratio']:.1f}x",
                ">= 8x",
            )
        )
    sc = results.get("scale")
    if sc:
        sizes = sc["export"]["sizes"]
        slowest = min(sizes.values(), key=lambda r: r["documents_per_second"])
        targets.append(
            _target(
                "4. export throughput with full redaction",
                slowest["documents_per_second"] >= 5000,
                f"{slowest['documents_per_second']:,.0f} docs/s at "
                f"{slowest['store_documents']:,} documents (slowest size)",
                ">= 5,000 documents/s at every size",
            )
        )
        keys = sorted(sizes, key=int)
        small, big = sizes[keys[0]], sizes[keys[-1]]
        growth = big["peak_rss_mib"] / small["peak_rss_mib"]
        targets.append(
            _target(
                "4. export peak memory stays flat",
                growth <= 1.5,
                f"{small['peak_rss_mib']:.0f} MiB at {int(keys[0]):,} -> "
                f"{big['peak_rss_mib']:.0f} MiB at {int(keys[-1]):,} ({growth:.2f}x)",
                "peak RSS at the largest store <= 1.5x the smallest",
            )
        )
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
        "--only", default=",".join(PARTS), help=f"comma-separated parts: {', '.join(PARTS)}"
    )
    parser.add_argument("--rounds", type=int, default=None, help="paired rounds (startup)")
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
    if "startup" in parts:
        rounds = args.rounds or (2 if smoke else 30)
        results["startup"] = startup.run(
            rounds=rounds, warmup=1 if smoke else 2, reps=1 if smoke else 3
        )
        print(startup.render(results["startup"]))
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
