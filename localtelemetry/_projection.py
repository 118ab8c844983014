"""Export-time rewriting of a stored document, guided by its schema.

One walk over document and schema together does three things the export needs:

* projection: a field the schema does not allow is dropped, never copied;
* scrubbing: every string is scrubbed again with the current rules (the store may hold
  documents written by an older version); names that now look like data are hashed;
* re-keying: every hash (hash fields, ``h:`` names, ``<path:...>`` tokens in free text,
  and the key id) is mapped through the bundle's key, so two bundles cannot be linked.

Which rule applies to a string is decided by the schema definition it refers to
(``hash``, ``name``, ``message``), not by guessing from the value.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ._bundle import MAX_DEPTH
from ._hashing import HASH_PATTERN
from ._schemas import ENVELOPE, load_schema, nested_deeper_than
from ._scrub import scrub

_PATH_TOKEN_RE = re.compile(r"<path:([0-9a-f]{32})((?:\.[a-z0-9]{1,10})?)>")
_HASHED_NAME_RE = re.compile(r"^h:([0-9a-f]{32})$")


@dataclass
class Rewriter:
    """Rewrites documents for one bundle; collects the redaction report."""

    rekey: Callable[[str], str]  # stored hash -> bundle hash (identity with --keep-hashes)
    key_id: str  # what documents' hashing.key_id becomes
    hash_new_text: Callable[[str], str]  # hashes a path found only now, already re-keyed
    hash_name: Callable[[str], str]  # hashes a name that looks like data, already re-keyed
    substitutions: dict[str, int] = field(default_factory=dict)
    fields_dropped: int = 0
    names_hashed: int = 0

    def document(self, document: dict[str, Any]) -> dict[str, Any]:
        if nested_deeper_than(document, MAX_DEPTH):
            # The walk below recurses; a stored document nested a thousand levels deep
            # would exhaust the stack. Ours are about six levels deep.
            raise ValueError(f"document nested deeper than {MAX_DEPTH} levels")
        kind = document.get("kind")
        schema = load_schema(str(kind))
        rewritten = self._walk(document, schema, schema, None)
        assert isinstance(rewritten, dict)
        hashing = rewritten.get("hashing")
        if isinstance(hashing, dict) and "key_id" in hashing:
            hashing["key_id"] = self.key_id
        return rewritten

    # -- the walk -------------------------------------------------------------------

    def _resolve(
        self, node: dict[str, Any], local: dict[str, Any]
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
            return self._string(value, name)
        return value

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

    def _string(self, value: str, name: str | None) -> str:
        if name == "hash":
            return self.rekey(value)
        if name == "name":
            return self._name(value)
        if name == "message":
            return self._message(value)
        text, counts = self._text_result(value)
        self._count(counts)
        return text

    def _name(self, value: str) -> str:
        name, counts, hashed = self._name_result(value)
        if counts:
            self._count(counts)
        self.names_hashed += hashed
        return name

    def _message(self, value: str) -> str:
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
        return value, None, 0

    def _message_result(self, value: str) -> tuple[str, dict[str, int]]:
        rekeyed = _PATH_TOKEN_RE.sub(
            lambda m: f"<path:{self.rekey(m.group(1))}{m.group(2)}>", value
        )
        result = scrub(rekeyed, hash_path=self.hash_new_text, max_length=500)
        return result.text, result.counts

    def _text_result(self, value: str) -> tuple[str, dict[str, int]]:
        result = scrub(value, hash_path=self.hash_new_text)
        return result.text, result.counts
