"""The limits every reader and writer of documents and bundles agrees on.

One module, imported by the store, the recorder, export, inspect, report and ingest,
so that a value one of them accepts is never refused (or worse, mishandled) by another.
The schemas state the same numbers (``minimum``/``maximum``, ``maxItems``, the date
range of ``created_at``); tests/test_schema_contract.py checks that they agree.
"""

from __future__ import annotations

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

#: A document or run id: 26 characters of Crockford's base32, lower case (``_ids``).
#: Written without anchors, to be embedded in the patterns of file and entry names.
ID_PATTERN = "[0-9a-hjkmnp-tv-z]{26}"

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
