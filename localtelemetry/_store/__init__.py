"""The store: where documents live.

Owns the store's location (pure paths, nothing created until a document is written),
atomic writing, listing and retention. May import ``_contract`` only.

The package's own module is the location (one module fewer on a recording run's path):
names and places: where an app's documents live, what their files are called, and
the retention limits.

``StoreLocation`` only computes paths and creates nothing. A recording run imports this
package (a run without ``--telemetry`` only when the host builds ``Limits``), so it stays
small; the I/O lives in ``store`` (writing, the cheap retention check), ``listing``
(reading the directory and documents) and ``retention`` (pruning), which load only when
needed. The one primitive they all share lives here, beside the temp-file names it
makes: ``AtomicFile``, the write-then-rename every file of ours goes through (documents,
the retention state, the key, and ``outfile``'s bundles and reports).
Paths are computed as text: ``pathlib`` (with ``urllib.parse``, ``ipaddress``,
``fnmatch`` and ``ntpath``, which it imports) costs a host that does not import it
itself about 4 ms, so ``Path`` objects are made only when one is asked for.
"""

from __future__ import annotations

import os
import posixpath
import sys

from localtelemetry._contract import ID_CHARS, ID_PATTERN
from localtelemetry._contract import (
    KINDS as KINDS,  # with the other things every layer agrees on
)
from localtelemetry._contract import (
    MAX_DOCUMENT_BYTES as MAX_DOCUMENT_BYTES,  # the largest document read
)

DOCUMENT_NAME_PATTERN = rf"^({'|'.join(KINDS)})-({ID_PATTERN})\.json$"
TEMP_PREFIX = ".tmp-"
TEMP_NAME_PATTERN = r"^\.tmp-(\d+)-[0-9a-f]{16}\.partial$"
KEY_FILE_NAME = ".hashkey"
KEY_BYTES = 32  # the install key: 32 random bytes
#: Retention bookkeeping (see ``Store.apply_retention``); both are ours, never foreign.
STATE_NAME = ".retention"
JOURNAL_NAME = ".retention-log"
OWN_FILES = frozenset({KEY_FILE_NAME, STATE_NAME, JOURNAL_NAME})

NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
BINARY = getattr(os, "O_BINARY", 0)


TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy knows it)
if TYPE_CHECKING:
    import re
    from collections.abc import Mapping
    from pathlib import Path
    from typing import BinaryIO


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
        if max_documents < 1 or max_bytes < 1 or not max_age_days > 0:  # NaN too
            from localtelemetry._contract.exceptions import (
                ConfigurationError,  # loaded only for a wrong limit
            )

            raise ConfigurationError(
                "retention limits must be positive: got "
                f"max_documents={max_documents!r}, max_bytes={max_bytes!r}, "
                f"max_age_days={max_age_days!r}"
            )
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
    Every variable (``LOCALTELEMETRY_DIR``, ``XDG_STATE_HOME``, ``HOME`` for ``~``) is
    read from ``environ`` when one is given, else from ``os.environ``.
    """

    __slots__ = ("app_name", "base", "environ")

    def __init__(
        self,
        app_name: str,
        base: str | os.PathLike[str] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.app_name = app_name
        self.base = base
        self.environ = environ

    def __repr__(self) -> str:
        return f"StoreLocation({self.app_name!r}, directory={self.dirname!r})"

    def __str__(self) -> str:
        """The store directory: ``print(telemetry.location)`` shows where documents go."""
        return self.dirname

    @property
    def relocated_by(self) -> str | None:
        if self.base is not None:
            return "directory"
        if self._env_base():
            return "LOCALTELEMETRY_DIR"
        return None

    def _env(self) -> Mapping[str, str]:
        return os.environ if self.environ is None else self.environ

    def _env_base(self) -> str | None:
        value = self._env().get("LOCALTELEMETRY_DIR", "").strip()
        return value or None

    @property
    def dirname(self) -> str:
        """The store directory as text, spelled as ``str(directory)`` spells it."""
        if self.base is not None:
            return pure_path(os.fspath(self.base), self.app_name)
        env_base = self._env_base()
        if env_base:
            return pure_path(_expand_user(env_base, self._env()), self.app_name)
        return pure_path(_user_state_dir(self.app_name, self._env()), "telemetry")

    @property
    def directory(self) -> Path:
        from pathlib import Path

        return Path(self.dirname)

    @property
    def key_file(self) -> str:
        """``key_path`` as text."""
        return os.path.join(self.dirname, KEY_FILE_NAME)

    @property
    def key_path(self) -> Path:
        return self.directory / KEY_FILE_NAME


def pure_path(*parts: str) -> str:
    """``str(pathlib.Path(*parts))`` without importing pathlib (on POSIX): the parts
    joined, then repeated separators and ``.`` components dropped (``..`` is kept)."""
    if os.name != "posix":
        from pathlib import Path

        return str(Path(*parts))
    joined = posixpath.join(*parts)
    if not joined:
        return "."
    root = "/" if joined.startswith("/") else ""
    if joined.startswith("//") and not joined.startswith("///"):
        root = "//"  # POSIX leaves the meaning of exactly two leading slashes open
    names = [name for name in joined.split("/") if name and name != "."]
    return root + "/".join(names) or "."


def stores_base(environ: Mapping[str, str] | None = None) -> Path:
    """The directory that holds every app's store, one sub-directory per app:
    ``LOCALTELEMETRY_DIR``, or else the platform's user state directory (where the
    store of app NAME is ``NAME/telemetry``, on Windows ``NAME/NAME/telemetry``)."""
    from pathlib import Path

    probe = "localtelemetry-probe"
    parts = StoreLocation(probe, environ=environ).directory.parts
    return Path(*parts[: parts.index(probe)])


def _expand_user(path: str, environ: Mapping[str, str]) -> str:
    """``os.path.expanduser`` with ``environ``'s home (``HOME``, on Windows also
    ``USERPROFILE``); the system's answer only when ``environ`` names none."""
    if path == "~" or path.startswith(("~/", "~" + os.sep)):
        home = environ.get("HOME") or (environ.get("USERPROFILE") if os.name == "nt" else None)
        if home:
            return home + path[1:]
    return os.path.expanduser(path)


def _user_state_dir(app_name: str, environ: Mapping[str, str]) -> str:
    """``str(platformdirs.user_state_path(app_name))``, for ``environ``.

    On Linux, when ``$XDG_STATE_HOME`` or ``$HOME`` is an absolute path, the answer is
    plain string work, done here: importing platformdirs costs a few milliseconds of
    every recorded run, and platformdirs reads ``os.environ``, not an injected one.
    Anything else (macOS, Windows, relative or missing variables) asks platformdirs
    itself. ``tests/test_store_listing.py`` checks the two agree.
    """
    if sys.platform.startswith("linux"):
        xdg = environ.get("XDG_STATE_HOME", "")
        if posixpath.isabs(xdg):
            return pure_path(xdg, app_name)
        home = environ.get("HOME", "")
        if not xdg.strip() and posixpath.isabs(home):
            return pure_path(home, ".local", "state", app_name)
    import platformdirs

    return str(platformdirs.user_state_path(app_name))


_COMPILED: dict[str, re.Pattern[str]] = {}


def name_regex(name: str) -> re.Pattern[str]:
    """DOCUMENT_NAME_RE and TEMP_NAME_RE, compiled on first use: every host process
    imports this module, and compiling them cost each of its runs a third of a ms."""
    compiled = _COMPILED.get(name)
    if compiled is None:
        import re

        pattern = DOCUMENT_NAME_PATTERN if name == "DOCUMENT_NAME_RE" else TEMP_NAME_PATTERN
        compiled = _COMPILED[name] = re.compile(pattern)
    return compiled


if TYPE_CHECKING:  # at run time, __getattr__ below compiles them on first use
    DOCUMENT_NAME_RE: re.Pattern[str]
    TEMP_NAME_RE: re.Pattern[str]


