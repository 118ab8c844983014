"""Sortable document and run ids: 48-bit millisecond time + 80 random bits, Crockford base32.

Sorting ids sorts by creation time, which lets retention find the oldest documents from
file names alone, without opening or stat-ing them.
"""

from __future__ import annotations

import os
import re

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
_INDEX = {c: i for i, c in enumerate(_ALPHABET)}
ID_PATTERN = "[0-9a-hjkmnp-tv-z]{26}"
ID_RE = re.compile(rf"^{ID_PATTERN}$")


def new_id(epoch_ms: int, *, random_bytes: bytes | None = None) -> str:
    """Return a 26-character id whose first 10 characters encode ``epoch_ms``."""
    rnd = os.urandom(10) if random_bytes is None else random_bytes
    value = ((epoch_ms & ((1 << 48) - 1)) << 80) | int.from_bytes(rnd[:10], "big")
    chars = []
    for _ in range(26):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def id_time_ms(id_: str) -> int:
    """The creation time (ms since the epoch) encoded in ``id_``."""
    value = 0
    for c in id_[:10]:
        value = (value << 5) | _INDEX[c]
    # 10 chars hold 50 bits: two always-zero bits above the 48-bit time.
    return value
