"""Sortable document and run ids: 48-bit millisecond time + 80 random bits, Crockford base32.

Sorting ids sorts by creation time, which lets retention find the oldest documents from
file names alone, without opening or stat-ing them.
"""

from __future__ import annotations

import _thread  # threading's lock, without importing threading (for `localtelemetry run`)
import os

from .limits import ID_PATTERN as ID_PATTERN  # defined once, with the other limits

ID_CHARS = "0123456789abcdefghjkmnpqrstvwxyz"
ID_LENGTH = 26
_INDEX = {c: i for i, c in enumerate(ID_CHARS)}
_LOWEST_RANDOM = bytes(10)
#: Where each character's 5 bits start, most significant first.
_SHIFTS = tuple(range(5 * (ID_LENGTH - 1), -1, -5))


_lock = _thread.allocate_lock()
_last = [-1, 0]  # the last (ms, random part) this process handed out


def _forget_sequence() -> None:
    # A forked child must not continue its parent's sequence: both would hand out
    # the same ids in the same millisecond, and one document would replace the other.
    _last[0], _last[1] = -1, 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_sequence)


def new_id(epoch_ms: int, *, random_bytes: bytes | None = None) -> str:
    """Return a 26-character id whose first 10 characters encode ``epoch_ms``.

    Without ``random_bytes`` ids are monotonic within a process: a second id in the
    same millisecond (or after the clock stepped back by under a second) increments the
    previous one, so documents of one run always sort in the order they were written.
    """
    ms = min(max(epoch_ms, 0), (1 << 48) - 1)  # a clock before 1970 must not wrap around
    if random_bytes is not None:
        rnd = int.from_bytes(random_bytes[:10], "big")
    else:
        with _lock:
            # Same millisecond, or a small step back: continue the sequence. A large
            # step back is a clock set differently; follow it rather than stamping
            # documents with a time the clock no longer shows.
            if _last[0] - 1000 < ms <= _last[0] and _last[1] < (1 << 80) - 1:
                ms, rnd = _last[0], _last[1] + 1
            else:
                rnd = int.from_bytes(os.urandom(10), "big")
            _last[0], _last[1] = ms, rnd
    value = (ms << 80) | rnd
    return "".join([ID_CHARS[(value >> shift) & 31] for shift in _SHIFTS])


def is_id_prefix(text: str) -> bool:
    """Whether ``text`` is a whole id or the start of one (1 to 26 of ``ID_CHARS``)."""
    return 0 < len(text) <= ID_LENGTH and not text.strip(ID_CHARS)


def id_time_ms(id_: str) -> int:
    """The creation time (ms since the epoch) encoded in ``id_``."""
    value = 0
    for c in id_[:10]:
        value = (value << 5) | _INDEX[c]
    # 10 chars hold 50 bits: two always-zero bits above the 48-bit time.
    return value


def lowest_id(ms: int) -> str:
    """The smallest id of millisecond ``ms``: ids sort by time, so comparing ids with it
    compares creation times without decoding every id."""
    return new_id(ms, random_bytes=_LOWEST_RANDOM)
