"""Turning what a run observed into documents: envelope, safe names, hashed values.

Everything that reaches a document from argv, the environment or the file system goes
through ``SafeValues``: strings become keyed hashes, paths become descriptors, free text
is scrubbed, and names that are not plain identifiers are hashed too.

``Hasher`` is the keyed BLAKE3 underneath: the key is 32 random bytes per install (per
app store, kept by ``_store.store``) and never written into any document; documents
carry only ``key_id``, a keyed hash of a constant. Without the key a hash cannot be
reversed by trying a dictionary of likely paths or values. Domains keep kinds of input
apart: the same string hashed as a path and as a value gives different hashes, while
the same path always gives the same hash, whether it arrives through ``b.path()`` or
inside an error message. (Hashing lives here, not in a module of its own: every module
a recorded run imports costs the host about 0.3M instructions, issue 14.)
"""

from __future__ import annotations

import os
import posixpath
from datetime import datetime, timezone

import blake3

from localtelemetry._contract import EXTENSION_PATTERN as _EXTENSION
from localtelemetry._contract import (
    FIRST_YEAR,
    LAST_YEAR,
    MAX_EXTENSION_CHARS,
    MAX_ITEMS,
    MAX_SAFE_INTEGER,
    __version__,
)
from localtelemetry._store import KEY_BYTES

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy knows it)
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from types import ModuleType
    from typing import Any

    from .known import Redactor

HASH_BYTES = 16  # 128-bit hashes: 32 hex characters
HASH_PATTERN = r"^[0-9a-f]{32}(?![\s\S])"  # as in the schemas: no final newline
ALGORITHM = "blake3-keyed-128"
EXTENSION_PATTERN = rf"^{_EXTENSION}$"
_EXTENSION_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"

# -- keyed hashing ----------------------------------------------------------------------


def _path_module(windows: bool) -> ModuleType:
    """ntpath for Windows paths (tests hash them on any system), else posixpath: ntpath
    is imported only when needed (a Click host does not import it otherwise)."""
    if windows:
        import ntpath

        return ntpath
    return posixpath


def is_extension(text: str) -> bool:
    """Whether ``text`` fully matches EXTENSION_PATTERN (no regex compiled per run)."""
    return (
        2 <= len(text) <= MAX_EXTENSION_CHARS + 1
        and text[0] == "."
        and not text[1:].strip(_EXTENSION_CHARS)
    )


class Hasher:
    """Hashes strings and paths with one install key."""

    __slots__ = ("_home", "_key", "_windows", "key_id")

    def __init__(self, key: bytes, *, home: str | None = None, windows: bool | None = None):
        if len(key) != KEY_BYTES:
            from localtelemetry._contract.exceptions import KeyFileError

            raise KeyFileError(f"hashing key must be {KEY_BYTES} bytes, got {len(key)}")
        self._key = key
        self._windows = os.name == "nt" if windows is None else windows
        self._home = self._normalize(home) if home else None
        self.key_id = blake3.blake3(b"localtelemetry key id", key=key).hexdigest(length=8)

    def _digest(self, domain: bytes, data: str) -> str:
        raw = data.encode("utf-8", "surrogatepass")
        return blake3.blake3(domain + b"\0" + raw, key=self._key).hexdigest(length=HASH_BYTES)

    def value(self, data: str) -> str:
        """Hash a string value (filter, argument, name given by the user)."""
        return self._digest(b"value", data)

    def fingerprint(self, data: str | bytes) -> str:
        """Hash content the app wants to compare across runs without revealing it."""
        if isinstance(data, str):
            return self._digest(b"fingerprint", data)
        return blake3.blake3(b"fingerprint\0" + data, key=self._key).hexdigest(length=HASH_BYTES)

    def _normalize(self, path: str) -> str:
        if self._windows:
            import ntpath  # only for Windows paths (tests hash them on any system)

            return ntpath.normcase(ntpath.normpath(path))
        return posixpath.normpath(path) if path else path

    def path_hash(self, path: str) -> str:
        """Hash of the normalized path (used for descriptors and for paths in free text)."""
        return self._digest(b"path", self._normalize(path))

    def path_descriptor(self, path: str | os.PathLike[str]) -> dict[str, object]:
        """Hash + extension + absolute/under-home flags. Never the name."""
        text = os.fspath(path)
        normalized = self._normalize(text)
        module = _path_module(self._windows)
        is_absolute = module.isabs(normalized)
        under_home = False
        if self._home:
            expanded = normalized
            if text.startswith("~"):
                expanded = self._normalize(self._home + text[1:])
            sep = "\\" if self._windows else "/"
            under_home = expanded == self._home or expanded.startswith(self._home.rstrip(sep) + sep)
        ext = module.splitext(module.basename(normalized))[1].lower()
        return {
            "hash": self._digest(b"path", normalized),
            "extension": ext if is_extension(ext) else None,
            "is_absolute": is_absolute,
            "under_home": under_home,
        }


