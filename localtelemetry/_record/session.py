"""Opening one recording run, for ``localtelemetry run`` (``_cli/wrap``): ``open_run``.

Record layer. Both ways a run records go through ``open_run``: a host app's
``Telemetry.begin_run`` (face) and ``localtelemetry run`` (``_cli/wrap``, cli), so the
wrapper records through the recorder and the store directly, never through the
``Telemetry`` object. ``open_run`` itself lives in ``recorder``: a host app's recorded
run imports that module anyway, and one module fewer on its path saves it about
0.1 ms (issue 14). Imported only when a run records.
"""

from __future__ import annotations

from .recorder import open_run

__all__ = ["open_run"]
