"""Issue 12: any document the shared validator accepts can be read by ``report`` and
ingested into DuckDB and chDB without error.

Documents are generated from the published schemas' shape (Hypothesis): every field
the schema allows, values drawn from its patterns, enums and bounds, with the extremes
weighted in (integers at plus or minus 2^53 - 1, the largest durations, the first and
last dates, 64-character names, 500-character messages of any Unicode, maps of 100
entries). Each batch is checked with the validator, written as a store, reported (text,
JSON and HTML) and ingested into both engines, and every document must arrive.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from localtelemetry import KINDS
from localtelemetry._contract import MAX_SAFE_INTEGER, new_id
from localtelemetry._contract.schemas import END, load_schema, validation_errors
from localtelemetry._receive.ingest import ingest
from localtelemetry._receive.report import build_report, render_text
from localtelemetry._receive.report_html import render_html
from localtelemetry._record.documents import serialize

_PATTERNS: dict[str, Any] = {}


def _pattern(pattern: str) -> st.SearchStrategy[str]:
    strategy = _PATTERNS.get(pattern)
    if strategy is None:
        assert pattern.startswith("^") and pattern.endswith(END)
        strategy = _PATTERNS[pattern] = st.from_regex(
            re.compile(pattern[1 : -len(END)]), fullmatch=True
        )
    return strategy


def _number(node: dict[str, Any], integer: bool) -> st.SearchStrategy[Any]:
    low, high = node.get("minimum", -MAX_SAFE_INTEGER), node.get("maximum", MAX_SAFE_INTEGER)
    extremes = st.sampled_from([low, high, 0, 1, high - 1, low + 1])
    ints = st.integers(low, high)
    if integer:  # JSON Schema takes 3.0 for an integer too
        return st.one_of(extremes, ints, ints.map(float), extremes.map(float))
    floats = st.floats(low, high, allow_nan=False, allow_infinity=False)
    return st.one_of(extremes, ints, floats, st.sampled_from([5e-324, 0.001, float(high)]))


def _string(node: dict[str, Any]) -> st.SearchStrategy[str]:
    if "pattern" in node:
        return _pattern(node["pattern"])
    most = node.get("maxLength", 80)
    return st.one_of(
        st.text(max_size=min(most, 40)),
        st.text(min_size=most, max_size=most),
        st.sampled_from(["\x00", "a\x00b", "\u202eevil", "é" * min(most, 500), "😀" * 10]),
    )


def from_schema(node: Any, root: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values valid against ``node`` (of schema ``root``), extremes weighted in."""
    if node is True or node == {}:
        return st.none()
    if "$ref" in node:
        target = root
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return from_schema(target, root)
    if "const" in node:
        return st.just(node["const"])
    if "enum" in node:
        return st.sampled_from(node["enum"])
    if "anyOf" in node:
        return st.one_of([from_schema(branch, root) for branch in node["anyOf"]])
    types = node.get("type")
    if isinstance(types, list):
        return st.one_of([from_schema({**node, "type": t}, root) for t in types])
    if types == "null":
        return st.none()
    if types == "boolean":
        return st.booleans()
    if types in ("integer", "number"):
        return _number(node, types == "integer")
    if types == "string":
        return _string(node)
    if types == "array":
        most = min(node.get("maxItems", 4), 4)
        return st.lists(from_schema(node.get("items", {}), root), max_size=most)
    if types == "object":
        if "properties" in node:
            required = set(node.get("required", ()))
            fields = {k: from_schema(v, root) for k, v in node["properties"].items()}
            return st.fixed_dictionaries(
                {k: v for k, v in fields.items() if k in required},
                optional={k: v for k, v in fields.items() if k not in required},
            )
        keys = from_schema({"type": "string", **node.get("propertyNames", {})}, root)
        values = from_schema(node.get("additionalProperties", {}), root)
        full = node.get("maxProperties", 3)
        return st.one_of(
            st.dictionaries(keys, values, max_size=3),
            st.dictionaries(keys, st.just(MAX_SAFE_INTEGER), min_size=full, max_size=full)
            if node.get("additionalProperties", {}).get("type") == "integer"
            else st.dictionaries(keys, values, max_size=3),
        )
    raise AssertionError(f"no strategy for {node!r}")


def documents() -> st.SearchStrategy[list[dict[str, Any]]]:
    kinds = [from_schema(load_schema(kind), load_schema(kind)) for kind in KINDS]
    return st.lists(st.one_of(kinds), min_size=1, max_size=8)


def _write_store(directory: Path, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    directory.mkdir(parents=True)
    kept = []
    for n, document in enumerate(docs):
        document = {
            **document,
            "id": new_id(1_700_000_000_000 + n, random_bytes=bytes(9) + bytes([n])),
        }
        assert validation_errors(document) == [], validation_errors(document)
        (directory / f"{document['kind']}-{document['id']}.json").write_bytes(serialize(document))
        kept.append(document)
    return kept


@settings(
    max_examples=int(os.environ.get("LOCALTELEMETRY_ENGINE_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(docs=documents())
def test_every_valid_document_is_reported_and_ingested(
    docs: list[dict[str, Any]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = tmp_path_factory.mktemp("valid")
    store = root / "store"
    kept = _write_store(store, docs)
    result = build_report([store])
    assert result["documents"] == len(kept)
    json.dumps(result)
    render_text(result)
    render_html(result)
    engines = ["duckdb"]
    try:
        import chdb  # noqa: F401

        engines.append("chdb")
    except ImportError:
        pass
    for engine in engines:
        target = root / engine
        ingested = ingest([store], f"{engine}:{target}")
        assert ingested["inserted"] == len(kept), ingested
        assert ingested["conflicts"] == 0 and ingested["sources"]["skipped"] == 0
