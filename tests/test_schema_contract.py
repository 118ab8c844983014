"""Issues 12 and 13: the published schemas are one contract that every validator reads
the same way, and the one every reader of localtelemetry applies.

- Each file in schema/ is generated from schema/src/ (a test fails when it is stale)
  and is self-contained: no ``$ref`` to another file, no registry, no network.
- check-jsonschema, jsonschema, jsonschema-rs and ajv (through npm, when node is here)
  each validate stored documents and bundle contents with one schema file per kind,
  and refuse the same hostile values.
- Patterns mean the same in Python's ``re`` (jsonschema) and in ECMA 262 (the JSON
  Schema dialect; check-jsonschema uses the regress engine, ajv JavaScript's): no
  trailing newline, ASCII digits only; ``created_at`` admits exactly the real dates of
  1970 to 2099; every integer and number is bounded by 2^53 - 1.
- One parse for every reader: a key given twice in one object is refused.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from localtelemetry import KINDS
from localtelemetry._cli.app import make_app
from localtelemetry._contract import (
    FIRST_YEAR,
    LAST_YEAR,
    MAX_DOCUMENT_BYTES,
    MAX_ENTRIES,
    MAX_SAFE_INTEGER,
)
from localtelemetry._contract.exceptions import InvalidJSON
from localtelemetry._contract.schemas import (
    CREATED_AT_PATTERN,
    END,
    ID_PATTERN,
    load_schema,
    loads_unique,
    parse_json_object,
    validation_errors,
)

import hostapp
from conftest import ROOT

SCHEMA = ROOT / "schema"
PUBLISHED = sorted(SCHEMA.glob("*.schema.json"))
NAMES = [p.name.removesuffix(".schema.json") for p in PUBLISHED]
ARABIC_INDIC = "".join(chr(0x0660 + i) for i in range(10))  # digits Python's \d matches
FULLWIDTH = "".join(chr(0xFF10 + i) for i in range(10))


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location("schema_generate", SCHEMA / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _nodes(node: Any, path: str = "#") -> list[tuple[str, dict[str, Any]]]:
    found = []
    if isinstance(node, dict):
        found.append((path, node))
        for key, value in node.items():
            found.extend(_nodes(value, f"{path}/{key}"))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found.extend(_nodes(value, f"{path}/{i}"))
    return found


def _patterns() -> list[str]:
    patterns = set()
    for path in PUBLISHED:
        for _, node in _nodes(json.loads(path.read_text())):
            if isinstance(node.get("pattern"), str):
                patterns.add(node["pattern"])
    return sorted(patterns)


# -- generated, self-contained ----------------------------------------------------------


def test_the_published_schemas_are_generated_from_their_sources() -> None:
    generator = _generator()
    assert generator.main(["--check"]) == 0, "run: python schema/generate.py"
    assert sorted(generator.NAMES) == sorted(NAMES)
    result = subprocess.run(
        [sys.executable, str(SCHEMA / "generate.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_the_generator_notices_a_stale_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    generator = _generator()
    copy = tmp_path / "schema"
    shutil.copytree(SCHEMA, copy)
    monkeypatch.setattr(generator, "HERE", copy)
    monkeypatch.setattr(generator, "SOURCES", copy / "src")
    assert generator.main(["--check"]) == 0
    source = json.loads((copy / "src" / "envelope.schema.json").read_text())
    source["$defs"]["hash"]["description"] = "changed"
    (copy / "src" / "envelope.schema.json").write_text(json.dumps(source))
    assert generator.main(["--check"]) == 1
    assert generator.main([]) == 0
    build = json.loads((copy / "build.schema.json").read_text())
    assert build["$defs"]["hash"]["description"] == "changed"  # copied into each kind


@pytest.mark.parametrize("path", PUBLISHED, ids=lambda p: p.name)
def test_every_reference_stays_inside_its_file(path: Path) -> None:
    schema = json.loads(path.read_text())
    for where, node in _nodes(schema):
        ref = node.get("$ref")
        if ref is None:
            continue
        assert isinstance(ref, str) and ref.startswith("#/$defs/"), (where, ref)
        assert ref[len("#/$defs/") :] in schema["$defs"], (where, ref)
    assert "urn:localtelemetry:schema:envelope:1#" not in path.read_text()


def test_the_package_reads_the_published_files_without_a_registry() -> None:
    from jsonschema import Draft202012Validator

    for name in NAMES:
        schema = load_schema(name)
        Draft202012Validator.check_schema(schema)
        assert schema == json.loads((SCHEMA / f"{name}.schema.json").read_text())


# -- patterns, dates, integers -------------------------------------------------------------


@pytest.mark.parametrize("pattern", _patterns())
def test_patterns_are_anchored_at_both_ends_and_ascii(pattern: str) -> None:
    assert pattern.startswith("^") and pattern.endswith(END), pattern
    body = pattern[1 : -len(END)]
    assert "$" not in body, "Python's $ also matches before a final newline"
    for escape in ("\\d", "\\w", "\\s", "\\b", "\\D", "\\W", "\\S"):
        assert escape not in body, f"{escape} means more than ASCII in Python's re"


def _regress(pattern: str) -> Any:
    regress = pytest.importorskip("regress", reason="regress comes with check-jsonschema")
    return regress.Regex(pattern, "u")


@pytest.mark.parametrize("pattern", _patterns())
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_patterns_mean_the_same_in_python_and_ecma_262(pattern: str, data: st.DataObject) -> None:
    ecma = _regress(pattern)
    python = re.compile(pattern)
    body = re.compile(pattern[1 : -len(END)])
    valid = data.draw(st.from_regex(body, fullmatch=True), label="valid")
    mutations = [
        valid,
        valid + "\n",
        valid + "\r\n",
        "\n" + valid,
        valid[:-1] + "\n" if valid else "\n",
        valid.translate(str.maketrans("0123456789", ARABIC_INDIC)),
        valid.translate(str.maketrans("0123456789", FULLWIDTH)),
        data.draw(st.text(max_size=40), label="any"),
    ]
    for text in mutations:
        assert (python.search(text) is not None) == (ecma.find(text) is not None), (pattern, text)
    assert python.search(valid + "\n") is None
    assert python.search(valid) is not None


def test_created_at_admits_exactly_the_real_dates_of_its_years() -> None:
    python = re.compile(CREATED_AT_PATTERN)
    ecma = _regress(CREATED_AT_PATTERN)
    day = date(FIRST_YEAR - 3, 1, 1)
    while day <= date(LAST_YEAR + 3, 12, 31):
        for time in ("00:00:00.000", "23:59:59.999", "12:34:56.789"):
            text = f"{day.isoformat()}T{time}Z"
            expected = FIRST_YEAR <= day.year <= LAST_YEAR
            assert (python.search(text) is not None) == expected, text
            if day.day in (1, 28, 29, 30, 31):
                assert (ecma.find(text) is not None) == expected, text
        day += timedelta(days=1)
    impossible = [
        f"{y}-{md}T00:00:00.000Z"
        for y in (1970, 1999, 2000, 2024, 2025, 2099)
        for md in (
            "00-10",
            "13-01",
            "02-30",
            "02-31",
            "04-31",
            "06-31",
            "09-31",
            "11-31",
            "01-00",
            "01-32",
        )
    ] + [
        "2025-02-29T00:00:00.000Z",  # not a leap year
        "2026-01-01T24:00:00.000Z",
        "2026-01-01T23:60:00.000Z",
        "2026-01-01T23:59:60.000Z",  # leap seconds: datetime cannot hold them
        "2026-01-01T23:59:59.99Z",
        "2026-01-01T23:59:59.999+00:00",
        "2026-01-01 23:59:59.999Z",
        "0000-01-01T00:00:00.000Z",
        "2026-01-01T00:00:00.000Z".translate(str.maketrans("0123456789", FULLWIDTH)),
        "2026-01-01T00:00:00.000Z".translate(str.maketrans("0123456789", ARABIC_INDIC)),
        "2026-01-01T00:00:00.000Z".replace("6", FULLWIDTH[6]),
        "2026-01-01T00:00:00.000Z\n",
    ]
    for text in impossible:
        assert python.search(text) is None, text
        assert ecma.find(text) is None, text
    assert python.search("2000-02-29T00:00:00.000Z")  # divisible by 400: a leap year
    assert python.search("2096-02-29T00:00:00.000Z")


def test_the_pattern_constants_are_the_envelopes() -> None:
    defs = load_schema("envelope")["$defs"]
    assert defs["id"]["pattern"] == ID_PATTERN
    assert defs["created_at"]["pattern"] == CREATED_AT_PATTERN
    from localtelemetry._record.documents import HASH_PATTERN

    assert defs["hash"]["pattern"] == HASH_PATTERN


def test_every_extension_limit_is_the_schemas() -> None:
    """One extension limit: the path descriptor's field (hashing) and the extension in
    a ``<path:HASH.ext>`` token (scrubbing) keep exactly what the schemas admit."""
    from localtelemetry._contract import EXTENSION_PATTERN, MAX_EXTENSION_CHARS
    from localtelemetry._record import scrub as _scrub
    from localtelemetry._record.documents import Hasher, is_extension

    for kind in ("envelope", "build", "cli-command"):
        text = json.dumps(load_schema(kind))
        assert (
            text.count('"pattern": "^\\\\.[a-z0-9]')
            == text.count(json.dumps(f"^{EXTENSION_PATTERN}{END}"))
            > 0
        )
    longest, too_long = "x" * MAX_EXTENSION_CHARS, "x" * (MAX_EXTENSION_CHARS + 1)
    schema_ext = re.compile(f"^{EXTENSION_PATTERN}{END}")
    assert schema_ext.match("." + longest) and not schema_ext.match("." + too_long)
    assert is_extension("." + longest) and not is_extension("." + too_long)
    hasher = Hasher(bytes(32))
    assert hasher.path_descriptor(f"/a/b.{longest}")["extension"] == "." + longest
    assert hasher.path_descriptor(f"/a/b.{too_long}")["extension"] is None
    assert _scrub._extension(f"b.{longest}") == "." + longest
    assert _scrub._extension(f"b.{too_long}") == ""
    scrubbed = _scrub.scrub(f"see /home/u/src/b.{longest}", hash_path=lambda p: "ab" * 16)
    assert scrubbed.text.endswith(f"<path:{'ab' * 16}.{longest}>")


@pytest.mark.parametrize("path", PUBLISHED, ids=lambda p: p.name)
def test_every_number_is_bounded_by_what_every_engine_holds(path: Path) -> None:
    for where, node in _nodes(json.loads(path.read_text())):
        kinds = node.get("type")
        kinds = kinds if isinstance(kinds, list) else [kinds]
        if "integer" in kinds or "number" in kinds:
            assert node.get("maximum") == MAX_SAFE_INTEGER or (
                where.endswith("/size") and node.get("maximum") == MAX_DOCUMENT_BYTES
            ), where
            assert node.get("minimum") in (0, -MAX_SAFE_INTEGER), where


def test_the_manifest_states_the_bundle_limits() -> None:
    files = load_schema("manifest")["properties"]["files"]
    assert files["maxItems"] == MAX_ENTRIES
    assert files["items"]["properties"]["size"]["maximum"] == MAX_DOCUMENT_BYTES


# -- one parse for every reader ------------------------------------------------------------


def _ours(value: dict[str, Any]) -> bytes:
    from localtelemetry._record.documents import serialize

    return serialize(value)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a": 1, "a": 2}',
        b'{"a": 1,"a":1}',
        b'{"p": {"x": 1, "x": 1}}',
        b'{"p": [{"y": {"z": 1, "z": 2}}]}',
        b'{"a": 1, "\\u0061": 2}',  # the same key, escaped
        b'{\n  "a": 1,\n  "a": 1\n}\n',  # in our own format
        b'{"payload": {"name": "attacker"}, "payload": {"name": "valid"}}',
    ],
)
def test_a_key_twice_is_refused_at_any_depth(raw: bytes) -> None:
    with pytest.raises(InvalidJSON, match="twice"):
        loads_unique(raw)
    with pytest.raises(InvalidJSON, match="twice"):
        parse_json_object(raw)


@settings(max_examples=200, deadline=None)
@given(
    value=st.recursive(
        st.none() | st.booleans() | st.integers(-(2**60), 2**60) | st.text(max_size=8),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner),
        max_leaves=20,
    ),
    compact=st.booleans(),
)
def test_values_without_repeated_keys_parse_in_any_format(value: Any, compact: bool) -> None:
    raw = json.dumps(value).encode() if compact else _ours({"v": value})
    expected = value if compact else {"v": value}
    assert loads_unique(raw) == expected


@pytest.mark.parametrize("depth", [30, 31, 32, 33, 40])
@pytest.mark.parametrize("inner", [{}, [], {"x": 1}, [1], 1])
def test_depth_is_decided_the_same_in_our_format_and_any_other(depth: int, inner: Any) -> None:
    """Our own format lets the parser skip the depth walk (indentation tells); the
    answer must be the walk's, in any format."""
    from localtelemetry._contract import MAX_DEPTH
    from localtelemetry._contract.schemas import nested_deeper_than

    value: Any = inner
    for level in range(depth):
        value = {"k": value} if level % 2 else [value]
    value = {"top": value}
    too_deep = nested_deeper_than(value, MAX_DEPTH)
    for raw in (_ours(value), json.dumps(value).encode()):
        if too_deep:
            with pytest.raises(InvalidJSON, match="deeper"):
                parse_json_object(raw)
        else:
            assert parse_json_object(raw) == value


