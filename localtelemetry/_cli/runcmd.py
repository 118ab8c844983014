"""``localtelemetry run``: what the command does, and its command line read without Typer.

``localtelemetry run -- CMD`` is a process its user waits for on every call, and
importing Typer (with the pydantic it loads to convert option values) and building the
whole management CLI used to cost it about 150 ms (issue 14). So the console script
(``__main__.main``) hands ``run`` to ``fast_run`` first: a small parser that reads the
command lines it fully understands and runs the wrapper directly, importing neither
Typer nor Click. Anything else, such as ``--help``, a missing ``--``, an unknown option,
an option without its value or a value the option does not take, returns None, and
the Typer CLI handles it as before, with its help and its error messages.

Both ways end in ``execute``: the Typer command ``run`` (``_cli``) calls it too, so the
two cannot drift apart. ``tests/test_run_fast.py`` checks that for every command line
the parser accepts, it finds the same options Typer does.
"""

from __future__ import annotations

import sys
import time

from localtelemetry._contract.exceptions import LocalTelemetryError, UsageError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy knows it)
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

USAGE = "localtelemetry run [--telemetry] [--app NAME] [--format json] [-o FILE] -- CMD [ARGS...]"
#: The values of ``--format`` (``_cli/output.Output``), exactly as Typer's choice takes them.
FORMATS = ("text", "json")
#: Words ``-o`` once took as a format: the Typer CLI explains the new spelling.
_OLD_FORMAT_WORDS = ("json", "text", "html")
_FLAGS = {"--telemetry": "telemetry", "--force": "force"}
_VALUED = {"--app": "app_name", "--format": "fmt", "--output": "output", "-o": "output"}


class RunOptions:
    """``run``'s options, as the Typer command receives them. An option that was not
    given keeps the class's default; ``parse`` and the Typer command set the rest."""

    telemetry: bool = False
    app_name: str | None = None
    keep_word: list[str] | None = None
    fmt: str = "text"  # one of FORMATS
    output: str | None = None
    force: bool = False
    FIELDS = ("app_name", "command", "fmt", "force", "keep_word", "output", "telemetry")

    def __init__(self, command: list[str] | None, **given: Any) -> None:
        #: What follows the first ``--``; None when there is no ``--``.
        self.command = command
        unknown = sorted(set(given) - set(self.FIELDS))
        if unknown:
            raise TypeError(f"not an option of run: {', '.join(unknown)}")
        self.__dict__.update(given)

    def as_dict(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.FIELDS}


def parse(args: list[str]) -> RunOptions | None:
    """``run``'s options from ``args`` (what follows ``run``), as Typer would read them,
    or None when this parser does not handle the command line (the Typer CLI then
    does). An option given twice keeps its last value, as click does."""
    if "--" not in args:
        return None  # usage error, or --help: Typer says it
    cut = args.index("--")
    options = RunOptions(args[cut + 1 :])
    head = args[:cut]
    i = 0
    while i < len(head):
        arg = head[i]
        i += 1
        if arg in _FLAGS:
            setattr(options, _FLAGS[arg], True)
            continue
        if arg == "--keep-word" or arg.startswith("--keep-word="):
            name = "keep_word"
        elif arg.startswith("-o") and arg not in _VALUED:
            name, arg = "output", "-o=" + arg[2:]  # -oFILE
        else:
            name = _VALUED.get(arg.partition("=")[0] if arg.startswith("--") else arg, "")
            if not name:
                return None  # unknown option, --help, or an argument before '--'
        if "=" in arg:
            value = arg.partition("=")[2]
        elif i < len(head) and not head[i].startswith("-"):
            value = head[i]
            i += 1
        else:
            return None  # no value, or one that looks like an option: Typer decides
        if name == "fmt" and value not in FORMATS:
            return None
        if name == "output" and value in _OLD_FORMAT_WORDS:
            return None  # '-o json': the Typer CLI gives the new spelling
        if name == "keep_word":
            options.keep_word = [*(options.keep_word or []), value]
        else:
            setattr(options, name, value)
    return options


