"""Test helpers for CLI authors: run your app with ``--telemetry`` into a temporary
store and read back what it recorded.

    from localtelemetry.testing import record

    def test_build_is_recorded(tmp_path):
        result = record(app, ["build", "src"], directory=tmp_path)
        assert result.exit_code == 0
        (command,) = result.of_kind("cli-command")
        assert command["payload"]["command_path"] == ["build"]

``result.documents`` are the documents that run wrote, and only those: ``record`` can be
called any number of times on the same directory. They are read from the files the run
wrote, as it wrote them, so the cost does not grow with the store. Every document read
back is validated against the published schemas (pass ``validate=False`` to skip), so a
test fails if the app records something invalid.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._store import StoreLocation
from ._store.listing import load_document
from ._store.store import Store
from ._telemetry import (
    Telemetry,
    add_observer,
    installed_telemetry,
    remove_observer,
    store_is_pinned,
)

__all__ = ["RecordedRun", "read_documents", "record"]


@dataclass
class RecordedRun:
    """What one run printed and recorded: ``documents`` are those this run wrote, in the
    order written; ``run_id`` is theirs (None when the run recorded nothing)."""

    exit_code: int
    stdout: str
    stderr: str
    store_directory: Path
    documents: list[dict[str, Any]] = field(default_factory=list)
    exception: BaseException | None = None
    run_id: str | None = None

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [d for d in self.documents if d.get("kind") == kind]


def read_documents(store_directory: Path, *, validate: bool = True) -> list[dict[str, Any]]:
    """All documents in a store directory, oldest first; validated unless told not to."""
    location = StoreLocation(store_directory.name, base=store_directory.parent)
    documents = [load_document(e.path) for e in Store(location).entries()]
    if validate:
        _validate(documents)
    return documents


def _validate(documents: list[dict[str, Any]]) -> None:
    from ._contract.schemas import validation_errors

    for document in documents:
        errors = validation_errors(document)
        if errors:
            raise AssertionError(f"document {document.get('id')} is invalid: {errors}")


def _read_written(paths: list[Path], *, validate: bool) -> list[dict[str, Any]]:
    """The documents at ``paths`` (those a run wrote), skipping any that retention has
    removed since; nothing else in the store is listed or read."""
    documents = []
    for path in paths:
        try:
            documents.append(load_document(path))
        except FileNotFoundError:
            continue
    if validate:
        _validate(documents)
    return documents


def _installed(app: Any) -> Telemetry:
    telemetry = installed_telemetry(app)
    if telemetry is None:
        raise TypeError("install telemetry on the app first: telemetry.install(app)")
    return telemetry


def record(
    app: Any,
    args: Sequence[str],
    *,
    directory: str | os.PathLike[str],
    env: Mapping[str, str] | None = None,
    input: str | None = None,
    telemetry: bool = True,
    validate: bool = True,
) -> RecordedRun:
    """Run ``app`` in-process with ``--telemetry`` (unless ``telemetry=False``), with
    ``LOCALTELEMETRY_DIR`` pointing at ``directory``; return output and documents."""
    base = Path(directory)
    telemetry_obj = _installed(app)  # fails early, with a clear message, if not installed
    run_env = {"LOCALTELEMETRY_DIR": str(base), "DO_NOT_TRACK": "", "LOCALTELEMETRY_DISABLED": ""}
    run_env.update(env or {})
    argv = [telemetry_obj.flag, *args] if telemetry else list(args)
    written: list[Path] = []

    def observe(path: Path, data: bytes) -> None:
        written.append(path)

    add_observer(telemetry_obj, observe)
    result: Any
    try:
        if hasattr(app, "registered_commands"):
            from typer.testing import CliRunner

            result = _runner(CliRunner).invoke(app, argv, env=run_env, input=input)
        else:
            from click.testing import CliRunner as ClickRunner

            result = _runner(ClickRunner).invoke(app, argv, env=run_env, input=input)
    finally:
        remove_observer(telemetry_obj, observe)
    if store_is_pinned(telemetry_obj):
        store_directory = telemetry_obj.location.directory  # the author pinned the store
    else:
        store_directory = base / telemetry_obj.app_name
    documents = _read_written(written, validate=validate)
    exception = result.exception if not isinstance(result.exception, SystemExit) else None
    run_ids = [d.get("run_id") for d in documents]
    return RecordedRun(
        exit_code=result.exit_code,
        stdout=result.stdout,
        stderr=_stderr(result),
        store_directory=store_directory,
        documents=documents,
        exception=exception,
        run_id=run_ids[0] if run_ids and isinstance(run_ids[0], str) else None,
    )


def _runner(runner_class: Any) -> Any:
    """Click before 8.2 mixes stderr into stdout unless told not to."""
    try:
        return runner_class(mix_stderr=False)
    except TypeError:  # click 8.2+: always separate, and the argument is gone
        return runner_class()


def _stderr(result: Any) -> str:
    try:
        return str(result.stderr)
    except ValueError:  # stderr was not captured separately
        return ""
