"""The object a CLI author creates: ``Telemetry("mycli", version="1.2.3")``.

Every run of the host imports this module, ``--telemetry`` or not, so it imports nothing
but ``os``, ``sys`` and the naming rules of ``_contract`` (issue 14): the exceptions, the
store location and its limits, the environment checks and the recording machinery
(blake3, the store) are imported only where they are needed. ``NullBuild`` lives here
for the same reason: a host that calls ``telemetry.build()`` in a run that does not
record should not pay for a module.
"""

from __future__ import annotations

import os

# The naming rules every layer shares (store directories, the CLI's --app) live in
# the contract package itself (its __init__ imports nothing).
from ._contract import COMMAND, FLAG, is_app_name, is_version
from ._integration import configuration_error

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy knows it)
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from datetime import datetime
    from pathlib import Path
    from typing import IO, TypeVar

    from ._record.recorder import BuildRecorder, Run
    from ._store import Limits, StoreLocation

    T = TypeVar("T")

#: Flags that are click's or Typer's own options.
_RESERVED_FLAGS = frozenset({"--help", "--version", "--install-completion", "--show-completion"})
_WORD_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789-"


def is_command_word(text: object) -> bool:
    """A lower-case word of letters, digits and inner dashes, 1-32 characters:
    ``telemetry``, ``diagnostics``, ``lt-diag``."""
    return (
        isinstance(text, str)
        and 0 < len(text) <= 32
        and text[0].isalpha()
        and not text.strip(_WORD_CHARS)
        and not text.endswith("-")
        and "--" not in text
    )


def _utc_now() -> datetime:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc)


def _text(value: object) -> str:
    """str() that cannot raise (a broken __str__ must not hurt the host)."""
    try:
        return value if isinstance(value, str) else str(value)
    except Exception:
        return ""


class Telemetry:
    """Per-run, opt-in, local diagnostics for one CLI app.

    ``flag`` and ``command`` rename ``--telemetry`` and the ``telemetry`` command group
    for a host that already uses those names. ``messages=False`` never stores free
    text: every ``error_message`` is null.

    ``directory``, ``environ``, ``now``, ``stderr`` and ``identity`` exist for tests and
    embedding; the defaults read the real platform, environment, clock, stderr and the
    machine's identity (login, real name, host names, working directory: value -> kind,
    as ``localtelemetry._record.known.system_identity`` gives them) at run time.
    """

    def __init__(
        self,
        app_name: str,
        *,
        version: str,
        directory: str | os.PathLike[str] | None = None,
        environ: Mapping[str, str] | None = None,
        now: Callable[[], datetime] | None = None,
        limits: Limits | None = None,
        stderr: IO[str] | None = None,
        flag: str = FLAG,
        command: str = COMMAND,
        messages: bool = True,
        identity: Mapping[str, str] | None = None,
    ) -> None:
        if not is_app_name(app_name):
            raise configuration_error(
                f"app name {app_name!r} must be 1-64 letters, digits, '.', '_' or '-'"
            )
        if not is_version(version):
            raise configuration_error(f"version {version!r} is not a plain version string")
        if not (isinstance(flag, str) and flag[:2] == "--" and is_command_word(flag[2:])):
            raise configuration_error(
                f"flag {flag!r} must be a long option: '--' and a lower-case word "
                "(letters, digits, inner dashes), such as '--diagnostics'"
            )
        if flag in _RESERVED_FLAGS:
            raise configuration_error(f"flag {flag!r} is click's own option; choose another")
        if not is_command_word(command):
            raise configuration_error(
                f"command {command!r} must be a lower-case word (letters, digits, inner "
                "dashes), such as 'diagnostics'"
            )
        self.app_name = app_name
        self.version = version
        # A path as text: pathlib is imported only when a path object is asked for.
        self._directory = os.fspath(directory) if directory is not None else None
        self._environ = environ
        self._now = now or _utc_now
        self._limits = limits
        self._stderr = stderr
        self.flag = flag
        self.command = command
        self.messages = bool(messages)
        self._identity = identity
        self._run: Run | None = None
        # Called with (path, bytes) for each document a run writes (testing.record).
        self._observers: list[Callable[[Path, bytes], None]] = []

    # -- what the author's code asks ------------------------------------------------

    @property
    def environ(self) -> Mapping[str, str]:
        return os.environ if self._environ is None else self._environ

    @property
    def limits(self) -> Limits:
        """The retention limits (``Limits()``, the defaults, unless given)."""
        if self._limits is None:
            from ._store import Limits

            self._limits = Limits()
        return self._limits

    @limits.setter
    def limits(self, value: Limits) -> None:
        self._limits = value

    @property
    def location(self) -> StoreLocation:
        """Where this app's documents live (computing it creates nothing)."""
        from ._store import StoreLocation

        return StoreLocation(self.app_name, self._directory, self.environ)

    @property
    def enabled(self) -> bool:
        """True while a run that was given ``--telemetry`` (and not blocked) is recording."""
        run = self._run
        return run is not None and run.disabled_reason is None

    def install(self, app: T) -> T:
        """Add ``--telemetry`` and the ``telemetry`` command group to a Typer app or a
        Click command/group (or the ``flag`` and ``command`` names chosen instead).
        Returns ``app`` so it can be used inline.

        Raises ``ConfigurationError`` if the app already has an option of that name or a
        command of that name; the same check runs on the first run for commands
        registered after ``install``."""
        from ._integration import install

        install(self, app)
        return app

    def build(self, name: str) -> BuildRecorder | NullBuild:
        """A context manager that records one ``build`` document when it exits.

        When this run does not record, it returns an object whose methods do nothing.
        """
        run = self._run
        if run is None or run.disabled_reason is not None:
            return NullBuild()
        from ._record.recorder import BuildRecorder

        return BuildRecorder(run, name)

    def snapshot(
        self,
        name: str,
        *,
        counts: Mapping[str, int] | None = None,
        filters: Mapping[str, object] | None = None,
        fingerprint: str | bytes | None = None,
        duration_ms: float | None = None,
    ) -> None:
        """Record one ``snapshot`` document (no-op unless this run records)."""
        run = self._run
        if run is None or run.disabled_reason is not None:
            return
        from ._record.recorder import snapshot_payload

        try:
            counts_copy = dict(counts or {})
            filters_copy = dict(filters or {})
        except Exception:  # not mappings: tolerated like every other bad argument
            run.warn("snapshot() needs mappings for counts and filters; nothing recorded")
            return
        run.api_values.update(_text(v) for v in filters_copy.values())
        run.write(
            "snapshot",
            lambda safe: snapshot_payload(
                safe, name, counts_copy, filters_copy, fingerprint, duration_ms
            ),
        )

    # -- the run lifecycle (driven by the integration) ------------------------------

    def begin_run(self, requested: bool) -> Run | None:
        """Start recording if ``--telemetry`` was given and nothing blocks it."""
        self._run = None
        if not requested:
            return None
        environ = self.environ
        from ._record import off_reason

        blocker = off_reason(environ)
        if blocker is not None:
            self._say(f"{blocker}, so {self.flag} is ignored and nothing is recorded")
            return None
        try:
            from ._record.recorder import open_run

            run = open_run(
                self.location,
                self.limits,
                self._observers,
                app_name=self.app_name,
                app_version=self.version,
                environ=environ,
                now=self._now,
                stderr=self._stderr,
                messages=self.messages,
                identity=self._identity,
            )
        except Exception as exc:  # e.g. platformdirs cannot find a home: never hurt the host
            self._say(f"could not start recording ({exc}); the command itself was not affected")
            return None
        self._run = run
        return run

    def end_run(self, run: Run, exit_code: int) -> None:
        try:
            run.finish(exit_code)
        except BaseException as exc:
            run.warn(f"could not finish recording ({type(exc).__name__})")
        finally:
            self._run = None

    def _say(self, message: str) -> None:
        try:  # loaded only when there is something to say, and that can fail too
            from ._contract.exceptions import write_notice
        except Exception:
            return
        write_notice(self._stderr, self.app_name, message)

    def __repr__(self) -> str:
        return f"Telemetry({self.app_name!r}, version={self.version!r})"