def test_non_utf8_deep_and_non_objects_are_refused() -> None:
    with pytest.raises(InvalidJSON, match="not UTF-8"):
        parse_json_object(b'{"a": "\xff"}')
    with pytest.raises(InvalidJSON, match="deeper"):
        parse_json_object(b'{"a":' * 40 + b"1" + b"}" * 40)
    with pytest.raises(InvalidJSON, match="deeper"):  # json's own parser never sees it
        loads_unique(b'{ "a":' * 900 + b"1" + b"}" * 900)
    with pytest.raises(InvalidJSON, match="not a JSON object"):
        parse_json_object(b"[1]")


# -- real documents in four validators -------------------------------------------------


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A store written by real recorded runs, a bundle exported from it and the bundle
    extracted: the documents a downstream tool meets."""
    root = tmp_path_factory.mktemp("contract")
    env = {"LOCALTELEMETRY_DIR": str(root / "base")}
    for args in (["ok", "/srv/x.csv", "--include", "*.py"], ["fail"], ["boom"]):
        CliRunner().invoke(hostapp.app, ["--telemetry", *args], env=env)
    bundle = root / "bundle.zip"
    exported = CliRunner().invoke(
        make_app(None), ["export", "--app", "hostapp", "-o", str(bundle)], env=env
    )
    assert exported.exit_code == 0, exported.output
    extracted = root / "extracted"
    result = CliRunner().invoke(
        make_app(None), ["inspect", str(bundle), "--extract", str(extracted)]
    )
    assert result.exit_code == 0, result.output
    hostile = root / "hostile"
    hostile.mkdir()
    for kind in KINDS:
        source = next((extracted / kind).glob("*.json"))
        document = json.loads(source.read_text())
        for case, change in _HOSTILE.items():
            bad = json.loads(json.dumps(document))
            change(bad)
            (hostile / f"{kind}-{case}.json").write_text(json.dumps(bad))
    return {"store": root / "base" / "hostapp", "extracted": extracted, "hostile": hostile}


_HOSTILE = {
    "feb-30": lambda d: d.update(created_at="2026-02-30T10:00:00.000Z"),
    "year-0": lambda d: d.update(created_at="0000-01-01T00:00:00.000Z"),
    "arabic-digits": lambda d: d.update(created_at=ARABIC_INDIC[2] + "026-01-01T00:00:00.000Z"),
    "newline-version": lambda d: d["app"].update(version="1.0\n"),
    "newline-id": lambda d: d.update(id=d["id"] + "\n"),
    "big-int-count": lambda d: d.update(
        payload={**d["payload"], "documents_failed": 2**64 - 1}
        if d["kind"] == "run-summary"
        else {**d["payload"], "duration_ms": 2.0**60}
    ),
}


def _documents(recorded: dict[str, Path], kind: str) -> list[Path]:
    stored = sorted(recorded["store"].glob(f"{kind}-*.json"))
    bundled = sorted((recorded["extracted"] / kind).glob("*.json"))
    assert stored and bundled
    return stored + bundled


def _hostile(recorded: dict[str, Path], kind: str) -> list[Path]:
    return sorted(recorded["hostile"].glob(f"{kind}-*.json"))


def test_the_store_and_bundle_hold_only_valid_documents(recorded: dict[str, Path]) -> None:
    for kind in KINDS:
        for path in _documents(recorded, kind):
            assert validation_errors(parse_json_object(path.read_bytes())) == [], path
        for path in _hostile(recorded, kind):
            assert validation_errors(json.loads(path.read_text())), path


def _check_jsonschema() -> str:
    found = shutil.which("check-jsonschema", path=os.path.dirname(sys.executable))
    found = found or shutil.which("check-jsonschema")
    if found is None:
        pytest.skip("check-jsonschema is not installed (pip install -e '.[test]')")
    return found


@pytest.mark.parametrize("kind", KINDS)
def test_check_jsonschema_with_one_schemafile(kind: str, recorded: dict[str, Path]) -> None:
    tool = _check_jsonschema()
    schema = str(SCHEMA / f"{kind}.schema.json")
    good = subprocess.run(
        [tool, "--schemafile", schema, *map(str, _documents(recorded, kind))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert good.returncode == 0, good.stdout + good.stderr
    hostile = _hostile(recorded, kind)
    bad = subprocess.run(
        [tool, "--schemafile", schema, "--output-format", "json", *map(str, hostile)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 1, bad.stdout + bad.stderr
    failed = {Path(e["filename"]).name for e in json.loads(bad.stdout)["errors"]}
    assert failed == {p.name for p in hostile}


def test_check_jsonschema_on_the_manifest(recorded: dict[str, Path]) -> None:
    tool = _check_jsonschema()
    result = subprocess.run(
        [
            tool,
            "--schemafile",
            str(SCHEMA / "manifest.schema.json"),
            str(recorded["extracted"] / "manifest.json"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("kind", KINDS)
def test_jsonschema_and_jsonschema_rs_without_a_registry(
    kind: str, recorded: dict[str, Path]
) -> None:
    from jsonschema import Draft202012Validator

    jsonschema_rs = pytest.importorskip("jsonschema_rs", reason="pip install -e '.[test]'")
    schema = json.loads((SCHEMA / f"{kind}.schema.json").read_text())
    python = Draft202012Validator(schema)
    rust = jsonschema_rs.Draft202012Validator(schema)
    for path in _documents(recorded, kind):
        document = json.loads(path.read_text())
        assert python.is_valid(document) and rust.is_valid(document), path
    for path in _hostile(recorded, kind):
        document = json.loads(path.read_text())
        assert not python.is_valid(document) and not rust.is_valid(document), path


@pytest.fixture(scope="session")
def ajv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ajv-cli from the npm registry, installed into a temporary directory."""
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        pytest.skip("node and npm are not installed: ajv cannot run here")
    prefix = tmp_path_factory.mktemp("ajv")
    try:
        result = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--prefix", str(prefix), "ajv-cli@5"],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            env={**os.environ, "npm_config_cache": str(prefix / ".npm")},
        )
    except subprocess.TimeoutExpired:
        pytest.skip("npm install ajv-cli timed out (no registry?)")
    tool = prefix / "node_modules" / ".bin" / "ajv"
    if result.returncode != 0 or not tool.exists():
        pytest.skip(f"npm install ajv-cli failed: {result.stderr.strip()[-300:]}")
    return tool


