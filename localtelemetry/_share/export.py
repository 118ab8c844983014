"""``telemetry export``: redact the store's documents once more and pack them into a
deterministic zip the user can read, check and attach to a bug report.

The pipeline streams one document at a time (memory stays flat as the store grows):
read with a size bound, project onto the schema, scrub every string again, remove the
known values (``_share/redact``: the user's ``--redact`` words, this machine's names), re-key
every hash with a fresh per-bundle key (the middle steps are one walk compiled from the
schemas: ``_share/projection``), validate (``_contract/schemas``), re-map ids and coarsen times
(``_share/relabel``), write. The bundle is
written to a temporary name (0600) and renamed into place, so an interrupted export
leaves no partial zip at the target name.
"""

from __future__ import annotations

import contextlib
import functools
import heapq
import itertools
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from localtelemetry._contract import MAX_DEPTH, __version__, lowest_id
from localtelemetry._contract.bundle import (
    BUNDLE_FORMAT,
    BUNDLE_FORMAT_VERSION,
    MANIFEST_NAME,
    README_NAME,
    README_TEXT,
    document_entry_name,
    zip_info,
)
from localtelemetry._contract.exceptions import (
    DocumentError,
    InvalidJSON,
    KeyFileError,
    OperationFailed,
    StoreError,
    TooDeepError,
    Unredactable,
    UsageError,
)
from localtelemetry._contract.schemas import MANIFEST, nested_deeper_than, validation_errors
from localtelemetry._record.documents import (
    SCHEMA_IDS,
    encode_document,
    json_string,
    rfc3339,
    serialize,
)
from localtelemetry._store import KINDS, document_name
from localtelemetry._store.listing import read_document_bytes
from localtelemetry._store.outfile import check_target, new_file
from localtelemetry._store.store import Store

from .projection import Rewriter, free_text_fields, values_at
from .redact import Redactor, check_word, machine_values, read_redact_file
from .relabel import MIDNIGHT, Relabel, day_of
from .zipstream import SPOOL_BYTES, ZipWriter

MAX_SKIPPED_LISTED = 1000


@dataclass
class Selection:
    kinds: tuple[str, ...] = KINDS
    since: datetime | None = None
    run: str | None = None


class Redaction:
    """What the user asked to remove at export, and this machine's identifying values.
    (A plain class: a frozen dataclass costs about 2 ms of import in every export.)"""

    def __init__(
        self,
        *,
        words: tuple[str, ...] = (),
        regexes: tuple[str, ...] = (),
        machine: frozenset[str] = frozenset(),
        messages: bool = True,  # False: --no-messages
    ) -> None:
        self.words, self.regexes, self.machine, self.messages = words, regexes, machine, messages
        self._redactor: Redactor | None = None

    @property
    def redactor(self) -> Redactor:
        """Compiled once per export (a long --redact-file makes a long pattern)."""
        if self._redactor is None:
            self._redactor = Redactor(words=self.words, regexes=self.regexes, machine=self.machine)
        return self._redactor

    @classmethod
    def from_options(
        cls,
        words: Iterable[str],
        files: Iterable[Path],
        *,
        messages: bool,
        environ: Mapping[str, str],
    ) -> Redaction:
        """From ``--redact``, ``--redact-file`` and ``--no-messages``, with this machine's
        values; UsageError (exit 2) for a word too short or a bad file."""
        checked = [check_word(w.strip(), "--redact") for w in words]
        regexes: list[str] = []
        for path in files:
            more_words, more_regexes = read_redact_file(path)
            checked += more_words
            regexes += more_regexes
        return cls(
            words=tuple(checked),
            regexes=tuple(regexes),
            machine=machine_values(environ),
            messages=messages,
        )


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
    run: str | None = None  # the run id of the documents written, while they share one
    several_runs: bool = False
    list_skipped: bool = True  # file names hold stored ids: listed with --keep-hashes only

    def skip(self, name: str, reason: str) -> None:
        """Document file ``name`` is left out of the bundle."""
        self.skipped[reason] = self.skipped.get(reason, 0) + 1
        if self.list_skipped and len(self.skipped_files) < MAX_SKIPPED_LISTED:
            self.skipped_files.append({"file": name, "reason": reason})


