"""The management command that shares: ``export`` (redact the recorded documents once
more and zip them). CLI layer: ``_cli`` registers it, in a host's mounted group too;
the work is ``_share/export``'s, the store and the mount come as in ``_cli_store``.
"""

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Optional

import typer

from localtelemetry._contract import is_id_prefix
from localtelemetry._contract.exceptions import UsageError
from localtelemetry._store import KINDS

from . import commands as _commands
from . import render as _render
from .output import AppOption, FormatOption, Output, emit, file_option, guard, output_file
from .store import environ_of, now_of, store_for

REDACT_HELP = (
    "Also remove this word (3+ characters, any case) wherever it appears in the bundle "
    "(repeatable)."
)
REDACT_FILE_HELP = (
    "Words to remove, one per line; 're:' starts a regular expression, '#' a comment."
)
KEEP_HASHES_HELP = (
    "Keep the stored hashes, ids and times instead of making new ones for this bundle "
    "(bundles become linkable to each other, and reproducible byte for byte)."
)
WordsOption = Annotated[
    Optional[list[str]],  # noqa: UP045 - typer needs the runtime type on Python 3.10
    typer.Option("--redact", metavar="WORD", help=REDACT_HELP),
]
WordFilesOption = Annotated[
    Optional[list[Path]],  # noqa: UP045
    typer.Option("--redact-file", metavar="FILE", help=REDACT_FILE_HELP),
]


def export(
    ctx: typer.Context,
    app_name: AppOption = None,
    output: Annotated[
        Optional[str],  # noqa: UP045
        file_option("Where to write the bundle (default: APP-telemetry-TIME.zip here)."),
    ] = None,
    kind: Annotated[
        list[str] | None, typer.Option("--kind", "-k", help="Only these kinds (repeatable).")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Only newer than this: 7d, 12h, 30m or a date.")
    ] = None,
    run: Annotated[str | None, typer.Option(help="Only this run id (or prefix).")] = None,
    preview: Annotated[
        bool,
        typer.Option(
            "--preview", help="Show what would be shared, all free text in full; write nothing."
        ),
    ] = False,
    keep_hashes: Annotated[bool, typer.Option("--keep-hashes", help=KEEP_HASHES_HELP)] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite the output file if it exists.")
    ] = False,
    redact: WordsOption = None,
    redact_file: WordFilesOption = None,
    no_messages: Annotated[
        bool, typer.Option("--no-messages", help="Leave every free-text field (messages) out.")
    ] = False,
    fmt: FormatOption = Output.text,
) -> None:
    """Redact the recorded documents once more and zip them to share by hand."""

    def body() -> None:
        bundle_file = output_file(output)
        from localtelemetry._share.export import Redaction, Selection
        from localtelemetry._share.export import export as run_export
        from localtelemetry._share.export import preview as run_preview

        redaction = Redaction.from_options(
            redact or [], redact_file or [], messages=not no_messages, environ=environ_of(ctx)
        )

        store = store_for(ctx, app_name)
        kinds = tuple(kind) if kind else KINDS
        for k in kinds:
            _commands.check_kind(k)
        moment = now_of(ctx)
        selection = Selection(
            kinds=tuple(k for k in KINDS if k in kinds),
            since=_commands.parse_when(since, moment) if since else None,
            run=run,
        )
        if run is not None and not is_id_prefix(run.lower()):
            raise UsageError(f"{run!r} is not a run id; 'list' shows them")
        if preview:
            result = run_preview(
                store, selection=selection, keep_hashes=keep_hashes, now=moment, redaction=redaction
            )
            summaries = [
                f"  {d['kind']:<12} {d['id']}  {_commands.summary_of(d)}"
                for d in result["documents"]
            ]
            emit(
                fmt, "export", {"preview": True, **result}, _render.preview_text(result, summaries)
            )
            return
        result = run_export(
            store,
            target=bundle_file,
            force=force,
            selection=selection,
            keep_hashes=keep_hashes,
            now=moment,
            progress=progress_bar() if fmt is Output.text else None,
            redaction=redaction,
        )
        emit(fmt, "export", result, _render.export_text(result))

    guard(fmt, "export", body)


def progress_bar() -> Callable[[int, int], None] | None:
    """A one-line progress bar on stderr for big exports, only on a terminal."""
    if not sys.stderr.isatty():
        return None
    shown = [-1]

    def progress(done: int, total: int) -> None:
        if total < 500:
            return
        percent = done * 100 // total
        if percent != shown[0]:
            shown[0] = percent
            bar = "#" * (percent // 4)
            end = "\n" if done == total else ""
            sys.stderr.write(f"\rexporting [{bar:<25}] {percent:3d}% ({done}/{total}){end}")
            sys.stderr.flush()

    return progress


#: This module's commands (``_cli``).
COMMANDS = (export,)
