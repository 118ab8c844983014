"""ruff (lint + format) and mypy --strict stay clean: checked as part of the suite."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib.metadata import version

import pytest

from conftest import ROOT


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_ruff_lint_and_format() -> None:
    lint = _run("ruff", "check", ".")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    fmt = _run("ruff", "format", "--check", ".")
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_mypy_strict() -> None:
    result = _run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("tool", ["ruff", "mypy"])
def test_the_tools_are_the_pinned_versions(tool: str) -> None:
    # The two tests above are only reproducible with the versions pyproject.toml pins:
    # another version may find other things in the same code.
    # (tomllib is Python 3.11+; the requirement lines are simple enough for a regex)
    pins = re.findall(rf'^\s*"({tool}\b[^"]*)",', (ROOT / "pyproject.toml").read_text(), re.M)
    assert len(pins) == 1, pins
    pin = pins[0]
    assert re.fullmatch(rf"{tool}==[0-9][0-9a-z.]*", pin), f"{pin}: pin an exact version"
    assert version(tool) == pin.split("==")[1], f"pip install -e '.[test]' (wants {pin})"
