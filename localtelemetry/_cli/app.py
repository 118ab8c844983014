"""The management CLI, assembled: mounted in a host app as ``mycli telemetry ...`` and
standalone as ``localtelemetry ... --app NAME`` (also ``python -m localtelemetry``).

The commands are plain functions in one module per group (``_cli_store``: one app's
store; ``_cli_share``: export; ``_cli_run``: run and demo; ``_cli/maintainer``: inspect,
report, ingest); ``COMMANDS`` lists them once, and ``make_app`` only registers them.
Each command gets plain data from ``_cli/commands`` and renders it: human text by default,
or with ``--format json`` exactly one JSON object on stdout; ``-o/--output`` only ever
names a file (the convention is in ``_cli/output``). Errors are one line on stderr and exit
code 2 (bad input) or 1 (operation failed). Management commands never record.

CLI layer: nothing here imports the face (``Telemetry``); a host's mount comes in as a
``Mount`` (``_integration.mount_of``).
"""

import sys
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

import typer
from typer.core import TyperCommand

from localtelemetry._contract import FLAG

from . import maintainer as _maintainer_cli
from . import run as _cli_run
from . import share as _cli_share
from . import store as _cli_store
from .output import OUTPUT_VERSION, Output, fail, old_output_spelling, wants_json
from .store import Mount

__all__ = [
    "COMMANDS",
    "MOUNTED_COMMANDS",
    "OUTPUT_VERSION",
    "STANDALONE_COMMANDS",
    "STANDALONE_ONLY",
    "Mount",
    "Output",
    "main",
    "make_app",
    "run_mounted",
]


def command_name(function: Callable[..., None]) -> str:
    """A command's name is its function's: ``list_`` is ``list``, ``reset_key`` is
    ``reset-key``."""
    return function.__name__.rstrip("_").replace("_", "-")


#: Every command by name, in the order help lists them (each group's own order).
COMMANDS: dict[str, Callable[..., None]] = {
    command_name(function): function
    for group in (_cli_store, _cli_share, _maintainer_cli, _cli_run)
    for function in group.COMMANDS
}
#: What only the standalone ``localtelemetry`` offers: a host app's ``telemetry`` group
#: manages that app's documents; running programs, the demo and the maintainer's
#: commands are not its business.
STANDALONE_ONLY = frozenset({"apps", "report", "ingest", "inspect", "run", "demo"})
MOUNTED_COMMANDS = tuple(name for name in COMMANDS if name not in STANDALONE_ONLY)
STANDALONE_COMMANDS = tuple(COMMANDS)
#: Commands with a click class of their own.
_CLASSES: dict[str, type[TyperCommand]] = {"run": _cli_run.RunCommand}


class MountedCommand(TyperCommand):
    """A management command in a host's group: the app is the host's, so ``--app``
    (still accepted, and checked) is left out of the help."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if param.name == "app_name":
                param.hidden = True  # type: ignore[attr-defined]


def make_app(mount: Mount | None) -> typer.Typer:
    """The management CLI; ``mount`` describes the host app when mounted in one."""
    flag = mount.flag if mount is not None else FLAG
    app = typer.Typer(
        name=mount.command if mount is not None else "localtelemetry",
        help=(
            f"Inspect and manage the diagnostics this app recorded locally with {flag}. "
            "Nothing is ever sent anywhere."
            if mount is not None
            else "localtelemetry: opt-in, local-only diagnostics for command-line tools. "
            "Manage the documents an app recorded (--app NAME), or run the demo."
        ),
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
        # Every command's context inherits it: the commands find the mount in ctx.obj.
        context_settings={"obj": mount},
    )
    names = STANDALONE_COMMANDS if mount is None else MOUNTED_COMMANDS
    default = None if mount is None else MountedCommand
    for name in names:
        app.command(name, cls=_CLASSES.get(name, default))(COMMANDS[name])
    return app


def _invoke(
    app: typer.Typer,
    args: list[str],
    prog_name: str,
    settings: Mapping[str, Any] | None = None,
) -> NoReturn:
    """Run the management CLI; bad usage is one stderr line (and, with ``--format
    json``, one JSON object on stdout) instead of click's multi-line usage block.
    ``settings`` are the host's context settings, when mounted."""
    from .output import use_host_settings

    use_host_settings(settings or {})
    old = old_output_spelling(args)
    if old is not None:
        try:
            fail(Output.json if wants_json(args) else Output.text, "usage", old, 2)
        except typer.Exit as done:
            sys.exit(done.exit_code)
    command = typer.main.get_command(app)
    try:
        result = command.main(
            args=args, prog_name=prog_name, standalone_mode=False, **dict(settings or {})
        )
    except Exception as exc:
        format_message = getattr(exc, "format_message", None)
        code = getattr(exc, "exit_code", None)
        if format_message is None or not isinstance(code, int):
            raise
        if type(exc).__name__ == "NoArgsIsHelpError":  # bare command: show its help
            sys.stdout.write(format_message().rstrip() + "\n")
            sys.exit(0)
        ctx = getattr(exc, "ctx", None)
        where = getattr(ctx, "command_path", prog_name) or prog_name
        message = f"{format_message()} (see '{where} --help')"
        output = Output.json if wants_json(args) else Output.text
        try:
            fail(output, "usage", message, code)
        except typer.Exit as done:
            sys.exit(done.exit_code)
    except (KeyboardInterrupt, EOFError):
        sys.stderr.write("error: interrupted\n")
        sys.exit(130)
    sys.exit(result if isinstance(result, int) else 0)


def run_mounted(
    mount: Mount,
    args: list[str],
    prog_name: str,
    settings: Mapping[str, Any] | None = None,
) -> NoReturn:
    """``mycli telemetry ARGS`` (the face hands the host's app over as ``mount``)."""
    _invoke(make_app(mount), args, prog_name, settings)


def main() -> None:
    """The Typer CLI: every command line the console script (``__main__.main``) does not
    run itself (``run`` with a plain command line goes to ``_cli/runcmd`` without Typer)."""
    _invoke(make_app(None), sys.argv[1:], "localtelemetry")
