"""Turning what a run observed into documents: envelope, safe names, hashed values.

Everything that reaches a document from argv, the environment or the file system goes
through ``SafeValues``: strings become keyed hashes, paths become descriptors, free text
is scrubbed, and names that are not plain identifiers are hashed too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from ._hashing import ALGORITHM, Hasher
from ._limits import FIRST_YEAR, LAST_YEAR, MAX_SAFE_INTEGER
from ._version import __version__

SCHEMA_IDS = {
    kind: f"urn:localtelemetry:schema:{kind}:1"
    for kind in ("cli-command", "build", "snapshot", "run-summary")
}
NAME_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,63}$"
# Every secret and address rule needs digits, ':' or '@', or at least 17 characters.
PLAIN_WORD_PATTERN = r"^[A-Za-z_][A-Za-z_.-]{0,15}$"
_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_DIGITS = "0123456789"
_NAME_FIRST = frozenset(_LETTERS + _DIGITS + "_")
_NAME_REST = _LETTERS + _DIGITS + "_.:-"
_WORD_FIRST = frozenset(_LETTERS + "_")
_WORD_REST = _LETTERS + "_.-"


def is_name(text: str) -> bool:
    """Whether ``text`` fully matches NAME_PATTERN. String checks, not a regex: compiling
    the two patterns here cost every recorded run about 0.4 ms."""
    return 0 < len(text) <= 64 and text[0] in _NAME_FIRST and not text.strip(_NAME_REST)


def is_plain_word(text: str) -> bool:
    """Whether ``text`` fully matches PLAIN_WORD_PATTERN."""
    return 0 < len(text) <= 16 and text[0] in _WORD_FIRST and not text.strip(_WORD_REST)


MESSAGE_MAX = 500
MAX_ENTRIES = 100  # per map or list in a payload (the schemas' maxItems); more are dropped

DURATION_BUCKETS: tuple[tuple[float, str], ...] = (
    (100, "lt_100ms"),
    (500, "100ms_500ms"),
    (1_000, "500ms_1s"),
    (5_000, "1s_5s"),
    (30_000, "5s_30s"),
    (120_000, "30s_2m"),
    (600_000, "2m_10m"),
)
LAST_BUCKET = "gte_10m"
BUCKET_NAMES = (*tuple(name for _, name in DURATION_BUCKETS), LAST_BUCKET)


def duration_bucket(ms: float) -> str:
    for limit, name in DURATION_BUCKETS:
        if ms < limit:
            return name
    return LAST_BUCKET


_EARLIEST = datetime(FIRST_YEAR, 1, 1, tzinfo=timezone.utc)
_LATEST = datetime(LAST_YEAR, 12, 31, 23, 59, 59, 999000, tzinfo=timezone.utc)


def rfc3339(moment: datetime) -> str:
    # A clock outside the range the schemas allow gives the nearest end of it.
    utc = min(max(moment.astimezone(timezone.utc), _EARLIEST), _LATEST)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def round_ms(seconds: float) -> float:
    return round(max(0.0, seconds) * 1000.0, 3)


class SafeValues:
    """The only way raw strings become document content."""

    def __init__(self, hasher: Hasher) -> None:
        self.hasher = hasher
        self.redactions: dict[str, int] = {}

    def name(self, raw: object) -> str:
        """An author-chosen name (phase, counter, role): kept if it is a plain identifier
        that the scrubber leaves alone, else hashed as ``h:<hash>``."""
        text = str(raw)
        if not is_name(text):
            return "h:" + self.hasher.value(text)
        if is_plain_word(text):
            return text  # short, no digits or colons: no rule can match, skip the scrubber
        from ._scrub import scrub  # imported only when needed: a successful run rarely is

        if scrub(text, hash_path=self.hasher.path_hash).text == text:
            return text
        return "h:" + self.hasher.value(text)

    def message(
        self, raw: object, sensitive: set[str] | None = None, limit: int = MESSAGE_MAX
    ) -> str:
        """Free text: raw values the user gave are replaced first, then the scrubber runs."""
        text = str(raw)
        if sensitive:
            text = replace_sensitive(text, sensitive, self._token_for)
        from ._scrub import scrub

        result = scrub(text, hash_path=self.hasher.path_hash, max_length=limit)
        for kind, n in result.counts.items():
            self.redactions[kind] = self.redactions.get(kind, 0) + n
        return result.text

    def _token_for(self, value: str) -> str:
        """A path the user gave becomes the same hash token its descriptor carries."""
        if "/" in value or "\\" in value:
            ext = self.hasher.path_descriptor(value)["extension"] or ""
            return f"<path:{self.hasher.path_hash(value)}{ext}>"
        return SENSITIVE_MARKER

    def value_hash(self, raw: object) -> str:
        return self.hasher.value(str(raw))

    def path(self, raw: Any) -> dict[str, object]:
        return self.hasher.path_descriptor(str(raw) if not isinstance(raw, str) else raw)

    def counts(self, raw: Mapping[Any, Any] | None) -> dict[str, int]:
        out: dict[str, int] = {}
        for key, value in list((raw or {}).items())[:MAX_ENTRIES]:
            out[self.name(key)] = clamp_int(value)
        return out

    def named_hashes(self, raw: Iterable[tuple[Any, Any]]) -> list[dict[str, object]]:
        return [
            {"name": self.name(k), "hash": self.value_hash(v)} for k, v in list(raw)[:MAX_ENTRIES]
        ]


SENSITIVE_MARKER = "<redacted:argument>"


def replace_sensitive(
    text: str, sensitive: set[str], token_for: Callable[[str], str] | None = None
) -> str:
    """Replace every occurrence of a raw user-given value (longest first).

    Values shorter than 3 characters or made of digits only are left: they identify
    nothing and replacing them would garble the message.
    """
    values = sorted(
        (v for v in sensitive if len(v) >= 3 and not v.isdigit() and v in text),
        key=len,
        reverse=True,
    )
    if not values:
        return text
    pattern = re.compile("|".join(re.escape(v) for v in values))
    if token_for is None:
        return pattern.sub(SENSITIVE_MARKER, text)
    return pattern.sub(lambda m: token_for(m.group(0)), text)


def clamp_int(value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return 0
    return max(-MAX_SAFE_INTEGER, min(MAX_SAFE_INTEGER, number))


def envelope(
    *,
    kind: str,
    id_: str,
    run_id: str,
    created_at: datetime,
    app_name: str,
    app_version: str,
    environment: Mapping[str, object],
    key_id: str,
    payload: Mapping[str, object],
) -> dict[str, object]:
    return {
        "schema": SCHEMA_IDS[kind],
        "kind": kind,
        "id": id_,
        "run_id": run_id,
        "created_at": rfc3339(created_at),
        "app": {"name": app_name, "version": app_version},
        "producer": {"name": "localtelemetry", "version": __version__},
        "environment": dict(environment),
        "hashing": {"algorithm": ALGORITHM, "key_id": key_id},
        "payload": dict(payload),
    }


def serialize(document: Mapping[str, object]) -> bytes:
    """Bulk serialization (export, bundles): orjson, indented like the store's files."""
    import orjson

    return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)


