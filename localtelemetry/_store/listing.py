"""Reading the store: listing its documents and reading them, with bounds.

Loaded when a command lists or reads the store, or when retention must look at every
document; a recording run that stays within its limits never imports it. ``Store``
offers these as methods (``store.entries()``, ``store.find()``, ...): the functions here
take the directory the store checked, never the ``Store``, which imports this module.
"""

from __future__ import annotations

import contextlib
import errno
import operator
import os
import stat

from localtelemetry._contract import ID_CHARS, KINDS, MAX_DOCUMENT_BYTES, id_time_ms
from localtelemetry._contract.exceptions import DocumentError, InvalidJSON

from . import (
    BINARY,
    NOFOLLOW,
    OWN_FILES,
    TEMP_PREFIX,
    document_name,
    name_regex,
    pure_path,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy knows it)
if TYPE_CHECKING:
    from pathlib import Path

    #: An existing store directory that ``Store`` checked is safe; None when there is none.
    Directory = str | os.PathLike[str] | None

SORT_KEY = operator.attrgetter("id", "kind")
_READ_FLAGS = os.O_RDONLY | NOFOLLOW | BINARY | getattr(os, "O_NONBLOCK", 0)


class DocumentEntry:
    """A file in the store whose name says it is one of our documents.

    ``size`` is -1 when the listing did not stat the file (``entries(sizes=False)``).
    The ``path`` is built on first use: listing 100,000 documents should not build
    100,000 ``Path`` objects.
    """

    __slots__ = ("_directory", "_path", "id", "kind", "name", "size")

    def __init__(self, kind: str, id: str, directory: str, name: str, size: int) -> None:
        self.kind = kind
        self.id = id
        self._directory = directory
        self.name = name
        self._path: Path | None = None  # made on first use (pathlib loads only then)
        self.size = size

    @property
    def path(self) -> Path:
        if self._path is None:
            from pathlib import Path

            self._path = Path(self._directory, self.name)
        return self._path

    def __repr__(self) -> str:
        return f"DocumentEntry({self.kind!r}, {self.id!r}, size={self.size})"

    @property
    def created_ms(self) -> int:
        return id_time_ms(self.id)


class Scan:
    """One pass over the store directory: the documents, and the temp files."""

    __slots__ = ("documents", "temps")

    def __init__(self) -> None:
        self.documents: list[DocumentEntry] = []
        self.temps: list[tuple[str, str]] = []  # (name, path)


def scan(
    directory: str | os.PathLike[str], kinds: frozenset[str] | None, *, sizes: bool, temps: bool
) -> Scan:
    """One scandir pass. Documents must be regular files: with ``sizes`` that is
    checked with lstat (which also gives the size), else from the directory entry's
    type (no system call on Linux)."""
    result = Scan()
    documents = result.documents
    base = os.fspath(directory)
    make = DocumentEntry
    with os.scandir(directory) as it:
        for entry in it:
            name = entry.name
            parsed = document_name(name)
            if parsed is None:
                if temps and name.startswith(TEMP_PREFIX):
                    result.temps.append((name, entry.path))  # checked in remove_stale
                continue
            kind, id_ = parsed
            if kinds is not None and kind not in kinds:
                continue
            if sizes:
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue  # vanished (pruned by a concurrent run)
                if not stat.S_ISREG(st.st_mode):
                    continue
                size = st.st_size
            else:
                try:
                    if not entry.is_file(follow_symlinks=False):
                        continue
                except OSError:
                    continue
                size = -1
            documents.append(make(kind, id_, base, name, size))
    return result


def entries(
    directory: Directory, *, kinds: frozenset[str] | None = None, sizes: bool = True
) -> list[DocumentEntry]:
    """Our documents, oldest first. Foreign files are ignored (and never touched).

    ``sizes=False`` skips the stat of every file (``size`` is then -1): listing
    100,000 documents takes a fraction of the time.
    """
    if directory is None:
        return []
    found = scan(directory, kinds, sizes=sizes, temps=False).documents
    found.sort(key=SORT_KEY)
    return found


_ID_BYTES = ID_CHARS.encode("ascii")


def _valid_ids(ids: list[str]) -> bool:
    """Whether every id is made of ID_CHARS only (the lengths are right already): one
    check over all of them at C speed (``str.strip`` with a 32-character set costs about
    40 times as much per character)."""
    joined = "".join(ids)
    return joined.isascii() and not joined.encode("ascii").translate(None, _ID_BYTES)


