"""What the management commands do, as functions that return plain data.

Rendering (human text or one JSON object) lives in ``_cli``; these functions never
print. They raise ``UsageError`` (exit 2) or ``OperationFailed`` (exit 1).
"""

from __future__ import annotations

import difflib
import heapq
import itertools
import os
import re
import stat
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from localtelemetry._contract import FLAG, id_time_ms, is_app_name, lowest_id
from localtelemetry._contract.exceptions import DocumentError, KeyFileError, StoreError, UsageError
from localtelemetry._record import HARD_OFF_VARIABLES, is_true
from localtelemetry._store import (
    KINDS,
    OWN_FILES,
    Limits,
    StoreLocation,
    document_name,
    stores_base,
)
from localtelemetry._store.listing import DocumentEntry, load_document
from localtelemetry._store.store import STATE_VERSION, Store

_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_when(text: str, now: datetime) -> datetime:
    """``7d``, ``12h``, ``30m`` (ago) or an ISO date/time; returns an aware UTC time."""
    match = _DURATION_RE.match(text)
    if match:
        return now - timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"cannot read {text!r} as a time: use a duration like 7d, 12h, 30m or a date "
            "like 2026-01-31"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def parse_duration(text: str) -> timedelta:
    match = _DURATION_RE.match(text)
    if not match:
        raise UsageError(f"cannot read {text!r} as a duration: use for example 30d, 12h or 45m")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