# -- the recording path's serializer ---------------------------------------------------
#
# A run writes three or four small documents. orjson is fast per document, but importing
# it (and the json package it imports) costs a recorded run about 3 ms, several times
# what encoding these documents by hand costs. The output is the same indented JSON as
# ``serialize`` except for floats below 1e-4, which keep Python's exponent form
# (durations are rounded to microseconds, so documents have none).

_ESCAPES = {i: f"\\u{i:04x}" for i in range(0x20)}
_ESCAPES.update(
    {0x22: '\\"', 0x5C: "\\\\", 0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0C: "\\f", 0x0D: "\\r"}
)


def json_string(text: str) -> str:
    # Most strings need no escaping: checking that is several times cheaper than translate.
    if text.isprintable() and '"' not in text and "\\" not in text:
        return '"' + text + '"'
    return '"' + text.translate(_ESCAPES) + '"'


def _encode(value: object, indent: str, out: list[str]) -> None:
    """Append ``value`` as JSON; ``indent`` is the newline and indentation before it.

    Exact types are dispatched first (the documents hold nothing else); subclasses such
    as str enums take ``_encode_subclass``, which encodes them as their base type."""
    t = type(value)
    if t is str:
        out.append(json_string(value))  # type: ignore[arg-type]
    elif t is dict:
        if not value:
            out.append("{}")
            return
        inner = indent + "  "
        separator = "{" + inner
        for key, item in value.items():  # type: ignore[attr-defined]
            if type(key) is not str:
                if not isinstance(key, str):
                    raise TypeError(f"dict keys must be strings, not {type(key).__name__}")
                key = str.__str__(key)  # its own methods (isprintable, ...) are not trusted
            out.append(separator)
            out.append(json_string(key))
            out.append(": ")
            _encode(item, inner, out)
            separator = "," + inner
        out.append(indent + "}")
    elif t is list or t is tuple:
        if not value:
            out.append("[]")
            return
        inner = indent + "  "
        separator = "[" + inner
        for item in value:  # type: ignore[attr-defined]
            out.append(separator)
            _encode(item, inner, out)
            separator = "," + inner
        out.append(indent + "]")
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif t is int:
        out.append(int.__repr__(value))
    elif t is float:
        finite = value - value == 0.0  # type: ignore[operator]
        out.append(float.__repr__(value) if finite else "null")
    else:
        _encode_subclass(value, indent, out)


def _encode_subclass(value: object, indent: str, out: list[str]) -> None:
    # Like orjson: a subclass is written as its base type's value (a str enum as its
    # string), never through its own __str__ or __repr__.
    if isinstance(value, str):
        _encode(str.__str__(value), indent, out)
    elif isinstance(value, int):  # bool is handled before: True/False are singletons
        _encode(int(int.__index__(value)), indent, out)
    elif isinstance(value, float):
        _encode(float(float.__float__(value)), indent, out)
    elif isinstance(value, dict):
        _encode(dict(value), indent, out)
    elif isinstance(value, list | tuple):
        _encode(list(value), indent, out)
    else:
        raise TypeError(f"type {type(value).__name__} is not JSON serializable")


def encode_document(document: Mapping[str, object]) -> bytes:
    """A document as the recorder writes it: indented UTF-8 JSON and a newline.

    Raises TypeError for values JSON cannot hold and UnicodeEncodeError for lone
    surrogates (the recorder catches both and skips the document)."""
    out: list[str] = []
    _encode(dict(document), "\n", out)
    out.append("\n")
    return "".join(out).encode("utf-8")
