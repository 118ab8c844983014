"""All errors localtelemetry raises, under one root.

    LocalTelemetryError
     ├── ConfigurationError      the CLI author called the API wrongly (bad app name, ...)
     ├── StoreError              the store cannot be used as it is
     │    ├── UnsafeStoreError   symlinked, foreign-owned, group/world-writable, not a directory
     │    └── KeyFileError       the hashing key file is missing, corrupt or unsafe
     ├── DocumentError           a document is unreadable, too large, not JSON or invalid
     │    └── BundleError        an export bundle is malformed, hostile or tampered with
     └── CommandError            a management command cannot do what was asked
          ├── UsageError         bad input or usage (exit code 2)
          └── OperationFailed    the input was fine but the operation failed (exit code 1)

Recording never lets any of these reach the host application: the recorder catches
them and prints at most one line on stderr. Management commands turn them into one
line on stderr and an exit code.
"""

from __future__ import annotations


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
    """A document could not be read, parsed or validated."""

    exit_code = 2


class BundleError(DocumentError):
    """An export bundle failed verification (malformed, hostile or tampered with)."""

    exit_code = 2


class CommandError(LocalTelemetryError):
    """A management command could not complete."""


class UsageError(CommandError):
    """Bad input or usage of a management command."""

    exit_code = 2


class OperationFailed(CommandError):
    """The request was understood but could not be carried out (e.g. nothing to do)."""

    exit_code = 1
