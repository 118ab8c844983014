"""Unlinkable bundles: per-bundle document ids and run ids, and times cut to the day.

Without ``--keep-hashes`` two bundles of one store must not share an id, a run id or an
exact time, while inside one bundle the documents of a run still share one run id, ids
still sort by time, and the report (which works by UTC day) counts the same. See
docs/bundles.md, "Unlinkable bundles: ids and times".
"""

from __future__ import annotations

from datetime import datetime, timezone

from localtelemetry._contract import ID_CHARS, lowest_id
from localtelemetry._contract.exceptions import OperationFailed
from localtelemetry._store import KINDS

DAY_MS = 86_400_000
MIDNIGHT = "T00:00:00.000Z"  # the time of day of every created_at in a re-mapped bundle
#: Characters of a re-mapped document id that number it within its kind and day (32**5
#: documents, far more than a bundle may hold), after the day.
SEQUENCE_CHARS = 5
RUN_MEMO = 256  # the documents of a run are a few; a small memo keeps memory flat
_TAIL_CHARS = 16 - SEQUENCE_CHARS - 1
_TAIL_MASK = (1 << 5 * _TAIL_CHARS) - 1
_SEQUENCE_LIMIT = len(ID_CHARS) ** SEQUENCE_CHARS


# Made here, not in _contract: every recorded run imports _contract, only export needs these.
PAIRS = [a + b for a in ID_CHARS for b in ID_CHARS]  # 10 bits -> 2 characters
_TO_INT_DIGITS = str.maketrans(ID_CHARS, "0123456789abcdefghijklmnopqrstuv")


def format_id(ms: int, random_part: int) -> str:
    """The id ``_ids.new_id(ms, random_bytes=random_part.to_bytes(10, "big"))`` gives, at
    about half its cost. ``ms`` and ``random_part`` must fit in 48 and 80 bits."""
    v = (ms << 80) | random_part
    p = PAIRS
    return (
        p[v >> 120] + p[v >> 110 & 1023] + p[v >> 100 & 1023] + p[v >> 90 & 1023]
        + p[v >> 80 & 1023] + p[v >> 70 & 1023] + p[v >> 60 & 1023] + p[v >> 50 & 1023]
        + p[v >> 40 & 1023] + p[v >> 30 & 1023] + p[v >> 20 & 1023] + p[v >> 10 & 1023]
        + p[v & 1023]
    )  # fmt: skip


def valid_id_time_ms(id_: str) -> int:
    """``_contract.id_time_ms`` of an id known to match ``ID_PATTERN``, at a fraction of its
    cost (through ``int``'s base 32, whose digits are not Crockford's)."""
    return int(id_[:10].translate(_TO_INT_DIGITS), 32)


def day_of(moment: datetime) -> datetime:
    """00:00 UTC of the day of ``moment`` (a time with a zone)."""
    return moment.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)


def _day_start(ms: int) -> int:
    return ms - ms % DAY_MS


class Relabel:
    """Per-bundle document ids, run ids and times, so that two bundles of one store
    share none of them (docs/bundles.md, "Unlinkable bundles").

    * A run id becomes its run's day (the id's time cut to 00:00 UTC), then 80 bits of a
      keyed BLAKE3 hash of the stored run id under the bundle key: the same run gives the
      same id everywhere in the bundle, and nothing outside it.
    * A document id becomes its day, its number among the documents of its kind and day
      in this bundle (``SEQUENCE_CHARS`` characters), one character for its kind, and 50
      bits of a keyed hash of the kind and day. Documents are written in id order, so the
      new ids sort as the old ones did (entries stay sorted by name), no two can be equal,
      and nothing of the stored id is left but its day.
    * ``created_at`` is cut to its day (``MIDNIGHT``; export does it, it needs no state):
      what the report's daily series needs, and no exact time to match bundles by.

    No table of ids: the state is the current kind, day and number, and a memo of at most
    ``RUN_MEMO`` run ids (cleared when full; it only saves hashing a run id again).
    """

    def __init__(self, key: bytes) -> None:
        import blake3

        self._key = key
        self._blake3 = blake3.blake3
        self._kind = self._first = self._after = self._head = self._tail = ""
        self._number = 0
        self.runs: dict[str, str] = {}  # stored run id -> bundle run id (at most RUN_MEMO)

    def _keyed(self, data: bytes) -> int:
        return int.from_bytes(self._blake3(data, key=self._key).digest(length=10), "big")

    def run_id(self, old: str) -> str:
        """Of a valid document (validation checked ``old`` before)."""
        new = self.runs.get(old)
        if new is None:
            day = _day_start(valid_id_time_ms(old))
            new = format_id(day, self._keyed(b"run\0" + old.encode("ascii")))
            if len(self.runs) >= RUN_MEMO:
                self.runs.clear()
            self.runs[old] = new
        return new

    def document_id(self, kind: str, old: str) -> str:
        """Called once per document written, in bundle order (kind, then stored id)."""
        if kind != self._kind or not self._first <= old < self._after:  # ids sort by time
            self._start_group(kind, old)
        n = self._number
        if n >= _SEQUENCE_LIMIT:
            raise OperationFailed(f"too many {kind} documents of one day; export fewer")
        self._number = n + 1
        return self._head + PAIRS[n >> 15] + PAIRS[n >> 5 & 1023] + ID_CHARS[n & 31] + self._tail

    def _start_group(self, kind: str, old: str) -> None:
        day = _day_start(valid_id_time_ms(old))
        self._kind, self._number = kind, 0
        self._first, self._after = lowest_id(day), lowest_id(day + DAY_MS)
        tail = self._keyed(f"documents\0{kind}\0{day}".encode()) & _TAIL_MASK
        self._head = format_id(day, 0)[:10]
        self._tail = ID_CHARS[KINDS.index(kind)] + format_id(0, tail)[-_TAIL_CHARS:]
