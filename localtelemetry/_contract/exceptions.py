"""All errors localtelemetry raises, under one root.

    LocalTelemetryError
     ├── ConfigurationError      the CLI author called the API wrongly (bad app name, limits, ...)
     ├── StoreError              the store cannot be used as it is
     │    ├── UnsafeStoreError   symlinked, foreign-owned, group/world-writable, not a directory
     │    └── KeyFileError       the hashing key file is missing, corrupt or unsafe
     ├── DocumentError           a document is unreadable, too large, not JSON or invalid
     │    ├── InvalidJSON        bytes that are not one JSON object as every reader reads them
     │    ├── TooDeepError       a document nested deeper than MAX_DEPTH
     │    ├── Unredactable       a fixed-format field cannot be redacted in place
     │    └── BundleError        an export bundle is malformed, hostile or tampered with
     └── CommandError            a management command cannot do what was asked
          ├── UsageError         bad input or usage (exit code 2)
          ├── OperationFailed    the input was fine but the operation failed (exit code 1)
          ├── ProgramNotFound    ``localtelemetry run``: no such program (exit code 127)
          └── ProgramNotExecutable  ``run``: the program cannot be executed (exit code 126)

ConfigurationError, InvalidJSON, TooDeepError and Unredactable are ValueErrors too, as
they were before they moved here. A bare ``ValueError`` is left only where an argument
breaks a function's contract (a programming error, said so where it is raised).

Recording never lets any of these reach the host application: the recorder catches
them and prints at most one line on stderr (``write_notice``, the one place such a
line is written). Management commands turn them into one line on stderr and an exit
code.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy knows it)
if TYPE_CHECKING:
    from typing import IO


def write_notice(stream: IO[str] | None, app_name: str, message: str) -> None:
    """Tell the user, in one line on ``stream`` (default: stderr), what recording could
    not do: ``APP: telemetry: MESSAGE``. A broken stream must not hurt the host: any
    error writing is swallowed."""
    try:
        out = stream if stream is not None else sys.stderr
        out.write(f"{app_name}: telemetry: {message}\n")
        out.flush()
    except Exception:  # noqa: S110 - the notice is best effort, the host's run is not
        pass


class LocalTelemetryError(Exception):
    """Root of every error raised by localtelemetry."""

    exit_code = 1


class ConfigurationError(LocalTelemetryError, ValueError):
    """The integration was set up incorrectly by the CLI author."""

    exit_code = 2


class StoreError(LocalTelemetryError):
    """The store directory cannot be used."""


class UnsafeStoreError(StoreError):
    """The store is a symlink, owned by someone else, writable by others or not a directory."""

    exit_code = 2


class KeyFileError(StoreError):
    """The hashing key file is corrupt, unsafe or unreadable."""

    exit_code = 2


class DocumentError(LocalTelemetryError):
    """A document could not be read, parsed or validated (its subclasses exit 2 too)."""

    exit_code = 2


class InvalidJSON(DocumentError, ValueError):
    """Bytes that are not one JSON object as every reader reads it; the message says
    why, without naming the file (callers add that)."""


class TooDeepError(DocumentError, ValueError):
    """The document is nested deeper than MAX_DEPTH."""


class Unredactable(DocumentError, ValueError):
    """A short fixed-format field still holds a redacted value after replacement (the
    replacement word itself forms it): the document cannot be shared."""


class BundleError(DocumentError):
    """An export bundle failed verification (malformed, hostile or tampered with)."""


class CommandError(LocalTelemetryError):
    """A management command could not complete."""


class UsageError(CommandError):
    """Bad input or usage of a management command."""

    exit_code = 2


class OperationFailed(CommandError):
    """The request was understood but could not be carried out (e.g. nothing to do):
    exit code 1, as every CommandError."""


class ProgramNotFound(CommandError):
    """``localtelemetry run``: the program does not exist (a shell says 127)."""

    exit_code = 127


class ProgramNotExecutable(CommandError):
    """``localtelemetry run``: the program exists but cannot be executed (a shell says 126)."""

    exit_code = 126
