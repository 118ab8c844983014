"""``localtelemetry run [--telemetry] [--app NAME] [--keep-word WORD]... -- CMD [ARGS...]``:
run any program as a transparent wrapper, like ``time``, and with ``--telemetry`` record it.

Transparency comes first. The child inherits stdin, stdout, stderr and every other
inherited file descriptor (no pipes, so no buffering, and TTY detection and colours
behave as without the wrapper); the wrapper's exit code is the child's, or 128+N when
the child died from signal N. While the child runs, SIGTERM and SIGHUP sent to the
wrapper are forwarded to it. SIGINT and SIGQUIT are forwarded too, except when they
most likely came from the keyboard: the terminal sends those to its whole foreground
process group, so the child already has its own copy and a forwarded one would make it
see two (many programs treat a second Ctrl-C as "abort now").

Recording reuses the core recorder (``Run.write``), so keyed hashing, scrubbing, the
atomic store and retention all apply. Nothing of the command line is kept in clear
unless it is safe by construction: the program's name only when it was found on
``PATH`` (else the store is ``run-`` and a keyed hash of the program's path), option
names and the subcommand only when they are plain lowercase words (``is_plain_word``)
or words the user declared with ``--keep-word``; every value and every other word is a
keyed hash or a path descriptor (see ``describe_arguments``).

``localtelemetry run -- true`` is a whole process that a user waits for, so this module
imports only what an unrecorded run needs (issue 14): no ``typing``, ``dataclasses``,
``re``, ``contextlib`` or ``subprocess`` (the child is started with ``posix_spawnp``
where there is one), and the C half of ``signal`` (the enum classes of ``signal.py``
cost 4 ms to create). The recorder loads only after the child ended, when recording.
"""

from __future__ import annotations

import os
import sys
import time

from localtelemetry._contract import (
    MAX_ITEMS as MAX_ENTRIES,  # what a parameter entry keeps at most
)
from localtelemetry._contract import is_app_name
from localtelemetry._contract.exceptions import ProgramNotExecutable, ProgramNotFound, UsageError
from localtelemetry._contract.exceptions import write_notice as _say

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy knows it)
if TYPE_CHECKING:
    import signal
else:
    try:  # signal without building its enum classes: handlers and numbers are plain ints
        import _signal as signal
    except ImportError:  # not CPython
        import signal
if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Sequence
    from resource import struct_rusage as Rusage
    from types import FrameType
    from typing import IO, Any

    from localtelemetry._record.documents import SafeValues
    from localtelemetry._record.recorder import Run

    _Handler = Callable[[int, FrameType | None], Any] | int | None

#: A program's version is unknown to the wrapper; this satisfies the app-version pattern
#: and says so plainly.
UNKNOWN_VERSION = "unknown"
_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
#: The longest word ``--keep-word`` accepts.
KEEP_WORD_MAX = 40
#: The longest plain word kept in clear.
PLAIN_WORD_MAX = 32
#: Programs not found on PATH record into ``run-<hash>``; the key for that hash lives in
#: the (otherwise empty) store of this name.
NAMING_STORE = "localtelemetry-run"
_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz")
_VOWELS = frozenset("aeiouy")
ARGUMENT = "argument"
OPTION_VALUE = "option-value"

#: Signals forwarded to the child. The keyboard ones only when the child cannot have
#: received them from the terminal itself (see ``_Forwarder``). None on Windows: the
#: console sends Ctrl-C to every process attached to it, and os.kill there would
#: terminate the child instead of signalling it.
_FORWARDED = tuple(
    getattr(signal, name)
    for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT")
    if hasattr(signal, name) and os.name == "posix"
)
_KEYBOARD = frozenset(
    getattr(signal, name) for name in ("SIGINT", "SIGQUIT") if hasattr(signal, name)
)


# -- what the command line says, before hashing ---------------------------------------


def is_keep_word(word: str) -> bool:
    """What ``--keep-word`` accepts: a word the schema can hold as a name and as a flag,
    ``^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$`` (checked without compiling a regex)."""
    return 0 < len(word) <= KEEP_WORD_MAX and word[0] in _ALNUM and not word.strip(_ALNUM + "_-")


