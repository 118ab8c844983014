"""``localtelemetry ingest``: load documents into DuckDB or ClickHouse tables.

One table per document kind, plus one row per build phase and one per snapshot count,
so the usual questions are plain SQL (failure rate by version, slowest phases). The
layout follows the ClickHouse advice for event tables: low-cardinality strings for
every enumerated or repeated value, partitions by month of ``event_date``, rows
ordered by date, runtime context, command family (or build / snapshot name) and
version. DuckDB gets the same columns.

Ingesting is idempotent, keyed on the document id: before each batch is written, the
ids already in the tables are looked up and those documents are left out (a child row
is written only with its new parent). In ClickHouse the tables are also
``ReplacingMergeTree`` on that key, so even two ingests racing on two machines
converge to one row per document once parts merge (``SELECT ... FINAL`` sees that
at once).

Targets: ``duckdb:PATH`` (the ``duckdb`` extra), ``clickhouse://...`` (the
``clickhouse`` extra, through clickhouse-connect: the only place where localtelemetry
opens a network connection, to the server the maintainer names) and ``chdb:PATH``
(chDB, ClickHouse embedded in the process).
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ._exceptions import OperationFailed, UsageError
from ._reader import Document, plan_sources, read_source

BATCH_DOCUMENTS = 5000
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
                p["peak_rss_kib"],
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

    def create(self, prefix: str) -> None: ...

    def existing(self, table: str, ids: Sequence[str]) -> set[str]: ...

    def insert(self, table: Table, name: str, rows: list[list[Any]]) -> None: ...

    def commit(self) -> None: ...

    def close(self, ok: bool) -> None: ...


class DuckDBSink:
    engine = "duckdb"

    def __init__(self, path: Path) -> None:
        try:
            duckdb: Any = importlib.import_module("duckdb")
        except ImportError:
            raise UsageError(
                "ingesting into DuckDB needs the duckdb package: "
                "pip install 'localtelemetry[duckdb]'"
            ) from None
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

    def close(self, ok: bool) -> None:
        try:
            self.con.execute("COMMIT" if ok else "ROLLBACK")
        finally:
            self.con.close()


class ClickHouseClient(Protocol):
    """What the ClickHouse sink needs: clickhouse-connect's client, or chDB's session
    behind ``ChdbClient``."""

    def command(self, sql: str) -> Any: ...

    def ids(self, sql: str) -> list[str]: ...

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
        if path.exists() and not path.is_dir():
            raise UsageError(f"{path} is not a directory; chDB keeps its data in one")
        self.session = session.Session(str(path))

    def command(self, sql: str) -> Any:
        return self.session.query(sql)

    def ids(self, sql: str) -> list[str]:
        text = str(self.session.query(sql, "TabSeparated"))
        return [line for line in text.splitlines() if line]

    def insert_json(self, table: str, columns: Sequence[str], data: bytes) -> None:
        self.session.query(
            f"INSERT INTO {table} ({', '.join(columns)}) FORMAT JSONEachRow\n"
            + data.decode("utf-8")
        )

    def close(self) -> None:
        self.session.close()


class ClickHouseSink:
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

    def insert(self, table: Table, name: str, rows: list[list[Any]]) -> None:
        import orjson

        names = [c.name for c in table.columns]
        data = b"".join(orjson.dumps(dict(zip(names, row, strict=True))) + b"\n" for row in rows)
        self.client.insert_json(name, names, data)

    def commit(self) -> None:
        pass

    def close(self, ok: bool) -> None:
        close = getattr(self.client, "close", None)
        if close is not None:
            close()


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


class _Batch:
    def __init__(self) -> None:
        self.documents: dict[str, Document] = {}

    def __len__(self) -> int:
        return len(self.documents)


def ingest_into(
    sink: Sink,
    documents: Iterable[Document],
    *,
    prefix: str = "lt_",
    batch_size: int = BATCH_DOCUMENTS,
) -> dict[str, Any]:
    """Write documents not already present; returns counts."""
    if not PREFIX_RE.match(prefix):
        raise UsageError(f"--prefix {prefix!r}: use letters, digits and _ (at most 31)")
    sink.create(prefix)
    inserted = {kind: 0 for kind in PARENTS}
    rows_written = {f"{prefix}{t.suffix}": 0 for t in TABLES}
    counts = {"read": 0, "present": 0}
    pending: dict[str, Document] = {}

    def flush() -> None:
        if not pending:
            return
        new: list[Document] = []
        by_kind: dict[str, list[Document]] = {}
        for doc in pending.values():
            by_kind.setdefault(doc.kind, []).append(doc)
        for kind, docs in by_kind.items():
            parent = f"{prefix}{PARENTS[kind].suffix}"
            present = sink.existing(parent, [d.id for d in docs])
            counts["present"] += len(present)
            new.extend(d for d in docs if d.id not in present)
        rows: dict[str, list[list[Any]]] = {}
        for doc in new:
            for suffix, table_rows in rows_for(doc).items():
                rows.setdefault(suffix, []).extend(table_rows)
            inserted[doc.kind] += 1
        # Children first: a parent row is what marks a document as present.
        for table in sorted(TABLES, key=lambda t: t.parent):
            table_rows = rows.get(table.suffix, [])
            if table_rows:
                name = f"{prefix}{table.suffix}"
                sink.insert(table, name, table_rows)
                rows_written[name] += len(table_rows)
        sink.commit()
        pending.clear()

    for doc in documents:
        counts["read"] += 1
        if doc.id in pending:
            counts["present"] += 1
            continue
        pending[doc.id] = doc
        if len(pending) >= batch_size:
            flush()
    flush()
    return {
        "documents": counts["read"],
        "inserted": sum(inserted.values()),
        "already_present": counts["present"],
        "by_kind": dict(sorted(inserted.items())),
        "rows": rows_written,
    }


def ingest(
    paths: Iterable[str | os.PathLike[str]],
    target: str,
    *,
    skip_invalid: bool = False,
    prefix: str = "lt_",
) -> dict[str, Any]:
    """Read every source (verified like ``report`` reads them) and ingest it."""
    from ._report import Progress

    if not PREFIX_RE.match(prefix):
        raise UsageError(f"--prefix {prefix!r}: use letters, digits and _ (at most 31)")
    sources = plan_sources(paths)
    progress = Progress()
    on_skip = progress.skip if skip_invalid else None

    def documents() -> Iterable[Document]:
        for source in sources:
            progress.count(source)
            yield from read_source(source, on_skip=on_skip)

    sink = open_sink(target)
    ok = False
    try:
        result = ingest_into(sink, documents(), prefix=prefix)
        ok = True
    except Exception as exc:
        error = getattr(sink, "error", None)
        engine_error = (error is not None and isinstance(exc, error)) or type(exc).__module__.split(
            "."
        )[0] in ("clickhouse_connect", "chdb", "duckdb", "_chdb")
        if engine_error:
            raise OperationFailed(f"{sink.engine}: {_line(exc)}") from None
        raise
    finally:
        sink.close(ok)
    return {
        "target": redact(target),
        "engine": sink.engine,
        "tables": [f"{prefix}{t.suffix}" for t in TABLES],
        **result,
        "sources": progress.as_dict(),
    }


def ingest_text(result: dict[str, Any]) -> str:
    kinds = ", ".join(f"{k} {v}" for k, v in result["by_kind"].items() if v)
    src = result["sources"]
    lines = [
        f"ingested into {result['target']} ({result['engine']}): {result['inserted']} new "
        f"documents" + (f" ({kinds})" if kinds else ""),
        f"already there (same id): {result['already_present']} of {result['documents']} read",
        "tables: " + ", ".join(result["tables"]),
    ]
    if src["skipped"]:
        lines.append(f"skipped as invalid: {src['skipped']}")
        lines += [f"  {s['source']}: {s['reason']}" for s in src["skipped_listed"]]
    return "\n".join(lines)
