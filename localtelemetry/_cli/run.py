"""The standalone commands that run programs: ``run`` (any program, transparently,
recorded with ``--telemetry``) and ``demo`` (the bundled example app, as real
subprocesses). CLI layer: ``_cli`` registers them on ``localtelemetry`` only; a host's
mounted group has neither.

The console script reads plain ``run`` command lines without Typer (``_cli/runcmd``); this
Typer command handles the rest (``--help``, mistakes) and ends in the same
``_cli/runcmd.execute``.
"""

from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from typer.core import TyperCommand

from .output import FormatOption, Output, emit, file_option, guard

#: Where ``RunCommand`` leaves what follows ``--`` for the command.
RUN_META_KEY = "localtelemetry.run.command"


class RunCommand(TyperCommand):
    """Splits the command line at the first ``--`` before the parser sees it:
    everything after it belongs to the child, untouched, and the parser alone
    could not tell whether a ``--`` was there (it is required). ``ctx`` is
    typed loosely because typer's click may be vendored or the real one."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if "--" in args:
            cut = args.index("--")
            ctx.meta[RUN_META_KEY] = args[cut + 1 :]
            return super().parse_args(ctx, args[:cut])
        # No '--': the command reports that as a usage error; only --help still
        # gets parsed, so that 'run --help' shows the help.
        ctx.meta[RUN_META_KEY] = None
        return super().parse_args(ctx, [a for a in args if a == "--help"])

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return [*super().collect_usage_pieces(ctx), "--", "CMD", "[ARGS]..."]


RUN_FORMAT_HELP = (
    "json: one JSON object about the run (exit code, documents recorded) on stderr after "
    "the program ends, or into -o FILE; stdout stays the program's."
)
RUN_APP_HELP = (
    "The store to record into (default: the program's base name if PATH finds the "
    "program, else run-<hash>)."
)


def run(
    ctx: typer.Context,
    telemetry: Annotated[
        bool,
        typer.Option("--telemetry", help="Record this run (a cli-command and a run-summary)."),
    ] = False,
    app_name: Annotated[
        str | None, typer.Option("--app", metavar="NAME", help=RUN_APP_HELP)
    ] = None,
    keep_word: Annotated[
        Optional[list[str]],  # noqa: UP045 - typer needs the runtime type on Python 3.10
        typer.Option(
            "--keep-word",
            metavar="WORD",
            help="Keep WORD in clear as a subcommand or option name (repeatable).",
        ),
    ] = None,
    fmt: Annotated[Output, typer.Option("--format", help=RUN_FORMAT_HELP)] = Output.text,
    output: Annotated[
        Optional[str],  # noqa: UP045
        file_option("Write the result (in --format) to FILE instead."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite the -o file if it exists.")
    ] = False,
) -> None:
    """Run any program transparently (like 'time'); with --telemetry, record it.

    Output, input and the terminal pass straight through. The exit code is the
    program's, 128+N if signal N ended it, 127/126 if it cannot be found or
    run. Argument values are recorded only as keyed hashes or path descriptors.
    """
    from .runcmd import RunOptions, execute

    options = RunOptions(
        ctx.meta.get(RUN_META_KEY),
        telemetry=telemetry,
        app_name=app_name,
        keep_word=keep_word,
        fmt=fmt.value,
        output=output,
        force=force,
    )
    raise typer.Exit(execute(options))


def demo(
    directory: Annotated[
        Path | None,
        typer.Option(
            "--dir", help="Store base directory for the demo (default: the normal per-user store)."
        ),
    ] = None,
    fmt: FormatOption = Output.text,
) -> None:
    """Run the bundled example CLI a few times with --telemetry and show the result."""

    def body() -> None:
        from .demo import run_demo

        result, text = run_demo(directory)
        emit(fmt, "demo", result, text)

    guard(fmt, "demo", body)


#: This module's commands, in the order help lists them (``_cli``).
COMMANDS = (run, demo)
