"""Issue 11, point 7: bundles of one store cannot be linked to each other. Without
--keep-hashes every bundle gets its own document ids, run ids and hashes, and times cut
to the day; inside one bundle the documents of a run still share one run id and the
report still counts them as before. Every bundle is verified with inspect and every
document validated against schema/."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from pathlib import Path
from typing import Any

from export_helpers import cli, manifest_of, members, record_runs, recording_app, stored, verified
from hypothesis import given, settings
from hypothesis import strategies as st

from localtelemetry._contract import ID_PATTERN, id_time_ms, new_id
from localtelemetry._share.relabel import DAY_MS, Relabel

ID_RE = re.compile(ID_PATTERN)
TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
HEX_RE = re.compile(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])")


def _facts(blob: str) -> dict[str, set[str]]:
    """Every id, hash and timestamp in some text."""
    return {
        "ids": set(re.findall(r"(?<![0-9a-z])[0-9a-hjkmnp-tv-z]{26}(?![0-9a-z])", blob)),
        "hashes": set(HEX_RE.findall(blob)),
        "times": set(TIME_RE.findall(blob)),
    }


def _bundle_facts(bundle: Path) -> dict[str, set[str]]:
    text = "\n".join(
        data.decode() for name, data in members(bundle).items() if name != "README.txt"
    )
    names = "\n".join(members(bundle))  # entry names hold the document ids
    facts = _facts(text + "\n" + names)
    return facts


def _export(tmp_path: Path, name: str, *args: str) -> Path:
    """Export through the CLI; the bundle is verified (inspect, then schema/)."""
    bundle = tmp_path / name
    result = cli(["export", "--app", "privy", "-o", str(bundle), *args])
    assert result.exit_code == 0, result.output
    verified(bundle)
    return bundle


def test_bundles_of_one_store_share_no_id_run_id_hash_or_exact_time(
    base: Path, tmp_path: Path
) -> None:
    record_runs(recording_app())
    store = base / "privy"
    documents = stored(store)
    by_kind = Counter(str(d["kind"]) for d in documents)
    assert by_kind["build"] and by_kind["cli-command"]
    bundles = [
        _export(tmp_path, "builds.zip", "--kind", "build"),
        _export(tmp_path, "commands.zip", "--kind", "cli-command"),
        _export(tmp_path, "all-1.zip"),
        _export(tmp_path, "all-2.zip"),
    ]
    store_facts = _facts("\n".join(json.dumps(d) for d in documents))
    assert store_facts["ids"] and store_facts["hashes"] and store_facts["times"]
    facts = []
    for bundle in bundles:
        verified(bundle)
        found = _bundle_facts(bundle)
        assert found["ids"] and found["times"]
        # Nothing of the store: no stored id, run id, hash or exact time.
        for what in ("ids", "hashes", "times"):
            assert not (found[what] & store_facts[what]), (bundle.name, what)
        # Every time a document carries is a day.
        for name, document in verified(bundle):
            assert document["created_at"].endswith("T00:00:00.000Z"), name
        assert manifest_of(bundle)["created_at"].endswith("T00:00:00.000Z")
        facts.append(found)
    for i, one in enumerate(facts):
        for other in facts[i + 1 :]:
            assert not (one["ids"] & other["ids"]), "two bundles share an id or run id"
            assert not (one["hashes"] & other["hashes"]), "two bundles share a hash"


def _pairs(bundle: Path, store: Path) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(stored document, its bundle copy): within a kind, entries follow stored id order."""
    from_store: dict[str, list[dict[str, Any]]] = {}
    for document in stored(store):
        from_store.setdefault(str(document["kind"]), []).append(document)
    pairs = []
    for kind, docs in from_store.items():
        docs.sort(key=lambda d: str(d["id"]))
        copies = [d for n, d in verified(bundle) if n.startswith(f"documents/{kind}/")]
        assert len(copies) == len(docs)
        for old, new in zip(docs, copies, strict=True):
            assert new["payload"]["duration_ms"] == old["payload"]["duration_ms"]  # same one
            pairs.append((old, new))
    return pairs


