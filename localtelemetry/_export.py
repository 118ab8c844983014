"""``telemetry export``: redact the store's documents once more and pack them into a
deterministic zip the user can read, check and attach to a bug report.

The pipeline streams one document at a time (memory stays flat as the store grows):
read with a size bound, project onto the schema, scrub every string again, re-key
every hash with a fresh per-bundle key, validate, write. The bundle is written to a
temporary name (0600) and renamed into place, so an interrupted export leaves no
partial zip at the target name.
"""

from __future__ import annotations

import bisect
import contextlib
import os
import shutil
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any, BinaryIO

from ._bundle import (
    BUNDLE_FORMAT,
    BUNDLE_FORMAT_VERSION,
    MANIFEST_NAME,
    README_NAME,
    README_TEXT,
    document_entry_name,
    zip_info,
)
from ._documents import SCHEMA_IDS, encode_document, json_string, rfc3339, serialize
from ._exceptions import DocumentError, KeyFileError, OperationFailed, StoreError, UsageError
from ._fastschema import is_valid_document
from ._ids import lowest_id
from ._listing import DocumentEntry, load_document
from ._location import KINDS
from ._projection import Rewriter
from ._schemas import MANIFEST, validation_errors
from ._store import Store
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
            self.skipped_files.append({"file": entry.name, "reason": reason})


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


_SCALARS = (str, int, float, bool, type(None))


