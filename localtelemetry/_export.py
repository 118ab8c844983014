"""``telemetry export``: redact the store's documents once more and pack them into a
deterministic zip the user can read, check and attach to a bug report.

The pipeline streams one document at a time (memory stays flat as the store grows):
read with a size bound, project onto the schema, scrub every string again, re-key
every hash with a fresh per-bundle key, validate, write. The bundle is written to a
temporary name (0600) and renamed into place, so an interrupted export leaves no
partial zip at the target name.
"""

from __future__ import annotations

import contextlib
import os
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ._bundle import (
    BUNDLE_FORMAT,
    BUNDLE_FORMAT_VERSION,
    MANIFEST_NAME,
    README_NAME,
    README_TEXT,
    document_entry_name,
    zip_info,
)
from ._documents import SCHEMA_IDS, rfc3339, serialize
from ._exceptions import DocumentError, KeyFileError, OperationFailed, StoreError, UsageError
from ._projection import Rewriter
from ._schemas import MANIFEST, validation_errors
from ._store import KINDS, DocumentEntry, Store, load_document
from ._version import __version__

MAX_SKIPPED_LISTED = 1000


@dataclass
class Selection:
    kinds: tuple[str, ...] = KINDS
    since: datetime | None = None
    run: str | None = None


@dataclass
class Prepared:
    """One document ready for the bundle."""

    kind: str
    id: str
    data: bytes
    document: dict[str, Any]