def test_inside_a_bundle_runs_keep_one_id_and_documents_their_order(
    base: Path, tmp_path: Path
) -> None:
    record_runs(recording_app(), runs=3)
    store = base / "privy"
    bundle = _export(tmp_path, "b.zip")
    pairs = _pairs(bundle, store)
    runs: dict[str, set[str]] = {}
    for old, new in pairs:
        runs.setdefault(str(old["run_id"]), set()).add(new["run_id"])
        assert ID_RE.fullmatch(new["id"]) and ID_RE.fullmatch(new["run_id"])
        assert new["id"] != old["id"] and new["run_id"] != old["run_id"]
        day = id_time_ms(str(old["id"])) // DAY_MS * DAY_MS
        assert id_time_ms(new["id"]) == day  # the id says the day, nothing finer
        assert new["created_at"] == str(old["created_at"])[:10] + "T00:00:00.000Z"
    assert all(len(new_ids) == 1 for new_ids in runs.values())  # one run id per run
    assert len({next(iter(v)) for v in runs.values()}) == len(runs)  # runs stay apart
    names = [n for n in members(bundle) if n.startswith("documents/")]
    assert names == sorted(names)  # entries, and so ids, in the stored order


def test_the_report_counts_a_remapped_bundle_as_the_kept_one(base: Path, tmp_path: Path) -> None:
    record_runs(recording_app(), runs=3)
    remapped = _export(tmp_path, "r.zip")
    kept = _export(tmp_path, "k.zip", "--keep-hashes")
    reports = []
    for bundle in (remapped, kept):
        result = cli(["report", str(bundle), "--format", "json"])
        assert result.exit_code == 0, result.output
        reports.append(json.loads(result.stdout)["result"])
    one, two = reports

    def shape(report: dict[str, Any]) -> str:
        text = json.dumps(report, sort_keys=True)
        text = re.sub(r'"\d{4}-\d{2}-\d{2}T[^"]*"', '"TIME"', text)  # first/last seen
        return re.sub(r'"(?:r|k)\.zip"|"[^"]*/(?:r|k)\.zip"', '"BUNDLE"', text)

    assert one["documents"] == two["documents"] > 0
    assert shape(one) == shape(two)


def test_run_and_since_in_the_manifest_name_nothing_of_the_store(
    base: Path, tmp_path: Path
) -> None:
    record_runs(recording_app())
    store = base / "privy"
    run = str(stored(store)[0]["run_id"])
    bundle = _export(tmp_path, "run.zip", "--run", run[:12], "--since", "30d")
    manifest = manifest_of(bundle)
    documents = [d for _, d in verified(bundle)]
    assert {d["run_id"] for d in documents} == {manifest["selection"]["run"]}
    assert manifest["selection"]["run"] != run and run[:12] not in json.dumps(manifest)
    assert manifest["selection"]["since"].endswith("T00:00:00.000Z")
    kept = _export(tmp_path, "kept.zip", "--run", run[:12], "--keep-hashes")
    assert manifest_of(kept)["selection"]["run"] == run[:12]


def test_keep_hashes_keeps_ids_and_times(base: Path, tmp_path: Path) -> None:
    record_runs(recording_app())
    store = base / "privy"
    bundle = _export(tmp_path, "k.zip", "--keep-hashes")
    kept = {d["id"]: d for _, d in verified(bundle)}
    for document in stored(store):
        copy = kept[str(document["id"])]
        assert copy["run_id"] == document["run_id"]
        assert copy["created_at"] == document["created_at"]


# -- the re-mapping itself, under Hypothesis ----------------------------------------------

KINDS = ("build", "cli-command", "run-summary", "snapshot")


