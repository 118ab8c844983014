"""Keyed BLAKE3 hashing of everything that came from the user or the environment.

The key is 32 random bytes per install (per app store), created on the first recorded
run in a 0600 file next to the documents and never written into any document: documents
carry only ``key_id``, a keyed hash of a constant. Without the key a hash cannot be
reversed by trying a dictionary of likely paths or values.

Domains keep kinds of input apart: the same string hashed as a path and as a value
gives different hashes, while the same path always gives the same hash, whether it
arrives through ``b.path()`` or inside an error message.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import stat

import blake3

from localtelemetry._contract import EXTENSION_PATTERN as _EXTENSION
from localtelemetry._contract import MAX_EXTENSION_CHARS
from localtelemetry._store import BINARY, NOFOLLOW, AtomicFile

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy knows it)
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from types import ModuleType

    from localtelemetry._contract.exceptions import KeyFileError

    #: Key files are named by text on the recording path (no pathlib) and by ``Path``
    #: in the management commands.
    PathLike = str | os.PathLike[str]

KEY_BYTES = 32
HASH_BYTES = 16  # 128-bit hashes: 32 hex characters
HASH_PATTERN = r"^[0-9a-f]{32}(?![\s\S])"  # as in the schemas: no final newline
ALGORITHM = "blake3-keyed-128"
EXTENSION_PATTERN = rf"^{_EXTENSION}$"
_EXTENSION_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"

# Opening a FIFO for reading blocks until a writer appears: a FIFO planted where the key
# should be would hang every recorded run. Non-blocking, the open returns at once and
# the file-type check refuses it. (No effect on regular files.)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


def _key_file_error(message: str) -> KeyFileError:
    # The exceptions module loads only when one is raised: a recorded run that goes
    # well never needs it (issue 14: its ten classes cost about 0.3 ms to create).
    from localtelemetry._contract.exceptions import KeyFileError

    return KeyFileError(message)


def _path_module(windows: bool) -> ModuleType:
    """ntpath for Windows paths (tests hash them on any system), else posixpath: ntpath
    is imported only when needed (a Click host does not import it otherwise)."""
    if windows:
        import ntpath

        return ntpath
    return posixpath


def is_extension(text: str) -> bool:
    """Whether ``text`` fully matches EXTENSION_PATTERN (no regex compiled per run)."""
    return (
        2 <= len(text) <= MAX_EXTENSION_CHARS + 1
        and text[0] == "."
        and not text[1:].strip(_EXTENSION_CHARS)
    )


class Hasher:
    """Hashes strings and paths with one install key."""

    __slots__ = ("_home", "_key", "_windows", "key_id")

    def __init__(self, key: bytes, *, home: str | None = None, windows: bool | None = None):
        if len(key) != KEY_BYTES:
            raise _key_file_error(f"hashing key must be {KEY_BYTES} bytes, got {len(key)}")
        self._key = key
        self._windows = os.name == "nt" if windows is None else windows
        self._home = self._normalize(home) if home else None
        self.key_id = blake3.blake3(b"localtelemetry key id", key=key).hexdigest(length=8)

    def _digest(self, domain: bytes, data: str) -> str:
        raw = data.encode("utf-8", "surrogatepass")
        return blake3.blake3(domain + b"\0" + raw, key=self._key).hexdigest(length=HASH_BYTES)

    def value(self, data: str) -> str:
        """Hash a string value (filter, argument, name given by the user)."""
        return self._digest(b"value", data)

    def fingerprint(self, data: str | bytes) -> str:
        """Hash content the app wants to compare across runs without revealing it."""
        if isinstance(data, str):
            return self._digest(b"fingerprint", data)
        return blake3.blake3(b"fingerprint\0" + data, key=self._key).hexdigest(length=HASH_BYTES)

    def _normalize(self, path: str) -> str:
        if self._windows:
            import ntpath  # only for Windows paths (tests hash them on any system)

            return ntpath.normcase(ntpath.normpath(path))
        return posixpath.normpath(path) if path else path

    def path_hash(self, path: str) -> str:
        """Hash of the normalized path (used for descriptors and for paths in free text)."""
        return self._digest(b"path", self._normalize(path))

    def path_descriptor(self, path: str | os.PathLike[str]) -> dict[str, object]:
        """Hash + extension + absolute/under-home flags. Never the name."""
        text = os.fspath(path)
        normalized = self._normalize(text)
        module = _path_module(self._windows)
        is_absolute = module.isabs(normalized)
        under_home = False
        if self._home:
            expanded = normalized
            if text.startswith("~"):
                expanded = self._normalize(self._home + text[1:])
            sep = "\\" if self._windows else "/"
            under_home = expanded == self._home or expanded.startswith(self._home.rstrip(sep) + sep)
        ext = module.splitext(module.basename(normalized))[1].lower()
        return {
            "hash": self._digest(b"path", normalized),
            "extension": ext if is_extension(ext) else None,
            "is_absolute": is_absolute,
            "under_home": under_home,
        }


def home_directory(environ: Mapping[str, str]) -> str | None:
    return environ.get("HOME") or environ.get("USERPROFILE") or None


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
