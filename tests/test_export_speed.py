"""Issue 4: export's speed-ups change nothing in what a bundle holds.

The walk (compiled per node, results kept per value) must give the same documents and
the same redaction report as a plain interpreter of the schemas
(``tests/test_projection_walk.py`` checks it on generated documents too); export with
its own reader must give the same bundle, byte for byte, as with the store's reader and
the interpreter; the streaming zip writer must give a zip that zipfile reads back,
ZIP64 included.
"""

from __future__ import annotations

import copy
import io
import os
import zipfile
from pathlib import Path
from typing import Any

import orjson
import pytest
from schema_interpreter import Interpreted
from typer.testing import CliRunner

from localtelemetry._contract.bundle import zip_info
from localtelemetry._contract.exceptions import DocumentError
from localtelemetry._share.export import _Keys, _Reader
from localtelemetry._share.projection import Rewriter
from localtelemetry._share.zipstream import ZipWriter
from localtelemetry._store import StoreLocation
from localtelemetry._store.listing import load_document
from localtelemetry._store.store import Store

import hostapp

LEAKS = (
    "failed for jane.doe@example.org in /home/jane/clients/acme/ledger.csv",
    "token ghp_" + "Zq9" * 12 + " rejected",
    "plain words only",
)


def _documents(base: Path) -> list[dict[str, Any]]:
    for args in (["ok", "src"], ["boom"], ["fail"], ["paint", "--color", "blue"]):
        CliRunner().invoke(hostapp.app, ["--telemetry", *args])
    store = Store(StoreLocation("hostapp", base=base))
    stored = [load_document(e.path) for e in store.entries()]
    varied = []
    for i, document in enumerate(stored):
        doc = copy.deepcopy(document)
        payload = doc["payload"]
        if "error_message" in payload:
            payload["error_message"] = LEAKS[i % len(LEAKS)]  # as an older version may have
        if isinstance(payload.get("counters"), dict):
            payload["counters"]["jane.doe@example.org"] = 2  # a name that looks like data
        doc["hand_added"] = "dropped"
        payload["also_added"] = {"x": 1}
        varied.append(doc)
    return stored + varied


def _rewriters(store: Store) -> tuple[Interpreted, Rewriter]:
    keys = _Keys(store, False)
    args: dict[str, Any] = {
        "rekey": keys.rekey,
        "key_id": keys.key_id,
        "hash_new_text": keys.path_hash,
        "hash_name": keys.value_hash,
    }
    return Interpreted(**args), Rewriter(**args)


def test_the_walk_gives_the_documents_and_report_of_the_interpreter(base: Path) -> None:
    documents = _documents(base)
    plain, compiled = _rewriters(Store(StoreLocation("hostapp", base=base)))
    for _ in range(3):  # later rounds are memo hits
        for document in documents:
            assert compiled.rewrite(copy.deepcopy(document)) == plain.document(
                copy.deepcopy(document)
            )
    assert plain.substitutions and plain.fields_dropped and plain.names_hashed
    assert compiled.substitutions == plain.substitutions
    assert compiled.fields_dropped == plain.fields_dropped
    assert compiled.names_hashed == plain.names_hashed


def test_memoized_objects_are_not_shared_between_documents(base: Path) -> None:
    documents = _documents(base)
    _, compiled = _rewriters(Store(StoreLocation("hostapp", base=base)))
    first = compiled.rewrite(copy.deepcopy(documents[0]))
    first["hashing"]["key_id"] = "changed"
    first["environment"]["os"] = "changed"
    second = compiled.rewrite(copy.deepcopy(documents[0]))
    assert second["hashing"]["key_id"] != "changed" and second["environment"]["os"] != "changed"


@pytest.mark.parametrize("count", [0, 3, 70_000])
def test_zip_writer_output_reads_back(count: int) -> None:
    raw = io.BytesIO()
    names = [f"documents/build/{i:026d}.json" for i in range(count)]
    with ZipWriter(raw) as zf:
        for i, name in enumerate(names):
            zf.writestr(zip_info(name), b'{"n": %d}\n' % i * (1 + i % 3))
        zf.writestr(zip_info("manifest.json"), orjson.dumps({"count": count}))
    with zipfile.ZipFile(io.BytesIO(raw.getvalue())) as zf:
        infos = zf.infolist()
        assert [i.filename for i in infos] == [*names, "manifest.json"]
        assert zf.testzip() is None
        assert orjson.loads(zf.read("manifest.json")) == {"count": count}
        if count:
            assert zf.read(names[-1]) == b'{"n": %d}\n' % (count - 1) * (1 + (count - 1) % 3)
        reference = zip_info("manifest.json")
        for info in infos[-2:]:
            assert info.date_time == reference.date_time
            assert info.external_attr == reference.external_attr
            assert info.create_system == reference.create_system
            assert info.compress_type == zipfile.ZIP_DEFLATED


