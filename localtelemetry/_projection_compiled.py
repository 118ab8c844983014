"""Export's schema-guided rewrite, compiled into one function per schema node.

``_projection.Rewriter`` interprets the schema for every value of every document: it
follows ``$ref``, looks keywords up and decides which rule applies to a string each
time. ``CompiledRewriter`` does that once per bundle, per (schema node, rule name, depth),
and keeps the outcome as a closure. The closures do what the interpreter's walk does,
value for value and counter for counter (``tests/test_projection_compiled.py`` compares
the two under Hypothesis), and four things more:

* **Memo.** What a string becomes depends only on the string, its node and the bundle's
  key, and most strings recur (names, enum values, hashes, messages of repeated
  failures). Each node keeps its results with the report counts they add (added again
  on every hit), up to a bounded number and size, so memory stays flat. Objects whose
  values are all strings, booleans or null (the envelope's ``app``, ``producer``,
  ``environment`` and ``hashing``) are kept the same way, as a whole; a node whose
  objects keep differing (path descriptors) stops keeping them.
* **Clean patterns.** A string that fully matches one of ``CLEAN_PATTERNS`` (ASCII only)
  is not scrubbed again: no scrubbing rule can match inside one (see there; tested on
  generated strings). Any other value in such a field is scrubbed as before, and every
  free-text, name and hash field is scrubbed or re-keyed as before.
* **Depth.** A document nested deeper than ``MAX_DEPTH`` is refused as the interpreter's
  pre-pass refuses it, without a pass of its own: walked values are checked where they
  are (the closures are compiled per depth), dropped ones with ``nested_deeper_than``,
  and the report counters are put back when a document is refused.
* **Certification.** Each closure checks what it writes against its node: scalars with
  ``_fastschema``'s check of that node, objects and arrays by their structural keywords.
  ``rewrite`` says whether the whole output was certified; only then may the caller skip
  validation. Anything the walk does not check (a keyword it does not know, a ``$ref``
  the interpreter resolves differently from jsonschema) leaves the document uncertified,
  and the caller validates it as before, so certification never accepts a document
  ``_fastschema`` or jsonschema would reject.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ._fastschema import ANNOTATIONS, follow_pointer, node_check
from ._hashing import HASH_PATTERN
from ._limits import MAX_DEPTH
from ._projection import FIXED, Rewriter
from ._schemas import (
    CREATED_AT_PATTERN,
    ENVELOPE,
    ID_PATTERN,
    all_schemas,
    load_schema,
    nested_deeper_than,
)

Walk = Callable[[Any], Any]
Check = Callable[[Any], bool]
# What walking an object of scalars gave: the output, then what it added to the report
# (substitutions, fields dropped, names hashed) and whether it raised a doubt.
_ObjectResult = tuple[dict[str, Any], dict[str, int] | None, int, int, bool]

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

_OBJECT_KEYWORDS = ANNOTATIONS | {
    "type",
    "properties",
    "required",
    "additionalProperties",
    "propertyNames",
    "maxProperties",
    "minProperties",
}
_ARRAY_KEYWORDS = ANNOTATIONS | {"type", "items", "maxItems", "minItems"}
_ANY: dict[str, Any] = {}  # the interpreter's default for a missing "items" or branch
_SCALARS = frozenset({int, float, bool, type(None)})

_MEMO_ENTRIES = 4096  # per node
_OBJECT_ENTRIES = 256  # per object node whose values are all scalars
_OBJECT_TRIES = 64  # misses more than hits by this many: the node's objects are not kept
_MEMO_CHARS = 1024  # longer strings are not kept
_MEMO_BUDGET = 16 << 20  # characters kept over all nodes


class TooDeepError(ValueError):
    """The document is nested deeper than MAX_DEPTH (what ``Rewriter.document`` raises
    for it, as a subclass, so that callers can tell it from other ValueErrors)."""


class _TooDeep(Exception):
    pass


class CompiledRewriter(Rewriter):
    """``Rewriter`` with its walk compiled; ``rewrite`` also certifies validity."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        schemas = all_schemas()
        self._by_id = {str(s["$id"]): s for s in schemas.values()}
        self._walks: dict[tuple[int, int, str | None, int], Walk] = {}
        self._roots: dict[str, Walk] = {}
        self._doubt = False
        self._budget = _MEMO_BUDGET
        self._map_names: dict[str, tuple[str, dict[str, int] | None, int]] = {}
        envelope = load_schema(ENVELOPE)
        key_id = envelope["$defs"]["hashing"]["properties"]["key_id"]
        self.key_id_ok = node_check(key_id, envelope["$id"])
        """Whether a value is certainly a valid ``hashing.key_id``."""
        self._key_id_valid = self.key_id_ok(self.key_id)

    # -- documents ------------------------------------------------------------------

    def document(self, document: dict[str, Any]) -> dict[str, Any]:
        return self.rewrite(document)[0]

    def rewrite(self, document: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """The rewritten document, and True if the walk certified it valid against its
        schema (False: unknown, validate it). Raises what ``Rewriter.document`` raises,
        ``TooDeepError`` for a document nested too deep."""
        kind = str(document.get("kind"))
        root = self._roots.get(kind)
        if root is None:
            if nested_deeper_than(document, MAX_DEPTH):  # before the kind, like Rewriter
                raise TooDeepError(f"document nested deeper than {MAX_DEPTH} levels")
            schema = load_schema(kind)
            root = self._roots[kind] = self._compile(schema, schema, None, 0)
        # This document's substitutions are counted apart and added when it is done: a
        # refused document adds nothing to the report.
        total, dropped, hashed = self.substitutions, self.fields_dropped, self.names_hashed
        self.substitutions = {}
        self._doubt = False
        try:
            rewritten = root(document)
        except BaseException as exc:
            self.substitutions, self.fields_dropped, self.names_hashed = total, dropped, hashed
            if isinstance(exc, _TooDeep):
                raise TooDeepError(f"document nested deeper than {MAX_DEPTH} levels") from None
            raise
        if self.substitutions:
            for kind, n in self.substitutions.items():
                total[kind] = total.get(kind, 0) + n
        self.substitutions = total
        assert isinstance(rewritten, dict)
        hashing = rewritten.get("hashing")
        if isinstance(hashing, dict) and "key_id" in hashing:
            hashing["key_id"] = self.key_id
            if not self._key_id_valid:
                self._doubt = True
        return rewritten, not self._doubt

    # -- compiling ------------------------------------------------------------------

    def _compile(
        self, node: dict[str, Any], local: dict[str, Any], name: str | None, depth: int
    ) -> Walk:
        key = (id(node), id(local), name, depth)
        walk = self._walks.get(key)
        if walk is None:
            cell: list[Walk] = []
            self._walks[key] = lambda v: cell[0](v)  # while compiling (recursive schemas)
            walk = self._build(node, local, name, depth)
            cell.append(walk)
            self._walks[key] = walk
        return walk

    def _exact(self, node: dict[str, Any], local: dict[str, Any]) -> bool:
        """Whether following ``$ref`` from ``node`` as jsonschema does reaches the node the
        interpreter walks, through nodes that add no constraint of their own: then what
        is valid against the node walked is valid against ``node``."""
        walked = self._resolve(node, local)[0]
        base = str(local.get("$id", ""))
        for _ in range(10):
            if "$ref" not in node:
                return node is walked
            if set(node) - ANNOTATIONS != {"$ref"} or not isinstance(node["$ref"], str):
                return False
            target, _, pointer = node["$ref"].partition("#")
            base = target or base
            found = follow_pointer(self._by_id.get(base), pointer)
            if not isinstance(found, dict):
                return False
            node = found
        return False

    def _build(
        self, node: dict[str, Any], local: dict[str, Any], name: str | None, depth: int
    ) -> Walk:
        base = str(local.get("$id", ""))
        exact = self._exact(node, local)
        walked, ref_name, walked_local = self._resolve(node, local)
        walked_name = ref_name or name

        def slow(value: Any) -> Any:
            """A value of a type this node does not expect (only in invalid documents) or
            not exactly of a JSON type: the interpreter walks it; never certified."""
            self._doubt = True
            if isinstance(value, dict | list) and nested_deeper_than(value, MAX_DEPTH - depth):
                raise _TooDeep
            return self._walk(value, node, local, name)

        if "anyOf" in walked:
            branches = walked["anyOf"]
            branch = next((b for b in branches if b.get("type") != "null"), _ANY)
            inner = self._compile(branch, walked_local, walked_name, depth)
            none_ok: list[bool] = []  # whether None is valid here, found out when it comes
            # Valid against the branch is valid against anyOf when nothing else applies.
            exact = exact and set(walked) - ANNOTATIONS == {"anyOf"}

            def any_of(value: Any) -> Any:
                if value is None:
                    if not none_ok:
                        none_ok.append(node_check(node, base)(None))
                    if not none_ok[0]:
                        self._doubt = True
                    return None
                if not exact:
                    self._doubt = True
                return inner(value)

            return any_of
        declared = walked.get("type")
        types = set(declared) if isinstance(declared, list) else {declared}
        if depth < MAX_DEPTH:  # deeper, objects and arrays are refused (by slow)
            if types == {"object"}:
                return self._compile_object(walked, walked_local, depth, exact, slow)
            if types == {"array"}:
                return self._compile_array(walked, walked_local, depth, exact, slow)
        leaf = node_check(node, base)  # exact for scalars (objects and arrays go to slow)
        string = self._compile_string(walked, walked_name, leaf, slow)
        if types == {"string"}:
            return string

        def scalar(value: Any) -> Any:
            kind = type(value)
            if kind is str:
                return string(value)
            if kind in _SCALARS:
                if not leaf(value):
                    self._doubt = True
                return value
            return slow(value)

        if walked_name in ("hash", "name", "message") or walked.get("pattern") == HASH_PATTERN:
            return scalar
        options = walked["enum"] if "enum" in walked else [walked.get("const")]
        if not isinstance(options, list) or not any(type(o) is str for o in options):
            return scalar
        # The strings of an enum or const go straight through once scrubbing has been
        # found to leave them as they are (all of ours), with their validity worked out.
        strings = frozenset(o for o in options if type(o) is str)
        fixed: dict[str, bool] = {}
        scrubbed: set[str] = set()  # options that scrubbing changes (none of ours)
        null_ok = leaf(None)

        def choice(value: Any) -> Any:
            if value is None:
                if not null_ok:
                    self._doubt = True
                return None
            valid = fixed.get(value) if type(value) is str else None
            if valid is None:
                if type(value) is not str or value not in strings:
                    return scalar(value)
                if value in scrubbed or self._text_result(value) != (value, {}):
                    scrubbed.add(value)
                    return string(value)
                valid = fixed[value] = leaf(value)
            if not valid:
                self._doubt = True
            return value

        return choice

    def _compile_object(
        self, node: dict[str, Any], local: dict[str, Any], depth: int, exact: bool, slow: Walk
    ) -> Walk:
        properties = node.get("properties")
        extra = node.get("additionalProperties")
        required = node.get("required", [])
        least = node.get("minProperties", 0)
        most = node.get("maxProperties")
        names = node.get("propertyNames")
        certifiable = (
            exact
            and set(node) <= _OBJECT_KEYWORDS
            and (properties is None or isinstance(properties, dict))
            and isinstance(required, list)
            and all(isinstance(k, str) for k in required)
            and type(least) is int
            and (most is None or type(most) is int)
        )
        needed = frozenset(required) if certifiable else frozenset()
        name_ok = node_check(names, str(local.get("$id", ""))) if names is not None else None
        simple = certifiable and least == 0 and most is None and name_ok is None
        limit = MAX_DEPTH - depth - 1  # for values below this object that are not walked

        def certify(out: dict[str, Any]) -> None:
            size = len(out)
            if (
                not certifiable
                or size < least
                or (most is not None and size > most)
                or not out.keys() >= needed
                or (name_ok is not None and not all(map(name_ok, out)))
            ):
                self._doubt = True

        if isinstance(properties, dict):
            walks = {k: self._compile(s, local, None, depth + 1) for k, s in properties.items()}

            def fields(value: Any) -> Any:
                if type(value) is not dict:
                    return slow(value)
                out: dict[str, Any] = {}
                for key, item in value.items():
                    walk = walks.get(key)
                    if walk is not None:
                        out[key] = walk(item)
                        continue
                    self.fields_dropped += 1
                    if isinstance(item, dict | list) and nested_deeper_than(item, limit):
                        raise _TooDeep
                if not simple or not out.keys() >= needed:
                    certify(out)
                return out

            if all(self._is_text_leaf(s, local) for s in properties.values()):
                return self._memoized(fields)
            return fields
        if isinstance(extra, dict):  # a map such as counters: keys are names
            walk = self._compile(extra, local, None, depth + 1)

            def mapping(value: Any) -> Any:
                if type(value) is not dict:
                    return slow(value)
                out: dict[str, Any] = {}
                for key, item in value.items():
                    out[self._map_name(str(key))] = walk(item)
                certify(out)
                return out

            return mapping

        def dropped(value: Any) -> Any:
            if type(value) is not dict:
                return slow(value)
            self.fields_dropped += len(value)
            for item in value.values():
                if isinstance(item, dict | list) and nested_deeper_than(item, limit):
                    raise _TooDeep
            out: dict[str, Any] = {}
            certify(out)
            return out

        return dropped

    def _compile_array(
        self, node: dict[str, Any], local: dict[str, Any], depth: int, exact: bool, slow: Walk
    ) -> Walk:
        walk = self._compile(node.get("items", _ANY), local, None, depth + 1)
        least = node.get("minItems", 0)
        most = node.get("maxItems")
        certifiable = (
            exact
            and set(node) <= _ARRAY_KEYWORDS
            and type(least) is int
            and (most is None or type(most) is int)
        )

        def items(value: Any) -> Any:
            if type(value) is not list:
                return slow(value)
            out = [walk(v) for v in value]
            if not certifiable or len(out) < least or (most is not None and len(out) > most):
                self._doubt = True
            return out

        return items

    def _compile_string(
        self, node: dict[str, Any], name: str | None, leaf: Check, slow: Walk
    ) -> Walk:
        """What the interpreter's ``_string`` does for this node, memoized per value."""
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

        memo: dict[str, tuple[str | None, dict[str, int] | None, int, bool]] = {}

        def string(value: Any) -> Any:
            if type(value) is not str:
                return slow(value)
            if clean is not None and clean(value):
                if not leaf(value):
                    self._doubt = True
                return value
            hit = memo.get(value)
            if hit is None:
                result, counts, hashed = compute(value)
                hit = (result, counts, hashed, leaf(result))
                if len(memo) < _MEMO_ENTRIES and len(value) <= _MEMO_CHARS and self._budget > 0:
                    memo[value] = hit
                    self._budget -= len(value) + len(result or "")
            result, counts, hashed, valid = hit
            if counts:
                self._count(counts)
            if hashed:
                self.names_hashed += hashed
            if not valid:
                self._doubt = True
            return result

        return string

    def _is_text_leaf(self, node: dict[str, Any], local: dict[str, Any]) -> bool:
        """Whether a valid value of ``node`` is a string, a boolean or null (numbers, such
        as durations, make an object's values differ from document to document)."""
        node, _, local = self._resolve(node, local)
        if "anyOf" in node:
            return all(isinstance(b, dict) and self._is_text_leaf(b, local) for b in node["anyOf"])
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
        kept per value like strings are: what it wrote, and what it added to the report
        and to the doubt, given again on every hit. Only objects whose values are strings,
        booleans or null are kept, so values that compare equal are the same (1 == True,
        0.0 == -0.0); anything else is walked as always."""
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
            out, counts, dropped, hashed, doubt = hit
            if counts:
                self._count(counts)
            if dropped:
                self.fields_dropped += dropped
            if hashed:
                self.names_hashed += hashed
            if doubt:
                self._doubt = True
            return dict(out)

        return memoized

    def _capture(self, fields: Walk, value: dict[str, Any]) -> _ObjectResult:
        """Walk ``value`` and say what the walk added to the report and to the doubt."""
        substitutions, dropped, hashed, doubt = (
            self.substitutions,
            self.fields_dropped,
            self.names_hashed,
            self._doubt,
        )
        self.substitutions, self._doubt = {}, False
        try:
            out = fields(value)
            counts = self.substitutions
            added = (self.fields_dropped - dropped, self.names_hashed - hashed, self._doubt)
        finally:
            self.substitutions, self.fields_dropped, self.names_hashed = (
                substitutions,
                dropped,
                hashed,
            )
            self._doubt = doubt
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
