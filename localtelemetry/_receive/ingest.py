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

import os
import re
from collections.abc import Callable, Iterable
from typing import Any

from localtelemetry._contract.exceptions import OperationFailed, UsageError

from .ingest_sinks import Sink, _line, open_sink, redact
from .ingest_tables import PARENTS, TABLES, rows_for
from .reader import Document, SkipHandler, Source, plan_sources, read_source

BATCH_DOCUMENTS = 5000
MAX_CONFLICTS_LISTED = 100
PREFIX_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,30}$")


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
    from .report import Progress

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