def is_flag_name(name: str) -> bool:
    """The shape the cli-command schema allows for a flag,
    ``^--?[A-Za-z0-9][A-Za-z0-9_-]{0,63}$``."""
    body = name[2:] if name.startswith("--") else name[1:] if name.startswith("-") else ""
    return 0 < len(body) <= 64 and body[0] in _ALNUM and not body.strip(_ALNUM + "_-")


class Arguments:
    """The child's arguments, classified. Raw values live here only in memory."""

    __slots__ = ("flags", "keep", "subcommand", "values")

    def __init__(self, keep: frozenset[str] = frozenset()) -> None:
        self.subcommand: str | None = None
        self.flags: list[str] = []
        #: (parameter name, "string" or "path", raw value) in command-line order.
        self.values: list[tuple[str, str, str]] = []
        #: Words the user declared with --keep-word: kept as they are.
        self.keep = keep


def is_plain_word(word: str, keep: Collection[str] = ()) -> bool:
    """Whether a subcommand or option name may be kept in clear: a word the user
    declared (``keep``), or 1-32 lowercase letters ``a-z`` in parts joined by single
    hyphens, none of them with five consonants in a row (``y`` counts as a vowel), so
    not a random string. Digits make a word data (``build-host-03``)."""
    if word in keep:
        return bool(word)
    if not 0 < len(word) <= PLAIN_WORD_MAX:
        return False
    for part in word.split("-"):
        if not part or not all(c in _LOWER for c in part):
            return False
        run = 0
        for c in part:
            run = 0 if c in _VOWELS else run + 1
            if run >= 5:
                return False
    return True


def _is_kept_flag(name: str, keep: Collection[str]) -> bool:
    """``-x`` (one ASCII letter) or ``--word`` / ``-word`` with a plain word."""
    body = name.lstrip("-")
    if len(body) == 1:
        return body.isascii() and body.isalpha()
    return is_flag_name(name) and is_plain_word(body, keep)


def looks_like_path(value: str) -> bool:
    """A path needs no file-system access to be recognised: a separator, or a leading
    ``.`` (``./x``, ``..``, ``.env``) or ``~``. Checking the disk would make the record
    depend on the working directory and cost time."""
    return (
        "/" in value
        or os.sep in value
        or (os.altsep is not None and os.altsep in value)
        or value.startswith((".", "~"))
    )


def _value(name: str, raw: str) -> tuple[str, str, str]:
    return (name, "path" if looks_like_path(raw) else "string", raw)


def describe_arguments(
    args: Sequence[str], *, keep: Collection[str] = (), identity: Collection[str] = ()
) -> Arguments:
    """Split the child's arguments into a subcommand, option names and values.

    - ``--name=value`` records ``--name`` when ``name`` is a plain word
      (``is_plain_word``, or declared in ``keep``); ``value`` is an ``option-value``.
    - ``-x`` (one letter) records ``-x``. A longer single-dash word (``-la``,
      ``-pSECRET``) records only its first letter: the rest may be an attached value
      (mysql's ``-pPASSWORD``) and is stored as a hashed ``option-value``.
    - An option whose name is not a plain word (``--ghp_...``, ``--User``, ``--http2``)
      is an ``argument``, hashed whole: it may be data.
    - ``-5`` and ``-`` are values, not options; after ``--`` everything is a value.
    - The first non-option argument is the subcommand when it is a plain word, is not
      one of the user's or the machine's own names (``identity``, lower case), comes
      before any ``--`` and does not directly follow an option given without ``=`` (in
      ``-u alice`` or ``--config prod`` the word may be the option's value). Otherwise
      there is none.
    - Every other argument is an ``argument``: a path descriptor when it looks like a
      path, else a keyed hash.
    """
    result = Arguments(keep=frozenset(keep))
    options_done = False
    positional_seen = False
    after_bare_option = False
    for arg in args:
        if not options_done and arg == "--":
            options_done = True
            after_bare_option = False
            continue
        is_option = (
            not options_done and arg.startswith("-") and len(arg) > 1 and not arg[1].isdigit()
        )
        if not is_option:
            if not positional_seen:
                positional_seen = True
                # After the child's own '--' a word is data by definition.
                if (
                    not options_done
                    and not after_bare_option
                    and is_plain_word(arg, keep)
                    and arg.lower() not in identity
                ):
                    result.subcommand = arg
                    continue
            result.values.append(_value(ARGUMENT, arg))
            after_bare_option = False
            continue
        if arg.startswith("--"):
            name, eq, rest = arg.partition("=")
            attached = rest if eq else None
        else:
            name, attached = arg[:2], arg[2:] or None
            if attached is not None and attached.startswith("="):
                attached = attached[1:]
            word, eq, rest = arg.partition("=")
            if attached is not None and word[1:] in keep:  # -Werror, declared whole
                name, attached = word, (rest if eq else None)
        if not _is_kept_flag(name, keep):
            # Not an option name we can keep (odd characters): it may be data, so hash it.
            result.values.append(_value(ARGUMENT, arg))
            after_bare_option = False
            continue
        if name not in result.flags:
            result.flags.append(name)
        if attached is not None:
            result.values.append(_value(OPTION_VALUE, attached))
        after_bare_option = attached is None
    return result