def home_directory(environ: Mapping[str, str]) -> str | None:
    return environ.get("HOME") or environ.get("USERPROFILE") or None


# -- documents ------------------------------------------------------------------------

SCHEMA_IDS = {
    kind: f"urn:localtelemetry:schema:{kind}:1"
    for kind in ("cli-command", "build", "snapshot", "run-summary")
}
NAME_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,63}$"
#: The shape of a name kept in clear (a subset of NAME_PATTERN, the schema's): no dots,
#: colons, ``@`` or slashes, at most 40 characters; ``is_clear_name`` also refuses
#: parts that look random.
CLEAR_NAME_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_-]{0,39}$"
CLEAR_NAME_MAX = 40
# Every secret and address rule needs digits, ':', '@' or '.' (internal host names such
# as db.local), or at least 17 characters.
PLAIN_WORD_PATTERN = r"^[A-Za-z_][A-Za-z_-]{0,15}$"
_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_DIGITS = "0123456789"
_HEX = frozenset(_DIGITS + "abcdefABCDEF")
_NAME_FIRST = frozenset(_LETTERS + _DIGITS + "_")
_NAME_REST = _LETTERS + _DIGITS + "_.:-"
_CLEAR_REST = _LETTERS + _DIGITS + "_-"
_WORD_FIRST = frozenset(_LETTERS + "_")
_WORD_REST = _LETTERS + "_-"


def is_name(text: str) -> bool:
    """Whether ``text`` fully matches NAME_PATTERN. String checks, not a regex: compiling
    the two patterns here cost every recorded run about 0.4 ms."""
    return 0 < len(text) <= 64 and text[0] in _NAME_FIRST and not text.strip(_NAME_REST)


def is_plain_word(text: str) -> bool:
    """Whether ``text`` fully matches PLAIN_WORD_PATTERN."""
    return 0 < len(text) <= 16 and text[0] in _WORD_FIRST and not text.strip(_WORD_REST)


def looks_random(run: str) -> bool:
    """Whether a run of letters and digits looks like a token, not a word (the rule of
    docs/privacy.md, "Names in clear"):

    - six or more digits in a row (account and phone numbers, timestamps);
    - letters and digits mixed, in 16 or more characters, or in 8 or more with at least
      three changes between letters and digits (``a1b2c3d4``; ``python311``,
      ``sha256sum`` and ``utf8mb4`` stay);
    - 12 or more hexadecimal digits (``deadbeefcafe``, ``3fa9c0e1b2d4``);
    - 16 or more letters with three capitals each followed by a single lower-case
      letter and another capital (``QxZtRkPvWmNaLsEd``; ``IsADirectoryError`` stays).
    """
    n = len(run)
    if n < 6:
        return False
    digits = 0
    in_a_row = 0
    switches = 0
    lone = 0
    previous_digit = run[0] in _DIGITS
    for i, c in enumerate(run):
        is_digit = c in _DIGITS
        if is_digit:
            digits += 1
            in_a_row += 1
            if in_a_row >= 6:
                return True
        else:
            in_a_row = 0
            if 0 < i < n - 1 and c.islower() and run[i - 1].isupper() and run[i + 1].isupper():
                lone += 1
        if i and is_digit != previous_digit:
            switches += 1
        previous_digit = is_digit
    if n >= 12 and all(c in _HEX for c in run):
        return True
    if 0 < digits < n:
        return n >= 16 or (n >= 8 and switches >= 3)
    return digits == 0 and n >= 16 and lone >= 3


