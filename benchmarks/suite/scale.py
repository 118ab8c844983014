"""Measurements 4 and 5: export, and store operations, on stores of 1k/10k/100k documents.

The largest store is generated (``stores.generate``); the smaller ones hold hard links to
its newest documents. Export, ``zip -r`` and status/list run in child processes, so
their times and peak memory are their own; retention runs in this process.
"""

from __future__ import annotations

import inspect
import itertools
import random
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from .common import (
    BENCH,
    PYTHON,
    child_env,
    median,
    ms,
    run_timed,
    spawn_floor_kib,
    summary,
    table,
)
from .costs import localtelemetry_command
from .stores import generate, make_document, newest_subset, seed_documents

CHILD = BENCH / "suite" / "child.py"


def _child(
    args: list[str], env: dict[str, str], timeout: float = 1800
) -> tuple[dict[str, Any], Any]:
    sample = run_timed([PYTHON, str(CHILD), *args], env, timeout=timeout)
    if sample.returncode != 0:
        raise RuntimeError(f"child {args[0]} failed: {sample.stderr[-2000:]}")
    return orjson.loads(sample.stdout.strip().splitlines()[-1]), sample


def _zip_tool() -> str | None:
    return shutil.which("zip")


def export_bench(
    stores: dict[int, Path],
    base_for: dict[int, Path],
    repeats: dict[int, int],
    env: dict[str, str],
    work: Path,
) -> dict[str, Any]:
    """``localtelemetry export`` as a user runs it: a whole process, started from a
    small parent so its peak memory is its own (``common.run_timed``)."""
    zip_path = _zip_tool()
    rows: dict[str, Any] = {}
    lt = localtelemetry_command()
    for size, directory in stores.items():
        app = directory.name
        runs = []
        zips = []
        cmd_env = {**env, "LOCALTELEMETRY_DIR": str(base_for[size])}
        for i in range(repeats[size]):
            out = work / f"bundle-{size}-{i}.zip"
            sample = run_timed(
                [*lt, "export", "--app", app, "-o", str(out), "--format", "json", "--force"],
                cmd_env,
                timeout=1800,
            )
            if sample.returncode != 0:
                raise RuntimeError(f"export failed ({sample.returncode}): {sample.stderr[-2000:]}")
            data = orjson.loads(sample.stdout)["result"]
            runs.append(
                {
                    "process_wall_s": sample.wall_s,
                    "process_cpu_s": sample.cpu_s,
                    "peak_rss_kib": sample.maxrss_kib,
                    "documents": data["documents"],
                    "bundle_bytes": out.stat().st_size,
                    "skipped": data["redaction"].get("documents_skipped"),
                }
            )
            out.unlink()
            zout = work / f"zip-{size}-{i}.zip"
            if zip_path:
                z = run_timed([zip_path, "-q", "-r", str(zout), app], env, cwd=directory.parent)
                if z.returncode != 0:
                    raise RuntimeError(f"zip failed: {z.stderr}")
                zips.append({"seconds": z.wall_s, "peak_rss_kib": z.maxrss_kib})
            else:
                zdata, z = _child(["pyzip", str(directory), str(zout)], env)
                zips.append({"seconds": zdata["seconds"], "peak_rss_kib": z.maxrss_kib})
            zout.unlink()
        seconds = median([r["process_wall_s"] for r in runs])
        documents = runs[0]["documents"]
        zip_seconds = median([z["seconds"] for z in zips])
        rows[str(size)] = {
            "store_documents": size,
            "exported_documents": documents,
            "skipped": runs[0]["skipped"],
            "repeats": len(runs),
            "process_wall_s": seconds,
            "process_cpu_s": median([r["process_cpu_s"] for r in runs]),
            "documents_per_second": documents / seconds if seconds else float("inf"),
            "peak_rss_mib": median([r["peak_rss_kib"] for r in runs]) / 1024,
            "bundle_mib": runs[0]["bundle_bytes"] / 2**20,
            "zip_seconds": zip_seconds,
            "zip_peak_rss_mib": max(z["peak_rss_kib"] for z in zips) / 1024,
            "export_over_zip": seconds / zip_seconds if zip_seconds else float("inf"),
            "runs": runs,
        }
    keys = sorted(rows, key=int)
    growth = {}
    for lo, hi in itertools.pairwise(keys):
        extra_docs = rows[hi]["store_documents"] - rows[lo]["store_documents"]
        extra_kib = (rows[hi]["peak_rss_mib"] - rows[lo]["peak_rss_mib"]) * 1024
        growth[f"{lo}-{hi}"] = extra_kib * 1024 / extra_docs if extra_docs else 0.0
    return {
        "command": " ".join(
            [*lt, "export", "--app", "APP", "-o", "OUT.zip", "--format", "json", "--force"]
        ),
        "zip_tool": zip_path or "python zipfile (zip is not installed)",
        "sizes": rows,
        "growth_bytes_per_document": growth,
    }