class _Keys:
    """The bundle's hashing: a fresh random key, or the store's own with --keep-hashes."""

    def __init__(self, store: Store, keep_hashes: bool) -> None:
        import blake3

        from localtelemetry._record.documents import Hasher
        from localtelemetry._store.store import read_key

        self.keep = keep_hashes
        self._blake3 = blake3.blake3
        store_key: bytes | None = None
        if keep_hashes:
            with contextlib.suppress(KeyFileError, OSError):
                store_key = read_key(store.location.key_path)
        self._key = store_key or os.urandom(32)
        self._hasher = Hasher(self._key)
        self.key_id = self._hasher.key_id

    def rekey(self, stored: str) -> str:
        """A stored hash as the bundle holds it (the walk keeps results per value)."""
        if self.keep:
            return stored
        data = b"rekey\0" + stored.encode("ascii", "replace")
        return str(self._blake3(data, key=self._key).hexdigest(length=16))

    def path_hash(self, text: str) -> str:
        return self._hasher.path_hash(text)

    def value_hash(self, text: str) -> str:
        return self._hasher.value(text)

    def relabel(self) -> Relabel | None:
        """The bundle's id and time re-mapping; None with --keep-hashes."""
        return None if self.keep else Relabel(self._key)


#: Document names sorted in memory at once. A bigger selection is sorted in runs of this
#: many, written one after the other to a temporary file and merged, so memory does not
#: grow with the store (a run's names take about 90 KB; the merge reads each run in
#: blocks of ``_RUN_BLOCK`` bytes).
SORT_RUN = 1024
_RUN_BLOCK = 4096


def _select(store: Store, selection: Selection) -> tuple[int, Iterator[tuple[str, str]]]:
    """How many documents are selected, and their (kind, id) in bundle order (entries
    are sorted by path, documents/<kind>/<id>.json: the order of the stored names).
    One pass over the directory; no object or stat per document."""
    try:
        directory = store.existing_directory()
    except StoreError as exc:
        raise UsageError(str(exc)) from None
    if directory is None:
        return 0, iter(())
    kinds = frozenset(selection.kinds)
    cutoff = "" if selection.since is None else lowest_id(int(selection.since.timestamp() * 1000))
    runs: IO[bytes] | None = None
    bounds = [0]  # where each run starts in ``runs``, then where the last one ends
    names: list[str] = []
    total = 0
    with os.scandir(directory) as it:
        for entry in it:
            parsed = document_name(entry.name)
            if parsed is None or parsed[0] not in kinds or parsed[1] < cutoff:  # ids sort by time
                continue
            try:
                if not entry.is_file(follow_symlinks=False):
                    continue
            except OSError:
                continue
            names.append(entry.name)
            total += 1
            if len(names) >= SORT_RUN:
                runs = runs or tempfile.TemporaryFile()  # noqa: SIM115 - closed in _merged
                bounds.append(bounds[-1] + runs.write(_run(names)))
                names.clear()
    if runs is None:
        names.sort()
        return total, (document_name(name) or ("", "") for name in names)
    if names:
        bounds.append(bounds[-1] + runs.write(_run(names)))
    return total, _merged(runs, bounds)


def _run(names: list[str]) -> bytes:
    return "".join(name + "\n" for name in sorted(names)).encode("ascii")


def _merged(runs: IO[bytes], bounds: list[int]) -> Iterator[tuple[str, str]]:
    """The names of all runs in order (each run is sorted)."""

    def lines(start: int, end: int) -> Iterator[bytes]:
        rest = b""
        while start < end:
            runs.seek(start)  # the runs are read in turn: each keeps its own place
            block = runs.read(min(_RUN_BLOCK, end - start))
            if not block:
                raise OperationFailed("a temporary file of the export was cut short")
            start += len(block)
            *whole, rest = (rest + block).split(b"\n")
            yield from whole

    try:
        merged = heapq.merge(*(lines(a, b) for a, b in itertools.pairwise(bounds)))
        for line in merged:
            yield document_name(line.decode("ascii")) or ("", "")
    finally:
        runs.close()


