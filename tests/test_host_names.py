"""install() never takes over a name the host already uses (issue 13, point 1): a host
option named like the flag, or a root command named like the management group, is a
ConfigurationError that says how to choose other names; with other names both live
side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import click
import pytest
import typer
from click.testing import CliRunner as ClickRunner
from typer.testing import CliRunner

from localtelemetry import ConfigurationError, Telemetry
from localtelemetry import _integration as integration
from localtelemetry.testing import record

from conftest import store_documents

WAY_OUT = 'flag="--diagnostics", command="diagnostics"'


def _kinds(base: Path, app: str) -> list[str]:
    return [str(d["kind"]) for d in store_documents(base / app)] if (base / app).exists() else []


# -- refused at install -----------------------------------------------------------------


def test_click_command_with_its_own_flag_is_refused() -> None:
    @click.command()
    @click.option("--telemetry", is_flag=True)
    def cli(telemetry: bool) -> None:
        click.echo(f"own {telemetry}")

    with pytest.raises(ConfigurationError, match="already has an option --telemetry") as info:
        Telemetry("own", version="1").install(cli)
    assert WAY_OUT in str(info.value)
    # Nothing was changed: the host still sees its own option.
    assert ClickRunner().invoke(cli, ["--telemetry"]).output == "own True\n"


def test_click_subcommand_with_the_flag_as_a_secondary_option_is_refused() -> None:
    @click.group()
    def cli() -> None:
        pass

    @cli.group()
    def db() -> None:
        pass

    @db.command()
    @click.option("--send/--telemetry", default=True)
    def sync(send: bool) -> None:
        pass

    with pytest.raises(ConfigurationError, match=r"the command 'db sync' already has an option"):
        Telemetry("deep", version="1").install(cli)


def test_click_group_with_a_telemetry_command_is_refused() -> None:
    @click.group()
    def cli() -> None:
        pass

    @cli.command()
    def telemetry() -> None:
        click.echo("the host's own")

    with pytest.raises(ConfigurationError, match="already has a command 'telemetry'") as info:
        Telemetry("grp", version="1").install(cli)
    assert WAY_OUT in str(info.value)
    assert ClickRunner().invoke(cli, ["telemetry"]).output == "the host's own\n"


def test_typer_option_named_by_its_parameter_is_refused() -> None:
    app = typer.Typer()

    @app.command()
    def build(telemetry: bool = False) -> None:  # Typer names it --telemetry/--no-telemetry
        print(telemetry)

    @app.command()
    def clean() -> None:
        pass

    with pytest.raises(ConfigurationError, match="the command 'build' already has an option"):
        Telemetry("typed", version="1").install(app)


def test_typer_option_declared_in_annotated_and_in_a_callback_is_refused() -> None:
    app = typer.Typer()

    @app.command()
    def build(send: Annotated[bool, typer.Option("--telemetry/--quiet")] = False) -> None:
        pass

    with pytest.raises(ConfigurationError, match="already has an option --telemetry"):
        Telemetry("annotated", version="1").install(app)

    other = typer.Typer()

    @other.callback()
    def main(report: str = typer.Option("", "--telemetry", "-t")) -> None:
        pass

    with pytest.raises(ConfigurationError, match="the app already has an option --telemetry"):
        Telemetry("callback", version="1").install(other)


def test_typer_telemetry_command_and_group_are_refused() -> None:
    app = typer.Typer()

    @app.command("telemetry")
    def own() -> None:
        pass

    @app.command()
    def build() -> None:
        pass

    with pytest.raises(ConfigurationError, match="already has a command 'telemetry'"):
        Telemetry("tcmd", version="1").install(app)

    grouped = typer.Typer()
    grouped.add_typer(typer.Typer(), name="telemetry")
    with pytest.raises(ConfigurationError, match="already has a command 'telemetry'"):
        Telemetry("tgrp", version="1").install(grouped)


def test_a_single_command_named_telemetry_is_no_conflict(base: Path) -> None:
    # Its one command is the root: there is no subcommand name to clash with.
    app = typer.Typer()

    @app.command()
    def telemetry(name: str) -> None:
        print("hello", name)

    Telemetry("solo", version="1").install(app)
    result = CliRunner().invoke(app, ["x", "--telemetry"])
    assert result.exit_code == 0 and result.stdout == "hello x\n"
    assert _kinds(base, "solo") == ["cli-command", "run-summary"]


# -- registered after install: refused when the tree is built or first run -------------------


def test_typer_command_registered_after_install_fails_loudly(base: Path) -> None:
    app = typer.Typer()
    Telemetry("late", version="1").install(app)

    @app.command()
    def build(telemetry: bool = False) -> None:
        print("host saw", telemetry)

    @app.command()
    def clean() -> None:
        pass

    # Typer builds the command tree before it runs anything: the error comes from there.
    with pytest.raises(ConfigurationError, match="the command 'build' already has an option"):
        CliRunner().invoke(app, ["build", "--telemetry"])
    with pytest.raises(ConfigurationError):
        app(["clean"], standalone_mode=False)
    assert not base.exists()


def test_typer_telemetry_command_registered_after_install_fails_loudly() -> None:
    app = typer.Typer()
    Telemetry("late2", version="1").install(app)

    @app.command("telemetry")
    def own() -> None:
        print("the host's own")

    @app.command()
    def build() -> None:
        pass

    with pytest.raises(ConfigurationError, match="already has a command 'telemetry'"):
        CliRunner().invoke(app, ["build"])


def test_click_names_added_after_install_fail_on_the_first_run(base: Path) -> None:
    @click.group()
    def cli() -> None:
        pass

    Telemetry("clicklate", version="1").install(cli)

    @cli.command()
    @click.option("--telemetry", is_flag=True)
    def build(telemetry: bool) -> None:
        click.echo(f"host saw {telemetry}")

    result = ClickRunner().invoke(cli, ["build", "--telemetry"])
    assert isinstance(result.exception, ConfigurationError)
    assert "host saw" not in result.output

    @click.group()
    def other() -> None:
        pass

    @other.command()
    def build2() -> None:
        pass

    Telemetry("clicklate2", version="1").install(other)
    other.add_command(click.Command("telemetry", callback=lambda: None))
    result = ClickRunner().invoke(other, ["build2"])
    assert isinstance(result.exception, ConfigurationError)
    assert "already has a command 'telemetry'" in str(result.exception)
    assert not base.exists()


# -- the way out: other names ---------------------------------------------------------------


def _host_with_both_names() -> tuple[click.Group, Telemetry]:
    @click.group()
    @click.option("--telemetry", is_flag=True, help="The host's own telemetry switch.")
    @click.pass_context
    def cli(ctx: click.Context, telemetry: bool) -> None:
        ctx.obj = telemetry

    @cli.command()
    @click.pass_obj
    def build(own: bool) -> None:
        click.echo(f"built; host's --telemetry={own}")

    @cli.command("telemetry")
    def own_group() -> None:
        click.echo("the host's telemetry command")

    telemetry = Telemetry("renamed", version="1", flag="--diagnostics", command="diagnostics")
    telemetry.install(cli)
    return cli, telemetry


def test_other_names_live_beside_the_hosts_own(base: Path) -> None:
    cli, _ = _host_with_both_names()
    runner = ClickRunner()
    own = runner.invoke(cli, ["--telemetry", "build"])
    assert own.exit_code == 0 and own.output == "built; host's --telemetry=True\n"
    assert not base.exists()  # the host's own flag records nothing of ours
    assert runner.invoke(cli, ["telemetry"]).output == "the host's telemetry command\n"

    recorded = runner.invoke(cli, ["build", "--diagnostics"])
    assert recorded.exit_code == 0 and recorded.output == "built; host's --telemetry=False\n"
    assert _kinds(base, "renamed") == ["cli-command", "run-summary"]
    (command,) = [d for d in store_documents(base / "renamed") if d["kind"] == "cli-command"]
    assert command["payload"]["flags"] == []  # type: ignore[index]

    both = runner.invoke(cli, ["--telemetry", "build", "--diagnostics"])
    assert both.output == "built; host's --telemetry=True\n"
    commands = [d for d in store_documents(base / "renamed") if d["kind"] == "cli-command"]
    assert commands[-1]["payload"]["flags"] == ["--telemetry"]  # type: ignore[index]

    status = runner.invoke(cli, ["diagnostics", "status"])
    assert status.exit_code == 0, status.output
    assert "recording:  per run: only runs given --diagnostics record" in status.output
    assert "documents:  4" in status.output
    help_text = runner.invoke(cli, ["--help"]).output
    assert "--diagnostics" in help_text and "diagnostics" in help_text
    assert "Inspect and manage the diagnostics recorded with --diagnostics." in help_text
    group_help = " ".join(runner.invoke(cli, ["diagnostics", "--help"]).output.split())
    assert "Usage: cli diagnostics" in group_help
    assert "recorded locally with --diagnostics" in group_help


def test_other_names_in_the_do_not_track_line_and_testing_record(
    base: Path, tmp_path: Path
) -> None:
    cli, _ = _host_with_both_names()
    blocked = ClickRunner().invoke(cli, ["build", "--diagnostics"], env={"DO_NOT_TRACK": "1"})
    assert blocked.exit_code == 0
    assert "DO_NOT_TRACK is set, so --diagnostics is ignored and nothing is recorded" in (
        blocked.stderr if hasattr(blocked, "stderr") else blocked.output
    )
    result = record(cli, ["build"], directory=tmp_path / "rec")
    assert [d["kind"] for d in result.documents] == ["cli-command", "run-summary"]
    assert result.stdout == "built; host's --telemetry=False\n"


def test_typer_host_with_other_names(base: Path) -> None:
    app = typer.Typer(add_completion=False)

    @app.command()
    def build(telemetry: bool = False) -> None:
        print("host saw", telemetry)

    @app.command("telemetry")
    def own() -> None:
        print("own")

    Telemetry("typed2", version="1", flag="--diagnostics", command="diagnostics").install(app)
    runner = CliRunner()
    assert runner.invoke(app, ["build", "--telemetry"]).stdout == "host saw True\n"
    assert runner.invoke(app, ["telemetry"]).stdout == "own\n"
    result = runner.invoke(app, ["build", "--diagnostics"])
    assert result.exit_code == 0 and result.stdout == "host saw False\n"
    assert _kinds(base, "typed2") == ["cli-command", "run-summary"]
    status = runner.invoke(app, ["diagnostics", "status"])
    assert status.exit_code == 0 and "documents:  2" in status.stdout


def test_single_command_app_routes_the_chosen_group_name(base: Path) -> None:
    @click.command()
    @click.argument("words", nargs=-1)
    def say(words: tuple[str, ...]) -> None:
        click.echo(" ".join(words))

    Telemetry("sayer", version="1", command="diag").install(say)
    assert ClickRunner().invoke(say, ["telemetry", "status"]).output == "telemetry status\n"
    routed = ClickRunner().invoke(say, ["diag", "status"])
    assert routed.exit_code == 0 and "app:        sayer" in routed.output


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"flag": "diagnostics"}, "must be a long option"),
        ({"flag": "-d"}, "must be a long option"),
        ({"flag": "--Diag"}, "must be a long option"),
        ({"flag": "--a b"}, "must be a long option"),
        ({"flag": "--help"}, "click's own option"),
        ({"flag": "--"}, "must be a long option"),
        ({"command": ""}, "must be a lower-case word"),
        ({"command": "diag nostics"}, "must be a lower-case word"),
        ({"command": "-x"}, "must be a lower-case word"),
        ({"command": "x" * 33}, "must be a lower-case word"),
        ({"command": 5}, "must be a lower-case word"),
    ],
)
def test_bad_names_are_refused(options: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Telemetry("names", version="1", **options)  # type: ignore[arg-type]


# -- the Typer flag itself ---------------------------------------------------------------


def test_typer_flag_is_built_without_a_throwaway_app(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer import core

    def no_apps(*args: object, **kwargs: object) -> None:
        raise AssertionError("a Typer app was created to build the flag")

    monkeypatch.setattr(typer, "Typer", no_apps)
    param = integration._new_typer_flag("--probe-direct")
    assert isinstance(param, core.TyperOption)
    assert param.opts == ["--probe-direct"] and param.is_flag and not param.expose_value
    assert param.help == integration.FLAG_HELP


def test_typer_flag_falls_back_when_typer_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer import core

    def changed(**kwargs: object) -> None:
        raise TypeError("TyperOption() got an unexpected keyword argument")

    monkeypatch.setattr(core, "TyperOption", changed)
    param = integration._new_typer_flag("--probe-fallback")
    assert param.opts == ["--probe-fallback"] and not param.expose_value


def test_the_flag_works_in_every_position_of_a_typer_app(base: Path) -> None:
    app = typer.Typer(add_completion=False)

    @app.command()
    def one(x: int = 1) -> None:
        print("one", x)

    @app.command()
    def two() -> None:
        print("two")

    Telemetry("positions", version="1").install(app)
    for args in (["--telemetry", "one"], ["one", "--telemetry", "--x", "2"]):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
    assert "--telemetry" in CliRunner().invoke(app, ["one", "--help"]).stdout
    assert _kinds(base, "positions").count("cli-command") == 2