def store_ops_bench(
    stores: dict[int, Path],
    base_for: dict[int, Path],
    repeats: int,
    env: dict[str, str],
    work: Path,
) -> dict[str, Any]:
    """``status`` and ``list`` (newest 50): the command's own work in a fresh process
    (``child.py``), and the whole command as a user runs it, also on an empty store."""
    empty_base = work / "empty-base"
    empty_base.mkdir()
    lt = localtelemetry_command()
    rows: dict[str, Any] = {}
    for size, directory in stores.items():
        app = directory.name
        row: dict[str, Any] = {}
        for op, extra in (("status", []), ("list", ["50"])):
            inproc = []
            for _ in range(repeats):
                data, _sample = _child([op, str(base_for[size]), app, *extra], env)
                inproc.append(data["seconds"])
            command: list[Any] = []
            empty = []
            cmd_env = {**env, "LOCALTELEMETRY_DIR": str(base_for[size])}
            empty_env = {**env, "LOCALTELEMETRY_DIR": str(empty_base)}
            args = [*lt, op, "--app", app, "--format", "json"]
            for _ in range(repeats):
                s = run_timed(args, cmd_env, timeout=600)
                if s.returncode != 0:
                    raise RuntimeError(f"{op} failed ({s.returncode}): {s.stderr[-2000:]}")
                command.append(s)
                e = run_timed(args, empty_env, timeout=600)
                empty.append(e.wall_s)
            row[op] = {
                "in_process_s": summary(inproc),
                "command_wall_s": median([c.wall_s for c in command]),
                "command_cpu_s": median([c.cpu_s for c in command]),
                "command_peak_rss_mib": median([c.maxrss_kib / 1024 for c in command]),
                "command_wall_empty_store_s": median(empty),
            }
        rows[str(size)] = row
    return {"repeats": repeats, "sizes": rows}


def _retention_step(store: Any) -> Callable[[int, float], object]:
    if hasattr(store, "apply_retention"):
        return store.apply_retention  # type: ignore[no-any-return]

    def legacy(now_ms: int, now_s: float) -> None:
        store.prune(now_ms)
        store.clean_stale_temp_files(now_s)

    return legacy


def retention_bench(
    stores: dict[int, Path],
    groups: list[list[bytes]],
    iterations: int,
    budget_s: float,
) -> dict[str, Any]:
    """Cost of the retention step of one recorded run (3 documents written just before),
    under the limits and at them (steady state: every run pushes the store over)."""
    from localtelemetry import Limits
    from localtelemetry._contract import new_id
    from localtelemetry._store import StoreLocation
    from localtelemetry._store.store import Store

    template = [orjson.loads(d) for d in groups[1]]  # the `check` run: 3 documents
    rng = random.Random(3)
    out: dict[str, Any] = {}
    for scenario in ("under limits", "at the limit"):
        rows: dict[str, Any] = {}
        for size, directory in stores.items():
            location = StoreLocation(directory.name, base=directory.parent)
            count = sum(1 for _ in Store(location).entries())
            if scenario == "under limits":
                limits = Limits(max_documents=10**7, max_bytes=10**12)
            else:
                limits = Limits(max_documents=count, max_bytes=10**12)
            times: list[float] = []
            started = time.perf_counter()
            for _ in range(iterations):
                store = Store(location, limits=limits)  # one Store per run, as in a real run
                journal = "journal" in inspect.signature(store.write_bytes).parameters
                now_ms = int(time.time() * 1000)
                run_id = new_id(now_ms, random_bytes=bytes(rng.randrange(256) for _ in range(10)))
                for doc in template:
                    kind, id_, data = make_document(doc, now_ms, run_id, rng)
                    if journal:
                        store.write_bytes(kind, id_, data, journal=True)
                    else:
                        store.write_bytes(kind, id_, data)
                step = _retention_step(store)
                t0 = time.perf_counter()
                step(int(time.time() * 1000), time.time())
                times.append(time.perf_counter() - t0)
                if time.perf_counter() - started > budget_s and len(times) >= 3:
                    break
            remaining = sum(1 for _ in Store(location).entries())
            rows[str(size)] = {
                "documents_before": count,
                "documents_after": remaining,
                "limits": repr(limits),
                **summary(times),
            }
        out[scenario] = rows
    return out


