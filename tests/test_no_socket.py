"""No network, proven by Python's audit hooks: every command below runs as a real
subprocess in which a ``sys.addaudithook`` logs each network audit event (making a
socket, connecting, binding, resolving a name, sending, opening a URL or an HTTP
connection), and the test asserts the command succeeded and the log holds none.

Why audit hooks and not only a module check: jsonschema-rs, which validates documents
(built with ``offline=True``: it never fetches a ``$ref``), imports the stdlib ``socket``
module indirectly, through ``email.utils``. A module being imported proves nothing
either way; a socket being created is what an audit hook sees, whichever module asks.

The hook is installed by a ``sitecustomize.py`` on PYTHONPATH, so it runs in every
Python process the command starts (the report's worker processes, the program ``run``
records) before any of their code. Each process writes an ``armed`` line first: a
command whose log lacks one was not watched, and the test fails. The control cases
show the hook does catch a socket, a name lookup and an HTTP connection.

tests/test_reliability_network.py makes socket creation raise in every command (the
refusing half); this file watches, so that a use the code would swallow is seen too.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conftest import EXAMPLE, ROOT, TESTS, clean_env

#: The audit events that a network use raises (Python's audit events table).
NETWORK_EVENTS = (
    "socket.__new__",
    "socket.connect",
    "socket.bind",
    "socket.getaddrinfo",
    "socket.gethostbyname",
    "socket.sendto",
    "urllib.Request",
    "http.client.connect",
)

SITECUSTOMIZE = """
\"\"\"Installed by tests/test_no_socket.py: logs network audit events of this process.\"\"\"
import json
import os
import sys
import traceback

_LOG = os.environ["LOCALTELEMETRY_TEST_AUDIT_LOG"]
_EVENTS = frozenset(json.loads(os.environ["LOCALTELEMETRY_TEST_AUDIT_EVENTS"]))


def _write(entry):
    with open(_LOG, "a", encoding="utf-8") as log:
        log.write(json.dumps(entry) + "\\n")


def _hook(event, args):
    if event not in _EVENTS:
        return
    try:
        shown = repr(args[1:] if event == "socket.__new__" else args)
    except Exception:
        shown = "?"
    _write(
        {
            "event": event,
            "pid": os.getpid(),
            "args": shown,
            "stack": "".join(traceback.format_stack(limit=10)[:-1]),
        }
    )


_write({"armed": os.getpid(), "argv": sys.argv})
sys.addaudithook(_hook)
"""


@dataclass
class Watched:
    """One command's exit and what its processes logged."""

    proc: subprocess.CompletedProcess[str]
    armed: list[dict[str, Any]]
    events: list[dict[str, Any]]


