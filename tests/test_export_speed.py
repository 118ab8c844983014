"""Issue 4: export's speed-ups change nothing in what a bundle holds.

The caching rewriter must give the same documents and the same redaction report as
the plain one; the streaming zip writer must give a zip that zipfile reads back,
ZIP64 included.
"""

from __future__ import annotations

import copy
import io
import zipfile
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from localtelemetry._bundle import zip_info
from localtelemetry._export import _CachingRewriter, _Keys, _ZipWriter
from localtelemetry._listing import load_document
from localtelemetry._location import StoreLocation
from localtelemetry._projection import Rewriter
from localtelemetry._store import Store

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


def _rewriters(store: Store) -> tuple[Rewriter, Rewriter]:
    keys = _Keys(store, False)
    args: dict[str, Any] = {
        "rekey": keys.rekey,
        "key_id": keys.key_id,
        "hash_new_text": keys.path_hash,
        "hash_name": keys.value_hash,
    }
    return Rewriter(**args), _CachingRewriter(**args)


def test_caching_rewriter_gives_the_same_bundle_and_report(base: Path) -> None:
    documents = _documents(base)
    plain, cached = _rewriters(Store(StoreLocation("hostapp", base=base)))
    for _ in range(3):  # later rounds are cache hits
        for document in documents:
            assert cached.document(copy.deepcopy(document)) == plain.document(
                copy.deepcopy(document)
            )
    assert plain.substitutions and plain.fields_dropped and plain.names_hashed
    assert cached.substitutions == plain.substitutions
    assert cached.fields_dropped == plain.fields_dropped
    assert cached.names_hashed == plain.names_hashed


def test_cached_objects_are_not_shared_between_documents(base: Path) -> None:
    documents = _documents(base)
    _, cached = _rewriters(Store(StoreLocation("hostapp", base=base)))
    first = cached.document(copy.deepcopy(documents[0]))
    first["hashing"]["key_id"] = "changed"
    first["environment"]["os"] = "changed"
    second = cached.document(copy.deepcopy(documents[0]))
    assert second["hashing"]["key_id"] != "changed" and second["environment"]["os"] != "changed"


@pytest.mark.parametrize("count", [0, 3, 70_000])
def test_zip_writer_output_reads_back(count: int) -> None:
    raw = io.BytesIO()
    names = [f"documents/build/{i:026d}.json" for i in range(count)]
    with _ZipWriter(raw) as zf:
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

    from localtelemetry._documents import serialize
    from localtelemetry._export import Selection, export

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
