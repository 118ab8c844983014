"""Names and places: where an app's documents live, what their files are called, and
the retention limits.

Nothing here touches the disk: ``StoreLocation`` only computes paths. A recording run
imports this module (a run without ``--telemetry`` does not), so it stays small; the
I/O lives in ``_store`` (writing, the cheap retention check), ``_listing`` (reading the
directory and documents) and ``_retention`` (pruning), which load only when needed.
Paths are computed as text: ``pathlib`` (with ``urllib.parse``, ``ipaddress``,
``fnmatch`` and ``ntpath``, which it imports) costs a host that does not import it
itself about 4 ms, so ``Path`` objects are made only when one is asked for.
"""

from __future__ import annotations

import os
import posixpath
import sys

from ._ids import ID_CHARS, ID_PATTERN
from ._limits import MAX_DOCUMENT_BYTES as MAX_DOCUMENT_BYTES  # the largest document read

KINDS = ("cli-command", "build", "snapshot", "run-summary")
DOCUMENT_NAME_PATTERN = rf"^({'|'.join(KINDS)})-({ID_PATTERN})\.json$"
TEMP_PREFIX = ".tmp-"
TEMP_NAME_PATTERN = r"^\.tmp-(\d+)-[0-9a-f]{16}\.partial$"
KEY_FILE_NAME = ".hashkey"
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

    def _env_base(self) -> str | None:
        environ = os.environ if self.environ is None else self.environ
        value = environ.get("LOCALTELEMETRY_DIR", "").strip()
        return value or None

    @property
    def dirname(self) -> str:
        """The store directory as text, spelled as ``str(directory)`` spells it."""
        if self.base is not None:
            return pure_path(os.fspath(self.base), self.app_name)
        env_base = self._env_base()
        if env_base:
            return pure_path(os.path.expanduser(env_base), self.app_name)
        return pure_path(_user_state_dir(self.app_name), "telemetry")

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

    def document_path(self, kind: str, id_: str) -> Path:
        return self.directory / f"{kind}-{id_}.json"


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


def _user_state_path(app_name: str) -> Path:
    """``platformdirs.user_state_path(app_name)`` (``_user_state_dir``, as a Path)."""
    from pathlib import Path

    return Path(_user_state_dir(app_name))


def _user_state_dir(app_name: str) -> str:
    """``str(platformdirs.user_state_path(app_name))``.

    On Linux, when ``$XDG_STATE_HOME`` or ``$HOME`` is an absolute path, the answer is
    plain string work, done here: importing platformdirs costs a few milliseconds of
    every recorded run. Anything else (macOS, Windows, relative or missing variables)
    asks platformdirs itself. ``tests/test_store.py`` checks the two agree.
    """
    if sys.platform.startswith("linux"):
        xdg = os.environ.get("XDG_STATE_HOME", "")
        if posixpath.isabs(xdg):
            return pure_path(xdg, app_name)
        home = os.environ.get("HOME", "")
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
