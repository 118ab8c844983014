"""Issue 5, fuzzing the readers: Hypothesis against ``inspect`` (the bundle reader and
the manifest reader behind it), ``validate`` and the document reader, with mutated
bundles and documents; and every input in tests/corpus/ (the crashing inputs found so
far) as a regression test.

Bundles are mutated three ways: bytes (flips, truncation, insertion), zip structure
(entry names from a hostile list, duplicated, dropped or added entries), and JSON inside
the entries, where a mutated document's digest in the manifest is updated so that the
mutation reaches the schema checks instead of stopping at the digest. Properties: no
uncaught exception; exit code 0 or 2, and 2 comes with exactly one line on stderr;
nothing written anywhere but the ``--extract`` directory, and nothing at all when the
bundle is refused.

tests/fuzz_atheris.py runs the same readers under atheris (coverage-guided), opt-in.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import blake3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from typer.testing import CliRunner

from localtelemetry._cli.app import make_app
from localtelemetry._contract.bundle import MANIFEST_NAME, zip_info
from localtelemetry._contract.exceptions import BundleError, DocumentError
from localtelemetry._contract.schemas import manifest_errors, validation_errors
from localtelemetry._receive.bundle import parse_json
from localtelemetry._store.listing import load_document, parse_document

import hostapp
from conftest import ROOT, TESTS

CORPUS = TESTS / "corpus"
PUBLISHED = {
    p.name.removesuffix(".schema.json"): Draft202012Validator(json.loads(p.read_text()))
    for p in (ROOT / "schema").glob("*.schema.json")
}
EXAMPLES = int(os.environ.get("LOCALTELEMETRY_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _same_verdict_as_the_published_schema(errors: list[str], value: object, name: str) -> None:
    """One line per reason, and valid exactly when the published schema file says so
    (read here with jsonschema alone: no fast path)."""
    assert all(isinstance(e, str) and e.strip() and "\n" not in e for e in errors), errors
    if name in PUBLISHED:
        assert (errors == []) is PUBLISHED[name].is_valid(value), errors
    else:
        assert errors != []


def _kind(value: object) -> str:
    return str(value.get("kind")) if isinstance(value, dict) else ""


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=24)
    | st.sampled_from(["h:" + "0" * 32, "0" * 32, "01m84eq05rvw7hxsvec9gx1hta", "../x"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
HOSTILE_NAMES = [
    "../evil.json",
    "/etc/passwd",
    "C:\\evil",
    "documents/../../x.json",
    "documents/build/" + "0" * 26 + ".json",
    "documents/snapshot/./a.json",
    "documents/",
    "manifest.json",
    "README.txt",
    "a\x00b",
    "",
    "documents/cli-command/ZZZZZZZZZZZZZZZZZZZZZZZZZZ.json",
    "\u202emanifest.json",
]


# -- a good bundle to mutate -------------------------------------------------------------


@pytest.fixture(scope="module")
def good_bundle(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    store = tmp_path_factory.mktemp("fuzz-store")
    env = {"LOCALTELEMETRY_DIR": str(store)}
    for args in (["ok", "/srv/x.csv"], ["fail"], ["boom"]):
        CliRunner().invoke(hostapp.app, ["--telemetry", *args], env=env)
    target = tmp_path_factory.mktemp("fuzz-bundle") / "good.zip"
    result = CliRunner().invoke(
        make_app(None), ["export", "--app", "hostapp", "-o", str(target)], env=env
    )
    assert result.exit_code == 0, result.output
    return target.read_bytes()


def _entries(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [(info.filename, zf.read(info)) for info in zf.infolist()]


METHODS = [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED, zipfile.ZIP_LZMA, zipfile.ZIP_BZIP2]


def _zip(entries: list[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w") as zf:
        warnings.simplefilter("ignore")  # duplicate names are one of the mutations
        for name, data in entries:
            info = zip_info(name)
            info.compress_type = method
            zf.writestr(info, data)
    return buffer.getvalue()


def _mutate_json(data: st.DataObject, value: Any) -> Any:
    """Replace, delete or add at one random place in a JSON value (a copy)."""
    value = json.loads(json.dumps(value))
    holders: list[tuple[Any, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key in node:
                holders.append((node, key))
                walk(node[key])
        elif isinstance(node, list):
            for index in range(len(node)):
                holders.append((node, index))
                walk(node[index])

    walk(value)
    if not holders:
        return data.draw(JSON_VALUES)
    holder, key = data.draw(st.sampled_from(holders))
    action = data.draw(st.sampled_from(["replace", "delete", "add"]))
    if action == "replace":
        holder[key] = data.draw(JSON_VALUES)
    elif action == "delete":
        del holder[key]
    elif isinstance(holder, dict):
        holder[data.draw(st.text(max_size=10))] = data.draw(JSON_VALUES)
    else:
        holder.insert(key, data.draw(JSON_VALUES))
    return value


def _redigest(entries: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """Make the manifest's digests and sizes match the (mutated) entries, so a mutated
    document is judged by its content, not stopped at its digest."""
    contents = dict(entries)
    try:
        manifest = json.loads(contents[MANIFEST_NAME])
        for item in manifest["files"]:
            if item["path"] in contents:
                item["blake3"] = blake3.blake3(contents[item["path"]]).hexdigest()
                item["size"] = len(contents[item["path"]])
    except (KeyError, TypeError, ValueError):
        return entries
    new = json.dumps(manifest).encode()
    return [(n, new if n == MANIFEST_NAME else d) for n, d in entries]


# -- the properties ----------------------------------------------------------------------


@contextmanager
def _workspace() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="lt-fuzz-") as name:
        yield Path(name)


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def _check_inspect(bundle: bytes) -> int:
    """inspect --extract on ``bundle``: exit 0 or a one-line exit 2, never a crash, and
    nothing written outside the extract directory (nothing at all when refused)."""
    with _workspace() as root:
        path = root / "bundle.zip"
        path.write_bytes(bundle)
        before = _files(root)
        out = root / "out"
        result = CliRunner().invoke(make_app(None), ["inspect", str(path), "--extract", str(out)])
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        assert result.exit_code in (0, 2), result.output
        assert "Traceback" not in result.output
        written = _files(root) - before
        if result.exit_code == 2:
            assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
            assert written == set(), written
        else:
            assert all(name == "out" or name.startswith("out/") for name in written), written
        return int(result.exit_code)


@FUZZ
@given(data=st.data())
def test_inspect_survives_byte_mutations(good_bundle: bytes, data: st.DataObject) -> None:
    # Mostly the bundle as exported; sometimes repacked with another compression method
    # first (this is how a corrupt LZMA entry was found to escape inspect).
    method = data.draw(st.sampled_from(METHODS))
    packed = good_bundle if method == zipfile.ZIP_DEFLATED else _zip(_entries(good_bundle), method)
    mutated = bytearray(packed)
    for _ in range(data.draw(st.integers(1, 6))):
        kind = data.draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate"]))
        at = data.draw(st.integers(0, max(0, len(mutated) - 1)))
        if kind == "flip" and mutated:
            mutated[at] ^= 1 << data.draw(st.integers(0, 7))
        elif kind == "set" and mutated:
            mutated[at] = data.draw(st.integers(0, 255))
        elif kind == "insert":
            mutated[at:at] = data.draw(st.binary(min_size=1, max_size=16))
        elif kind == "delete":
            del mutated[at : at + data.draw(st.integers(1, 16))]
        else:
            del mutated[at:]
    _check_inspect(bytes(mutated))


@FUZZ
@given(data=st.data())
def test_inspect_survives_structural_mutations(good_bundle: bytes, data: st.DataObject) -> None:
    entries = _entries(good_bundle)
    for _ in range(data.draw(st.integers(1, 3))):
        kind = data.draw(st.sampled_from(["rename", "duplicate", "drop", "add", "swap"]))
        index = data.draw(st.integers(0, len(entries) - 1)) if entries else 0
        if kind == "rename" and entries:
            name = data.draw(st.sampled_from(HOSTILE_NAMES) | st.text(max_size=40))
            entries[index] = (name, entries[index][1])
        elif kind == "duplicate" and entries:
            entries.append(entries[index])
        elif kind == "drop" and entries:
            del entries[index]
        elif kind == "add":
            name = data.draw(st.sampled_from(HOSTILE_NAMES))
            entries.append((name, data.draw(st.binary(max_size=64))))
        elif entries:
            other = data.draw(st.integers(0, len(entries) - 1))
            entries[index], entries[other] = entries[other], entries[index]
    try:
        bundle = _zip(entries)
    except (ValueError, UnicodeError):
        return  # zipfile itself will not write such a name
    _check_inspect(bundle)  # reordered entries are still a good bundle; the rest is not


@FUZZ
@given(data=st.data())
def test_inspect_survives_mutated_documents_and_manifests(
    good_bundle: bytes, data: st.DataObject
) -> None:
    entries = _entries(good_bundle)
    jsons = [i for i, (name, _) in enumerate(entries) if name.endswith(".json")]
    for _ in range(data.draw(st.integers(1, 3))):
        index = data.draw(st.sampled_from(jsons))
        name, raw = entries[index]
        entries[index] = (name, json.dumps(_mutate_json(data, json.loads(raw))).encode())
    if data.draw(st.booleans()):
        entries = _redigest(entries)
    code = _check_inspect(_zip(entries))
    if code == 0:  # it verified: then every document in it is valid
        for name, raw in entries:
            if name.startswith("documents/"):
                assert validation_errors(json.loads(raw)) == []


@FUZZ
@given(data=st.data(), kind=st.sampled_from(["cli-command", "build", "snapshot", "run-summary"]))
def test_validate_and_the_document_reader_survive_mutated_documents(
    good_bundle: bytes, data: st.DataObject, kind: str
) -> None:
    raw = next(d for n, d in _entries(good_bundle) if n.startswith(f"documents/{kind}/"))
    mutated = json.dumps(_mutate_json(data, json.loads(raw))).encode()
    if data.draw(st.booleans()):
        at = data.draw(st.integers(0, len(mutated)))
        mutated = mutated[:at] + data.draw(st.binary(max_size=8)) + mutated[at:]
    with _workspace() as root:
        path = root / f"{kind}-x.json"
        path.write_bytes(mutated)
        try:
            document = load_document(path)
        except DocumentError:
            document = None
        if document is not None:
            _same_verdict_as_the_published_schema(
                validation_errors(document), document, _kind(document)
            )
        result = CliRunner().invoke(make_app(None), ["validate", str(path)])
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        assert result.exit_code in (0, 1), result.output
        assert result.stderr == "" and "Traceback" not in result.output
        assert _files(root) == {path.name}


@FUZZ
@given(data=st.data())
def test_the_manifest_reader_survives_mutated_manifests(
    good_bundle: bytes, data: st.DataObject
) -> None:
    manifest = json.loads(dict(_entries(good_bundle))[MANIFEST_NAME])
    raw = json.dumps(_mutate_json(data, manifest)).encode()
    if data.draw(st.booleans()):
        raw = raw[: data.draw(st.integers(0, len(raw)))]
    try:
        value = parse_json(raw, MANIFEST_NAME)
    except BundleError:
        return
    _same_verdict_as_the_published_schema(manifest_errors(value), value, "manifest")


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.binary(max_size=2048))
def test_the_readers_take_any_bytes(raw: bytes) -> None:
    for reader in (parse_document, parse_json):
        try:
            value = reader(raw, "x.json")
        except DocumentError:  # BundleError is one too
            continue
        assert isinstance(value, dict)
        _same_verdict_as_the_published_schema(validation_errors(value), value, _kind(value))
        _same_verdict_as_the_published_schema(manifest_errors(value), value, "manifest")


# -- the corpus of inputs that once crashed a reader ------------------------------------


def _corpus(kind: str) -> list[Path]:
    return sorted((CORPUS / kind).glob("*")) if (CORPUS / kind).is_dir() else []


@pytest.mark.parametrize("path", _corpus("bundles"), ids=lambda p: p.name)
def test_corpus_bundles_are_refused_in_one_line(path: Path) -> None:
    assert _check_inspect(path.read_bytes()) == 2


@pytest.mark.parametrize("path", _corpus("documents"), ids=lambda p: p.name)
def test_corpus_documents_are_reported_not_crashed_on(path: Path) -> None:
    with _workspace() as root:
        target = root / path.name
        target.write_bytes(path.read_bytes())
        result = CliRunner().invoke(make_app(None), ["validate", str(target)])
        assert result.exit_code == 1, result.output  # invalid, and said so
        assert result.stderr == "" and "Traceback" not in result.output


def test_the_corpus_is_small_and_present() -> None:
    files = _corpus("bundles") + _corpus("documents")
    assert len(files) >= 4
    assert all(p.stat().st_size <= 64 * 1024 for p in files)
