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


def test_second_record_into_the_same_directory_returns_only_its_run(tmp_path: Path) -> None:
    first = record(hostapp.app, ["ok", "src"], directory=tmp_path)
    second = record(hostapp.app, ["fail", "--code", "4"], directory=tmp_path)
    assert [d["kind"] for d in first.documents] == [
        "build",
        "snapshot",
        "cli-command",
        "run-summary",
    ]
    (command,) = second.of_kind("cli-command")  # the documented idiom keeps working
    assert command["payload"]["command_path"] == ["fail"]
    assert [d["kind"] for d in second.documents] == ["cli-command", "run-summary"]
    assert {d["run_id"] for d in second.documents} == {second.run_id}
    assert first.run_id != second.run_id and first.run_id is not None
    assert len(list((tmp_path / "hostapp").glob("*.json"))) == 6


def test_record_reads_only_what_its_run_wrote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import localtelemetry.testing as testing_module
    from localtelemetry._store.store import Store

    first = record(hostapp.app, ["ok"], directory=tmp_path)
    store = tmp_path / "hostapp"
    template = (store / f"snapshot-{first.of_kind('snapshot')[0]['id']}.json").read_bytes()
    old_id = first.of_kind("snapshot")[0]["id"]
    for n in range(3000):  # an old, big store: same document under 3,000 older ids
        new_id = f"00{n:024d}"[:26].replace("0", "1", 1)
        (store / f"snapshot-{new_id}.json").write_bytes(
            template.replace(old_id.encode(), new_id.encode())
        )

    opened: list[Path] = []
    real_load = testing_module.load_document

    def counting_load(path: Path) -> dict[str, object]:
        opened.append(Path(path))
        return real_load(path)

    listed: list[str] = []

    def no_listing(self: Store, *args: object, **kwargs: object) -> object:
        listed.append("listed")
        raise AssertionError("record() listed the store")

    monkeypatch.setattr(testing_module, "load_document", counting_load)
    monkeypatch.setattr(Store, "entries", no_listing)
    monkeypatch.setattr(Store, "ids", no_listing)
    result = record(hostapp.app, ["fail"], directory=tmp_path)
    assert listed == []
    assert [p.name for p in opened] == [f"{d['kind']}-{d['id']}.json" for d in result.documents]
    assert len(opened) == 2
    assert [d["kind"] for d in result.documents] == ["cli-command", "run-summary"]


def test_location_says_where_documents_go(tmp_path: Path) -> None:
    telemetry = Telemetry("where", version="1", directory=tmp_path)
    assert str(telemetry.location) == str(tmp_path / "where")
    assert (
        repr(telemetry.location) == f"StoreLocation('where', directory={str(tmp_path / 'where')!r})"
    )
    assert not (tmp_path / "where").exists()  # saying where creates nothing
