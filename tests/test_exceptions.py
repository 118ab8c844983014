"""The error hierarchy: every error class lives in ``_exceptions``, under one root, and
the tree drawn in its docstring is the tree the classes form."""

from __future__ import annotations

import ast
import inspect
import re

import pytest

import localtelemetry
from localtelemetry import Limits
from localtelemetry._contract import exceptions as _exceptions
from localtelemetry._contract.exceptions import ConfigurationError, LocalTelemetryError

from conftest import ROOT


def _classes() -> dict[str, type[BaseException]]:
    return {
        name: value
        for name, value in vars(_exceptions).items()
        if inspect.isclass(value) and issubclass(value, BaseException)
    }


def _drawn_tree() -> dict[str, str | None]:
    """Each class named in the docstring's drawing -> its drawn parent."""
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in (_exceptions.__doc__ or "").splitlines():
        match = re.match(r"^(\s*(?:[│ ]*[├└]── )?)([A-Z]\w+)\b", line)
        if match is None or not line.startswith("    "):
            continue
        depth = len(match.group(1))
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parents[match.group(2)] = stack[-1][1] if stack else None
        stack.append((depth, match.group(2)))
    return parents


def test_the_docstring_draws_every_class_with_its_parent() -> None:
    classes = _classes()
    drawn = _drawn_tree()
    assert set(drawn) == set(classes)
    for name, parent in drawn.items():
        bases = [b for b in classes[name].__bases__ if issubclass(b, LocalTelemetryError)]
        assert [b.__name__ for b in bases] == ([parent] if parent else []), name
    assert drawn["LocalTelemetryError"] is None


def test_no_error_class_is_defined_outside_exceptions() -> None:
    """Every exception class of the package is defined in _exceptions (private control
    flow signals that never leave a function, named with a leading underscore, aside)."""
    outside = []
    for path in sorted((ROOT / "localtelemetry").glob("*.py")):
        if path.name == "_exceptions.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                names = {ast.unparse(b) for b in node.bases}
                if any(n.endswith(("Error", "Exception")) or n == "ValueError" for n in names):
                    outside.append(f"{path.name}:{node.name}")
    assert outside == []


def test_public_errors_are_exported() -> None:
    for name in ("LocalTelemetryError", "ConfigurationError"):
        assert getattr(localtelemetry, name) is getattr(_exceptions, name)


@pytest.mark.parametrize(
    "limits",
    [
        {"max_documents": 0},
        {"max_bytes": -1},
        {"max_age_days": 0},
        {"max_age_days": float("nan")},
    ],
)
def test_wrong_limits_are_a_configuration_error(limits: dict[str, float]) -> None:
    with pytest.raises(ConfigurationError, match="retention limits must be positive") as info:
        Limits(**limits)  # type: ignore[arg-type]
    assert info.value.exit_code == 2
    (name,) = limits
    assert f"{name}=" in str(info.value)


def test_write_notice_is_one_line_and_survives_a_broken_stream() -> None:
    import io

    out = io.StringIO()
    _exceptions.write_notice(out, "app", "could not start recording")
    assert out.getvalue() == "app: telemetry: could not start recording\n"

    class Broken(io.StringIO):
        def write(self, text: str) -> int:
            raise OSError("closed")

    _exceptions.write_notice(Broken(), "app", "x")  # does not raise
