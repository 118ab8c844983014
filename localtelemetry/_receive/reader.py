"""Reading recorded documents as data: bundles, stores and directories of them.

Everything here streams: one bundle, one file at a time. Bundles are verified by the
same hostile reader as ``localtelemetry inspect`` (``_receive/bundle.iter_verified``: bounded
sizes and ratios, no path tricks, manifest digests, schemas); loose documents (a store,
an extracted bundle) are read with the store's size bound, never through a symlink,
and matched to their file name. Either way a document is yielded only if it is valid
as every reader defines it (``_contract/schemas``: no key twice, not nested too deep, valid
against its schema, whose patterns and bounds admit only values every consumer can
hold), so what this module yields can be counted, rendered and stored without a
second look.

    from localtelemetry import read_bundle

    for document in read_bundle("nb-telemetry-20261123-144123.zip"):
        if document.kind == "cli-command":
            print(document.command, document.payload["outcome"])
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from localtelemetry._contract import ID_PATTERN
from localtelemetry._contract.exceptions import BundleError, DocumentError, UsageError
from localtelemetry._store import DOCUMENT_NAME_RE, KINDS

#: Bundles whose documents add up to at most this many bytes are verified in one pass
#: and held in memory until the last check passed; bigger ones are verified completely
#: first and then read a second time, so memory stays bounded either way.
ATOMIC_BUFFER_BYTES = 8 * 1024 * 1024

_EXTRACTED_NAME_RE = re.compile(rf"^({ID_PATTERN})\.json\Z")

#: Called with (where, why) for each input left out when skipping is allowed.
SkipHandler = Callable[[str, str], None]


class _Record:
    """Read-only slotted record (no dataclasses: ``import localtelemetry`` stays cheap,
    and importing dataclasses costs more than the rest of the package)."""

    __slots__: tuple[str, ...] = ()

    def __init__(self, **values: Any) -> None:
        for name in self.__slots__:
            object.__setattr__(self, name, values.pop(name))
        if values:
            raise TypeError(f"unexpected fields: {', '.join(sorted(values))}")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only")

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())


class Environment(_Record):
    """Where the run happened (the document's ``environment``)."""

    __slots__ = (
        "agent",
        "arch",
        "ci_provider",
        "interactive",
        "invocation_source",
        "os",
        "python",
        "runtime_context",
    )
    os: str
    arch: str
    python: str
    runtime_context: str
    ci_provider: str | None
    invocation_source: str
    agent: str | None
    interactive: bool

    def __repr__(self) -> str:
        return f"Environment({self.os}/{self.arch}, {self.runtime_context})"


class Document(_Record):
    """One validated document. ``payload`` and ``data`` are the JSON as read (kind
    specific: see ``localtelemetry explain KIND``); the other attributes are typed
    copies of the envelope; ``raw`` is the exact bytes read and ``source`` the bundle,
    store or file it came from."""

    __slots__ = (
        "app_name",
        "app_version",
        "created_at",
        "data",
        "environment",
        "id",
        "key_id",
        "kind",
        "payload",
        "producer_version",
        "raw",
        "run_id",
        "source",
    )
    kind: str
    id: str
    run_id: str
    created_at: datetime
    app_name: str
    app_version: str
    producer_version: str
    environment: Environment
    key_id: str
    payload: Mapping[str, Any]
    data: Mapping[str, Any]
    raw: bytes
    source: str

    def __repr__(self) -> str:
        return f"Document({self.kind!r}, {self.id!r}, source={self.source!r})"

    def __hash__(self) -> int:
        return hash((self.kind, self.id, self.raw))

    @property
    def command(self) -> str | None:
        """For a cli-command: its command path joined by spaces ('' for the root)."""
        if self.kind != "cli-command":
            return None
        return " ".join(self.payload["command_path"])

    @property
    def day(self) -> str:
        """The UTC date the document was written, ``YYYY-MM-DD``."""
        return str(self.data["created_at"])[:10]


def _created(text: str) -> datetime:
    # The schema pins the format: 2026-11-23T14:41:23.559Z
    return datetime(
        int(text[0:4]),
        int(text[5:7]),
        int(text[8:10]),
        int(text[11:13]),
        int(text[14:16]),
        int(text[17:19]),
        int(text[20:23]) * 1000,
        tzinfo=timezone.utc,
    )


def make_document(data: Mapping[str, Any], raw: bytes, source: str) -> Document:
    """A typed view of a document that has already been validated."""
    env = data["environment"]
    return Document(
        kind=data["kind"],
        id=data["id"],
        run_id=data["run_id"],
        created_at=_created(data["created_at"]),
        app_name=data["app"]["name"],
        app_version=data["app"]["version"],
        producer_version=data["producer"]["version"],
        environment=Environment(
            os=env["os"],
            arch=env["arch"],
            python=env["python"],
            runtime_context=env["runtime_context"],
            ci_provider=env["ci_provider"],
            invocation_source=env["invocation_source"],
            agent=env["agent"],
            interactive=env["interactive"],
        ),
        key_id=data["hashing"]["key_id"],
        payload=data["payload"],
        data=data,
        raw=raw,
        source=source,
    )


def read_bundle(path: str | os.PathLike[str], *, atomic: bool = True) -> Iterator[Document]:
    """The documents of a bundle, verified like ``inspect`` does. Raises ``BundleError``.

    With ``atomic`` (the default) nothing is yielded unless the whole bundle verifies,
    so a bundle that turns out to be tampered with near its end contributes nothing.
    Without it, documents are yielded as soon as each one is verified, and the error
    may come after some of them.
    """
    from localtelemetry._contract.bundle import MANIFEST_NAME

    from .bundle import iter_verified

    bundle = Path(path)
    source = str(bundle)
    if not atomic:
        for name, data, raw in iter_verified(bundle):
            if name != MANIFEST_NAME:
                yield make_document(data, raw, source)
        return
    held: list[Document] = []
    size = 0
    for name, data, raw in iter_verified(bundle):
        if name == MANIFEST_NAME:
            continue
        size += len(raw)
        if size > ATOMIC_BUFFER_BYTES:
            held.clear()
            break
        held.append(make_document(data, raw, source))
    else:
        yield from held
        return
    for _ in iter_verified(bundle):  # a big bundle: verify all of it first
        pass
    yield from read_bundle(bundle, atomic=False)


def _reason(message: str, name: str) -> str:
    """'NAME: why' or "entry 'NAME' why" -> 'why'."""
    for prefix in (f"{name}: ", f"entry {name!r} "):
        if message.startswith(prefix):
            return message[len(prefix) :]
    return message


def read_document_file(
    path: Path, *, kind: str | None = None, id_: str | None = None, source: str | None = None
) -> Document:
    """One loose document file (bounded read, no symlinks, depth and schema checked,
    kind and id matching the file name when given). Raises ``DocumentError``."""
    from localtelemetry._contract.schemas import validation_errors
    from localtelemetry._store.listing import read_document_bytes

    from .bundle import parse_json

    try:
        raw = read_document_bytes(path)
        data = parse_json(raw, path.name)
    except DocumentError as exc:  # BundleError included
        raise DocumentError(f"{path}: {_reason(str(exc), path.name)}") from None
    errors = validation_errors(data)
    if errors:
        raise DocumentError(f"{path}: does not match its schema: {errors[0]}")
    if (kind is not None and data["kind"] != kind) or (id_ is not None and data["id"] != id_):
        raise DocumentError(f"{path}: holds a document of another kind or id than its name says")
    return make_document(data, raw, source or str(path))


def _loose(
    files: Iterable[tuple[Path, str | None, str | None]],
    source: str,
    on_skip: SkipHandler | None,
) -> Iterator[Document]:
    for path, kind, id_ in files:
        try:
            yield read_document_file(path, kind=kind, id_=id_, source=source)
        except DocumentError as exc:
            if on_skip is None:
                raise
            on_skip(str(path), _reason(str(exc), str(path)))


def _regular_files(directory: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(directory) as it:
            entries = [e for e in it if e.is_file(follow_symlinks=False)]
    except OSError as exc:
        raise UsageError(f"cannot read directory {directory} ({exc.strerror})") from None
    return sorted(entries, key=lambda e: e.name)


def read_store(
    directory: str | os.PathLike[str], *, on_skip: SkipHandler | None = None
) -> Iterator[Document]:
    """The documents in a store directory (``<kind>-<id>.json`` files), oldest first.

    Other files are ignored. A document that cannot be read or does not validate raises
    ``DocumentError``, or, when ``on_skip`` is given, is reported to it and left out.
    """
    root = Path(directory)
    if not root.is_dir():
        raise UsageError(f"{root} is not a directory")
    files = []
    for entry in _regular_files(root):
        match = DOCUMENT_NAME_RE.match(entry.name)
        if match is not None:
            files.append((match.group(2), Path(entry.path), match.group(1)))
    files.sort()
    yield from _loose(((p, k, i) for i, p, k in files), str(root), on_skip)


class Source:
    """One input found by ``plan_sources``: a bundle, a store, an extracted bundle
    directory or a single document file."""

    __slots__ = ("kind", "path")

    def __init__(self, kind: str, path: Path) -> None:
        self.kind = kind  # "bundle", "store", "extracted" or "document"
        self.path = path

    def __repr__(self) -> str:
        return f"Source({self.kind!r}, {str(self.path)!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Source):
            return NotImplemented
        return (self.kind, self.path) == (other.kind, other.path)

    def __hash__(self) -> int:
        return hash((self.kind, self.path))


def plan_sources(paths: Iterable[str | os.PathLike[str]]) -> list[Source]:
    """Expand the command line's SOURCES: files are bundles (or single ``.json``
    documents); a directory is searched, without following symlinks, for bundles
    (``*.zip``), stores (``<kind>-<id>.json``) and extracted bundles
    (``<kind>/<id>.json``). Raises ``UsageError`` for a path that does not exist."""
    found: list[Source] = []
    for item in paths:
        path = Path(item)
        try:
            st = os.stat(path)
        except OSError:
            raise UsageError(f"{path} does not exist") from None
        if stat.S_ISDIR(st.st_mode):
            found.extend(_walk(path))
        elif path.suffix.lower() == ".json":
            found.append(Source("document", path))
        else:
            found.append(Source("bundle", path))
    return found


def _walk(top: Path) -> Iterator[Source]:
    stack = [top]
    while stack:
        directory = stack.pop()
        try:
            with os.scandir(directory) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            raise UsageError(f"cannot read directory {directory} ({exc.strerror})") from None
        store = False
        subdirs = []
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if entry.name in KINDS:
                    continue  # read with its parent as an extracted bundle
                subdirs.append(Path(entry.path))
            elif entry.is_file(follow_symlinks=False):
                if entry.name.lower().endswith(".zip"):
                    yield Source("bundle", Path(entry.path))
                elif DOCUMENT_NAME_RE.match(entry.name):
                    store = True
        if store:
            yield Source("store", directory)
        if any(e.name in KINDS and e.is_dir(follow_symlinks=False) for e in entries):
            yield Source("extracted", directory)
        stack.extend(reversed(subdirs))


def read_extracted(
    directory: str | os.PathLike[str], *, on_skip: SkipHandler | None = None
) -> Iterator[Document]:
    """The documents of a bundle extracted with ``inspect --extract``
    (``<kind>/<id>.json``)."""
    root = Path(directory)
    files: list[tuple[Path, str | None, str | None]] = []
    for kind in KINDS:
        sub = root / kind
        if not sub.is_dir() or sub.is_symlink():
            continue
        for entry in _regular_files(sub):
            match = _EXTRACTED_NAME_RE.match(entry.name)
            if match is not None:
                files.append((Path(entry.path), kind, match.group(1)))
    yield from _loose(files, str(root), on_skip)


def bundle_message(path: Path | str, message: str) -> str:
    """A bundle's error, naming the bundle (inspect's messages name only the entry)."""
    where = str(path)
    return message if message.startswith(where) else f"{where}: {message}"


def read_source(source: Source, *, on_skip: SkipHandler | None = None) -> Iterator[Document]:
    """The documents of one planned source. A bundle that fails verification raises
    ``BundleError`` (or, with ``on_skip``, is reported and contributes nothing)."""
    if source.kind == "bundle":
        try:
            yield from read_bundle(source.path)
        except BundleError as exc:
            if on_skip is None:
                raise BundleError(bundle_message(source.path, str(exc))) from None
            on_skip(str(source.path), str(exc))
    elif source.kind == "store":
        yield from read_store(source.path, on_skip=on_skip)
    elif source.kind == "extracted":
        yield from read_extracted(source.path, on_skip=on_skip)
    else:
        yield from _loose([(source.path, None, None)], str(source.path), on_skip)


def read_sources(
    paths: Iterable[str | os.PathLike[str]], *, on_skip: SkipHandler | None = None
) -> Iterator[Document]:
    """Documents from any mix of bundles, stores, directories and document files, in
    the order given (directories in name order). The same document found twice (two
    overlapping bundles) is yielded twice; ``id`` tells them apart.

    Without ``on_skip`` the first invalid input raises (``BundleError`` /
    ``DocumentError``, exit code 2 on the command line); with it, each invalid bundle
    or document is reported to ``on_skip(where, why)`` and left out whole.
    """
    for source in plan_sources(paths):
        yield from read_source(source, on_skip=on_skip)
