"""What every command of the management and maintainer CLIs shares: the option
convention, the output envelope, the error guard and the width of human output.

The convention (docs/user-guide.md, "Common options"; tests/test_cli_convention.py
walks the command tree to hold every command to it):

- ``--format text|json`` chooses what goes to stdout: text for people, or exactly one
  JSON object (the envelope below). ``report`` also knows ``html``.
- ``-o/--output FILE`` only ever names a file; ``-o json`` (the old spelling of
  ``--format json``) is refused with a line that gives the new one.
- ``--app NAME`` wherever a command reads a store.

The option types (``FormatOption``, ``AppOption``, ``KindOption``) are built with Typer
on first use (``__getattr__`` below): ``localtelemetry run`` renders its result with
this module and never imports Typer.
"""

from __future__ import annotations

import enum
import json
import os
import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from localtelemetry._contract.exceptions import LocalTelemetryError, UsageError

if TYPE_CHECKING:
    from pathlib import Path

OUTPUT_VERSION = 1
FORMAT_HELP = "text for people, json for exactly one JSON object on stdout."
#: Words that ``-o/--output`` once took as a format; now they only get a hint.
OLD_FORMAT_WORDS = ("json", "text", "html")


class Output(str, enum.Enum):
    text = "text"
    json = "json"


def emit(output: Output, command: str, result: dict[str, Any], text: str) -> None:
    sys.stdout.write(render(output, command, result, text))


def render(output: Output, command: str, result: dict[str, Any], text: str) -> str:
    """What ``emit`` prints: the envelope with ``--format json``, else ``text``."""
    if output is Output.json:
        envelope = {
            "localtelemetry": OUTPUT_VERSION,
            "command": command,
            "ok": True,
            "result": result,
        }
        return json.dumps(envelope, indent=2, sort_keys=False) + "\n"
    return text + "\n"


def error_envelope(command: str, message: str, code: int) -> str:
    envelope = {
        "localtelemetry": OUTPUT_VERSION,
        "command": command,
        "ok": False,
        "error": {"message": message, "exit_code": code},
    }
    return json.dumps(envelope, indent=2) + "\n"


def fail(output: Output, command: str, message: str, code: int) -> NoReturn:
    import typer  # on use: `localtelemetry run` renders its result without Typer

    sys.stderr.write(f"error: {message}\n")
    if output is Output.json:
        sys.stdout.write(error_envelope(command, message, code))
    raise typer.Exit(code)


def file_option(help_text: str) -> Any:
    """``-o/--output FILE``: the one spelling of an output file, on every command."""
    import typer

    return typer.Option("--output", "-o", metavar="FILE", help=help_text)


def output_file(value: str | None) -> Path | None:
    """The file named by ``-o``. ``-o json`` once chose the format: a bare format word
    is refused with the new spelling (``-o ./json`` writes a file of that name)."""
    if value is None:
        return None
    if value in OLD_FORMAT_WORDS:
        message = old_output_spelling(["-o", value])
        assert message is not None
        raise UsageError(message)
    from pathlib import Path  # on use: `localtelemetry run` without -o needs no pathlib

    return Path(value)


def guard(output: Output, command: str, body: Callable[[], None]) -> None:
    try:
        body()
    except LocalTelemetryError as exc:
        fail(output, command, str(exc), exc.exit_code)
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        fail(output, command, f"{exc.strerror or exc}{where}", 1)


# -- option types shared by the commands ---------------------------------------------

APP_HELP = "The app whose store to use (its name as registered with Telemetry)."

if TYPE_CHECKING:  # what the options hold (Annotated[X, ...] is X to a type checker)
    FormatOption = Output
    AppOption = str | None
    KindOption = str | None


def __getattr__(name: str) -> Any:
    """``FormatOption``, ``AppOption`` and ``KindOption``, made with Typer on first use."""
    if name not in ("FormatOption", "AppOption", "KindOption"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from typing import Annotated, Optional

    import typer

    from localtelemetry._store import KINDS

    made = {
        "FormatOption": Annotated[Output, typer.Option("--format", help=FORMAT_HELP)],
        "AppOption": Annotated[
            Optional[str],  # noqa: UP045 - typer needs the runtime type on Python 3.10
            # Hidden in a host's mounted group, where the app is known (``_cli``).
            typer.Option("--app", help=APP_HELP, envvar="LOCALTELEMETRY_APP"),
        ],
        "KindOption": Annotated[
            Optional[str],  # noqa: UP045
            typer.Option("--kind", "-k", help=f"Only this kind: {', '.join(KINDS)}."),
        ],
    }
    globals().update(made)
    return made[name]


# -- the old spelling ---------------------------------------------------------------------


def old_output_spelling(args: Sequence[str]) -> str | None:
    """The message for ``-o json`` / ``--output json`` (and ``text``, ``html``) before a
    ``--``; None when the command line does not use it."""
    for i, arg in enumerate(args):
        if arg == "--":
            return None
        if arg in ("-o", "--output") and i + 1 < len(args):
            word, typed = args[i + 1], f"{arg} {args[i + 1]}"
        elif arg.startswith("--output="):
            word, typed = arg[len("--output=") :], arg
        elif arg.startswith("-o") and not arg.startswith("--"):
            word, typed = arg[2:], arg
        else:
            continue
        if word in OLD_FORMAT_WORDS:
            return (
                f"'{typed}' is now spelled '--format {word}': -o/--output only names a file "
                f"(for a file named {word}, write -o ./{word})"
            )
    return None


def wants_json(args: Sequence[str]) -> bool:
    """Whether the command line asked for JSON (for errors found while parsing it)."""
    head = list(args[: args.index("--")] if "--" in args else args)
    for i, arg in enumerate(head):
        if arg in ("--format=json", "--output=json", "-ojson"):
            return True
        if arg in ("--format", "--output", "-o") and i + 1 < len(head) and head[i + 1] == "json":
            return True
    return False


# -- width of human output ------------------------------------------------------------------

_HOST_SETTINGS: dict[str, Any] = {}


def use_host_settings(settings: Mapping[str, Any]) -> None:
    """The mounted group's context settings, taken over from the host's command."""
    _HOST_SETTINGS.clear()
    _HOST_SETTINGS.update(settings)


def width() -> int | None:
    """Columns for human output, or None not to wrap: the host's ``terminal_width`` when
    mounted in an app that sets it, else ``COLUMNS``, else the terminal's width when
    stdout is a terminal (output into a pipe or a file is not wrapped, so ``grep`` sees
    whole lines); at most the host's ``max_content_width``; never below 40."""
    columns = _HOST_SETTINGS.get("terminal_width")
    if not columns:
        value = os.environ.get("COLUMNS", "").strip()
        if value.isdigit() and int(value) > 0:
            columns = int(value)
        else:
            try:
                if not sys.stdout.isatty():
                    return None
                columns = shutil.get_terminal_size().columns
            except (AttributeError, ValueError, OSError):
                return None
    cap = _HOST_SETTINGS.get("max_content_width")
    if cap:
        columns = min(columns, cap)
    return max(40, int(columns))
