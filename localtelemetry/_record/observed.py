"""A store that tells observers about every document it wrote, byte for byte.

Two observers exist: the live view (``LOCALTELEMETRY_ECHO=1`` prints each document to
stderr as it is written, exactly as stored) and ``localtelemetry.testing.record``,
which remembers the files its run wrote instead of listing the store afterwards. A
recording run without either uses the plain ``Store``: this module is not imported.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO

from localtelemetry._store import Limits, StoreLocation
from localtelemetry._store.store import Store

Observer = Callable[[Path, bytes], None]


class ObservedStore(Store):
    def __init__(
        self, location: StoreLocation, *, limits: Limits, observers: list[Observer]
    ) -> None:
        super().__init__(location, limits=limits)
        self.observers = observers

    def write_document(self, kind: str, id_: str, data: bytes, *, journal: bool = False) -> str:
        final = super().write_document(kind, id_, data, journal=journal)
        for observer in self.observers:
            # An observer must not turn a written document into a failed write.
            with contextlib.suppress(Exception):
                observer(Path(final), data)
        return final


def echo_to(stream: IO[str] | None) -> Observer:
    """Writes each document's bytes, unchanged, to ``stream`` (default: the current
    ``sys.stderr``). Documents end with a newline, so the output is a stream of JSON
    objects that ``jq`` reads as it comes."""

    def echo(path: Path, data: bytes) -> None:
        out = stream if stream is not None else sys.stderr
        out.flush()
        buffer = getattr(out, "buffer", None)
        if buffer is not None:
            buffer.write(data)
            buffer.flush()
        else:
            out.write(data.decode("utf-8"))
            out.flush()

    return echo
