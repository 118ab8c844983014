"""Issue 6: the reader API. Bundles are read with inspect's hostile reader, all or
nothing; loose documents (stores, extracted bundles) are bounded, never followed
through symlinks, validated and matched to their file names."""

from __future__ import annotations

import json
import os
import random
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest
from bundle_factory import Run, documents_for, invoke, write_bundle, write_store

import localtelemetry
from localtelemetry import BundleError, Document, DocumentError, UsageError
from localtelemetry._contract.bundle import zip_info
from localtelemetry._receive import reader as _reader
from localtelemetry._receive.reader import plan_sources, read_extracted


@pytest.fixture
def docs() -> list[dict[str, object]]:
    rng = random.Random(4)
    when = datetime(2026, 5, 1, 8, tzinfo=timezone.utc)
    runs = [
        Run(("build",), when=when, build=("build", "success", 5.0, (("a", 1.0, "success"),))),
        Run(("test",), "failure", 9.0, "E", when=when, snapshot=("s", {"n": 1})),
    ]
    return [d for r in runs for d in documents_for(r, rng)]


def test_read_bundle_yields_typed_documents(docs: list[dict[str, object]], tmp_path: Path) -> None:
    bundle = write_bundle(tmp_path / "b.zip", docs)
    read = list(localtelemetry.read_bundle(bundle))
    assert sorted(d.id for d in read) == sorted(str(d["id"]) for d in docs)
    command = next(d for d in read if d.kind == "cli-command" and d.payload["outcome"] == "failure")
    assert isinstance(command, Document)
    assert command.command == "test" and command.day == "2026-05-01"
    assert command.created_at.tzinfo is not None and command.created_at.year == 2026
    assert command.environment.os == "linux" and command.environment.runtime_context == "local"
    assert command.app_name == "shop" and command.source == str(bundle)
    assert json.loads(command.raw) == command.data
    with pytest.raises(AttributeError):
        command.kind = "build"  # type: ignore[misc]
    assert next(d for d in read if d.kind == "build").command is None


def _tamper_last(bundle: Path, target: Path) -> Path:
    with zipfile.ZipFile(bundle) as zf:
        entries = [(i.filename, zf.read(i)) for i in zf.infolist()]
    last_doc = max(n for n, _ in entries if n.startswith("documents/"))
    with zipfile.ZipFile(target, "w") as out:
        for name, data in entries:
            if name == last_doc:
                data = data.replace(b'"linux"', b'"macos"')
            out.writestr(zip_info(name), data)
    return target


def test_a_tampered_bundle_yields_nothing(docs: list[dict[str, object]], tmp_path: Path) -> None:
    bad = _tamper_last(write_bundle(tmp_path / "b.zip", docs), tmp_path / "bad.zip")
    seen: list[Document] = []
    with pytest.raises(BundleError, match="digest"):
        seen.extend(localtelemetry.read_bundle(bad))
    assert seen == []
    # streaming mode hands out what verified before the problem
    streamed: list[Document] = []
    with pytest.raises(BundleError):
        streamed.extend(_reader.read_bundle(bad, atomic=False))
    assert 0 < len(streamed) < len(docs)


def test_a_big_bundle_is_verified_before_anything_is_yielded(
    docs: list[dict[str, object]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_reader, "ATOMIC_BUFFER_BYTES", 100)  # every bundle is "big" now
    good = write_bundle(tmp_path / "b.zip", docs)
    assert len(list(localtelemetry.read_bundle(good))) == len(docs)
    bad = _tamper_last(good, tmp_path / "bad.zip")
    seen: list[Document] = []
    with pytest.raises(BundleError):
        seen.extend(localtelemetry.read_bundle(bad))
    assert seen == []


def test_read_store_skips_foreign_files_and_checks_documents(
    docs: list[dict[str, object]], tmp_path: Path
) -> None:
    store = write_store(tmp_path / "app", docs)
    (store / "notes.txt").write_text("mine")
    (store / ".hashkey").write_bytes(os.urandom(32))
    read = list(localtelemetry.read_store(store))
    assert [d.id for d in read] == sorted(str(d["id"]) for d in docs)  # oldest first
    victim = next(store.glob("cli-command-*.json"))
    victim.write_text(victim.read_text().replace('"shop"', '"sh op"'))
    with pytest.raises(DocumentError, match="does not match its schema"):
        list(localtelemetry.read_store(store))
    skipped: list[tuple[str, str]] = []
    kept = list(localtelemetry.read_store(store, on_skip=lambda w, y: skipped.append((w, y))))
    assert len(kept) == len(docs) - 1
    assert skipped[0][0] == str(victim) and "schema" in skipped[0][1]


def test_loose_documents_are_refused_when_unsafe(
    docs: list[dict[str, object]], tmp_path: Path
) -> None:
    store = write_store(tmp_path / "app", docs[:1])
    (path,) = store.glob("*.json")
    elsewhere = tmp_path / "elsewhere.json"
    path.rename(elsewhere)
    path.symlink_to(elsewhere)
    reasons: list[str] = []
    assert list(localtelemetry.read_store(store, on_skip=lambda w, y: reasons.append(y))) == []
    assert reasons == []  # a symlink is not a document of the store: not even looked at
    renamed = store / f"{docs[0]['kind']}-{'0' * 26}.json"
    elsewhere.rename(renamed)
    with pytest.raises(DocumentError, match="another kind or id"):
        list(localtelemetry.read_store(store))
    renamed.write_bytes(b"[" * 5000 + b"]" * 5000)
    with pytest.raises(DocumentError, match=str(renamed)):
        list(localtelemetry.read_store(store))
    renamed.write_bytes(b" " * (1024 * 1024 + 1))
    with pytest.raises(DocumentError, match="limit"):
        list(localtelemetry.read_store(store))


def test_extracted_bundles_and_directories(docs: list[dict[str, object]], tmp_path: Path) -> None:
    (tmp_path / "in" / "deep").mkdir(parents=True)
    bundle = write_bundle(tmp_path / "in" / "deep" / "b.zip", docs)
    extracted = tmp_path / "in" / "extracted"
    assert invoke("inspect", str(bundle), "--extract", str(extracted)).exit_code == 0
    write_store(tmp_path / "in" / "store", docs[:2])
    (tmp_path / "in" / "link.zip").symlink_to(bundle)
    planned = plan_sources([tmp_path / "in"])
    assert [(s.kind, s.path.relative_to(tmp_path / "in").as_posix()) for s in planned] == [
        ("bundle", "deep/b.zip"),
        ("extracted", "extracted"),
        ("store", "store"),
    ]
    assert len(list(read_extracted(extracted))) == len(docs)
    everything = list(localtelemetry.read_sources([tmp_path / "in"]))
    assert len(everything) == 2 * len(docs) + 2  # duplicates are the caller's business
    single = next((extracted / "cli-command").glob("*.json"))
    assert [d.kind for d in localtelemetry.read_sources([single])] == ["cli-command"]
    with pytest.raises(UsageError, match="does not exist"):
        list(localtelemetry.read_sources([tmp_path / "missing"]))


def test_import_stays_cheap() -> None:
    import subprocess
    import sys

    code = "import sys, localtelemetry; print(sorted(m for m in sys.modules if m in ('dataclasses', 'zipfile', 'orjson', 'jsonschema')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
