"""The documentation stays true: the schema reference and the manifest table are
generated from schema/, the bundle limits in bundles.md are the ones in the code, every
test privacy.md cites exists, every design principle has its section, and no relative
link is broken."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

from conftest import ROOT

DOCS = ROOT / "docs"
GENERATOR = DOCS / "generate_schema_reference.py"

# The titles of the principles in DESIGN.md, kept here so the test does not need it.
PRINCIPLES = (
    "Explicit intent",
    "Hard off wins",
    "Hash before disk",
    "Never hurt the host",
    "Cheap when off, cheap when on",
    "Crash-safe and concurrent",
    "Bounded",
    "Transparent",
    "Schema is the contract",
)

TEST_REFERENCE = re.compile(r"(tests/[\w/]+\.py)::(\w+)")
# A row of the limits table in bundles.md: | what | 1 MiB | `MAX_DOCUMENT_BYTES` |
LIMIT_ROW = re.compile(
    r"^\|[^|]*\|\s*([\d,]+)\s*(KiB|MiB|GiB)?\s*\|\s*`([A-Z_]+)`\s*\|$", re.MULTILINE
)
UNITS = {"": 1, "KiB": 1024, "MiB": 1024**2, "GiB": 1024**3}
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_schema_reference", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _read(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def test_schema_reference_matches_the_schemas() -> None:
    expected = _generator().render()
    assert _read("schema-reference.md") == expected, (
        "docs/schema-reference.md is out of date: run python docs/generate_schema_reference.py"
    )


def test_generator_check_mode_finds_nothing_stale() -> None:
    assert _generator().main(["--check"]) == 0


def test_manifest_table_matches_the_manifest_schema() -> None:
    generator = _generator()
    text = _read("bundles.md")
    table = generator.render_manifest_table()
    assert table in text and generator.with_manifest_table(text) == text, (
        "the manifest table in docs/bundles.md is out of date: "
        "run python docs/generate_schema_reference.py"
    )


def test_manifest_table_lists_every_manifest_field() -> None:
    from localtelemetry._contract.schemas import MANIFEST, explain_fields, load_schema

    text = _read("bundles.md")
    fields = [field.path for field in explain_fields(MANIFEST)]
    assert set(load_schema(MANIFEST)["properties"]) <= set(fields)
    for path in fields:
        assert f"| `{path}` |" in text, f"bundles.md does not describe manifest field {path}"


def test_bundle_limits_match_the_code() -> None:
    import localtelemetry._contract as _limits
    from localtelemetry._receive import bundle as _bundle

    stated = {
        name: int(number.replace(",", "")) * UNITS[unit]
        for number, unit, name in LIMIT_ROW.findall(_read("bundles.md"))
    }
    wanted = {
        "MAX_ENTRIES",
        "MAX_DOCUMENT_BYTES",
        "MAX_MANIFEST_BYTES",
        "MAX_README_BYTES",
        "MAX_TOTAL_BYTES",
        "MAX_RATIO",
        "RATIO_FLOOR",
        "MAX_DEPTH",
    }
    wanted |= {n for n, v in vars(_bundle).items() if n.startswith("MAX_") and isinstance(v, int)}
    assert set(stated) == wanted, "the limits table of bundles.md names other constants"
    for name, value in stated.items():
        assert value == getattr(_limits, name), (
            f"bundles.md says {name} is {value}, the code says {getattr(_limits, name)}"
        )


def test_schema_reference_has_a_section_per_kind() -> None:
    from localtelemetry import KINDS

    text = _read("schema-reference.md")
    for kind in KINDS:
        assert f"\n## `{kind}`\n" in text


def test_privacy_cites_only_tests_that_exist() -> None:
    references = TEST_REFERENCE.findall(_read("privacy.md"))
    assert len(references) >= 9
    for path, name in references:
        source = ROOT / path
        assert source.is_file(), f"privacy.md cites {path}, which does not exist"
        assert re.search(rf"^def {name}\(", source.read_text(encoding="utf-8"), re.M), (
            f"privacy.md cites {path}::{name}, which does not exist"
        )


def test_privacy_has_a_section_per_principle() -> None:
    headings = [line for line in _read("privacy.md").splitlines() if line.startswith("## ")]
    for number, title in enumerate(PRINCIPLES, start=1):
        wanted = f"## {number}. {title}"
        assert wanted in headings, f"privacy.md has no section '{wanted}'"


def test_every_section_of_privacy_cites_a_test() -> None:
    sections = re.split(r"^## ", _read("privacy.md"), flags=re.M)
    for number in range(1, len(PRINCIPLES) + 1):
        (section,) = [s for s in sections if s.startswith(f"{number}. ")]
        assert TEST_REFERENCE.search(section), f"principle {number} cites no test"


def test_user_guide_has_a_heading_per_command() -> None:
    from localtelemetry._cli.app import STANDALONE_COMMANDS

    text = _read("user-guide.md")
    for command in STANDALONE_COMMANDS:
        assert f"\n### `{command}`\n" in text, command


@pytest.mark.parametrize("page", sorted(p.name for p in DOCS.glob("*.md")))
def test_relative_links_point_at_existing_files(page: str) -> None:
    text = FENCE.sub("", _read(page))
    for target in LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # an external URL or an anchor in the same page
        path = target.split("#", 1)[0]
        assert (DOCS / path).exists(), f"{page} links to {target}, which does not exist"


def test_docs_hold_no_machine_specific_paths() -> None:
    for page in DOCS.glob("*.md"):
        text = page.read_text(encoding="utf-8")
        for needle in ("/tmp/", "/work/", "venv/bin"):
            assert needle not in text, f"{page.name} mentions {needle}"


PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def test_readme_snippet_runs_as_written(tmp_path: Path) -> None:
    """The README's code, saved to a file as it stands, is a working CLI."""
    import json
    import subprocess
    import sys

    from conftest import clean_env

    (snippet,) = PYTHON_BLOCK.findall((ROOT / "README.md").read_text(encoding="utf-8"))
    script = tmp_path / "mycli.py"
    script.write_text(snippet, encoding="utf-8")
    home = tmp_path / "home"
    home.mkdir()
    env = clean_env(tmp_path / "store", home)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(script), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    helped = run("--help")
    assert helped.returncode == 0, helped.stderr
    assert "--telemetry" in helped.stdout and "telemetry" in helped.stdout
    built = run("build", "src", "--telemetry")
    assert built.returncode == 0, built.stderr
    assert built.stdout.strip() and built.stderr == ""
    status = run("telemetry", "status", "--format", "json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["result"]["documents"] == 2
