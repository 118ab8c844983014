"""One recorded run: what it observed, and writing its documents without hurting the host.

A ``Run`` exists only when the process was given ``--telemetry`` and nothing blocks
recording. It holds raw observations in memory and converts them through ``SafeValues``
when a document is written, so raw values never reach disk. Every failure inside the
recorder is caught here and reported as at most one line on stderr for the whole run.
"""

from __future__ import annotations

import os
import sys
import time

from localtelemetry._contract import MAX_ITEMS, MAX_SAFE_INTEGER, new_id
from localtelemetry._store import KEY_FILE_NAME
from localtelemetry._store.store import Store, load_or_create_key

from . import describe, is_true
from .documents import (
    Hasher,
    SafeValues,
    clamp_int,
    duration_bucket,
    encode_envelope,
    encode_run_part,
    home_directory,
    round_ms,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy knows it)
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from datetime import datetime
    from typing import IO, Any, TypedDict

    from localtelemetry._store import Limits, StoreLocation

    from .known import Redactor
    from .observed import Observer

    # Typed dicts, not classes: creating a class costs every recorded run about 70k
    # instructions (issue 14), and these are only ever read and written by key.
    class ParamObservation(TypedDict):
        """A parameter the user set, before hashing."""

        name: str
        type: str  # boolean | integer | number | choice | string | path
        source: str  # commandline | environment | prompt
        value: Any
        flag: str | None

    class CommandObservation(TypedDict):
        """What the integration saw of the command: path, parameters, the first exception."""

        path: tuple[str, ...]
        is_group: bool
        params: list[ParamObservation]
        exception: BaseException | None
        stage: str | None
        unknown_child: bool


OUTCOMES = ("success", "failure", "interrupted")
BUILD_STATUSES = (*OUTCOMES, "skipped", "partial")
MAX_PATH_DEPTH = 16
UNLISTED = "\x00"  # marks a command name that is not in the registered command tree
FLAG_PATTERN = r"^--?[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_FLAG_REST = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"


def is_flag(text: str) -> bool:
    """Whether ``text`` fully matches FLAG_PATTERN (string checks: no regex to compile
    on the recording path)."""
    body = text[2:] if text.startswith("--") else text[1:] if text.startswith("-") else ""
    return 0 < len(body) <= 64 and body[0] in _ALNUM and not body.strip(_FLAG_REST)


def _epoch_ms(moment: datetime) -> int:
    return max(0, int(moment.timestamp() * 1000))  # ids cannot encode times before 1970


def error_kind(exc: BaseException) -> str:
    return type(exc).__name__


def is_interrupt(exc: BaseException | None) -> bool:
    while exc is not None:
        if isinstance(exc, KeyboardInterrupt):
            return True
        exc = exc.__context__
    return False


def new_observation() -> CommandObservation:
    return {
        "path": (),
        "is_group": False,
        "params": [],
        "exception": None,
        "stage": None,
        "unknown_child": False,
    }


