"""Issue 6: `localtelemetry ingest` into DuckDB (for real), ClickHouse through chDB
(for real, when chDB is installed) and clickhouse-connect (the calls it makes). Ingest
is idempotent on the document id, and the example SQL of docs/maintainers.md runs and
agrees with `report`."""

from __future__ import annotations

import json
import random
import re
import sys
import types
import zipfile
from pathlib import Path
from typing import Any

import pytest
from bundle_factory import Run, documents_for, invoke, write_bundle
from test_report import make_sources

from localtelemetry._receive import ingest_sinks as _ingest_sinks
from localtelemetry._receive import ingest_tables as _ingest_tables
from localtelemetry._receive.report import build_report

from conftest import ROOT

DOCS = ROOT / "docs" / "maintainers.md"
ROWS = {
    "lt_cli_commands": 9,
    "lt_builds": 4,
    "lt_build_phases": 8,
    "lt_snapshots": 3,
    "lt_snapshot_counts": 6,
    "lt_run_summaries": 9,
}


def doc_sql(engine: str) -> dict[str, str]:
    """The example queries of the maintainers' guide for one engine, by title."""
    blocks = re.findall(r"```sql\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    found = {}
    for block in blocks:
        first = block.splitlines()[0]
        if first.startswith(f"-- {engine}: "):
            found[first[len(f"-- {engine}: ") :]] = block
    return found


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return make_sources(tmp_path_factory.mktemp("ingest-sources"))


@pytest.fixture(scope="module")
def report(sources: list[Path]) -> dict[str, Any]:
    return build_report(sources)


def run_ingest(sources: list[Path], target: str, *extra: str) -> dict[str, Any]:
    result = invoke("ingest", *map(str, sources), "--into", target, "--format", "json", *extra)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)["result"]
    return data


def _check_against_report(rows: dict[str, list[tuple[Any, ...]]], report: dict[str, Any]) -> None:
    by_version = {v["version"]: v for v in report["versions"]}
    assert [r[0] for r in rows["failure rate by version"]] == list(by_version)
    for version, runs, failures, pct in rows["failure rate by version"]:
        expected = by_version[version]
        assert (runs, failures) == (expected["runs"], expected["failures"])
        assert pct == round(100 * expected["failures"] / expected["runs"], 1)
    phases = {(b["name"], p["phase"]): p for b in report["builds"] for p in b["phases"]}
    slowest = rows["slowest phases"]
    assert {(r[0], r[1]) for r in slowest} == set(phases)
    for build, phase, runs, total_s, *_ in slowest:
        assert runs == phases[(build, phase)]["runs"]
        assert total_s == round(phases[(build, phase)]["total_ms"] / 1000, 1)
    assert [r[3] for r in slowest] == sorted((r[3] for r in slowest), reverse=True)


# -- DuckDB ---------------------------------------------------------------------------