def run(
    sizes: list[int],
    export_repeats: dict[int, int],
    ops_repeats: int,
    retention_iterations: int,
    retention_budget_s: float,
) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="lt-bench-scale-"))
    try:
        home = work / "home"
        home.mkdir()
        env = child_env(home)
        t0 = time.perf_counter()
        groups = seed_documents(work)
        largest = max(sizes)
        base_for = {size: work / f"store-{size}" for size in sizes}
        source = generate(base_for[largest], f"bench{largest}", largest, groups)
        stores = {largest: source}
        for size in sorted(sizes):
            if size != largest:
                stores[size] = newest_subset(source, base_for[size], f"bench{size}", size)
        stores = dict(sorted(stores.items()))
        generation_s = time.perf_counter() - t0
        result: dict[str, Any] = {
            "generation_seconds": generation_s,
            "spawn_floor_mib": spawn_floor_kib(env) / 1024,
        }
        result["export"] = export_bench(stores, base_for, export_repeats, env, work)
        result["store_ops"] = store_ops_bench(stores, base_for, ops_repeats, env, work)
        ends = {s: p for s, p in stores.items() if s in (min(sizes), largest)}
        result["retention"] = retention_bench(
            ends, groups, retention_iterations, retention_budget_s
        )
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def render(result: dict[str, Any]) -> str:
    ex = result["export"]
    rows: list[tuple[str, ...]] = []
    for size, r in ex["sizes"].items():
        rows.append(
            (
                f"{int(size):,}",
                f"{r['exported_documents']:,}",
                f"{r['process_wall_s']:.2f}",
                f"{r['process_cpu_s']:.2f}",
                f"{r['documents_per_second']:,.0f}",
                f"{r['peak_rss_mib']:.1f}",
                f"{r['bundle_mib']:.2f}",
                f"{r['zip_seconds']:.2f}",
                f"{r['export_over_zip']:.1f}x",
            )
        )
    growth = ", ".join(
        f"{int(k.split('-')[0]):,} -> {int(k.split('-')[1]):,}: {v:,.0f} bytes/document"
        for k, v in ex["growth_bytes_per_document"].items()
    )
    parts = [
        table(
            "4. Export, whole process (`localtelemetry export`: full redaction, re-keyed, "
            f"validated; median of repeats; peak RSS from wait4 of a child of a small parent, "
            f"floor {result['spawn_floor_mib']:.1f} MiB; compared with {ex['zip_tool']} -r)",
            (
                "store docs",
                "exported",
                "wall s",
                "CPU s",
                "docs/s",
                "peak RSS MiB",
                "bundle MiB",
                "zip -r s",
                "export/zip",
            ),
            rows,
        ),
        f"peak memory growth per document: {growth or 'n/a'}",
        f"(stores generated in {result['generation_seconds']:.1f} s)",
        "",
    ]
    ops = result["store_ops"]
    rows = []
    for size, r in ops["sizes"].items():
        for op in ("status", "list"):
            o = r[op]
            rows.append(
                (
                    f"{int(size):,}",
                    op if op == "status" else "list (newest 50)",
                    ms(o["in_process_s"]["median"]),
                    ms(o["command_wall_s"]),
                    ms(o["command_cpu_s"]),
                    f"{o['command_peak_rss_mib']:.1f}",
                    ms(o["command_wall_empty_store_s"]),
                )
            )
    parts.append(
        table(
            f"5. Store operations (median of {ops['repeats']}; in-process = the command's "
            "work in a fresh process; command = `localtelemetry ...` whole process)",
            (
                "store docs",
                "operation",
                "in-process ms",
                "command wall ms",
                "command CPU ms",
                "peak RSS MiB",
                "command on empty ms",
            ),
            rows,
        )
    )
    rows = []
    for scenario, sizes in result["retention"].items():
        for size, r in sizes.items():
            rows.append(
                (
                    scenario,
                    f"{int(size):,}",
                    f"{r['n']}",
                    ms(r["median"]),
                    ms(r["mean"]),
                    ms(r["max"]),
                    f"{r['documents_before']:,} -> {r['documents_after']:,}",
                )
            )
    parts.append(
        table(
            "Retention step of one recorded run (3 documents written just before it)",
            ("scenario", "store docs", "runs", "median ms", "mean ms", "max ms", "documents"),
            rows,
        )
    )
    return "\n".join(parts)


__all__ = ["render", "run"]