def test_streamed_manifest_is_what_serialize_writes(base: Path, tmp_path: Path) -> None:
    from datetime import datetime, timezone

    from localtelemetry._record.documents import serialize
    from localtelemetry._share.export import Selection, export

    _documents(base)
    target = tmp_path / "b.zip"
    export(
        Store(StoreLocation("hostapp", base=base)),
        target=target,
        force=False,
        selection=Selection(),
        keep_hashes=False,
        now=datetime(2026, 6, 1, tzinfo=timezone.utc),
    )
    with zipfile.ZipFile(target) as zf:
        raw = zf.read("manifest.json")
        manifest = orjson.loads(raw)
        assert raw == serialize(manifest)
        assert [f["path"] for f in manifest["files"]] == [
            i.filename for i in zf.infolist() if i.filename != "manifest.json"
        ]


def test_write_document_is_writestr_of_zip_info() -> None:
    names = ["documents/build/01m84dndkq6vg5rh1c010318n9.json", "documents/x/\u00e9t\u00e9.json"]
    outputs = []
    for fast in (False, True):
        raw = io.BytesIO()
        with ZipWriter(raw) as zf:
            for i, name in enumerate(names):
                data = b'{"n": %d}\n' % i * 40
                if fast:
                    zf.write_document(name, data)
                else:
                    zf.writestr(zip_info(name), data)
        outputs.append(raw.getvalue())
    assert outputs[0] == outputs[1]


# -- the whole export against the pipeline it replaces --------------------------------


