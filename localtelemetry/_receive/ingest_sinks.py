"""Where ``ingest`` writes: DuckDB (a file), a ClickHouse server (clickhouse-connect,
the one place where localtelemetry opens a network connection: to the server the
maintainer names) and chDB (ClickHouse embedded in the process)."""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

from localtelemetry._contract import ID_PATTERN
from localtelemetry._contract.exceptions import OperationFailed, UsageError

from .ingest_tables import _DUCKDB, Table, clickhouse_ddl, duckdb_ddl


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
        duckdb = _require("duckdb", "DuckDB", "the duckdb package", "'localtelemetry[duckdb]'")
        _not_in_memory(path, "duckdb", "a database file")
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
        clickhouse_connect = _require(
            "clickhouse_connect", "ClickHouse", "clickhouse-connect", "'localtelemetry[clickhouse]'"
        )
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
        session = _require("chdb.session", "chDB", "the chdb package", "chdb")
        _not_in_memory(path, "chdb", "a directory")
        if path.exists() and not path.is_dir():
            raise UsageError(f"{path} is not a directory; chDB keeps its data in one")
        self.session = session.Session(str(path))

    def command(self, sql: str) -> Any:
        return self.session.query(sql)

    def ids(self, sql: str) -> list[str]:
        text = str(self.session.query(sql, "TabSeparated"))
        return [line for line in text.splitlines() if line]

    def rows(self, sql: str) -> list[list[Any]]:
        import orjson  # loaded already: ingest parses documents with it

        text = str(self.session.query(sql, "JSONCompactEachRow"))
        return [orjson.loads(line) for line in text.splitlines() if line]

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
        found: set[str] = set()
        for sql in _by_id(f"SELECT id FROM {table}", ids, 2000):  # noqa: S608
            found.update(self.client.ids(sql))
        return found

    def documents(self, table: str, ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        found: dict[str, tuple[str, str]] = {}
        for sql in _by_id(f"SELECT id, source, document FROM {table}", ids, 500):  # noqa: S608
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


_ID_RE = re.compile(rf"^{ID_PATTERN}\Z")


def _by_id(select: str, ids: Sequence[str], chunk: int) -> Iterator[str]:
    """``select`` restricted to ``ids``, in queries of ``chunk`` ids each (well under a
    server's max_query_size). Ids are quoted inline: only those matching ID_PATTERN
    (checked here again) are kept, and they hold no quote."""
    valid = [i for i in ids if _ID_RE.match(i)]
    for start in range(0, len(valid), chunk):
        listed = ", ".join(f"'{i}'" for i in valid[start : start + chunk])
        yield f"{select} WHERE id IN ({listed})"


def _require(module: str, engine: str, package: str, install: str) -> Any:
    """An optional engine's module, or a usage error that says what to install."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise UsageError(
            f"ingesting into {engine} needs {package}: pip install {install}"
        ) from None


def _not_in_memory(path: Path, scheme: str, what: str) -> None:
    # An in-memory database is gone when ingest exits: ingest would report documents
    # it did not keep.
    if str(path).startswith(":memory:"):
        raise UsageError(
            f"{scheme}::memory: keeps nothing once ingest ends; give {what}: --into {scheme}:PATH"
        )


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
