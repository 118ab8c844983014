"""localtelemetry: opt-in, local-only diagnostics for command-line tools.

    from localtelemetry import Telemetry

    telemetry = Telemetry("mycli", version="1.2.3")
    telemetry.install(app)   # adds --telemetry and the `telemetry` command group

Importing this package is cheap: the recording machinery loads only in a run that was
given ``--telemetry``.
"""

import typing as _typing

from ._exceptions import (
    BundleError,
    CommandError,
    ConfigurationError,
    DocumentError,
    KeyFileError,
    LocalTelemetryError,
    OperationFailed,
    StoreError,
    UnsafeStoreError,
    UsageError,
)
from ._location import KINDS, Limits, StoreLocation
from ._telemetry import Telemetry
from ._version import __version__

if _typing.TYPE_CHECKING:
    from ._reader import Document, Environment, read_bundle, read_sources, read_store

__all__ = [
    "KINDS",
    "BundleError",
    "CommandError",
    "ConfigurationError",
    "Document",
    "DocumentError",
    "Environment",
    "KeyFileError",
    "Limits",
    "LocalTelemetryError",
    "OperationFailed",
    "StoreError",
    "StoreLocation",
    "Telemetry",
    "UnsafeStoreError",
    "UsageError",
    "__version__",
    "read_bundle",
    "read_sources",
    "read_store",
]

# The maintainer API (reading bundles) is imported on first use: every run of every host
# CLI imports this package, and almost none of them read bundles (issue 4).
_READER_NAMES = frozenset({"Document", "Environment", "read_bundle", "read_sources", "read_store"})


def __getattr__(name: str) -> object:
    if name in _READER_NAMES:
        from . import _reader

        value = getattr(_reader, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
