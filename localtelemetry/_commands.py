"""What the management commands do, as functions that return plain data.

Rendering (human text or one JSON object) lives in ``_cli``; these functions never
print. They raise ``UsageError`` (exit 2) or ``OperationFailed`` (exit 1).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from ._env import HARD_OFF_VARIABLES, is_true
from ._exceptions import DocumentError, KeyFileError, StoreError, UsageError
from ._ids import id_time_ms
from ._store import KINDS, DocumentEntry, Store, load_document

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


def _safe_entries(store: Store, kinds: frozenset[str] | None = None) -> list[DocumentEntry]:
    try:
        return store.entries(kinds=kinds)
    except StoreError as exc:
        raise UsageError(str(exc)) from None


def status(store: Store, environ: Mapping[str, str]) -> dict[str, Any]:
    entries = _safe_entries(store)
    by_kind: dict[str, dict[str, int]] = {k: {"count": 0, "bytes": 0} for k in KINDS}
    for entry in entries:
        by_kind[entry.kind]["count"] += 1
        by_kind[entry.kind]["bytes"] += entry.size
    key_id: str | None = None
    key_problem: str | None = None
    from ._hashing import Hasher, read_key

    try:
        key = read_key(store.location.key_path) if store.existing_directory() else None
        key_id = Hasher(key).key_id if key else None
    except (KeyFileError, StoreError) as exc:
        key_problem = str(exc)
    overrides = {name: is_true(environ.get(name)) for name in HARD_OFF_VARIABLES}
    limits = store.limits
    return {
        "app": store.location.app_name,
        "recording": "per run: only runs given --telemetry record",
        "blocked_by": next((n for n, on in overrides.items() if on), None),
        "overrides": {
            **overrides,
            "LOCALTELEMETRY_DIR": environ.get("LOCALTELEMETRY_DIR") or None,
        },
        "store": str(store.directory),
        "store_exists": store.existing_directory() is not None,
        "documents": sum(c["count"] for c in by_kind.values()),
        "bytes": sum(c["bytes"] for c in by_kind.values()),
        "by_kind": by_kind,
        "oldest": _iso(entries[0].created_ms) if entries else None,
        "newest": _iso(entries[-1].created_ms) if entries else None,
        "foreign_files": len(store.foreign_files()),
        "limits": {
            "max_documents": limits.max_documents,
            "max_bytes": limits.max_bytes,
            "max_age_days": limits.max_age_days,
        },
        "key_id": key_id,
        "key_problem": key_problem,
    }


def summary_of(document: Mapping[str, Any]) -> str:
    payload = document.get("payload") or {}
    kind = document.get("kind")
    if kind == "cli-command":
        path = " ".join(payload.get("command_path") or []) or "(root)"
        extra = f" {payload.get('error_kind')}" if payload.get("error_kind") else ""
        return f"{path}: {payload.get('outcome')} (exit {payload.get('exit_code')}){extra}"
    if kind == "build":
        phases = len(payload.get("phases") or [])
        return f"{payload.get('name')}: {payload.get('status')}, {phases} phases"
    if kind == "snapshot":
        return f"{payload.get('name')}: {sum((payload.get('counts') or {}).values())} objects"
    if kind == "run-summary":
        docs = payload.get("documents") or {}
        return f"exit {payload.get('exit_code')}, {sum(docs.values())} documents"
    return ""


def list_documents(
    store: Store,
    *,
    kind: str | None,
    run: str | None,
    since: datetime | None,
    limit: int | None,
) -> dict[str, Any]:
    entries = _safe_entries(store, check_kind(kind))
    if since is not None:
        cutoff = int(since.timestamp() * 1000)
        entries = [e for e in entries if e.created_ms >= cutoff]
    rows: list[dict[str, Any]] = []
    skipped = 0
    run_ref = run.lower() if run else None
    for entry in entries:
        try:
            document = load_document(entry.path)
        except (DocumentError, OSError):
            skipped += 1
            continue
        run_id = document.get("run_id")
        if run_ref and not (isinstance(run_id, str) and run_id.startswith(run_ref)):
            continue
        payload = document.get("payload")
        duration = payload.get("duration_ms") if isinstance(payload, dict) else None
        rows.append(
            {
                "id": entry.id,
                "kind": entry.kind,
                "created_at": _iso(entry.created_ms),
                "run_id": run_id if isinstance(run_id, str) else None,
                "duration_ms": duration if isinstance(duration, int | float) else None,
                "summary": summary_of(document),
                "file": entry.path.name,
            }
        )
    total = len(rows)
    if limit is not None:
        rows = rows[-limit:] if limit > 0 else []
    return {"documents": rows, "total": total, "shown": len(rows), "skipped_unreadable": skipped}


def show(store: Store, ref: str) -> dict[str, Any]:
    try:
        entry = store.find(ref)
        document = load_document(entry.path)
    except (DocumentError, StoreError) as exc:
        raise UsageError(str(exc)) from None
    return {"file": str(entry.path), "document": document}


def validate(store: Store | None, paths: list[Path]) -> dict[str, Any]:
    from ._schemas import manifest_errors, validation_errors

    targets: list[Path] = []
    if paths:
        for path in paths:
            if path.is_dir():
                targets.extend(sorted(p for p in path.iterdir() if p.suffix == ".json"))
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
        cutoff = int((now - older_than).timestamp() * 1000)
        entries = [e for e in entries if e.created_ms < cutoff]
    removed = store.delete(entries)
    return {"removed": removed, "store": str(store.directory)}


def purge_candidates(store: Store, *, older_than: timedelta | None, now: datetime) -> int:
    entries = _safe_entries(store)
    if older_than is None:
        return len(entries)
    cutoff = int((now - older_than).timestamp() * 1000)
    return sum(1 for e in entries if e.created_ms < cutoff)


def reset_key(store: Store) -> dict[str, Any]:
    from ._hashing import Hasher, read_key, replace_key

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
    from ._schemas import explain_fields, load_schema

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


def known_apps(base: str | None) -> list[str]:
    """Apps with a store under ``LOCALTELEMETRY_DIR`` (for the 'which app?' hint)."""
    if not base or not os.path.isdir(base):
        return []
    return sorted(p.name for p in Path(base).iterdir() if p.is_dir() and not p.is_symlink())


def created_ms(id_: str) -> int:
    return id_time_ms(id_)
