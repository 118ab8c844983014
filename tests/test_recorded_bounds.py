"""Issue 12: the recorder itself never writes a document outside the one definition of
a valid document (integers within 2^53 - 1, dates of 1970 to 2099), whatever the app
hands it; and a key file other users may read is made 0600, said in one line, and
shown by ``status`` (point 7)."""

from __future__ import annotations

import io
import os
import stat
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from localtelemetry import Telemetry
from localtelemetry._cli.app import make_app
from localtelemetry._contract import MAX_SAFE_INTEGER
from localtelemetry._record.documents import rfc3339
from localtelemetry._record.recorder import plain_value

import hostapp
from conftest import store_documents

POSIX = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


def _by_kind(documents: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str(d["kind"]): d for d in documents}


def test_extreme_values_from_the_app_stay_within_the_bounds(tmp_path: Path) -> None:
    telemetry = Telemetry("bounds", version="1", directory=tmp_path / "s", stderr=io.StringIO())
    run = telemetry.begin_run(True)
    assert run is not None
    with telemetry.build("compile") as build:
        for _ in range(3):
            build.cache_hit(2**53)  # each within the bound, their sum is not
            build.cache_miss(10**30)
            build.count("files", 2**60)
            build.warning("deprecation", 2**62)
        build.count("negative", -(10**30))
    telemetry.snapshot("state", counts={"rows": 10**40, "gone": -(2**80)}, duration_ms=1e300)
    telemetry.end_run(run, 2**70)  # an exit code only Windows could report
    documents = _by_kind(
        store_documents(tmp_path / "s" / "bounds")
    )  # each validated by the schemas
    payload = documents["build"]["payload"]
    assert payload["cache"] == {"hits": MAX_SAFE_INTEGER, "misses": MAX_SAFE_INTEGER}
    assert payload["counters"] == {"files": MAX_SAFE_INTEGER, "negative": -MAX_SAFE_INTEGER}
    assert payload["warnings"] == {"deprecation": MAX_SAFE_INTEGER}
    snapshot = documents["snapshot"]["payload"]
    assert snapshot["counts"] == {"gone": -MAX_SAFE_INTEGER, "rows": MAX_SAFE_INTEGER}
    assert snapshot["duration_ms"] is None
    assert documents["cli-command"]["payload"]["exit_code"] == MAX_SAFE_INTEGER
    assert documents["run-summary"]["payload"]["exit_code"] == MAX_SAFE_INTEGER


def test_parameter_values_outside_the_bounds_are_not_kept() -> None:
    class Safe:
        def value_hash(self, value: object) -> str:
            return "0" * 32

        def name(self, value: object) -> str:
            return str(value)

    safe: Any = Safe()
    assert plain_value("integer", MAX_SAFE_INTEGER, safe) == MAX_SAFE_INTEGER
    assert plain_value("integer", MAX_SAFE_INTEGER + 1, safe) == "0" * 32  # hashed
    assert plain_value("number", 1e300, safe) is None
    assert plain_value("number", float("nan"), safe) is None
    assert plain_value("number", -1.5, safe) == -1.5


@pytest.mark.parametrize(
    ("clock", "written"),
    [
        (datetime(1969, 7, 20, 20, 17, tzinfo=timezone.utc), "1970-01-01T00:00:00.000Z"),
        (datetime(1, 1, 1, tzinfo=timezone.utc), "1970-01-01T00:00:00.000Z"),
        (datetime(2250, 1, 1, tzinfo=timezone.utc), "2099-12-31T23:59:59.999Z"),
        (
            datetime(2099, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc),
            "2099-12-31T23:59:59.999Z",
        ),
        (datetime(2024, 2, 29, 1, 2, 3, 4000, tzinfo=timezone.utc), "2024-02-29T01:02:03.004Z"),
    ],
)
def test_a_clock_outside_the_schemas_range_gives_its_nearest_end(
    clock: datetime, written: str, tmp_path: Path
) -> None:
    assert rfc3339(clock) == written
    telemetry = Telemetry(
        "clock", version="1", directory=tmp_path / "s", now=lambda: clock, stderr=io.StringIO()
    )
    run = telemetry.begin_run(True)
    assert run is not None
    telemetry.end_run(run, 0)
    documents = store_documents(tmp_path / "s" / "clock")
    assert [d["kind"] for d in documents] == ["cli-command", "run-summary"]
    assert {d["created_at"] for d in documents} == {written}


# -- the key file's permissions (point 7) ----------------------------------------------


def _status() -> Any:
    return CliRunner().invoke(make_app(None), ["status", "--app", "hostapp"])


def _key_state(base: Path) -> tuple[str | None, bool | None]:
    """What status reports of the key (its JSON result: key_mode, key_private)."""
    from localtelemetry._cli.commands import status
    from localtelemetry._store import StoreLocation
    from localtelemetry._store.store import Store

    result = status(Store(StoreLocation("hostapp", base=base)), {})
    return result["key_mode"], result["key_private"]


@POSIX
def test_a_key_readable_by_others_is_made_private_and_shown(base: Path) -> None:
    first = CliRunner().invoke(hostapp.app, ["--telemetry", "ok"])
    assert first.exit_code == 0 and first.stderr == ""
    key = base / "hostapp" / ".hashkey"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert _key_state(base) == ("0600", True)
    original = key.read_bytes()
    key.chmod(0o644)

    assert _key_state(base) == ("0644", False)
    text = _status().stdout
    assert "mode 0644: readable by other users" in text
    assert stat.S_IMODE(key.stat().st_mode) == 0o644  # status only tells

    repaired = CliRunner().invoke(hostapp.app, ["--telemetry", "ok"])
    assert repaired.exit_code == 0
    assert repaired.stdout == "ok src=. include=* jobs=1 verbose=False\n"
    (line,) = repaired.stderr.splitlines()
    assert "readable by other users (mode 0644); made it 0600" in line
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert key.read_bytes() == original  # the same key: earlier hashes still match
    assert _key_state(base) == ("0600", True)
    assert "readable by other users" not in _status().stdout
    again = CliRunner().invoke(hostapp.app, ["--telemetry", "ok"])
    assert again.exit_code == 0 and again.stderr == ""
    assert len(store_documents(base / "hostapp")) == 12  # three runs, all recorded


@POSIX
@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o666])
def test_any_group_or_other_bit_is_repaired(base: Path, mode: int) -> None:
    assert CliRunner().invoke(hostapp.app, ["--telemetry", "ok"]).exit_code == 0
    key = base / "hostapp" / ".hashkey"
    key.chmod(mode)
    run = CliRunner().invoke(hostapp.app, ["--telemetry", "ok"])
    assert run.exit_code == 0 and f"mode {mode:04o}" in run.stderr
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