def test_duckdb_ingest_idempotent_and_docs_sql(
    sources: list[Path], report: dict[str, Any], tmp_path: Path
) -> None:
    duckdb = pytest.importorskip("duckdb")
    database = tmp_path / "t.duckdb"
    first = run_ingest(sources, f"duckdb:{database}")
    assert first["engine"] == "duckdb" and first["target"] == f"duckdb:{database}"
    # R3's three documents are in bundle A and in the store: repeated, identical
    assert (first["documents"], first["inserted"], first["already_present"]) == (28, 25, 0)
    assert (first["repeated"], first["conflicts"], first["conflicts_listed"]) == (3, 0, [])
    assert first["by_kind"] == {"build": 4, "cli-command": 9, "run-summary": 9, "snapshot": 3}
    assert first["rows"] == ROWS
    second = run_ingest(sources, f"duckdb:{database}")
    assert (second["inserted"], second["already_present"]) == (0, 28)
    assert set(second["rows"].values()) == {0}
    # an overlapping bundle: only its new run is added
    rng = random.Random(9)
    extra = write_bundle(tmp_path / "more.zip", documents_for(Run(("lint",), version="1.1.0"), rng))
    overlap = run_ingest([sources[0], extra], f"duckdb:{database}")
    assert (overlap["inserted"], overlap["already_present"]) == (2, 9)
    with duckdb.connect(str(database), read_only=True) as con:
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ROWS}
        assert counts == {**ROWS, "lt_cli_commands": 10, "lt_run_summaries": 10}
        assert con.execute("SELECT count(DISTINCT id) FROM lt_cli_commands").fetchone()[0] == 10
        row = con.execute(
            "SELECT command_path, command_family, outcome, success, error_kind, app_version, "
            "os, runtime_context, created_at, event_date, flags, document "
            "FROM lt_cli_commands WHERE command_path = 'deploy prod' AND outcome = 'failure'"
        ).fetchone()
        assert row[:8] == (
            "deploy prod",
            "deploy",
            "failure",
            False,
            "KeyError",
            "1.1.0",
            "macos",
            "ci",
        )
        assert str(row[8]) == "2026-03-04 09:00:00" and str(row[9]) == "2026-03-04"
        assert json.loads(row[11])["payload"]["flags"] == row[10]
        queries = doc_sql("duckdb")
        assert {"failure rate by version", "slowest phases", "error kinds"} <= set(queries)
        rows = {title: con.execute(sql).fetchall() for title, sql in queries.items()}
    # the extra lint run (1.1.0, success) is not in the report: compare without it
    lint = next(r for r in rows["failure rate by version"] if r[0] == "1.1.0")
    rows["failure rate by version"] = [
        (v, runs - 1, f, round(100 * f / (runs - 1), 1)) if v == "1.1.0" else (v, runs, f, p)
        for v, runs, f, p in rows["failure rate by version"]
    ]
    assert lint[1] == 7
    _check_against_report(rows, report)
    errors = {e["error_kind"]: e["count"] for e in report["errors"]}
    errors.pop("KeyboardInterrupt")  # an interrupted run: not a failure
    assert {r[0]: r[1] for r in rows["error kinds"]} == errors
    by_command = {(r[0], r[1]): r for r in rows["failure rate by command and version"]}
    assert by_command[("build", "1.0.0")][2:] == (2, 50.0)


def test_without_duckdb_a_clear_error_and_everything_else_works(
    sources: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "duckdb", None)  # import duckdb now fails
    result = invoke("ingest", str(sources[0]), "--into", f"duckdb:{tmp_path / 'x.duckdb'}")
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1
    assert "pip install 'localtelemetry[duckdb]'" in result.stderr
    assert not (tmp_path / "x.duckdb").exists()
    assert invoke("report", str(sources[0])).exit_code == 0
    assert invoke("inspect", str(sources[0])).exit_code == 0


