"""Issue 11's proof: the privacy corpus (tests/privacy_corpus/) through the scrubber, and
through the real product (a recorded run's store, and the exported bundle)."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from privacy_corpus import generate, report
from typer.testing import CliRunner

from localtelemetry._cli.app import make_app
from localtelemetry._receive.bundle import iter_verified
from localtelemetry.testing import read_documents

from conftest import clean_env

HOST = Path(generate.__file__).parent / "host.py"
ENTRIES = report.load()
SECRETS = [e for e in ENTRIES if not e.get("benign")]
BENIGN = [e for e in ENTRIES if e.get("benign")]


def test_corpus_is_what_the_generator_writes() -> None:
    assert report.CORPUS.read_text(encoding="utf-8") == generate.dump(generate.generate())


def test_corpus_size() -> None:
    assert len(SECRETS) >= 500
    assert len({e["kind"] for e in SECRETS}) >= 60
    assert len(BENIGN) >= 200
    for entry in SECRETS:
        assert entry["planted"] and all(p in entry["text"] for p in entry["planted"])


def test_direct_recall_and_benign_survival(capsys: pytest.CaptureFixture[str]) -> None:
    rows = report.evaluate(ENTRIES)
    with capsys.disabled():
        print("\n" + report.table(rows))
    misses = {k: r["bad"] for k, r in rows.items() if not r["benign"] and r["bad"]}
    assert misses == {}, misses  # 100 % recall, per kind
    changed = sum(r["bad"] for r in rows.values() if r["benign"])
    assert changed <= 0.02 * len(BENIGN), changed


def test_docs_table_matches_the_corpus() -> None:
    doc = report.DOC.read_text(encoding="utf-8")
    assert report.HEADING in doc
    expected = report.table(report.evaluate(ENTRIES))
    assert report.section_of(doc) == expected, (
        "docs/privacy.md is stale: run python tests/privacy_corpus/report.py --write"
    )


def _leaks(blob: bytes, entries: list[dict[str, Any]]) -> list[tuple[str, str]]:
    lower = blob.lower()
    found = []
    for entry in entries:
        for planted in entry["planted"]:
            if planted.encode() in blob or planted.lower().encode() in lower:
                found.append((entry["kind"], planted))
            escaped = json.dumps(planted)[1:-1].encode()  # as it would sit inside JSON
            if escaped != planted.encode() and escaped in blob:
                found.append((entry["kind"], planted))
    return found


def test_nothing_planted_reaches_the_store_or_the_bundle(base: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    texts = [e["text"] for e in ENTRIES]
    result = subprocess.run(
        [sys.executable, str(HOST), "plant", "--telemetry"],
        input=json.dumps(texts),
        env=clean_env(base, home),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 1, result.stderr[-2000:]
    assert "RuntimeError" in result.stderr
    # the search finds every planted value in the unscrubbed texts
    assert {k for k, _ in _leaks("\n".join(texts).encode(), SECRETS)} == {
        e["kind"] for e in SECRETS
    }
    store = base / "corpus"
    documents = read_documents(store, validate=True)  # every document against schema/
    kinds = Counter(str(d["kind"]) for d in documents)
    assert kinds == {"build": len(texts), "cli-command": 1, "run-summary": 1}, kinds

    files = sorted(p for p in base.rglob("*") if p.is_file())
    store_blob = b"\n".join(p.read_bytes() for p in files)
    assert _leaks(store_blob, SECRETS) == []

    bundle = tmp_path / "bundle.zip"
    exported = CliRunner().invoke(make_app(None), ["export", "--app", "corpus", "-o", str(bundle)])
    assert exported.exit_code == 0, exported.output
    with zipfile.ZipFile(bundle) as zf:
        members = {info.filename: zf.read(info) for info in zf.infolist()}
    bundle_blob = b"\n".join(members.values())
    assert _leaks(bundle_blob, SECRETS) == []
    verified = list(iter_verified(bundle))  # manifest digests and every document's schema
    assert len(verified) == 1 + len(texts) + 2  # the manifest, builds, cli-command, summary

    # The benign look-alikes come through the recorded run unchanged. (The bar is lower
    # than the scrubber's own 98 %: the run also redacts what it knows of the machine,
    # such as its host name, wherever that shows up.)
    messages = {d["payload"]["error_message"] for d in documents if d["kind"] == "build"}  # type: ignore[index]
    kept = sum(e["text"] in messages for e in BENIGN)
    assert kept >= 0.9 * len(BENIGN), kept
