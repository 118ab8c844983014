"""What ships: the wheel built from this checkout, not the source tree.

A checkout has every file, shipped or not, so a test that reads ``schema/`` or
``localtelemetry/py.typed`` from it proves nothing about what ``pip install`` gives a
user. These tests build the wheel once per session (``built_wheel`` in conftest.py),
read its entries, and run the package unpacked from it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import localtelemetry

from conftest import EXAMPLE, ROOT

PACKAGE = ROOT / "localtelemetry"
SCHEMAS = sorted((ROOT / "schema").glob("*.schema.json"))


def _entries(wheel: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(wheel) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_the_wheel_ships_every_module_and_py_typed(built_wheel: Path) -> None:
    entries = _entries(built_wheel)
    modules = {
        p.relative_to(ROOT).as_posix(): p.read_bytes()
        for p in PACKAGE.rglob("*.py")
        if "__pycache__" not in p.parts
    }
    data_dirs = ("localtelemetry/_schema/", "localtelemetry/_examples/")
    shipped = {
        n: d for n, d in entries.items() if n.endswith(".py") and not n.startswith(data_dirs)
    }
    assert shipped == modules
    assert entries["localtelemetry/py.typed"] == (PACKAGE / "py.typed").read_bytes()


def test_the_wheel_ships_the_published_schemas_byte_for_byte(built_wheel: Path) -> None:
    entries = _entries(built_wheel)
    shipped = {n: d for n, d in entries.items() if re.fullmatch(r"[^/]+/_schema/[^/]+\.json", n)}
    assert shipped == {f"localtelemetry/_schema/{p.name}": p.read_bytes() for p in SCHEMAS}


def test_the_wheel_ships_the_example_app_and_nothing_else_there(built_wheel: Path) -> None:
    shipped = {
        n.removeprefix("localtelemetry/_examples/"): d
        for n, d in _entries(built_wheel).items()
        if n.startswith("localtelemetry/_examples/")
    }
    assert shipped == {EXAMPLE.name: EXAMPLE.read_bytes()}


def test_the_wheel_holds_no_tests_caches_or_leftovers(built_wheel: Path) -> None:
    names = list(_entries(built_wheel))
    top = {n.split("/", 1)[0] for n in names}
    assert top == {"localtelemetry", f"localtelemetry-{localtelemetry.__version__}.dist-info"}
    unwanted = re.compile(
        r"(^|/)(tests?|__pycache__|\.hypothesis|\.mypy_cache|\.ruff_cache|\.pytest_cache)(/|$)"
        r"|\.pyc$|\.partial|(^|/)\.tmp-|(^|/)conftest\.py$|(^|/)test_[^/]*\.py$"
    )
    assert [n for n in names if unwanted.search(n)] == []


def test_the_wheel_metadata_names_the_version_and_the_command(built_wheel: Path) -> None:
    entries = _entries(built_wheel)
    info = f"localtelemetry-{localtelemetry.__version__}.dist-info"
    metadata = entries[f"{info}/METADATA"].decode()
    assert f"\nVersion: {localtelemetry.__version__}\n" in metadata
    requires = {
        re.split(r"[<>=~!; \[]", line.removeprefix("Requires-Dist: "))[0].lower()
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist: ") and "extra ==" not in line
    }
    assert {"orjson", "blake3", "typer", "jsonschema"} <= requires
    scripts = entries[f"{info}/entry_points.txt"].decode()
    assert re.search(r"^localtelemetry = localtelemetry\.__main__:main$", scripts, re.M)


def test_the_unpacked_wheel_prints_its_schemas(installed_wheel: Path, tmp_path: Path) -> None:
    # The command line of the installed package, not the checkout (test_schemas.py checks
    # that the package reads its own copy of the schemas).
    printed = subprocess.run(
        [sys.executable, "-m", "localtelemetry", "schema", "build", "--format", "json"],
        env={
            "PYTHONPATH": str(installed_wheel),
            "HOME": str(tmp_path),
            "LOCALTELEMETRY_DIR": str(tmp_path / "store"),
        },
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert printed.returncode == 0, printed.stderr
    on_disk = json.loads((ROOT / "schema" / "build.schema.json").read_text())
    assert json.loads(printed.stdout)["result"]["schema"] == on_disk
    assert not (tmp_path / "store").exists()
