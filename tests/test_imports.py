"""Principle 5 (cheap when off), the public surface, and no network code at all."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import localtelemetry

from conftest import ROOT, clean_env

HEAVY = ("orjson", "blake3", "jsonschema", "jsonschema_rs", "rich", "platformdirs", "referencing")
NETWORK = {
    "socket",
    "ssl",
    "http",
    "urllib",
    "requests",
    "httpx",
    "asyncio",
    "ftplib",
    "smtplib",
    "xmlrpc",
    "telnetlib",
    "selectors",
    "aiohttp",
    "urllib3",
}

PROBE = r"""
import json, sys
sys.argv = ["hostapp", *sys.argv[1:]]
import hostapp
try:
    hostapp.app()
except SystemExit:
    pass
print(json.dumps(sorted(m for m in sys.modules)), file=sys.stderr)
"""


def _modules_after(args: list[str], tmp_path: Path) -> set[str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = clean_env(tmp_path / "store", home)
    env["PYTHONPATH"] = f"{ROOT}:{ROOT / 'tests'}"
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return set(json.loads(proc.stderr.strip().splitlines()[-1]))


def test_disabled_path_imports_nothing_heavy(tmp_path: Path) -> None:
    modules = _modules_after(["ok", "src", "--include", "*.py"], tmp_path)
    loaded = [m for m in HEAVY if m in modules]
    assert loaded == [], f"the disabled path imported {loaded}"
    assert not (tmp_path / "store").exists()


def test_enabled_path_does_not_import_validation_or_rich(tmp_path: Path) -> None:
    modules = _modules_after(["--telemetry", "ok", "src"], tmp_path)
    assert "blake3" in modules  # it really recorded
    assert len(list((tmp_path / "store" / "hostapp").glob("run-summary-*.json"))) == 1
    assert not {"jsonschema", "jsonschema_rs", "rich"} & modules
    # The recording path encodes its few documents itself: importing orjson (and the
    # json package it pulls in) would cost more than the encoding (issue 4).
    assert "orjson" not in modules
    if sys.platform.startswith("linux"):  # peak RSS comes from /proc/self/status there
        assert "resource" not in modules


def test_a_run_within_the_limits_neither_lists_nor_prunes(tmp_path: Path) -> None:
    _modules_after(["--telemetry", "ok", "src"], tmp_path)  # first run: a full pass
    modules = _modules_after(["--telemetry", "ok", "src"], tmp_path)
    assert len(list((tmp_path / "store" / "hostapp").glob("run-summary-*.json"))) == 2
    assert "localtelemetry._store.store" in modules
    # The cheap retention check sufficed: the listing and pruning code never loaded.
    assert "localtelemetry._store.listing" not in modules
    assert "localtelemetry._store.retention" not in modules


def test_a_recorded_run_loads_only_the_recording_modules(tmp_path: Path) -> None:
    """Every module a recorded run imports costs the host about 0.1 ms in import
    machinery alone (issue 14), so the set is pinned: ``open_run`` lives in the recorder,
    not in a module of its own (``_record/session`` re-exports it for ``run``)."""
    _modules_after(["--telemetry", "ok", "src"], tmp_path)  # first run: key, full pass
    modules = _modules_after(["--telemetry", "ok", "src"], tmp_path)
    ours = sorted(m for m in modules if m == "localtelemetry" or m.startswith("localtelemetry."))
    assert ours == [
        "localtelemetry",
        "localtelemetry._contract",
        "localtelemetry._integration",
        "localtelemetry._record",
        "localtelemetry._record.documents",
        "localtelemetry._record.recorder",
        "localtelemetry._store",
        "localtelemetry._store.store",
        "localtelemetry._telemetry",
    ]


def test_import_of_the_package_is_light() -> None:
    code = "import sys, localtelemetry; print(sorted(sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    for module in (*HEAVY, "typer", "click"):
        assert f"'{module}'" not in out, module
    # The maintainer API loads on first use, not in every host CLI's run (issue 4).
    for module in (
        "localtelemetry._receive.reader",
        "localtelemetry._record.recorder",
        "localtelemetry._store.store",
        "localtelemetry._store.listing",
        "localtelemetry._store.retention",
        "zipfile",
    ):
        assert f"'{module}'" not in out, module


def test_lazy_reader_names_resolve_to_the_reader_module() -> None:
    from localtelemetry._receive import reader as _reader

    for name in ("Document", "Environment", "read_bundle", "read_sources", "read_store"):
        assert getattr(localtelemetry, name) is getattr(_reader, name)
        assert name in dir(localtelemetry)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        localtelemetry.nope  # noqa: B018


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize(
    "path", sorted((ROOT / "localtelemetry").rglob("*.py")), ids=lambda p: p.name
)
def test_package_imports_no_networking_module(path: Path) -> None:
    assert not (_imported_modules(path) & NETWORK)


def test_all_is_sorted_and_complete() -> None:
    exported = localtelemetry.__all__
    # isort-style order, as ruff's RUF022 keeps it: CONSTANTS, Classes, then functions
    assert exported == sorted(
        exported, key=lambda n: (0 if n.isupper() else 1 if n[0].isupper() else 2, n)
    )
    public = {n for n in dir(localtelemetry) if not n.startswith("_") or n == "__version__"}
    submodules = {"testing"}
    assert public - submodules - set(exported) == set()
    for name in exported:
        assert hasattr(localtelemetry, name)


PLAIN_HOST = r"""
import json, sys
import typer
from localtelemetry import Telemetry

app = typer.Typer(add_completion=False)
Telemetry("plainhost", version="1.0").install(app)

@app.command()
def hello(name: str = "x") -> None:
    print("hello", name)

sys.argv = ["plainhost", *sys.argv[1:]]
try:
    app()
except SystemExit:
    pass
print(json.dumps(sorted(m for m in sys.modules if m.startswith("localtelemetry"))), file=sys.stderr)
"""


def test_the_disabled_path_loads_only_the_face_and_the_naming_rules(tmp_path: Path) -> None:
    env = clean_env(tmp_path / "store", tmp_path)
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run(
        [sys.executable, "-c", PLAIN_HOST, "--name", "y"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "hello y" in proc.stdout, proc.stderr
    modules = json.loads(proc.stderr.strip().splitlines()[-1])
    assert modules == [
        "localtelemetry",
        "localtelemetry._contract",
        "localtelemetry._integration",
        "localtelemetry._telemetry",
    ]