# -- for the testing kit (``localtelemetry.testing``) ---------------------------------


def installed_telemetry(app: object) -> Telemetry | None:
    """The ``Telemetry`` installed on a Typer app or Click command, if any."""
    telemetry = getattr(app, "_localtelemetry", None)  # set by _integration.install
    return telemetry if isinstance(telemetry, Telemetry) else None


def add_observer(telemetry: Telemetry, observer: Callable[[Path, bytes], None]) -> None:
    """Call ``observer(path, data)`` for each document the app's runs write from now on."""
    telemetry._observers.append(observer)


def remove_observer(telemetry: Telemetry, observer: Callable[[Path, bytes], None]) -> None:
    telemetry._observers.remove(observer)


def store_is_pinned(telemetry: Telemetry) -> bool:
    """Whether the author fixed the store (``directory=`` or ``environ=``), so that
    ``LOCALTELEMETRY_DIR`` does not move it."""
    return telemetry._directory is not None or telemetry._environ is not None


# -- what build() gives a run that does not record -------------------------------------


class NullBuild:
    """What ``telemetry.build()`` returns when this run does not record: does nothing."""

    enabled = False
    status: str | None = None

    def __enter__(self) -> NullBuild:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def path(self, role: str, path: str | os.PathLike[str], *, output: bool = False) -> None:
        return None

    def output(self, role: str, path: str | os.PathLike[str]) -> None:
        return None

    def filter(self, name: str, value: object) -> None:
        return None

    def value(self, name: str, value: object) -> None:
        return None

    def count(self, name: str, n: int = 1) -> None:
        return None

    def cache_hit(self, n: int = 1) -> None:
        return None

    def cache_miss(self, n: int = 1) -> None:
        return None

    def warning(self, category: str, n: int = 1) -> None:
        return None

    def phase(self, name: str) -> NullBuild:
        # ``with b.phase(...) as p`` gives the build in both kinds of run (one class
        # fewer to create on every run: each costs the host about 70k instructions).
        return self
