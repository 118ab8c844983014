"""``localtelemetry ingest``: load documents into DuckDB or ClickHouse tables.

One table per document kind, plus one row per build phase and one per snapshot count,
so the usual questions are plain SQL (failure rate by version, slowest phases). The
layout follows the ClickHouse advice for event tables: low-cardinality strings for
every enumerated or repeated value, partitions by month of ``event_date``, rows
ordered by date, runtime context, command family (or build / snapshot name) and
version. DuckDB gets the same columns.

Ingesting is idempotent, keyed on the document id: before each batch is written, the
ids already in the tables are looked up and those documents are left out (a child row
is written only with its new parent). A second copy of an id, already in the tables or
earlier in the sources, is compared with the copy kept: identical copies are counted,
different ones are reported as conflicts (the first copy stays). In ClickHouse the
tables are also ``ReplacingMergeTree`` on that key, so even two ingests racing on two
machines converge to one row per document once parts merge (``SELECT ... FINAL`` sees
that at once).

Hostile input costs only itself: without ``--skip-invalid`` every source is verified
before the target is opened; with it, invalid bundles and documents are left out and
listed. Sources are written in groups, one transaction each (DuckDB); a source the
engine refuses undoes its group, whose other sources are then written one transaction
each, so good bundles are kept.

Targets: ``duckdb:PATH`` (the ``duckdb`` extra), ``clickhouse://...`` (the
``clickhouse`` extra, through clickhouse-connect: the only place where localtelemetry
opens a network connection, to the server the maintainer names) and ``chdb:PATH``
(chDB, ClickHouse embedded in the process).
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ._exceptions import OperationFailed, UsageError
from ._reader import Document, SkipHandler, Source, plan_sources, read_source

BATCH_DOCUMENTS = 5000
MAX_CONFLICTS_LISTED = 100
PREFIX_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,30}$")


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # lc, lc_null, str, str_null, date, time, float, float_null, int, int_null,
    #            bool, list_lc


_CLICKHOUSE = {
    "lc": "LowCardinality(String)",
    "lc_null": "LowCardinality(Nullable(String))",
    "str": "String",
    "str_null": "Nullable(String)",
    "date": "Date",
    "time": "DateTime64(3, 'UTC')",
    "float": "Float64",
    "float_null": "Nullable(Float64)",
    "int": "Int64",
    "int_null": "Nullable(Int64)",
    "bool": "Bool",
    "list_lc": "Array(LowCardinality(String))",
}
_DUCKDB = {
    "lc": "VARCHAR",
    "lc_null": "VARCHAR",
    "str": "VARCHAR",
    "str_null": "VARCHAR",
    "date": "DATE",
    "time": "TIMESTAMP",
    "float": "DOUBLE",
    "float_null": "DOUBLE",
    "int": "BIGINT",
    "int_null": "BIGINT",
    "bool": "BOOLEAN",
    "list_lc": "VARCHAR[]",
}

_ENVELOPE = (
    Column("id", "str"),
    Column("run_id", "str"),
    Column("event_date", "date"),
    Column("created_at", "time"),
    Column("app_name", "lc"),
    Column("app_version", "lc"),
    Column("producer_version", "lc"),
    Column("os", "lc"),
    Column("arch", "lc"),
    Column("python", "lc"),
    Column("runtime_context", "lc"),
    Column("ci_provider", "lc_null"),
    Column("invocation_source", "lc"),
    Column("agent", "lc_null"),
    Column("interactive", "bool"),
    Column("key_id", "lc"),
    Column("source", "str"),
)


@dataclass(frozen=True)
class Table:
    suffix: str
    kind: str  # the document kind whose rows these are
    columns: tuple[Column, ...]
    order_by: tuple[str, ...]
    key: tuple[str, ...]  # unique per row
    parent: bool  # one row per document (checked for idempotence)


TABLES = (
    Table(
        "cli_commands",
        "cli-command",
        (
            *_ENVELOPE,
            Column("command_path", "lc"),
            Column("command_family", "lc"),
            Column("invocation_shape", "lc"),
            Column("flags", "list_lc"),
            Column("duration_ms", "float"),
            Column("duration_bucket", "lc"),
            Column("exit_code", "int"),
            Column("outcome", "lc"),
            Column("success", "bool"),
            Column("error_kind", "lc_null"),
            Column("failure_stage", "lc_null"),
            Column("error_message", "str_null"),
            Column("document", "str"),
        ),
        ("event_date", "runtime_context", "command_family", "app_version", "app_name", "id"),
        ("id",),
        True,
    ),
    Table(
        "builds",
        "build",
        (
            *_ENVELOPE,
            Column("name", "lc"),
            Column("status", "lc"),
            Column("duration_ms", "float"),
            Column("phase_count", "int"),
            Column("cache_hits", "int"),
            Column("cache_misses", "int"),
            Column("warnings", "int"),
            Column("error_kind", "lc_null"),
            Column("error_message", "str_null"),
            Column("document", "str"),
        ),
        ("event_date", "runtime_context", "name", "app_version", "app_name", "id"),
        ("id",),
        True,
    ),
    Table(
        "build_phases",
        "build",
        (
            Column("id", "str"),
            Column("position", "int"),
            Column("event_date", "date"),
            Column("created_at", "time"),
            Column("app_name", "lc"),
            Column("app_version", "lc"),
            Column("os", "lc"),
            Column("arch", "lc"),
            Column("runtime_context", "lc"),
            Column("build", "lc"),
            Column("build_status", "lc"),
            Column("phase", "lc"),
            Column("duration_ms", "float"),
            Column("status", "lc"),
        ),
        ("event_date", "runtime_context", "build", "phase", "app_version", "app_name", "id"),
        ("id", "position"),
        False,
    ),
    Table(
        "snapshots",
        "snapshot",
        (
            *_ENVELOPE,
            Column("name", "lc"),
            Column("objects", "int"),
            Column("fingerprint", "str_null"),
            Column("duration_ms", "float_null"),
            Column("document", "str"),
        ),
        ("event_date", "runtime_context", "name", "app_version", "app_name", "id"),
        ("id",),
        True,
    ),
    Table(
        "snapshot_counts",
        "snapshot",
        (
            Column("id", "str"),
            Column("event_date", "date"),
            Column("created_at", "time"),
            Column("app_name", "lc"),
            Column("app_version", "lc"),
            Column("runtime_context", "lc"),
            Column("snapshot", "lc"),
            Column("name", "lc"),
            Column("value", "int"),
        ),
        ("event_date", "runtime_context", "snapshot", "name", "app_version", "app_name", "id"),
        ("id", "name"),
        False,
    ),
    Table(
        "run_summaries",
        "run-summary",
        (
            *_ENVELOPE,
            Column("duration_ms", "float"),
            Column("exit_code", "int"),
            Column("outcome", "lc"),
            Column("cpu_user_ms", "float"),
            Column("cpu_system_ms", "float"),
            Column("peak_rss_kib", "int_null"),
            Column("recorder_overhead_ms", "float"),
            Column("documents_written", "int"),
            Column("documents_failed", "int"),
            Column("document", "str"),
        ),
        ("event_date", "runtime_context", "app_version", "app_name", "id"),
        ("id",),
        True,
    ),
)
PARENTS = {t.kind: t for t in TABLES if t.parent}


# -- rows ----------------------------------------------------------------------------


def _time(created_at: str) -> str:
    # 2026-11-23T14:41:23.559Z -> 2026-11-23 14:41:23.559 (both engines read this as UTC)
    return created_at[:10] + " " + created_at[11:23]


def _envelope(doc: Document) -> list[Any]:
    env = doc.environment
    created = str(doc.data["created_at"])
    return [
        doc.id,
        doc.run_id,
        created[:10],
        _time(created),
        doc.app_name,
        doc.app_version,
        doc.producer_version,
        env.os,
        env.arch,
        env.python,
        env.runtime_context,
        env.ci_provider,
        env.invocation_source,
        env.agent,
        env.interactive,
        doc.key_id,
        doc.source,
    ]


def rows_for(doc: Document) -> dict[str, list[list[Any]]]:
    """The rows one document becomes, by table suffix (columns in table order)."""
    p = doc.payload
    raw = doc.raw.decode("utf-8")
    created = str(doc.data["created_at"])
    if doc.kind == "cli-command":
        return {
            "cli_commands": [
                [
                    *_envelope(doc),
                    " ".join(p["command_path"]),
                    p["command_family"] or "",
                    p["invocation_shape"],
                    list(p["flags"]),
                    float(p["duration_ms"]),
                    p["duration_bucket"],
                    int(p["exit_code"]),
                    p["outcome"],
                    p["outcome"] == "success",
                    p["error_kind"],
                    p["failure_stage"],
                    p["error_message"],
                    raw,
                ]
            ]
        }
    if doc.kind == "build":
        short = [created[:10], _time(created), doc.app_name, doc.app_version]
        env = doc.environment
        return {
            "builds": [
                [
                    *_envelope(doc),
                    p["name"],
                    p["status"],
                    float(p["duration_ms"]),
                    len(p["phases"]),
                    int(p["cache"]["hits"]),
                    int(p["cache"]["misses"]),
                    sum(int(v) for v in p["warnings"].values()),
                    p["error_kind"],
                    p["error_message"],
                    raw,
                ]
            ],
            "build_phases": [
                [
                    doc.id,
                    position,
                    *short,
                    env.os,
                    env.arch,
                    env.runtime_context,
                    p["name"],
                    p["status"],
                    phase["name"],
                    float(phase["duration_ms"]),
                    phase["status"],
                ]
                for position, phase in enumerate(p["phases"])
            ],
        }
    if doc.kind == "snapshot":
        duration = p["duration_ms"]
        return {
            "snapshots": [
                [
                    *_envelope(doc),
                    p["name"],
                    sum(int(v) for v in p["counts"].values()),
                    p["fingerprint"],
                    None if duration is None else float(duration),
                    raw,
                ]
            ],
            "snapshot_counts": [
                [
                    doc.id,
                    created[:10],
                    _time(created),
                    doc.app_name,
                    doc.app_version,
                    doc.environment.runtime_context,
                    p["name"],
                    name,
                    int(value),
                ]
                for name, value in sorted(p["counts"].items())
            ],
        }
    return {
        "run_summaries": [
            [
                *_envelope(doc),
                float(p["duration_ms"]),
                int(p["exit_code"]),
                p["outcome"],
                float(p["cpu_user_ms"]),
                float(p["cpu_system_ms"]),
                None if p["peak_rss_kib"] is None else int(p["peak_rss_kib"]),
                float(p["recorder_overhead_ms"]),
                sum(int(v) for v in p["documents"].values()),
                int(p["documents_failed"]),
                raw,
            ]
        ]
    }


# -- SQL -----------------------------------------------------------------------------


def clickhouse_ddl(prefix: str) -> list[str]:
    """CREATE TABLE statements for ClickHouse (and chDB)."""
    statements = []
    for table in TABLES:
        columns = ",\n    ".join(f"{c.name} {_CLICKHOUSE[c.kind]}" for c in table.columns)
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {prefix}{table.suffix} (\n    {columns}\n)\n"
            "ENGINE = ReplacingMergeTree\n"
            "PARTITION BY toYYYYMM(event_date)\n"
            f"ORDER BY ({', '.join(_sort_key(table))})"
        )
    return statements


def _sort_key(table: Table) -> tuple[str, ...]:
    """The ORDER BY: the table's order, then whatever else makes a row unique (for
    ReplacingMergeTree, rows with equal sorting keys are one row)."""
    return table.order_by + tuple(k for k in table.key if k not in table.order_by)


def duckdb_ddl(prefix: str) -> list[str]:
    statements = []
    for table in TABLES:
        columns = ",\n    ".join(f"{c.name} {_DUCKDB[c.kind]}" for c in table.columns)
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {prefix}{table.suffix} (\n    {columns},\n"
            f"    PRIMARY KEY ({', '.join(table.key)})\n)"
        )
    return statements


class Sink(Protocol):
    engine: str
    transactional: bool  # whether rollback() undoes what was written

    def create(self, prefix: str) -> None: ...

    def existing(self, table: str, ids: Sequence[str]) -> set[str]: ...

    def documents(self, table: str, ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """``id -> (source, document)`` of rows already in ``table``."""
        ...

    def insert(self, table: Table, name: str, rows: list[list[Any]]) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None:
        """Undo what was written since the last commit (where the engine can)."""
        ...

    def close(self, ok: bool) -> None: ...

    def is_engine_error(self, exc: BaseException) -> bool: ...


class DuckDBSink:
    engine = "duckdb"
    transactional = True

    def __init__(self, path: Path) -> None:
        try:
            duckdb: Any = importlib.import_module("duckdb")
        except ImportError:
            raise UsageError(
                "ingesting into DuckDB needs the duckdb package: "
                "pip install 'localtelemetry[duckdb]'"
            ) from None
        if str(path).startswith(":memory:"):
            # An in-memory database is gone when ingest exits: it would report
            # documents it did not keep.
            raise UsageError(
                "duckdb::memory: keeps nothing once ingest ends; give a database file: "
                "--into duckdb:PATH"
            )
        if path.is_dir():
            raise UsageError(f"{path} is a directory; give a DuckDB database file")
        try:
            # Never download an extension: nothing here needs one.
            self.con = duckdb.connect(str(path), config={"autoinstall_known_extensions": False})
        except duckdb.Error as exc:
            raise OperationFailed(f"cannot open DuckDB database {path}: {_line(exc)}") from None
        self.error = duckdb.Error
        self.con.execute("BEGIN TRANSACTION")

    def create(self, prefix: str) -> None:
        for statement in duckdb_ddl(prefix):
            self.con.execute(statement)

    def existing(self, table: str, ids: Sequence[str]) -> set[str]:
        found = self.con.execute(
            f"SELECT id FROM {table} WHERE id IN (SELECT unnest($1::VARCHAR[]))",  # noqa: S608
            [list(ids)],
        ).fetchall()
        return {row[0] for row in found}

    def documents(self, table: str, ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        found = self.con.execute(
            f"SELECT id, source, document FROM {table} "  # noqa: S608
            "WHERE id IN (SELECT unnest($1::VARCHAR[]))",
            [list(ids)],
        ).fetchall()
        return {row[0]: (row[1], row[2]) for row in found}

    def insert(self, table: Table, name: str, rows: list[list[Any]]) -> None:
        # One statement per batch, column by column: far faster than row inserts.
        columns = [list(col) for col in zip(*rows, strict=True)]
        select = ", ".join(
            f"unnest(${i + 1}::{_DUCKDB[c.kind]}[])" for i, c in enumerate(table.columns)
        )
        self.con.execute(f"INSERT INTO {name} SELECT {select}", columns)

    def commit(self) -> None:
        self.con.execute("COMMIT")
        self.con.execute("BEGIN TRANSACTION")

    def rollback(self) -> None:
        self.con.execute("ROLLBACK")
        self.con.execute("BEGIN TRANSACTION")

    def close(self, ok: bool) -> None:
        try:
            self.con.execute("COMMIT" if ok else "ROLLBACK")
        finally:
            self.con.close()

    def is_engine_error(self, exc: BaseException) -> bool:
        return isinstance(exc, self.error)


class ClickHouseClient(Protocol):
    """What the ClickHouse sink needs: clickhouse-connect's client, or chDB's session
    behind ``ChdbClient``."""

    def command(self, sql: str) -> Any: ...

    def ids(self, sql: str) -> list[str]: ...

    def rows(self, sql: str) -> list[list[Any]]: ...

    def insert_json(self, table: str, columns: Sequence[str], data: bytes) -> None: ...


class ConnectClient:
    """clickhouse-connect, for a ClickHouse server."""

    def __init__(self, dsn: str) -> None:
        try:
            clickhouse_connect: Any = importlib.import_module("clickhouse_connect")
        except ImportError:
            raise UsageError(
                "ingesting into ClickHouse needs clickhouse-connect: "
                "pip install 'localtelemetry[clickhouse]'"
            ) from None
        import logging

        quiet = logging.getLogger("clickhouse_connect")
        level = quiet.level
        quiet.setLevel(logging.CRITICAL)  # its own log lines would break one-line errors
        try:
            self.client = clickhouse_connect.get_client(dsn=dsn)
        except Exception as exc:  # the driver's own error types
            why = _line(exc)
            secret = re.search(r"://[^:/@]*:([^@/]+)@", dsn)
            if secret:
                why = why.replace(secret.group(1), "***")
            raise OperationFailed(f"cannot connect to ClickHouse at {redact(dsn)}: {why}") from None
        finally:
            quiet.setLevel(level)

    def command(self, sql: str) -> Any:
        return self.client.command(sql)

    def ids(self, sql: str) -> list[str]:
        return [str(row[0]) for row in self.client.query(sql).result_rows]

    def rows(self, sql: str) -> list[list[Any]]:
        return [list(row) for row in self.client.query(sql).result_rows]

    def insert_json(self, table: str, columns: Sequence[str], data: bytes) -> None:
        self.client.raw_insert(
            table, column_names=list(columns), insert_block=data, fmt="JSONEachRow"
        )


class ChdbClient:
    """chDB: ClickHouse embedded in this process, its data in a directory."""

    def __init__(self, path: Path) -> None:
        try:
            session: Any = importlib.import_module("chdb.session")
        except ImportError:
            raise UsageError(
                "ingesting into chDB needs the chdb package: pip install chdb"
            ) from None
        if str(path).startswith(":memory:"):
            raise UsageError(
                "chdb::memory: keeps nothing once ingest ends; give a directory: --into chdb:PATH"
            )
        if path.exists() and not path.is_dir():
            raise UsageError(f"{path} is not a directory; chDB keeps its data in one")
        self.session = session.Session(str(path))

    def command(self, sql: str) -> Any:
        return self.session.query(sql)

    def ids(self, sql: str) -> list[str]:
        text = str(self.session.query(sql, "TabSeparated"))
        return [line for line in text.splitlines() if line]

    def rows(self, sql: str) -> list[list[Any]]:
        import json

        text = str(self.session.query(sql, "JSONCompactEachRow"))
        return [json.loads(line) for line in text.splitlines() if line]

    def insert_json(self, table: str, columns: Sequence[str], data: bytes) -> None:
        self.session.query(
            f"INSERT INTO {table} ({', '.join(columns)}) FORMAT JSONEachRow\n"
            + data.decode("utf-8")
        )

    def close(self) -> None:
        self.session.close()


class ClickHouseSink:
    transactional = False

    def __init__(self, client: ClickHouseClient, engine: str = "clickhouse") -> None:
        self.client = client
        self.engine = engine

    def create(self, prefix: str) -> None:
        for statement in clickhouse_ddl(prefix):
            self.client.command(statement)

    def existing(self, table: str, ids: Sequence[str]) -> set[str]:
        # Ids were validated against ^[0-9a-hjkmnp-tv-z]{26}$: safe to quote inline. In
        # chunks, to stay well under the server's max_query_size.
        valid = [i for i in ids if _ID_RE.match(i)]
        found: set[str] = set()
        for start in range(0, len(valid), 2000):
            listed = ", ".join(f"'{i}'" for i in valid[start : start + 2000])
            sql = f"SELECT id FROM {table} WHERE id IN ({listed})"  # noqa: S608
            found.update(self.client.ids(sql))
        return found

    def documents(self, table: str, ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        valid = [i for i in ids if _ID_RE.match(i)]
        found: dict[str, tuple[str, str]] = {}
        for start in range(0, len(valid), 500):
            listed = ", ".join(f"'{i}'" for i in valid[start : start + 500])
            sql = f"SELECT id, source, document FROM {table} WHERE id IN ({listed})"  # noqa: S608
            for row in self.client.rows(sql):
                found.setdefault(str(row[0]), (str(row[1]), str(row[2])))
        return found

    def insert(self, table: Table, name: str, rows: list[list[Any]]) -> None:
        import orjson

        names = [c.name for c in table.columns]
        data = b"".join(orjson.dumps(dict(zip(names, row, strict=True))) + b"\n" for row in rows)
        self.client.insert_json(name, names, data)

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass  # no transactions: rows written stay (ReplacingMergeTree merges repeats)

    def close(self, ok: bool) -> None:
        close = getattr(self.client, "close", None)
        if close is not None:
            close()

    def is_engine_error(self, exc: BaseException) -> bool:
        return type(exc).__module__.split(".")[0] in ("clickhouse_connect", "chdb", "_chdb")


_ID_RE = re.compile(r"^[0-9a-hjkmnp-tv-z]{26}$")


def _line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


def redact(target: str) -> str:
    """A target for messages: any password in a URL becomes ***."""
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", target)


def open_sink(target: str) -> Sink:
    """``duckdb:PATH``, ``clickhouse://...`` or ``chdb:PATH``."""
    if target.startswith("duckdb:"):
        path = target[len("duckdb:") :]
        if not path:
            raise UsageError("give a file: --into duckdb:PATH")
        return DuckDBSink(Path(path).expanduser())
    if target.startswith(("clickhouse://", "clickhouses://")):
        return ClickHouseSink(ConnectClient(target))
    if target.startswith("chdb:"):
        path = target[len("chdb:") :]
        if not path:
            raise UsageError("give a directory: --into chdb:PATH")
        return ClickHouseSink(ChdbClient(Path(path).expanduser()), engine="chdb")
    raise UsageError(
        f"unknown target {redact(target)!r}: use duckdb:PATH, "
        "clickhouse://[USER[:PASSWORD]@]HOST[:PORT][/DATABASE] or chdb:PATH"
    )