@dataclass
class Report:
    """What the export did; becomes part of the manifest."""

    by_kind: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    skipped_files: list[dict[str, str]] = field(default_factory=list)
    app_versions: set[str] = field(default_factory=set)
    newest: str | None = None
    last_key_id: str | None = None

    def skip(self, entry: DocumentEntry, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1
        if len(self.skipped_files) < MAX_SKIPPED_LISTED:
            self.skipped_files.append({"file": entry.path.name, "reason": reason})


class _Keys:
    """The bundle's hashing: a fresh random key, or the store's own with --keep-hashes."""

    def __init__(self, store: Store, keep_hashes: bool) -> None:
        import blake3

        from ._hashing import Hasher, read_key

        self.keep = keep_hashes
        self._blake3 = blake3.blake3
        store_key: bytes | None = None
        if keep_hashes:
            with contextlib.suppress(KeyFileError, OSError):
                store_key = read_key(store.location.key_path)
        self._key = store_key or os.urandom(32)
        self.key_id = Hasher(self._key).key_id
        self._hasher = Hasher(self._key)
        self._cache: dict[str, str] = {}

    def rekey(self, stored: str) -> str:
        if self.keep:
            return stored
        cached = self._cache.get(stored)
        if cached is None:
            data = b"rekey\0" + stored.encode("ascii", "replace")
            cached = self._blake3(data, key=self._key).hexdigest(length=16)
            if len(self._cache) < 1_000_000:
                self._cache[stored] = cached
        return cached

    def path_hash(self, text: str) -> str:
        return self._hasher.path_hash(text)

    def value_hash(self, text: str) -> str:
        return self._hasher.value(text)


def _select(store: Store, selection: Selection) -> list[DocumentEntry]:
    try:
        entries = store.entries(kinds=frozenset(selection.kinds))
    except StoreError as exc:
        raise UsageError(str(exc)) from None
    if selection.since is not None:
        cutoff = int(selection.since.timestamp() * 1000)
        entries = [e for e in entries if e.created_ms >= cutoff]
    # Zip entries are sorted by path: documents/<kind>/<id>.json
    entries.sort(key=lambda e: (e.kind, e.id))
    return entries


def prepare(
    store: Store,
    selection: Selection,
    keys: _Keys,
    report: Report,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[Rewriter, Iterator[Prepared]]:
    rewriter = Rewriter(
        rekey=keys.rekey,
        key_id=keys.key_id,
        hash_new_text=keys.path_hash,
        hash_name=keys.value_hash,
    )
    entries = _select(store, selection)
    run_ref = selection.run.lower() if selection.run else None

    def documents() -> Iterator[Prepared]:
        total = len(entries)
        for done, entry in enumerate(entries, 1):
            if progress is not None:
                progress(done, total)
            try:
                stored = load_document(entry.path)
            except (DocumentError, OSError):
                report.skip(entry, "unreadable")
                continue
            run_id = stored.get("run_id")
            if run_ref and not (isinstance(run_id, str) and run_id.startswith(run_ref)):
                continue
            if stored.get("kind") != entry.kind or stored.get("id") != entry.id:
                report.skip(entry, "invalid")
                continue
            hashing = stored.get("hashing")
            stored_key_id = hashing.get("key_id") if isinstance(hashing, dict) else None
            try:
                document = rewriter.document(stored)
            except (KeyError, TypeError, ValueError, AttributeError):
                report.skip(entry, "invalid")
                continue
            if keys.keep and isinstance(stored_key_id, str):
                document["hashing"]["key_id"] = stored_key_id
            if validation_errors(document):
                report.skip(entry, "invalid")
                continue
            report.by_kind[entry.kind] = report.by_kind.get(entry.kind, 0) + 1
            app = document.get("app") or {}
            report.app_versions.add(str(app.get("version")))
            created = str(document.get("created_at"))
            report.newest = max(report.newest or created, created)
            report.last_key_id = document["hashing"]["key_id"]
            yield Prepared(entry.kind, entry.id, serialize(document), document)

    return rewriter, documents()


def build_manifest(
    *,
    app_name: str,
    selection: Selection,
    report: Report,
    rewriter: Rewriter,
    keys: _Keys,
    files: list[dict[str, Any]],
    created_at: str,
) -> dict[str, Any]:
    return {
        "schema": f"urn:localtelemetry:schema:{MANIFEST}:1",
        "format": BUNDLE_FORMAT,
        "format_version": BUNDLE_FORMAT_VERSION,
        "producer": {"name": "localtelemetry", "version": __version__},
        "created_at": created_at,
        "app": {"name": app_name, "versions": sorted(report.app_versions)},
        "schemas": {kind: SCHEMA_IDS[kind] for kind in KINDS},
        "selection": {
            "kinds": list(selection.kinds),
            "since": rfc3339(selection.since) if selection.since else None,
            "run": selection.run.lower() if selection.run else None,
        },
        "counts": {
            "documents": sum(report.by_kind.values()),
            "by_kind": dict(sorted(report.by_kind.items())),
        },
        "files": files,
        "redaction": {
            "substitutions": dict(sorted(rewriter.substitutions.items())),
            "fields_dropped": rewriter.fields_dropped,
            "names_hashed": rewriter.names_hashed,
            "documents_skipped": dict(sorted(report.skipped.items())),
            "skipped": report.skipped_files,
        },
        "hashing": {
            "mode": "kept" if keys.keep else "rekeyed",
            "key_id": (report.last_key_id or keys.key_id) if keys.keep else keys.key_id,
        },
    }


def default_bundle_name(app_name: str, now: datetime) -> str:
    return f"{app_name}-telemetry-{now.strftime('%Y%m%d-%H%M%S')}.zip"


def _digest(data: bytes) -> str:
    import blake3

    return str(blake3.blake3(data).hexdigest())


def export(
    store: Store,
    *,
    target: Path,
    force: bool,
    selection: Selection,
    keep_hashes: bool,
    now: datetime,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Write the bundle; returns a summary. Raises UsageError / OperationFailed."""
    if target.exists() and not force:
        raise UsageError(f"{target} already exists; choose another --output or pass --force")
    if target.is_dir():
        raise UsageError(f"{target} is a directory; give a file name ending in .zip")
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise UsageError(f"directory {directory} does not exist")
    keys = _Keys(store, keep_hashes)
    report = Report()
    rewriter, documents = prepare(store, selection, keys, report, progress)
    _remove_stale_partials(directory, target.name)
    tmp = directory / f".{target.name}.partial-{os.getpid()}-{os.urandom(6).hex()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as zf:
            readme = README_TEXT.encode("utf-8")
            zf.writestr(zip_info(README_NAME), readme)
            files: list[dict[str, Any]] = [
                {"path": README_NAME, "blake3": _digest(readme), "size": len(readme)}
            ]
            for item in documents:
                name = document_entry_name(item.kind, item.id)
                zf.writestr(zip_info(name), item.data)
                files.append({"path": name, "blake3": _digest(item.data), "size": len(item.data)})
            if len(files) == 1:
                raise OperationFailed(_nothing_message(report))
            created = report.newest if keep_hashes and report.newest else rfc3339(now)
            manifest = build_manifest(
                app_name=store.location.app_name,
                selection=selection,
                report=report,
                rewriter=rewriter,
                keys=keys,
                files=files,
                created_at=created,
            )
            zf.writestr(zip_info(MANIFEST_NAME), serialize(manifest))
        if force:
            os.replace(tmp, target)
        else:
            try:
                os.link(tmp, target)
            except FileExistsError:
                raise UsageError(
                    f"{target} appeared while exporting; nothing overwritten"
                ) from None
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return {
        "bundle": str(target),
        "bytes": target.stat().st_size,
        "documents": manifest["counts"]["documents"],
        "by_kind": manifest["counts"]["by_kind"],
        "hashing": manifest["hashing"],
        "redaction": {k: v for k, v in manifest["redaction"].items() if k != "skipped"},
    }


def preview(
    store: Store, *, selection: Selection, keep_hashes: bool, now: datetime
) -> dict[str, Any]:
    """Everything ``export`` would write, without writing anything."""
    keys = _Keys(store, keep_hashes)
    report = Report()
    rewriter, documents = prepare(store, selection, keys, report)
    items = list(documents)
    if not items:
        raise OperationFailed(_nothing_message(report))
    readme = README_TEXT.encode("utf-8")
    files = [{"path": README_NAME, "blake3": _digest(readme), "size": len(readme)}] + [
        {"path": document_entry_name(i.kind, i.id), "blake3": _digest(i.data), "size": len(i.data)}
        for i in items
    ]
    manifest = build_manifest(
        app_name=store.location.app_name,
        selection=selection,
        report=report,
        rewriter=rewriter,
        keys=keys,
        files=files,
        created_at=report.newest if keep_hashes and report.newest else rfc3339(now),
    )
    return {"manifest": manifest, "documents": [i.document for i in items]}


def _nothing_message(report: Report) -> str:
    skipped = sum(report.skipped.values())
    extra = f" ({skipped} documents skipped as unreadable or invalid)" if skipped else ""
    return f"nothing to export: no documents match{extra}"


def _remove_stale_partials(directory: Path, name: str) -> None:
    """A killed export leaves its hidden temp file; the next export to the same name
    removes it once its writer is gone."""
    from ._store import _pid_alive

    prefix = f".{name}.partial-"
    with contextlib.suppress(OSError), os.scandir(directory) as entries:
        for entry in entries:
            if not entry.name.startswith(prefix):
                continue
            pid_text = entry.name[len(prefix) :].split("-", 1)[0]
            if (
                pid_text.isdigit()
                and int(pid_text) != os.getpid()
                and not _pid_alive(int(pid_text))
            ):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
