"""Helpers shared by the export privacy tests: run the real CLI, read back and verify
every bundle (inspect's hostile reader, then jsonschema on every document), and plant
values in a store the way an older version of localtelemetry might have kept them."""

from __future__ import annotations

import functools
import json
import re
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import typer
from typer.testing import CliRunner

from localtelemetry import Telemetry
from localtelemetry._cli.app import make_app
from localtelemetry._contract.schemas import load_schema
from localtelemetry._receive.bundle import iter_verified

HEX32 = re.compile(r"[0-9a-f]{32}")
# Text localtelemetry itself writes into free text: markers and the truncation suffix.
OWN_TEXT = re.compile(r"<redacted:[a-z0-9-]+>|<path:[0-9a-f]+(?:\.[a-z0-9]+)?>|\u2026\[truncated\]")


def cli(args: list[str], env: Mapping[str, str] | None = None) -> Any:
    """``localtelemetry ARGS`` in process."""
    return CliRunner().invoke(make_app(None), args, env=dict(env) if env else None)


def members(bundle: Path) -> dict[str, bytes]:
    """Every entry of the zip, decompressed."""
    with zipfile.ZipFile(bundle) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


@functools.cache
def _validators() -> dict[str, Any]:
    """jsonschema validators straight from the files in schema/ (not the package's own
    fast check), by schema id."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    from conftest import ROOT

    schemas = [json.loads(p.read_text()) for p in sorted((ROOT / "schema").glob("*.json"))]
    registry: Registry[Any] = Registry().with_resources(
        (s["$id"], Resource.from_contents(s)) for s in schemas
    )
    return {s["$id"]: Draft202012Validator(s, registry=registry) for s in schemas}


def schema_errors(document: dict[str, Any]) -> list[str]:
    validator = _validators()[document["schema"]]
    return [e.message for e in validator.iter_errors(document)]


def verified(bundle: Path) -> list[tuple[str, dict[str, Any]]]:
    """(entry name, document) of every document, after ``localtelemetry inspect`` passed
    and jsonschema accepted each document and the manifest against schema/."""
    result = cli(["inspect", str(bundle)])
    assert result.exit_code == 0, result.output
    documents = []
    for name, document, _ in iter_verified(bundle):
        errors = schema_errors(document)
        assert not errors, (name, errors)
        if name != "manifest.json":
            documents.append((name, document))
    return documents


def manifest_of(bundle: Path) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(members(bundle)["manifest.json"])
    return value


def recording_app(name: str = "privy") -> typer.Typer:
    """A Typer app whose recorded runs fill every kind of document and every name."""
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    telemetry = Telemetry(name, version="1.0")
    telemetry.install(app)

    @app.command()
    def work(fail: bool = False, mode: str = "plain") -> None:
        telemetry.snapshot("catalog", counts={"tables": 3}, filters={"include": "*.md"})
        with telemetry.build("compile") as b:
            b.path("source", "/srv/data/a.txt")
            b.filter("include", "*.md")
            b.value("mode", mode)
            with b.phase("parse"):
                pass
            b.count("rows", 2)
            b.warning("slow")
            if fail:
                raise RuntimeError("placeholder message")

    @app.command()
    def other() -> None:
        pass

    return app


def record_runs(app: typer.Typer, runs: int = 2) -> None:
    for _ in range(runs):
        for args in (["work"], ["work", "--fail"], ["other"]):
            CliRunner().invoke(app, [*args, "--telemetry"])


def plant(store: Path, *, message: str, word: str) -> None:
    """Put ``message`` into every free-text field and ``word`` into names, a flag, the app
    version and a file extension of every document in ``store``, as a store written by
    an older version (or edited by hand) may hold them. The documents stay valid."""
    for path in sorted(store.glob("*.json")):
        document = json.loads(path.read_text())
        payload = document["payload"]
        document["app"]["version"] = f"1.0+{word}"
        if document["kind"] == "cli-command":
            payload["error_message"] = message
            payload["flags"] = [f"--{word}-mode"]
            payload["command_path"] = [word]
            payload["command_family"] = word
        elif document["kind"] == "build":
            payload["error_message"] = message
            payload["name"] = word
            payload["phases"][0]["name"] = f"phase-{word}"
            payload["counters"] = {f"rows-{word}": 1, "rows": 2}
            payload["warnings"] = {word: 1}
            payload["filters"][0]["name"] = word
            payload["inputs"][0]["role"] = f"{word}.input"
            if len(word) <= 10 and word.isalnum():  # the schema's shape of an extension
                payload["inputs"][0]["path"]["extension"] = f".{word}"
        elif document["kind"] == "snapshot":
            payload["name"] = f"{word}_catalog"
            payload["counts"] = {word: 1}
        assert not schema_errors(document), schema_errors(document)
        path.write_text(json.dumps(document, indent=2))


def stored(store: Path) -> list[dict[str, Any]]:
    from conftest import store_documents

    return store_documents(store)


def _fixed_nodes(schema: dict[str, Any]) -> set[int]:
    """Schema nodes whose strings are made by localtelemetry (or a closed vocabulary):
    the published kind schemas are self-contained, so these live in their own $defs."""
    defs = schema["$defs"]
    nodes = [defs.get(name) for name in ("id", "created_at", "hash")]
    if "hashing" in defs:
        nodes.append(defs["hashing"]["properties"]["key_id"])
    if "environment" in defs:
        nodes.append(defs["environment"]["properties"]["python"])
    if "producer" in defs:
        nodes.append(defs["producer"]["properties"]["version"])
    return {id(node) for node in nodes if node is not None}


def _resolve(node: dict[str, Any], local: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    for _ in range(10):
        ref = node.get("$ref")
        if not isinstance(ref, str):
            break
        target, _, pointer = ref.partition("#")
        doc = load_schema("envelope") if target.endswith(":envelope:1") else local
        resolved: Any = doc
        for part in pointer.strip("/").split("/"):
            resolved = resolved[part]
        node, local = resolved, doc
    return node, local


def content_strings(document: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, text) for every string of ``document`` that can carry text from the user
    or the machine: free text, names (also as map keys), flags, the app's name and
    version, extensions, choice values. Left out: enum and const values, ids, times,
    hashes, the key id, the Python and localtelemetry versions, property names (all
    fixed by the schema or made by localtelemetry), and names already hashed (``h:``)."""
    schema = load_schema(str(document["kind"]))
    fixed = _fixed_nodes(schema)

    def walk(
        value: Any, node: dict[str, Any], local: dict[str, Any], where: str
    ) -> Iterator[tuple[str, str]]:
        node, local = _resolve(node, local)
        if "anyOf" in node:
            branch = next((b for b in node["anyOf"] if b.get("type") != "null"), {})
            yield from walk(value, branch, local, where)
            return
        if isinstance(value, dict):
            properties = node.get("properties")
            if isinstance(properties, dict):
                for key, item in value.items():
                    yield from walk(item, properties.get(key, {}), local, f"{where}.{key}")
            else:
                extra = node.get("additionalProperties")
                for key, item in value.items():
                    if not key.startswith("h:"):
                        yield f"{where}.<key>", key
                    yield from walk(
                        item, extra if isinstance(extra, dict) else {}, local, f"{where}.*"
                    )
        elif isinstance(value, list):
            items = node.get("items", {})
            for item in value:
                yield from walk(item, items, local, f"{where}[]")
        elif isinstance(value, str):
            if "enum" in node or "const" in node or id(node) in fixed:
                return
            if value.startswith("h:") and HEX32.fullmatch(value[2:]):
                return
            yield where, value

    yield from walk(document, schema, schema, "")


def without_own_text(text: str) -> str:
    """``text`` with localtelemetry's own markers cut out (each leaves a NUL, so that the
    text on either side cannot join into a word)."""
    return OWN_TEXT.sub("\x00", text)
