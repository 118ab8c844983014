"""Where documents live and how they get there.

``StoreLocation`` only computes paths: constructing one, or asking it anything, creates
nothing on disk. ``Store`` does the I/O: it creates the directory (0700) only when a
document is actually written, writes each document atomically (0600 temp file, then
rename), enforces retention, removes temp files left by killed processes, and reads
documents with a size bound. A file that is not ours by name is never deleted.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import operator
import os
import posixpath
import re
import stat
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from ._exceptions import DocumentError, StoreError, UnsafeStoreError
from ._ids import ID_PATTERN, id_time_ms, new_id

KINDS = ("cli-command", "build", "snapshot", "run-summary")
DOCUMENT_NAME_PATTERN = rf"^({'|'.join(KINDS)})-({ID_PATTERN})\.json$"
TEMP_PREFIX = ".tmp-"
TEMP_NAME_PATTERN = r"^\.tmp-(\d+)-[0-9a-f]{16}\.partial$"
KEY_FILE_NAME = ".hashkey"
#: Retention bookkeeping (see ``Store.apply_retention``); both are ours, never foreign.
STATE_NAME = ".retention"
JOURNAL_NAME = ".retention-log"
_OWN_FILES = frozenset({KEY_FILE_NAME, STATE_NAME, JOURNAL_NAME})
STATE_MAGIC = "localtelemetry-retention"
STATE_VERSION = 1

#: Largest document the reader accepts; ours are a few KB.
MAX_DOCUMENT_BYTES = 1024 * 1024
#: A temp file whose writer is gone, or older than this, is stale.
STALE_TEMP_SECONDS = 15 * 60
#: Documents this new are "just written" for the clock-jump guard in ``prune``.
RECENT_MS = 10 * 60 * 1000

#: A full retention pass prunes this fraction below each limit, and at most an hour of
#: age early, so a store at its limits is listed once per many runs, not on every run.
SLACK_FRACTION = 32
AGE_SLACK_MS = 60 * 60 * 1000
#: The cheap retention check gives way to a full pass after this much journal (about
#: 8,000 documents), after a day, and when the clock went back by more than a minute.
MAX_TAIL_BYTES = 64 * 1024
FULL_PASS_EVERY_MS = 24 * 60 * 60 * 1000
CLOCK_BACK_MS = 60 * 1000

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_BINARY = getattr(os, "O_BINARY", 0)
# Journal records: native 4-byte unsigned ints (the journal never leaves this machine).
_RECORD_BYTES = 4
_INTENT = 0xFFFFFFFF  # a document is about to be written
_CHECKPOINT = 0xFFFFFFFE  # a full pass finished; carries no document
_MAX_RECORD = 0xFFFFFFFD  # any other value is the size of a document now in place
_JOURNAL_SUPPORTED = (
    os.name == "posix"
    and hasattr(os, "pread")
    and memoryview(bytes(_RECORD_BYTES)).cast("I").itemsize == _RECORD_BYTES
)


# Plain slotted classes, not dataclasses: creating a dataclass costs about a millisecond
# at import, and this module is imported by every run of the host app.


class Limits:
    """Retention limits, applied every time a run writes documents."""

    __slots__ = ("max_age_days", "max_bytes", "max_documents")

    def __init__(
        self,
        max_documents: int = 1000,
        max_bytes: int = 20 * 1000 * 1000,
        max_age_days: float = 30.0,
    ) -> None:
        if max_documents < 1 or max_bytes < 1 or max_age_days <= 0:
            raise ValueError("retention limits must be positive")
        self.max_documents = max_documents
        self.max_bytes = max_bytes
        self.max_age_days = max_age_days

    def __repr__(self) -> str:
        return (
            f"Limits(max_documents={self.max_documents}, max_bytes={self.max_bytes}, "
            f"max_age_days={self.max_age_days})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Limits):
            return NotImplemented
        return (self.max_documents, self.max_bytes, self.max_age_days) == (
            other.max_documents,
            other.max_bytes,
            other.max_age_days,
        )

    def __hash__(self) -> int:
        return hash((self.max_documents, self.max_bytes, self.max_age_days))


class StoreLocation:
    """Computes where an app's documents live. Creates nothing.

    Precedence: an explicit ``base`` (``Telemetry(directory=...)``), then
    ``LOCALTELEMETRY_DIR`` (documents of app NAME live in ``$LOCALTELEMETRY_DIR/NAME``),
    then the platform's user state directory for the app, sub-folder ``telemetry``.
    """

    __slots__ = ("app_name", "base", "environ")

    def __init__(
        self,
        app_name: str,
        base: Path | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.app_name = app_name
        self.base = base
        self.environ = environ

    def __repr__(self) -> str:
        return f"StoreLocation({self.app_name!r}, base={self.base!r})"

    @property
    def relocated_by(self) -> str | None:
        if self.base is not None:
            return "directory"
        if self._env_base():
            return "LOCALTELEMETRY_DIR"
        return None

    def _env_base(self) -> str | None:
        environ = os.environ if self.environ is None else self.environ
        value = environ.get("LOCALTELEMETRY_DIR", "").strip()
        return value or None

    @property
    def directory(self) -> Path:
        if self.base is not None:
            return Path(self.base) / self.app_name
        env_base = self._env_base()
        if env_base:
            return Path(env_base).expanduser() / self.app_name
        return _user_state_path(self.app_name) / "telemetry"

    @property
    def key_path(self) -> Path:
        return self.directory / KEY_FILE_NAME

    def document_path(self, kind: str, id_: str) -> Path:
        return self.directory / f"{kind}-{id_}.json"


def _user_state_path(app_name: str) -> Path:
    """``platformdirs.user_state_path(app_name)``.

    On Linux, when ``$XDG_STATE_HOME`` or ``$HOME`` is an absolute path, the answer is
    plain string work, done here: importing platformdirs costs a few milliseconds of
    every recorded run. Anything else (macOS, Windows, relative or missing variables)
    asks platformdirs itself. ``tests/test_store.py`` checks the two agree.
    """
    if sys.platform.startswith("linux"):
        xdg = os.environ.get("XDG_STATE_HOME", "")
        if posixpath.isabs(xdg):
            return Path(xdg, app_name)
        home = os.environ.get("HOME", "")
        if not xdg.strip() and posixpath.isabs(home):
            return Path(home, ".local", "state", app_name)
    import platformdirs

    return Path(platformdirs.user_state_path(app_name))


class DocumentEntry:
    """A file in the store whose name says it is one of our documents.

    ``size`` is -1 when the listing did not stat the file (``entries(sizes=False)``).
    The ``path`` is built on first use: listing 100,000 documents should not build
    100,000 ``Path`` objects.
    """

    __slots__ = ("_directory", "_path", "id", "kind", "name", "size")

    def __init__(self, kind: str, id: str, path: Path | str, size: int) -> None:
        self.kind = kind
        self.id = id
        text = os.fspath(path)
        self._directory, self.name = os.path.split(text)
        self._path: Path | None = path if isinstance(path, Path) else None
        self.size = size

    @classmethod
    def _make(cls, kind: str, id: str, directory: str, name: str, size: int) -> DocumentEntry:
        entry = cls.__new__(cls)
        entry.kind = kind
        entry.id = id
        entry._directory = directory
        entry.name = name
        entry._path = None
        entry.size = size
        return entry

    @property
    def path(self) -> Path:
        if self._path is None:
            self._path = Path(self._directory, self.name)
        return self._path

    def __repr__(self) -> str:
        return f"DocumentEntry({self.kind!r}, {self.id!r}, size={self.size})"

    @property
    def created_ms(self) -> int:
        return id_time_ms(self.id)


_COMPILED: dict[str, re.Pattern[str]] = {}


def _regex(name: str) -> re.Pattern[str]:
    """DOCUMENT_NAME_RE and TEMP_NAME_RE, compiled on first use: every host process
    imports this module, and compiling them cost each of its runs a third of a ms."""
    compiled = _COMPILED.get(name)
    if compiled is None:
        pattern = DOCUMENT_NAME_PATTERN if name == "DOCUMENT_NAME_RE" else TEMP_NAME_PATTERN
        compiled = _COMPILED[name] = re.compile(pattern)
    return compiled


if TYPE_CHECKING:  # at run time, __getattr__ below compiles them on first use
    DOCUMENT_NAME_RE: re.Pattern[str]
    TEMP_NAME_RE: re.Pattern[str]


def __getattr__(name: str) -> re.Pattern[str]:
    if name in ("DOCUMENT_NAME_RE", "TEMP_NAME_RE"):
        return _regex(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_ID_CHARS = "0123456789abcdefghjkmnpqrstvwxyz"
_KIND_OF = {kind: kind for kind in KINDS}
_SORT_KEY = operator.attrgetter("id", "kind")
_LOWEST_RANDOM = bytes(10)


def _document_name(name: str) -> tuple[str, str] | None:
    """(kind, id) when ``name`` is ``<kind>-<id>.json``: what DOCUMENT_NAME_RE accepts,
    checked with string operations (a regex match per file is slow at 100k files)."""
    kind = _KIND_OF.get(name[:-32])
    if kind is None or name[-32] != "-" or not name.endswith(".json"):
        return None
    id_ = name[-31:-5]
    return (kind, id_) if not id_.strip(_ID_CHARS) else None


def lowest_id(ms: int) -> str:
    """The smallest id of millisecond ``ms``: ids sort by time, so comparing ids with it
    compares creation times without decoding every id."""
    return new_id(ms, random_bytes=_LOWEST_RANDOM)


def _state_line(*fields: int) -> bytes:
    return (" ".join([STATE_MAGIC, *map(str, fields)]) + "\n").encode("ascii")


class _Scan:
    """One pass over the store directory: the documents, and the temp files."""

    __slots__ = ("documents", "temps")

    def __init__(self) -> None:
        self.documents: list[DocumentEntry] = []
        self.temps: list[tuple[str, str]] = []  # (name, path)


class Store:
    """Reads and writes the documents of one app."""

    def __init__(
        self,
        location: StoreLocation,
        *,
        limits: Limits | None = None,
        getuid: Callable[[], int] | None = None,
    ) -> None:
        self.location = location
        self.limits = limits or Limits()
        # A seam for tests: who the store must belong to.
        self._getuid = getuid or getattr(os, "getuid", None)
        self._directory: Path | None = None
        self._dir_mtime_ns = 0
        # Set when this process saw something the retention journal may not account
        # for (see ``apply_retention``): the next retention step then scans the store.
        self._dirty = False

    @property
    def directory(self) -> Path:
        # Computed once per Store: a Store lives for one run or one command.
        if self._directory is None:
            self._directory = self.location.directory
        return self._directory

    # -- safety ---------------------------------------------------------------------

    def check_directory(self, st: os.stat_result, path: Path) -> None:
        """Refuse a store that is a symlink, not a directory, foreign or open to others."""
        if stat.S_ISLNK(st.st_mode):
            raise UnsafeStoreError(f"store {path} is a symlink; refusing to follow it")
        if not stat.S_ISDIR(st.st_mode):
            raise UnsafeStoreError(f"store {path} exists but is not a directory")
        if self._getuid is not None and st.st_uid != self._getuid():
            raise UnsafeStoreError(f"store {path} belongs to another user (uid {st.st_uid})")
        if os.name == "posix" and st.st_mode & 0o022:
            raise UnsafeStoreError(
                f"store {path} is writable by other users; run 'chmod 700 {path}'"
            )

    def existing_directory(self) -> Path | None:
        """The store directory if it exists and is safe; None if it does not exist."""
        path = self.directory
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return None
        self.check_directory(st, path)
        return path

    def ensure_directory(self) -> Path:
        """Create the store (0700, parents too) if needed; verify it is safe."""
        path = self.directory
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            # Parents may be shared (LOCALTELEMETRY_DIR); only the store itself is 0700.
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            with contextlib.suppress(FileExistsError):
                os.mkdir(path, 0o700)
            st = os.lstat(path)
        self.check_directory(st, path)
        self._dir_mtime_ns = st.st_mtime_ns
        return path

    # -- writing --------------------------------------------------------------------

    def write_bytes(self, kind: str, id_: str, data: bytes, *, journal: bool = False) -> Path:
        """Atomically create ``<kind>-<id>.json`` with mode 0600.

        The bytes go to a uniquely named temp file first and are renamed into place, so
        a reader (or a process killed mid-write) never sees a partial document.

        With ``journal`` (recording runs) the write is noted in the retention journal:
        an "about to write" record before the temp file exists and the document's size
        once it is in place, so ``apply_retention`` can tell without listing the store
        whether a limit may be exceeded or a writer died mid-write.
        """
        directory = self.ensure_directory()
        jfd = self._journal_begin(directory) if journal else -1
        try:
            final = directory / f"{kind}-{id_}.json"
            tmp = directory / f"{TEMP_PREFIX}{os.getpid()}-{os.urandom(8).hex()}.partial"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _BINARY, 0o600)
            try:
                try:
                    view = memoryview(data)
                    while view:
                        written = os.write(fd, view)
                        view = view[written:]
                finally:
                    os.close(fd)
                os.replace(tmp, final)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
            if jfd >= 0:
                self._journal_write(jfd, min(len(data), _MAX_RECORD))
        finally:
            if jfd >= 0:
                with contextlib.suppress(OSError):
                    os.close(jfd)
        return final

    def _journal_begin(self, directory: Path) -> int:
        """Open the journal and note a write about to start; -1 if there is no journal
        (the retention step then scans the store, and creates it)."""
        if not _JOURNAL_SUPPORTED:
            self._dirty = True
            return -1
        try:
            fd = os.open(directory / JOURNAL_NAME, os.O_WRONLY | os.O_APPEND | _NOFOLLOW)
        except OSError:
            self._dirty = True
            return -1
        try:
            # Every change to the directory by a journaled writer is followed by a
            # journal record, so a directory newer than the journal was changed by
            # something else (a killed writer, a person, an older version).
            if self._dir_mtime_ns > os.fstat(fd).st_mtime_ns:
                self._dirty = True
        except OSError:
            self._dirty = True
        if not self._journal_write(fd, _INTENT):
            with contextlib.suppress(OSError):
                os.close(fd)
            return -1
        return fd

    def _journal_write(self, fd: int, value: int) -> bool:
        try:
            os.write(fd, value.to_bytes(_RECORD_BYTES, sys.byteorder))
            return True
        except OSError:
            self._dirty = True
            return False

    # -- listing and reading ----------------------------------------------------------

    def _scan(
        self, directory: Path, kinds: frozenset[str] | None, *, sizes: bool, temps: bool
    ) -> _Scan:
        """One scandir pass. Documents must be regular files: with ``sizes`` that is
        checked with lstat (which also gives the size), else from the directory entry's
        type (no system call on Linux)."""
        result = _Scan()
        documents = result.documents
        base = os.fspath(directory)
        make = DocumentEntry._make
        with os.scandir(directory) as it:
            for entry in it:
                name = entry.name
                parsed = _document_name(name)
                if parsed is None:
                    if temps and name.startswith(TEMP_PREFIX):
                        result.temps.append((name, entry.path))  # checked in _remove_stale
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
        self, *, kinds: frozenset[str] | None = None, sizes: bool = True
    ) -> list[DocumentEntry]:
        """Our documents, oldest first. Foreign files are ignored (and never touched).

        ``sizes=False`` skips the stat of every file (``size`` is then -1): listing
        100,000 documents takes a fraction of the time.
        """
        directory = self.existing_directory()
        if directory is None:
            return []
        found = self._scan(directory, kinds, sizes=sizes, temps=False).documents
        found.sort(key=_SORT_KEY)
        return found

    def ids(
        self, *, kinds: frozenset[str] | None = None, foreign: bool = False
    ) -> tuple[dict[str, list[str]], list[str]]:
        """The ids of our documents by kind (unsorted), and with ``foreign`` the names of
        the files that are not ours: the cheapest listing there is.

        One scandir pass over file names; documents must be regular files, which the
        directory entry tells without a system call on Linux. No object per document:
        at 100,000 documents this matters for both time and memory.
        """
        by_kind: dict[str, list[str]] = {k: [] for k in KINDS}
        directory = self.existing_directory()
        if directory is None:
            return by_kind, []
        regular: list[str] = []
        irregular: list[str] = []
        with os.scandir(directory) as it:
            for entry in it:
                try:
                    is_file = entry.is_file(follow_symlinks=False)
                except OSError:
                    is_file = False
                (regular if is_file else irregular).append(entry.name)
        chars = _ID_CHARS
        for kind in KINDS:
            if kinds is not None and kind not in kinds:
                continue
            prefix, length = kind + "-", len(kind) + 32
            # What DOCUMENT_NAME_RE accepts, a list comprehension per kind: a regex match
            # or a function call per file costs a quarter of a second at 100,000 files.
            by_kind[kind] = [
                id_
                for name in regular
                if len(name) == length
                and name.startswith(prefix)
                and name.endswith(".json")
                and not (id_ := name[-31:-5]).strip(chars)
            ]
        others: list[str] = []
        if foreign:
            kind_of = _KIND_OF
            others = [
                name
                for name in itertools.chain(regular, irregular)
                if not (  # the negation of _document_name(name), inlined
                    name[:-32] in kind_of
                    and name[-32] == "-"
                    and name.endswith(".json")
                    and not name[-31:-5].strip(chars)
                )
                and name not in _OWN_FILES
                and not _regex("TEMP_NAME_RE").match(name)
            ]
        return by_kind, others

    def sizes(self, names: list[str]) -> list[int]:
        """The current size of each named file in the store; -1 for one that vanished or
        is not a regular file."""
        out = []
        directory = self.directory
        dir_fd = None
        if os.stat in os.supports_dir_fd:
            with contextlib.suppress(OSError):
                dir_fd = os.open(directory, os.O_RDONLY | _NOFOLLOW | getattr(os, "O_DIRECTORY", 0))
        try:
            for name in names:
                try:
                    if dir_fd is not None:
                        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
                    else:
                        st = os.lstat(directory / name)
                except OSError:
                    out.append(-1)
                    continue
                out.append(st.st_size if stat.S_ISREG(st.st_mode) else -1)
        finally:
            if dir_fd is not None:
                os.close(dir_fd)
        return out

    def foreign_files(self) -> list[str]:
        """Names in the store that are neither documents, temp files nor our own files."""
        return sorted(self.ids(foreign=True)[1])

    def find(self, ref: str) -> DocumentEntry:
        """A document by full id, unique id prefix (4+ chars) or file name."""
        ref = ref.strip()
        named = _document_name(Path(ref).name)
        if named:
            ref = named[1]
        ref = ref.lower()
        if len(ref) < 4:
            raise DocumentError(f"document id {ref!r} is too short; give at least 4 characters")
        matches = [e for e in self.entries(sizes=False) if e.id.startswith(ref)]
        if not matches:
            raise DocumentError(f"no document with id {ref!r}; 'list' shows the ids")
        if len(matches) > 1:
            raise DocumentError(f"id prefix {ref!r} is ambiguous ({len(matches)} documents)")
        return matches[0]

    # -- maintenance ----------------------------------------------------------------

    def prune(self, now_ms: int) -> int:
        """Apply the retention limits exactly; oldest documents go first. Returns how
        many went.

        Two guards against a wrong clock: documents dated more than a day ahead go first
        (else they would outlive real ones forever), and age pruning is skipped when it
        would remove every document but the ones just written, which is what a clock
        jumped far ahead looks like (count and size limits still apply).
        """
        doomed, _ = self._plan(self.entries(), now_ms, slack=False)
        return self.delete(doomed)

    def _plan(
        self, entries: list[DocumentEntry], now_ms: int, *, slack: bool
    ) -> tuple[list[DocumentEntry], list[DocumentEntry]]:
        """(doomed, kept) for ``entries`` sorted oldest first. With ``slack``, prune a
        little below each limit (1/32 of it; at most an hour of age) so a store at its
        limits is scanned once per many runs instead of on every run."""
        limits = self.limits
        day = 86_400_000
        max_age_ms = int(limits.max_age_days * day)
        max_documents, max_bytes, age_slack = limits.max_documents, limits.max_bytes, 0
        if slack:
            max_documents -= max_documents // SLACK_FRACTION
            max_bytes -= max_bytes // SLACK_FRACTION
            age_slack = min(max_age_ms // SLACK_FRACTION, AGE_SLACK_MS)
        future_id = lowest_id(now_ms + day + 1)  # created_ms > now + day
        cutoff_id = lowest_id(now_ms - max_age_ms + age_slack)  # created_ms < cutoff
        recent_id = lowest_id(now_ms - RECENT_MS)
        future = [e for e in entries if e.id >= future_id]
        present = [e for e in entries if e.id < future_id]
        aged = [e for e in present if e.id < cutoff_id]
        older = sum(1 for e in present if e.id < recent_id)
        if aged and len(aged) == older:
            aged = []
        kept = present[len(aged) :]  # present is sorted: the aged ones come first
        total = sum(e.size for e in kept)
        excess = len(kept) - max_documents
        i = 0
        while i < len(kept) and (excess > 0 or total > max_bytes):
            total -= kept[i].size
            excess -= 1
            i += 1
        return future + aged + kept[:i], kept[i:]

    def delete(self, entries: list[DocumentEntry]) -> int:
        removed = 0
        for entry in entries:
            try:
                os.unlink(entry.path)
                removed += 1
            except FileNotFoundError:
                pass  # a concurrent run pruned it first
        return removed

    def clean_stale_temp_files(self, now_s: float) -> int:
        """Remove temp files whose writing process is gone or that are old."""
        directory = self.existing_directory()
        if directory is None:
            return 0
        temps = []
        with os.scandir(directory) as it:
            for entry in it:
                if entry.name.startswith(TEMP_PREFIX) and _regex("TEMP_NAME_RE").match(entry.name):
                    temps.append((entry.name, entry.path))
        return _remove_stale(temps, now_s)

    # -- retention as runs write --------------------------------------------------------

    def apply_retention(self, now_ms: int, now_s: float) -> int:
        """Enforce the limits after a recording run; returns how many documents went.

        Listing the store costs time in proportion to its size, so a run lists it only
        when a cheap check cannot show that every limit still holds. The check reads
        two small files: ``.retention`` (written after each full pass: the counts, the
        bytes, when the oldest document expires, and where the journal stood) and
        ``.retention-log`` (every recording run appends a record before and after each
        document it writes). A full pass runs when either is missing or unreadable, the
        limits changed, the documents written since would exceed a limit, the oldest
        document expired, the clock moved back or a day has passed, a writer did not
        finish (a killed process: its temp file must go), or the directory changed after
        the last journal record (a person, another program, an older version). Under
        concurrency the check errs towards scanning; a full pass also prunes a little
        below the limits (see ``_plan``), so a store at its limits is not listed on
        every run. Elsewhere than POSIX every run does the full pass.
        """
        directory = self.existing_directory()
        if directory is None:
            return 0
        if _JOURNAL_SUPPORTED and not self._dirty and self._within_limits(directory, now_ms):
            return 0
        return self._full_retention(directory, now_ms, now_s)

    def _limit_fields(self) -> tuple[int, int, int]:
        limits = self.limits
        return limits.max_documents, limits.max_bytes, int(limits.max_age_days * 86_400_000)

    def _read_state(self, directory: Path) -> list[int] | None:
        try:
            fd = os.open(directory / STATE_NAME, os.O_RDONLY | _NOFOLLOW | _BINARY)
        except OSError:
            return None
        try:
            raw = os.read(fd, 512)
        except OSError:
            return None
        finally:
            os.close(fd)
        parts = raw.split()
        if len(parts) != 11 or parts[0] != STATE_MAGIC.encode("ascii"):
            return None
        try:
            return [int(p) for p in parts[1:]]
        except ValueError:
            return None

    def _within_limits(self, directory: Path, now_ms: int) -> bool:
        state = self._read_state(directory)
        if state is None:
            return False
        version, max_docs, max_bytes, max_age, documents, size, expires, scanned, ino, base = state
        if version != STATE_VERSION or (max_docs, max_bytes, max_age) != self._limit_fields():
            return False
        if (expires >= 0 and now_ms >= expires) or not (
            scanned - CLOCK_BACK_MS <= now_ms < scanned + FULL_PASS_EVERY_MS
        ):
            return False
        try:
            dir_mtime = os.stat(directory).st_mtime_ns
            fd = os.open(directory / JOURNAL_NAME, os.O_RDONLY | _NOFOLLOW | _BINARY)
        except OSError:
            return False
        try:
            st = os.fstat(fd)
            length = st.st_size - base
            if st.st_ino != ino or not 0 <= length <= MAX_TAIL_BYTES or length % _RECORD_BYTES:
                return False
            if dir_mtime > st.st_mtime_ns:
                return False
            tail = os.pread(fd, length, base) if length else b""
        except OSError:
            return False
        finally:
            os.close(fd)
        if len(tail) != length:
            return False
        records = memoryview(tail).cast("I").tolist()
        intents = records.count(_INTENT)
        checkpoints = records.count(_CHECKPOINT)
        written = len(records) - intents - checkpoints
        if intents > written:
            return False  # a writer is still busy, or died with a temp file behind
        added = sum(records) - intents * _INTENT - checkpoints * _CHECKPOINT
        return documents + written <= max_docs and size + added <= max_bytes

    def _full_retention(self, directory: Path, now_ms: int, now_s: float) -> int:
        jfd = -1
        if _JOURNAL_SUPPORTED:
            jfd = os.open(
                directory / JOURNAL_NAME,
                os.O_WRONLY | os.O_APPEND | os.O_CREAT | _NOFOLLOW | _BINARY,
                0o600,
            )
        try:
            if jfd >= 0:
                # Records appended from here on are counted again on top of this pass
                # (some of their documents are in it too): counting twice is safe.
                jst = os.fstat(jfd)
            scan = self._scan(directory, None, sizes=True, temps=True)
            entries = scan.documents
            entries.sort(key=_SORT_KEY)
            doomed, kept = self._plan(entries, now_ms, slack=True)
            removed = self.delete(doomed)
            _remove_stale(scan.temps, now_s)
            if jfd >= 0:
                max_docs, max_bytes, max_age = self._limit_fields()
                expires = kept[0].created_ms + max_age if kept else -1
                self._write_state(
                    directory,
                    _state_line(
                        STATE_VERSION,
                        max_docs,
                        max_bytes,
                        max_age,
                        len(kept),
                        sum(e.size for e in kept),
                        expires,
                        now_ms,
                        jst.st_ino,
                        jst.st_size,
                    ),
                )
                # The journal must be newer than the directory (see _journal_begin).
                self._journal_write(jfd, _CHECKPOINT)
            self._dirty = False
            return removed
        finally:
            if jfd >= 0:
                os.close(jfd)

    def _write_state(self, directory: Path, data: bytes) -> None:
        tmp = directory / f"{TEMP_PREFIX}{os.getpid()}-{os.urandom(8).hex()}.partial"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _BINARY, 0o600)
        try:
            try:
                os.write(fd, data)
            finally:
                os.close(fd)
            os.replace(tmp, directory / STATE_NAME)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


def _remove_stale(temps: list[tuple[str, str]], now_s: float) -> int:
    """Remove the temp files whose writing process is gone or that are old."""
    removed = 0
    me = os.getpid()
    for name, path in temps:
        match = _regex("TEMP_NAME_RE").match(name)
        if match is None:
            continue
        pid = int(match.group(1))
        if pid == me:
            continue
        try:
            st = os.lstat(path)
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode):
            continue  # ours are regular files: a directory or link of that name is not
        if now_s - st.st_mtime > STALE_TEMP_SECONDS or not _pid_alive(pid):
            with contextlib.suppress(OSError):
                os.unlink(path)
                removed += 1
    return removed


def _pid_alive(pid: int) -> bool:
    if os.name != "posix":
        return True  # no cheap check: rely on age
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return True
    return True


def read_document_bytes(path: Path, *, limit: int = MAX_DOCUMENT_BYTES) -> bytes:
    """Read a file without following symlinks, refusing anything over ``limit`` bytes."""
    try:
        # O_NONBLOCK: a FIFO put where a document should be must not hang the reader.
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _BINARY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise DocumentError(f"{path.name}: is a symlink; not following it") from None
        raise DocumentError(f"{path.name}: cannot be read ({exc.strerror})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise DocumentError(f"{path.name}: is not a regular file")
        if st.st_size > limit:
            raise DocumentError(f"{path.name}: is {st.st_size} bytes, over the {limit}-byte limit")
        chunks = []
        remaining = limit + 1
        while remaining > 0:
            chunk = os.read(fd, min(remaining, 65536))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        data = b"".join(chunks)
        if len(data) > limit:
            raise DocumentError(f"{path.name}: grew over the {limit}-byte limit while reading")
        return data
    finally:
        os.close(fd)


def parse_document(data: bytes, name: str) -> dict[str, object]:
    """Parse document bytes; anything but a JSON object is a DocumentError."""
    import orjson

    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise DocumentError(f"{name}: is not valid JSON ({exc.msg})") from None
    if not isinstance(value, dict):
        raise DocumentError(f"{name}: is not a JSON object")
    from ._bundle import MAX_DEPTH
    from ._schemas import nested_deeper_than

    if nested_deeper_than(value, MAX_DEPTH):  # ours are 6 deep; printing it would recurse
        raise DocumentError(f"{name}: is nested deeper than {MAX_DEPTH} levels")
    return value


def load_document(path: Path) -> dict[str, object]:
    return parse_document(read_document_bytes(path), path.name)


__all__ = [
    "KINDS",
    "DocumentEntry",
    "Limits",
    "Store",
    "StoreError",
    "StoreLocation",
    "load_document",
]
