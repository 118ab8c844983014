"""The contract: what every layer agrees on.

Owns the exceptions (one hierarchy under ``LocalTelemetryError``), the limits and name
patterns, document ids, and the published schemas with the one validity check every
reader uses. This module itself holds the contract's constants (one module, which every
path imports anyway): the version every document names as its producer, the default
flag and command names, the rules for app names and versions, and the limits and ids
below. Imports nothing from localtelemetry outside this package.

The limits are the ones every reader and writer of documents and bundles agrees on
(the store, the recorder, export, inspect, report and ingest), so that a value one of
them accepts is never refused (or worse, mishandled) by another. The schemas state the
same numbers (``minimum``/``maximum``, ``maxItems``, the date range of ``created_at``);
tests/test_schema_contract.py checks that they agree.
"""

from __future__ import annotations

import _thread  # threading's lock, without importing threading (for `localtelemetry run`)
import os

__version__ = "0.1.0"

# -- names -------------------------------------------------------------------------------
# Checked with string methods, not compiled regexes: every host process constructs a
# Telemetry (compiling both patterns cost it 0.2 ms); tests/test_write_path.py checks
# that each check accepts exactly what its pattern fully matches.

#: An app's name: it names the app's store directory, so every layer agrees on it.
APP_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
VERSION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9.+_-]{0,63}$"
#: The option that turns recording on for one run, and the management command group,
#: unless a host chooses other names.
FLAG = "--telemetry"
COMMAND = "telemetry"
_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def _plain(text: object, rest: str) -> bool:
    """Whether ``text`` is 1-64 characters, the first a letter or digit and the others
    letters, digits or ``rest``: the name patterns above."""
    return (
        isinstance(text, str)
        and 0 < len(text) <= 64
        and text[0] in _ALNUM
        and not text.strip(_ALNUM + rest)
    )


def is_app_name(text: object) -> bool:
    return _plain(text, "._-")


def is_version(text: object) -> bool:
    return _plain(text, ".+_-")


# -- limits --------------------------------------------------------------------------------
#: The largest integer magnitude any field may hold: 2^53 - 1 (JavaScript's
#: ``Number.MAX_SAFE_INTEGER``). Every engine a document may end up in holds it
#: exactly: DuckDB BIGINT, ClickHouse Int64, and a JSON parser that reads numbers as
#: doubles. Sums over a document (at most 100 counts) stay within Int64 as well.
MAX_SAFE_INTEGER = 2**53 - 1

#: ``created_at`` lies in these years (both included): real calendar dates that every
#: engine stores (ClickHouse's Date type ends in 2149). The recorder writes the nearest
#: end of the range when its clock is outside it.
FIRST_YEAR = 1970
LAST_YEAR = 2099

#: Nesting depth of any JSON value read from a store or a bundle (documents are about
#: six levels deep); deeper values are refused before anything recurses into them.
MAX_DEPTH = 32

#: Size of one document, in the store or in a bundle.
MAX_DOCUMENT_BYTES = 1024 * 1024

#: Entries kept in one map or list of a payload (the schemas' ``maxItems``); the
#: recorder drops the rest.
MAX_ITEMS = 100

#: The kinds of document, each with its schema (``schema/<kind>.schema.json``).
KINDS = ("cli-command", "build", "snapshot", "run-summary")

#: A path's extension, kept beside its hash (a path descriptor's ``extension``, the
#: ``<path:HASH.ext>`` token in free text): a dot and 1 to this many of ``[a-z0-9]``.
MAX_EXTENSION_CHARS = 10
#: That extension, without anchors (the schemas anchor it).
EXTENSION_PATTERN = rf"\.[a-z0-9]{{1,{MAX_EXTENSION_CHARS}}}"

#: A document or run id: 26 characters of Crockford's base32, lower case (``_contract``).
#: Written without anchors, to be embedded in the patterns of file and entry names.
ID_PATTERN = "[0-9a-hjkmnp-tv-z]{26}"

# -- bundles ---------------------------------------------------------------------------

#: Entries in a bundle's zip (documents, README.txt and manifest.json).
MAX_ENTRIES = 250_000
#: Size of a bundle's manifest.json: at most this, and at most
#: ``MANIFEST_BASE_BYTES + MANIFEST_BYTES_PER_ENTRY`` per entry of the zip (a file
#: listed in the manifest takes about 190 bytes).
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
MANIFEST_BASE_BYTES = 1024 * 1024
MANIFEST_BYTES_PER_ENTRY = 256
MAX_README_BYTES = 64 * 1024
#: Total uncompressed size of a bundle.
MAX_TOTAL_BYTES = 4 * 1024 * 1024 * 1024
#: Uncompressed / compressed size of one entry; JSON documents compress about 5-10x.
MAX_RATIO = 100
#: Entries up to this size may compress well without being bombs.
RATIO_FLOOR = 64 * 1024
#: One record of the zip's central directory: 46 fixed bytes, the name (at most 53
#: characters in a bundle), extra fields and a comment. Bounds the directory's size by
#: the number of entries its end record claims.
MAX_CENTRAL_RECORD_BYTES = 256


# -- ids ----------------------------------------------------------------------------------
# Sortable document and run ids: 48-bit millisecond time + 80 random bits, Crockford base32.
#
# Sorting ids sorts by creation time, which lets retention find the oldest documents from
# file names alone, without opening or stat-ing them.

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


_fork_hook: list[bool] = []  # registered once, on the first id of a process


def _register_fork_hook() -> None:
    if not _fork_hook:
        _fork_hook.append(True)
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
        if not _fork_hook and hasattr(os, "register_at_fork"):
            # First id of this process: from now on a forked child starts afresh. Done
            # here, not at import: a host run without --telemetry imports this module.
            _register_fork_hook()
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