def is_clear_name(text: str) -> bool:
    """Whether an author-chosen name may be stored in clear: it fully matches
    CLEAR_NAME_PATTERN and none of its parts between ``_`` and ``-`` looks random."""
    if not (0 < len(text) <= CLEAR_NAME_MAX and text[0] in _NAME_FIRST):
        return False
    if text.strip(_CLEAR_REST):
        return False
    return not any(looks_random(run) for run in text.replace("-", "_").split("_"))


def is_version_shape(text: str) -> bool:
    """A PEP 440 version (without an epoch) or a SemVer 2.0 version, or ``unknown`` /
    ``dev``; nothing else is stored in clear as the app's version."""
    if text in ("unknown", "dev"):
        return True
    numbers = text.split(".")
    if all(n and not n.strip(_DIGITS) for n in numbers):
        return True  # the common case (1.2.3), without compiling a pattern
    from re import IGNORECASE, fullmatch

    return fullmatch(_PEP440, text, IGNORECASE) is not None or fullmatch(_SEMVER, text) is not None


# Written from the grammars in PEP 440 ("Appendix B", normalisation included) and
# semver.org 2.0.0; epochs (``1!2.0``) are left out: ``!`` is not allowed in the schema.
_PEP440 = (
    r"v?[0-9]+(?:\.[0-9]+)*"
    r"(?:[-_.]?(?:a|b|c|rc|alpha|beta|pre|preview)[-_.]?[0-9]*)?"
    r"(?:-[0-9]+|[-_.]?(?:post|rev|r)[-_.]?[0-9]*)?"
    r"(?:[-_.]?dev[-_.]?[0-9]*)?"
    r"(?:\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?"
)
_SEMVER_ID = r"[0-9A-Za-z-]+"
_SEMVER = (
    r"(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)"
    rf"(?:-{_SEMVER_ID}(?:\.{_SEMVER_ID})*)?(?:\+{_SEMVER_ID}(?:\.{_SEMVER_ID})*)?"
)


def _may_match_a_rule(version: str) -> bool:
    """Whether a scrubbing rule could match a version of a clear shape: four numbers in
    a row (an IPv4 address) or more than eight digits (card, phone and account numbers).
    Other versions skip the scrubber, which would cost a recorded run its loading."""
    in_a_row = longest = 0
    for part in version.replace("-", ".").replace("+", ".").split("."):
        in_a_row = in_a_row + 1 if part and not part.strip(_DIGITS) else 0
        longest = max(longest, in_a_row)
    return longest >= 4 or sum(c in _DIGITS for c in version) > 8


def is_clear_version(text: str) -> bool:
    """Whether the app's version may be stored in clear: a version by shape (PEP 440 or
    SemVer) whose runs of letters and digits do not look random (numbers and
    ``g<commit>`` excepted)."""
    if not (is_version_shape(text) and is_name(text.replace("+", "_"))):
        return False
    runs = text.replace("-", ".").replace("+", ".").replace("_", ".").split(".")
    return not any(looks_random(run) for run in runs if not _numeric_or_git(run))


def _numeric_or_git(run: str) -> bool:
    """A number, or ``g`` and a short commit hash as ``git describe`` and setuptools-scm
    write it (``0.1.dev12+g1a2b3c4``)."""
    if not run.strip(_DIGITS):
        return True
    return 8 <= len(run) <= 13 and run[0] == "g" and not run[1:].strip("0123456789abcdef")


