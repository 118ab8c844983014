"""The published JSON Schemas, and the one definition of a valid document.

The canonical files are ``schema/*.schema.json`` at the top of the repository
(generated from ``schema/src/`` by ``schema/generate.py``; each is self-contained: every
``$ref`` is local, ``#/$defs/NAME``); the wheel carries them as ``localtelemetry/_schema``.
Validators are imported only when something is validated, never on the recording path.

A valid document (or manifest), for every reader (the store's commands, export,
inspect, report, ingest): its bytes parse with ``parse_json_object`` (UTF-8, JSON, an
object, nested at most ``MAX_DEPTH`` levels, no key twice in any object), and the value
validates against its schema (``validation_errors``), which pins everything else:
patterns that admit no trailing newline and only ASCII digits, real calendar dates,
integers within +/- (2^53 - 1).

Validation is jsonschema-rs (a few microseconds per document); only a value it finds
invalid goes to jsonschema, whose messages users read (and whose verdict then stands).
Walking a schema (``resolve``, ``explain_fields``; export's walk in ``_share/projection``)
follows local references only.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import ID_PATTERN as _ID_PATTERN
from . import KINDS, MAX_DEPTH
from .exceptions import InvalidJSON, UsageError

ENVELOPE = "envelope"
#: End of input, in every regex dialect: Python's ``$`` also matches before a final
#: newline, ECMA 262's does not; "not followed by any character" means the same in both.
END = r"(?![\s\S])"
#: Two patterns of schema/src/envelope.schema.json that code relies on too (export
#: leaves values that match them unscrubbed); tests/test_schema_contract.py checks them.
ID_PATTERN = "^" + _ID_PATTERN + END
CREATED_AT_PATTERN = (
    r"^(?:(?:19[7-9][0-9]|20[0-9][0-9])-"  # 1970 to 2099
    r"(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"  # months of 31 days
    r"|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"  # of 30
    r"|02-(?:0[1-9]|1[0-9]|2[0-8]))"  # February
    r"|(?:19(?:[79][26]|8[048])|20(?:[02468][048]|[13579][26]))-02-29)"  # leap days
    r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]\.[0-9]{3}Z" + END
)
MANIFEST = "manifest"
_PACKAGE_DIR = Path(__file__).resolve().parent.parent


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
def _fast_validators() -> dict[str, Any]:
    import jsonschema_rs

    # offline: the schemas are self-contained; nothing is ever fetched.
    schemas = all_schemas()
    return {
        name: jsonschema_rs.Draft202012Validator(schemas[name], offline=True)
        for name in (*KINDS, MANIFEST)
    }


@functools.lru_cache(maxsize=1)
def _validators() -> dict[str, Any]:
    from jsonschema import Draft202012Validator

    schemas = all_schemas()
    return {name: Draft202012Validator(schemas[name]) for name in (*KINDS, MANIFEST)}


def is_valid(name: str, value: object) -> bool:
    """Whether ``value`` validates against schema ``name`` (a kind or ``manifest``), as
    jsonschema-rs says; the fast check that ``validation_errors`` starts with."""
    validator = _fast_validators().get(name)
    try:
        return validator is not None and bool(validator.is_valid(value))
    except (ValueError, TypeError, OverflowError, RecursionError):  # not JSON-shaped
        return False


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise InvalidJSON(f"has the key {key[:64]!r} twice in one object")
            seen.add(key)
    return value


def loads_unique(data: bytes) -> Any:
    """``orjson.loads``, but a key given twice in one object is an error.

    orjson (like most parsers) keeps the last copy of a repeated key, while other
    readers keep the first: a document with repeated keys means different things to
    different programs, so it is refused. The check is nearly free for files written
    by localtelemetry itself (the store and bundles use ``serialize``'s format):
    serializing the parsed value again gives the very same bytes only if no key was
    dropped. Anything else is parsed a second time, keeping every key.
    Raises ``InvalidJSON``.
    """
    return _loads(data)[0]


# In serialize's format (two spaces per level, raw newlines only between lines), a
# value nested MAX_DEPTH levels deep starts a line with this much indentation.
_DEEP_LINE = b"\n" + b" " * (2 * MAX_DEPTH)


def _loads(data: bytes) -> tuple[Any, bool]:
    """``loads_unique``, and whether the value is known to be nested at most
    ``MAX_DEPTH`` levels (without walking it, for our own format)."""
    import orjson

    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidJSON("is not valid JSON (not UTF-8)") from None
        raise InvalidJSON(f"is not valid JSON ({exc.msg})") from None
    if not isinstance(value, dict | list):
        return value, True
    try:
        ours = orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
    except TypeError:  # nested too deep for orjson to write: refused below
        ours = b""
    if ours == data:
        return value, _DEEP_LINE not in data
    if nested_deeper_than(value, MAX_DEPTH):  # json's parser recurses
        raise InvalidJSON(f"is nested deeper than {MAX_DEPTH} levels")
    import json

    try:
        json.loads(data, object_pairs_hook=_unique_keys)
    except InvalidJSON:
        raise
    except ValueError as exc:  # what orjson read and json does not (never seen so far)
        raise InvalidJSON(f"is not valid JSON ({exc})") from None
    return value, True


def parse_json_object(data: bytes) -> dict[str, Any]:
    """The one way a document or manifest is parsed: UTF-8, JSON, an object, nested at
    most ``MAX_DEPTH`` levels, no key twice in one object. Raises ``InvalidJSON``."""
    value, shallow = _loads(data)
    if not isinstance(value, dict):
        raise InvalidJSON("is not a JSON object")
    if not shallow and nested_deeper_than(value, MAX_DEPTH):
        raise InvalidJSON(f"is nested deeper than {MAX_DEPTH} levels")
    return value


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
    if nested_deeper_than(value, MAX_DEPTH):
        return [f"(document): nested deeper than {MAX_DEPTH} levels"]
    return []


def manifest_errors(manifest: object) -> list[str]:
    """Reasons a bundle manifest is invalid; empty when it is valid."""
    if is_valid(MANIFEST, manifest):
        return []
    return _too_deep(manifest) or _errors(_validators()[MANIFEST], manifest)


def _errors(validator: Any, value: object) -> list[str]:
    errors = []
    for error in sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in error.absolute_path) or "(document)"
        message = error.message
        if error.validator == "pattern":  # the pattern itself is long and says little
            shown = repr(error.instance)
            shown = shown if len(shown) <= 80 else shown[:80] + "..."
            message = f"{shown} does not match the pattern the schema sets for it"
        message = message if len(message) <= 200 else message[:200] + "..."
        errors.append(f"{where}: {message}")
    return errors


def validation_errors(document: object) -> list[str]:
    """Human-readable reasons the document is invalid; empty when it is valid."""
    if not isinstance(document, dict):
        return ["document is not a JSON object"]
    kind = document.get("kind")
    if kind not in KINDS:
        return [f"unknown kind {kind!r}"]
    if is_valid(str(kind), document):
        return []
    return _too_deep(document) or _errors(_validators()[str(kind)], document)


@dataclass(frozen=True)
class Field:
    path: str
    type: str
    description: str


def resolve(node: dict[str, Any], schema: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """Follow ``node``'s ``$ref`` (local, ``#/$defs/NAME``, in ``schema``) to the node it
    names; that node and the last definition name seen (None without a ``$ref``)."""
    name = None
    for _ in range(10):  # refs to refs: ours are one deep
        ref = node.get("$ref")
        if not isinstance(ref, str):
            break
        if not ref.startswith("#/"):
            # A plain ValueError: the packaged schemas are broken, not the user's input.
            raise ValueError(f"reference {ref!r} is not local; the schemas are self-contained")
        target: Any = schema
        for part in ref[2:].split("/"):
            target = target[part]
        node, name = target, ref.rsplit("/", 1)[-1]
    return node, name


def _described(node: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """``node`` resolved, keeping a description given next to its ``$ref``."""
    resolved = resolve(node, schema)[0]
    if resolved is node or "description" not in node:
        return resolved
    return {**resolved, "description": node["description"]}


def _type_of(node: dict[str, Any], local: dict[str, Any]) -> str:
    if "const" in node:
        return f"const {json.dumps(node['const'])}"
    if "enum" in node:
        return "one of " + ", ".join(json.dumps(v) for v in node["enum"])
    if "anyOf" in node:
        return " or ".join(_type_of(_described(n, local), local) for n in node["anyOf"])
    kind = node.get("type", "any")
    if isinstance(kind, list):
        return " or ".join(kind)
    if kind == "array":
        return "array of " + _type_of(_described(node.get("items", {}), local), local)
    if kind == "string" and "pattern" in node:
        return "string"
    return str(kind)


def explain_fields(kind: str) -> Iterator[Field]:
    """Every field a document of ``kind`` can contain, with its description, in order."""
    schema = load_schema(kind)

    def walk(node: dict[str, Any], prefix: str) -> Iterator[Field]:
        node = _described(node, schema)
        items = _described(node.get("items", {}), schema) if node.get("type") == "array" else None
        if items is not None and items.get("type") == "object":
            node, prefix = items, prefix + "[]"
        for name, child in node.get("properties", {}).items():
            resolved = _described(child, schema)
            path = f"{prefix}.{name}" if prefix else name
            yield Field(path, _type_of(resolved, schema), resolved.get("description", ""))
            if resolved.get("type") in ("object", "array") or "properties" in resolved:
                yield from walk(resolved, path)
        extra = node.get("additionalProperties")
        if isinstance(extra, dict) and node.get("type") == "object" and "properties" not in node:
            yield Field(f"{prefix}.<name>", _type_of(extra, schema), extra.get("description", ""))

    yield from walk(schema, "")