def _plant_store(base: Path) -> Store:
    """The host app's documents, the variations above under new ids, and hostile files:
    nested too deep (in a known field, in an unknown one, of another run, of the wrong
    kind), not JSON, not an object, a symlink, a directory."""
    import os
    import random

    from localtelemetry._contract import new_id

    documents = _documents(base)
    store = Store(StoreLocation("hostapp", base=base))
    directory = store.directory
    rng = random.Random(4)
    ids = iter(new_id(1_790_000_000_000 + i, random_bytes=rng.randbytes(10)) for i in range(99))
    for document in documents[len(documents) // 2 :]:  # the variations
        document["id"] = next(ids)
        store.write_bytes(str(document["kind"]), document["id"], orjson.dumps(document))
    run_id = documents[0]["run_id"]
    deep: Any = "x"
    for _ in range(40):
        deep = [deep]
    template = documents[0]
    for field, value, run, kind in (
        ("payload", {**template["payload"], "counters": {"a": deep}}, run_id, None),
        ("smuggled", deep, run_id, None),
        ("smuggled", deep, "0" * 26, None),
        ("smuggled", deep, run_id, "snapshot"),
        ("payload", template["payload"], run_id, "snapshot"),
    ):
        document = {**copy.deepcopy(template), field: value, "run_id": run, "id": next(ids)}
        file_kind = kind or str(document["kind"])
        store.write_bytes(file_kind, document["id"], orjson.dumps(document))
    for data in (b"not json", b"[1, 2]", b"", b'{"kind": "build"}'):
        store.write_bytes("build", next(ids), data)
    os.symlink(directory / f"build-{template['id']}.json", directory / f"build-{next(ids)}.json")
    (directory / f"snapshot-{next(ids)}.json").mkdir()
    return store


def _bundle(store: Store, target: Path, keep: bool, run: str | None) -> bytes:
    from datetime import datetime, timezone

    from localtelemetry._share.export import Selection, export

    export(
        store,
        target=target,
        force=True,
        selection=Selection(run=run),
        keep_hashes=keep,
        now=datetime(2026, 6, 1, tzinfo=timezone.utc),
    )
    return target.read_bytes()


@pytest.mark.parametrize(("keep", "run"), [(True, None), (False, None), (True, "by-run")])
def test_export_gives_the_bundle_of_the_interpreted_pipeline(
    base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keep: bool, run: str | None
) -> None:
    """The same bundle, byte for byte, as with the store's reader (which refuses documents
    nested too deep) and the interpreter of the schemas."""
    import os

    from localtelemetry._contract.exceptions import DocumentError
    from localtelemetry._share import export as _export

    store = _plant_store(base)
    if run:
        run = str(load_document(next(iter(store.entries())).path)["run_id"])[:12]
    # rekeyed bundles use a fresh random key: the same one for both exports here
    monkeypatch.setattr(os, "urandom", lambda n: bytes(range(n)))
    fast = _bundle(store, tmp_path / "fast.zip", keep, run)

    class Plain(Interpreted):
        def rewrite(self, document: dict[str, Any]) -> dict[str, Any]:
            return self.document(document)

    def read(self: _Reader, name: str) -> dict[str, Any] | None:
        try:
            return load_document(Path(self._directory, name))
        except (DocumentError, OSError):
            return None

    monkeypatch.setattr(_export, "Rewriter", Plain)
    monkeypatch.setattr(_Reader, "read", read)
    reference = _bundle(store, tmp_path / "reference.zip", keep, run)
    assert fast == reference
    with zipfile.ZipFile(io.BytesIO(fast)) as zf:
        redaction = orjson.loads(zf.read("manifest.json"))["redaction"]
    assert redaction["documents_skipped"]["unreadable"] >= (4 if run else 7)
    assert redaction["documents_skipped"]["invalid"] >= 1
    assert redaction["substitutions"] and redaction["fields_dropped"]


def test_reader_reads_what_load_document_reads(base: Path) -> None:
    store = _plant_store(base)
    directory = store.directory
    with _Reader(directory) as read:
        for name in sorted(p.name for p in directory.iterdir()):
            if not name.endswith(".json"):
                continue
            try:
                expected: Any = load_document(directory / name)
            except DocumentError:  # anything else is a crash, not a refusal
                expected = None
            got = read(name)
            if expected is None and got is not None:  # the walk refuses these, not the reader
                from localtelemetry._contract import MAX_DEPTH
                from localtelemetry._contract.schemas import nested_deeper_than

                assert nested_deeper_than(got, MAX_DEPTH), name
            else:
                assert got == expected, name


@pytest.mark.skipif(os.name != "posix", reason="symlinks and dir_fd")
def test_reader_refuses_a_store_swapped_for_a_symlink(base: Path, tmp_path: Path) -> None:
    from localtelemetry._contract.exceptions import UnsafeStoreError

    store = _plant_store(base)
    real = store.directory
    moved = tmp_path / "elsewhere"
    real.rename(moved)
    real.symlink_to(moved)  # swapped in after the listing checked the directory
    with pytest.raises(UnsafeStoreError, match="symlink"), _Reader(real, store.check_directory):
        pass


def test_streamed_entry_is_the_same_on_a_stream_that_cannot_seek() -> None:
    class Unseekable(io.BytesIO):
        def seekable(self) -> bool:
            return False

    chunks = [b'{"files": [\n', *(b'  "%d",\n' % i for i in range(5000)), b"]}\n"]
    outputs = []
    for raw in (io.BytesIO(), Unseekable()):
        with ZipWriter(raw) as zf:
            zf.writestr(zip_info("README.txt"), b"read me\n")
            zf.writestream(zip_info("manifest.json"), iter(chunks))
        outputs.append(raw.getvalue())
    assert outputs[0] == outputs[1]
    with zipfile.ZipFile(io.BytesIO(outputs[0])) as zf:
        assert zf.testzip() is None
        assert zf.read("manifest.json") == b"".join(chunks)


def test_streamed_entry_in_a_file_opened_for_appending(tmp_path: Path) -> None:
    # Seekable, but every write goes to the end: the header cannot be patched in place.
    chunks = [b'{"files": [\n', *(b'  "%d",\n' % i for i in range(500)), b"]}\n"]
    path = tmp_path / "appended.zip"
    with path.open("ab") as raw, ZipWriter(raw) as zf:
        zf.writestr(zip_info("README.txt"), b"read me\n")
        zf.writestream(zip_info("manifest.json"), iter(chunks))
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        assert zf.read("manifest.json") == b"".join(chunks)


@pytest.mark.parametrize("keep", [True, False])
def test_a_selection_sorted_in_runs_gives_the_same_bundle(
    base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keep: bool
) -> None:
    """Past SORT_RUN documents the names are sorted in runs on disk and merged (memory
    stays flat): the bundle is the one sorting them all at once gives, byte for byte."""
    from localtelemetry._share import export as _export
    from localtelemetry._share.export import Selection, _select

    store = _plant_store(base)
    monkeypatch.setattr(os, "urandom", lambda n: bytes(range(n)))
    whole = _bundle(store, tmp_path / "whole.zip", keep, None)
    total, names = _select(store, Selection())
    in_memory = list(names)
    monkeypatch.setattr(_export, "SORT_RUN", 3)
    monkeypatch.setattr(_export, "_RUN_BLOCK", 7)  # names split across blocks
    total_in_runs, names = _select(store, Selection())
    assert (total_in_runs, list(names)) == (total, in_memory)
    assert total > 3 * 3 and in_memory == sorted(in_memory)
    assert _bundle(store, tmp_path / "runs.zip", keep, None) == whole
