"""A fast, conservative validity check for localtelemetry's own JSON Schemas.

``jsonschema`` takes milliseconds per document (mostly in ``$ref`` resolution), which
dominates reading thousands of bundles. This module compiles the published schemas
once into plain Python checks for exactly the keywords they use. It answers one
question, "is this value valid?", and it is *conservative*: ``True`` only when every
keyword was checked and passed, ``False`` otherwise, including for any keyword it does
not know. Callers treat ``False`` as "ask jsonschema", which also gives the error
messages, so a ``False`` can never make a valid document invalid, and the tests check
on generated and mutated documents that ``True`` never accepts one jsonschema rejects.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

Check = Callable[[Any], bool]

# Keywords that only annotate: they never make a value invalid.
ANNOTATIONS = frozenset(
    {"$schema", "$id", "$defs", "$comment", "title", "description", "examples", "default"}
)
_KNOWN = ANNOTATIONS | {
    "$ref",
    "type",
    "const",
    "enum",
    "anyOf",
    "properties",
    "required",
    "additionalProperties",
    "propertyNames",
    "maxProperties",
    "minProperties",
    "items",
    "maxItems",
    "minItems",
    "pattern",
    "maxLength",
    "minLength",
    "minimum",
    "maximum",
}


def follow_pointer(node: Any, pointer: str) -> Any:
    """What the JSON pointer ``pointer`` ("/$defs/name") names inside ``node``, exactly as
    a validator resolves it; None where it names nothing."""
    for part in [p for p in pointer.split("/") if p]:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _never(_: Any) -> bool:
    return False


def _always(_: Any) -> bool:
    return True


# Stricter than jsonschema where the two could differ (1.0 is not taken as an integer,
# a tuple is not an array): stricter is safe, jsonschema then decides.
_TYPES: dict[str, tuple[type, ...]] = {
    "null": (type(None),),
    "boolean": (bool,),
    "integer": (int,),
    "number": (int, float),
    "string": (str,),
    "object": (dict,),
    "array": (list,),
}


def _all(checks: list[Check]) -> Check:
    checks = [c for c in checks if c is not _always]
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda v: first(v) and second(v)
    frozen = tuple(checks)

    def check(v: Any) -> bool:
        for c in frozen:  # noqa: SIM110 - a loop is faster than all() over a generator
            if not c(v):
                return False
        return True

    return check


def _choices(options: list[Any]) -> Check:
    """enum/const: the same value and the same JSON type (True is not 1)."""
    strings = frozenset(o for o in options if type(o) is str)
    others = [o for o in options if type(o) is not str]
    if not others:
        return lambda v: type(v) is str and v in strings
    if others == [None]:
        return lambda v: v is None or (type(v) is str and v in strings)

    def check(v: Any) -> bool:
        return any(type(v) is type(o) and v == o for o in options)

    return check


class _Compiler:
    def __init__(self, schemas: dict[str, dict[str, Any]]) -> None:
        self.schemas = schemas  # by $id
        self.cache: dict[tuple[str, str], Check] = {}

    def ref(self, ref: str, base: str) -> Check:
        target, _, pointer = ref.partition("#")
        doc_id = target or base
        key = (doc_id, pointer)
        if key in self.cache:
            return self.cache[key]
        node = follow_pointer(self.schemas.get(doc_id), pointer)
        if not isinstance(node, dict):
            return _never
        slot: list[Check] = [_never]
        self.cache[key] = lambda v: slot[0](v)  # placeholder while compiling (recursion)
        slot[0] = self.compile(node, doc_id)
        self.cache[key] = slot[0]
        return slot[0]

    def compile(self, node: Any, base: str) -> Check:
        if node is True:
            return _always
        if not isinstance(node, dict) or set(node) - _KNOWN:
            return _never
        checks: list[Check] = []
        if "$ref" in node:
            checks.append(self.ref(node["$ref"], base))
        if "const" in node:
            checks.append(_choices([node["const"]]))
        if "enum" in node:
            checks.append(_choices(list(node["enum"])))
        if "anyOf" in node:
            branches = tuple(self.compile(n, base) for n in node["anyOf"])
            if len(branches) == 2:
                one, two = branches
                checks.append(lambda v: one(v) or two(v))
            else:
                checks.append(lambda v: any(c(v) for c in branches))
        declared = node.get("type")
        names = declared if isinstance(declared, list) else [declared] if declared else []
        if any(n not in _TYPES for n in names):
            return _never
        by_type = {
            "object": self._object(node, base),
            "array": self._array(node, base),
            "string": self._string(node),
            "number": self._number(node),
        }
        if names:
            # One closure per allowed type; keywords of other types do not apply.
            allowed: dict[type, Check] = {}
            for name in names:
                family = "number" if name in ("integer", "number") else name
                for t in _TYPES[name]:
                    allowed[t] = by_type.get(family, _always)
            if len(allowed) == 1:
                ((only, then),) = allowed.items()
                checks.append(
                    (lambda v: type(v) is only)
                    if then is _always
                    else (lambda v: type(v) is only and then(v))
                )
            else:

                def typed(v: Any) -> bool:
                    then = allowed.get(type(v))
                    return then is not None and then(v)

                checks.append(typed)
        else:
            per_type = {
                dict: by_type["object"],
                list: by_type["array"],
                str: by_type["string"],
                int: by_type["number"],
                float: by_type["number"],
            }
            if any(c is not _always for c in per_type.values()):
                checks.append(lambda v: per_type.get(type(v), _always)(v))
        return _all(checks)

    def _object(self, node: dict[str, Any], base: str) -> Check:
        keys = ("properties", "required", "additionalProperties", "propertyNames")
        if not any(k in node for k in (*keys, "maxProperties", "minProperties")):
            return _always
        properties = {k: self.compile(s, base) for k, s in node.get("properties", {}).items()}
        required = tuple(node.get("required", ()))
        extra = node.get("additionalProperties", True)
        if extra is False:
            extra_check: Check | None = None
        elif extra is True:
            extra_check = _always
        else:
            extra_check = self.compile(extra, base)
        names = node.get("propertyNames")
        name_check = self.compile(names, base) if names is not None else _always
        most = node.get("maxProperties")
        least = node.get("minProperties", 0)

        def check(v: dict[str, Any]) -> bool:
            if (most is not None and len(v) > most) or len(v) < least:
                return False
            for key in required:
                if key not in v:
                    return False
            for key, value in v.items():
                sub = properties.get(key, extra_check)
                if sub is None or not sub(value) or not name_check(key):
                    return False
            return True

        return check

    def _array(self, node: dict[str, Any], base: str) -> Check:
        if not any(k in node for k in ("items", "maxItems", "minItems")):
            return _always
        item = self.compile(node["items"], base) if "items" in node else _always
        most = node.get("maxItems")
        least = node.get("minItems", 0)

        def check(v: list[Any]) -> bool:
            if (most is not None and len(v) > most) or len(v) < least:
                return False
            for x in v:  # noqa: SIM110 - a loop is faster than all() over a generator
                if not item(x):
                    return False
            return True

        return check

    def _string(self, node: dict[str, Any]) -> Check:
        checks: list[Check] = []
        if "pattern" in node:
            search = re.compile(node["pattern"]).search  # jsonschema uses re.search too
            checks.append(lambda v: search(v) is not None)
        if "maxLength" in node or "minLength" in node:
            most, least = node.get("maxLength"), node.get("minLength", 0)
            checks.append(lambda v: len(v) >= least and (most is None or len(v) <= most))
        return _all(checks)

    def _number(self, node: dict[str, Any]) -> Check:
        checks: list[Check] = []
        if "minimum" in node:
            low = node["minimum"]
            checks.append(lambda v: v >= low)
        if "maximum" in node:
            high = node["maximum"]
            checks.append(lambda v: v <= high)
        return _all(checks)


@functools.cache
def _compiler() -> _Compiler:
    from ._schemas import all_schemas

    return _Compiler({s["$id"]: s for s in all_schemas().values()})


@functools.cache
def _checks() -> dict[str, Check]:
    from ._schemas import all_schemas

    compiler = _compiler()
    return {name: compiler.compile(s, s["$id"]) for name, s in all_schemas().items()}


def node_check(node: Any, base: str) -> Check:
    """The check of one node of the published schemas, ``base`` being the ``$id`` of the
    schema it is in: True only if a value certainly validates against that node. For the
    compiled export walk, which checks each value it writes against its node."""
    return _compiler().compile(node, base)


def is_valid(name: str, value: Any) -> bool:
    """True only if ``value`` certainly validates against schema ``name`` (a kind,
    ``envelope`` or ``manifest``); False means "unknown: ask jsonschema"."""
    check = _checks().get(name)
    try:
        return check is not None and check(value)
    except (TypeError, ValueError, RecursionError):
        return False


def is_valid_document(document: Any) -> bool:
    """``is_valid`` for a document of any kind (the kind is read from the document)."""
    if type(document) is not dict:
        return False
    kind = document.get("kind")
    return type(kind) is str and kind not in ("envelope", "manifest") and is_valid(kind, document)