# -- ingest --------------------------------------------------------------------------


class _Tally:
    """What a group of sources added, kept apart until it is committed."""

    def __init__(self) -> None:
        self.inserted: dict[str, int] = {}
        self.rows: dict[str, int] = {}
        self.ids: set[str] = set()
        self.present = 0
        self.repeated = 0
        self.conflicts: list[dict[str, str]] = []
        self.conflict_count = 0

    def merge(self, other: _Tally) -> None:
        for kind, n in other.inserted.items():
            self.inserted[kind] = self.inserted.get(kind, 0) + n
        for table, n in other.rows.items():
            self.rows[table] = self.rows.get(table, 0) + n
        self.ids |= other.ids
        self.present += other.present
        self.repeated += other.repeated
        self.conflict_count += other.conflict_count
        room = MAX_CONFLICTS_LISTED - len(self.conflicts)
        self.conflicts.extend(other.conflicts[: max(0, room)])


class _Ingest:
    """One ingest run over planned sources: sources are written in groups, each group in
    one transaction (DuckDB); when a group fails, it is undone and its sources are
    written again one transaction each, so that one failing source costs only itself.
    ClickHouse has no transactions: there a failing source may leave some rows behind
    (an ingest again completes it; ``ReplacingMergeTree`` merges the repeats)."""

    def __init__(self, sink: Sink, prefix: str, on_skip: SkipHandler | None, batch: int) -> None:
        self.sink = sink
        self.prefix = prefix
        self.on_skip = on_skip
        self.batch = batch
        self.read = 0
        self.done = _Tally()
        self.open = _Tally()  # written since the last commit
        self.group: list[Source] = []
        self.skipped: set[tuple[str, str]] = set()

    def skip(self, where: str, why: str) -> None:
        if self.on_skip is not None and (where, why) not in self.skipped:
            self.skipped.add((where, why))  # a source written twice reports once
            self.on_skip(where, why)

    def run(self, sources: list[Source], count: Callable[[Source], None]) -> None:
        for source in sources:
            count(source)
            try:
                self.write_source(source)
            except Exception as exc:
                if not self.sink.is_engine_error(exc):
                    raise
                self.recover(source, exc)
                continue
            self.group.append(source)
            if self.open_documents >= self.batch:
                self.commit()
        self.commit()

    @property
    def open_documents(self) -> int:
        return sum(self.open.inserted.values()) + self.open.present + self.open.repeated

    def commit(self) -> None:
        self.sink.commit()
        self.done.merge(self.open)
        self.open = _Tally()
        self.group = []

    def recover(self, failed: Source, exc: Exception) -> None:
        """``failed`` made the engine fail: undo the group, write its other sources
        again one by one, then skip ``failed`` or stop."""
        why = f"{self.sink.engine}: {_line(exc)}"
        if self.sink.transactional:
            self.sink.rollback()
            self.open = _Tally()
            redo, self.group = self.group, []
            for source in redo:
                try:
                    self.write_source(source)
                except Exception as again:
                    if not self.sink.is_engine_error(again):
                        raise
                    self.sink.rollback()
                    self.open = _Tally()
                    self.fail(source, f"{self.sink.engine}: {_line(again)}")
                    continue
                self.commit()
        else:
            self.commit()
        self.fail(failed, why)

    def fail(self, source: Source, why: str) -> None:
        if self.on_skip is None:
            raise OperationFailed(
                f"{source.path}: {why} (the sources before it were ingested; "
                "--skip-invalid goes on without it)"
            )
        self.skip(str(source.path), why)

    def write_source(self, source: Source) -> None:
        chunk: list[Document] = []
        for doc in read_source(source, on_skip=self.skip if self.on_skip else None):
            self.read += 1
            chunk.append(doc)
            if len(chunk) >= self.batch:
                self.write(chunk)
                chunk = []
        self.write(chunk)

    def write(self, docs: list[Document]) -> None:
        """Insert the documents whose id is new; count and compare the others."""
        if not docs:
            return
        tally = self.open
        first: dict[str, Document] = {}
        for doc in docs:
            earlier = first.get(doc.id)
            if earlier is None:
                first[doc.id] = doc
            else:  # the same id twice in one chunk: the second is a repeat
                tally.repeated += 1
                self.compare(doc, earlier.source, earlier.data, tally)
        by_kind: dict[str, list[Document]] = {}
        for doc in first.values():
            by_kind.setdefault(doc.kind, []).append(doc)
        new: list[Document] = []
        for kind, kind_docs in by_kind.items():
            parent = f"{self.prefix}{PARENTS[kind].suffix}"
            present = self.sink.existing(parent, [d.id for d in kind_docs])
            stored = self.sink.documents(parent, sorted(present)) if present else {}
            for doc in kind_docs:
                if doc.id not in present:
                    new.append(doc)
                    continue
                if doc.id in self.done.ids or doc.id in tally.ids:
                    tally.repeated += 1
                else:
                    tally.present += 1
                source, text = stored.get(doc.id, ("", ""))
                self.compare(doc, source, _loads(text), tally)
        rows: dict[str, list[list[Any]]] = {}
        for doc in new:
            for suffix, table_rows in rows_for(doc).items():
                rows.setdefault(suffix, []).extend(table_rows)
            tally.inserted[doc.kind] = tally.inserted.get(doc.kind, 0) + 1
            tally.ids.add(doc.id)
        # Children first: a parent row is what marks a document as present.
        for table in sorted(TABLES, key=lambda t: t.parent):
            table_rows = rows.get(table.suffix, [])
            if table_rows:
                name = f"{self.prefix}{table.suffix}"
                self.sink.insert(table, name, table_rows)
                tally.rows[name] = tally.rows.get(name, 0) + len(table_rows)

    def compare(self, doc: Document, kept_from: str, kept: object, tally: _Tally) -> None:
        """A second copy of a document: identical, or a conflict (the first is kept)."""
        if kept == doc.data:
            return
        tally.conflict_count += 1
        if len(tally.conflicts) < MAX_CONFLICTS_LISTED:
            tally.conflicts.append(
                {
                    "id": doc.id,
                    "kind": doc.kind,
                    "source": doc.source,
                    "kept": kept_from,
                    "resolution": "kept the copy ingested first; this one was not ingested",
                }
            )


