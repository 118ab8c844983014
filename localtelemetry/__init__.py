"""localtelemetry: opt-in, local-only diagnostics for command-line tools.

    from localtelemetry import Telemetry

    telemetry = Telemetry("mycli", version="1.2.3")
    telemetry.install(app)   # adds --telemetry and the `telemetry` command group

Importing this package is cheap: every run of a host CLI imports it, so it loads
nothing itself: ``Telemetry`` (its module and the naming rules of ``_contract``) loads when
a host asks for it, which ``localtelemetry run`` never does. Every other public name,
the recording machinery and the maintainer API load on first use (issue 14: each
module a run imports costs it about 0.1 ms, and ``typing``, ``pathlib`` and friends
cost a host that does not import them itself several milliseconds).
"""

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy knows it)
if TYPE_CHECKING:
    from ._contract import __version__
    from ._contract.exceptions import (
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
    from ._receive.reader import Document, Environment, read_bundle, read_sources, read_store
    from ._store import KINDS, Limits, StoreLocation
    from ._telemetry import Telemetry
del TYPE_CHECKING  # not a public name

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

#: Where each lazily loaded public name lives.
_LAZY = {
    **dict.fromkeys(
        (
            "BundleError",
            "CommandError",
            "ConfigurationError",
            "DocumentError",
            "KeyFileError",
            "LocalTelemetryError",
            "OperationFailed",
            "StoreError",
            "UnsafeStoreError",
            "UsageError",
        ),
        "_contract.exceptions",
    ),
    **dict.fromkeys(("KINDS", "Limits", "StoreLocation"), "_store"),
    "Telemetry": "_telemetry",
    **dict.fromkeys(
        ("Document", "Environment", "read_bundle", "read_sources", "read_store"), "_receive.reader"
    ),
    "__version__": "_contract",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import sys

    qualified = f"{__name__}.{module}"
    __import__(qualified)
    value = getattr(sys.modules[qualified], name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
