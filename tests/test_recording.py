"""What a recorded run writes: the documents, their fields, modes, and principle 3
(nothing raw from argv, the environment or exceptions reaches disk)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import hostapp
from conftest import HOSTAPP, all_files, clean_env, run_script, store_documents

SECRET_PATH = "/home/jane/clients/acme-corp/ledger-2026.xlsx"
SECRET_FILTER = "customer_name LIKE 'Jane Doe%'"


def _record(base: Path, args: list[str]) -> tuple[int, list[dict[str, object]]]:
    result = CliRunner().invoke(hostapp.app, ["--telemetry", *args])
    return result.exit_code, store_documents(base / "hostapp")


def test_successful_run_writes_four_valid_documents_sharing_a_run_id(base: Path) -> None:
    code, documents = _record(
        base, ["ok", SECRET_PATH, "--include", SECRET_FILTER, "-v", "--jobs", "4"]
    )
    assert code == 0
    by_kind = {d["kind"]: d for d in documents}
    assert sorted(by_kind) == ["build", "cli-command", "run-summary", "snapshot"]
    assert len({d["run_id"] for d in documents}) == 1
    assert len({d["id"] for d in documents}) == 4
    for d in documents:
        assert d["app"] == {"name": "hostapp", "version": "2.0.1"}
        assert d["producer"]["name"] == "localtelemetry"
        assert d["hashing"]["algorithm"] == "blake3-keyed-128"

    cmd = by_kind["cli-command"]["payload"]
    assert isinstance(cmd, dict)
    assert cmd["command_path"] == ["ok"] and cmd["command_family"] == "ok"
    assert cmd["invocation_shape"] == "leaf"
    assert sorted(cmd["flags"]) == ["--include", "--jobs", "--verbose"]
    params = {p["name"]: p for p in cmd["parameters"]}
    assert params["jobs"]["type"] == "integer" and params["jobs"]["values"] == [4]
    assert params["verbose"]["values"] == [True]
    assert params["src"]["type"] == "path" and "paths" in params["src"]
    assert params["src"]["paths"][0]["extension"] == ".xlsx"
    assert params["src"]["paths"][0]["is_absolute"] is True
    assert params["include"]["type"] == "string" and len(params["include"]["hashes"]) == 1
    assert cmd["outcome"] == "success" and cmd["exit_code"] == 0
    assert cmd["error_kind"] is None and cmd["failure_stage"] is None

    build = by_kind["build"]["payload"]
    assert isinstance(build, dict)
    assert build["name"] == "compile" and build["status"] == "success"
    assert [p["name"] for p in build["phases"]] == ["parse"]
    assert build["counters"] == {"files": 12}
    # the same path hashes the same through a parameter and through b.path()
    assert build["inputs"][0]["path"]["hash"] == params["src"]["paths"][0]["hash"]
    assert build["filters"][0]["hash"] == params["include"]["hashes"][0]

    snap = by_kind["snapshot"]["payload"]
    assert isinstance(snap, dict)
    assert snap["counts"] == {"tables": 10}

    summary = by_kind["run-summary"]["payload"]
    assert isinstance(summary, dict)
    assert summary["documents"] == {"cli-command": 1, "build": 1, "snapshot": 1}
    assert summary["exit_code"] == 0 and summary["documents_failed"] == 0
    assert summary["recorder_overhead_ms"] >= 0


def test_nothing_raw_reaches_disk(base: Path) -> None:
    _record(base, ["ok", SECRET_PATH, "--include", SECRET_FILTER])
    _record(base, ["boom", "--where", SECRET_PATH])
    blob = b"".join(p.read_bytes() for p in all_files(base))
    for needle in (
        SECRET_PATH,
        "acme-corp",
        "ledger-2026",
        "Jane Doe",
        "jane",
        hostapp.FAKE_TOKEN,
        hostapp.FAKE_EMAIL,
        "example.org",
    ):
        assert needle.encode() not in blob, f"{needle!r} reached the store"


def test_failed_command_records_kind_stage_and_scrubbed_message(base: Path) -> None:
    code, documents = _record(base, ["boom", "--where", SECRET_PATH])
    assert code == 1
    (cmd,) = [d["payload"] for d in documents if d["kind"] == "cli-command"]
    assert isinstance(cmd, dict)
    assert cmd["outcome"] == "failure"
    assert cmd["error_kind"] == "CatalogError"
    assert cmd["failure_stage"] == "command"
    message = cmd["error_message"]
    assert message.startswith("cannot open <path:")
    assert "<redacted:" in message


@pytest.mark.parametrize(
    ("args", "code", "kind", "stage"),
    [
        (["fail", "--code", "3"], 3, "Exit", "exit"),
        (["ok", "--jobs", "many"], 2, None, "usage"),
        (["nosuch"], 2, None, "usage"),
    ],
)
def test_exit_and_usage_failures(
    base: Path, args: list[str], code: int, kind: str | None, stage: str
) -> None:
    exit_code, documents = _record(base, args)
    assert exit_code == code
    (cmd,) = [d["payload"] for d in documents if d["kind"] == "cli-command"]
    assert isinstance(cmd, dict)
    assert cmd["exit_code"] == code and cmd["outcome"] == "failure"
    assert cmd["failure_stage"] == stage
    if kind:
        assert cmd["error_kind"] == kind
    if args == ["nosuch"]:
        assert cmd["invocation_shape"] == "unknown_child"
        assert cmd["command_path"] == []


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_store_is_0700_and_files_0600(base: Path) -> None:
    _record(base, ["ok"])
    store = base / "hostapp"
    assert stat.S_IMODE(store.stat().st_mode) == 0o700
    files = all_files(store)
    assert any(p.name == ".hashkey" for p in files)
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_key_never_appears_in_documents(base: Path) -> None:
    _record(base, ["ok", "x"])
    store = base / "hostapp"
    key = (store / ".hashkey").read_bytes()
    assert len(key) == 32
    for path in all_files(store):
        if path.name == ".hashkey":
            continue
        data = path.read_bytes()
        assert key not in data and key.hex().encode() not in data


def test_documents_are_named_kind_dash_id(base: Path) -> None:
    _, documents = _record(base, ["ok"])
    names = {p.name for p in all_files(base / "hostapp")}
    for d in documents:
        assert f"{d['kind']}-{d['id']}.json" in names


def test_recorded_subprocess_run_writes_valid_documents(tmp_path: Path) -> None:
    home, base = tmp_path / "home", tmp_path / "store"
    home.mkdir()
    proc = run_script(HOSTAPP, ["--telemetry", "ok", SECRET_PATH], clean_env(base, home))
    assert proc.returncode == 0, proc.stderr
    documents = store_documents(base / "hostapp")
    assert len(documents) == 4
    summary = next(d for d in documents if d["kind"] == "run-summary")["payload"]
    assert isinstance(summary, dict)
    if sys.platform != "win32":
        assert summary["peak_rss_kib"] > 0
    assert all_files(home) == []


def test_enabled_reflects_the_run(base: Path) -> None:
    seen: list[bool] = []
    import typer

    app = typer.Typer()
    from localtelemetry import Telemetry

    telemetry = Telemetry("probe", version="1.0")
    telemetry.install(app)

    @app.command()
    def go() -> None:
        seen.append(telemetry.enabled)

    @app.command()
    def other() -> None:
        seen.append(telemetry.enabled)

    CliRunner().invoke(app, ["go"])
    CliRunner().invoke(app, ["go", "--telemetry"])
    assert seen == [False, True]
    assert telemetry.enabled is False  # after the run


def test_bad_arguments_to_the_build_api_never_raise_and_still_validate(base: Path) -> None:
    import typer

    from localtelemetry import Telemetry

    app = typer.Typer()
    telemetry = Telemetry("tolerant", version="1")
    telemetry.install(app)

    @app.command()
    def go() -> None:
        with telemetry.build("work") as b:
            b.count("x", "many")  # type: ignore[arg-type]
            b.cache_hit(-5)
            b.warning("w", 10**30)
            b.status = "not-a-status"
            b.path("p", 12345)  # type: ignore[arg-type]
        telemetry.snapshot("s", counts={"a": "b"}, duration_ms=-1)  # type: ignore[dict-item]
        print("done")

    @app.command()
    def other() -> None:
        pass

    plain = CliRunner().invoke(app, ["go"])
    recorded = CliRunner().invoke(app, ["go", "--telemetry"])
    assert (plain.exit_code, plain.stdout) == (recorded.exit_code, recorded.stdout) == (0, "done\n")
    documents = store_documents(base / "tolerant")  # validates every document
    build = next(d for d in documents if d["kind"] == "build")["payload"]
    assert isinstance(build, dict)
    assert build["status"] == "success" and build["cache"] == {"hits": 0, "misses": 0}


_PEAK_PROBE = """
import sys
from localtelemetry._record.recorder import peak_rss_kib
before = peak_rss_kib()
if sys.argv[1] == "grow":
    block = bytearray(64 * 1024 * 1024)
    block[::4096] = b"\\x01" * len(block[::4096])  # touch every page: resident
    del block
print(before, peak_rss_kib())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_peak_rss_is_this_programs_high_water_mark() -> None:
    def probe(mode: str) -> list[int]:
        out = subprocess.run(
            [sys.executable, "-c", _PEAK_PROBE, mode],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
        return [int(x) for x in out.split()]

    before, after = probe("grow")
    assert before > 0 and after >= before + 60 * 1024  # the 64 MiB it touched
    # Started by this (larger) pytest process, a small program reports its own peak,
    # not its parent's as getrusage's ru_maxrss would (it counts the pre-exec image).
    ballast = bytearray(256 * 1024 * 1024)
    ballast[::4096] = b"\x01" * len(ballast[::4096])
    small, _ = probe("stay")
    del ballast
    assert small < 128 * 1024
