"""The management CLI, assembled: mounted in a host app as ``mycli telemetry ...`` and
standalone as ``localtelemetry ... --app NAME`` (also ``python -m localtelemetry``).

The commands are plain functions in one module per group (``_cli_store``: one app's
store; ``_cli_share``: export; ``_cli_run``: run and demo; ``_maintainer_cli``: inspect,
report, ingest); ``COMMANDS`` lists them once, and ``make_app`` only registers them.
Each command gets plain data from ``_commands`` and renders it: human text by default,
or with ``--format json`` exactly one JSON object on stdout; ``-o/--output`` only ever
names a file (the convention is in ``_cliout``). Errors are one line on stderr and exit
code 2 (bad input) or 1 (operation failed). Management commands never record.

CLI layer: nothing here imports the face (``Telemetry``); a host's mount comes in as a
``Mount`` (``_integration.mount_of``).
"""

import sys
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, NoReturn

import typer
from typer.core import TyperCommand

from . import _cli_run, _cli_share, _cli_store, _maintainer_cli
from ._cli_store import Mount
from ._cliout import OUTPUT_VERSION, Output, fail, old_output_spelling, wants_json
from ._limits import FLAG

__all__ = [
    "COMMANDS",
    "MOUNTED_COMMANDS",
    "OUTPUT_VERSION",
    "STANDALONE_COMMANDS",
    "Mount",
    "Output",
    "main",
    "make_app",
    "run_mounted",
]


class Command(NamedTuple):
    name: str
    callback: Callable[..., None]
    #: Also in a host's mounted group (``mycli telemetry NAME``), not only standalone.
    mounted: bool
    cls: type[TyperCommand] | None = None


#: Every command, in the order help lists them.
COMMANDS = (
    Command("status", _cli_store.status, mounted=True),
    Command("apps", _cli_store.apps, mounted=False),
    Command("list", _cli_store.list_, mounted=True),
    Command("show", _cli_store.show, mounted=True),
    Command("explain", _cli_store.explain, mounted=True),
    Command("schema", _cli_store.schema, mounted=True),
    Command("validate", _cli_store.validate, mounted=True),
    Command("purge", _cli_store.purge, mounted=True),
    Command("reset-key", _cli_store.reset_key, mounted=True),
    Command("export", _cli_share.export, mounted=True),
    Command("report", _maintainer_cli.report, mounted=False),
    Command("ingest", _maintainer_cli.ingest, mounted=False),
    Command("inspect", _maintainer_cli.inspect, mounted=False),
    Command("run", _cli_run.run, mounted=False, cls=_cli_run.RunCommand),
    Command("demo", _cli_run.demo, mounted=False),
)
#: What ``mycli telemetry`` offers in a host app, and what ``localtelemetry`` offers.
MOUNTED_COMMANDS = tuple(c.name for c in COMMANDS if c.mounted)
STANDALONE_COMMANDS = tuple(c.name for c in COMMANDS)


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
    for command in COMMANDS:
        if mount is None:
            app.command(command.name, cls=command.cls)(command.callback)
        elif command.mounted:
            app.command(command.name, cls=command.cls or MountedCommand)(command.callback)
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
    from ._cliout import use_host_settings

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
    run itself (``run`` with a plain command line goes to ``_runcmd`` without Typer)."""
    _invoke(make_app(None), sys.argv[1:], "localtelemetry")
