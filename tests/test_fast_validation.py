"""The fast validity check (jsonschema-rs) must agree with jsonschema, whose verdict and
messages users read: a document it accepts is never one jsonschema rejects (jsonschema
is then not asked), and the documents localtelemetry really writes are accepted."""

from __future__ import annotations

import copy
import random
from pathlib import Path
from typing import Any

import pytest
from bundle_factory import Population, documents_for, templates, write_bundle
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mutations import BASIC_ACTIONS, mutate_at, paths

from localtelemetry._contract.bundle import MANIFEST_NAME
from localtelemetry._contract.schemas import all_schemas, is_valid, validation_errors
from localtelemetry._receive.bundle import iter_verified
from localtelemetry._store import KINDS


def _jsonschema_valid(name: str, value: Any) -> bool:
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    schemas = all_schemas()
    registry: Registry[Any] = Registry().with_resources(
        (s["$id"], Resource.from_contents(s)) for s in schemas.values()
    )
    return bool(Draft202012Validator(schemas[name], registry=registry).is_valid(value))


def _samples(tmp: Path) -> list[tuple[str, dict[str, Any]]]:
    population = Population(6, seed=11)
    rng = random.Random(5)
    docs = [d for runs in population.bundle_runs for r in runs for d in documents_for(r, rng)]
    bundle = write_bundle(tmp / "sample.zip", docs)
    out: list[tuple[str, dict[str, Any]]] = []
    for name, doc, _ in iter_verified(bundle):
        out.append(("manifest" if name == MANIFEST_NAME else str(doc["kind"]), doc))
    out.extend((k, d) for k, d in templates().items())
    return out


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, dict[str, Any]]]:
    return _samples(tmp_path_factory.mktemp("fast"))


def test_real_documents_are_accepted(samples: list[tuple[str, dict[str, Any]]]) -> None:
    assert {k for k, _ in samples} == {*KINDS, "manifest"}
    for name, doc in samples:
        assert is_valid(name, doc), name


def test_obviously_wrong_values_are_refused(samples: list[tuple[str, dict[str, Any]]]) -> None:
    kind, doc = next((k, d) for k, d in samples if k == "cli-command")
    cases = [
        ("payload", "outcome", "maybe"),
        ("payload", "duration_ms", -1),
        ("payload", "exit_code", True),
        ("payload", "exit_code", 2**70),  # past what jsonschema-rs holds: still just invalid
        ("environment", "os", None),
        ("app", "name", "bad name"),
        ("payload", "command_path", ["x"] * 17),
    ]
    for outer, key, value in cases:
        changed = copy.deepcopy(doc)
        changed[outer][key] = value
        assert not is_valid(kind, changed), (outer, key, value)
        assert validation_errors(changed), (outer, key, value)
    extra = copy.deepcopy(doc)
    extra["payload"]["smuggled"] = 1
    assert not is_valid(kind, extra)
    assert validation_errors({"kind": "envelope"}) == ["unknown kind 'envelope'"]
    assert validation_errors([]) == ["document is not a JSON object"]
    assert not is_valid("envelope", {})
    assert not is_valid("no-such-schema", doc)


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(
        ["", "linux", "success", "1.0", "h:" + "a" * 32, "a" * 32, "x\n", "é", "0" * 26]
    ),
    st.text(max_size=12),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_never_accepts_what_jsonschema_rejects(
    samples: list[tuple[str, dict[str, Any]]], data: st.DataObject
) -> None:
    name, original = data.draw(st.sampled_from(samples))
    doc = copy.deepcopy(original)
    same_kind = [d for k, d in samples if k == name]
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from([p for p in paths(doc) if p]))
        action = data.draw(st.sampled_from(BASIC_ACTIONS))
        mutate_at(data, doc, path, action, same_kind, _values)
    assert is_valid(name, doc) == _jsonschema_valid(name, doc), doc