def test_invalid_bundle_stops_the_ingest_or_is_skipped(sources: list[Path], tmp_path: Path) -> None:
    pytest.importorskip("duckdb")
    bad = tmp_path / "bad.zip"
    data = bytearray(sources[0].read_bytes())
    with zipfile.ZipFile(sources[0]) as zf:  # a byte of a document's data, not of a header
        info = zf.infolist()[1]
    data[info.header_offset + 30 + len(info.filename) + info.compress_size // 2] ^= 0xFF
    bad.write_bytes(bytes(data))
    target = f"duckdb:{tmp_path / 'b.duckdb'}"
    stopped = invoke("ingest", str(bad), "--into", target)
    assert stopped.exit_code == 2 and str(bad) in stopped.stderr and stopped.stderr.count("\n") == 1
    skipped = run_ingest([bad, sources[2]], target, "--skip-invalid")
    assert skipped["inserted"] == 13  # bundles B (7) and C (6)
    assert skipped["sources"]["skipped"] == 1
    assert skipped["sources"]["skipped_listed"][0]["source"] == str(bad)


def test_bad_targets_and_prefixes(sources: list[Path], tmp_path: Path) -> None:
    unknown = invoke("ingest", str(sources[0]), "--into", "postgres://u:secret@h/db")
    assert unknown.exit_code == 2 and "unknown target" in unknown.stderr
    assert "secret" not in unknown.stderr
    assert invoke("ingest", str(sources[0]), "--into", "duckdb:").exit_code == 2
    prefix = invoke(
        "ingest", str(sources[0]), "--into", f"duckdb:{tmp_path}/p.duckdb", "--prefix", "x;drop"
    )
    assert prefix.exit_code == 2 and "--prefix" in prefix.stderr
    assert invoke("ingest", str(sources[0]), "--into", f"duckdb:{tmp_path}").exit_code == 2


# -- ClickHouse -------------------------------------------------------------------------


def test_chdb_ingest_for_real(sources: list[Path], report: dict[str, Any], tmp_path: Path) -> None:
    pytest.importorskip("chdb", reason="chDB (embedded ClickHouse) is not installed")
    from chdb import session

    target = tmp_path / "ch"
    first = run_ingest(sources, f"chdb:{target}")
    assert (first["engine"], first["inserted"], first["already_present"]) == ("chdb", 25, 0)
    assert (first["repeated"], first["conflicts"]) == (3, 0)
    assert first["rows"] == ROWS
    second = run_ingest(sources, f"chdb:{target}")
    assert (second["inserted"], second["already_present"]) == (0, 28)
    s = session.Session(str(target))
    try:
        ddl = str(s.query("SHOW CREATE TABLE lt_cli_commands", "TabSeparatedRaw"))
        assert "ENGINE = ReplacingMergeTree" in ddl
        assert "PARTITION BY toYYYYMM(event_date)" in ddl
        assert (
            "ORDER BY (event_date, runtime_context, command_family, app_version, app_name, id)"
            in ddl
        )
        assert (
            "`app_version` LowCardinality(String)" in ddl and "`os` LowCardinality(String)" in ddl
        )
        for table, count in ROWS.items():
            assert str(
                s.query(f"SELECT count() FROM {table} FINAL", "TabSeparated")
            ).strip() == str(count)
        rows: dict[str, list[tuple[Any, ...]]] = {}
        for title, sql in doc_sql("clickhouse").items():
            text = str(s.query(sql, "JSONCompactEachRow"))
            rows[title] = [tuple(json.loads(line)) for line in text.splitlines() if line]
    finally:
        s.close()
    _check_against_report(rows, report)


class FakeClient:
    """Stands in for clickhouse-connect's client: records every call."""

    def __init__(self, present: dict[str, tuple[str, str]]) -> None:
        self.present = present  # id -> (source, document) of the parent rows written
        self.commands: list[str] = []
        self.queries: list[str] = []
        self.inserts: list[tuple[str, list[str], bytes, str]] = []

    def command(self, sql: str) -> None:
        self.commands.append(sql)

    def query(self, sql: str) -> Any:
        self.queries.append(sql)
        ids = [i for i in re.findall(r"'([0-9a-z]{26})'", sql) if i in self.present]
        if sql.startswith("SELECT id, source, document "):
            return types.SimpleNamespace(result_rows=[(i, *self.present[i]) for i in ids])
        return types.SimpleNamespace(result_rows=[(i,) for i in ids])

    def raw_insert(
        self, table: str, column_names: list[str], insert_block: bytes, fmt: str
    ) -> None:
        self.inserts.append((table, column_names, insert_block, fmt))
        if table.endswith(("cli_commands", "builds", "snapshots", "run_summaries")):
            for line in insert_block.splitlines():
                row = json.loads(line)
                self.present[row["id"]] = (row["source"], row["document"])


def test_clickhouse_connect_calls(sources: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    present: dict[str, tuple[str, str]] = {}
    clients: list[FakeClient] = []
    dsns: list[str] = []

    def get_client(dsn: str) -> FakeClient:
        dsns.append(dsn)
        clients.append(FakeClient(present))
        return clients[-1]

    monkeypatch.setitem(
        sys.modules, "clickhouse_connect", types.SimpleNamespace(get_client=get_client)
    )
    dsn = "clickhouse://ingest:s3cret@ch.example:8123/telemetry"
    first = run_ingest(sources, dsn)
    assert first["target"] == "clickhouse://ingest:***@ch.example:8123/telemetry"
    assert (first["engine"], first["inserted"], first["rows"]) == ("clickhouse", 25, ROWS)
    client = clients[0]
    assert dsns == [dsn]
    assert client.commands == _ingest_tables.clickhouse_ddl("lt_")  # the DDL chDB runs for real
    assert all(
        q.startswith(("SELECT id FROM lt_", "SELECT id, source, document FROM lt_"))
        and " WHERE id IN ('" in q
        for q in client.queries
    )
    # the document found in bundle A and in the store is looked up and compared once
    assert sum(q.startswith("SELECT id, source, document") for q in client.queries) >= 1
    assert (first["repeated"], first["conflicts"]) == (3, 0)
    tables = {t.suffix: t for t in _ingest_tables.TABLES}
    for table, columns, block, fmt in client.inserts:
        assert fmt == "JSONEachRow"
        assert columns == [c.name for c in tables[table.removeprefix("lt_")].columns]
        for line in block.splitlines():
            assert list(json.loads(line)) == columns
    commands = next(b for t, _, b, _ in client.inserts if t == "lt_cli_commands")
    row = json.loads(commands.splitlines()[0])
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}", row["created_at"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", row["event_date"]) and isinstance(row["success"], bool)
    again = run_ingest(sources, dsn)
    assert (again["inserted"], again["already_present"]) == (0, 28)
    assert clients[1].inserts == []