def __getattr__(name: str) -> re.Pattern[str]:
    if name in ("DOCUMENT_NAME_RE", "TEMP_NAME_RE"):
        return name_regex(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


KIND_OF = {kind: kind for kind in KINDS}


def document_name(name: str) -> tuple[str, str] | None:
    """(kind, id) when ``name`` is ``<kind>-<id>.json``: what DOCUMENT_NAME_RE accepts,
    checked with string operations (a regex match per file is slow at 100k files)."""
    kind = KIND_OF.get(name[:-32])
    if kind is None or name[-32] != "-" or not name.endswith(".json"):
        return None
    id_ = name[-31:-5]
    return (kind, id_) if not id_.strip(ID_CHARS) else None


# -- writing a file whole ----------------------------------------------------------------


def temp_name() -> str:
    """A fresh name for a temp file in a store directory: what TEMP_NAME_RE matches, so
    the retention pass removes it once its writer (the pid in the name) is gone."""
    return f"{TEMP_PREFIX}{os.getpid()}-{os.urandom(8).hex()}.partial"


class AtomicFile:
    """Write a file whole or not at all: ``with AtomicFile(final, ...) as f: f.write(data)``
    (or ``f.stream()`` for a buffered file object to write through).

    The bytes go to a new temp file beside ``final`` (``O_EXCL``, ``O_NOFOLLOW``, created
    with ``mode``), which takes ``final``'s name only when the block finished without an
    exception: with ``replace`` by rename (an existing file, or a symlink, is replaced,
    never followed), else by a hard link that raises ``FileExistsError`` when the name
    exists, so nothing is ever overwritten. Where hard links are not available the
    rename is used after checking that the name is free. The temp file is gone
    afterwards, whatever happened. ``temp`` names it (default: ``temp_name()`` in
    ``final``'s directory). Nothing is fsynced: a crash may lose the file, never leave
    half of it under its name.
    """

    __slots__ = ("_fd", "_file", "final", "mode", "replace", "temp")

    def __init__(
        self, final: str, *, replace: bool, mode: int = 0o600, temp: str | None = None
    ) -> None:
        self.final = final
        self.replace = replace
        self.mode = mode
        self.temp = temp if temp is not None else os.path.join(os.path.dirname(final), temp_name())
        self._fd = -1
        self._file: BinaryIO | None = None

    def __enter__(self) -> AtomicFile:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW | BINARY
        self._fd = os.open(self.temp, flags, self.mode)
        return self

    def write(self, data: bytes) -> None:
        """Write all of ``data`` (unbuffered: one system call for a small document)."""
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            if written <= 0:
                raise OSError(5, "short write", self.temp)  # EIO; never loop forever
            view = view[written:]

    def stream(self, buffering: int = -1) -> BinaryIO:
        """The temp file as a buffered binary file, for writing much in small pieces."""
        if self._file is None:
            self._file = os.fdopen(self._fd, "wb", buffering=buffering)
        return self._file

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        renamed = False
        try:
            if self._file is not None:
                self._file.close()  # flushes: a full disk raises here, before the rename
            else:
                os.close(self._fd)
            if exc_type is None:
                renamed = self._commit()
        finally:
            if not renamed:
                self._discard()

    def _commit(self) -> bool:
        """Give the temp file its final name; True when it was renamed (not linked)."""
        if self.replace:
            os.replace(self.temp, self.final)
            return True
        try:
            os.link(self.temp, self.final)
        except (AttributeError, NotImplementedError, PermissionError):
            # No hard links on this file system: rename, if the name is still free.
            if os.path.lexists(self.final):
                raise FileExistsError(self.final) from None
            os.replace(self.temp, self.final)
            return True
        return False

    def _discard(self) -> None:
        try:  # noqa: SIM105 - contextlib is not imported here (host start-up)
            os.unlink(self.temp)
        except OSError:
            pass  # a later run removes it once this process is gone


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` may still run (the writer named in a temp file's name)."""
    if os.name != "posix":
        return True  # no cheap check: rely on age
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # PermissionError: alive, someone else's
    return True