def default_app_name(
    program: str, *, which: Callable[[str], str | None] | None = None
) -> str | None:
    """The program's base name (``.exe`` dropped) when the program was found on
    ``PATH`` and the name is a valid app name: an installed program's name is public.
    A program given as a path counts only when ``PATH`` finds that same file.
    None otherwise: a personal script's name may say more than it should."""
    if which is None:
        which = _which
    base = os.path.basename(program.rstrip("/" + os.sep))
    name = base[:-4] if os.name == "nt" and base.lower().endswith(".exe") else base
    if not is_app_name(name):
        return None
    found = which(base)
    if found is None:
        return None
    if base != program:
        try:
            if not os.path.samefile(found, program):
                return None
        except OSError:
            return None
    return name


def _which(name: str) -> str | None:
    """``shutil.which(name)`` for a bare program name (importing shutil costs a recorded
    `localtelemetry run` 6 ms): the first executable file of that name on ``PATH``, or
    ``os.confstr("CS_PATH")`` when ``PATH`` is unset, as shutil does (the tests compare
    the two). Elsewhere than POSIX, and for names with a directory, shutil decides."""
    if os.name != "posix" or os.path.dirname(name):
        import shutil

        return shutil.which(name)
    path = os.environ.get("PATH")
    if path is None:
        try:
            path = os.confstr("CS_PATH")
        except (AttributeError, ValueError):
            path = os.defpath
    if not path:
        return None  # PATH='' finds nothing; PATH=':' looks in the current directory
    seen = set()
    for directory in path.split(os.pathsep):
        if directory in seen:
            continue
        seen.add(directory)
        candidate = os.path.join(directory, name)
        if (
            os.path.exists(candidate)
            and os.access(candidate, os.F_OK | os.X_OK)
            and not os.path.isdir(candidate)
        ):
            return candidate
    return None


def hashed_app_name(program: str) -> str:
    """``run-`` and 16 hex digits of a keyed hash of the program's real path: a stable
    store name per program that says nothing about it. The key is that of the store
    ``NAMING_STORE`` (created on first use, like any store's key)."""
    from localtelemetry._record.documents import Hasher
    from localtelemetry._store import KEY_FILE_NAME, StoreLocation
    from localtelemetry._store.store import Store, load_or_create_key

    store = Store(StoreLocation(NAMING_STORE))
    key = load_or_create_key(os.path.join(store.ensure_dirname(), KEY_FILE_NAME))
    return "run-" + Hasher(key).path_hash(os.path.realpath(program))[:16]


# -- running the child ----------------------------------------------------------------


class ChildResult:
    """How the child ended: its exit code (128+N when signal N ended it) and that
    signal, its wall time, its resource usage as ``wait4`` gives it (None where there is
    no ``wait4``), and whether the wrapper itself got a SIGINT meanwhile."""

    __slots__ = ("exit_code", "interrupted_wrapper", "signal", "usage", "wall_s")

    def __init__(
        self, returncode: int, wall_s: float, usage: Rusage | None, interrupted_wrapper: bool
    ) -> None:
        self.signal = -returncode if returncode < 0 else None
        self.exit_code = 128 - returncode if returncode < 0 else returncode
        self.wall_s = wall_s
        self.usage = usage
        self.interrupted_wrapper = interrupted_wrapper

    def cost(self) -> tuple[float, float, int | None]:
        """CPU seconds (user, system) and peak memory in KiB; 0.0, 0.0, None without
        ``wait4``."""
        if self.usage is None:
            return 0.0, 0.0, None
        return self.usage.ru_utime, self.usage.ru_stime, _peak_kib(self.usage.ru_maxrss)