class Run:
    """The recording state of one process run."""

    def __init__(
        self,
        *,
        app_name: str,
        app_version: str,
        store: Store,
        environ: Mapping[str, str],
        now: Callable[[], datetime],
        stderr: IO[str] | None,
        messages: bool = True,
        identity: Mapping[str, str] | None = None,
    ) -> None:
        self.app_name = app_name
        self.app_version = app_version
        self.messages = messages
        # The machine's identity values (value -> kind); read from the system when the
        # first message is scrubbed, unless given (tests, embedding).
        self.identity = identity
        self._machine: dict[str, str] | None = None
        self._redactor: tuple[object, Redactor] | None = None
        self.store = store
        self.environ = environ
        self.now = now
        self._stderr = stderr
        self.started = now()
        self.started_perf = time.perf_counter()
        self._cpu0 = os.times()
        self.run_id = new_id(_epoch_ms(self.started))
        self.command = new_observation()
        self.management = False
        self.finishing = False
        # Raw strings from argv and parameters (any source), and values handed to the
        # recording API: replaced in free text before scrubbing, so a message that
        # quotes what the run saw keeps none of it (``_record/known``).
        self.sensitive: set[str] = set()
        self.api_values: set[str] = set()
        self.declared: set[str] = set()  # option and choice names the app declares
        self.written: dict[str, int] = {}
        self.failed_writes = 0
        self.overhead_s = 0.0
        self.warned = False
        self.disabled_reason: str | None = None
        self._safe: SafeValues | None = None
        self._version = app_version
        self._environment: dict[str, object] | None = None
        self._run_part: str | None = None  # the envelope's members every document shares

    # -- reporting ------------------------------------------------------------------

    def warn(self, message: str) -> None:
        """At most one stderr line per run, whatever goes wrong."""
        if self.warned:
            return
        self.warned = True
        try:  # importing can fail too (no file descriptor left): the host never sees it
            from localtelemetry._contract.exceptions import write_notice
        except Exception:
            return
        write_notice(self._stderr, self.app_name, message)

    # -- writing --------------------------------------------------------------------

    def safe(self) -> SafeValues:
        """Hashing needs the key, which needs the store: both are created on first use."""
        if self._safe is None:
            directory = self.store.ensure_dirname()
            key = load_or_create_key(os.path.join(directory, KEY_FILE_NAME), self.warn)
            hasher = Hasher(key, home=home_directory(self.environ))
            safe = SafeValues(hasher, messages=self.messages)
            self._version = safe.version(self.app_version)
            self._safe = safe
        return self._safe

    def redactor(self, exclude: tuple[str, ...] = ()) -> Redactor:
        """Every value this run saw so far, ready to be removed from a message; the
        app's own names (``declared``, the command path, ``exclude``) are not user data."""
        from .known import ARGUMENT, VALUE, Redactor, machine_values

        if self._machine is None:
            self._machine = machine_values(self.environ, system=self.identity)
        own = (*self.declared, *self.command["path"], *exclude)
        # A failing run scrubs its message for the build and again for the cli-command
        # document: the second gets the same redactor when nothing new was seen.
        key = (frozenset(self.sensitive), frozenset(self.api_values), frozenset(own))
        if self._redactor is not None and self._redactor[0] == key:
            return self._redactor[1]
        pairs = [
            *self._machine.items(),
            *((v, ARGUMENT) for v in sorted(self.sensitive)),
            *((v, VALUE) for v in sorted(self.api_values)),
        ]
        redactor = Redactor(pairs, exclude=own)
        self._redactor = (key, redactor)
        return redactor

    def environment(self) -> dict[str, object]:
        if self._environment is None:
            self._environment = describe(self.environ)
        return self._environment

    def write(self, kind: str, build_payload: Callable[[SafeValues], dict[str, object]]) -> bool:
        """Build and store one document; any failure is swallowed and reported once."""
        if self.disabled_reason is not None:
            return False
        t0 = time.perf_counter()
        try:
            safe = self.safe()
            if self._run_part is None:
                self._run_part = encode_run_part(
                    app_name=self.app_name,
                    app_version=self._version,
                    environment=self.environment(),
                    key_id=safe.hasher.key_id,
                )
            moment = self.now()
            doc_id = new_id(_epoch_ms(moment))
            data = encode_envelope(
                kind=kind,
                id_=doc_id,
                run_id=self.run_id,
                created_at=moment,
                run_part=self._run_part,
                payload=build_payload(safe),
            )
            self.store.write_document(kind, doc_id, data, journal=True)
        except KeyboardInterrupt:
            self.failed_writes += 1
            if not self.finishing:
                # Ctrl-C while the host's own command runs is the user's, not ours:
                # the half-written temp file is gone, and the host sees its interrupt.
                raise
            self.disabled_reason = "interrupted"
            self.warn("interrupted while recording; the command itself was not affected")
            return False
        except Exception as exc:
            self.failed_writes += 1
            self.warn(
                f"could not record diagnostics ({describe_failure(exc)}); "
                "the command itself was not affected"
            )
            if isinstance(exc, OSError) or _is_store_problem(exc):
                # The store is unusable for this run: stop trying, stay quiet.
                self.disabled_reason = describe_failure(exc)
            return False
        finally:
            self.overhead_s += time.perf_counter() - t0
        self.written[kind] = self.written.get(kind, 0) + 1
        return True

    # -- the end of the run ---------------------------------------------------------

    def finish(self, exit_code: int) -> None:
        """Write the cli-command and run-summary documents, then apply retention."""
        if self.management:
            return
        self.finishing = True
        exit_code = clamp_int(exit_code)  # Windows: any int; documents hold +/- 2^53 - 1
        t0 = time.perf_counter()
        duration_s = t0 - self.started_perf
        observation = self.command
        exc = observation["exception"]
        interrupted = is_interrupt(exc)
        outcome = "interrupted" if interrupted else ("success" if exit_code == 0 else "failure")
        self.write(
            "cli-command",
            lambda safe: cli_command_payload(
                safe,
                observation,
                exit_code=exit_code,
                outcome=outcome,
                duration_s=duration_s,
                known=lambda: self.redactor(observation["path"]),
            ),
        )
        cpu = os.times()
        self.write_summary(
            exit_code=exit_code,
            outcome=outcome,
            duration_s=duration_s,
            cpu_user_s=cpu.user - self._cpu0.user,
            cpu_system_s=cpu.system - self._cpu0.system,
            peak_rss_kib=peak_rss_kib(),
            finishing_since=t0,
        )
        self.apply_retention()

    def write_summary(
        self,
        *,
        exit_code: int,
        outcome: str,
        duration_s: float,
        cpu_user_s: float,
        cpu_system_s: float,
        peak_rss_kib: int | None,
        finishing_since: float,
    ) -> None:
        """Write the run-summary document, the last of a run: what was written before
        it, and the recorder's own cost since the run began plus since
        ``finishing_since`` (a ``perf_counter`` time). The figures are this process's
        (``finish``) or a wrapped child's (``_cli/wrap``)."""
        overhead_ms = round_ms(self.overhead_s + (time.perf_counter() - finishing_since))
        written = dict(self.written)
        failed = self.failed_writes
        self.write(
            "run-summary",
            lambda safe: {
                "documents": {k: written.get(k, 0) for k in ("cli-command", "build", "snapshot")},
                "documents_failed": failed,
                "duration_ms": round_ms(duration_s),
                "exit_code": exit_code,
                "outcome": outcome,
                "cpu_user_ms": round_ms(cpu_user_s),
                "cpu_system_ms": round_ms(cpu_system_s),
                "peak_rss_kib": peak_rss_kib,
                "recorder_overhead_ms": overhead_ms,
                "redactions": dict(sorted(safe.redactions.items())),
            },
        )

    def apply_retention(self) -> None:
        """Enforce the retention limits once the run's documents are written: usually a
        check of two small files, a pass over the store only when a limit may be
        exceeded (``Store.apply_retention``). Also removes temp files of killed writers."""
        if self.disabled_reason is None and self.written:
            try:
                self.store.apply_retention(_epoch_ms(self.now()), time.time())
            except (Exception, KeyboardInterrupt) as exc:
                self.warn(f"could not apply retention ({describe_failure(exc)})")


