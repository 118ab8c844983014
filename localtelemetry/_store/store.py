"""Writing documents, and the cheap retention check after a recording run.

``Store`` does the I/O for one app's store (``StoreLocation``, in ``_store``, only
computes where it is): it creates the directory (0700) only when a document is actually
written, writes each document atomically (0600 temp file, then rename), keeps the
retention journal, and checks after each run whether the limits may be exceeded. Listing
and reading (``_store/listing``) and pruning (``_store/retention``) load only when needed, so a
recording run that stays within its limits imports neither. A file that is not ours by
name is never deleted. The store also keeps its install key (``KEY_FILE_NAME``: 32
random bytes, 0600, created race-free on the first recorded run, read by the hashing
in ``_record/documents``). A recording run works with paths as text (``dirname``,
``write_document``): ``pathlib`` is imported only when a ``Path`` is asked for.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys

from . import (
    BINARY,
    JOURNAL_NAME,
    KEY_BYTES,
    NOFOLLOW,
    STATE_NAME,
    AtomicFile,
    Limits,
    StoreLocation,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy knows it)
if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from localtelemetry._contract.exceptions import KeyFileError, UnsafeStoreError

    from .listing import DocumentEntry

    #: Key files are named by text on the recording path (no pathlib) and by ``Path``
    #: in the management commands.
    PathLike = str | os.PathLike[str]

STATE_MAGIC = "localtelemetry-retention"
STATE_VERSION = 1
#: The cheap retention check gives way to a full pass after this much journal (about
#: 8,000 documents), after a day, and when the clock went back by more than a minute.
MAX_TAIL_BYTES = 64 * 1024
FULL_PASS_EVERY_MS = 24 * 60 * 60 * 1000
CLOCK_BACK_MS = 60 * 1000

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


def _unsafe(message: str) -> UnsafeStoreError:
    from localtelemetry._contract.exceptions import (
        UnsafeStoreError,  # loaded only when a store is refused
    )

    return UnsafeStoreError(message)


def _state_line(*fields: int) -> bytes:
    return (" ".join([STATE_MAGIC, *map(str, fields)]) + "\n").encode("ascii")


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
        self._dirname: str | None = None
        self._dir_mtime_ns = 0
        # Set when this process saw something the retention journal may not account
        # for (see ``apply_retention``): the next retention step then scans the store.
        self._dirty = False

    @property
    def dirname(self) -> str:
        """The store directory as text. Computed once per Store: a Store lives for one
        run or one command."""
        if self._dirname is None:
            self._dirname = self.location.dirname
        return self._dirname

    @property
    def directory(self) -> Path:
        from pathlib import Path

        return Path(self.dirname)

    # -- safety ---------------------------------------------------------------------

    def check_directory(self, st: os.stat_result, path: str | os.PathLike[str]) -> None:
        """Refuse a store that is a symlink, not a directory, foreign or open to others."""
        if stat.S_ISLNK(st.st_mode):
            raise _unsafe(f"store {path} is a symlink; refusing to follow it")
        if not stat.S_ISDIR(st.st_mode):
            raise _unsafe(f"store {path} exists but is not a directory")
        if self._getuid is not None and st.st_uid != self._getuid():
            raise _unsafe(f"store {path} belongs to another user (uid {st.st_uid})")
        if os.name == "posix" and st.st_mode & 0o022:
            raise _unsafe(f"store {path} is writable by other users; run 'chmod 700 {path}'")

    def existing_directory(self) -> Path | None:
        """The store directory if it exists and is safe; None if it does not exist."""
        path = self.existing_dirname()
        return None if path is None else self.directory

    def existing_dirname(self) -> str | None:
        """``existing_directory`` as text."""
        path = self.dirname
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return None
        self.check_directory(st, path)
        return path

    def ensure_directory(self) -> Path:
        """Create the store (0700, parents too) if needed; verify it is safe."""
        self.ensure_dirname()
        return self.directory

    def ensure_dirname(self) -> str:
        """``ensure_directory``, returning the directory as text."""
        path = self.dirname
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            # Parents may be shared (LOCALTELEMETRY_DIR); only the store itself is 0700
            # (makedirs gives the parents the default mode, as Path.mkdir does).
            parent = os.path.dirname(path)
            if parent:
                os.makedirs(parent, mode=0o700, exist_ok=True)
            with contextlib.suppress(FileExistsError):
                os.mkdir(path, 0o700)
            st = os.lstat(path)
        self.check_directory(st, path)
        self._dir_mtime_ns = st.st_mtime_ns
        return path

    # -- writing --------------------------------------------------------------------

    def write_bytes(self, kind: str, id_: str, data: bytes, *, journal: bool = False) -> Path:
        """``write_document``, returning the document's path as a ``Path``."""
        from pathlib import Path

        return Path(self.write_document(kind, id_, data, journal=journal))

    def write_document(self, kind: str, id_: str, data: bytes, *, journal: bool = False) -> str:
        """Atomically create ``<kind>-<id>.json`` with mode 0600; returns its path.

        The bytes go to a uniquely named temp file first and are renamed into place, so
        a reader (or a process killed mid-write) never sees a partial document.

        With ``journal`` (recording runs) the write is noted in the retention journal:
        an "about to write" record before the temp file exists and the document's size
        once it is in place, so ``apply_retention`` can tell without listing the store
        whether a limit may be exceeded or a writer died mid-write.
        """
        directory = self.ensure_dirname()
        jfd = self._journal_begin(directory) if journal else -1
        try:
            final = os.path.join(directory, f"{kind}-{id_}.json")
            with AtomicFile(final, replace=True) as out:
                out.write(data)
            if jfd >= 0:
                self._journal_write(jfd, min(len(data), _MAX_RECORD))
        finally:
            if jfd >= 0:
                with contextlib.suppress(OSError):
                    os.close(jfd)
        return final

    def _journal_begin(self, directory: str) -> int:
        """Open the journal and note a write about to start; -1 if there is no journal
        (the retention step then scans the store, and creates it)."""
        if not _JOURNAL_SUPPORTED:
            self._dirty = True
            return -1
        try:
            fd = os.open(
                os.path.join(directory, JOURNAL_NAME), os.O_WRONLY | os.O_APPEND | NOFOLLOW
            )
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

    # -- listing, reading and pruning: in listing and retention, loaded on first use --

    def entries(
        self, *, kinds: frozenset[str] | None = None, sizes: bool = True
    ) -> list[DocumentEntry]:
        """Our documents, oldest first (``_store/listing.entries``)."""
        from .listing import entries

        return entries(self.existing_dirname(), kinds=kinds, sizes=sizes)

    def ids(
        self, *, kinds: frozenset[str] | None = None, foreign: bool = False
    ) -> tuple[dict[str, list[str]], list[str]]:
        """Document ids by kind, and foreign file names (``_store/listing.ids``)."""
        from .listing import ids

        return ids(self.existing_dirname(), kinds=kinds, foreign=foreign)

    def sizes(self, names: list[str]) -> list[int]:
        from .listing import sizes

        return sizes(self.dirname, names)

    def foreign_files(self) -> list[str]:
        from .listing import foreign_files

        return foreign_files(self.existing_dirname())

    def find(self, ref: str) -> DocumentEntry:
        """A document by full id, unique id prefix (4+ chars) or file name."""
        from .listing import find

        return find(self.existing_dirname(), ref)

    def prune(self, now_ms: int) -> int:
        """Apply the retention limits exactly (``_store/retention.prune``)."""
        from .retention import prune

        return prune(self.limits, self.existing_dirname(), now_ms)

    def delete(self, entries: list[DocumentEntry]) -> int:
        from .retention import delete

        return delete(entries)

    def clean_stale_temp_files(self, now_s: float) -> int:
        from .retention import clean_stale_temp_files

        return clean_stale_temp_files(self.existing_dirname(), now_s)

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
        directory = self.existing_dirname()
        if directory is None:
            return 0
        if _JOURNAL_SUPPORTED and not self._dirty and self._within_limits(directory, now_ms):
            return 0
        return self._full_retention(directory, now_ms, now_s)

    def _limit_fields(self) -> tuple[int, int, int]:
        limits = self.limits
        return limits.max_documents, limits.max_bytes, int(limits.max_age_days * 86_400_000)

    def _read_state(self, directory: str | os.PathLike[str]) -> list[int] | None:
        try:
            fd = os.open(os.path.join(directory, STATE_NAME), os.O_RDONLY | NOFOLLOW | BINARY)
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

    def _within_limits(self, directory: str, now_ms: int) -> bool:
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
            fd = os.open(os.path.join(directory, JOURNAL_NAME), os.O_RDONLY | NOFOLLOW | BINARY)
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

    def _full_retention(self, directory: str, now_ms: int, now_s: float) -> int:
        from .listing import SORT_KEY, scan
        from .retention import delete, plan, remove_stale

        jfd = -1
        if _JOURNAL_SUPPORTED:
            jfd = os.open(
                os.path.join(directory, JOURNAL_NAME),
                os.O_WRONLY | os.O_APPEND | os.O_CREAT | NOFOLLOW | BINARY,
                0o600,
            )
        try:
            if jfd >= 0:
                # Records appended from here on are counted again on top of this pass
                # (some of their documents are in it too): counting twice is safe.
                jst = os.fstat(jfd)
            found = scan(directory, None, sizes=True, temps=True)
            documents = found.documents
            documents.sort(key=SORT_KEY)
            doomed, kept = plan(self.limits, documents, now_ms, slack=True)
            removed = delete(doomed)
            remove_stale(found.temps, now_s)
            if jfd >= 0:
                max_docs, max_bytes, max_age = self._limit_fields()
                expires = kept[0].created_ms + max_age if kept else -1
                state = _state_line(
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
                )
                with AtomicFile(os.path.join(directory, STATE_NAME), replace=True) as out:
                    out.write(state)
                # The journal must be newer than the directory (see _journal_begin).
                self._journal_write(jfd, _CHECKPOINT)
            self._dirty = False
            return removed
        finally:
            if jfd >= 0:
                os.close(jfd)