MESSAGE_MAX = 500

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

    def __init__(self, hasher: Hasher, *, messages: bool = True) -> None:
        self.hasher = hasher
        self.messages = messages  # False: free text is never stored (Telemetry(messages=False))
        self.redactions: dict[str, int] = {}
        # The scrubber's results by (text, limit): a failing run scrubs its message for
        # the build and the cli-command document; the counts are replayed on a hit.
        self._scrubbed: dict[tuple[str, int], tuple[str, dict[str, int]]] = {}

    def _count(self, kind: str, n: int = 1) -> None:
        self.redactions[kind] = self.redactions.get(kind, 0) + n

    def name(self, raw: object) -> str:
        """An author-chosen name (phase, counter, role, command, exception class): kept
        if ``is_clear_name`` accepts it and the scrubber leaves it alone, else hashed as
        ``h:<hash>`` and counted as a ``name`` redaction."""
        text = str(raw)
        if is_clear_name(text) and (is_plain_word(text) or self._unscrubbed(text)):
            return text  # a plain word (no digits) cannot match a rule: no scrubber needed
        return self.hashed_name(text)

    def hashed_name(self, text: str) -> str:
        self._count("name")
        return "h:" + self.hasher.value(text)

    def choice(self, raw: object) -> str:
        """A choice value: a name, or a plain decimal number such as ``0.5``."""
        text = str(raw)
        parts = text.split(".")
        if len(parts) == 2 and len(text) <= 16 and all(p and not p.strip(_DIGITS) for p in parts):
            return text
        return self.name(text)

    def version(self, raw: str) -> str:
        """The app's version: kept when it looks like one (``is_clear_version``), else
        ``h-`` and its keyed hash (the schema's version pattern allows that, and no
        PEP 440 or SemVer version starts with ``h``), counted as ``version``."""
        if is_clear_version(raw) and (not _may_match_a_rule(raw) or self._unscrubbed(raw)):
            return raw
        self._count("version")
        return "h-" + self.hasher.value(raw)

    def _unscrubbed(self, text: str) -> bool:
        from .scrub import scrub  # imported only when needed: a successful run rarely is

        return scrub(text, hash_path=self.hasher.path_hash).text == text

    def message(
        self,
        raw: object,
        known: Callable[[], Redactor] | None = None,
        limit: int = MESSAGE_MAX,
    ) -> str | None:
        """Free text: values the run saw (``known()``, built only when needed) are
        replaced first, then the scrubber runs. None when the app turned messages off."""
        if not self.messages:
            self._count("message")
            return None
        text = str(raw)
        redactor = known() if known is not None else None
        if redactor:
            text, counts = redactor.redact(text, self.path_token)
            for kind, n in counts.items():
                self._count(kind, n)
        cached = self._scrubbed.get((text, limit))
        if cached is None:
            from .scrub import scrub

            result = scrub(text, hash_path=self.hasher.path_hash, max_length=limit)
            cached = self._scrubbed[text, limit] = (result.text, dict(result.counts))
        for kind, n in cached[1].items():
            self._count(kind, n)
        return cached[0]

    def path_token(self, value: str) -> str:
        """A path in free text becomes the same hash token its descriptor carries."""
        ext = self.hasher.path_descriptor(value)["extension"] or ""
        return f"<path:{self.hasher.path_hash(value)}{ext}>"

    def value_hash(self, raw: object) -> str:
        return self.hasher.value(str(raw))

    def path(self, raw: Any) -> dict[str, object]:
        return self.hasher.path_descriptor(str(raw) if not isinstance(raw, str) else raw)

    def counts(self, raw: Mapping[Any, Any] | None) -> dict[str, int]:
        out: dict[str, int] = {}
        for key, value in list((raw or {}).items())[:MAX_ITEMS]:
            out[self.name(key)] = clamp_int(value)
        return out

    def named_hashes(self, raw: Iterable[tuple[Any, Any]]) -> list[dict[str, object]]:
        return [
            {"name": self.name(k), "hash": self.value_hash(v)} for k, v in list(raw)[:MAX_ITEMS]
        ]


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
        **_run_part(app_name, app_version, environment, key_id),
        "payload": dict(payload),
    }