def _is_store_problem(exc: BaseException) -> bool:
    from localtelemetry._contract.exceptions import StoreError

    return isinstance(exc, StoreError)


def describe_failure(exc: BaseException) -> str:
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    if isinstance(exc, OSError):
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror or type(exc).__name__}{where}"
    return str(exc) or type(exc).__name__


def peak_rss_kib() -> int | None:
    """This process's peak resident set size in KiB; None where it cannot be known."""
    if sys.platform.startswith("linux"):
        peak = _linux_peak_rss_kib()
        if peak is not None:
            return peak
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak // 1024) if sys.platform == "darwin" else int(peak)


def _linux_peak_rss_kib() -> int | None:
    """VmHWM from /proc/self/status: the peak of this program only. (getrusage's
    ru_maxrss also counts the image exec replaced, so a host started by a large parent
    reported that parent's peak.) Reading it costs a recorded run a fraction of loading
    the resource module (issue 4)."""
    try:
        fd = os.open("/proc/self/status", os.O_RDONLY)
        try:
            status = os.read(fd, 16384)
        finally:
            os.close(fd)
        start = status.index(b"\nVmHWM:") + 7
        value, unit = status[start : status.index(b"\n", start)].split()
        return int(value) if unit == b"kB" else None
    except (OSError, ValueError):
        return None


def cli_command_payload(
    safe: SafeValues,
    observation: CommandObservation,
    *,
    exit_code: int,
    outcome: str,
    duration_s: float,
    known: Callable[[], Redactor] | None = None,
) -> dict[str, object]:
    path = [
        # A name not found in the registered tree came from argv: hash it.
        safe.hashed_name(part[1:]) if part.startswith(UNLISTED) else safe.name(part)
        for part in observation["path"][:MAX_PATH_DEPTH]
    ]
    exc = observation["exception"]
    failed = outcome != "success"
    kind: str | None = None
    stage: str | None = None
    message: str | None = None
    if failed:
        if exc is not None:
            kind = safe.name(error_kind(exc))
            stage = observation["stage"]
            text = str(exc)
            message = safe.message(text, known) if text else None
        else:
            kind, stage = "Exit", "exit"
    if observation["unknown_child"]:
        shape = "unknown_child"
    elif observation["is_group"]:
        shape = "bare_group"
    elif path or observation["stage"] != "usage":
        shape = "leaf"
    else:
        shape = "unknown_child"
    flags: list[str] = []
    parameters: list[dict[str, object]] = []
    for param in observation["params"][:MAX_ITEMS]:
        flag = param["flag"]
        if flag and flag not in flags:
            flags.append(flag)
        parameters.append(parameter_entry(safe, param))
    duration = round_ms(duration_s)
    return {
        "command_path": path,
        "command_family": path[0] if path else None,
        "invocation_shape": shape,
        "flags": [f for f in flags if is_flag(f)],
        "parameters": parameters,
        "duration_ms": duration,
        "duration_bucket": duration_bucket(duration),
        "exit_code": exit_code,
        "outcome": outcome,
        "error_kind": kind,
        "failure_stage": stage,
        "error_message": message,
    }


