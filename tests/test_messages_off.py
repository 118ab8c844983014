"""``Telemetry(..., messages=False)``: an app author turns off storing free text."""

from __future__ import annotations

from pathlib import Path

import click
import typer
from click.testing import CliRunner as ClickRunner
from typer.testing import CliRunner

from localtelemetry import Telemetry

from conftest import all_files, store_documents


def _check(store: Path, *, messages: int) -> None:
    documents = store_documents(store)
    failed = [d["payload"] for d in documents if d["kind"] in ("cli-command", "build")]
    assert failed and all(p["error_kind"] for p in failed)  # type: ignore[index]
    assert all(p["error_message"] is None for p in failed)  # type: ignore[index]
    (summary,) = [d["payload"] for d in documents if d["kind"] == "run-summary"]
    assert summary["redactions"] == {"message": messages}  # type: ignore[index]
    blob = b"".join(p.read_bytes() for p in all_files(store))
    assert b"qz-message-text" not in blob


def test_typer_app_stores_no_message(tmp_path: Path) -> None:
    app = typer.Typer()
    telemetry = Telemetry("quiet", version="1.0", directory=tmp_path, messages=False)
    telemetry.install(app)

    @app.command()
    def go() -> None:
        with telemetry.build("work"):
            raise RuntimeError("qz-message-text")

    @app.command()
    def other() -> None:
        pass

    result = CliRunner().invoke(app, ["go", "--telemetry"])
    assert isinstance(result.exception, RuntimeError)
    _check(tmp_path / "quiet", messages=2)  # the build's and the command's


def test_click_app_stores_no_message_even_for_usage_errors(tmp_path: Path) -> None:
    @click.command()
    @click.option("--count", type=int)
    def cli(count: int) -> None:
        pass

    Telemetry("quietc", version="1.0", directory=tmp_path, messages=False).install(cli)
    result = ClickRunner().invoke(cli, ["--count", "qz-message-text", "--telemetry"])
    assert result.exit_code == 2
    _check(tmp_path / "quietc", messages=1)


def test_messages_are_on_by_default(tmp_path: Path) -> None:
    app = typer.Typer()
    telemetry = Telemetry("loud", version="1.0", directory=tmp_path)
    assert telemetry.messages is True
    telemetry.install(app)

    @app.command()
    def go() -> None:
        raise RuntimeError("something broke")

    @app.command()
    def other() -> None:
        pass

    CliRunner().invoke(app, ["go", "--telemetry"])
    (command,) = [d for d in store_documents(tmp_path / "loud") if d["kind"] == "cli-command"]
    assert command["payload"]["error_message"] == "something broke"  # type: ignore[index]
