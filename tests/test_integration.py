"""install() on every kind of host: Typer with and without a callback, single-command
Typer apps, Click groups and Click commands."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
import typer
from click.testing import CliRunner as ClickRunner
from typer.testing import CliRunner

from localtelemetry import ConfigurationError, Telemetry

from conftest import store_documents


def _commands(base: Path, app: str) -> list[dict[str, object]]:
    return [d["payload"] for d in store_documents(base / app) if d["kind"] == "cli-command"]  # type: ignore[misc]


def test_typer_app_with_callback_installed_before_commands(base: Path) -> None:
    app = typer.Typer()
    telemetry = Telemetry("withcb", version="1.0")
    telemetry.install(app)
    seen = {}

    @app.callback()
    def main(verbose: bool = typer.Option(False, "--verbose")) -> None:
        seen["verbose"] = verbose

    @app.command()
    def build(src: str) -> None:
        print("built", src)

    result = CliRunner().invoke(app, ["--verbose", "build", "x", "--telemetry"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "built x\n"
    (cmd,) = _commands(base, "withcb")
    assert cmd["command_path"] == ["build"]
    assert cmd["flags"] == ["--verbose"]
    assert "--telemetry" in CliRunner().invoke(app, ["--help"]).stdout
    assert "telemetry" in CliRunner().invoke(app, ["--help"]).stdout


def test_typer_single_command_app_keeps_its_shape(base: Path) -> None:
    app = typer.Typer()
    telemetry = Telemetry("single", version="1.0")
    telemetry.install(app)

    @app.command()
    def main(name: str, count: int = 1) -> None:
        print(f"hello {name} x{count}")

    result = CliRunner().invoke(app, ["world", "--count", "2", "--telemetry"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "hello world x2\n"
    (cmd,) = _commands(base, "single")
    assert cmd["command_path"] == []
    assert cmd["command_family"] is None
    assert cmd["flags"] == ["--count"]
    assert "--telemetry" in CliRunner().invoke(app, ["--help"]).stdout


def test_typer_install_after_commands_and_nested_groups(base: Path) -> None:
    app = typer.Typer()
    db = typer.Typer()
    app.add_typer(db, name="db")

    @db.command()
    def migrate(steps: int = 1) -> None:
        print("migrated", steps)

    @app.command()
    def version() -> None:
        print("1.0")

    telemetry = Telemetry("nested", version="1.0")
    telemetry.install(app)
    result = CliRunner().invoke(app, ["db", "migrate", "--steps", "3", "--telemetry"])
    assert result.exit_code == 0, result.output
    (cmd,) = _commands(base, "nested")
    assert cmd["command_path"] == ["db", "migrate"]
    assert cmd["command_family"] == "db"


def test_typer_mounted_management_group(base: Path) -> None:
    app = typer.Typer()
    telemetry = Telemetry("mounted", version="1.0")
    telemetry.install(app)

    @app.command()
    def a() -> None:
        print("a")

    @app.command()
    def b() -> None:
        print("b")

    CliRunner().invoke(app, ["a", "--telemetry"])
    result = CliRunner().invoke(app, ["telemetry", "status", "--telemetry"])
    assert result.exit_code == 0, result.output
    assert "documents:  2" in result.stdout  # the status run itself recorded nothing
    help_result = CliRunner().invoke(app, ["telemetry", "--help"])
    assert help_result.exit_code == 0
    from localtelemetry._cli.app import MOUNTED_COMMANDS

    for command in MOUNTED_COMMANDS:
        assert command in help_result.stdout


def test_click_group(base: Path) -> None:
    @click.group()
    @click.option("--debug", is_flag=True)
    def cli(debug: bool) -> None:
        pass

    @cli.command()
    @click.argument("path", type=click.Path())
    @click.option("--mode", type=click.Choice(["fast", "slow"]), default="fast")
    @click.option("--level", type=int, default=0)
    def run(path: str, mode: str, level: int) -> None:
        click.echo(f"ran {mode} {level}")

    telemetry = Telemetry("clickapp", version="3.1")
    assert telemetry.install(cli) is cli
    result = ClickRunner().invoke(
        cli, ["--debug", "run", "/srv/data/x.db", "--mode", "slow", "--level", "2", "--telemetry"]
    )
    assert result.exit_code == 0, result.output
    assert result.output == "ran slow 2\n"
    (cmd,) = _commands(base, "clickapp")
    assert cmd["command_path"] == ["run"]
    params = {p["name"]: p for p in cmd["parameters"]}  # type: ignore[attr-defined]
    assert params["mode"]["values"] == ["slow"] and params["mode"]["type"] == "choice"
    assert params["level"]["values"] == [2]
    assert params["path"]["type"] == "path"
    assert params["debug"]["values"] == [True]
    help_text = ClickRunner().invoke(cli, ["--help"]).output
    assert "--telemetry" in help_text and "telemetry" in help_text
    status = ClickRunner().invoke(cli, ["telemetry", "status", "--format", "json"])
    assert status.exit_code == 0, status.output
    assert '"documents": 2' in status.output


def test_click_single_command(base: Path) -> None:
    @click.command()
    @click.option("--n", type=int, default=1)
    def hello(n: int) -> None:
        click.echo("hi" * n)
        raise SystemExit(4)

    Telemetry("clickcmd", version="1").install(hello)
    result = ClickRunner().invoke(hello, ["--telemetry", "--n", "2"])
    assert result.exit_code == 4
    assert result.output == "hihi\n"
    (cmd,) = _commands(base, "clickcmd")
    assert cmd["exit_code"] == 4 and cmd["error_kind"] == "SystemExit"
    assert cmd["failure_stage"] == "exit"


def test_click_exception_and_bare_group(base: Path) -> None:
    @click.group(invoke_without_command=True)
    def cli() -> None:
        click.echo("bare")

    @cli.command()
    def crash() -> None:
        raise RuntimeError("bad state")

    Telemetry("clickgrp", version="1").install(cli)
    assert ClickRunner().invoke(cli, ["--telemetry"]).exit_code == 0
    result = ClickRunner().invoke(cli, ["crash", "--telemetry"])
    assert isinstance(result.exception, RuntimeError)
    first, second = _commands(base, "clickgrp")
    assert first["invocation_shape"] == "bare_group"
    assert second["error_kind"] == "RuntimeError" and second["error_message"] == "bad state"


def test_install_twice_and_on_wrong_objects_is_a_clear_error() -> None:
    app = typer.Typer()
    telemetry = Telemetry("twice", version="1")
    telemetry.install(app)
    with pytest.raises(ConfigurationError, match="already installed"):
        telemetry.install(app)
    with pytest.raises(ConfigurationError, match=r"expects a typer\.Typer app"):
        telemetry.install(object())


@pytest.mark.parametrize("name", ["", "has space", "../escape", "a/b", "x" * 65])
def test_bad_app_names_are_rejected(name: str) -> None:
    with pytest.raises(ConfigurationError):
        Telemetry(name, version="1.0")


def test_builds_outside_a_recorded_run_do_nothing(base: Path) -> None:
    telemetry = Telemetry("lib", version="1.0")
    with telemetry.build("x") as b:
        b.path("p", "/etc/passwd")
        b.count("n")
        with b.phase("p"):
            pass
    telemetry.snapshot("s", counts={"a": 1})
    assert not base.exists()


def test_phases_record_how_they_ended_and_never_change_what_the_app_sees(base: Path) -> None:
    """A phase is timed whatever ends it: the app's own exception goes through it
    untouched (recorded as ``failure``, Ctrl-C as ``interrupted``), ``as`` gives the
    build in both kinds of run, and a build keeps at most MAX_ITEMS phases."""
    app = typer.Typer()
    telemetry = Telemetry("phases", version="1.0")
    telemetry.install(app)
    seen: list[object] = []

    @app.command()
    def work() -> None:
        with telemetry.build("b") as b:
            with b.phase("ok") as p:
                seen.append(p is b)
            with pytest.raises(LookupError, match="mine"), b.phase("fails"):
                raise LookupError("mine")
            with pytest.raises(KeyboardInterrupt), b.phase("stopped"):
                raise KeyboardInterrupt
            for i in range(150):
                with b.phase(f"p{i}"):
                    pass

    result = CliRunner().invoke(app, ["--telemetry"])
    assert result.exit_code == 0, result.output
    (build,) = [d["payload"] for d in store_documents(base / "phases") if d["kind"] == "build"]
    phases = build["phases"]  # type: ignore[index]
    assert len(phases) == 100
    assert [(p["name"], p["status"]) for p in phases[:4]] == [
        ("ok", "success"),
        ("fails", "failure"),
        ("stopped", "interrupted"),
        ("p0", "success"),
    ]
    assert all(p["duration_ms"] >= 0 for p in phases)
    # Unrecorded, the same code runs and ``as`` still gives the build.
    assert CliRunner().invoke(app, []).exit_code == 0
    assert seen == [True, True]


def test_a_click_app_is_the_same_after_a_recorded_run_in_the_same_process(base: Path) -> None:
    """A recorded run instruments the command objects and takes the instrumentation off
    after; what the objects had of their own before stays. A Click app lives as long as
    the process (test suites, REPLs): the mounted group's own ``invoke`` and a host's
    instance-level override must survive a recorded run (review of issue 14: both were
    erased, so ``telemetry status`` printed nothing afterwards)."""

    @click.group()
    def cli() -> None:
        pass

    @cli.command()
    def hello() -> None:
        click.echo("hi")

    original = hello.invoke

    def override(ctx: click.Context) -> object:
        click.echo("override")
        return original(ctx)

    hello.invoke = override  # type: ignore[method-assign]
    Telemetry("samecli", version="1.0").install(cli)
    runner = ClickRunner()
    status = runner.invoke(cli, ["telemetry", "status"])
    assert status.exit_code == 0 and "samecli" in status.output, status.output
    assert runner.invoke(cli, ["hello"]).output == "override\nhi\n"
    for args in (["--telemetry", "hello"], ["--telemetry", "telemetry", "status"]):
        assert runner.invoke(cli, args).exit_code == 0
    assert runner.invoke(cli, ["hello"]).output == "override\nhi\n"
    again = runner.invoke(cli, ["telemetry", "status"])  # now with the run's documents
    assert again.exit_code == 0 and "samecli" in again.output, again.output


def test_a_phase_object_can_be_used_again_in_both_kinds_of_run(base: Path) -> None:
    """``p = b.phase(...)`` entered twice works when the run records as when it does not
    (review of issue 14: a generator-based phase raised on its second use, only under
    ``--telemetry``); each use is one phase."""
    app = typer.Typer()
    telemetry = Telemetry("reuse", version="1.0")
    telemetry.install(app)

    @app.command()
    def work() -> None:
        with telemetry.build("b") as b:
            p = b.phase("again")
            for _ in range(2):
                with p:
                    pass

    assert CliRunner().invoke(app, []).exit_code == 0
    result = CliRunner().invoke(app, ["--telemetry"])
    assert result.exit_code == 0, result.output
    (build,) = [d["payload"] for d in store_documents(base / "reuse") if d["kind"] == "build"]
    assert [(p["name"], p["status"]) for p in build["phases"]] == [("again", "success")] * 2  # type: ignore[index]