class _CachingRewriter(Rewriter):
    """The bundle's ``Rewriter``, with the results of its walk memoized.

    Most values recur in every document of a store (environment facts, names, enum
    values, path descriptors, the messages of repeated failures), and each string would
    go through the scrubber again. Rewriting a scalar, or an object holding only
    scalars, depends only on the value, the schema node and the bundle's key, so each
    result is kept with the report counters it changed, and a cache hit adds those
    again: bundle and redaction report are exactly what the plain ``Rewriter`` gives
    (``tests/test_export_speed.py`` compares them). Only nodes of the published schemas
    are cache keys; kinds of value that rarely recur (ids, times, durations) stop being
    cached after a while, so memory stays flat as the store grows.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from ._schemas import all_schemas

        self._nodes: dict[int, Any] = {}  # id -> schema node (kept alive: ids stay unique)
        stack: list[Any] = list(all_schemas().values())
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                self._nodes[id(node)] = node
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)
        # (node, local, name) -> [lookups, hits, {(type, value): (result, changes)}]
        self._slots: dict[tuple[int, int, str | None], list[Any]] = {}
        self._size = 0
        self._names: dict[str, tuple[str, tuple[Any, ...]]] = {}
        self._refs: dict[tuple[int, int], tuple[dict[str, Any], str | None, dict[str, Any]]] = {}

    def _resolve(
        self, node: dict[str, Any], local: dict[str, Any]
    ) -> tuple[dict[str, Any], str | None, dict[str, Any]]:
        if "$ref" not in node:
            return node, None, local
        key = (id(node), id(local))
        hit = self._refs.get(key)
        if hit is None:
            hit = super()._resolve(node, local)
            if key[0] in self._nodes and key[1] in self._nodes:
                self._refs[key] = hit
        return hit

    def _walk(
        self, value: Any, node: dict[str, Any], local: dict[str, Any], name: str | None
    ) -> Any:
        kind = type(value)
        if kind is dict:
            if not all(type(v) in _SCALARS for v in value.values()):
                return super()._walk(value, node, local, name)
            frozen: Any = tuple([(k, type(v), v) for k, v in value.items()])
        elif kind in _SCALARS:
            frozen = value
        else:
            return super()._walk(value, node, local, name)
        slot = self._slots.get((id(node), id(local), name))
        if slot is None:
            if id(node) not in self._nodes or id(local) not in self._nodes:
                return super()._walk(value, node, local, name)
            slot = self._slots[(id(node), id(local), name)] = [0, 0, {}]
        slot[0] += 1
        hit = slot[2].get((kind, frozen))
        if hit is not None:
            slot[1] += 1
            self._replay(hit[1])
            return dict(hit[0]) if kind is dict else hit[0]  # callers may change objects
        before = self._counters()
        result = super()._walk(value, node, local, name)
        # After 256 lookups, a node whose values hit under a quarter of the time holds
        # mostly unique values (ids, times): stop storing them.
        if (slot[0] < 256 or slot[1] * 4 >= slot[0]) and self._size < _CACHE_LIMIT:
            self._size += 1
            stored = dict(result) if kind is dict else result
            slot[2][(kind, frozen)] = (stored, self._changes(before))
        return result

    def _name(self, value: str) -> str:
        hit = self._names.get(value)
        if hit is not None:
            self._replay(hit[1])
            return hit[0]
        before = self._counters()
        result = super()._name(value)
        if len(self._names) < _CACHE_LIMIT:
            self._names[value] = (result, self._changes(before))
        return result

    def _counters(self) -> tuple[Any, ...]:
        return (dict(self.substitutions), self.fields_dropped, self.names_hashed)

    def _changes(self, before: tuple[Any, ...]) -> tuple[Any, ...]:
        subs, dropped, hashed = before
        grown = {k: n - subs.get(k, 0) for k, n in self.substitutions.items()}
        changes = (
            {k: n for k, n in grown.items() if n},
            self.fields_dropped - dropped,
            self.names_hashed - hashed,
        )
        return _NO_CHANGES if changes == _NO_CHANGES else changes

    def _replay(self, changes: tuple[Any, ...]) -> None:
        if changes is _NO_CHANGES:
            return
        subs, dropped, hashed = changes
        if subs:
            self._count(subs)
        self.fields_dropped += dropped
        self.names_hashed += hashed


_CACHE_LIMIT = 100_000
_NO_CHANGES: tuple[Any, ...] = ({}, 0, 0)


def _select(store: Store, selection: Selection) -> list[tuple[str, list[str]]]:
    """(kind, sorted ids) in bundle order (entries are sorted by path:
    documents/<kind>/<id>.json). Ids only: no object or stat per document."""
    try:
        by_kind, _ = store.ids(kinds=frozenset(selection.kinds))
    except StoreError as exc:
        raise UsageError(str(exc)) from None
    cutoff = None
    if selection.since is not None:
        cutoff = lowest_id(int(selection.since.timestamp() * 1000))  # ids sort by time
    selected = []
    for kind in sorted(by_kind):
        ids = sorted(by_kind[kind])
        if cutoff is not None:
            ids = ids[bisect.bisect_left(ids, cutoff) :]
        if ids:
            selected.append((kind, ids))
    return selected


def prepare(
    store: Store,
    selection: Selection,
    keys: _Keys,
    report: Report,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[Rewriter, Iterator[Prepared]]:
    rewriter = _CachingRewriter(
        rekey=keys.rekey,
        key_id=keys.key_id,
        hash_new_text=keys.path_hash,
        hash_name=keys.value_hash,
    )
    selected = _select(store, selection)
    directory = store.directory
    run_ref = selection.run.lower() if selection.run else None

    def entries() -> Iterator[DocumentEntry]:
        for kind, ids in selected:
            for id_ in ids:
                yield DocumentEntry(kind, id_, directory / f"{kind}-{id_}.json", -1)

    def documents() -> Iterator[Prepared]:
        total = sum(len(ids) for _, ids in selected)
        for done, entry in enumerate(entries(), 1):
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
            # The fast check says "valid" only when it is sure; else jsonschema decides.
            if not is_valid_document(document) and validation_errors(document):
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


class _ZipWriter:
    """Writes a zip as a stream: each entry's local header and data go out at once, the
    central directory (about 90 bytes per entry) is written at the end.

    ``zipfile`` spends most of its time per entry setting up a compressor (about 150 us
    for a 1.5 KB document, over half of what exporting one costs); ``zlib.compress`` gives
    the same deflate stream for a fraction of that. Entries take their name, time, mode
    and compression from ``_bundle.zip_info``; ZIP64 end records are added when there
    are 65,535 entries or more. ``tests/test_export_speed.py`` reads the result back
    with ``zipfile``.
    """

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._offset = 0
        self._count = 0
        self._central_size = 0
        # Past a megabyte (about 10,000 entries) the central directory waits on disk.
        self._central = tempfile.SpooledTemporaryFile(max_size=1 << 20)  # noqa: SIM115

    def __enter__(self) -> _ZipWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if exc_type is None:
                self.close()
        finally:
            self._central.close()

    def writestr(self, info: zipfile.ZipInfo, data: bytes) -> None:
        if info.compress_type == zipfile.ZIP_DEFLATED:
            # A zlib stream is a 2-byte header, the raw deflate data zip wants and a
            # 4-byte checksum (zlib.compress has no wbits argument before Python 3.11).
            body = zlib.compress(data)[2:-4]
        elif info.compress_type == zipfile.ZIP_STORED:
            body = data
        else:
            raise ValueError(f"unsupported compression {info.compress_type}")
        self._entry(info, body, zlib.crc32(data), len(data))

    def _entry(self, info: zipfile.ZipInfo, body: bytes, crc: int, size: int) -> None:
        try:
            name = info.filename.encode("ascii")
            flags = 0
        except UnicodeEncodeError:
            name = info.filename.encode("utf-8")
            flags = 0x800
        year, month, day, hour, minute, second = info.date_time
        dos_time = hour << 11 | minute << 5 | second // 2
        dos_date = (year - 1980) << 9 | month << 5 | day
        offset = self._offset
        if offset + len(body) + len(name) + 30 > _ZIP32_LIMIT or size > _ZIP32_LIMIT:
            raise OperationFailed("the bundle would be over 4 GB; export fewer documents")
        common = struct.pack(
            "<HHHHLLL", flags, info.compress_type, dos_time, dos_date, crc, len(body), size
        )
        header = b"PK\x03\x04" + struct.pack("<H", 20) + common + struct.pack("<HH", len(name), 0)
        self._raw.write(header + name)
        self._raw.write(body)
        self._offset += len(header) + len(name) + len(body)
        made_by = info.create_system << 8 | 20
        record = (
            b"PK\x01\x02"
            + struct.pack("<HH", made_by, 20)
            + common
            + struct.pack("<HHHHHLL", len(name), 0, 0, 0, 0, info.external_attr, offset)
            + name
        )
        self._central.write(record)
        self._central_size += len(record)
        self._count += 1

    def writestream(self, info: zipfile.ZipInfo, chunks: Iterable[bytes]) -> None:
        """An entry given in pieces; only its compressed form is held in memory."""
        crc = 0
        size = 0
        compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
        parts = []
        for chunk in chunks:
            crc = zlib.crc32(chunk, crc)
            size += len(chunk)
            parts.append(compressor.compress(chunk))
        parts.append(compressor.flush())
        self._entry(info, b"".join(parts), crc, size)

    def close(self) -> None:
        start = self._offset
        size = self._central_size
        self._central.seek(0)
        shutil.copyfileobj(self._central, self._raw, 1 << 20)
        end = start + size
        count = self._count
        if count >= 0xFFFF or start >= _ZIP32_LIMIT or size >= _ZIP32_LIMIT:
            self._raw.write(
                b"PK\x06\x06"
                + struct.pack("<QHHLLQQQQ", 44, 45, 45, 0, 0, count, count, size, start)
                + b"PK\x06\x07"
                + struct.pack("<LQL", 0, end, 1)
            )
        self._raw.write(
            b"PK\x05\x06"
            + struct.pack(
                "<HHHHLLH",
                0,
                0,
                min(count, 0xFFFF),
                min(count, 0xFFFF),
                min(size, _ZIP32_LIMIT),
                min(start, _ZIP32_LIMIT),
                0,
            )
        )


_ZIP32_LIMIT = 0xFFFFFFFF


def default_bundle_name(app_name: str, now: datetime) -> str:
    return f"{app_name}-telemetry-{now.strftime('%Y%m%d-%H%M%S')}.zip"


def _digest(data: bytes) -> str:
    import blake3

    return str(blake3.blake3(data).hexdigest())


def _file_line(path: str, data: bytes) -> bytes:
    """One line of the spooled file list: path, BLAKE3 digest and size."""
    return f"{path}\t{_digest(data)}\t{len(data)}\n".encode()


_FILES_SLOT = "\x00files\x00"  # encoded as "\u0000files\u0000": no other value can be


def _manifest_chunks(manifest: dict[str, Any], files: IO[bytes]) -> Iterator[bytes]:
    """The manifest exactly as ``serialize`` writes it, its ``files`` list streamed from
    the spooled file list: at 100,000 documents a list of dicts would take about 40 MB,
    and the serialized manifest would be held whole on top of it."""
    manifest = {**manifest, "files": _FILES_SLOT}
    before, after = encode_document(manifest).decode("utf-8").split('"\\u0000files\\u0000"')
    yield before.encode("utf-8")
    files.seek(0)
    separator = "[\n"
    batch: list[str] = []
    for line in files:
        path, digest, size = line.decode("utf-8").rstrip("\n").split("\t")
        batch.append(
            f'{separator}    {{\n      "path": {json_string(path)},\n'
            f'      "blake3": "{digest}",\n      "size": {int(size):d}\n    }}'
        )
        separator = ",\n"
        if len(batch) >= 1000:
            yield "".join(batch).encode("utf-8")
            batch.clear()
    batch.append("\n  ]")
    yield "".join(batch).encode("utf-8")
    yield after.encode("utf-8")


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
        with (
            os.fdopen(fd, "wb") as raw,
            tempfile.SpooledTemporaryFile(max_size=1 << 20) as files,
            _ZipWriter(raw) as zf,
        ):
            readme = README_TEXT.encode("utf-8")
            zf.writestr(zip_info(README_NAME), readme)
            # The manifest lists every file: the list waits in a spooled file (on disk past
            # a megabyte), not in a list of dicts (40 MB at 100,000 documents).
            files.write(_file_line(README_NAME, readme))
            count = 0
            for item in documents:
                name = document_entry_name(item.kind, item.id)
                zf.writestr(zip_info(name), item.data)
                files.write(_file_line(name, item.data))
                count += 1
            if not count:
                raise OperationFailed(_nothing_message(report))
            created = report.newest if keep_hashes and report.newest else rfc3339(now)
            manifest = build_manifest(
                app_name=store.location.app_name,
                selection=selection,
                report=report,
                rewriter=rewriter,
                keys=keys,
                files=[],
                created_at=created,
            )
            zf.writestream(zip_info(MANIFEST_NAME), _manifest_chunks(manifest, files))
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
    from ._retention import pid_alive

    prefix = f".{name}.partial-"
    with contextlib.suppress(OSError), os.scandir(directory) as entries:
        for entry in entries:
            if not entry.name.startswith(prefix):
                continue
            pid_text = entry.name[len(prefix) :].split("-", 1)[0]
            if pid_text.isdigit() and int(pid_text) != os.getpid() and not pid_alive(int(pid_text)):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
