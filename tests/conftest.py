"""Shared fixtures. Every test runs with HOME and LOCALTELEMETRY_DIR in temporary
directories, so nothing ever touches the real home directory."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
HOSTAPP = TESTS / "hostapp.py"
EXAMPLE = ROOT / "examples" / "notebook.py"

sys.path.insert(0, str(TESTS))

# Hypothesis draws the same examples on every run (derandomize): a test must not pass on
# one seed and fail on the next, so a case a run once found becomes an @example or an
# explicit regression test. To look for new failures, LOCALTELEMETRY_EXPLORE=N runs every
# Hypothesis test with N random examples instead (e.g. N=5000, with -k scrub).
EXPLORE = int(os.environ.get("LOCALTELEMETRY_EXPLORE", "0") or "0")
settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False, database=None)
settings.load_profile("explore" if EXPLORE else "repeatable")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if not EXPLORE:
        return
    for item in items:
        test = getattr(item, "obj", None)
        if getattr(test, "hypothesis", None) is None:
            continue
        # Past the tests' own @settings, which would keep their smaller max_examples.
        test._hypothesis_internal_use_settings = settings(  # type: ignore[union-attr]
            test._hypothesis_internal_use_settings,  # type: ignore[union-attr]
            max_examples=EXPLORE,
            derandomize=False,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )


@pytest.fixture(autouse=True)
def isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.setenv("LOCALTELEMETRY_DIR", str(tmp_path_factory.mktemp("unused-store")))
    for name in ("DO_NOT_TRACK", "LOCALTELEMETRY_DISABLED", "LOCALTELEMETRY_APP"):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh LOCALTELEMETRY_DIR (not created yet)."""
    path = tmp_path / "lt"
    monkeypatch.setenv("LOCALTELEMETRY_DIR", str(path))
    return path


def clean_env(base: Path, home: Path, **extra: str) -> dict[str, str]:
    """Environment for subprocesses: the real PATH etc., a temp HOME and store."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DO_NOT_TRACK", "LOCALTELEMETRY_DISABLED", "CI", "GITHUB_ACTIONS")
    }
    env.update(
        {
            "HOME": str(home),
            "LOCALTELEMETRY_DIR": str(base),
            "XDG_STATE_HOME": str(home / ".local" / "state"),
            "PYTHONPATH": str(ROOT),
        }
    )
    env.update(extra)
    return env


def run_script(
    script: Path, args: list[str], env: dict[str, str], **kw: object
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(script), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        **kw,
    )  # type: ignore[call-overload]


def all_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def store_documents(store: Path) -> list[dict[str, object]]:
    """Every document in a store, each validated against schema/ (fails the test if not)."""
    from localtelemetry.testing import read_documents

    return read_documents(store)


@pytest.fixture
def home(isolated_home: Path) -> Iterator[Path]:
    return isolated_home


@pytest.fixture(scope="session")
def built_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel ``pip`` builds from this checkout, once per session: tests of what
    ships check it, not the source tree (which has everything, shipped or not)."""
    import importlib.util

    out = tmp_path_factory.mktemp("wheel")
    # With hatchling at hand, build offline; else pip fetches it, as an install does.
    isolation = [] if importlib.util.find_spec("hatchling") is None else ["--no-build-isolation"]
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", *isolation, "-w", str(out), "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    wheels = list(out.glob("localtelemetry-*.whl"))
    assert proc.returncode == 0 and len(wheels) == 1, proc.stdout + proc.stderr
    return wheels[0]


@pytest.fixture(scope="session")
def installed_wheel(built_wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built wheel unpacked as an installation would lay it out (a directory to put
    first on PYTHONPATH, in place of the checkout)."""
    import zipfile

    target = tmp_path_factory.mktemp("site")
    with zipfile.ZipFile(built_wheel) as wheel:
        wheel.extractall(target)
    return target
