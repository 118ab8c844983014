"""`localtelemetry report` over many bundles: wall time and peak memory.

    python benchmarks/report_scale.py                     # 10,000 bundles (about a minute to make)
    python benchmarks/report_scale.py --bundles 1000 --jobs 1
    python benchmarks/report_scale.py --json OUT.json --keep DIR

The bundles are made like tests/bundle_factory.py makes them: real documents recorded
and exported once, varied (versions, platforms, commands, outcomes, durations, phases,
snapshot counts), each bundle written with the package's own zip entry, README and
serialization functions and a manifest that follows its schema. A sample of them (all
of them with --verify-all) is verified with the same reader as `localtelemetry
inspect` before anything is measured.

The report runs as its own process, like a maintainer runs it (`report DIR --format
json`); its wall time and the peak resident memory of that process and of its worker
processes are measured (VmHWM, Linux: the peaks of the worker processes are sampled
while they run). Running it at two sizes shows whether memory stays flat.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

RUNNER = r"""
import json, resource, sys, time
from localtelemetry._cli.app import _invoke, make_app

app = make_app(None)
started = time.perf_counter()
try:
    _invoke(app, ["report", *sys.argv[2:], "--format", "json"], "localtelemetry")
except SystemExit as done:
    code = done.code
finally:
    # VmHWM: this process's own peak (ru_maxrss would include the memory of the
    # process it was forked from, up to the exec).
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        with open("/proc/self/status") as status:
            peak = next(int(l.split()[1]) for l in status if l.startswith("VmHWM:"))
    except (OSError, StopIteration):
        pass
    usage = {"seconds": time.perf_counter() - started, "self_kib": peak}
    with open(sys.argv[1], "w") as fh:
        json.dump(usage, fh)
sys.exit(code)
"""


def _factory() -> Any:
    """tests/bundle_factory.py (which records a run of tests/hostapp.py: both there)."""
    tests = str(ROOT / "tests")
    if tests not in sys.path:
        sys.path.insert(0, tests)
    return importlib.import_module("bundle_factory")


def generate(bundles: int, directory: Path, *, seed: int = 6) -> dict[str, Any]:
    """Write ``bundles`` bundles into ``directory``; returns what was written."""
    factory = _factory()
    started = time.perf_counter()
    population = factory.Population(bundles, seed=seed)
    paths = list(population.write(directory))
    runs = [run for runs in population.bundle_runs for run in runs]
    documents = sum(
        2 + (run.build is not None) + (run.snapshot is not None) for run in runs
    )  # a cli-command and a run-summary per run, a build and a snapshot when there is one
    return {
        "bundles": len(paths),
        "paths": [str(p) for p in paths],
        "runs": len(runs),
        "failures": sum(run.outcome == "failure" for run in runs),
        "documents": documents,
        "bytes": sum(p.stat().st_size for p in paths),
        "seconds": round(time.perf_counter() - started, 2),
    }


def verify(paths: list[str], sample: int | None) -> int:
    """Verify bundles with inspect's reader; returns how many were checked."""
    from localtelemetry._receive.bundle import iter_verified

    chosen = paths if sample is None else random.Random(0).sample(paths, min(sample, len(paths)))
    for path in chosen:
        for _ in iter_verified(Path(path)):
            pass
    return len(chosen)


def _children_peaks_kib(parent: int) -> list[int]:
    """VmHWM of each process whose parent is ``parent`` (Linux; elsewhere nothing)."""
    peaks = []
    try:
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as fh:
                fields = dict(line.split(":", 1) for line in fh if ":" in line)
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(parent) and "VmHWM" in fields:
            peaks.append(int(fields["VmHWM"].split()[0]))
    return peaks


def measure(directory: Path, jobs: int) -> dict[str, Any]:
    """Run ``localtelemetry report DIRECTORY --jobs JOBS --format json`` in a process."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as fh:
        usage_file = Path(fh.name)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    try:
        started = time.perf_counter()
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            runner = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    RUNNER,
                    str(usage_file),
                    str(directory),
                    "--jobs",
                    str(jobs),
                ],
                stdout=out,
                stderr=err,
                env=env,
            )
            workers_kib = 0
            while runner.poll() is None:  # the workers' peaks, sampled as they run
                workers_kib = max([workers_kib, *_children_peaks_kib(runner.pid)])
                time.sleep(0.05)
            wall = time.perf_counter() - started
            out.seek(0)
            err.seek(0)
            proc = subprocess.CompletedProcess(
                runner.args, runner.returncode, out.read().decode(), err.read().decode()
            )
        if proc.returncode != 0:
            raise SystemExit(f"report failed ({proc.returncode}): {proc.stderr.strip()}")
        usage = json.loads(usage_file.read_text())
    finally:
        usage_file.unlink(missing_ok=True)
    report = json.loads(proc.stdout)["result"]
    return {
        "jobs": jobs,
        "wall_seconds": round(wall, 2),
        "report_seconds": round(usage["seconds"], 2),
        "peak_rss_mib": round(usage["self_kib"] / 1024, 1),
        "workers_peak_rss_mib": round(workers_kib / 1024, 1),
        "documents": report["documents"],
        "runs": report["runs"],
        "failures": report["failures"],
        "report": report,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bundles", type=int, default=10_000)
    parser.add_argument("--jobs", type=int, default=0, help="report --jobs (0: its default)")
    parser.add_argument(
        "--small", type=int, default=None, help="also measure this many (default: a tenth)"
    )
    parser.add_argument("--verify-all", action="store_true", help="verify every bundle, not 200")
    parser.add_argument(
        "--keep", type=Path, default=None, help="write the bundles here and keep them"
    )
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="report-scale-") as tmp:
        base = args.keep or Path(tmp)
        big = base / f"bundles-{args.bundles}"
        made = generate(args.bundles, big)
        checked = verify(made["paths"], None if args.verify_all else 200)
        print(
            f"made {made['bundles']:,} bundles ({made['documents']:,} documents, "
            f"{made['bytes'] / 1e6:.1f} MB) in {made['seconds']} s; verified {checked:,}",
            flush=True,
        )
        small_n = args.small if args.small is not None else max(1, args.bundles // 10)
        small_dir = base / f"bundles-{small_n}"
        small_dir.mkdir(parents=True, exist_ok=True)
        for path in made["paths"][:small_n]:
            os.link(path, small_dir / Path(path).name)
        results = {}
        for label, directory, count in (("small", small_dir, small_n), ("full", big, args.bundles)):
            figures = measure(directory, args.jobs)
            results[label] = {
                "bundles": count,
                **{k: v for k, v in figures.items() if k != "report"},
            }
            print(
                f"report over {count:,} bundles (--jobs {args.jobs}): "
                f"{figures['wall_seconds']} s wall, peak RSS {figures['peak_rss_mib']} MiB "
                f"(workers {figures['workers_peak_rss_mib']} MiB), "
                f"{figures['documents']:,} documents, {figures['runs']:,} runs",
                flush=True,
            )
            if label == "full":
                assert figures["documents"] == made["documents"], (
                    figures["documents"],
                    made["documents"],
                )
                assert figures["runs"] == made["runs"]
                assert figures["failures"] == made["failures"]
    summary = {
        "bundles": args.bundles,
        "documents": made["documents"],
        "generate_seconds": made["seconds"],
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        **results,
    }
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n")
    return summary


if __name__ == "__main__":
    main()