def parameter_entry(safe: SafeValues, param: ParamObservation) -> dict[str, object]:
    kind, value = param["type"], param["value"]
    entry: dict[str, object] = {
        "name": safe.name(param["name"]),
        "type": kind,
        "source": param["source"],
    }
    values = list(value) if isinstance(value, list | tuple) else [value]
    values = [v for v in values if v is not None][:MAX_ITEMS]
    if kind in ("boolean", "integer", "number", "choice"):
        entry["values"] = [plain_value(kind, v, safe) for v in values]
    elif kind == "path":
        entry["paths"] = [safe.path(v) for v in values]
    else:
        entry["hashes"] = [safe.value_hash(v) for v in values]
    return entry


def plain_value(kind: str, value: Any, safe: SafeValues) -> object:
    """Values of closed types pass as they are; anything else is hashed, never kept."""
    if kind == "boolean" and isinstance(value, bool):
        return value
    if kind == "integer" and isinstance(value, int) and not isinstance(value, bool):
        return value if abs(value) <= MAX_SAFE_INTEGER else safe.value_hash(value)
    if kind == "number" and isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
        return number if abs(number) <= MAX_SAFE_INTEGER else None  # NaN too
    if kind == "choice":
        raw = getattr(value, "value", value)  # Enum members chosen from a Choice
        if isinstance(raw, str | int) and not isinstance(raw, bool):
            return safe.choice(raw)  # app-defined words; anything odd becomes h:<hash>
    return safe.value_hash(value)


def _outcome(exc: BaseException | None) -> str:
    """How a phase or build ended, from the exception that ended it."""
    return "success" if exc is None else ("interrupted" if is_interrupt(exc) else "failure")


class Phase:
    """Times one phase of a build: ``with b.phase("scan"):``. A class, not a generator:
    a phase object may be entered again (each use is one phase), as ``NullBuild``'s can;
    ``as`` gives the build in both kinds of run."""

    __slots__ = ("_build", "_name", "_t0")

    def __init__(self, build: BuildRecorder, name: str) -> None:
        self._build = build
        self._name = name
        self._t0 = 0.0

    def __enter__(self) -> BuildRecorder:
        self._t0 = time.perf_counter()
        return self._build

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        phases = self._build._phases
        if len(phases) < MAX_ITEMS:
            phases.append((self._name, time.perf_counter() - self._t0, _outcome(exc)))


