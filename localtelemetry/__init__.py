"""localtelemetry: opt-in, local-only diagnostics for command-line tools.

    from localtelemetry import Telemetry

    telemetry = Telemetry("mycli", version="1.2.3")
    telemetry.install(app)   # adds --telemetry and the `telemetry` command group

Importing this package is cheap: the recording machinery loads only in a run that was
given ``--telemetry``.
"""

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
from ._reader import Document, Environment, read_bundle, read_sources, read_store
from ._store import KINDS, Limits, StoreLocation
from ._telemetry import Telemetry
from ._version import __version__

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
