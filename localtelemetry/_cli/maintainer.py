"""The maintainer's commands of the standalone CLI: ``inspect``, ``report`` and
``ingest``; they read bundles (and stores) that users shared. CLI layer: ``_cli``
registers them on ``localtelemetry`` only.

They follow the convention of ``_cli/output``: plain text by default, ``--format json`` for
exactly one JSON object on stdout, ``-o FILE`` only for a file, one line on stderr and
exit code 2 (bad input, including an invalid bundle) or 1 (the operation failed).
"""

# No "from __future__ import annotations": typer reads the annotations at run time.
import enum
from pathlib import Path
from typing import Annotated, Any

import typer

from localtelemetry._contract.exceptions import OperationFailed, UsageError

from . import render as _render
from .output import FormatOption, Output, emit, file_option, guard, output_file


class ReportFormat(str, enum.Enum):
    text = "text"
    json = "json"
    html = "html"


SOURCES_HELP = (
    "Bundles (.zip), stores, extracted bundles, or directories holding any of them "
    "(searched recursively, symlinks not followed)."
)
SKIP_HELP = (
    "Leave out a bundle or document that fails verification (listed in the result) "
    "instead of stopping with an error."
)


def write_file(target: Path, data: bytes, *, force: bool) -> None:
    """Write a report to ``target`` (mode 0644), never leaving half of it and never
    replacing an existing file unless ``force`` (``_store/outfile``)."""
    from localtelemetry._store.outfile import check_target, new_file

    check_target(target, force=force, option="-o")
    with new_file(target, force=force, mode=0o644, doing="writing") as fh:
        fh.write(data)


def report(
    sources: Annotated[
        list[Path], typer.Argument(help=SOURCES_HELP, show_default=False, metavar="SOURCES")
    ],
    report_format: Annotated[
        ReportFormat,
        typer.Option(
            "--format",
            help="text: tables; json: the report as JSON; html: one self-contained page "
            "with charts (no network).",
        ),
    ] = ReportFormat.text,
    output: Annotated[
        str | None,
        file_option(
            "Write the report to FILE instead of stdout (and a summary to stdout: "
            "JSON with --format json)."
        ),
    ] = None,
    skip_invalid: Annotated[bool, typer.Option("--skip-invalid", help=SKIP_HELP)] = False,
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs",
            "-j",
            help="Worker processes that verify bundles (0: the default, one process).",
        ),
    ] = 0,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite the -o file if it exists.")
    ] = False,
) -> None:
    """Report across many bundles and stores: per command runs, failure rate, error
    kinds and durations; per version and platform; build phases; snapshots over
    time. Every bundle is verified like 'inspect' does."""
    fmt = Output.json if report_format is ReportFormat.json else Output.text

    def body() -> None:
        from localtelemetry._receive.report import build_report, default_jobs, render_text

        if jobs < 0:
            raise UsageError("--jobs must be 0 or more")
        target = output_file(output)
        result = build_report(sources, skip_invalid=skip_invalid, jobs=jobs or default_jobs())
        if not result["documents"]:
            raise OperationFailed(
                "no documents found in the sources"
                + (
                    f" ({result['sources']['skipped']} invalid skipped)"
                    if result["sources"]["skipped"]
                    else ""
                )
            )
        if target is None:
            if report_format is ReportFormat.html:
                from localtelemetry._receive.report_html import render_html

                typer.echo(render_html(result), nl=False)
            elif report_format is ReportFormat.json:
                emit(Output.json, "report", result, "")
            else:
                emit(fmt, "report", result, render_text(result))
            return
        data = _report_bytes(report_format, result)
        write_file(target, data, force=force)
        summary = {
            "written": str(target),
            "format": report_format.value,
            "bytes": len(data),
            "documents": result["documents"],
            "sources": result["sources"],
        }
        emit(
            fmt,
            "report",
            summary,
            f"wrote {target} ({report_format.value}, {len(data)} bytes): "
            f"{result['documents']} documents, {result['runs']} runs",
        )

    guard(fmt, "report", body)


def ingest(
    sources: Annotated[
        list[Path], typer.Argument(help=SOURCES_HELP, show_default=False, metavar="SOURCES")
    ],
    into: Annotated[
        str,
        typer.Option(
            "--into",
            metavar="TARGET",
            help="duckdb:PATH (a DuckDB file, created if needed; needs the 'duckdb' "
            "extra), clickhouse://[USER[:PASSWORD]@]HOST[:PORT][/DATABASE] (needs the "
            "'clickhouse' extra) or chdb:PATH (embedded ClickHouse, needs chdb). "
            "In-memory databases are refused: they keep nothing.",
            show_default=False,
        ),
    ],
    skip_invalid: Annotated[bool, typer.Option("--skip-invalid", help=SKIP_HELP)] = False,
    prefix: Annotated[str, typer.Option("--prefix", help="Prefix of the table names.")] = "lt_",
    fmt: Annotated[
        Output,
        typer.Option("--format", help="text for people, json for one JSON object on stdout."),
    ] = Output.text,
) -> None:
    """Load documents into DuckDB or ClickHouse tables, one per document kind (plus
    build phases and snapshot counts). Idempotent: a document already there (same
    id) is never added twice; a copy with other content is reported as a conflict.
    Without --skip-invalid, every source is verified before anything is written."""

    def body() -> None:
        from localtelemetry._receive.ingest import ingest as run_ingest
        from localtelemetry._receive.ingest import ingest_text

        result = run_ingest(sources, into, skip_invalid=skip_invalid, prefix=prefix)
        emit(fmt, "ingest", result, ingest_text(result))

    guard(fmt, "ingest", body)


def _report_bytes(report_format: ReportFormat, result: dict[str, Any]) -> bytes:
    if report_format is ReportFormat.html:
        from localtelemetry._receive.report_html import render_html

        return render_html(result).encode("utf-8")
    if report_format is ReportFormat.json:
        import json

        return (json.dumps(result, indent=2) + "\n").encode("utf-8")
    from localtelemetry._receive.report import render_text

    return (render_text(result) + "\n").encode("utf-8")


def inspect(
    bundle: Annotated[Path, typer.Argument(help="A bundle made by 'telemetry export'.")],
    extract: Annotated[
        Path | None,
        typer.Option(
            "--extract",
            metavar="DIR",
            help="After verifying, write the documents into DIR (nothing else is ever written).",
        ),
    ] = None,
    fmt: FormatOption = Output.text,
) -> None:
    """Verify a bundle (manifest, digests, schemas; hostile input refused) and
    summarise it."""

    def body() -> None:
        from localtelemetry._receive.bundle import extract as run_extract
        from localtelemetry._receive.inspect import inspect_bundle

        result = inspect_bundle(bundle)
        text = _render.inspect_text(result)
        if extract is not None:
            result["extracted"] = run_extract(bundle, extract)
            extracted = _render.plural(result["extracted"], "file")
            text += f"\n\nextracted {extracted} into {extract}"
        emit(fmt, "inspect", result, text)

    guard(fmt, "inspect", body)


#: This module's commands, in the order help lists them (``_cli``).
COMMANDS = (report, ingest, inspect)