def _iso(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def check_kind(kind: str | None) -> frozenset[str] | None:
    if kind is None:
        return None
    if kind not in KINDS:
        raise UsageError(f"unknown kind {kind!r}; choose one of: {', '.join(KINDS)}")
    return frozenset({kind})


#: ``status`` adds up every document's size up to this many documents; above, it
#: estimates the bytes from a sample of SIZE_SAMPLE sizes (a stat per file costs about
#: 10 us, a second at 100,000 documents on a slow disk or a busy machine).
EXACT_SIZES_UP_TO = 10_000
SIZE_SAMPLE = 2_000


def _safe_entries(store: Store, kinds: frozenset[str] | None = None) -> list[DocumentEntry]:
    """Our documents, oldest first, without a stat of each (sizes are -1)."""
    try:
        return store.entries(kinds=kinds, sizes=False)
    except StoreError as exc:
        raise UsageError(str(exc)) from None


def _bytes_by_kind(
    store: Store, by_kind: dict[str, list[str]]
) -> tuple[dict[str, int], int | None]:
    """Bytes per kind, exact for small stores; else estimated from a sample of sizes.
    Returns the bytes and the sample size (None when exact)."""
    total = sum(len(ids) for ids in by_kind.values())
    if total <= EXACT_SIZES_UP_TO:
        exact = {}
        for kind, ids in by_kind.items():
            sizes = store.sizes([f"{kind}-{i}.json" for i in ids])
            exact[kind] = sum(size for size in sizes if size >= 0)
        return exact, None
    step = total / SIZE_SAMPLE
    sample = [(k, i) for k, ids in by_kind.items() for i in ids[:: max(1, int(step))]]
    totals: dict[str, list[int]] = {k: [0, 0] for k in by_kind}
    names = [f"{kind}-{i}.json" for kind, i in sample]
    for (kind, _), size in zip(sample, store.sizes(names), strict=True):
        if size >= 0:
            totals[kind][0] += size
            totals[kind][1] += 1
    sampled = sum(n for _, n in totals.values())
    overall = sum(b for b, _ in totals.values()) / sampled if sampled else 0.0
    estimate = {
        kind: round(len(by_kind[kind]) * (b / n if n else overall))
        for kind, (b, n) in totals.items()
    }
    return estimate, sampled


def plural(n: int, word: str) -> str:
    """``1 document``, ``2 documents``."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def recorded_limits(store: Store) -> Limits | None:
    """The limits of the app's last recorded run, from the ``.retention`` state file its
    retention pass wrote (None when there is none, as on systems without the journal)."""
    directory = store.existing_directory()
    state = store._read_state(directory) if directory is not None else None
    if state is None or state[0] != STATE_VERSION:
        return None
    try:
        return Limits(state[1], state[2], state[3] / 86_400_000)
    except ValueError:
        return None


def status(
    store: Store,
    environ: Mapping[str, str],
    *,
    configured: bool = False,
    flag: str = FLAG,
    cwd: str | None = None,
) -> dict[str, Any]:
    """``configured``: ``store.limits`` are the app's own (the mounted command); else
    they are looked up in the store, as its last recorded run left them."""
    try:
        documents, foreign = store.ids(foreign=True)
    except StoreError as exc:
        raise UsageError(str(exc)) from None
    sizes, sampled = _bytes_by_kind(store, documents)
    by_kind = {k: {"count": len(documents[k]), "bytes": sizes[k]} for k in KINDS}
    oldest = min((min(ids) for ids in documents.values() if ids), default=None)
    newest = max((max(ids) for ids in documents.values() if ids), default=None)
    key_id: str | None = None
    key_problem: str | None = None
    from localtelemetry._record.documents import Hasher
    from localtelemetry._store.store import key_permissions, read_key

    try:
        key = read_key(store.location.key_path) if store.existing_directory() else None
        key_id = Hasher(key).key_id if key else None
    except (KeyFileError, StoreError) as exc:
        key_problem = str(exc)
    permissions = key_permissions(store.location.key_path) if key_id else None
    overrides = {name: is_true(environ.get(name)) for name in HARD_OFF_VARIABLES}
    limits: Limits | None = store.limits
    source = "app"
    if not configured:
        try:
            limits = recorded_limits(store)
        except StoreError:
            limits = None
        source = "recorded" if limits is not None else "default"
        limits = limits or Limits()
    assert limits is not None
    from localtelemetry._record import find_marker, home_of

    return {
        "app": store.location.app_name,
        "flag": flag,
        "recording": f"per run: only runs given {flag} record",
        "blocked_by": next((n for n, on in overrides.items() if on), None),
        "off_marker": find_marker(cwd, home_of(environ)),
        "overrides": {
            **overrides,
            "LOCALTELEMETRY_DIR": environ.get("LOCALTELEMETRY_DIR") or None,
        },
        "store": str(store.directory),
        "store_exists": store.existing_directory() is not None,
        "documents": sum(c["count"] for c in by_kind.values()),
        "bytes": sum(c["bytes"] for c in by_kind.values()),
        "bytes_estimated": sampled is not None,
        "bytes_sampled": sampled,
        "by_kind": by_kind,
        "oldest": _iso(id_time_ms(oldest)) if oldest else None,
        "newest": _iso(id_time_ms(newest)) if newest else None,
        "foreign_files": len(foreign),
        "limits": {
            "max_documents": limits.max_documents,
            "max_bytes": limits.max_bytes,
            "max_age_days": limits.max_age_days,
        },
        "limits_source": source,
        "key_id": key_id,
        "key_problem": key_problem,
        # "0600"; a mode others may read is made 0600 by the next recorded run
        "key_mode": permissions[0] if permissions else None,
        "key_private": not permissions[1] if permissions else None,
    }


def summary_of(document: Mapping[str, Any]) -> str:
    """One line about a document; a document with unexpected types gets none."""
    try:
        return _summary(document)
    except (TypeError, AttributeError, ValueError):
        return ""


def _summary(document: Mapping[str, Any]) -> str:
    payload = document.get("payload") or {}
    kind = document.get("kind")
    if kind == "cli-command":
        path = " ".join(payload.get("command_path") or []) or "(root)"
        extra = f" {payload.get('error_kind')}" if payload.get("error_kind") else ""
        return f"{path}: {payload.get('outcome')} (exit {payload.get('exit_code')}){extra}"
    if kind == "build":
        phases = len(payload.get("phases") or [])
        return f"{payload.get('name')}: {payload.get('status')}, {plural(phases, 'phase')}"
    if kind == "snapshot":
        return f"{payload.get('name')}: {sum((payload.get('counts') or {}).values())} objects"
    if kind == "run-summary":
        docs = payload.get("documents") or {}
        return f"exit {payload.get('exit_code')}, {plural(sum(docs.values()), 'document')}"
    return ""


def list_documents(
    store: Store,
    *,
    kind: str | None,
    run: str | None,
    since: datetime | None,
    limit: int | None,
) -> dict[str, Any]:
    """Documents oldest first; with ``limit``, the newest ``limit`` of them.

    Without ``run`` only the documents shown are read (newest first, until ``limit``
    readable ones are found), so listing a large store costs one pass over its file
    names, not a read of every document; ``total`` then counts the matching documents
    minus the unreadable ones met. ``run`` needs each document's run id: all are read.
    """
    try:
        by_kind, _ = store.ids(kinds=check_kind(kind))
    except StoreError as exc:
        raise UsageError(str(exc)) from None
    cutoff = lowest_id(int(since.timestamp() * 1000)) if since is not None else None
    matching = 0
    if cutoff is not None:
        by_kind = {k: [i for i in ids if i >= cutoff] for k, ids in by_kind.items()}
    for ids in by_kind.values():
        matching += len(ids)
    directory = store.directory
    skipped = 0
    run_ref = run.lower() if run else None
    wanted = matching if limit is None or run_ref else limit
    rows: list[dict[str, Any]] = []
    for id_, kind_ in _newest_first(by_kind, wanted):
        if len(rows) >= wanted:
            break
        entry = DocumentEntry(kind_, id_, str(directory), f"{kind_}-{id_}.json", -1)
        try:
            document = load_document(entry.path)
        except (DocumentError, OSError):
            skipped += 1
            continue
        run_id = document.get("run_id")
        if run_ref and not (isinstance(run_id, str) and run_id.startswith(run_ref)):
            continue
        rows.append(_row(entry, document, run_id))
    rows.reverse()
    total = len(rows) if run_ref or limit is None else matching - skipped
    if limit is not None:
        rows = rows[-limit:] if limit > 0 else []
    return {"documents": rows, "total": total, "shown": len(rows), "skipped_unreadable": skipped}


def _newest_first(by_kind: dict[str, list[str]], wanted: int) -> Iterator[tuple[str, str]]:
    """(id, kind) newest first across the kinds (ids sort by creation time), built only
    as far as it is read. The first ``wanted`` are selected, not sorted: sorting every
    kind's ids cost ``list`` at 100,000 documents three times as much (issue 14). Should
    unreadable documents make the reader go further, the rest comes from a full sort."""
    top = [zip(heapq.nlargest(wanted, ids), itertools.repeat(k)) for k, ids in by_kind.items()]
    yield from itertools.islice(heapq.merge(*top, reverse=True), wanted)
    everything = [zip(sorted(ids, reverse=True), itertools.repeat(k)) for k, ids in by_kind.items()]
    yield from itertools.islice(heapq.merge(*everything, reverse=True), wanted, None)


def _row(entry: DocumentEntry, document: Mapping[str, Any], run_id: object) -> dict[str, Any]:
    payload = document.get("payload")
    duration = payload.get("duration_ms") if isinstance(payload, dict) else None
    return {
        "id": entry.id,
        "kind": entry.kind,
        "created_at": _iso(entry.created_ms),
        "run_id": run_id if isinstance(run_id, str) else None,
        "duration_ms": duration if isinstance(duration, int | float) else None,
        "summary": summary_of(document),
        "file": entry.name,
    }


def show(store: Store, ref: str) -> dict[str, Any]:
    try:
        entry = store.find(ref)
        document = load_document(entry.path)
    except (DocumentError, StoreError) as exc:
        raise UsageError(str(exc)) from None
    return {"file": str(entry.path), "document": document}


#: How deep ``validate DIR`` looks: an extracted bundle keeps its documents two levels
#: down (``documents/<kind>/<id>.json``).
VALIDATE_DEPTH = 4


def _json_files_below(directory: Path) -> list[Path]:
    """The ``.json`` files in ``directory`` and its subdirectories (not through symlinked
    directories, at most ``VALIDATE_DEPTH`` levels down), sorted by path."""
    found: list[Path] = []
    top = len(directory.parts)
    for root, dirs, files in os.walk(directory):
        here = Path(root)
        if len(here.parts) - top >= VALIDATE_DEPTH:
            dirs.clear()
        found.extend(here / name for name in files if name.endswith(".json"))
    return sorted(found)


def validate(store: Store | None, paths: list[Path]) -> dict[str, Any]:
    from localtelemetry._contract.schemas import manifest_errors, validation_errors

    targets: list[Path] = []
    if paths:
        for path in paths:
            if path.is_dir():
                targets.extend(_json_files_below(path))
            elif path.exists():
                targets.append(path)
            else:
                raise UsageError(f"{path} does not exist")
    elif store is not None:
        targets = [e.path for e in _safe_entries(store)]
    results = []
    for path in targets:
        try:
            document = load_document(path)
            if document.get("format") == "localtelemetry-bundle":  # an extracted manifest
                errors = manifest_errors(document)
            else:
                errors = validation_errors(document)
        except DocumentError as exc:
            errors = [str(exc)]
        results.append({"file": str(path), "valid": not errors, "errors": errors[:20]})
    invalid = sum(1 for r in results if not r["valid"])
    return {
        "checked": len(results),
        "valid": len(results) - invalid,
        "invalid": invalid,
        "results": results,
    }


def purge(store: Store, *, older_than: timedelta | None, now: datetime) -> dict[str, Any]:
    entries = _safe_entries(store)
    if older_than is not None:
        cutoff = lowest_id(int((now - older_than).timestamp() * 1000))
        entries = [e for e in entries if e.id < cutoff]
    removed = store.delete(entries)
    return {"removed": removed, "store": str(store.directory)}


def purge_candidates(store: Store, *, older_than: timedelta | None, now: datetime) -> int:
    entries = _safe_entries(store)
    if older_than is None:
        return len(entries)
    cutoff = lowest_id(int((now - older_than).timestamp() * 1000))
    return sum(1 for e in entries if e.id < cutoff)


def reset_key(store: Store) -> dict[str, Any]:
    from localtelemetry._record.documents import Hasher
    from localtelemetry._store.store import read_key, replace_key

    try:
        store.ensure_directory()
        try:
            old = read_key(store.location.key_path)
            old_id = Hasher(old).key_id if old else None
        except KeyFileError:
            old_id = None
        new_id = Hasher(replace_key(store.location.key_path)).key_id
    except StoreError as exc:
        raise UsageError(str(exc)) from None
    return {"old_key_id": old_id, "new_key_id": new_id, "key_file": str(store.location.key_path)}


def explain(kind: str | None) -> dict[str, Any]:
    from localtelemetry._contract.schemas import explain_fields, load_schema

    kinds = [kind] if kind else list(KINDS)
    out = {}
    for k in kinds:
        schema = load_schema(k)
        out[k] = {
            "schema": schema["$id"],
            "description": schema.get("description", ""),
            "fields": [
                {"field": f.path, "type": f.type, "description": f.description}
                for f in explain_fields(k)
            ],
        }
    return {"kinds": out}


#: ``apps`` looks at most at this many entries of the base directory (the platform's
#: state directory is shared with every other program).
MAX_BASE_ENTRIES = 10_000


def is_store(directory: Path) -> bool:
    """Whether ``directory`` looks like a store: it holds our key or retention files, or
    a document among its first thousand entries."""
    try:
        if not stat.S_ISDIR(os.lstat(directory).st_mode):
            return False
        if any(os.path.lexists(directory / name) for name in OWN_FILES):
            return True
        with os.scandir(directory) as entries:
            for _, entry in zip(range(1000), entries, strict=False):
                if document_name(entry.name) is not None:
                    return True
    except OSError:
        return False
    return False


def find_stores(environ: Mapping[str, str]) -> tuple[Path, list[tuple[str, Path]]]:
    """The base directory and the (app name, store directory) of every store in it,
    sorted by name. A store that is a symlink is listed (using it is refused later)."""
    base = stores_base(environ)
    try:
        with os.scandir(base) as entries:
            names = sorted(e.name for _, e in zip(range(MAX_BASE_ENTRIES), entries, strict=False))
    except OSError:
        return base, []
    found = []
    for name in names:
        if not is_app_name(name):
            continue
        directory = StoreLocation(name, environ=environ).directory
        if os.path.islink(directory) or is_store(directory):
            found.append((name, directory))
    return base, found


def known_apps(environ: Mapping[str, str]) -> list[str]:
    """Apps with a store (for the 'which app?' hint)."""
    return [name for name, _ in find_stores(environ)[1]]


def apps(environ: Mapping[str, str]) -> dict[str, Any]:
    """Every store under the base directory: documents, bytes, newest document."""
    base, stores = find_stores(environ)
    rows = []
    for name, directory in stores:
        store = Store(StoreLocation(name, environ=environ))
        row: dict[str, Any] = {
            "app": name,
            "store": str(directory),
            "documents": None,
            "bytes": None,
            "bytes_estimated": False,
            "newest": None,
            "problem": None,
        }
        try:
            documents, _ = store.ids()
        except (StoreError, OSError) as exc:
            row["problem"] = str(exc)
            rows.append(row)
            continue
        sizes, sampled = _bytes_by_kind(store, documents)
        newest = max((max(ids) for ids in documents.values() if ids), default=None)
        row.update(
            documents=sum(len(ids) for ids in documents.values()),
            bytes=sum(sizes.values()),
            bytes_estimated=sampled is not None,
            newest=_iso(id_time_ms(newest)) if newest else None,
        )
        rows.append(row)
    relocated = bool(environ.get("LOCALTELEMETRY_DIR", "").strip())
    return {
        "base": str(base),
        "base_from": "LOCALTELEMETRY_DIR" if relocated else "platform",
        "apps": rows,
    }


def require_store(app_name: str, environ: Mapping[str, str]) -> Store:
    """The store of ``app_name``, which must exist: a mistyped ``--app`` is an error
    with the closest names of the stores that do exist."""
    if not is_app_name(app_name):
        raise UsageError(f"{app_name!r} is not a valid app name")
    store = Store(StoreLocation(app_name, environ=environ))
    try:
        if store.existing_directory() is not None:
            return store
    except StoreError as exc:
        raise UsageError(str(exc)) from None
    base, stores = find_stores(environ)
    names = [name for name, _ in stores]
    by_lower = {name.lower(): name for name in names}
    close = difflib.get_close_matches(app_name.lower(), list(by_lower), n=3, cutoff=0.6)
    message = f"no store for app {app_name!r} in {base}"
    if close:
        message += "; did you mean " + " or ".join(repr(by_lower[c]) for c in close) + "?"
    elif names:
        shown = ", ".join(names[:10]) + (", ..." if len(names) > 10 else "")
        message += f" (stores there: {shown}; 'localtelemetry apps' lists them)"
    else:
        message += " (none there yet: an app's store is made by its first run with --telemetry)"
    raise UsageError(message)
