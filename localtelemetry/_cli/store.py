"""The management commands that read and manage one app's store: ``status``,
``apps``, ``list``, ``show``, ``explain``, ``schema``, ``validate``, ``purge`` and
``reset-key``; and ``Mount``, what every management command knows of the host app it
is mounted in. CLI layer: ``_cli`` registers these functions, they get plain data from
``_cli/commands`` and render it with ``_cli/render``/``_cli/output``.

Each command takes the click context: ``ctx.obj`` is the ``Mount`` when the commands
run as ``mycli telemetry ...`` (set by ``_cli.make_app``), None when standalone.
"""

import json
import os
import sys
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any, NamedTuple

import typer

from localtelemetry._contract import FLAG
from localtelemetry._contract.exceptions import UsageError
from localtelemetry._store import Limits, StoreLocation
from localtelemetry._store.store import Store

from . import commands as _commands
from . import render as _render
from .output import AppOption, FormatOption, KindOption, Output, emit, guard, width


class Mount(NamedTuple):
    """The host app whose ``telemetry`` group runs the management commands: what they
    need of its ``Telemetry``, handed down by the face (``_integration.mount_of``) so
    that the CLI never imports it."""

    app_name: str
    command: str
    flag: str
    location: StoreLocation
    limits: Limits
    environ: Mapping[str, str]
    now: Callable[[], datetime]


def mount_of(ctx: typer.Context) -> Mount | None:
    return ctx.obj if isinstance(ctx.obj, Mount) else None


def check_mounted_app(mount: Mount | None, app_name: str | None) -> None:
    if mount is not None and app_name and app_name != mount.app_name:
        raise UsageError(
            f"this is the {mount.command} group of {mount.app_name}; for app "
            f"{app_name!r} use 'localtelemetry COMMAND --app {app_name}'"
        )


def store_for(ctx: typer.Context, app_name: str | None) -> Store:
    """The store a command reads. Mounted, the app is known and its store may not
    exist yet (an empty store is fine); standalone, ``--app`` must name a store."""
    mount = mount_of(ctx)
    if mount is not None:
        check_mounted_app(mount, app_name)
        return Store(mount.location, limits=mount.limits)
    if not app_name:
        found = _commands.known_apps(os.environ)
        hint = f" (stores found: {', '.join(found)})" if found else ""
        raise UsageError(f"which app? pass --app NAME{hint}")
    return _commands.require_store(app_name, os.environ)


def app_for_format(ctx: typer.Context, app_name: str | None) -> str | None:
    """explain and schema describe the format every app shares and read no store;
    they take --app so a script can pass the same options to every command, and
    check it like the others so a typo is not silently accepted."""
    mount = mount_of(ctx)
    if mount is not None:
        check_mounted_app(mount, app_name)
        return mount.app_name
    if app_name:
        _commands.require_store(app_name, os.environ)
    return app_name or None


def environ_of(ctx: typer.Context) -> dict[str, str]:
    mount = mount_of(ctx)
    return dict(mount.environ if mount is not None else os.environ)


def now_of(ctx: typer.Context) -> datetime:
    mount = mount_of(ctx)
    return mount.now() if mount is not None else datetime.now(timezone.utc)


# -- the commands -------------------------------------------------------------------------


def status(ctx: typer.Context, app_name: AppOption = None, fmt: FormatOption = Output.text) -> None:
    """Where documents are stored, how many, the limits, the key id, active overrides."""
    mount = mount_of(ctx)

    def body() -> None:
        result = _commands.status(
            store_for(ctx, app_name),
            environ_of(ctx),
            configured=mount is not None,
            flag=mount.flag if mount is not None else FLAG,
        )
        emit(fmt, "status", result, _render.status_text(result, width()))

    guard(fmt, "status", body)


def apps(fmt: FormatOption = Output.text) -> None:
    """List the apps that have a store: documents, size, newest document."""

    def body() -> None:
        result = _commands.apps(os.environ)
        emit(fmt, "apps", result, _render.apps_text(result, width()))

    guard(fmt, "apps", body)


def list_(
    ctx: typer.Context,
    app_name: AppOption = None,
    kind: KindOption = None,
    run: Annotated[
        str | None, typer.Option(help="Only documents of this run id (or prefix).")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Only newer than this: 7d, 12h, 30m or a date.")
    ] = None,
    limit: Annotated[int, typer.Option(help="Show at most this many (newest); 0 for all.")] = 50,
    fmt: FormatOption = Output.text,
) -> None:
    """List recorded documents, oldest first."""

    def body() -> None:
        when = _commands.parse_when(since, now_of(ctx)) if since else None
        if limit < 0:
            raise UsageError("--limit must be 0 or more")
        result = _commands.list_documents(
            store_for(ctx, app_name), kind=kind, run=run, since=when, limit=limit or None
        )
        emit(fmt, "list", result, _render.list_text(result, width()))

    guard(fmt, "list", body)