def ids(
    directory: Directory, *, kinds: frozenset[str] | None = None, foreign: bool = False
) -> tuple[dict[str, list[str]], list[str]]:
    """The ids of our documents by kind (unsorted), and with ``foreign`` the names of
    the files that are not ours: the cheapest listing there is.

    One pass over the directory's names (issue 14: it used to go over them once per
    kind, and once more for foreign files); documents must be regular files, which the
    directory entry tells without a system call on Linux. The characters of the ids
    are checked afterwards, all of a kind at once. No object per document: at 100,000
    documents this matters for both time and memory.
    """
    by_kind: dict[str, list[str]] = {k: [] for k in KINDS}
    if directory is None:
        return by_kind, []
    # "<kind>-" -> the ids of the names of that kind with a .json suffix and the right
    # length (only the ids are kept: at 100,000 documents the names would double the
    # memory a listing takes).
    found: dict[str, list[str]] = {f"{kind}-": [] for kind in KINDS}
    get = found.get
    others: list[str] = []  # neither document-shaped nor, so far, known to be ours
    odd: list[str] = []  # shaped like documents but not regular files
    with os.scandir(directory) as it:
        for entry in it:
            name = entry.name
            ids_ = get(name[:-31])  # what DOCUMENT_NAME_RE accepts, checked in parts
            if ids_ is not None and name[-5:] == ".json":
                try:
                    is_file = entry.is_file(follow_symlinks=False)
                except OSError:
                    is_file = False
                if is_file:
                    ids_.append(name[-31:-5])
                else:
                    odd.append(name)
            elif foreign:
                others.append(name)
    for kind in KINDS:
        kind_ids = found[f"{kind}-"]
        if not _valid_ids(kind_ids):  # a file with a bad id: sort them out one by one
            others.extend(f"{kind}-{i}.json" for i in kind_ids if not _valid_ids([i]))
            kind_ids = [i for i in kind_ids if _valid_ids([i])]
        if kinds is None or kind in kinds:
            by_kind[kind] = kind_ids
    if not foreign:
        return by_kind, []
    others.extend(n for n in odd if not _valid_ids([n[-31:-5]]))
    temp = name_regex("TEMP_NAME_RE").match
    return by_kind, [name for name in others if name not in OWN_FILES and not temp(name)]


def sizes(directory: str | os.PathLike[str], names: list[str]) -> list[int]:
    """The current size of each named file in the store; -1 for one that vanished or
    is not a regular file."""
    out = []
    dir_fd = None
    if os.stat in os.supports_dir_fd:
        with contextlib.suppress(OSError):
            dir_fd = os.open(directory, os.O_RDONLY | NOFOLLOW | getattr(os, "O_DIRECTORY", 0))
    try:
        for name in names:
            try:
                if dir_fd is not None:
                    st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
                else:
                    st = os.lstat(os.path.join(directory, name))
            except OSError:
                out.append(-1)
                continue
            out.append(st.st_size if stat.S_ISREG(st.st_mode) else -1)
    finally:
        if dir_fd is not None:
            os.close(dir_fd)
    return out


def foreign_files(directory: Directory) -> list[str]:
    """Names in the store that are neither documents, temp files nor our own files."""
    return sorted(ids(directory, foreign=True)[1])


def find(directory: Directory, ref: str) -> DocumentEntry:
    """A document by full id, unique id prefix (4+ chars) or file name."""
    ref = ref.strip()
    named = document_name(os.path.basename(pure_path(ref)))
    if named:
        ref = named[1]
    ref = ref.lower()
    if len(ref) < 4:
        raise DocumentError(f"document id {ref!r} is too short; give at least 4 characters")
    matches = [e for e in entries(directory, sizes=False) if e.id.startswith(ref)]
    if not matches:
        raise DocumentError(f"no document with id {ref!r}; 'list' shows the ids")
    if len(matches) > 1:
        raise DocumentError(f"id prefix {ref!r} is ambiguous ({len(matches)} documents)")
    return matches[0]


def read_document_bytes(
    path: Path | str, *, limit: int = MAX_DOCUMENT_BYTES, dir_fd: int | None = None
) -> bytes:
    """Read a file without following symlinks, refusing anything over ``limit`` bytes.

    ``path`` is relative to ``dir_fd`` when that is given (export reads a whole store
    that way). A file that does not change while read takes one ``read`` call."""
    name = os.path.basename(os.fspath(path))
    try:
        # O_NONBLOCK: a FIFO put where a document should be must not hang the reader.
        fd = os.open(path, _READ_FLAGS, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise DocumentError(f"{name}: is a symlink; not following it") from None
        raise DocumentError(f"{name}: cannot be read ({exc.strerror})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise DocumentError(f"{name}: is not a regular file")
        if st.st_size > limit:
            raise DocumentError(f"{name}: is {st.st_size} bytes, over the {limit}-byte limit")
        data = os.read(fd, st.st_size + 1)
        if len(data) == st.st_size:
            return data
        chunks = [data]  # it changed since fstat: read on, up to the limit
        size = len(data)
        while size <= limit:
            chunk = os.read(fd, min(limit + 1 - size, 65536))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise DocumentError(f"{name}: grew over the {limit}-byte limit while reading")
        return b"".join(chunks)
    finally:
        os.close(fd)


def parse_document(data: bytes, name: str) -> dict[str, object]:
    """Parse document bytes as every reader does (``_contract/schemas.parse_json_object``: a JSON
    object, not nested too deep, no key twice); anything else is a DocumentError."""
    from localtelemetry._contract.schemas import parse_json_object

    try:
        return parse_json_object(data)
    except InvalidJSON as exc:
        raise DocumentError(f"{name}: {exc}") from None


def load_document(path: Path) -> dict[str, object]:
    return parse_document(read_document_bytes(path), path.name)
