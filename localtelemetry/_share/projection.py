"""Export's rewrite of a stored document: one walk over document and schema together.

The walk does what the export needs of every value:

* projection: a field the schema does not allow is dropped, never copied;
* scrubbing: every string is scrubbed again with the current rules (the store may hold
  documents written by an older version); names that now look like data are hashed;
* re-keying: every hash (hash fields, ``h:`` names, ``<path:...>`` tokens in free text,
  and the key id) is mapped through the bundle's key, so two bundles cannot be linked;
* known values (``_share/redact``: the user's ``--redact`` words, this machine's names): free
  text gets ``<redacted:KIND>`` markers, a name that holds one is hashed, a short text
  field with a fixed format gets the word ``redacted``; with ``messages=False`` (export's
  ``--no-messages``) every free-text field becomes null.

Which rule applies to a string is decided by the schema definition it refers to
(``hash``, ``name``, ``message``), not by guessing from the value. Values that
localtelemetry itself makes in a fixed format (ids, times, hashes, the key id, the
Python and localtelemetry versions, enum and const values) carry nothing of the user's
and are never searched for known values: see ``MACHINE_MADE``.

The walk is compiled once per bundle, per (schema node, rule name, depth), into
closures (schema references resolved with ``_contract/schemas.resolve``), and three things keep
it cheap:

* **Memo.** What a string becomes depends only on the string, its node and the bundle's
  key, and most strings recur (names, enum values, hashes, messages of repeated
  failures). Each node keeps its results with the report counts they add (added again
  on every hit), up to a bounded number and size, so memory stays flat. Objects whose
  values are all strings, booleans or null (the envelope's ``app``, ``producer``,
  ``environment`` and ``hashing``) are kept the same way, as a whole; a node whose
  objects keep differing (path descriptors) stops keeping them.
* **Clean patterns.** A string that fully matches one of ``CLEAN_PATTERNS`` (ASCII only)
  is not scrubbed again: no scrubbing rule can match inside one (see there; tested on
  generated strings).
* **Depth.** A document nested deeper than ``MAX_DEPTH`` is refused (``TooDeepError``)
  without a pass of its own: walked values are checked where they are (the closures are
  compiled per depth), dropped ones with ``nested_deeper_than``.

A refused document adds nothing to the redaction report. The walk does not validate:
a value of a type its node does not expect is walked as the value it is, and export
validates what it writes (``_contract/schemas.validation_errors``).
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from localtelemetry._contract import EXTENSION_PATTERN, MAX_DEPTH
from localtelemetry._contract.exceptions import TooDeepError
from localtelemetry._contract.schemas import (
    CREATED_AT_PATTERN,
    ID_PATTERN,
    load_schema,
    nested_deeper_than,
    resolve,
)
from localtelemetry._record.documents import HASH_PATTERN
from localtelemetry._record.scrub import scrub
from localtelemetry._store import KINDS

from .redact import Redactor

_PATH_TOKEN_RE = re.compile(rf"<path:([0-9a-f]{{32}})((?:{EXTENSION_PATTERN})?)>")
_HASHED_NAME_RE = re.compile(r"^h:([0-9a-f]{32})$")
MESSAGE_CAP = 500

#: Nodes (of every kind's schema) whose strings localtelemetry makes itself, in a fixed
#: format: never searched for known values (the walk still scrubs them, as every string).
MACHINE_MADE = (
    "/$defs/id",
    "/$defs/created_at",
    "/$defs/hash",
    "/$defs/hashing/properties/key_id",
    "/$defs/environment/properties/python",
    "/$defs/producer/properties/version",
)

CLEAN_PATTERNS: frozenset[str] = frozenset(
    {
        # id and run_id: 26 lower-case letters and digits. Every rule needs a character
        # outside [0-9a-z] (/ \ : = @ . - _ < a space or a capital), or a run of 40, but
        # card numbers: 13-19 digits between non-word characters, not inside 26 letters.
        ID_PATTERN,
        # created_at: 2026-11-23T14:41:23.559Z. Digits, - : . T Z in fixed places: no
        # run of 13 digits, no dotted quad, no MAC (needs six 2-digit groups), no IPv6
        # (needs a start not glued to a word character, ':' or '.'), no path, no URL.
        CREATED_AT_PATTERN,
    }
)
"""Patterns of plain-text string fields whose matching values are left as they are."""

#: How a plain-text string is treated (``Rewriter._text_rule``).
FIXED, PATTERNED, FREE = "fixed", "patterned", "free"
ITEMS, VALUES = "[]", "*"  # path steps: every item of an array, every value of a map

Walk = Callable[[Any], Any]
# What walking an object of scalars gave: the output, then what it added to the report
# (substitutions, fields dropped, names hashed).
_ObjectResult = tuple[dict[str, Any], dict[str, int] | None, int, int]
_ANY: dict[str, Any] = {}  # the node of a missing "items" or anyOf branch: anything goes
_SCALARS = frozenset({int, float, bool, type(None)})

# Bounds of the memo (per node, and over all nodes): reached within the first few
# hundred documents, so memory does not grow with the number of documents exported.
_MEMO_ENTRIES = 256  # per node
_OBJECT_ENTRIES = 256  # per object node whose values are all scalars
_OBJECT_TRIES = 64  # misses more than hits by this many: the node's objects are not kept
_MEMO_CHARS = 1024  # longer strings are not kept
_MEMO_BUDGET = 1 << 20  # characters kept over all nodes


class _TooDeep(Exception):
    pass


def machine_made_nodes() -> frozenset[int]:
    """Identities of the ``MACHINE_MADE`` nodes of every kind's schema (schemas are
    loaded once, so a walked node is one of these exactly when it is the same object)."""
    found: set[int] = set()
    for kind in KINDS:  # each schema holds the shared definitions it uses
        schema = load_schema(kind)
        for pointer in MACHINE_MADE:
            with contextlib.suppress(KeyError):  # a definition this kind does not use
                found.add(id(resolve({"$ref": "#" + pointer}, schema)[0]))
    return frozenset(found)


@functools.cache
def free_text_fields(kind: str) -> tuple[tuple[str, ...], ...]:
    """Where the free-text fields (those of the ``message`` definition) of a document of
    ``kind`` are, as paths of keys with ``ITEMS`` and ``VALUES`` steps; from the schema,
    as the walk decides."""
    found: list[tuple[str, ...]] = []
    schema = load_schema(kind)

    def visit(node: dict[str, Any], path: tuple[str, ...]) -> None:
        if len(path) > MAX_DEPTH:
            return
        node, name = resolve(node, schema)
        if name == "message":
            found.append(path)
            return
        if "anyOf" in node:
            visit(next((b for b in node["anyOf"] if b.get("type") != "null"), _ANY), path)
            return
        properties = node.get("properties")
        if isinstance(properties, dict):
            for key, child in properties.items():
                visit(child, (*path, key))
        elif isinstance(node.get("additionalProperties"), dict):
            visit(node["additionalProperties"], (*path, VALUES))
        if isinstance(node.get("items"), dict):
            visit(node["items"], (*path, ITEMS))

    visit(schema, ())
    return tuple(found)


def values_at(
    document: dict[str, Any], paths: tuple[tuple[str, ...], ...]
) -> list[tuple[str, str]]:
    """(field, string) for every string found at ``paths`` in ``document``; the field is
    the path written ``payload.error_message`` (``phases[].x``, ``counters.*``)."""
    out: list[tuple[str, str]] = []
    for path in paths:
        label = ".".join(path).replace(f".{ITEMS}", ITEMS)
        values: list[Any] = [document]
        for step in path:
            if step == ITEMS:
                values = [v for value in values if isinstance(value, list) for v in value]
            elif step == VALUES:
                values = [v for value in values if isinstance(value, dict) for v in value.values()]
            else:
                values = [
                    value[step] for value in values if isinstance(value, dict) and step in value
                ]
        out.extend((label, value) for value in values if isinstance(value, str))
    return out


@dataclass
class Rewriter:
    """Rewrites documents for one bundle; collects the redaction report."""

    rekey: Callable[[str], str]  # stored hash -> bundle hash (identity with --keep-hashes)
    key_id: str  # what documents' hashing.key_id becomes
    hash_new_text: Callable[[str], str]  # hashes a path found only now, already re-keyed
    hash_name: Callable[[str], str]  # hashes a name that looks like data, already re-keyed
    redactor: Redactor | None = None  # known values to remove (None or empty: none)
    messages: bool = True  # False: every free-text field becomes null
    substitutions: dict[str, int] = field(default_factory=dict)
    fields_dropped: int = 0
    names_hashed: int = 0

    def __post_init__(self) -> None:
        if self.redactor is not None and not self.redactor:
            self.redactor = None
        self._machine_made = machine_made_nodes()
        self._walks: dict[tuple[int, str | None, int], Walk] = {}
        self._roots: dict[str, Walk] = {}
        self._budget = _MEMO_BUDGET
        self._map_names: dict[str, tuple[str, dict[str, int] | None, int]] = {}

    # -- documents ------------------------------------------------------------------

    def rewrite(self, document: dict[str, Any]) -> dict[str, Any]:
        """The document as the bundle holds it. Raises ``TooDeepError``, ``Unredactable``
        (ValueErrors both), or ``UsageError`` for a document of no known kind: all mean
        "leave it out"."""
        kind = str(document.get("kind"))
        root = self._roots.get(kind)
        if root is None:
            if nested_deeper_than(document, MAX_DEPTH):  # before its kind is looked up
                raise TooDeepError(f"document nested deeper than {MAX_DEPTH} levels")
            schema = load_schema(kind)
            root = self._roots[kind] = self._compile(schema, schema, None, 0)
        # This document's substitutions are counted apart and added when it is done: a
        # refused document adds nothing to the report.
        total, dropped, hashed = self.substitutions, self.fields_dropped, self.names_hashed
        self.substitutions = {}
        try:
            rewritten = root(document)
        except BaseException as exc:
            self.substitutions, self.fields_dropped, self.names_hashed = total, dropped, hashed
            # Too deep anywhere is the reason given first, as if checked before the walk.
            if isinstance(exc, _TooDeep) or (
                isinstance(exc, Exception) and nested_deeper_than(document, MAX_DEPTH)
            ):
                raise TooDeepError(f"document nested deeper than {MAX_DEPTH} levels") from None
            raise
        for kind, n in self.substitutions.items():
            total[kind] = total.get(kind, 0) + n
        self.substitutions = total
        hashing = rewritten.get("hashing")
        if isinstance(hashing, dict) and "key_id" in hashing:
            hashing["key_id"] = self.key_id
        return rewritten  # type: ignore[no-any-return]

    # -- compiling ------------------------------------------------------------------

    def _compile(
        self, node: dict[str, Any], schema: dict[str, Any], name: str | None, depth: int
    ) -> Walk:
        key = (id(node), name, depth)
        walk = self._walks.get(key)
        if walk is None:
            cell: list[Walk] = []
            self._walks[key] = lambda v: cell[0](v)  # while compiling (recursive schemas)
            walk = self._build(node, schema, name, depth)
            cell.append(walk)
            self._walks[key] = walk
        return walk

    def _build(
        self, node: dict[str, Any], schema: dict[str, Any], name: str | None, depth: int
    ) -> Walk:
        node, ref_name = resolve(node, schema)
        name = ref_name or name
        if "anyOf" in node:
            branch = next((b for b in node["anyOf"] if b.get("type") != "null"), _ANY)
            inner = self._compile(branch, schema, name, depth)
            return lambda value: None if value is None else inner(value)

        # Every value is walked, of the type the node expects or not (a document that is
        # invalid after the walk is left out by export's validation).
        def any_value(value: Any) -> Any:
            kind = type(value)
            if kind is str:
                return string(value)
            if kind is dict:
                return obj(value)
            return arr(value) if kind is list else value

        def too_deep(value: Any) -> Any:
            raise _TooDeep

        obj: Walk = too_deep
        arr: Walk = too_deep
        if depth < MAX_DEPTH:  # deeper, an object or array is nested too deep
            obj = self._compile_object(node, schema, depth, any_value)
            arr = self._compile_array(node, schema, depth, any_value)
        string = self._compile_string(node, name, any_value)
        declared = node.get("type")
        types = set(declared) if isinstance(declared, list) else {declared}
        if types == {"object"}:
            return obj
        if types == {"array"}:
            return arr
        if types == {"string"} or name in ("hash", "name", "message"):
            return string if types == {"string"} else any_value
        if node.get("pattern") == HASH_PATTERN:
            return any_value
        options = node["enum"] if "enum" in node else [node.get("const")]
        if not isinstance(options, list) or not any(type(o) is str for o in options):
            return any_value
        # The strings of an enum or const go straight through once scrubbing has been
        # found to leave them as they are (all of ours).
        strings = frozenset(o for o in options if type(o) is str)
        unchanged: dict[str, bool] = {}

        def choice(value: Any) -> Any:
            if type(value) is not str or value not in strings:
                return any_value(value)
            same = unchanged.get(value)
            if same is None:
                same = unchanged[value] = self._text_result(value) == (value, {})
            return value if same else string(value)

        return choice

    def _compile_object(
        self, node: dict[str, Any], schema: dict[str, Any], depth: int, other: Walk
    ) -> Walk:
        """Objects at ``node``; ``other`` walks a value that is not an object."""
        properties = node.get("properties")
        extra = node.get("additionalProperties")
        limit = MAX_DEPTH - depth - 1  # for values below this object that are not walked
        if isinstance(properties, dict):
            walks = {k: self._compile(s, schema, None, depth + 1) for k, s in properties.items()}

            def fields(value: Any) -> Any:
                if type(value) is not dict:
                    return other(value)
                out: dict[str, Any] = {}
                for key, item in value.items():
                    walk = walks.get(key)
                    if walk is not None:
                        out[key] = walk(item)
                        continue
                    self.fields_dropped += 1
                    if isinstance(item, dict | list) and nested_deeper_than(item, limit):
                        raise _TooDeep
                return out

            if all(self._is_text_leaf(s, schema) for s in properties.values()):
                return self._memoized(fields)
            return fields
        if isinstance(extra, dict):  # a map such as counters: keys are names
            walk = self._compile(extra, schema, None, depth + 1)

            def mapping(value: Any) -> Any:
                if type(value) is not dict:
                    return other(value)
                return {self._map_name(str(key)): walk(item) for key, item in value.items()}

            return mapping

        def dropped(value: Any) -> Any:  # no field allowed (or not an object node)
            if type(value) is not dict:
                return other(value)
            self.fields_dropped += len(value)
            for item in value.values():
                if isinstance(item, dict | list) and nested_deeper_than(item, limit):
                    raise _TooDeep
            return {}

        return dropped

    def _compile_array(
        self, node: dict[str, Any], schema: dict[str, Any], depth: int, other: Walk
    ) -> Walk:
        """Arrays at ``node``; ``other`` walks a value that is not an array."""
        items = node.get("items")
        walk = self._compile(items if isinstance(items, dict) else _ANY, schema, None, depth + 1)

        def array(value: Any) -> Any:
            if type(value) is not list:
                return other(value)
            return [walk(v) for v in value]

        return array

    def _compile_string(self, node: dict[str, Any], name: str | None, other: Walk) -> Walk:
        """The rule for the strings of this node, memoized per value; ``other`` walks a
        value that is not a string."""
        if node.get("pattern") == HASH_PATTERN:
            name = "hash"
        compute: Callable[[str], tuple[str | None, dict[str, int] | None, int]]
        clean = None
        if name == "hash":
            rekey = self.rekey

            def compute(value: str) -> tuple[str, dict[str, int] | None, int]:
                return rekey(value), None, 0

        elif name == "name":
            compute = self._name_result
        elif name == "message":
            message = self._message_result

            def compute(value: str) -> tuple[str | None, dict[str, int] | None, int]:
                return (*message(value), 0)

        elif (rule := self._text_rule(node, name)) == FIXED:
            text = self._text_result

            def compute(value: str) -> tuple[str, dict[str, int] | None, int]:
                return (*text(value), 0)

            pattern = node.get("pattern")
            if pattern in CLEAN_PATTERNS:
                clean = re.compile(pattern, re.ASCII).fullmatch
        else:
            plain = self._plain_result

            def compute(value: str) -> tuple[str, dict[str, int] | None, int]:
                return (*plain(value, rule), 0)

        memo: dict[str, tuple[str | None, dict[str, int] | None, int]] = {}

        def string(value: Any) -> Any:
            if type(value) is not str:
                return other(value)
            if clean is not None and clean(value):
                return value
            hit = memo.get(value)
            if hit is None:
                hit = compute(value)
                if len(memo) < _MEMO_ENTRIES and len(value) <= _MEMO_CHARS and self._budget > 0:
                    memo[value] = hit
                    self._budget -= len(value) + len(hit[0] or "")
            result, counts, hashed = hit
            if counts:
                self._count(counts)
            if hashed:
                self.names_hashed += hashed
            return result

        return string

    def _is_text_leaf(self, node: dict[str, Any], schema: dict[str, Any]) -> bool:
        """Whether a valid value of ``node`` is a string, a boolean or null (numbers, such
        as durations, make an object's values differ from document to document)."""
        node = resolve(node, schema)[0]
        if "anyOf" in node:
            return all(isinstance(b, dict) and self._is_text_leaf(b, schema) for b in node["anyOf"])
        declared = node.get("type")
        types = set(declared) if isinstance(declared, list) else {declared}
        if "properties" in node or "items" in node:
            return False
        if None in types:
            options = node["enum"] if "enum" in node else [node.get("const", 0)]
            return isinstance(options, list) and all(
                o is None or type(o) in (str, bool) for o in options
            )
        return types <= {"string", "boolean", "null"}

    def _memoized(self, fields: Walk) -> Walk:
        """``fields`` of an object whose values are all scalars (the envelope's ``app``,
        ``producer``, ``environment`` and ``hashing``, the same in nearly every document),
        kept per value like strings are: what it wrote, and what it added to the report,
        given again on every hit. Only objects whose values are strings, booleans or null
        are kept, so values that compare equal are the same (1 == True, 0.0 == -0.0);
        anything else is walked as always."""
        memo: dict[tuple[tuple[str, Any], ...], _ObjectResult] = {}
        misses = [0, 0]  # misses, hits: objects that differ each time (a path) stop being kept

        def memoized(value: Any) -> Any:
            if type(value) is not dict or misses[0] > _OBJECT_TRIES + misses[1]:
                return fields(value)
            size = 0
            for item in value.values():
                kind = type(item)
                if kind is str:
                    size += len(item)
                elif kind is not bool and item is not None:
                    return fields(value)
            key = tuple(value.items())
            hit = memo.get(key)
            if hit is None:
                misses[0] += 1
                hit = self._capture(fields, value)
                if len(memo) < _OBJECT_ENTRIES and size <= _MEMO_CHARS and self._budget > 0:
                    memo[key] = hit
                    self._budget -= size
            else:
                misses[1] += 1
            out, counts, dropped, hashed = hit
            if counts:
                self._count(counts)
            if dropped:
                self.fields_dropped += dropped
            if hashed:
                self.names_hashed += hashed
            return dict(out)

        return memoized

    def _capture(self, fields: Walk, value: dict[str, Any]) -> _ObjectResult:
        """Walk ``value`` and say what the walk added to the report."""
        substitutions, dropped, hashed = self.substitutions, self.fields_dropped, self.names_hashed
        self.substitutions = {}
        try:
            out = fields(value)
            counts = self.substitutions
            added = (self.fields_dropped - dropped, self.names_hashed - hashed)
        finally:
            self.substitutions, self.fields_dropped, self.names_hashed = (
                substitutions,
                dropped,
                hashed,
            )
        return dict(out), counts or None, *added

    def _map_name(self, key: str) -> str:
        hit = self._map_names.get(key)
        if hit is None:
            hit = self._name_result(key)
            if len(self._map_names) < _MEMO_ENTRIES and len(key) <= _MEMO_CHARS:
                self._map_names[key] = hit
        result, counts, hashed = hit
        if counts:
            self._count(counts)
        self.names_hashed += hashed
        return result

    # -- the rules for strings --------------------------------------------------------
    # What each rule gives for a string, and what it adds to the report, without adding
    # it: the walk keeps these results per value.

    def _count(self, counts: dict[str, int]) -> None:
        for kind, n in counts.items():
            self.substitutions[kind] = self.substitutions.get(kind, 0) + n

    def _text_rule(self, node: dict[str, Any], name: str | None) -> str:
        """For a string that is not a hash, name or message: FIXED (made by
        localtelemetry, or one of a closed set of values: scrubbed only), PATTERNED (a
        short field with a format: known values become ``redacted``) or FREE (markers)."""
        if (
            "enum" in node
            or "const" in node
            or name in ("id", "created_at")
            or id(node) in self._machine_made
        ):
            return FIXED
        return PATTERNED if "pattern" in node else FREE

    def _name_result(self, value: str) -> tuple[str, dict[str, int] | None, int]:
        """(the name to write, substitutions to count, names hashed: 0 or 1)."""
        hashed = _HASHED_NAME_RE.match(value)
        if hashed:
            return "h:" + self.rekey(hashed.group(1)), None, 0
        result = scrub(value, hash_path=self.hash_new_text)
        if result.text != value:
            return "h:" + self.hash_name(value), result.counts, 1
        known = self.redactor.count(value) if self.redactor is not None else None
        if known:
            return "h:" + self.hash_name(value), known, 1
        return value, None, 0

    def _message_result(self, value: str) -> tuple[str | None, dict[str, int]]:
        if not self.messages:
            return None, {"messages-dropped": 1}
        rekeyed = _PATH_TOKEN_RE.sub(
            lambda m: f"<path:{self.rekey(m.group(1))}{m.group(2)}>", value
        )
        if self.redactor is None:
            result = scrub(rekeyed, hash_path=self.hash_new_text, max_length=MESSAGE_CAP)
            return result.text, result.counts
        # Known values go before the cap, as secrets do: a value the cap would cut in two
        # must not leave its first half behind.
        result = scrub(rekeyed, hash_path=self.hash_new_text)
        text, known = self.redactor.free_text(result.text)
        if len(text) > MESSAGE_CAP:  # scrubbing again changes nothing but the length
            text = scrub(text, hash_path=self.hash_new_text, max_length=MESSAGE_CAP).text
        return text, _merged(result.counts, known) if known else result.counts

    def _text_result(self, value: str) -> tuple[str, dict[str, int]]:
        result = scrub(value, hash_path=self.hash_new_text)
        return result.text, result.counts

    def _plain_result(self, value: str, rule: str) -> tuple[str, dict[str, int]]:
        """A plain-text string that may carry text from the user: scrubbed, then known
        values replaced (by markers, or in a PATTERNED field by the word ``redacted``).
        Raises ``Unredactable`` when a PATTERNED field cannot be cleaned in place."""
        text, counts = self._text_result(value)
        if self.redactor is None:
            return text, counts
        if rule == PATTERNED:
            text, known = self.redactor.plain(text)
        else:
            text, known = self.redactor.free_text(text)
        return text, _merged(counts, known) if known else counts


def _merged(first: dict[str, int], second: dict[str, int]) -> dict[str, int]:
    merged = dict(first)
    for kind, n in second.items():
        merged[kind] = merged.get(kind, 0) + n
    return merged
