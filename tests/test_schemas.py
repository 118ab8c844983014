"""Principle 9: the schemas are the contract."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from localtelemetry import KINDS
from localtelemetry._contract.schemas import explain_fields, schema_directory, validation_errors

from conftest import ROOT

SCHEMA_FILES = sorted((ROOT / "schema").glob("*.schema.json"))


def _objects(node: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    found = []
    if isinstance(node, dict):
        if node.get("type") == "object" or "properties" in node:
            found.append((path, node))
        for key, value in node.items():
            found.extend(_objects(value, f"{path}/{key}"))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found.extend(_objects(value, f"{path}/{i}"))
    return found


def test_one_schema_per_kind_plus_envelope() -> None:
    expected = {f"{k}.schema.json" for k in (*KINDS, "envelope", "manifest")}
    assert {p.name for p in SCHEMA_FILES} == expected


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.name)
def test_schema_is_valid_draft_2020_12_with_versioned_id(path: Path) -> None:
    schema = json.loads(path.read_text())
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].startswith("urn:localtelemetry:schema:") and schema["$id"].endswith(":1")


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.name)
def test_every_object_is_closed_and_every_field_described(path: Path) -> None:
    schema = json.loads(path.read_text())
    for where, node in _objects(schema):
        if "properties" in node:
            assert node.get("additionalProperties") is False, where
            for name, prop in node["properties"].items():
                assert prop.get("description"), f"{where}/{name} has no description"


def test_the_installed_package_finds_the_schemas(installed_wheel: Path, tmp_path: Path) -> None:
    # In a checkout, schema_directory() is schema/ itself: only an installation from the
    # built wheel shows that the package carries its own copy and reads that one.
    probe = (
        "import json, sys; from localtelemetry._contract.schemas import schema_directory as d; "
        "print(json.dumps([str(d()), {p.name: p.read_text() for p in d().glob('*.json')}]))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe],
        env={"PYTHONPATH": str(installed_wheel), "HOME": str(tmp_path)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    directory, files = json.loads(proc.stdout)
    assert Path(directory) == installed_wheel / "localtelemetry" / "_schema"
    assert Path(directory) != schema_directory()
    assert files == {p.name: p.read_text() for p in SCHEMA_FILES}


def test_explain_covers_every_payload_property() -> None:
    for kind in KINDS:
        schema = json.loads((ROOT / "schema" / f"{kind}.schema.json").read_text())
        fields = {f.path for f in explain_fields(kind)}
        for name in schema["properties"]["payload"]["properties"]:
            assert f"payload.{name}" in fields
        for name in schema["properties"]:
            assert name in fields


def test_validation_rejects_unknown_fields_and_kinds() -> None:
    assert validation_errors([]) == ["document is not a JSON object"]
    assert validation_errors({"kind": "nope"}) == ["unknown kind 'nope'"]
    assert validation_errors({"kind": "build"})  # missing everything
