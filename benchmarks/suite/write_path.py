"""Measurement 3: in-process cost of one document, and of each step of writing it.

The document is the ``build`` document the example app's ``check`` command writes (a
path, two counters, two phases), produced by the real ``BuildRecorder``. Steps:

* hash       the keyed hashes that document needs (one path descriptor, one value)
* build      payload (names checked, values hashed) + envelope: the dict to be written
* serialize  orjson, as written to disk
* write      ``Store.write_bytes``: 0600 temp file, write, rename into place
* total      ``with telemetry.build(...)`` end to end (the sum of the above, plus ids)
* whole run  begin_run + the build + end_run (cli-command, run-summary, retention)
"""

from __future__ import annotations

import inspect
import shutil
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .common import ms, summary, table


def _per_op(fn: Callable[[], object], per_batch: int, batches: int) -> list[float]:
    fn()  # warm caches (imports, compiled regexes)
    out = []
    for _ in range(batches):
        t0 = time.perf_counter()
        for _ in range(per_batch):
            fn()
        out.append((time.perf_counter() - t0) / per_batch)
    return out


def run(per_batch: int, batches: int) -> dict[str, Any]:
    from localtelemetry import Limits, Telemetry
    from localtelemetry._contract import new_id
    from localtelemetry._record.documents import envelope, serialize
    from localtelemetry._record.recorder import BuildRecorder

    work = Path(tempfile.mkdtemp(prefix="lt-bench-write-"))
    try:
        environ = {"HOME": str(work / "home"), "LOCALTELEMETRY_DIR": str(work / "store")}
        telemetry = Telemetry(
            "bench",
            version="1.0.0",
            environ=environ,
            limits=Limits(max_documents=10**7, max_bytes=10**12),
        )
        run = telemetry.begin_run(True)
        assert run is not None
        safe = run.safe()
        src = str(work / "home" / "notes")

        def record_build() -> None:
            with BuildRecorder(run, "check") as b:
                b.path("source", src)
                with b.phase("scan"):
                    pass
                with b.phase("parse"):
                    pass
                b.count("notes", 24)
                b.count("links", 48)

        captured: list[Callable[[Any], dict[str, object]]] = []
        real_write = run.write

        def capture(kind: str, build_payload: Callable[[Any], dict[str, object]]) -> bool:
            captured.append(build_payload)
            return True

        run.write = capture  # type: ignore[method-assign]
        record_build()
        run.write = real_write  # type: ignore[method-assign]
        payload_fn = captured[0]
        moment = datetime.now(timezone.utc)

        def build_document() -> dict[str, object]:
            return envelope(
                kind="build",
                id_=new_id(int(moment.timestamp() * 1000)),
                run_id=run.run_id,
                created_at=moment,
                app_name="bench",
                app_version="1.0.0",
                environment=run.environment(),
                key_id=safe.hasher.key_id,
                payload=payload_fn(safe),
            )

        document = build_document()
        data = serialize(document)
        journal = "journal" in inspect.signature(run.store.write_bytes).parameters
        kwargs: dict[str, Any] = {"journal": True} if journal else {}
        hasher = safe.hasher

        def hash_values() -> None:
            hasher.path_descriptor(src)
            hasher.value("*.md")

        def write() -> None:
            run.store.write_bytes("build", new_id(int(time.time() * 1000)), data, **kwargs)

        steps = {
            "hash": _per_op(hash_values, per_batch, batches),
            "build": _per_op(build_document, per_batch, batches),
            "serialize": _per_op(lambda: serialize(document), per_batch, batches),
            "write": _per_op(write, per_batch, batches),
            "total": _per_op(record_build, per_batch, batches),
        }
        telemetry.end_run(run, 0)

        # A whole run, in a store of its own (the steps above filled theirs).
        fresh = Telemetry(
            "bench",
            version="1.0.0",
            environ={"HOME": environ["HOME"], "LOCALTELEMETRY_DIR": str(work / "runs")},
        )

        def whole_run() -> None:
            r = fresh.begin_run(True)
            assert r is not None
            with fresh.build("check") as b:
                b.path("source", src)
                b.count("notes", 24)
            fresh.end_run(r, 0)

        steps["whole run (3 documents)"] = _per_op(whole_run, max(1, per_batch // 10), batches)
        result: dict[str, Any] = {
            "document_bytes": len(data),
            "per_batch": per_batch,
            "batches": batches,
            "journaled_write": journal,
            "steps": {k: summary(v) for k, v in steps.items()},
        }
        result["documents_per_second"] = 1.0 / result["steps"]["total"]["median"]
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def render(result: dict[str, Any]) -> str:
    rows = []
    for name, s in result["steps"].items():
        rows.append(
            (name, f"{s['median'] * 1e6:.1f}", f"{s['iqr'][0] * 1e6:.1f}..{s['iqr'][1] * 1e6:.1f}")
        )
    text = table(
        f"3. In-process cost per document ({result['document_bytes']}-byte build document; "
        f"median of {result['batches']} batches of {result['per_batch']})",
        ("step", "median us", "IQR us"),
        rows,
    )
    return (
        text
        + f"\ndocuments per second (total): {result['documents_per_second']:,.0f}"
        + f"; whole run {ms(result['steps']['whole run (3 documents)']['median'])} ms"
        + ("" if result["journaled_write"] else "  (write without retention journal)")
    )
