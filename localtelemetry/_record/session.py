"""Opening one recording run: its store (an observed one when someone watches the
documents as they are written) and the ``Run`` that writes into it.

Record layer. Both ways a run records go through ``open_run``: a host app's
``Telemetry.begin_run`` (face) and ``localtelemetry run`` (``_wrap``, cli), so the
wrapper records through the recorder and the store directly, never through the
``Telemetry`` object. Imported only when a run records, so it imports no more than
the recorder and the store need.
"""

from __future__ import annotations

from localtelemetry._store.store import Store

from .env import is_true
from .recorder import Run

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy knows it)
if TYPE_CHECKING:  # the recording path imports neither pathlib nor typing (issue 14)
    from collections.abc import Sequence
    from typing import Any

    from localtelemetry._store.location import Limits, StoreLocation

    from .observed import Observer


def open_run(
    location: StoreLocation, limits: Limits, observers: Sequence[Observer], **run: Any
) -> Run:
    """A ``Run`` writing into the store at ``location``; ``run`` are the ``Run``'s own
    arguments (``app_name``, ``environ``, ``stderr``, ...). ``LOCALTELEMETRY_ECHO`` in
    its environment adds an observer that prints each document on its stderr."""
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
