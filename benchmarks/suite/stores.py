"""Stores of many real documents, made quickly.

A few real runs of the example app (examples/notebook.py with --telemetry, in child
processes: success, a build, a snapshot, a failure with a scrubbed message, a usage exit)
give the templates. Each generated document is a template parsed, given a new id,
run id and creation time (consistent with each other, spread over the last 20 days), a
varied duration, serialized like the recorder does and written with ``Store.write_bytes``.
So every generated document is valid against its schema, as export checks.
"""

from __future__ import annotations

import os
import random
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .common import EXAMPLE, PYTHON, child_env, run_timed

_GOOD = {"a.md": "see [[b]]\n", "b.md": "see [[a]] and [[c]]\n", "c.md": "no links\n"}
_BAD = {"a.md": "see [[missing-note]]\n"}


def seed_documents(work: Path) -> list[list[bytes]]:
    """Documents of a few real runs, grouped by run (each group in write order)."""
    from localtelemetry._store import StoreLocation
    from localtelemetry._store.store import Store

    good, bad, empty = work / "good", work / "bad", work / "empty"
    for directory, files in ((good, _GOOD), (bad, _BAD), (empty, {})):
        directory.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (directory / name).write_text(text, encoding="utf-8")
    home = work / "seed-home"
    home.mkdir(exist_ok=True)
    env = child_env(home, LOCALTELEMETRY_DIR=str(work / "seed"))
    for args in (
        ["index", str(good), "--include", "*.md", "--mode", "thorough"],
        ["check", str(good)],
        ["check", str(bad)],
        ["stats", str(empty)],
    ):
        run_timed([PYTHON, str(EXAMPLE), "--telemetry", *args], env, timeout=120)
    store = Store(StoreLocation("nb", base=work / "seed"))
    groups: dict[str, list[bytes]] = {}
    import orjson

    for entry in store.entries():
        data = entry.path.read_bytes()
        run_id = str(orjson.loads(data)["run_id"])
        groups.setdefault(run_id, []).append(data)
    if len(groups) != 4:
        raise RuntimeError(f"expected 4 seed runs, got {len(groups)}")
    return list(groups.values())


def generate(base: Path, app: str, count: int, groups: list[list[bytes]], seed: int = 7) -> Path:
    """A store of ``count`` documents under ``base/app``; returns its directory."""
    import orjson

    from localtelemetry._contract import new_id
    from localtelemetry._store import StoreLocation
    from localtelemetry._store.store import Store

    rng = random.Random(seed)
    store = Store(StoreLocation(app, base=base))
    store.ensure_directory()
    templates = [[orjson.loads(d) for d in group] for group in groups]
    span_ms = 20 * 86_400_000
    now_ms = int(time.time() * 1000)
    step = span_ms / max(count, 1)
    t = float(now_ms - span_ms)
    written = 0
    run_index = 0
    while written < count:
        group = templates[run_index % len(templates)]
        run_index += 1
        run_id = new_id(int(t), random_bytes=os.urandom(10))
        for template in group:
            if written >= count:
                break
            kind, id_, data = make_document(template, int(t), run_id, rng)
            store.write_bytes(kind, id_, data)
            written += 1
            t += step
    return store.directory


def make_document(
    template: dict[str, Any], ms: int, run_id: str, rng: random.Random
) -> tuple[str, str, bytes]:
    """A copy of ``template`` with a new id and time (and a varied duration)."""
    import orjson

    from localtelemetry._contract import new_id
    from localtelemetry._record.documents import duration_bucket, rfc3339, serialize

    doc: dict[str, Any] = orjson.loads(orjson.dumps(template))
    doc["id"] = new_id(ms, random_bytes=os.urandom(10))
    doc["run_id"] = run_id
    doc["created_at"] = rfc3339(datetime.fromtimestamp(ms / 1000, tz=timezone.utc))
    payload = doc["payload"]
    if isinstance(payload.get("duration_ms"), int | float):
        payload["duration_ms"] = round(payload["duration_ms"] * rng.uniform(0.5, 2), 3)
        if "duration_bucket" in payload:
            payload["duration_bucket"] = duration_bucket(payload["duration_ms"])
    return str(doc["kind"]), str(doc["id"]), serialize(doc)


def newest_subset(source: Path, base: Path, app: str, count: int) -> Path:
    """A store holding hard links to the newest ``count`` documents of ``source``."""
    from localtelemetry._store import DOCUMENT_NAME_RE, StoreLocation
    from localtelemetry._store.store import Store

    store = Store(StoreLocation(app, base=base))
    target = store.ensure_directory()
    names = [n for n in os.listdir(source) if DOCUMENT_NAME_RE.match(n)]
    names.sort(key=lambda n: n[-31:-5])
    for name in names[-count:]:
        os.link(source / name, target / name)
    return target