class _Forwarder:
    """Signal handlers installed only while the child runs (and is recorded).

    SIGTERM and SIGHUP always go to the child. SIGINT and SIGQUIT go to it unless the
    wrapper and the child are both in the foreground process group of the controlling
    terminal: then the terminal (Ctrl-C, Ctrl-\\) already delivered the signal to the
    child, and forwarding would deliver it twice. The price: ``kill -INT`` aimed at the
    wrapper alone while it runs in a terminal's foreground is not passed on (use
    SIGTERM, or signal the child). Signals that arrive before the child exists are
    passed on as soon as it does, since it cannot have received them.
    """

    def __init__(self) -> None:
        self.pid: int | None = None
        self.reaped = False
        self.pending: list[int] = []
        self.saw_interrupt = False
        self._previous: dict[int, _Handler] = {}
        self._tty: int | None = None

    def install(self) -> None:
        try:
            # The controlling terminal, if any, to ask which process group is in front.
            self._tty = os.open("/dev/tty", os.O_RDONLY | getattr(os, "O_NOCTTY", 0))
        except OSError:
            self._tty = None
        for signum in _FORWARDED:
            try:
                previous = signal.getsignal(signum)
                if previous == signal.SIG_IGN:
                    # Ignored when we started (nohup, background jobs): the child must
                    # inherit that, and catching it here would reset it to default.
                    continue
                signal.signal(signum, self._handle)
            except (OSError, ValueError):  # not the main thread, or not settable here
                continue
            self._previous[signum] = previous

    def restore(self) -> None:
        for signum, previous in self._previous.items():
            try:  # noqa: SIM105 - contextlib costs this path 3 ms to import
                signal.signal(signum, previous if previous is not None else signal.SIG_DFL)
            except (OSError, ValueError, TypeError):
                pass
        self._previous.clear()
        if self._tty is not None:
            try:  # noqa: SIM105 - as above
                os.close(self._tty)
            except OSError:
                pass
            self._tty = None

    def started(self, pid: int) -> None:
        self.pid = pid
        pending, self.pending = self.pending, []
        for signum in pending:
            self._send(signum)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if signum == getattr(signal, "SIGINT", None):
            self.saw_interrupt = True
        if self.pid is None:
            self.pending.append(signum)
            return
        if self.reaped or (signum in _KEYBOARD and self._child_heard_terminal(self.pid)):
            return
        self._send(signum)

    def _send(self, signum: int) -> None:
        if self.pid is not None and not self.reaped:
            try:  # noqa: SIM105 - as above
                os.kill(self.pid, signum)
            except OSError:
                pass

    def _child_heard_terminal(self, pid: int) -> bool:
        if self._tty is None:
            return False
        try:
            foreground = os.tcgetpgrp(self._tty)
            return foreground == os.getpgrp() and os.getpgid(pid) == foreground
        except OSError:
            return False