def test_clickhouse_connection_failure_is_one_line(sources: list[Path]) -> None:
    pytest.importorskip("clickhouse_connect")
    result = invoke("ingest", str(sources[0]), "--into", "clickhouse://u:s3cret@127.0.0.1:1/db")
    assert result.exit_code == 1, result.output
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: cannot connect")
    assert "s3cret" not in result.output


def test_without_clickhouse_connect(sources: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "clickhouse_connect", None)
    result = invoke("ingest", str(sources[0]), "--into", "clickhouse://localhost")
    assert result.exit_code == 2 and "pip install 'localtelemetry[clickhouse]'" in result.stderr


# -- issue 12: conflicts, repeats, one failing source costs only itself ------------------


def _tampered(source: Path, target: Path, *, ids: int = 1) -> tuple[Path, list[str]]:
    """A bundle of the same documents as ``source`` with ``ids`` cli-commands changed:
    it verifies (its digests are its own) but says something else under the same ids."""
    from localtelemetry._receive.reader import read_bundle

    docs = [dict(d.data) for d in read_bundle(source)]
    changed = []
    for doc in docs:
        if doc["kind"] == "cli-command" and len(changed) < ids:
            doc["payload"] = {**doc["payload"], "duration_ms": doc["payload"]["duration_ms"] + 1}
            changed.append(str(doc["id"]))
    return write_bundle(target, docs), changed


