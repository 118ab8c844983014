"""Issue 5, concurrency: 8 processes x 100 recorded runs into one store while other
processes export it and purge its old documents, over and over.

The store starts with OLD documents dated ten days back (what ``purge --older-than 5d``
is meant to remove) next to one fresh run. Afterwards: every recorder exited cleanly,
every document written is there (none lost, none duplicated, every one valid), every
old one is gone, and nothing else was purged. Every bundle exported meanwhile verifies
with inspect's hostile reader, holds only whole documents that exist (or existed, for
old ones), and skipped nothing but old documents that a purge removed under it.

tests/test_crash_concurrency.py::test_eight_processes_recording_at_once_lose_nothing
records the same 800 runs without the exports and purges.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from localtelemetry._contract import new_id
from localtelemetry._contract.bundle import MANIFEST_NAME
from localtelemetry._receive.bundle import iter_verified
from localtelemetry._store import TEMP_NAME_RE

from conftest import HOSTAPP, clean_env, run_script, store_documents

RECORDERS = 8
RUNS = 100
OLD = 200


def _cli(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "localtelemetry", *args, "--app", "hostapp", "--format", "json"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _seed_old_documents(store: Path) -> set[str]:
    """OLD valid documents dated ten days ago, made from the store's fresh ones."""
    templates = [json.loads(p.read_text()) for p in sorted(store.glob("*.json"))]
    moment = datetime.now(timezone.utc) - timedelta(days=10)
    ids = set()
    for i in range(OLD):
        document = dict(templates[i % len(templates)])
        ms = int(moment.timestamp() * 1000) + i
        document["id"] = new_id(ms, random_bytes=os.urandom(10))
        document["created_at"] = (
            datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
            + "Z"
        )
        path = store / f"{document['kind']}-{document['id']}.json"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(document, fh)
        ids.add(document["id"])
    return ids


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX")
def test_recorders_exports_and_purges_at_once(tmp_path: Path) -> None:
    home, base = tmp_path / "home", tmp_path / "lt"
    home.mkdir()
    env = clean_env(base, home)
    assert run_script(HOSTAPP, ["--telemetry", "ok"], env).returncode == 0
    store = base / "hostapp"
    first = {str(d["id"]) for d in store_documents(store)}
    old = _seed_old_documents(store)
    bundles = tmp_path / "bundles"
    bundles.mkdir()

    recorders = [
        subprocess.Popen(
            [sys.executable, str(HOSTAPP), "loop", "--runs", str(RUNS)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(RECORDERS)
    ]
    exports: list[Path] = []
    purged = 0
    purges = 0
    while True:
        running = any(p.poll() is None for p in recorders)
        target = bundles / f"b{len(exports)}.zip"
        keep = ["--keep-hashes"] if len(exports) % 2 == 0 else []  # every other: stored ids
        export = _cli(env, tmp_path, "export", "-o", str(target), *keep)
        assert export.returncode == 0, export.stderr
        assert export.stderr == ""
        exports.append(target)
        purge = _cli(env, tmp_path, "purge", "--older-than", "5d", "--yes")
        assert purge.returncode == 0 and purge.stderr == "", purge.stderr
        purged += json.loads(purge.stdout)["result"]["removed"]
        purges += 1
        if not running:
            break
        time.sleep(0.2)

    for proc in recorders:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        assert out.splitlines()[-1] == f"looped {RUNS}"
        assert err == ""

    documents = store_documents(store)  # every one parses and validates
    ids = [str(d["id"]) for d in documents]
    assert len(ids) == len(set(ids)), "duplicate ids"
    assert not (set(ids) & old), "an old document survived the purges"
    assert purged == OLD, "purge removed something it was not meant to (or missed some)"
    new = set(ids) - first
    assert len(new) == RECORDERS * RUNS * 4, "documents were lost"
    assert len({d["run_id"] for d in documents}) == RECORDERS * RUNS + 1
    assert not [p for p in store.iterdir() if TEMP_NAME_RE.match(p.name)]

    exported_total = 0
    for number, bundle in enumerate(exports):
        names = []
        for name, document, _ in iter_verified(bundle):  # raises on anything not whole
            if name == MANIFEST_NAME:
                skipped = document["redaction"]["skipped"]
                continue
            names.append(str(document["id"]))
        if number % 2 == 0:  # --keep-hashes: ids as stored (others get ids of their own)
            assert set(names) <= set(ids) | old, "a bundle holds a document that never existed"
        for entry in skipped:  # only old documents that a purge removed under the export
            assert entry["reason"] == "unreadable", entry
            assert entry["file"].split("-")[-1].removesuffix(".json") in old, entry
        exported_total += len(names)
    print(
        f"\n{len(exports)} exports ({exported_total} documents), {purges} purges "
        f"({purged} removed), {len(ids)} documents in the store"
    )
    assert len(exports) >= 3