def _peak_kib(maxrss: int) -> int:
    # ru_maxrss is KiB on Linux and the BSDs, bytes on macOS.
    return int(maxrss // 1024) if sys.platform == "darwin" else int(maxrss)


#: Signals Python ignores for itself that a child must get with their default action,
#: as ``subprocess.Popen(restore_signals=True)`` does.
_RESTORED = tuple(
    getattr(signal, name) for name in ("SIGPIPE", "SIGXFZ", "SIGXFSZ") if hasattr(signal, name)
)


def _spawn(command: Sequence[str]) -> tuple[int, Any]:
    """Start ``command`` with the wrapper's own stdio: its pid, and the ``Popen`` where
    ``posix_spawnp`` is missing (Windows). ``posix_spawnp`` searches ``PATH`` and reports
    a failed exec as ``subprocess`` does, for a fraction of importing it (10 ms).

    Nothing is redirected: the child inherits stdin, stdout and stderr, unbuffered, and
    every other inheritable descriptor (make's jobserver pipes, for one); our own are
    non-inheritable already."""
    spawnp = getattr(os, "posix_spawnp", None)
    if spawnp is not None:
        return spawnp(command[0], list(command), os.environ, setsigdef=_RESTORED), None
    import subprocess

    proc = subprocess.Popen(list(command), close_fds=False)
    return proc.pid, proc


def spawn_and_wait(command: Sequence[str], forwarder: _Forwarder) -> ChildResult:
    """Run ``command`` with the wrapper's own stdio and wait for it, forwarding signals."""
    t0 = time.perf_counter()
    try:
        pid, proc = _spawn(command)
    except FileNotFoundError:
        raise ProgramNotFound(
            f"cannot run {command[0]!r}: no such program (check the name and PATH)"
        ) from None
    except PermissionError:
        raise ProgramNotExecutable(
            f"cannot run {command[0]!r}: permission denied (is it an executable file?)"
        ) from None
    except OSError as exc:
        raise ProgramNotExecutable(
            f"cannot run {command[0]!r}: {exc.strerror or type(exc).__name__}"
        ) from None
    forwarder.started(pid)
    wait4 = getattr(os, "wait4", None)
    if wait4 is None:  # Windows: no rusage of a child
        code = proc.wait()
        forwarder.reaped = True
        return ChildResult(code, time.perf_counter() - t0, None, forwarder.saw_interrupt)
    waitid = getattr(os, "waitid", None)
    if waitid is not None:
        # Wait without reaping first, so a signal handled from here on can never be
        # forwarded to a recycled pid.
        try:  # noqa: SIM105 - as above
            waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
        except OSError:
            pass
    forwarder.reaped = True
    _, status, usage = wait4(pid, 0)
    wall = time.perf_counter() - t0
    return ChildResult(os.waitstatus_to_exitcode(status), wall, usage, forwarder.saw_interrupt)


# -- recording ------------------------------------------------------------------------


def signal_name(signum: int) -> str:
    import signal as signal_module  # its enum of names: only a recorded run needs it

    try:
        return signal_module.Signals(signum).name
    except ValueError:
        return f"SIG{signum}"


def outcome_of(result: ChildResult) -> tuple[str, str | None]:
    """(outcome, error_kind): ``interrupted`` when the child died from SIGINT, or
    failed after the wrapper got a SIGINT (a child that handles Ctrl-C and exits 130)."""
    if result.exit_code == 0:
        return "success", None
    kind = signal_name(result.signal) if result.signal is not None else "Exit"
    sigint = getattr(signal, "SIGINT", None)
    if result.signal == sigint or result.interrupted_wrapper:
        return "interrupted", kind
    return "failure", kind


def command_payload(
    safe: SafeValues, arguments: Arguments, result: ChildResult
) -> dict[str, object]:
    """A cli-command payload for the child, in the shape ``Run.finish`` writes."""
    from localtelemetry._record.documents import duration_bucket, round_ms
    from localtelemetry._record.recorder import parameter_entry

    outcome, kind = outcome_of(result)
    sub = arguments.subcommand
    path = [sub if sub in arguments.keep else safe.name(sub)] if sub else []
    parameters = [
        parameter_entry(
            safe,
            {"name": name, "type": kind_, "source": "commandline", "value": raw, "flag": None},
        )
        for name, kind_, raw in arguments.values[:MAX_ENTRIES]
    ]
    duration = round_ms(result.wall_s)
    return {
        "command_path": path,
        "command_family": path[0] if path else None,
        "invocation_shape": "leaf",
        "flags": arguments.flags[:MAX_ENTRIES],
        "parameters": parameters,
        "duration_ms": duration,
        "duration_bucket": duration_bucket(duration),
        "exit_code": result.exit_code,
        "outcome": outcome,
        "error_kind": kind,
        "failure_stage": "exit" if kind is not None else None,
        "error_message": None,
    }


def record(run: Run, arguments: Arguments, result: ChildResult, started: float) -> None:
    """Write the cli-command and run-summary documents of the child, then apply
    retention, as ``Run.finish`` does for an in-process command. ``Run.finish`` is not
    used because it measures this process; these figures are the child's."""
    t0 = time.perf_counter()
    run.write("cli-command", lambda safe: command_payload(safe, arguments, result))
    outcome, _ = outcome_of(result)
    cpu_user_s, cpu_system_s, peak_rss_kib = result.cost()
    run.write_summary(
        exit_code=result.exit_code,
        outcome=outcome,
        duration_s=time.perf_counter() - started,
        cpu_user_s=cpu_user_s,
        cpu_system_s=cpu_system_s,
        peak_rss_kib=peak_rss_kib,
        finishing_since=t0,
    )
    # The same retention step as an in-process run: the journal's cheap check, and a
    # full pass over the store only when a limit may be exceeded.
    run.apply_retention()


def _check_keep_words(words: Sequence[str]) -> frozenset[str]:
    for word in words:
        if not is_keep_word(word):
            raise UsageError(
                f"--keep-word {word!r}: a word to keep is 1-40 letters, digits, '_' or '-', "
                "starting with a letter or digit (give it without leading dashes)"
            )
    return frozenset(words)


def run_command(
    command: Sequence[str],
    *,
    telemetry: bool,
    app_name: str | None,
    stderr: IO[str] | None = None,
    keep_words: Sequence[str] = (),
    observers: list[Callable[[Any, bytes], None]] | None = None,
) -> int:
    """Run ``command`` transparently; record it when ``telemetry``. Returns the exit
    code for the wrapper: the child's, or 128+N when it died from signal N.

    Raises ``UsageError`` for a bad app name or keep word, and ``ProgramNotFound`` /
    ``ProgramNotExecutable`` when the program cannot be started (nothing is recorded
    then: no program ran).
    """
    if not command or not command[0]:
        raise UsageError("no command to run: localtelemetry run [--telemetry] -- CMD [ARGS...]")
    if app_name is not None and not is_app_name(app_name):
        raise UsageError(f"{app_name!r} is not a valid app name (1-64 letters, digits, . _ -)")
    keep = _check_keep_words(keep_words)
    recording = False
    name = app_name
    if telemetry:
        name = name or default_app_name(command[0])
        from localtelemetry._record import off_reason

        blocker = off_reason(os.environ)
        if blocker is not None:
            _say(
                stderr,
                name or "localtelemetry",
                f"{blocker}, so --telemetry is ignored and nothing is recorded",
            )
        else:
            recording = True
    started = time.perf_counter()
    forwarder = _Forwarder()
    forwarder.install()
    try:
        result = spawn_and_wait(command, forwarder)
        if recording:
            # The recorder is imported and the store touched only now, after the child
            # ended, so recording adds nothing to the child's start-up.
            _record_quietly(name, command, result, started, stderr, keep, observers)
    finally:
        forwarder.restore()
    return result.exit_code


def _identity_words(environ: Any) -> frozenset[str]:
    """The user's and the machine's names (and their parts that are not common words),
    lower case: a first argument equal to one of them is data, not a subcommand."""
    from localtelemetry._record.known import COMMON_WORDS, HOST, USER, machine_values, parts

    words: set[str] = set()
    for value, kind in machine_values(environ).items():
        if kind in (USER, HOST):
            words.add(value.lower())
            words.update(p.lower() for p in parts(value) if p.casefold() not in COMMON_WORDS)
    return frozenset(words)


def _record_quietly(
    name: str | None,
    command: Sequence[str],
    result: ChildResult,
    started: float,
    stderr: IO[str] | None,
    keep: frozenset[str],
    observers: list[Callable[[Any, bytes], None]] | None = None,
) -> None:
    shown = name or "localtelemetry"
    try:
        from datetime import datetime, timezone

        from localtelemetry._record.session import open_run
        from localtelemetry._store import Limits, StoreLocation

        name = name or hashed_app_name(command[0])
        run = open_run(
            StoreLocation(name, None, os.environ),
            Limits(),
            observers or (),  # documents written, for --format json
            app_name=name,
            app_version=UNKNOWN_VERSION,
            environ=os.environ,
            now=lambda: datetime.now(timezone.utc),
            stderr=stderr,
        )
    except BaseException as exc:  # never let recording change the exit code
        _say(stderr, shown, f"could not start recording ({type(exc).__name__})")
        return
    try:
        identity = _identity_words(os.environ)
        arguments = describe_arguments(command[1:], keep=keep, identity=identity)
        record(run, arguments, result, started)
    except BaseException as exc:
        run.warn(f"could not finish recording ({type(exc).__name__})")
