"""The tables ``ingest`` writes: their columns, the rows a document becomes, and the
DDL for DuckDB and ClickHouse (see ``_receive/ingest`` for the layout and why)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .reader import Document


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


def _create_statements(
    prefix: str, types: dict[str, str], after_columns: Callable[[Table], str]
) -> list[str]:
    """One CREATE TABLE per table, its columns typed by ``types``; ``after_columns``
    gives what the engine wants after them (keys, engine, ordering)."""
    return [
        f"CREATE TABLE IF NOT EXISTS {prefix}{table.suffix} (\n    "
        + ",\n    ".join(f"{c.name} {types[c.kind]}" for c in table.columns)
        + after_columns(table)
        for table in TABLES
    ]


def clickhouse_ddl(prefix: str) -> list[str]:
    """CREATE TABLE statements for ClickHouse (and chDB)."""
    return _create_statements(
        prefix,
        _CLICKHOUSE,
        lambda table: (
            "\n)\nENGINE = ReplacingMergeTree\nPARTITION BY toYYYYMM(event_date)\n"
            f"ORDER BY ({', '.join(_sort_key(table))})"
        ),
    )


def _sort_key(table: Table) -> tuple[str, ...]:
    """The ORDER BY: the table's order, then whatever else makes a row unique (for
    ReplacingMergeTree, rows with equal sorting keys are one row)."""
    return table.order_by + tuple(k for k in table.key if k not in table.order_by)


def duckdb_ddl(prefix: str) -> list[str]:
    """CREATE TABLE statements for DuckDB."""
    return _create_statements(
        prefix, _DUCKDB, lambda table: f",\n    PRIMARY KEY ({', '.join(table.key)})\n)"
    )