def _loads(text: str) -> object:
    import orjson

    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return None


def ingest(
    paths: Iterable[str | os.PathLike[str]],
    target: str,
    *,
    skip_invalid: bool = False,
    prefix: str = "lt_",
    batch_size: int = BATCH_DOCUMENTS,
) -> dict[str, Any]:
    """Read every source (verified like ``report`` reads them) and ingest it.

    Without ``skip_invalid`` every source is verified before the target is even
    opened, so an invalid one stops the ingest before anything is written
    (``BundleError``/``DocumentError``). With it, an invalid bundle or document is
    left out and listed, and a source the engine refuses is undone and listed too.
    """
    from ._report import Progress

    if not PREFIX_RE.match(prefix):
        raise UsageError(f"--prefix {prefix!r}: use letters, digits and _ (at most 31)")
    sources = plan_sources(paths)
    progress = Progress()
    if not skip_invalid:
        for source in sources:  # verify everything first: nothing is written otherwise
            for _ in read_source(source):
                pass
    sink = open_sink(target)
    ok = False
    run = _Ingest(sink, prefix, progress.skip if skip_invalid else None, batch_size)
    try:
        sink.create(prefix)
        sink.commit()  # the tables stay, whatever a later rollback undoes
        run.run(sources, progress.count)
        ok = True
    except Exception as exc:
        if sink.is_engine_error(exc):
            raise OperationFailed(f"{sink.engine}: {_line(exc)}") from None
        raise
    finally:
        sink.close(ok)
    done = run.done
    return {
        "target": redact(target),
        "engine": sink.engine,
        "tables": [f"{prefix}{t.suffix}" for t in TABLES],
        "documents": run.read,
        "inserted": sum(done.inserted.values()),
        "already_present": done.present,
        "repeated": done.repeated,
        "conflicts": done.conflict_count,
        "conflicts_listed": done.conflicts,
        "by_kind": {kind: done.inserted.get(kind, 0) for kind in sorted(PARENTS)},
        "rows": {f"{prefix}{t.suffix}": done.rows.get(f"{prefix}{t.suffix}", 0) for t in TABLES},
        "sources": progress.as_dict(),
    }