@pytest.mark.parametrize("kind", [*KINDS, "manifest"])
def test_ajv_in_strict_mode(kind: str, ajv: Path, recorded: dict[str, Path]) -> None:
    schema = str(SCHEMA / f"{kind}.schema.json")
    base = [str(ajv), "validate", "--spec=draft2020", "--strict=true", "--allow-union-types"]
    if kind == "manifest":
        documents = [recorded["extracted"] / "manifest.json"]
        hostile: list[Path] = []
    else:
        documents = _documents(recorded, kind)
        hostile = _hostile(recorded, kind)
    args = [arg for path in documents for arg in ("-d", str(path))]
    good = subprocess.run([*base, "-s", schema, *args], capture_output=True, text=True, check=False)
    assert good.returncode == 0, good.stdout + good.stderr
    if hostile:
        args = [arg for path in hostile for arg in ("-d", str(path))]
        bad = subprocess.run(
            [*base, "-s", schema, *args], capture_output=True, text=True, check=False
        )
        assert bad.returncode == 1, bad.stdout + bad.stderr
        output = bad.stdout + bad.stderr
        for path in hostile:
            assert f"{path} invalid" in output, (path.name, output[-500:])


@given(st.text(alphabet="0123456789abcdefghijklmnopqrstuvwxyzIL!-", max_size=30))
@settings(max_examples=300, deadline=None)
def test_an_id_prefix_is_the_start_of_what_the_id_pattern_admits(text: str) -> None:
    from localtelemetry._contract import is_id_prefix

    padded = text + "0" * (26 - len(text))
    expected = 0 < len(text) <= 26 and re.fullmatch(ID_PATTERN, padded) is not None
    assert is_id_prefix(text) == expected
