"""Work the benchmark runs in a fresh child process (so peak memory is the work's own).

    python benchmarks/suite/child.py pyzip DIRECTORY OUT.zip
    python benchmarks/suite/child.py status BASE APP
    python benchmarks/suite/child.py list BASE APP LIMIT

Each prints one JSON object: what it did and how long the operation itself took.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def _pyzip(directory: str, out: str) -> dict[str, object]:
    import zipfile

    t0 = time.perf_counter()
    root = Path(directory)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(os.listdir(root)):
            zf.write(root / name, f"{root.name}/{name}")
    return {"seconds": time.perf_counter() - t0}


def _store(base: str, app: str) -> object:
    from localtelemetry._store import StoreLocation
    from localtelemetry._store.store import Store

    return Store(StoreLocation(app, base=Path(base)))


def main(argv: list[str]) -> int:
    what = argv[0]
    if what == "pyzip":
        result = _pyzip(argv[1], argv[2])
    elif what in ("status", "list"):
        from localtelemetry._cli import commands as _commands

        store = _store(argv[1], argv[2])
        t0 = time.perf_counter()
        if what == "status":
            out = _commands.status(store, {})  # type: ignore[arg-type]
            count = out["documents"]
        else:
            out = _commands.list_documents(
                store,  # type: ignore[arg-type]
                kind=None,
                run=None,
                since=None,
                limit=int(argv[3]),
            )
            count = out["shown"]
        result = {"seconds": time.perf_counter() - t0, "count": count}
    else:
        raise SystemExit(f"unknown child task {what!r}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