def fast_run(args: list[str]) -> int | None:
    """Run ``localtelemetry run ARGS`` without Typer; the exit code, or None when the
    Typer CLI must handle this command line."""
    options = parse(args)
    if options is None:
        return None
    try:
        return execute(options)
    except (KeyboardInterrupt, EOFError):  # as the Typer CLI says it
        sys.stderr.write("error: interrupted\n")
        return 130


def execute(options: RunOptions) -> int:
    """Run the command and deliver the result; returns the exit code. A usage error is
    one line on stderr (and, with ``--format json``, an error envelope there too)."""
    from .wrap import run_command

    command = options.command
    as_json = options.fmt == "json"
    code = 0
    written: list[Path] = []
    try:
        if command is None:
            raise UsageError(f"put '--' before the command to run: {USAGE}")
        if not command:
            raise UsageError(f"no command after '--': {USAGE}")
        target = None
        if options.output is not None:  # -o: _cliout and pathlib only then
            from localtelemetry._store.outfile import check_target

            from .output import output_file

            target = output_file(options.output)
            if target is not None:
                check_target(target, force=options.force, option="-o")
        started = time.perf_counter()
        code = run_command(
            command,
            telemetry=options.telemetry,
            app_name=options.app_name,
            keep_words=options.keep_word or (),
            # Only the result needs the documents' paths (observing loads pathlib).
            observers=[lambda path, data: written.append(path)]
            if as_json or target is not None
            else None,
        )
        if as_json or target is not None:
            result = _result(command, options.app_name, code, written, started)
            _deliver(as_json, result, target, options.force)
    except LocalTelemetryError as exc:
        sys.stderr.write(f"error: {exc}\n")
        if as_json:
            from .output import error_envelope

            sys.stderr.write(error_envelope("run", str(exc), exc.exit_code))
        return exc.exit_code
    except OSError as exc:  # the -o file could not be written: the program ran
        where = f" ({exc.filename})" if exc.filename else ""
        sys.stderr.write(f"error: {exc.strerror or exc}{where}\n")
    return code


def _result(
    command: list[str], app_name: str | None, code: int, written: list[Path], started: float
) -> dict[str, Any]:
    """What ``run --format json`` reports: the exit code and what was recorded."""
    import json

    from localtelemetry._store import document_name

    from .wrap import default_app_name

    documents = []
    run_id = None
    recorded_app = None  # a program not found on PATH records under run-<hash>
    for path in written:
        named = document_name(path.name)
        if named is None:
            continue
        documents.append({"kind": named[0], "id": named[1], "file": str(path)})
        if run_id is None:
            try:
                first = json.loads(path.read_bytes())
                run_id = first.get("run_id")
                recorded_app = first.get("app", {}).get("name")
            except (OSError, ValueError, AttributeError):
                run_id = None
    return {
        "exit_code": code,
        "app": app_name or recorded_app or default_app_name(command[0]),
        "recorded": bool(documents),
        "run_id": run_id,
        "documents": documents,
        "store": str(written[0].parent) if written else None,
        "duration_ms": round((time.perf_counter() - started) * 1000, 3),
    }


def _text(result: dict[str, Any]) -> str:
    if not result["recorded"]:
        return f"exit code {result['exit_code']}; nothing recorded"
    count = len(result["documents"])
    documents = f"{count} document" if count == 1 else f"{count} documents"
    return (
        f"exit code {result['exit_code']}; recorded {documents} of run {result['run_id']} "
        f"in {result['store']}"
    )


def _deliver(as_json: bool, result: dict[str, Any], target: Path | None, force: bool) -> None:
    """To the -o file, or (JSON only) to stderr: stdout belongs to the program."""
    from .output import Output, render

    text = render(Output.json if as_json else Output.text, "run", result, _text(result))
    if target is None:
        sys.stderr.write(text)
        sys.stderr.flush()
        return
    from localtelemetry._store.outfile import new_file

    with new_file(target, force=force, mode=0o644, doing="running") as fh:
        fh.write(text.encode("utf-8"))


__all__ = ["FORMATS", "USAGE", "RunOptions", "execute", "fast_run", "parse"]
