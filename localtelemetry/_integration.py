"""Hooking ``--telemetry`` into Typer apps and Click commands.

The root command gets a subclass whose ``main`` removes ``--telemetry`` from anywhere in
argv before a ``--`` (so ``mycli --telemetry build`` and ``mycli build --telemetry``
both work, and the app never sees the flag), records the outcome, and re-raises
whatever the app raised: exit codes and output are the app's own. During a recorded
run the command objects are instrumented so the command path comes from the
registered command tree, never from raw argv; the instrumentation is removed after.

A host that already has an option named like the flag, or a root command named like
the management group, is refused with a ``ConfigurationError`` (taking either over
silently would change the host's behaviour): at ``install`` for what is registered by
then, and when the command tree is first built or run for what came later. The author
then picks other names: ``Telemetry(..., flag="--diagnostics", command="diagnostics")``.

Typer builds its click tree lazily, on every call; ``install`` therefore tells Typer
which classes to build (``cls``), including for commands registered after ``install``.
Nothing here imports typer or click at import time: both are reached through the host's
own objects.
"""

from __future__ import annotations

import contextlib
import enum
import os
import sys

from ._contract import FLAG

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy knows it)
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any, Protocol

    from ._cli.store import Mount
    from ._contract.exceptions import ConfigurationError
    from ._record.recorder import ParamObservation, Run
    from ._store import Limits, StoreLocation

    class Telemetry(Protocol):
        """What the integration needs of the ``Telemetry`` object that installs it (the
        face's ``_telemetry`` imports this module, never the other way round)."""

        _run: Run | None

        @property
        def app_name(self) -> str: ...
        @property
        def command(self) -> str: ...
        @property
        def flag(self) -> str: ...
        @property
        def location(self) -> StoreLocation: ...
        @property
        def limits(self) -> Limits: ...
        @property
        def environ(self) -> Mapping[str, str]: ...

        def _now(self) -> Any: ...
        def begin_run(self, requested: bool) -> Run | None: ...
        def end_run(self, run: Run, exit_code: int) -> None: ...


def configuration_error(message: str) -> ConfigurationError:
    """A ``ConfigurationError``; the exceptions module loads only when one is raised."""
    from ._contract.exceptions import ConfigurationError

    return ConfigurationError(message)


def split_flag(args: list[str], flag: str = FLAG) -> tuple[list[str], bool]:
    """Remove ``flag`` (``--telemetry``) from ``args`` (only before a ``--``)."""
    out: list[str] = []
    found = False
    for i, arg in enumerate(args):
        if arg == "--":
            out.extend(args[i:])
            break
        if arg == flag:
            found = True
            continue
        out.append(arg)
    return out, found


FLAG_HELP = "Record local diagnostics for this run only. Nothing is sent anywhere."
MOUNT_HELP = "Inspect and manage the diagnostics recorded with {flag}."
_META_ARGS = "localtelemetry.args"
#: The context settings the mounted group takes over from the host's command.
INHERITED_SETTINGS = ("help_option_names", "terminal_width", "max_content_width")
_RECORDED_SOURCES = {"COMMANDLINE": "commandline", "ENVIRONMENT": "environment", "PROMPT": "prompt"}


def install(telemetry: Telemetry, app: Any) -> None:
    if getattr(app, "_localtelemetry", None) is not None:
        raise configuration_error("telemetry is already installed on this app")
    if _is_typer(app):
        _check_typer_app(telemetry, app)
        _install_typer(telemetry, app)
    elif _is_click_command(app):
        _install_click(telemetry, app)
    else:
        raise configuration_error(
            "install() expects a typer.Typer app or a click Command/Group, "
            f"got {type(app).__name__}"
        )


def _is_typer(app: Any) -> bool:
    return all(hasattr(app, a) for a in ("registered_commands", "registered_groups", "info"))


def _is_click_command(app: Any) -> bool:
    return all(hasattr(app, a) for a in ("main", "params", "make_context", "invoke"))


# -- classes ------------------------------------------------------------------------