class BuildRecorder:
    """Collects what a unit of work reports; written as one ``build`` document on exit."""

    def __init__(self, run: Run, name: str) -> None:
        self._run = run
        self._name = name
        self._t0 = 0.0
        self._phases: list[tuple[str, float, str]] = []
        self._counters: dict[str, int] = {}
        self._warnings: dict[str, int] = {}
        self._cache = [0, 0]
        self._inputs: list[tuple[str, str]] = []
        self._outputs: list[tuple[str, str]] = []
        self._filters: list[tuple[str, str]] = []
        self._values: list[tuple[str, str]] = []
        self.status: str | None = None

    enabled = True

    def __enter__(self) -> BuildRecorder:
        self._t0 = time.perf_counter()
        return self

    def path(self, role: str, path: str | os.PathLike[str], *, output: bool = False) -> None:
        """An input (or, with ``output=True``, output) path; stored as a hashed descriptor."""
        target = self._outputs if output else self._inputs
        text = path if isinstance(path, str) else _path_text(path)
        target.append((_text(role), text))
        self._run.api_values.add(text)

    def output(self, role: str, path: str | os.PathLike[str]) -> None:
        self.path(role, path, output=True)

    def filter(self, name: str, value: object) -> None:
        """A filter or pattern the user gave; stored as a keyed hash."""
        text = _text(value)
        self._filters.append((_text(name), text))
        self._run.api_values.add(text)

    def value(self, name: str, value: object) -> None:
        """Any other user-supplied string; stored as a keyed hash."""
        text = _text(value)
        self._values.append((_text(name), text))
        self._run.api_values.add(text)

    # Bad arguments are tolerated, never raised: a recorded run must behave exactly like
    # an unrecorded one, where these methods do nothing.

    def count(self, name: str, n: int = 1) -> None:
        key = _text(name)
        self._counters[key] = self._counters.get(key, 0) + clamp_int(n)

    def cache_hit(self, n: int = 1) -> None:
        self._cache[0] += max(0, clamp_int(n))

    def cache_miss(self, n: int = 1) -> None:
        self._cache[1] += max(0, clamp_int(n))

    def warning(self, category: str, n: int = 1) -> None:
        key = _text(category)
        self._warnings[key] = self._warnings.get(key, 0) + max(0, clamp_int(n))

    def phase(self, name: str) -> Phase:
        return Phase(self, _text(name))

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        duration_s = time.perf_counter() - self._t0
        status = str(self.status) if self.status in BUILD_STATUSES else _outcome(exc)

        def payload(safe: SafeValues) -> dict[str, object]:
            message = None
            if exc is not None and str(exc):
                message = safe.message(str(exc), self._run.redactor)
            return {
                "name": safe.name(self._name),
                "status": status,
                "duration_ms": round_ms(duration_s),
                "phases": [
                    {"name": safe.name(n), "duration_ms": round_ms(d), "status": s}
                    for n, d, s in self._phases
                ],
                "counters": safe.counts(self._counters),
                "cache": {"hits": clamp_int(self._cache[0]), "misses": clamp_int(self._cache[1])},
                "warnings": safe.counts(self._warnings),
                "inputs": [
                    {"role": safe.name(r), "path": safe.path(p)}
                    for r, p in self._inputs[:MAX_ITEMS]
                ],
                "outputs": [
                    {"role": safe.name(r), "path": safe.path(p)}
                    for r, p in self._outputs[:MAX_ITEMS]
                ],
                "filters": safe.named_hashes(self._filters),
                "values": safe.named_hashes(self._values),
                "error_kind": safe.name(error_kind(exc)) if exc is not None else None,
                "error_message": message,
            }

        self._run.write("build", payload)


def snapshot_payload(
    safe: SafeValues,
    name: str,
    counts: Mapping[str, int] | None,
    filters: Mapping[str, object] | None,
    fingerprint: str | bytes | None,
    duration_ms: float | None,
) -> dict[str, object]:
    return {
        "name": safe.name(name),
        "counts": safe.counts(counts),
        "filters": safe.named_hashes((filters or {}).items()),
        "fingerprint": safe.hasher.fingerprint(fingerprint) if fingerprint is not None else None,
        "duration_ms": _duration_or_none(duration_ms),
    }


def _duration_or_none(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return round(number, 3) if 0 <= number <= MAX_SAFE_INTEGER else None


def _path_text(path: object) -> str:
    try:
        value = os.fspath(path)  # type: ignore[call-overload]
    except TypeError:
        return str(path)
    return value if isinstance(value, str) else os.fsdecode(value)


def _text(value: object) -> str:
    """str() that cannot raise (a broken __str__ must not hurt the host)."""
    try:
        return value if isinstance(value, str) else str(value)
    except Exception:
        return f"<{type(value).__name__}>"


def open_run(
    location: StoreLocation, limits: Limits, observers: Sequence[Observer], **run: Any
) -> Run:
    """A ``Run`` writing into the store at ``location``, an observed store when someone
    watches the documents as they are written; ``run`` are the ``Run``'s own arguments
    (``app_name``, ``environ``, ``stderr``, ...). ``LOCALTELEMETRY_ECHO`` in its
    environment adds an observer that prints each document on its stderr.

    Both ways a run records open it here: a host app's ``Telemetry.begin_run`` (face)
    and ``localtelemetry run`` (through ``session``, which re-exports it). It lives in
    this module, not its own, because every module a recorded run imports costs the
    host its import (issue 14)."""
    watching = list(observers)
    if is_true(run["environ"].get("LOCALTELEMETRY_ECHO")):
        from .observed import echo_to

        watching.append(echo_to(run.get("stderr")))
    store: Store
    if watching:
        from .observed import ObservedStore

        store = ObservedStore(location, limits=limits, observers=watching)
    else:
        store = Store(location, limits=limits)
    return Run(store=store, **run)