@st.composite
def _stores(draw: st.DrawFn) -> list[tuple[str, str, str]]:
    """(kind, id, run id) of a store's documents over a few days, in bundle order."""
    start = draw(st.integers(1_600_000_000_000, 1_900_000_000_000))
    runs = draw(st.lists(st.integers(0, 4 * DAY_MS), min_size=1, max_size=12))
    rows = []
    for offset in runs:
        run_id = new_id(start + offset, random_bytes=os.urandom(10))
        for kind in draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=5)):
            at = start + offset + draw(st.integers(0, 3_600_000))
            rows.append((kind, new_id(at, random_bytes=os.urandom(10)), run_id))
    return sorted(rows)


@given(rows=_stores())
@settings(max_examples=200, deadline=None)
def test_remapping_is_consistent_inside_a_bundle_and_new_in_every_bundle(
    rows: list[tuple[str, str, str]],
) -> None:
    bundles = []
    for _ in range(2):
        relabel = Relabel(os.urandom(32))
        mapped = [
            (kind, relabel.document_id(kind, id_), relabel.run_id(run), id_, run)
            for kind, id_, run in rows
        ]
        runs: dict[str, set[str]] = {}
        for _kind, new, new_run, old, old_run in mapped:
            assert ID_RE.fullmatch(new) and ID_RE.fullmatch(new_run)
            assert id_time_ms(new) == id_time_ms(old) // DAY_MS * DAY_MS
            assert id_time_ms(new_run) == id_time_ms(old_run) // DAY_MS * DAY_MS
            runs.setdefault(old_run, set()).add(new_run)
        assert all(len(v) == 1 for v in runs.values())  # consistent
        assert len({next(iter(v)) for v in runs.values()}) == len(runs)  # no two merged
        ids = [m[1] for m in mapped]
        assert len(set(ids)) == len(ids)  # no two documents share an id, whatever the kind
        for kind in KINDS:  # order kept within a kind, as entries are written
            of_kind = [m[1] for m in mapped if m[0] == kind]
            assert of_kind == sorted(of_kind)
        bundles.append(({m[1] for m in mapped}, {m[2] for m in mapped}))
    (ids_1, runs_1), (ids_2, runs_2) = bundles
    assert not (ids_1 & ids_2) and not (runs_1 & runs_2)
    assert not (ids_1 | runs_1) & ({r[1] for r in rows} | {r[2] for r in rows})


def test_skipped_documents_are_counted_but_not_named_without_keep_hashes(
    base: Path, tmp_path: Path
) -> None:
    """Their file names hold stored ids, which would link the bundle to the store."""
    record_runs(recording_app(), runs=1)
    store = base / "privy"
    broken = sorted(store.glob("build-*.json"))[0]
    broken.write_text(broken.read_text().replace('"status": "', '"status": "nope-', 1))
    stored_id = broken.name.removeprefix("build-").removesuffix(".json")
    bundle = _export(tmp_path, "b.zip")
    verified(bundle)
    redaction = manifest_of(bundle)["redaction"]
    assert redaction["documents_skipped"] == {"invalid": 1} and redaction["skipped"] == []
    assert stored_id.encode() not in b"".join(members(bundle).values())
    kept = manifest_of(_export(tmp_path, "k.zip", "--keep-hashes"))["redaction"]
    assert kept["skipped"] == [{"file": broken.name, "reason": "invalid"}]


def test_the_day_is_the_utc_day() -> None:
    from datetime import datetime, timedelta, timezone

    from localtelemetry._share.relabel import day_of

    east = timezone(timedelta(hours=5))
    assert day_of(datetime(2026, 11, 24, 2, 30, tzinfo=east)) == datetime(
        2026, 11, 23, tzinfo=timezone.utc
    )


@given(
    ms=st.integers(0, (1 << 48) - 1),
    random_part=st.binary(min_size=10, max_size=10),
)
@settings(max_examples=300, deadline=None)
def test_the_fast_id_encoding_is_the_recorders(ms: int, random_part: bytes) -> None:
    from localtelemetry._share.relabel import format_id, valid_id_time_ms

    expected = new_id(ms, random_bytes=random_part)
    assert format_id(ms, int.from_bytes(random_part, "big")) == expected
    assert valid_id_time_ms(expected) == id_time_ms(expected) == ms
