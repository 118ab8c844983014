"""The management commands, mounted in a host app as ``mycli telemetry ...`` and
standalone as ``localtelemetry ... --app NAME`` (also ``python -m localtelemetry``).

Each command gets plain data from ``_commands`` and renders it: human text by
default, or with ``--format json`` exactly one JSON object on stdout; ``-o/--output``
only ever names a file (the convention is in ``_cliout``). Errors are one line on
stderr and exit code 2 (bad input) or 1 (operation failed). Management commands never
record.
"""

import json
import os
import sys
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, Optional

import typer

from . import _commands, _ids, _render
from ._cliout import (
    OLD_FORMAT_WORDS,
    OUTPUT_VERSION,
    Output,
    file_option,
    old_output_spelling,
    wants_json,
)
from ._cliout import emit as _emit
from ._cliout import fail as _fail
from ._cliout import guard as _guard
from ._cliout import width as _width
from ._exceptions import UsageError
from ._location import KINDS
from ._store import Store
from ._telemetry import FLAG

if TYPE_CHECKING:
    from ._telemetry import Telemetry

__all__ = ["OUTPUT_VERSION", "Output", "_emit", "_fail", "_guard", "main", "make_app"]

FormatOption = Annotated[
    Output,
    typer.Option("--format", help="text for people, json for exactly one JSON object on stdout."),
]
KindOption = Annotated[
    Optional[str],  # noqa: UP045 - typer needs the runtime type on Python 3.10
    typer.Option("--kind", "-k", help=f"Only this kind: {', '.join(KINDS)}."),
]


def output_file(value: str | None) -> Path | None:
    """The file named by ``-o``. ``-o json`` once chose the format: a bare format word
    is refused with the new spelling (``-o ./json`` writes a file of that name)."""
    if value is None:
        return None
    if value in OLD_FORMAT_WORDS:
        message = old_output_spelling(["-o", value])
        assert message is not None
        raise UsageError(message)
    return Path(value)