def test_conflicting_copies_are_reported_and_the_first_is_kept(
    sources: list[Path], tmp_path: Path
) -> None:
    pytest.importorskip("duckdb")
    import duckdb

    genuine = sources[0]
    tampered, changed = _tampered(genuine, tmp_path / "tampered.zip", ids=2)
    target = f"duckdb:{tmp_path / 'c.duckdb'}"
    first = run_ingest([tampered, genuine], target)
    assert (first["documents"], first["inserted"]) == (18, 9)
    assert (first["already_present"], first["repeated"], first["conflicts"]) == (0, 9, 2)
    assert {c["id"] for c in first["conflicts_listed"]} == set(changed)
    for conflict in first["conflicts_listed"]:
        assert conflict["source"] == str(genuine) and conflict["kept"] == str(tampered)
        assert conflict["kind"] == "cli-command" and "kept" in conflict["resolution"]
    text = invoke("ingest", str(genuine), "--into", target)
    assert text.exit_code == 0, text.output
    assert "conflicts (same id, different content): 2" in text.stdout
    assert f"from {genuine} differs from the one kept (from {tampered})" in text.stdout
    assert "already in the database (same id): 9" in text.stdout
    with duckdb.connect(str(tmp_path / "c.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM lt_cli_commands").fetchone()[0] == 3
        kept = {r[0] for r in con.execute("SELECT DISTINCT source FROM lt_cli_commands").fetchall()}
    assert kept == {str(tampered)}


def test_in_memory_databases_are_refused(sources: list[Path]) -> None:
    for target in ("duckdb::memory:", "duckdb::memory:named", "chdb::memory:"):
        result = invoke("ingest", str(sources[0]), "--into", target)
        assert result.exit_code == 2, (target, result.output)
        assert result.stderr.count("\n") == 1 and "keeps nothing" in result.stderr


def test_an_invalid_source_stops_before_anything_is_written(
    sources: list[Path], tmp_path: Path
) -> None:
    """Every source is verified before the target is opened: a bad one at the end
    leaves no database behind (formerly the sources before it were written)."""
    from hostile_values import write_case

    bad, entry, _ = write_case(tmp_path / "bad.zip", "date-feb-30")
    for target in (tmp_path / "x.duckdb", tmp_path / "ch"):
        engine = "duckdb" if target.suffix else "chdb"
        result = invoke("ingest", *map(str, sources), str(bad), "--into", f"{engine}:{target}")
        assert result.exit_code == 2, result.output
        assert result.stderr.count("\n") == 1 and str(bad) in result.stderr
        assert entry in result.stderr
        assert not target.exists()


def test_a_source_the_engine_refuses_costs_only_itself(
    sources: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One transaction per group of sources; when the engine refuses one, the group is
    undone and written again one source at a time: the others are kept."""
    pytest.importorskip("duckdb")
    import duckdb

    poison = write_bundle(
        tmp_path / "poison.zip", documents_for(Run(("lint",), version="6.6.6"), random.Random(3))
    )
    real_insert = _ingest_sinks.DuckDBSink.insert

    def insert(self: Any, table: Any, name: str, rows: list[list[Any]]) -> None:
        real_insert(self, table, name, rows)  # written first: the rollback must undo it
        if name == "lt_cli_commands" and any(row[5] == "6.6.6" for row in rows):
            raise duckdb.ConversionException("Conversion Error: refused for the test")

    monkeypatch.setattr(_ingest_sinks.DuckDBSink, "insert", insert)
    order = [sources[0], poison, sources[2]]
    database = tmp_path / "p.duckdb"
    done = run_ingest(order, f"duckdb:{database}", "--skip-invalid")
    assert done["inserted"] == 9 + 13 and done["sources"]["skipped"] == 1
    (skipped,) = done["sources"]["skipped_listed"]
    assert skipped["source"] == str(poison) and skipped["reason"].startswith("duckdb: ")
    with duckdb.connect(str(database), read_only=True) as con:
        versions = {
            r[0] for r in con.execute("SELECT app_version FROM lt_run_summaries").fetchall()
        }
        assert "6.6.6" not in versions
        assert con.execute("SELECT count(*) FROM lt_run_summaries").fetchone()[0] == 3 + 3 + 2

    stopped = invoke("ingest", *map(str, order), "--into", f"duckdb:{tmp_path / 's.duckdb'}")
    assert stopped.exit_code == 1, stopped.output
    assert stopped.stderr.count("\n") == 1 and str(poison) in stopped.stderr
    assert "the sources before it were ingested" in stopped.stderr
    with duckdb.connect(str(tmp_path / "s.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM lt_cli_commands").fetchone()[0] == 3