# -- the install key ---------------------------------------------------------------------

# Opening a FIFO for reading blocks until a writer appears: a FIFO planted where the key
# should be would hang every recorded run. Non-blocking, the open returns at once and
# the file-type check refuses it. (No effect on regular files.)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


def _key_file_error(message: str) -> KeyFileError:
    # The exceptions module loads only when one is raised: a recorded run that goes
    # well never needs it (issue 14: its ten classes cost about 0.3 ms to create).
    from localtelemetry._contract.exceptions import KeyFileError

    return KeyFileError(message)


def _check_key_stat(st: os.stat_result, path: PathLike) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise _key_file_error(f"key file {path} is not a regular file; remove it or run reset-key")
    if st.st_size != KEY_BYTES:
        raise _key_file_error(
            f"key file {path} is corrupt ({st.st_size} bytes, expected {KEY_BYTES}); "
            "run 'telemetry reset-key' to make a new one"
        )


def read_key(path: PathLike, *, on_repair: Callable[[str], None] | None = None) -> bytes | None:
    """The key, None if there is none yet. Symlinks and wrong sizes are refused.

    With ``on_repair`` (a recorded run), a key other users may read (group or other
    permission bits set) is made 0600 and ``on_repair`` is told in one line; without
    it the file is left as it is (``key_permissions`` tells).
    """
    try:
        fd = os.open(path, os.O_RDONLY | NOFOLLOW | BINARY | _NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if os.path.islink(path):
            raise _key_file_error(f"key file {path} is a symlink; refusing to follow it") from None
        raise _key_file_error(f"key file {path} cannot be read ({exc.strerror})") from None
    try:
        st = os.fstat(fd)
        _check_key_stat(st, path)
        data = os.read(fd, KEY_BYTES + 1)
        if on_repair is not None and _loose(st.st_mode):
            try:
                os.fchmod(fd, 0o600)
            except OSError as exc:
                raise _key_file_error(
                    f"key file {path} is readable by other users (mode "
                    f"{stat.S_IMODE(st.st_mode):04o}) and cannot be made 0600 ({exc.strerror})"
                ) from None
            on_repair(
                f"key file {path} was readable by other users (mode "
                f"{stat.S_IMODE(st.st_mode):04o}); made it 0600 (run 'telemetry reset-key' "
                "if someone may have read it)"
            )
    finally:
        os.close(fd)
    if len(data) != KEY_BYTES:
        raise _key_file_error(f"key file {path} is corrupt; run 'telemetry reset-key'")
    return data


def _loose(mode: int) -> bool:
    return os.name == "posix" and bool(stat.S_IMODE(mode) & 0o077)


def key_permissions(path: PathLike) -> tuple[str, bool] | None:
    """The key file's mode (``"0600"``) and whether other users may read or change it;
    None when there is no key file."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return f"{stat.S_IMODE(st.st_mode):04o}", _loose(st.st_mode)


def load_or_create_key(path: PathLike, on_repair: Callable[[str], None] | None = None) -> bytes:
    """Read the key, creating it first if needed (``on_repair``: see ``read_key``).

    Creation is race-free: the key is written whole to a temp file and hard-linked into
    place, which fails if another process got there first; then everyone reads the same
    file. A kill at any instant leaves either no key or a whole one.
    """
    existing = read_key(path, on_repair=on_repair)
    if existing is not None:
        return existing
    # Written whole to a temp file, then hard-linked into place: if another process got
    # there first, its key stays and everyone reads the same file.
    with contextlib.suppress(FileExistsError), AtomicFile(os.fspath(path), replace=False) as out:
        out.write(os.urandom(KEY_BYTES))
    key = read_key(path)
    if key is None:
        raise _key_file_error(f"key file {path} vanished while being created")
    return key


def replace_key(path: PathLike) -> bytes:
    """Make a new key, atomically replacing any old (or corrupt) one.

    Whatever is in the key's place is replaced by name: a symlink's target, a FIFO's
    writer, a device are never touched. A directory is refused: it may hold someone's
    files, and it is not ours to remove.
    """
    try:
        st: os.stat_result | None = os.lstat(path)
    except FileNotFoundError:
        st = None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise _key_file_error(
            f"key file {path} is a directory; move it away, then run reset-key again"
        )
    # A rename: it replaces a symlink, never follows it.
    with AtomicFile(os.fspath(path), replace=True) as out:
        out.write(os.urandom(KEY_BYTES))
    key = read_key(path)
    assert key is not None
    return key