def show(
    ctx: typer.Context,
    document_id: Annotated[
        str, typer.Argument(metavar="ID", help="A document id, unique prefix or file name.")
    ],
    app_name: AppOption = None,
    fmt: FormatOption = Output.text,
) -> None:
    """Print one document exactly as stored."""

    def body() -> None:
        result = _commands.show(store_for(ctx, app_name), document_id)
        emit(fmt, "show", result, json.dumps(result["document"], indent=2))

    guard(fmt, "show", body)


def explain(
    ctx: typer.Context,
    kind: Annotated[str | None, typer.Argument(help="A document kind; all when omitted.")] = None,
    app_name: AppOption = None,
    fmt: FormatOption = Output.text,
) -> None:
    """Every field each document kind can contain, read from the schemas themselves."""

    def body() -> None:
        _commands.check_kind(kind)
        result = {"app": app_for_format(ctx, app_name), **_commands.explain(kind)}
        emit(fmt, "explain", result, _render.explain_text(result, width()))

    guard(fmt, "explain", body)


def schema(
    ctx: typer.Context,
    kind: Annotated[
        str | None,
        typer.Argument(help="A document kind, 'envelope' or 'manifest'; all when omitted."),
    ] = None,
    app_name: AppOption = None,
    fmt: FormatOption = Output.text,
) -> None:
    """Print the JSON Schema of a document kind."""

    def body() -> None:
        from localtelemetry._contract.schemas import ENVELOPE, MANIFEST, all_schemas, load_schema

        app_for_format(ctx, app_name)
        if kind is None:
            result: dict[str, Any] = {"schemas": all_schemas()}
            text = json.dumps(result["schemas"], indent=2)
        else:
            if kind not in (ENVELOPE, MANIFEST):
                _commands.check_kind(kind)
            result = {"schema": load_schema(kind)}
            text = json.dumps(result["schema"], indent=2)
        emit(fmt, "schema", result, text)

    guard(fmt, "schema", body)


def validate(
    ctx: typer.Context,
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Files, or directories (searched 4 levels deep); the store when omitted."
        ),
    ] = None,
    app_name: AppOption = None,
    fmt: FormatOption = Output.text,
) -> None:
    """Check documents against the schemas (the store's, or the PATHS given instead).
    Exit code 1 if any is invalid."""

    def body() -> None:
        store = None if paths else store_for(ctx, app_name)
        result = _commands.validate(store, list(paths or []))
        emit(fmt, "validate", result, _render.validate_text(result, width()))
        if result["invalid"]:
            raise typer.Exit(1)

    guard(fmt, "validate", body)


def purge(
    ctx: typer.Context,
    app_name: AppOption = None,
    older_than: Annotated[
        str | None, typer.Option(help="Only documents older than this: 30d, 12h, ...")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    fmt: FormatOption = Output.text,
) -> None:
    """Delete recorded documents (all, or --older-than). Asks first unless --yes."""

    def body() -> None:
        store = store_for(ctx, app_name)
        age = _commands.parse_duration(older_than) if older_than else None
        moment = now_of(ctx)
        if not yes:
            count = _commands.purge_candidates(store, older_than=age, now=moment)
            if fmt is Output.json or not sys.stdin.isatty():
                raise UsageError(
                    "purge deletes documents: pass --yes to confirm when not interactive"
                )
            if count == 0:
                emit(
                    fmt, "purge", {"removed": 0, "store": str(store.directory)}, "nothing to delete"
                )
                return
            what = _render.plural(count, "document")
            if not typer.confirm(f"Delete {what} from {store.directory}?"):
                raise UsageError("cancelled; nothing was deleted")
        result = _commands.purge(store, older_than=age, now=moment)
        removed = _render.plural(result["removed"], "document")
        emit(fmt, "purge", result, f"removed {removed} from {result['store']}")

    guard(fmt, "purge", body)


def reset_key(
    ctx: typer.Context, app_name: AppOption = None, fmt: FormatOption = Output.text
) -> None:
    """Replace the hashing key: hashes from now on cannot be linked to earlier ones."""

    def body() -> None:
        result = _commands.reset_key(store_for(ctx, app_name))
        old = result["old_key_id"] or "none"
        emit(fmt, "reset-key", result, f"new key id {result['new_key_id']} (was {old})")

    guard(fmt, "reset-key", body)


#: This module's commands, in the order help lists them (``_cli``).
COMMANDS = (status, apps, list_, show, explain, schema, validate, purge, reset_key)