def _root_class(telemetry: Telemetry, base: type[Any]) -> type[Any]:
    """The host's root command class with ``main`` and ``__init__`` hooked: ``main``
    records the run, ``__init__`` decorates the command (``_decorate``). Made with
    ``type()`` around two closures rather than from a mixin class: each class made costs
    every run of the host about 70k instructions (issue 14)."""
    if getattr(base, "_localtelemetry", None) is telemetry:
        return base
    cache: dict[type[Any], type[Any]] = telemetry.__dict__.setdefault("_lt_classes", {})
    if base in cache:
        return cache[base]

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        super(root, self).__init__(*args, **kwargs)
        _decorate(self, telemetry)

    def main(
        self: Any,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        parent_main = super(root, self).main
        return _run_main(self, parent_main, args, prog_name, complete_var, standalone_mode, extra)

    namespace = {
        "__init__": __init__,
        "main": main,
        "_localtelemetry": telemetry,
        "__module__": __name__,
    }
    root: type[Any] = type(f"Telemetry{base.__name__}", (base,), namespace)
    cache[base] = root
    return root


def _is_typer_class(klass: type[Any]) -> bool:
    return any(k.__module__.split(".")[0] == "typer" for k in klass.__mro__)


def _click_core(cmd: Any) -> Any:
    """The click ``core`` module the host's command classes come from."""
    for klass in type(cmd).__mro__:
        if klass.__name__ == "Command" and klass.__module__.endswith("core"):
            return sys.modules[klass.__module__]
    raise configuration_error("cannot find the click Command class of this app")


_TYPER_FLAGS: dict[str, Any] = {}


def _typer_flag_param(flag: str) -> Any:
    """The flag as a Typer option, built once per process and name."""
    param = _TYPER_FLAGS.get(flag)
    if param is None:
        param = _TYPER_FLAGS[flag] = _new_typer_flag(flag)
    return param


def _new_typer_flag(flag: str) -> Any:
    """``TyperOption`` built directly: a throw-away Typer app cost every run about half
    a millisecond. Typer 0.12 to 0.2x take click's ``type``; later versions coerce
    values themselves and need a ``type_descriptor``. Should a future Typer change the
    constructor again, Typer builds the option from a function signature instead."""
    from typer import core

    options: dict[str, Any] = {
        "param_decls": [flag],
        "is_flag": True,
        "default": False,
        "expose_value": False,
        "help": FLAG_HELP,
    }
    try:
        if hasattr(core, "TypeDescriptor"):
            from typer._coercion import resolve_type_descriptor
            from typer.models import OptionInfo

            options["type_descriptor"] = resolve_type_descriptor(bool, OptionInfo(default=False))
        param: Any = core.TyperOption(**options)
    except Exception:
        param = _probed_typer_flag(flag)
    param._localtelemetry_flag = True
    return param


def _probed_typer_flag(flag: str) -> Any:
    import typer

    probe = typer.Typer(add_completion=False)

    def _probe(telemetry: bool = typer.Option(False, flag, help=FLAG_HELP)) -> None:
        return None

    probe.command()(_probe)
    param = next(p for p in typer.main.get_command(probe).params if flag in p.opts)
    param.expose_value = False
    return param


def _is_ours(obj: Any) -> bool:
    return bool(
        getattr(obj, "_localtelemetry_flag", False)
        or getattr(obj, "_localtelemetry_owner", None) is not None
    )


def _decorate(cmd: Any, telemetry: Telemetry) -> None:
    """Show the flag in help and mount the management group on group apps; refuse a
    command tree that already uses either name."""
    typer_host = _is_typer_class(type(cmd))
    _check_tree(cmd, telemetry)
    if typer_host:
        cmd._lt_tree_checked = True  # Typer built the whole tree first: nothing can follow
    flag_name = telemetry.flag
    if not any(flag_name in getattr(p, "opts", ()) for p in cmd.params):
        if typer_host:
            flag = _typer_flag_param(flag_name)
        else:
            flag = _click_core(cmd).Option(
                [flag_name], is_flag=True, expose_value=False, help=FLAG_HELP
            )
            flag._localtelemetry_flag = True
        cmd.params.append(flag)
    commands = getattr(cmd, "commands", None)
    if commands is not None and hasattr(commands, "keys") and telemetry.command not in commands:
        if typer_host:
            from typer.core import TyperCommand

            base: type[Any] = TyperCommand
        else:
            base = _click_core(cmd).Command
        commands[telemetry.command] = _mounted(base, telemetry, MOUNT_HELP.format(flag=flag_name))


# -- names the host already uses --------------------------------------------------------


def _way_out(telemetry: Telemetry) -> str:
    return (
        f"pass other names, for example Telemetry({telemetry.app_name!r}, ..., "
        'flag="--diagnostics", command="diagnostics")'
    )


def _flag_conflict(telemetry: Telemetry, where: str) -> ConfigurationError:
    return configuration_error(
        f"{where} already has an option {telemetry.flag}, which localtelemetry would take "
        f"over; {_way_out(telemetry)}"
    )


def _command_conflict(telemetry: Telemetry) -> ConfigurationError:
    return configuration_error(
        f"the app already has a command {telemetry.command!r}, where localtelemetry mounts "
        f"its management commands; {_way_out(telemetry)}"
    )


def _check_tree(root: Any, telemetry: Telemetry) -> None:
    """Walk the click command tree (groups that list their commands in ``commands``;
    lazy groups cannot be walked) for the flag and, at the root, the group's name."""
    flag = telemetry.flag
    commands: Any = getattr(root, "commands", None)
    if hasattr(commands, "get"):
        existing = commands.get(telemetry.command)
        if existing is not None and not _is_ours(existing):
            raise _command_conflict(telemetry)
    seen: set[int] = set()
    # Typer builds each command with the root's class (a one-command app's command is
    # its root): a command that is not a group names itself.
    top = "" if hasattr(commands, "items") else str(getattr(root, "name", "") or "")
    stack: list[tuple[Any, str]] = [(root, top)]
    while stack:
        cmd, path = stack.pop()
        if id(cmd) in seen or _is_ours(cmd):
            continue
        seen.add(id(cmd))
        for param in getattr(cmd, "params", ()):
            if _is_ours(param):
                continue
            if flag in getattr(param, "opts", ()) or flag in getattr(param, "secondary_opts", ()):
                raise _flag_conflict(telemetry, f"the command {path!r}" if path else "the app")
        children: Any = getattr(cmd, "commands", None)
        if hasattr(children, "items"):
            stack.extend((sub, f"{path} {name}".strip()) for name, sub in children.items())


def _check_typer_app(telemetry: Telemetry, app: Any) -> None:
    """What can be seen of a Typer app before Typer builds it: the names of the commands
    and groups registered so far, and the options their functions declare."""
    from typer.main import get_command_name

    def options_of(callback: Any) -> set[str]:
        """Option names as Typer will declare them: the names given, else ``--name``
        (and ``--no-name`` for a bool) from the parameter's name."""
        if callback is None:
            return set()
        from typer.models import OptionInfo, ParameterInfo
        from typer.utils import get_params_from_function

        names: set[str] = set()
        try:
            params = get_params_from_function(callback)
        except Exception:  # Typer will say what is wrong when it builds the command
            return names
        for name, meta in params.items():
            info = meta.default
            if isinstance(info, OptionInfo) and info.param_decls:
                for decl in info.param_decls:
                    names.update(d.strip() for d in str(decl).split("/"))
            elif isinstance(info, OptionInfo) or not (
                isinstance(info, ParameterInfo) or info is meta.empty or info is ...
            ):
                default_name = name.replace("_", "-")
                names.add(f"--{default_name}")
                if meta.annotation is bool:
                    names.add(f"--no-{default_name}")
        return names

    def walk(typer_app: Any, path: str, top: bool) -> None:
        callbacks = [getattr(typer_app.registered_callback, "callback", None)]
        callbacks.append(getattr(typer_app.info, "callback", None))
        for callback in callbacks:
            if telemetry.flag in options_of(callback):
                raise _flag_conflict(telemetry, f"the group {path!r}" if path else "the app")
        for info in typer_app.registered_commands:
            name = info.name or get_command_name(getattr(info.callback, "__name__", ""))
            if top and name == telemetry.command and _is_group_app(typer_app):
                raise _command_conflict(telemetry)
            if telemetry.flag in options_of(info.callback):
                raise _flag_conflict(telemetry, f"the command {f'{path} {name}'.strip()!r}")
        for group in typer_app.registered_groups:
            sub = group.typer_instance
            name = group.name or getattr(getattr(sub, "info", None), "name", None) or ""
            if top and name == telemetry.command:
                raise _command_conflict(telemetry)
            if sub is not None:
                walk(sub, f"{path} {name}".strip(), False)

    walk(app, "", True)


def _is_group_app(app: Any) -> bool:
    """Whether Typer makes a group of this app (else its one command is the root)."""
    return bool(
        app.registered_callback is not None
        or app.registered_groups
        or len(app.registered_commands) > 1
    )


def mount_of(telemetry: Telemetry) -> Mount:
    """What the management commands need of ``telemetry`` to run as its app's
    ``telemetry`` group: the face hands it down, the CLI never imports ``Telemetry``."""
    from ._cli.store import Mount

    t = telemetry
    return Mount(t.app_name, t.command, t.flag, t.location, t.limits, t.environ, t._now)


def _mounted(base: type[Any], telemetry: Telemetry, help_text: str) -> Any:
    """A command of the host's own class that hands its whole argv to the management
    CLI. Its two methods are the instance's own, as ``_instrument`` sets them: a class
    made for it would cost every run of the host about 70k instructions (issue 14)."""
    mount = base(
        name=telemetry.command, help=help_text, short_help=help_text, add_help_option=False
    )

    def parse_args(ctx: Any, args: list[str]) -> list[str]:
        ctx.meta[_META_ARGS] = list(args)
        return []

    def invoke(ctx: Any) -> Any:
        run = telemetry._run
        if run is not None:
            run.management = True  # management commands never record
        from ._cli.app import run_mounted

        settings = {name: getattr(ctx, name, None) for name in INHERITED_SETTINGS}
        return run_mounted(
            mount_of(telemetry),
            ctx.meta.get(_META_ARGS, []),
            ctx.command_path,
            {k: v for k, v in settings.items() if v is not None},
        )

    mount.__dict__.update(parse_args=parse_args, invoke=invoke, _localtelemetry_owner=telemetry)
    return mount


# -- installing -----------------------------------------------------------------------


def _placeholder_value(value: Any) -> Any:
    return value.value if type(value).__name__ == "DefaultPlaceholder" else value


def _install_typer(telemetry: Telemetry, app: Any) -> None:
    from typer.core import TyperCommand, TyperGroup

    app._localtelemetry = telemetry
    callback_info = app.registered_callback
    if callback_info is not None and _placeholder_value(callback_info.cls):
        callback_info.cls = _root_class(telemetry, callback_info.cls)
    else:
        app.info.cls = _root_class(telemetry, _placeholder_value(app.info.cls) or TyperGroup)
    for info in app.registered_commands:
        info.cls = _root_class(telemetry, info.cls or TyperCommand)

    # Commands and callbacks registered after install() get our classes too.
    original_command = app.command
    original_callback = app.callback

    def command(*args: Any, **kwargs: Any) -> Any:
        kwargs["cls"] = _root_class(telemetry, kwargs.get("cls") or TyperCommand)
        return original_command(*args, **kwargs)

    def callback(*args: Any, **kwargs: Any) -> Any:
        cls = _placeholder_value(kwargs.get("cls")) or _placeholder_value(app.info.cls)
        kwargs["cls"] = _root_class(telemetry, cls or TyperGroup)
        return original_callback(*args, **kwargs)

    app.command = command
    app.callback = callback


def _install_click(telemetry: Telemetry, cmd: Any) -> None:
    _check_tree(cmd, telemetry)
    cmd.__class__ = _root_class(telemetry, type(cmd))
    cmd._localtelemetry = telemetry
    _decorate(cmd, telemetry)


# -- one recorded run -------------------------------------------------------------------


def _exit_code(code: Any) -> int:
    if code is None:
        return 0
    if isinstance(code, int):  # bool too: sys.exit(True) exits 1
        return _os_status(int(code))
    return 1  # sys.exit("message") prints it and exits 1


def _os_status(code: int) -> int:
    """The status the OS reports: POSIX keeps only the low 8 bits (sys.exit(256) is 0)."""
    return code & 0xFF if os.name == "posix" else code


def _is_exit(exc: BaseException) -> bool:
    return isinstance(exc, SystemExit) or (
        type(exc).__name__ == "Exit" and hasattr(exc, "exit_code")
    )


def _exc_exit_code(exc: BaseException) -> int:
    if isinstance(exc, SystemExit):
        return _exit_code(exc.code)
    if isinstance(exc, KeyboardInterrupt):
        return 130
    code = getattr(exc, "exit_code", None)
    return _os_status(int(code)) if isinstance(code, int) else 1


def _run_main(
    cmd: Any,
    parent_main: Callable[..., Any],
    args: Any,
    prog_name: str | None,
    complete_var: str | None,
    standalone_mode: bool,
    extra: dict[str, Any],
) -> Any:
    telemetry: Telemetry = cmd._localtelemetry
    if "_lt_tree_checked" not in cmd.__dict__:
        # Click hosts can add commands and options after install(): checked once here.
        _check_tree(cmd, telemetry)
        cmd._lt_tree_checked = True
    raw = list(sys.argv[1:] if args is None else args)
    stripped, requested = split_flag(raw, telemetry.flag)
    if args is None and requested:
        stripped = _expand_like_click(cmd, stripped)
    pass_args = args if (args is None and not requested) else stripped
    if _is_management_call(cmd, stripped, telemetry.command):
        # A single-command app has no room for a group: `mycli telemetry status` is
        # routed to the management commands (see docs/getting-started.md).
        from ._cli.app import run_mounted

        name = prog_name or os.path.basename(sys.argv[0]) or telemetry.app_name
        settings = {
            k: v for k, v in (cmd.context_settings or {}).items() if k in INHERITED_SETTINGS
        }
        return run_mounted(
            mount_of(telemetry), stripped[1:], f"{name} {telemetry.command}", settings
        )
    run = telemetry.begin_run(requested)
    if run is None:
        return parent_main(pass_args, prog_name, complete_var, standalone_mode, **extra)
    run.sensitive.update(_sensitive_tokens(stripped))
    undo: list[tuple[Any, dict[str, Any]]] = []
    exit_code = 0
    try:
        _instrument(cmd, (), run, undo)
        result = parent_main(pass_args, prog_name, complete_var, standalone_mode, **extra)
        noted = run.command["exception"]
        if (
            not standalone_mode
            and noted is not None
            and (_is_exit(noted) or isinstance(noted, KeyboardInterrupt))
        ):
            # Without standalone mode click returns the exit code instead of raising.
            is_code = isinstance(result, int) and not isinstance(result, bool)
            exit_code = _os_status(result) if is_code else _exc_exit_code(noted)
        return result
    except BaseException as exc:
        exit_code = _exc_exit_code(exc)
        if not isinstance(exc, SystemExit):
            _note(run, exc, "command")
        raise
    finally:
        _undo(undo)
        telemetry.end_run(run, exit_code)


MANAGEMENT_WORDS = frozenset(
    {
        "status",
        "list",
        "show",
        "explain",
        "schema",
        "validate",
        "purge",
        "reset-key",
        "export",
        "--help",
        "-h",
    }
)


def _is_management_call(cmd: Any, args: list[str], command: str) -> bool:
    """``telemetry <management command>`` as the first words of a single-command app."""
    if hasattr(getattr(cmd, "commands", None), "keys"):
        return False  # groups have the real mounted `telemetry` command
    if not args or args[0] != command:
        return False
    help_names = (cmd.context_settings or {}).get("help_option_names") or ()
    return len(args) == 1 or args[1] in MANAGEMENT_WORDS or args[1] in help_names


def _expand_like_click(cmd: Any, args: list[str]) -> list[str]:
    """Click expands wildcards on Windows when it reads argv itself; do the same when
    we hand it the list without --telemetry, so the host sees identical arguments."""
    if os.name != "nt":
        return args
    try:
        package = _click_core(cmd).__name__.rsplit(".", 1)[0]
        expand = sys.modules[package + ".utils"]._expand_args
        return list(expand(args))
    except Exception:
        return args


def _sensitive_tokens(args: list[str]) -> set[str]:
    """argv words that may be user data. Option names the app declares are removed
    again at the end of the run (``Run.declared``); unknown ones are the user's words."""
    tokens: set[str] = set()
    for arg in args:
        name, sep, value = arg.partition("=")
        if arg.startswith("-") and sep:
            tokens.update((name, value))
        tokens.add(arg)
    return tokens


def _note(run: Run, exc: BaseException, stage: str) -> None:
    """Remember the first (deepest) exception of the run."""
    observation = run.command
    if observation["exception"] is not None:
        return
    if _is_exit(exc):
        if _exc_exit_code(exc) == 0:
            return
        stage = "exit"
    observation["exception"] = exc
    observation["stage"] = stage


def _is_usage_error(exc: BaseException) -> bool:
    return any(k.__name__ in ("UsageError", "BadParameter") for k in type(exc).__mro__)


_ABSENT = object()
#: The names ``_instrument`` sets on a command object for the length of a recorded run.
_INSTRUMENTED = ("_lt_path", "invoke", "make_context", "get_command")


def _undo(undo: list[tuple[Any, dict[str, Any]]]) -> None:
    """Take the instrumentation off: each name gets back the object's own value, or
    goes (the class's method shows through again)."""
    for obj, before in reversed(undo):
        for name, value in before.items():
            if value is _ABSENT:
                obj.__dict__.pop(name, None)
            else:
                obj.__dict__[name] = value


def _instrument(cmd: Any, path: tuple[str, ...], run: Run, undo: list[Any]) -> None:
    if "_lt_path" in cmd.__dict__:
        return
    original_invoke = cmd.invoke
    original_make_context = cmd.make_context
    is_group = hasattr(getattr(cmd, "commands", None), "keys")
    observation = run.command

    def invoke(ctx: Any) -> Any:
        observation["path"] = path
        observation["is_group"] = is_group
        try:
            observation["params"] = _capture_params(ctx, run.sensitive)
        except Exception:  # an odd parameter type must not hurt the host
            observation["params"] = []
        try:
            return original_invoke(ctx)
        except BaseException as exc:
            if observation["exception"] is None and observation["path"] == path and is_group:
                if _is_usage_error(exc):
                    observation["unknown_child"] = True
                    _note(run, exc, "usage")
                else:
                    _note(run, exc, "callback")
            else:
                _note(run, exc, "command")
            raise

    def make_context(info_name: Any, args: Any, parent: Any = None, **extra: Any) -> Any:
        try:
            return original_make_context(info_name, args, parent=parent, **extra)
        except BaseException as exc:
            if observation["exception"] is None and not _is_exit(exc):
                observation["path"] = path
                observation["is_group"] = is_group
            _note(run, exc, "usage")
            raise

    for param in getattr(cmd, "params", ()):
        run.declared.update(getattr(param, "opts", ()))
        run.declared.update(getattr(param, "secondary_opts", ()))
        _watch_values(param, run, undo)
    # What the object had of its own under these names (the mounted group's methods, a
    # host's override) comes back when the run ends.
    own = cmd.__dict__
    undo.append((cmd, {n: own.get(n, _ABSENT) for n in _INSTRUMENTED}))
    own.update(_lt_path=path, invoke=invoke, make_context=make_context)
    if is_group:
        original_get_command = cmd.get_command

        def get_command(ctx: Any, name: str) -> Any:
            sub = original_get_command(ctx, name)
            if sub is not None:
                _instrument(sub, (*path, _registered_name(cmd, ctx, name, sub)), run, undo)
            return sub

        own["get_command"] = get_command


_WATCHED_SOURCES = frozenset({"COMMANDLINE", "ENVIRONMENT", "DEFAULT_MAP", "PROMPT"})


def _watch_values(param: Any, run: Run, undo: list[Any]) -> None:
    """Remember every raw value a parameter receives, from any source (command line,
    environment variable, default_map), before its type converts it: a usage error
    quotes the raw text (``'abc' is not a valid integer``). Choice names are the app's."""
    choices = getattr(getattr(param, "type", None), "choices", None)
    if isinstance(choices, list | tuple):
        run.declared.update(str(getattr(c, "value", c)) for c in choices)
    original = getattr(param, "consume_value", None)
    if (
        original is None
        or getattr(param, "_localtelemetry_flag", False)
        or "consume_value" in vars(param)
    ):
        return

    def consume_value(ctx: Any, opts: Any) -> Any:
        result = original(ctx, opts)
        with contextlib.suppress(Exception):  # an unexpected shape must not hurt the host
            value, source = result
            if getattr(source, "name", None) in _WATCHED_SOURCES:
                _add_raw(run.sensitive, value)
        return result

    param.__dict__["consume_value"] = consume_value
    undo.append((param, {"consume_value": _ABSENT}))


def _add_raw(sensitive: set[str], value: Any, depth: int = 0) -> None:
    if isinstance(value, str):
        sensitive.add(value)
    elif isinstance(value, list | tuple) and depth < 2:
        for item in value[:100]:
            _add_raw(sensitive, item, depth + 1)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        sensitive.add(str(value))


def _registered_name(group: Any, ctx: Any, typed: str, sub: Any) -> str:
    """The command's name in the registered tree; a name the group only made up on
    demand from what the user typed (plugin/alias groups) is marked for hashing."""
    from ._record.recorder import UNLISTED

    name = getattr(sub, "name", None) or typed
    try:
        listed = set(group.list_commands(ctx))
    except Exception:
        listed = set(getattr(group, "commands", {}) or {})
    return name if name in listed else UNLISTED + name


def _param_type(param: Any, value: Any) -> str:
    """boolean / integer / number / choice / path / string, from the declaration (click
    types, or Typer's type descriptor) and then from the parsed value."""
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is not None:
        if getattr(descriptor, "is_tuple", False):
            return "string"  # mixed element types: hash every element
        if getattr(descriptor, "is_choice", False):
            return "choice"
        if getattr(descriptor, "is_path", False):
            return "path"
    else:
        names = {k.__name__ for k in type(getattr(param, "type", None)).__mro__}
        if "Tuple" in names:
            return "string"  # mixed element types: hash every element
        if "Choice" in names:
            return "choice"
        if "Path" in names or "File" in names:
            return "path"
        if "BoolParamType" in names:
            return "boolean"
        if "IntParamType" in names:
            return "integer"
        if "FloatParamType" in names:
            return "number"
    sample = value[0] if isinstance(value, list | tuple) and value else value
    if isinstance(sample, bool):
        return "boolean"
    if isinstance(sample, int):
        return "integer"
    if isinstance(sample, float):
        return "number"
    if isinstance(sample, enum.Enum):
        return "choice"
    if isinstance(sample, os.PathLike) or hasattr(sample, "read") or hasattr(sample, "write"):
        return "path"
    return "string"


def _capture_params(ctx: Any, sensitive: set[str]) -> list[ParamObservation]:
    chain = []
    while ctx is not None:
        chain.append(ctx)
        ctx = ctx.parent
    observed: list[ParamObservation] = []
    for c in reversed(chain):
        for param in c.command.params:
            name = param.name
            if not name or _is_ours(param) or name not in c.params:
                continue
            source = c.get_parameter_source(name)
            source_name = _RECORDED_SOURCES.get(getattr(source, "name", ""))
            if source_name is None:
                continue
            value = c.params[name]
            kind = _param_type(param, value)
            if kind == "path":
                value = _path_values(value)
            if kind in ("string", "path"):  # may be quoted in an error message later
                values = value if isinstance(value, list | tuple) else [value]
                sensitive.update(str(v) for v in values if v is not None)
            flag = None
            if type(param).__name__ != "Argument" and getattr(param, "opts", None):
                opts = list(param.opts)
                if kind == "boolean" and value is False and getattr(param, "secondary_opts", None):
                    opts = list(param.secondary_opts)
                flag = max(opts, key=len) if source_name == "commandline" else None
            observed.append(
                {"name": name, "type": kind, "source": source_name, "value": value, "flag": flag}
            )
    return observed


def _path_values(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [_path_values(v) for v in value]
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    name = getattr(value, "name", None)  # click.File gives open file objects
    return name if isinstance(name, str) else str(value)