def _run_part(
    app_name: str, app_version: str, environment: Mapping[str, object], key_id: str
) -> dict[str, object]:
    """The members of an envelope that are the same in every document of a run."""
    return {
        "app": {"name": app_name, "version": app_version},
        "producer": {"name": "localtelemetry", "version": __version__},
        "environment": dict(environment),
        "hashing": {"algorithm": ALGORITHM, "key_id": key_id},
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


#: Encoded keys: documents use a few dozen key names, run after run.
_KEYS: dict[str, str] = {}
#: Values written without a call: None, booleans (``True == 1`` but ``True is not 1``).
_LITERALS = {id(None): "null", id(True): "true", id(False): "false"}


def _encode(value: object, indent: str, out: list[str]) -> None:
    """Append ``value`` as JSON; ``indent`` is the newline and indentation before it.

    Exact types are dispatched first (the documents hold nothing else); subclasses such
    as str enums take ``_encode_subclass``, which encodes them as their base type. The
    members of a dict or list that are strings, None or booleans are written in the
    loop itself (a call each cost the recording path a third of its encoding time)."""
    t = type(value)
    if t is str:
        out.append(json_string(value))  # type: ignore[arg-type]
    elif t is dict:
        if not value:
            out.append("{}")
            return
        inner = indent + "  "
        separator = "{" + inner
        keys = _KEYS
        for key, item in value.items():  # type: ignore[attr-defined]
            if type(key) is str:
                encoded = keys.get(key)
                if encoded is None:
                    encoded = json_string(key) + ": "
                    if len(keys) < 1024:
                        keys[key] = encoded
            else:
                if not isinstance(key, str):
                    raise TypeError(f"dict keys must be strings, not {type(key).__name__}")
                # its own methods (isprintable, ...) are not trusted
                encoded = json_string(str.__str__(key)) + ": "
            out.append(separator)
            out.append(encoded)
            if type(item) is str:
                out.append(json_string(item))
            elif id(item) in _LITERALS:
                out.append(_LITERALS[id(item)])
            else:
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
            if type(item) is str:
                out.append(json_string(item))
            else:
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


def encode_run_part(
    *, app_name: str, app_version: str, environment: Mapping[str, object], key_id: str
) -> str:
    """The run's part of every envelope (app, producer, environment, hashing), encoded
    once per run for ``encode_envelope``: about a third of each document."""
    out: list[str] = []
    for key, value in _run_part(app_name, app_version, environment, key_id).items():
        out.append(",\n  " + json_string(key) + ": ")
        _encode(value, "\n  ", out)
    return "".join(out)


def encode_envelope(
    *,
    kind: str,
    id_: str,
    run_id: str,
    created_at: datetime,
    run_part: str,
    payload: Mapping[str, object],
) -> bytes:
    """``encode_document(envelope(...))``, with the run's part encoded once
    (``encode_run_part``) instead of once per document."""
    out = [
        '{\n  "schema": ',
        json_string(SCHEMA_IDS[kind]),
        ',\n  "kind": ',
        json_string(kind),
        ',\n  "id": ',
        json_string(id_),
        ',\n  "run_id": ',
        json_string(run_id),
        ',\n  "created_at": ',
        json_string(rfc3339(created_at)),
        run_part,
        ',\n  "payload": ',
    ]
    _encode(dict(payload), "\n  ", out)
    out.append("\n}\n")
    return "".join(out).encode("utf-8")


def encode_document(document: Mapping[str, object]) -> bytes:
    """A document as the recorder writes it: indented UTF-8 JSON and a newline.

    Raises TypeError for values JSON cannot hold and UnicodeEncodeError for lone
    surrogates (the recorder catches both and skips the document)."""
    out: list[str] = []
    _encode(dict(document), "\n", out)
    out.append("\n")
    return "".join(out).encode("utf-8")