def make_app(bound: "Telemetry | None") -> typer.Typer:
    """The management CLI; ``bound`` is the host's Telemetry when mounted."""
    mounted = bound is not None
    flag = bound.flag if bound is not None else FLAG
    app = typer.Typer(
        name=bound.command if bound is not None else "localtelemetry",
        help=(
            f"Inspect and manage the diagnostics this app recorded locally with {flag}. "
            "Nothing is ever sent anywhere."
            if mounted
            else "localtelemetry: opt-in, local-only diagnostics for command-line tools. "
            "Manage the documents an app recorded (--app NAME), or run the demo."
        ),
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
    )
    app_help = "The app whose store to use (its name as registered with Telemetry)."
    AppOption = Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--app", help=app_help, hidden=mounted, envvar="LOCALTELEMETRY_APP"),
    ]

    def store_for(app_name: str | None) -> Store:
        """The store a command reads. Mounted, the app is known and its store may not
        exist yet (an empty store is fine); standalone, ``--app`` must name a store."""
        if bound is not None:
            check_mounted_app(app_name)
            return Store(bound.location, limits=bound.limits)
        if not app_name:
            found = _commands.known_apps(os.environ)
            hint = f" (stores found: {', '.join(found)})" if found else ""
            raise UsageError(f"which app? pass --app NAME{hint}")
        return _commands.require_store(app_name, os.environ)

    def check_mounted_app(app_name: str | None) -> None:
        if bound is not None and app_name and app_name != bound.app_name:
            raise UsageError(
                f"this is the {bound.command} group of {bound.app_name}; for app "
                f"{app_name!r} use 'localtelemetry COMMAND --app {app_name}'"
            )

    def app_for_format(app_name: str | None) -> str | None:
        """explain and schema describe the format every app shares and read no store;
        they take --app so a script can pass the same options to every command, and
        check it like the others so a typo is not silently accepted."""
        if bound is not None:
            check_mounted_app(app_name)
            return bound.app_name
        if app_name:
            _commands.require_store(app_name, os.environ)
        return app_name or None

    def environ() -> dict[str, str]:
        return dict(bound.environ if bound is not None else os.environ)

    def now() -> Any:
        return bound._now() if bound is not None else datetime.now(timezone.utc)

    @app.command()
    def status(app_name: AppOption = None, fmt: FormatOption = Output.text) -> None:
        """Where documents are stored, how many, the limits, the key id, active overrides."""

        def body() -> None:
            result = _commands.status(store_for(app_name), environ(), configured=mounted, flag=flag)
            _emit(fmt, "status", result, _render.status_text(result, _width()))

        _guard(fmt, "status", body)

    if not mounted:

        @app.command()
        def apps(fmt: FormatOption = Output.text) -> None:
            """List the apps that have a store: documents, size, newest document."""

            def body() -> None:
                result = _commands.apps(os.environ)
                _emit(fmt, "apps", result, _render.apps_text(result, _width()))

            _guard(fmt, "apps", body)

    @app.command("list")
    def list_(
        app_name: AppOption = None,
        kind: KindOption = None,
        run: Annotated[
            str | None, typer.Option(help="Only documents of this run id (or prefix).")
        ] = None,
        since: Annotated[
            str | None, typer.Option(help="Only newer than this: 7d, 12h, 30m or a date.")
        ] = None,
        limit: Annotated[
            int, typer.Option(help="Show at most this many (newest); 0 for all.")
        ] = 50,
        fmt: FormatOption = Output.text,
    ) -> None:
        """List recorded documents, oldest first."""

        def body() -> None:
            when = _commands.parse_when(since, now()) if since else None
            if limit < 0:
                raise UsageError("--limit must be 0 or more")
            result = _commands.list_documents(
                store_for(app_name), kind=kind, run=run, since=when, limit=limit or None
            )
            _emit(fmt, "list", result, _render.list_text(result, _width()))

        _guard(fmt, "list", body)

    @app.command()
    def show(
        document_id: Annotated[
            str, typer.Argument(metavar="ID", help="A document id, unique prefix or file name.")
        ],
        app_name: AppOption = None,
        fmt: FormatOption = Output.text,
    ) -> None:
        """Print one document exactly as stored."""

        def body() -> None:
            result = _commands.show(store_for(app_name), document_id)
            _emit(fmt, "show", result, json.dumps(result["document"], indent=2))

        _guard(fmt, "show", body)

    @app.command()
    def explain(
        kind: Annotated[
            str | None, typer.Argument(help="A document kind; all when omitted.")
        ] = None,
        app_name: AppOption = None,
        fmt: FormatOption = Output.text,
    ) -> None:
        """Every field each document kind can contain, read from the schemas themselves."""

        def body() -> None:
            _commands.check_kind(kind)
            result = {"app": app_for_format(app_name), **_commands.explain(kind)}
            _emit(fmt, "explain", result, _render.explain_text(result, _width()))

        _guard(fmt, "explain", body)

    @app.command()
    def schema(
        kind: Annotated[
            str | None,
            typer.Argument(help="A document kind, 'envelope' or 'manifest'; all when omitted."),
        ] = None,
        app_name: AppOption = None,
        fmt: FormatOption = Output.text,
    ) -> None:
        """Print the JSON Schema of a document kind."""

        def body() -> None:
            from ._schemas import ENVELOPE, MANIFEST, all_schemas, load_schema

            app_for_format(app_name)
            if kind is None:
                result: dict[str, Any] = {"schemas": all_schemas()}
                text = json.dumps(result["schemas"], indent=2)
            else:
                if kind not in (ENVELOPE, MANIFEST):
                    _commands.check_kind(kind)
                result = {"schema": load_schema(kind)}
                text = json.dumps(result["schema"], indent=2)
            _emit(fmt, "schema", result, text)

        _guard(fmt, "schema", body)

    @app.command()
    def validate(
        paths: Annotated[
            list[Path] | None,
            typer.Argument(help="Files or directories; the store when omitted."),
        ] = None,
        app_name: AppOption = None,
        fmt: FormatOption = Output.text,
    ) -> None:
        """Check documents against the schemas (the store's, or the PATHS given instead).
        Exit code 1 if any is invalid."""

        def body() -> None:
            store = None if paths else store_for(app_name)
            result = _commands.validate(store, list(paths or []))
            _emit(fmt, "validate", result, _render.validate_text(result, _width()))
            if result["invalid"]:
                raise typer.Exit(1)

        _guard(fmt, "validate", body)

    @app.command()
    def purge(
        app_name: AppOption = None,
        older_than: Annotated[
            str | None, typer.Option(help="Only documents older than this: 30d, 12h, ...")
        ] = None,
        yes: Annotated[
            bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")
        ] = False,
        fmt: FormatOption = Output.text,
    ) -> None:
        """Delete recorded documents (all, or --older-than). Asks first unless --yes."""

        def body() -> None:
            store = store_for(app_name)
            age = _commands.parse_duration(older_than) if older_than else None
            moment = now()
            if not yes:
                count = _commands.purge_candidates(store, older_than=age, now=moment)
                if fmt is Output.json or not sys.stdin.isatty():
                    raise UsageError(
                        "purge deletes documents: pass --yes to confirm when not interactive"
                    )
                if count == 0:
                    _emit(
                        fmt,
                        "purge",
                        {"removed": 0, "store": str(store.directory)},
                        "nothing to delete",
                    )
                    return
                what = _render.plural(count, "document")
                if not typer.confirm(f"Delete {what} from {store.directory}?"):
                    raise UsageError("cancelled; nothing was deleted")
            result = _commands.purge(store, older_than=age, now=moment)
            removed = _render.plural(result["removed"], "document")
            _emit(fmt, "purge", result, f"removed {removed} from {result['store']}")

        _guard(fmt, "purge", body)

    @app.command("reset-key")
    def reset_key(app_name: AppOption = None, fmt: FormatOption = Output.text) -> None:
        """Replace the hashing key: hashes from now on cannot be linked to earlier ones."""

        def body() -> None:
            result = _commands.reset_key(store_for(app_name))
            old = result["old_key_id"] or "none"
            _emit(fmt, "reset-key", result, f"new key id {result['new_key_id']} (was {old})")

        _guard(fmt, "reset-key", body)

    @app.command()
    def export(
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
        keep_hashes: Annotated[
            bool,
            typer.Option(
                "--keep-hashes",
                help="Keep the stored hashes, ids and times instead of making new ones for "
                "this bundle (bundles become linkable to each other, and reproducible byte "
                "for byte).",
            ),
        ] = False,
        force: Annotated[
            bool, typer.Option("--force", help="Overwrite the output file if it exists.")
        ] = False,
        redact: Annotated[
            list[str] | None,
            typer.Option(
                "--redact",
                metavar="WORD",
                help="Also remove this word (3+ characters, any case) wherever it appears "
                "in the bundle (repeatable).",
            ),
        ] = None,
        redact_file: Annotated[
            list[Path] | None,
            typer.Option(
                "--redact-file",
                metavar="FILE",
                help="Words to remove, one per line; 're:' starts a regular expression, "
                "'#' a comment.",
            ),
        ] = None,
        no_messages: Annotated[
            bool,
            typer.Option("--no-messages", help="Leave every free-text field (messages) out."),
        ] = False,
        fmt: FormatOption = Output.text,
    ) -> None:
        """Redact the recorded documents once more and zip them to share by hand."""

        def body() -> None:
            bundle_file = output_file(output)
            from ._export import Redaction, Selection
            from ._export import export as run_export
            from ._export import preview as run_preview

            redaction = Redaction.from_options(
                redact or [], redact_file or [], messages=not no_messages, environ=environ()
            )

            store = store_for(app_name)
            kinds = tuple(kind) if kind else KINDS
            for k in kinds:
                _commands.check_kind(k)
            moment = now()
            selection = Selection(
                kinds=tuple(k for k in KINDS if k in kinds),
                since=_commands.parse_when(since, moment) if since else None,
                run=run,
            )
            if run is not None and not _ids.is_id_prefix(run.lower()):
                raise UsageError(f"{run!r} is not a run id; 'list' shows them")
            if preview:
                result = run_preview(
                    store,
                    selection=selection,
                    keep_hashes=keep_hashes,
                    now=moment,
                    redaction=redaction,
                )
                summaries = [
                    f"  {d['kind']:<12} {d['id']}  {_commands.summary_of(d)}"
                    for d in result["documents"]
                ]
                _emit(
                    fmt,
                    "export",
                    {"preview": True, **result},
                    _render.preview_text(result, summaries),
                )
                return
            result = run_export(
                store,
                target=bundle_file,
                force=force,
                selection=selection,
                keep_hashes=keep_hashes,
                now=moment,
                progress=_progress_bar() if fmt is Output.text else None,
                redaction=redaction,
            )
            _emit(fmt, "export", result, _render.export_text(result))

        _guard(fmt, "export", body)

    if not mounted:
        from ._maintainer_cli import add_maintainer_commands

        add_maintainer_commands(app)

        @app.command()
        def inspect(
            bundle: Annotated[Path, typer.Argument(help="A bundle made by 'telemetry export'.")],
            extract: Annotated[
                Path | None,
                typer.Option(
                    "--extract",
                    metavar="DIR",
                    help="After verifying, write the documents into DIR (nothing else is "
                    "ever written).",
                ),
            ] = None,
            fmt: FormatOption = Output.text,
        ) -> None:
            """Verify a bundle (manifest, digests, schemas; hostile input refused) and
            summarise it."""

            def body() -> None:
                from ._bundle import extract as run_extract
                from ._inspect import inspect_bundle

                result = inspect_bundle(bundle)
                text = _render.inspect_text(result)
                if extract is not None:
                    result["extracted"] = run_extract(bundle, extract)
                    extracted = _render.plural(result["extracted"], "file")
                    text += f"\n\nextracted {extracted} into {extract}"
                _emit(fmt, "inspect", result, text)

            _guard(fmt, "inspect", body)

        from typer.core import TyperCommand

        run_meta_key = "localtelemetry.run.command"

        class RunCommand(TyperCommand):
            """Splits the command line at the first ``--`` before the parser sees it:
            everything after it belongs to the child, untouched, and the parser alone
            could not tell whether a ``--`` was there (it is required). ``ctx`` is
            typed loosely because typer's click may be vendored or the real one."""

            def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
                if "--" in args:
                    cut = args.index("--")
                    ctx.meta[run_meta_key] = args[cut + 1 :]
                    return super().parse_args(ctx, args[:cut])
                # No '--': the command reports that as a usage error; only --help still
                # gets parsed, so that 'run --help' shows the help.
                ctx.meta[run_meta_key] = None
                return super().parse_args(ctx, [a for a in args if a == "--help"])

            def collect_usage_pieces(self, ctx: Any) -> list[str]:
                return [*super().collect_usage_pieces(ctx), "--", "CMD", "[ARGS]..."]

        @app.command("run", cls=RunCommand)
        def run(
            ctx: typer.Context,
            telemetry: Annotated[
                bool,
                typer.Option(
                    "--telemetry", help="Record this run (a cli-command and a run-summary)."
                ),
            ] = False,
            app_name: Annotated[
                str | None,
                typer.Option(
                    "--app",
                    metavar="NAME",
                    help="The store to record into (default: the program's base name if "
                    "PATH finds the program, else run-<hash>).",
                ),
            ] = None,
            keep_word: Annotated[
                Optional[list[str]],  # noqa: UP045
                typer.Option(
                    "--keep-word",
                    metavar="WORD",
                    help="Keep WORD in clear as a subcommand or option name (repeatable).",
                ),
            ] = None,
            fmt: Annotated[
                Output,
                typer.Option(
                    "--format",
                    help="json: one JSON object about the run (exit code, documents "
                    "recorded) on stderr after the program ends, or into -o FILE; stdout "
                    "stays the program's.",
                ),
            ] = Output.text,
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
            from ._runcmd import RunOptions, execute

            options = RunOptions(
                ctx.meta.get(run_meta_key),
                telemetry=telemetry,
                app_name=app_name,
                keep_word=keep_word,
                fmt=fmt.value,
                output=output,
                force=force,
            )
            raise typer.Exit(execute(options))

        @app.command()
        def demo(
            directory: Annotated[
                Path | None,
                typer.Option(
                    "--dir",
                    help="Store base directory for the demo (default: the normal per-user store).",
                ),
            ] = None,
            fmt: FormatOption = Output.text,
        ) -> None:
            """Run the bundled example CLI a few times with --telemetry and show the result."""

            def body() -> None:
                from ._demo import run_demo

                result, text = run_demo(directory)
                _emit(fmt, "demo", result, text)

            _guard(fmt, "demo", body)

    return app


def _progress_bar() -> Callable[[int, int], None] | None:
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
            _fail(Output.json if wants_json(args) else Output.text, "usage", old, 2)
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
            _fail(output, "usage", message, code)
        except typer.Exit as done:
            sys.exit(done.exit_code)
    except (KeyboardInterrupt, EOFError):
        sys.stderr.write("error: interrupted\n")
        sys.exit(130)
    sys.exit(result if isinstance(result, int) else 0)


def run_mounted(
    telemetry: "Telemetry",
    args: list[str],
    prog_name: str,
    settings: Mapping[str, Any] | None = None,
) -> NoReturn:
    _invoke(make_app(telemetry), args, prog_name, settings)


def main() -> None:
    """The management CLI as the console script runs it (``__main__.main``). ``run``
    goes to the wrapper without building the Typer app when its command line is plain
    (``_runcmd``), as from the console script."""
    args = sys.argv[1:]
    if args[:1] == ["run"]:
        from ._runcmd import fast_run

        code = fast_run(args[1:])
        if code is not None:
            sys.exit(code)
    _invoke(make_app(None), args, "localtelemetry")
