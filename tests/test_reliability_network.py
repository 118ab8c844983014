"""Issue 5, no network, ever: every command runs in a subprocess whose socket creation
raises, and the test checks that nothing even tried.

A ``sitecustomize.py`` on PYTHONPATH (imported by Python at start-up, before any of our
code) replaces ``socket.socket`` (and ``_socket.socket``), ``create_connection``,
``socketpair``, ``getaddrinfo``, ``gethostbyname`` and ``fromfd`` with functions that
write the calling stack to a log and raise. The recorder swallows its own errors, so the
log, not the exit code, is what proves that nothing tried. Child processes (the demo's,
``run``'s) inherit the guard through the environment.

The static half, that no module of the package imports a networking module, is
tests/test_imports.py::test_package_imports_no_networking_module.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from localtelemetry._cli.app import make_app

from conftest import HOSTAPP, ROOT, TESTS, clean_env

SITECUSTOMIZE = r'''
"""Installed by tests/test_reliability_network.py: no sockets in this process."""
import os
import socket
import traceback

import _socket

_LOG = os.environ["LOCALTELEMETRY_TEST_NETWORK_LOG"]


def _refuse(*args, **kwargs):
    with open(_LOG, "a", encoding="utf-8") as log:
        log.write("".join(traceback.format_stack(limit=12)) + "----\n")
    raise OSError("network use refused by the test")


class _NoSocket(socket.socket):
    def __init__(self, *args, **kwargs):
        _refuse()


socket.socket = _NoSocket
_socket.socket = _NoSocket
for _name in ("create_connection", "socketpair", "getaddrinfo", "gethostbyname", "fromfd"):
    setattr(socket, _name, _refuse)
'''


def _commands() -> set[str]:
    return set(typer.main.get_command(make_app(None)).commands)


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX paths in the commands")
def test_every_command_runs_without_touching_the_network(tmp_path: Path) -> None:
    guard = tmp_path / "guard"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    log = tmp_path / "network.log"
    home, base = tmp_path / "home", tmp_path / "lt"
    home.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    env = clean_env(
        base,
        home,
        PYTHONPATH=os.pathsep.join(map(str, (guard, ROOT, TESTS))),
        LOCALTELEMETRY_TEST_NETWORK_LOG=str(log),
        TMPDIR=str(scratch),
    )

    def run(*args: str, expect: int = 0) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [sys.executable, *args],
            env=env,
            cwd=work,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert proc.returncode == expect, (args, proc.stdout[-500:], proc.stderr[-500:])
        return proc

    # The guard works: a socket cannot be made, and the attempt is logged.
    run("-c", "import socket; socket.socket()", expect=1)
    assert log.exists()
    log.unlink()

    lt = ("-m", "localtelemetry")
    app = ("--app", "hostapp")
    run(str(HOSTAPP), "--telemetry", "ok", "/srv/data.csv")  # a recorded run
    run(str(HOSTAPP), "--telemetry", "boom", expect=1)  # a recorded failure
    run(str(HOSTAPP), "telemetry", "status")  # the mounted management commands
    document = next((base / "hostapp").glob("cli-command-*.json")).name
    covered = {
        "status": [("status", *app), ("status", *app, "--format", "json")],
        "apps": [("apps",), ("apps", "--format", "json")],
        "list": [("list", *app)],
        "show": [("show", document, *app)],
        "explain": [("explain",)],
        "schema": [("schema", "build")],
        "validate": [("validate", *app)],
        "export": [
            ("export", *app, "--preview"),
            ("export", *app, "-o", "bundle.zip"),
            ("export", *app, "-o", "kept.zip", "--keep-hashes"),
        ],
        "inspect": [("inspect", "bundle.zip"), ("inspect", "bundle.zip", "--extract", "out")],
        "report": [
            ("report", "bundle.zip"),
            ("report", "bundle.zip", "--format", "json"),
            ("report", "bundle.zip", "--format", "html", "-o", "r.html"),
        ],
        "ingest": [("ingest", "bundle.zip", "--into", "duckdb:t.duckdb")],
        "purge": [("purge", *app, "--older-than", "30d", "--yes")],
        "reset-key": [("reset-key", *app)],
        "run": [("run", "--telemetry", "--app", "wrapped", "--", sys.executable, "-c", "0")],
        "demo": [("demo", "--dir", str(tmp_path / "demo"))],
    }
    for invocations in covered.values():
        for args in invocations:
            run(*lt, *args)
    for command in sorted(_commands()):  # any command added later: at least its help
        run(*lt, command, "--help")
    run(*lt, "--help")
    assert not log.exists(), "something tried to use the network:\n" + log.read_text()
    missing = _commands() - set(covered)
    assert not missing, f"run these commands here too (not only --help): {sorted(missing)}"
