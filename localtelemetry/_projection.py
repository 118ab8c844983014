"""Export-time rewriting of a stored document, guided by its schema.

One walk over document and schema together does three things the export needs:

* projection: a field the schema does not allow is dropped, never copied;
* scrubbing: every string is scrubbed again with the current rules (the store may hold
  documents written by an older version); names that now look like data are hashed;
* re-keying: every hash (hash fields, ``h:`` names, ``<path:...>`` tokens in free text,
  and the key id) is mapped through the bundle's key, so two bundles cannot be linked;
* known values (``_redact``: the user's ``--redact`` words, this machine's names): free
  text gets ``<redacted:KIND>`` markers, a name that holds one is hashed, a short text
  field with a fixed format gets the word ``redacted``; with ``messages=False`` (export's
  ``--no-messages``) every free-text field becomes null.

Which rule applies to a string is decided by the schema definition it refers to
(``hash``, ``name``, ``message``), not by guessing from the value. Values that
localtelemetry itself makes in a fixed format (ids, times, hashes, the key id, the
Python and localtelemetry versions, enum and const values) carry nothing of the user's
and are never searched for known values: see ``MACHINE_MADE``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ._fastschema import follow_pointer
from ._hashing import HASH_PATTERN
from ._limits import MAX_DEPTH
from ._redact import Redactor
from ._schemas import ENVELOPE, load_schema, nested_deeper_than
from ._scrub import scrub

_PATH_TOKEN_RE = re.compile(r"<path:([0-9a-f]{32})((?:\.[a-z0-9]{1,10})?)>")
_HASHED_NAME_RE = re.compile(r"^h:([0-9a-f]{32})$")
MESSAGE_CAP = 500

#: Envelope nodes whose strings localtelemetry makes itself, in a fixed format: never
#: searched for known values (the walk still scrubs them, as every string).
MACHINE_MADE = (
    "/$defs/id",
    "/$defs/created_at",
    "/$defs/hash",
    "/$defs/hashing/properties/key_id",
    "/$defs/environment/properties/python",
    "/$defs/producer/properties/version",
)

#: How a plain-text string is treated (``Rewriter._text_rule``).
FIXED, PATTERNED, FREE = "fixed", "patterned", "free"


def machine_made_nodes() -> frozenset[int]:
    """Identities of the ``MACHINE_MADE`` nodes (schemas are loaded once, so a walked
    node is one of these exactly when it is the same object)."""
    envelope = load_schema(ENVELOPE)
    found = (follow_pointer(envelope, pointer) for pointer in MACHINE_MADE)
    return frozenset(id(node) for node in found if isinstance(node, dict))


def resolve(
    node: dict[str, Any], local: dict[str, Any]
) -> tuple[dict[str, Any], str | None, dict[str, Any]]:
    """Follow $ref; return the node, the last $defs name seen and the schema it is in."""
    name = None
    for _ in range(10):
        ref = node.get("$ref")
        if not isinstance(ref, str):
            break
        target, _, pointer = ref.partition("#")
        parts = pointer.strip("/").split("/")
        envelope = load_schema(ENVELOPE)
        doc = envelope if target.endswith(":envelope:1") else local
        if parts[-1] not in doc.get("$defs", {}):
            doc = envelope
        resolved: Any = doc
        for part in parts:
            resolved = resolved[part]
        node, name, local = resolved, parts[-1], doc
    return node, name, local


ITEMS, VALUES = "[]", "*"  # path steps: every item of an array, every value of a map


@functools.cache
def free_text_fields(kind: str) -> tuple[tuple[str, ...], ...]:
    """Where the free-text fields (those of the ``message`` definition) of a document of
    ``kind`` are, as paths of keys with ``ITEMS`` and ``VALUES`` steps; from the schema,
    as the walk decides."""
    found: list[tuple[str, ...]] = []

    def visit(node: dict[str, Any], local: dict[str, Any], path: tuple[str, ...]) -> None:
        if len(path) > MAX_DEPTH:
            return
        node, name, local = resolve(node, local)
        if name == "message":
            found.append(path)
            return
        if "anyOf" in node:
            branch: dict[str, Any] = next((b for b in node["anyOf"] if b.get("type") != "null"), {})
            visit(branch, local, path)
            return
        properties = node.get("properties")
        if isinstance(properties, dict):
            for key, child in properties.items():
                visit(child, local, (*path, key))
        elif isinstance(node.get("additionalProperties"), dict):
            visit(node["additionalProperties"], local, (*path, VALUES))
        if isinstance(node.get("items"), dict):
            visit(node["items"], local, (*path, ITEMS))

    schema = load_schema(kind)
    visit(schema, schema, ())
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

    def document(self, document: dict[str, Any]) -> dict[str, Any]:
        if nested_deeper_than(document, MAX_DEPTH):
            # The walk below recurses; a stored document nested a thousand levels deep
            # would exhaust the stack. Ours are about six levels deep.
            raise ValueError(f"document nested deeper than {MAX_DEPTH} levels")
        kind = document.get("kind")
        schema = load_schema(str(kind))
        before = (dict(self.substitutions), self.fields_dropped, self.names_hashed)
        try:
            rewritten = self._walk(document, schema, schema, None)
        except BaseException:  # a refused document adds nothing to the report
            self.substitutions.clear()
            self.substitutions.update(before[0])
            self.fields_dropped, self.names_hashed = before[1], before[2]
            raise
        assert isinstance(rewritten, dict)
        hashing = rewritten.get("hashing")
        if isinstance(hashing, dict) and "key_id" in hashing:
            hashing["key_id"] = self.key_id
        return rewritten

    # -- the walk -------------------------------------------------------------------

    def _resolve(
        self, node: dict[str, Any], local: dict[str, Any]
    ) -> tuple[dict[str, Any], str | None, dict[str, Any]]:
        return resolve(node, local)

    def _walk(
        self, value: Any, node: dict[str, Any], local: dict[str, Any], name: str | None
    ) -> Any:
        node, ref_name, local = self._resolve(node, local)
        name = ref_name or name
        if "anyOf" in node:
            if value is None:
                return None
            branch: dict[str, Any] = next((b for b in node["anyOf"] if b.get("type") != "null"), {})
            return self._walk(value, branch, local, name)
        if isinstance(value, dict):
            return self._object(value, node, local)
        if isinstance(value, list):
            items = node.get("items", {})
            return [self._walk(v, items, local, None) for v in value]
        if isinstance(value, str):
            if node.get("pattern") == HASH_PATTERN:
                name = "hash"
            rule = name if name in ("hash", "name", "message") else self._text_rule(node, name)
            return self._string(value, rule)
        return value

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

    def _object(
        self, value: dict[str, Any], node: dict[str, Any], local: dict[str, Any]
    ) -> dict[str, Any]:
        properties = node.get("properties")
        out: dict[str, Any] = {}
        if isinstance(properties, dict):
            for key, item in value.items():
                if key not in properties:
                    self.fields_dropped += 1
                    continue
                out[key] = self._walk(item, properties[key], local, None)
            return out
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):  # a map such as counters: keys are names
            for key, item in value.items():
                out[self._name(str(key))] = self._walk(item, extra, local, None)
            return out
        self.fields_dropped += len(value)
        return out

    # -- strings --------------------------------------------------------------------

    def _count(self, counts: dict[str, int]) -> None:
        for kind, n in counts.items():
            self.substitutions[kind] = self.substitutions.get(kind, 0) + n

    def _string(self, value: str, rule: str | None) -> str | None:
        if rule == "hash":
            return self.rekey(value)
        if rule == "name":
            return self._name(value)
        if rule == "message":
            return self._message(value)
        if rule in (PATTERNED, FREE):
            text, counts = self._plain_result(value, rule)
        else:
            text, counts = self._text_result(value)
        self._count(counts)
        return text

    def _name(self, value: str) -> str:
        name, counts, hashed = self._name_result(value)
        if counts:
            self._count(counts)
        self.names_hashed += hashed
        return name

    def _message(self, value: str) -> str | None:
        text, counts = self._message_result(value)
        self._count(counts)
        return text

    # What each rule gives for a string, and what it adds to the report, without adding
    # it: the compiled walk (``_projection_compiled``) keeps these results per value.

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