class Pass:
    """One walk over the selected documents, as export writes them and preview shows
    them: the keys, the report of what was skipped, the rewriter and the documents
    (an iterator: each is read, rewritten and validated when it is reached)."""

    def __init__(
        self,
        store: Store,
        selection: Selection,
        keep_hashes: bool,
        redaction: Redaction | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        self.selection = selection
        self.keys = _Keys(store, keep_hashes)
        self.report = Report()
        self.rewriter, self.documents = _prepare(
            store, selection, self.keys, self.report, redaction or Redaction(), progress
        )

    def manifest(self, app_name: str, files: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
        return build_manifest(
            app_name=app_name,
            selection=self.selection,
            report=self.report,
            rewriter=self.rewriter,
            keys=self.keys,
            files=files,
            now=now,
        )


def _prepare(
    store: Store,
    selection: Selection,
    keys: _Keys,
    report: Report,
    redaction: Redaction,
    progress: Callable[[int, int], None] | None,
) -> tuple[Rewriter, Iterator[Prepared]]:
    rewriter = Rewriter(
        rekey=keys.rekey,
        key_id=keys.key_id,
        hash_new_text=keys.path_hash,
        hash_name=keys.value_hash,
        redactor=redaction.redactor,
        messages=redaction.messages,
    )
    relabel = keys.relabel()
    report.list_skipped = relabel is None
    total, selected = _select(store, selection)
    directory = store.directory
    run_ref = selection.run.lower() if selection.run else None

    def documents() -> Iterator[Prepared]:
        with _Reader(directory, store.check_directory) as read:
            for done, (kind, id_) in enumerate(selected, 1):
                if progress is not None:
                    progress(done, total)
                name = f"{kind}-{id_}.json"
                prepared = prepare_one(read(name), kind, id_, name)
                if prepared is not None:
                    yield prepared

    def prepare_one(
        stored: dict[str, Any] | None, kind: str, id_: str, name: str
    ) -> Prepared | None:
        # The store's own reader refuses a document nested deeper than MAX_DEPTH as
        # unreadable; here the rewriter's walk finds those, so the two early exits
        # below check depth themselves to give the same reason.
        if stored is None:
            report.skip(name, "unreadable")
            return None
        run_id = stored.get("run_id")
        if run_ref and not (isinstance(run_id, str) and run_id.startswith(run_ref)):
            if nested_deeper_than(stored, MAX_DEPTH):
                report.skip(name, "unreadable")
            return None
        if stored.get("kind") != kind or stored.get("id") != id_:
            report.skip(name, "unreadable" if nested_deeper_than(stored, MAX_DEPTH) else "invalid")
            return None
        hashing = stored.get("hashing")
        stored_key_id = hashing.get("key_id") if isinstance(hashing, dict) else None
        try:
            document = rewriter.rewrite(stored)
        except TooDeepError:
            report.skip(name, "unreadable")
            return None
        except (KeyError, TypeError, ValueError, AttributeError):  # Unredactable too
            report.skip(name, "invalid")
            return None
        if keys.keep and isinstance(stored_key_id, str):
            document["hashing"]["key_id"] = stored_key_id
        if validation_errors(document):
            report.skip(name, "invalid")
            return None
        if relabel is not None:  # valid values in (validated above), valid values out
            id_ = document["id"] = relabel.document_id(kind, id_)
            document["run_id"] = relabel.run_id(document["run_id"])
            document["created_at"] = document["created_at"][:10] + MIDNIGHT
        else:  # the manifest's time: the newest document's (the bundle depends on nothing else)
            created = str(document.get("created_at"))
            report.newest = max(report.newest or created, created)
        report.by_kind[kind] = report.by_kind.get(kind, 0) + 1
        app = document.get("app") or {}
        report.app_versions.add(str(app.get("version")))
        report.last_key_id = document["hashing"]["key_id"]
        if run_ref:  # the manifest names the run when the documents share one
            run = str(document.get("run_id"))
            if report.run is None:
                report.run = run
            elif run != report.run:
                report.several_runs = True
        return Prepared(kind, id_, serialize(document), document)

    return rewriter, documents()


class _Reader:
    """Reads and parses the store's documents by file name with the store's own bounded
    reader (``read_document_bytes``), relative to the store directory opened once.
    ``None`` for a document that is unreadable for any reason. Depth is not checked
    here: the rewriter's walk does it (``_projection_compiled``)."""

    def __init__(
        self,
        directory: Path,
        check_directory: Callable[[os.stat_result, Path], None] | None = None,
    ) -> None:
        from localtelemetry._contract.schemas import loads_unique

        # As every reader parses documents: a key twice in one object is unreadable.
        self._loads = loads_unique
        self._errors = (DocumentError, OSError, InvalidJSON)
        self._directory = str(directory)
        self._fd: int | None = None
        if os.open in os.supports_dir_fd:
            flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
            try:
                self._fd = os.open(directory, flags)
                # Read from the directory that was checked, not a symlink or another
                # store swapped in since the listing.
                if check_directory is not None:
                    check_directory(os.fstat(self._fd), directory)
            except BaseException:
                if self._fd is not None:
                    os.close(self._fd)
                if check_directory is not None:
                    check_directory(os.lstat(directory), directory)  # says why, if it can
                raise

    def __enter__(self) -> Callable[[str], dict[str, Any] | None]:
        return self.read

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def read(self, name: str) -> dict[str, Any] | None:
        try:
            if self._fd is not None:
                data = read_document_bytes(name, dir_fd=self._fd)
            else:
                data = read_document_bytes(os.path.join(self._directory, name))
            value = self._loads(data)
        except self._errors:
            return None
        return value if isinstance(value, dict) else None


def build_manifest(
    *,
    app_name: str,
    selection: Selection,
    report: Report,
    rewriter: Rewriter,
    keys: _Keys,
    files: list[dict[str, Any]],
    now: datetime,
) -> dict[str, Any]:
    """The manifest. Without --keep-hashes nothing in it links the bundle to the store
    or to another bundle: its time and ``since`` are cut to the day, and the selected run
    is named by its id in this bundle (null when the documents written span several)."""
    since = selection.since
    run = selection.run.lower() if selection.run else None
    if keys.keep:
        created = report.newest or rfc3339(now)
    else:
        created = rfc3339(day_of(now))
        since = day_of(since) if since else None
        if run is not None:
            run = None if report.several_runs else report.run
    substitutions = dict(rewriter.substitutions)
    if not rewriter.messages:  # says so even when there was no message to drop
        substitutions.setdefault("messages-dropped", 0)
    return {
        "schema": f"urn:localtelemetry:schema:{MANIFEST}:1",
        "format": BUNDLE_FORMAT,
        "format_version": BUNDLE_FORMAT_VERSION,
        "producer": {"name": "localtelemetry", "version": __version__},
        "created_at": created,
        "app": {"name": app_name, "versions": sorted(report.app_versions)},
        "schemas": {kind: SCHEMA_IDS[kind] for kind in KINDS},
        "selection": {
            "kinds": list(selection.kinds),
            "since": rfc3339(since) if since else None,
            "run": run,
        },
        "counts": {
            "documents": sum(report.by_kind.values()),
            "by_kind": dict(sorted(report.by_kind.items())),
        },
        "files": files,
        "redaction": {
            "substitutions": dict(sorted(substitutions.items())),
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


def shared_app_name(app_name: str, redaction: Redaction | None) -> str:
    """The app name as the bundle may show it: known values in it become ``redacted``,
    as in the documents' ``app.name``."""
    if redaction is None:
        return app_name
    try:
        return redaction.redactor.plain(app_name)[0]
    except Unredactable:
        return "redacted"


def default_bundle_name(app_name: str, now: datetime) -> str:
    return f"{app_name}-telemetry-{now.strftime('%Y%m%d-%H%M%S')}.zip"


def _digest(data: bytes) -> str:
    return str(_blake3()(data).hexdigest())


@functools.cache
def _blake3() -> Any:
    from blake3 import blake3

    return blake3


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
        if len(batch) >= 100:  # about 15 KB: no large block for the allocator to keep
            yield "".join(batch).encode("utf-8")
            batch.clear()
    batch.append("\n  ]")
    yield "".join(batch).encode("utf-8")
    yield after.encode("utf-8")


def export(
    store: Store,
    *,
    target: Path | None,
    force: bool,
    selection: Selection,
    keep_hashes: bool,
    now: datetime,
    progress: Callable[[int, int], None] | None = None,
    redaction: Redaction | None = None,
) -> dict[str, Any]:
    """Write the bundle (to ``target``, or the default name in the working directory);
    returns a summary. Raises UsageError / OperationFailed."""
    app_name = shared_app_name(store.location.app_name, redaction)
    target = target or Path(default_bundle_name(app_name, now))
    check_target(target, force=force, option="--output")
    walk = Pass(store, selection, keep_hashes, redaction, progress)
    with (
        new_file(target, force=force, mode=0o600, doing="exporting", buffering=1 << 18) as raw,
        tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as files,
        ZipWriter(raw) as zf,
    ):
        readme = README_TEXT.encode("utf-8")
        zf.writestr(zip_info(README_NAME), readme)
        # The manifest lists every file: the list waits in a spooled file (on disk past
        # SPOOL_BYTES), not in a list of dicts (40 MB at 100,000 documents).
        files.write(_file_line(README_NAME, readme))
        count = 0
        lines: list[bytes] = []
        for item in walk.documents:
            name = document_entry_name(item.kind, item.id)
            zf.write_document(name, item.data)
            lines.append(_file_line(name, item.data))
            count += 1
            if len(lines) >= 256:
                files.write(b"".join(lines))
                lines.clear()
        files.write(b"".join(lines))
        if not count:
            raise OperationFailed(_nothing_message(walk.report))
        manifest = walk.manifest(app_name, [], now)
        zf.writestream(zip_info(MANIFEST_NAME), _manifest_chunks(manifest, files))
    return {
        "bundle": str(target),
        "bytes": target.stat().st_size,
        "documents": manifest["counts"]["documents"],
        "by_kind": manifest["counts"]["by_kind"],
        "hashing": manifest["hashing"],
        "ids": "kept" if keep_hashes else "remapped",
        "messages": "kept" if walk.rewriter.messages else "dropped",
        "redaction": {k: v for k, v in manifest["redaction"].items() if k != "skipped"},
    }


def preview(
    store: Store,
    *,
    selection: Selection,
    keep_hashes: bool,
    now: datetime,
    redaction: Redaction | None = None,
) -> dict[str, Any]:
    """Everything ``export`` would write, without writing anything, and every free-text
    string the bundle would hold (after redaction), by kind and field with its count."""
    walk = Pass(store, selection, keep_hashes, redaction)
    items = list(walk.documents)
    if not items:
        raise OperationFailed(_nothing_message(walk.report))
    readme = README_TEXT.encode("utf-8")
    files = [{"path": README_NAME, "blake3": _digest(readme), "size": len(readme)}] + [
        {"path": document_entry_name(i.kind, i.id), "blake3": _digest(i.data), "size": len(i.data)}
        for i in items
    ]
    return {
        "manifest": walk.manifest(shared_app_name(store.location.app_name, redaction), files, now),
        "messages": "kept" if walk.rewriter.messages else "dropped",
        "free_text": free_text_of(items),
        "documents": [i.document for i in items],
    }


def free_text_of(items: Iterable[Prepared]) -> list[dict[str, Any]]:
    """Every distinct free-text string of ``items``: kind, field, text and how many
    times it occurs, in bundle order of kinds, then by field, most frequent first."""
    counts: dict[tuple[str, str, str], int] = {}
    for item in items:
        for field_name, text in values_at(item.document, free_text_fields(item.kind)):
            key = (item.kind, field_name, text)
            counts[key] = counts.get(key, 0) + 1
    order = {kind: i for i, kind in enumerate(sorted(KINDS))}
    ranked = sorted(counts.items(), key=lambda e: (order[e[0][0]], e[0][1], -e[1], e[0][2]))
    return [
        {"kind": kind, "field": field_name, "text": text, "count": n}
        for (kind, field_name, text), n in ranked
    ]


def _nothing_message(report: Report) -> str:
    skipped = sum(report.skipped.values())
    extra = f" ({skipped} documents skipped as unreadable or invalid)" if skipped else ""
    return f"nothing to export: no documents match{extra}"
