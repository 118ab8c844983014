"""localtelemetry.testing, as a CLI author would use it."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from localtelemetry import Telemetry
from localtelemetry.testing import record

import hostapp


def test_record_typer_app(tmp_path: Path) -> None:
    result = record(hostapp.app, ["ok", "src", "--jobs", "2"], directory=tmp_path)
    assert result.exit_code == 0
    assert "ok src=src" in result.stdout
    (command,) = result.of_kind("cli-command")
    assert command["payload"]["command_path"] == ["ok"]
    assert len(result.documents) == 4
    assert result.store_directory == tmp_path / "hostapp"


def test_record_without_flag_records_nothing(tmp_path: Path) -> None:
    result = record(hostapp.app, ["ok"], directory=tmp_path, telemetry=False)
    assert result.documents == []


def test_record_exposes_exceptions(tmp_path: Path) -> None:
    result = record(hostapp.app, ["boom"], directory=tmp_path)
    assert result.exit_code == 1
    assert type(result.exception).__name__ == "CatalogError"


def test_record_click_app(tmp_path: Path) -> None:
    @click.command()
    def hi() -> None:
        click.echo("hi")

    Telemetry("clicktest", version="1").install(hi)
    result = record(hi, [], directory=tmp_path)
    assert result.stdout == "hi\n"
    assert [d["kind"] for d in result.documents] == ["cli-command", "run-summary"]


def test_record_requires_install(tmp_path: Path) -> None:
    @click.command()
    def bare() -> None:
        pass

    with pytest.raises(TypeError, match="install"):
        record(bare, [], directory=tmp_path)
