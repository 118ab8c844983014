"""The published JSON Schemas: loading them, validating documents, explaining fields.

The canonical files are ``schema/*.schema.json`` at the top of the repository; the
wheel carries them as ``localtelemetry/_schema``. jsonschema is imported only when
something is validated, never on the recording path.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._exceptions import UsageError
from ._location import KINDS

ENVELOPE = "envelope"
MANIFEST = "manifest"
_PACKAGE_DIR = Path(__file__).resolve().parent


def schema_directory() -> Path:
    """Where the schema files are: inside the installed package, else the source tree."""
    for candidate in (_PACKAGE_DIR / "_schema", _PACKAGE_DIR.parent / "schema"):
        if (candidate / "envelope.schema.json").is_file():
            return candidate
    raise FileNotFoundError("localtelemetry's schema files are missing from this installation")


@functools.cache
def load_schema(name: str) -> dict[str, Any]:
    """The schema of a document kind (or ``envelope`` for the shared definitions)."""
    if name not in (ENVELOPE, MANIFEST) and name not in KINDS:
        raise UsageError(f"unknown document kind {name!r}; choose one of: {', '.join(KINDS)}")
    with open(schema_directory() / f"{name}.schema.json", encoding="utf-8") as fh:
        value: dict[str, Any] = json.load(fh)
    return value


def all_schemas() -> dict[str, dict[str, Any]]:
    return {name: load_schema(name) for name in (ENVELOPE, *KINDS, MANIFEST)}


@functools.lru_cache(maxsize=1)
def _validators() -> dict[str, Any]:
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    schemas = all_schemas()
    registry: Registry[Any] = Registry().with_resources(
        (s["$id"], Resource.from_contents(s)) for s in schemas.values()
    )
    return {
        name: Draft202012Validator(schemas[name], registry=registry) for name in (*KINDS, MANIFEST)
    }


def nested_deeper_than(value: object, limit: int) -> bool:
    """Whether ``value`` nests lists and objects more than ``limit`` levels deep.

    Iterative, and it stops at the first path that is too deep: the validator and
    everything that walks a document recurses, so a document nested a thousand levels
    deep (orjson parses up to 1024) must be refused before it gets there.
    """
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if level >= limit:
            return True
        stack.extend((child, level + 1) for child in children)
    return False


def _too_deep(value: object) -> list[str]:
    from ._bundle import MAX_DEPTH

    if nested_deeper_than(value, MAX_DEPTH):
        return [f"(document): nested deeper than {MAX_DEPTH} levels"]
    return []


def manifest_errors(manifest: object) -> list[str]:
    """Reasons a bundle manifest is invalid; empty when it is valid."""
    from ._fastschema import is_valid

    # The fast checker only ever answers "certainly valid"; jsonschema decides the rest
    # and words the errors.
    if is_valid(MANIFEST, manifest):
        return []
    return _too_deep(manifest) or _errors(_validators()[MANIFEST], manifest)


def _errors(validator: Any, value: object) -> list[str]:
    errors = []
    for error in sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in error.absolute_path) or "(document)"
        message = error.message if len(error.message) <= 200 else error.message[:200] + "..."
        errors.append(f"{where}: {message}")
    return errors


def validation_errors(document: object) -> list[str]:
    """Human-readable reasons the document is invalid; empty when it is valid."""
    if not isinstance(document, dict):
        return ["document is not a JSON object"]
    kind = document.get("kind")
    if kind not in KINDS:
        return [f"unknown kind {kind!r}"]
    from ._fastschema import is_valid

    if is_valid(str(kind), document):
        return []
    return _too_deep(document) or _errors(_validators()[str(kind)], document)


@dataclass(frozen=True)
class Field:
    path: str
    type: str
    description: str


def _resolve(node: dict[str, Any], local: dict[str, Any]) -> dict[str, Any]:
    """Follow $ref within our own schema set (no network, no registry needed)."""
    seen = 0
    while "$ref" in node and seen < 10:
        target, _, pointer = node["$ref"].partition("#")
        parts = pointer.strip("/").split("/")
        envelope = load_schema(ENVELOPE)
        # A local ref inside an envelope definition points into the envelope.
        doc = envelope if target.endswith(":envelope:1") else local
        if parts[-1] not in doc.get("$defs", {}):
            doc = envelope
        resolved: Any = doc
        for part in parts:
            resolved = resolved[part]
        merged = dict(resolved)
        if "description" in node:
            merged["description"] = node["description"]
        node = merged
        seen += 1
    return node


def _type_of(node: dict[str, Any], local: dict[str, Any]) -> str:
    if "const" in node:
        return f"const {json.dumps(node['const'])}"
    if "enum" in node:
        return "one of " + ", ".join(json.dumps(v) for v in node["enum"])
    if "anyOf" in node:
        return " or ".join(_type_of(_resolve(n, local), local) for n in node["anyOf"])
    kind = node.get("type", "any")
    if isinstance(kind, list):
        return " or ".join(kind)
    if kind == "array":
        return "array of " + _type_of(_resolve(node.get("items", {}), local), local)
    if kind == "string" and "pattern" in node:
        return "string"
    return str(kind)


def explain_fields(kind: str) -> Iterator[Field]:
    """Every field a document of ``kind`` can contain, with its description, in order."""
    schema = load_schema(kind)

    def walk(node: dict[str, Any], prefix: str) -> Iterator[Field]:
        node = _resolve(node, schema)
        items = _resolve(node.get("items", {}), schema) if node.get("type") == "array" else None
        if items is not None and items.get("type") == "object":
            node, prefix = items, prefix + "[]"
        for name, child in node.get("properties", {}).items():
            resolved = _resolve(child, schema)
            path = f"{prefix}.{name}" if prefix else name
            yield Field(path, _type_of(resolved, schema), resolved.get("description", ""))
            if resolved.get("type") in ("object", "array") or "properties" in resolved:
                yield from walk(resolved, path)
        extra = node.get("additionalProperties")
        if isinstance(extra, dict) and node.get("type") == "object" and "properties" not in node:
            yield Field(f"{prefix}.<name>", _type_of(extra, schema), extra.get("description", ""))

    yield from walk(schema, "")
