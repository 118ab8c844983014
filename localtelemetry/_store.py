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
import os
import re
import stat
from collections.abc import Callable, Mapping
from pathlib import Path

from ._exceptions import DocumentError, StoreError, UnsafeStoreError
from ._ids import ID_PATTERN, id_time_ms

KINDS = ("cli-command", "build", "snapshot", "run-summary")
DOCUMENT_NAME_RE = re.compile(rf"^({'|'.join(KINDS)})-({ID_PATTERN})\.json$")
TEMP_PREFIX = ".tmp-"
TEMP_NAME_RE = re.compile(r"^\.tmp-(\d+)-[0-9a-f]{16}\.partial$")
KEY_FILE_NAME = ".hashkey"

#: Largest document the reader accepts; ours are a few KB.
MAX_DOCUMENT_BYTES = 1024 * 1024
#: A temp file whose writer is gone, or older than this, is stale.
STALE_TEMP_SECONDS = 15 * 60
#: Documents this new are "just written" for the clock-jump guard in ``prune``.
RECENT_MS = 10 * 60 * 1000

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_BINARY = getattr(os, "O_BINARY", 0)


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
        import platformdirs  # only needed when nothing relocates the store

        return Path(platformdirs.user_state_path(self.app_name)) / "telemetry"

    @property
    def key_path(self) -> Path:
        return self.directory / KEY_FILE_NAME

    def document_path(self, kind: str, id_: str) -> Path:
        return self.directory / f"{kind}-{id_}.json"


class DocumentEntry:
    """A file in the store whose name says it is one of our documents."""

    __slots__ = ("id", "kind", "path", "size")

    def __init__(self, kind: str, id: str, path: Path, size: int) -> None:
        self.kind = kind
        self.id = id
        self.path = path
        self.size = size

    def __repr__(self) -> str:
        return f"DocumentEntry({self.kind!r}, {self.id!r}, size={self.size})"

    @property
    def created_ms(self) -> int:
        return id_time_ms(self.id)


def _is_ours(name: str) -> re.Match[str] | None:
    return DOCUMENT_NAME_RE.match(name)


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

    @property
    def directory(self) -> Path:
        return self.location.directory

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
        return path

    # -- writing --------------------------------------------------------------------

    def write_bytes(self, kind: str, id_: str, data: bytes) -> Path:
        """Atomically create ``<kind>-<id>.json`` with mode 0600.

        The bytes go to a uniquely named temp file first and are renamed into place, so
        a reader (or a process killed mid-write) never sees a partial document.
        """
        directory = self.ensure_directory()
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
        return final

    # -- listing and reading ----------------------------------------------------------

    def entries(self, *, kinds: frozenset[str] | None = None) -> list[DocumentEntry]:
        """Our documents, oldest first. Foreign files are ignored (and never touched)."""
        directory = self.existing_directory()
        if directory is None:
            return []
        found: list[DocumentEntry] = []
        with os.scandir(directory) as it:
            for entry in it:
                match = _is_ours(entry.name)
                if match is None or (kinds is not None and match.group(1) not in kinds):
                    continue
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue  # vanished (pruned by a concurrent run)
                if not stat.S_ISREG(st.st_mode):
                    continue
                found.append(
                    DocumentEntry(match.group(1), match.group(2), Path(entry.path), st.st_size)
                )
        found.sort(key=lambda e: (e.id, e.kind))
        return found

    def foreign_files(self) -> list[str]:
        """Names in the store that are neither documents, temp files nor the key."""
        directory = self.existing_directory()
        if directory is None:
            return []
        names = []
        with os.scandir(directory) as it:
            for entry in it:
                name = entry.name
                if _is_ours(name) or TEMP_NAME_RE.match(name) or name == KEY_FILE_NAME:
                    continue
                names.append(name)
        return sorted(names)

    def find(self, ref: str) -> DocumentEntry:
        """A document by full id, unique id prefix (4+ chars) or file name."""
        ref = ref.strip()
        name_match = _is_ours(Path(ref).name)
        if name_match:
            ref = name_match.group(2)
        ref = ref.lower()
        if len(ref) < 4:
            raise DocumentError(f"document id {ref!r} is too short; give at least 4 characters")
        matches = [e for e in self.entries() if e.id.startswith(ref)]
        if not matches:
            raise DocumentError(f"no document with id {ref!r}; 'list' shows the ids")
        if len(matches) > 1:
            raise DocumentError(f"id prefix {ref!r} is ambiguous ({len(matches)} documents)")
        return matches[0]

    # -- maintenance ----------------------------------------------------------------

    def prune(self, now_ms: int) -> int:
        """Apply the retention limits; oldest documents go first. Returns how many went.

        Two guards against a wrong clock: documents dated more than a day ahead go first
        (else they would outlive real ones forever), and age pruning is skipped when it
        would remove every document but the ones just written, which is what a clock
        jumped far ahead looks like (count and size limits still apply).
        """
        entries = self.entries()
        limits = self.limits
        day = 86_400_000
        cutoff = now_ms - int(limits.max_age_days * day)
        future = [e for e in entries if e.created_ms > now_ms + day]
        present = [e for e in entries if e.created_ms <= now_ms + day]
        aged = [e for e in present if e.created_ms < cutoff]
        older = [e for e in present if e.created_ms < now_ms - RECENT_MS]
        if aged and len(aged) == len(older):
            aged = []
        aged_ids = {id(e) for e in aged}
        doomed = future + aged
        kept = [e for e in present if id(e) not in aged_ids]
        total = sum(e.size for e in kept)
        excess = max(0, len(kept) - limits.max_documents)
        i = 0
        while i < len(kept) and (excess > 0 or total > limits.max_bytes):
            doomed.append(kept[i])
            total -= kept[i].size
            excess -= 1
            i += 1
        return self.delete(doomed)

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
        removed = 0
        with os.scandir(directory) as it:
            for entry in it:
                match = TEMP_NAME_RE.match(entry.name)
                if match is None:
                    continue
                pid = int(match.group(1))
                try:
                    age = now_s - entry.stat(follow_symlinks=False).st_mtime
                except OSError:
                    continue
                if pid != os.getpid() and (age > STALE_TEMP_SECONDS or not _pid_alive(pid)):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(entry.path)
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
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _BINARY)
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
