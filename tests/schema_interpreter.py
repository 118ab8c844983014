"""A plain interpreter of the schemas for export's walk to be checked against
(``tests/test_projection_walk.py``, ``tests/test_export_speed.py``)."""

from __future__ import annotations

from typing import Any

from localtelemetry._contract import MAX_DEPTH
from localtelemetry._contract.schemas import load_schema, nested_deeper_than, resolve
from localtelemetry._record.documents import HASH_PATTERN
from localtelemetry._share.projection import FIXED, Rewriter


class Interpreted(Rewriter):
    """The schema interpreted for every value, with the walk's rules for strings."""

    def document(self, document: dict[str, Any]) -> dict[str, Any]:
        if nested_deeper_than(document, MAX_DEPTH):
            raise ValueError(f"document nested deeper than {MAX_DEPTH} levels")
        schema = load_schema(str(document.get("kind")))
        before = (dict(self.substitutions), self.fields_dropped, self.names_hashed)
        try:
            rewritten = self._walk(document, schema, schema, None)
        except BaseException:  # a refused document adds nothing to the report
            self.substitutions = before[0]
            self.fields_dropped, self.names_hashed = before[1], before[2]
            raise
        hashing = rewritten.get("hashing")
        if isinstance(hashing, dict) and "key_id" in hashing:
            hashing["key_id"] = self.key_id
        return rewritten  # type: ignore[no-any-return]

    def _walk(self, value: Any, node: Any, schema: dict[str, Any], name: str | None) -> Any:
        node, ref_name = resolve(node, schema)
        name = ref_name or name
        if "anyOf" in node:
            if value is None:
                return None
            branch = next((b for b in node["anyOf"] if b.get("type") != "null"), {})
            return self._walk(value, branch, schema, name)
        if isinstance(value, dict):
            properties = node.get("properties")
            extra = node.get("additionalProperties")
            out: dict[str, Any] = {}
            for key, item in value.items():
                if isinstance(properties, dict):
                    if key in properties:
                        out[key] = self._walk(item, properties[key], schema, None)
                    else:
                        self.fields_dropped += 1
                elif isinstance(extra, dict):
                    out[self._string(str(key), "name")] = self._walk(item, extra, schema, None)
                else:
                    self.fields_dropped += 1
            return out
        if isinstance(value, list):
            return [self._walk(v, node.get("items", {}), schema, None) for v in value]
        if isinstance(value, str):
            if node.get("pattern") == HASH_PATTERN:
                name = "hash"
            if name in ("hash", "name", "message"):
                return self._string(value, name)
            return self._string(value, self._text_rule(node, name))
        return value

    def _string(self, value: str, rule: str) -> str | None:
        hashed = 0
        counts: dict[str, int] | None
        if rule == "hash":
            return self.rekey(value)
        if rule == "name":
            text, counts, hashed = self._name_result(value)
        elif rule == "message":
            text, counts = self._message_result(value)
        elif rule == FIXED:
            text, counts = self._text_result(value)
        else:
            text, counts = self._plain_result(value, rule)
        self._count(counts or {})
        self.names_hashed += hashed
        return text