class Guarded:
    """Runs Python commands under the audit hook, one log per command."""

    def __init__(self, root: Path) -> None:
        guard = root / "guard"
        guard.mkdir()
        (guard / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
        self.logs = root / "logs"
        self.logs.mkdir()
        self.home, self.base, self.work = root / "home", root / "lt", root / "work"
        self.home.mkdir()
        self.work.mkdir()
        self.env = clean_env(
            self.base,
            self.home,
            PYTHONPATH=os.pathsep.join(map(str, (guard, ROOT, TESTS))),
            LOCALTELEMETRY_TEST_AUDIT_EVENTS=json.dumps(NETWORK_EVENTS),
        )
        self.runs = 0

    def run(self, *args: str, expect: int = 0) -> Watched:
        self.runs += 1
        log = self.logs / f"{self.runs}.jsonl"
        proc = subprocess.run(
            [sys.executable, *args],
            env={**self.env, "LOCALTELEMETRY_TEST_AUDIT_LOG": str(log)},
            cwd=self.work,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert proc.returncode == expect, (args, proc.stdout[-800:], proc.stderr[-800:])
        entries = [json.loads(line) for line in log.read_text("utf-8").splitlines()]
        armed = [e for e in entries if "armed" in e]
        assert armed, f"the audit hook was not installed in {args}"
        return Watched(proc, armed, [e for e in entries if "event" in e])

    def quiet(self, *args: str, expect: int = 0) -> Watched:
        """Run ``args`` and fail on any network event, showing where it came from."""
        watched = self.run(*args, expect=expect)
        assert not watched.events, f"{args} used the network:\n" + "\n".join(
            f"{e['event']} {e['args']}\n{e['stack']}" for e in watched.events
        )
        return watched

    def lt(self, *args: str, expect: int = 0) -> Watched:
        """``python -m localtelemetry ARGS``, the real console entry point."""
        return self.quiet("-m", "localtelemetry", *args, expect=expect)


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Guarded:
    return Guarded(tmp_path_factory.mktemp("no-socket"))


@pytest.fixture(scope="module")
def recorded(guarded: Guarded) -> dict[str, Watched]:
    """Recorded runs of the example app (one that succeeds, one that fails), then the
    export of their store: what every later command reads."""
    notes = guarded.work / "notes"
    notes.mkdir()
    (notes / "a.md").write_text("see [[b]] and [[missing]]\n", encoding="utf-8")
    (notes / "b.md").write_text("plain\n", encoding="utf-8")
    return {
        "index": guarded.quiet(str(EXAMPLE), "index", str(notes), "--telemetry"),
        "check": guarded.quiet(str(EXAMPLE), "check", str(notes), "--telemetry", expect=1),
        "export": guarded.lt("export", "--app", "nb", "-o", "bundle.zip"),
    }


# -- the hook can fail a test ------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "event"),
    [
        ("import socket; socket.socket().close()", "socket.__new__"),
        ("import socket; socket.getaddrinfo('localhost', None)", "socket.getaddrinfo"),
        (
            "import http.client\n"
            "try:\n"
            "    http.client.HTTPConnection('127.0.0.1', 9, timeout=2).connect()\n"
            "except OSError:\n"
            "    pass",
            "http.client.connect",
        ),
    ],
)
def test_the_hook_catches_a_process_that_uses_the_network(
    guarded: Guarded, code: str, event: str
) -> None:
    watched = guarded.run("-c", code)
    assert event in {e["event"] for e in watched.events}
    with pytest.raises(AssertionError, match="used the network"):
        guarded.quiet("-c", code)


# -- recording ---------------------------------------------------------------------------


def test_a_recorded_run_of_a_host_app_opens_no_socket(
    guarded: Guarded, recorded: dict[str, Watched]
) -> None:
    # (the fixture ran them through Guarded.quiet: no event; here, that they recorded)
    kinds = {p.name.rsplit("-", 1)[0] for p in (guarded.base / "nb").glob("*.json")}
    assert {"cli-command", "build", "run-summary"} <= kinds
    assert "indexed 2 notes" in recorded["index"].proc.stdout


def test_run_records_a_program_without_a_socket(guarded: Guarded) -> None:
    guarded.lt("run", "--telemetry", "--app", "wrapped", "--", sys.executable, "-c", "0")
    assert list((guarded.base / "wrapped").glob("cli-command-*.json"))


# -- sharing and receiving ---------------------------------------------------------------


def test_export_opens_no_socket(guarded: Guarded, recorded: dict[str, Watched]) -> None:
    assert (guarded.work / "bundle.zip").stat().st_size > 0
    assert "wrote bundle.zip" in recorded["export"].proc.stdout
    guarded.lt("export", "--app", "nb", "--preview")
    guarded.lt("export", "--app", "nb", "-o", "kept.zip", "--keep-hashes")


def test_validate_opens_no_socket(guarded: Guarded, recorded: dict[str, Watched]) -> None:
    store = guarded.lt("validate", "--app", "nb", "--format", "json")
    result = json.loads(store.proc.stdout)["result"]
    assert result["checked"] >= 6 and result["invalid"] == 0
    guarded.lt("inspect", "bundle.zip", "--extract", "extracted")
    kinds = sorted(
        str(p.relative_to(guarded.work)) for p in (guarded.work / "extracted").glob("*/")
    )
    extracted = guarded.lt("validate", *kinds, "--format", "json")
    checked = json.loads(extracted.proc.stdout)["result"]
    assert checked["checked"] == result["checked"] and checked["invalid"] == 0


def test_inspect_opens_no_socket(guarded: Guarded, recorded: dict[str, Watched]) -> None:
    text = guarded.lt("inspect", "bundle.zip")
    assert "verified:   yes" in text.proc.stdout
    guarded.lt("inspect", "bundle.zip", "--format", "json")


def test_report_opens_no_socket(guarded: Guarded, recorded: dict[str, Watched]) -> None:
    text = guarded.lt("report", "bundle.zip")
    assert "runs:       2 commands, 1 failed" in text.proc.stdout
    guarded.lt("report", "bundle.zip", "--format", "json")
    guarded.lt("report", "bundle.zip", "--format", "html", "-o", "report.html")
    # Enough bundles for worker processes: each of them is watched too.
    many = guarded.work / "many"
    many.mkdir(exist_ok=True)
    for n in range(64):
        shutil.copy(guarded.work / "bundle.zip", many / f"b{n:02}.zip")
    workers = guarded.lt("report", "--jobs", "2", "many", "--format", "json")
    assert len(workers.armed) >= 3, workers.armed  # this process and its two workers
    assert json.loads(workers.proc.stdout)["result"]["sources"]["bundles"] == 64


@pytest.mark.skipif(
    importlib.util.find_spec("duckdb") is None, reason="duckdb is not installed here"
)
def test_ingest_into_duckdb_opens_no_socket(guarded: Guarded, recorded: dict[str, Watched]) -> None:
    watched = guarded.lt("ingest", "bundle.zip", "--into", "duckdb:t.duckdb", "--format", "json")
    result = json.loads(watched.proc.stdout)["result"]
    assert result["inserted"] == result["documents"] > 0
    assert (guarded.work / "t.duckdb").exists()
