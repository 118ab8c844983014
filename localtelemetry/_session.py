"""Opening one recording run: its store (an observed one when someone watches the
documents as they are written) and the ``Run`` that writes into it.

Record layer. Both ways a run records go through ``open_run``: a host app's
``Telemetry.begin_run`` (face) and ``localtelemetry run`` (``_wrap``, cli), so the
wrapper records through the recorder and the store directly, never through the
``Telemetry`` object. Imported only when a run records, so it imports no more than
the recorder and the store need.
"""

from __future__ import annotations

from ._env import is_true
from ._recorder import Run
from ._store import Store

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy knows it)
if TYPE_CHECKING:  # the recording path imports neither pathlib nor typing (issue 14)
    from collections.abc import Callable, Mapping, Sequence
    from datetime import datetime
    from typing import IO

    from ._location import Limits, StoreLocation
    from ._observed import Observer


def open_run(
    *,
    app_name: str,
    app_version: str,
    location: StoreLocation,
    limits: Limits,
    environ: Mapping[str, str],
    now: Callable[[], datetime],
    stderr: IO[str] | None,
    observers: Sequence[Observer] = (),
    messages: bool = True,
    identity: Mapping[str, str] | None = None,
) -> Run:
    """A ``Run`` writing into the store at ``location``. ``LOCALTELEMETRY_ECHO`` in
    ``environ`` adds an observer that prints each document on ``stderr``."""
    watching = list(observers)
    if is_true(environ.get("LOCALTELEMETRY_ECHO")):
        from ._observed import echo_to

        watching.append(echo_to(stderr))
    store: Store
    if watching:
        from ._observed import ObservedStore

        store = ObservedStore(location, limits=limits, observers=watching)
    else:
        store = Store(location, limits=limits)
    return Run(
        app_name=app_name,
        app_version=app_version,
        store=store,
        environ=environ,
        now=now,
        stderr=stderr,
        messages=messages,
        identity=identity,
    )