def ingest_text(result: dict[str, Any]) -> str:
    kinds = ", ".join(f"{k} {v}" for k, v in result["by_kind"].items() if v)
    src = result["sources"]
    lines = [
        f"ingested into {result['target']} ({result['engine']}): {result['inserted']} new "
        f"documents" + (f" ({kinds})" if kinds else ""),
        f"read: {result['documents']} documents; already in the database (same id): "
        f"{result['already_present']}; repeated in the sources: {result['repeated']}",
    ]
    if result["conflicts"]:
        lines.append(
            f"conflicts (same id, different content): {result['conflicts']}; the copy "
            "ingested first is kept, the other is not ingested:"
        )
        lines += [
            f"  {c['kind']} {c['id']} from {c['source']} differs from the one kept "
            f"(from {c['kept']})"
            for c in result["conflicts_listed"]
        ]
        if result["conflicts"] > len(result["conflicts_listed"]):
            lines.append(f"  ... and {result['conflicts'] - len(result['conflicts_listed'])} more")
    lines.append("tables: " + ", ".join(result["tables"]))
    if src["skipped"]:
        lines.append(f"skipped as invalid: {src['skipped']}")
        lines += [f"  {s['source']}: {s['reason']}" for s in src["skipped_listed"]]
    return "\n".join(lines)
