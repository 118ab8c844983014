"""Coverage-guided fuzzing of the readers with atheris. Opt-in: not collected by pytest
and not run in CI (atheris needs a compiler-built wheel and runs until stopped).

    pip install atheris
    python tests/fuzz_atheris.py -atheris_runs=200000          # or -max_total_time=600

Each input is split by its first byte into one of four targets:

    0  bundle bytes        -> inspect_bundle() (the zip, manifest and document readers)
    1  document bytes      -> load_document() + validation_errors()
    2  manifest bytes      -> parse_json() + manifest_errors()
    3  edits to a good bundle's entries (re-digested) -> inspect_bundle()

A reader may refuse its input with its own error (BundleError, DocumentError); any other
exception is a crash, which atheris reports and saves as crash-<sha1> in the working
directory. Add each one to tests/corpus/ (bundles/ or documents/), where
tests/test_reliability_fuzz.py turns it into a regression test.

The seed corpus (a real bundle, its documents and manifest) is written to a temporary
directory on each start and passed to atheris with any corpus directories given.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import tempfile
import zipfile
from pathlib import Path

import atheris

with atheris.instrument_imports():
    import blake3

    from localtelemetry._contract.bundle import MANIFEST_NAME, zip_info
    from localtelemetry._contract.exceptions import BundleError, DocumentError
    from localtelemetry._contract.schemas import manifest_errors, validation_errors
    from localtelemetry._receive.bundle import parse_json
    from localtelemetry._receive.inspect import inspect_bundle
    from localtelemetry._store.listing import load_document

WORK = Path(tempfile.mkdtemp(prefix="lt-atheris-"))
SEED_BUNDLE: list[bytes] = []


def _make_seed_bundle() -> bytes:
    """Record three runs of the test host app into a scratch store and export them."""
    from typer.testing import CliRunner

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from localtelemetry._cli.app import make_app

    import hostapp

    env = {"LOCALTELEMETRY_DIR": str(WORK / "store")}
    for args in (["ok", "/srv/x.csv"], ["fail"], ["boom"]):
        CliRunner().invoke(hostapp.app, ["--telemetry", *args], env=env)
    target = WORK / "seed.zip"
    CliRunner().invoke(make_app(None), ["export", "--app", "hostapp", "-o", str(target)], env=env)
    return target.read_bytes()


def _entries(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [(info.filename, zf.read(info)) for info in zf.infolist()]


def _inspect(data: bytes) -> None:
    path = WORK / "input.zip"
    path.write_bytes(data)
    with contextlib.suppress(BundleError):
        inspect_bundle(path)


def _edit_bundle(fdp: atheris.FuzzedDataProvider) -> bytes:
    entries = _entries(SEED_BUNDLE[0])
    index = fdp.ConsumeIntInRange(0, len(entries) - 1)
    name, data = entries[index]
    at = fdp.ConsumeIntInRange(0, len(data))
    cut = fdp.ConsumeIntInRange(0, 32)
    entries[index] = (
        name,
        data[:at] + fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 64)) + data[at + cut :],
    )
    if name != MANIFEST_NAME:  # a document or the README: update its digest and size
        contents = dict(entries)
        manifest = json.loads(contents[MANIFEST_NAME])
        for item in manifest["files"]:
            if item["path"] in contents:
                item["blake3"] = blake3.blake3(contents[item["path"]]).hexdigest()
                item["size"] = len(contents[item["path"]])
        new = json.dumps(manifest).encode()
        entries = [(n, new if n == MANIFEST_NAME else d) for n, d in entries]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for entry_name, entry_data in entries:
            zf.writestr(zip_info(entry_name), entry_data)
    return out.getvalue()


def test_one_input(data: bytes) -> None:
    if not data:
        return
    target, rest = data[0] % 4, data[1:]
    if target == 0:
        _inspect(rest)
    elif target == 1:
        path = WORK / "document.json"
        path.write_bytes(rest)
        with contextlib.suppress(DocumentError):
            validation_errors(load_document(path))
    elif target == 2:
        with contextlib.suppress(BundleError):
            manifest_errors(parse_json(rest, MANIFEST_NAME))
    else:
        _inspect(_edit_bundle(atheris.FuzzedDataProvider(rest)))


def main() -> None:
    SEED_BUNDLE.append(_make_seed_bundle())
    seeds = WORK / "seeds"
    seeds.mkdir()
    (seeds / "bundle").write_bytes(b"\x00" + SEED_BUNDLE[0])
    (seeds / "edit").write_bytes(b"\x03" + os.urandom(64))
    for name, data in _entries(SEED_BUNDLE[0]):
        if name == MANIFEST_NAME:
            (seeds / "manifest").write_bytes(b"\x02" + data)
        elif name.endswith(".json"):
            (seeds / Path(name).name).write_bytes(b"\x01" + data)
    # Corpus directories given on the command line come first (new inputs go there).
    atheris.Setup([*sys.argv, str(seeds)], test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
