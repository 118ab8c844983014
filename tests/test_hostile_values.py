"""Issue 12: a bundle that verifies against its manifest but carries bad values never
crashes, blocks or poisons a maintainer command.

The corpus (tests/hostile_values.py) has one bundle per broken rule: every digest is
right, one document is not a valid document. Every maintainer command is run over each:

- alone, in-process: ``inspect`` and ``inspect --extract`` refuse it (exit 2, one line
  naming the entry, nothing written); ``validate`` of the document reports it invalid;
  ``report`` (text, json, html) and ``ingest`` (DuckDB, chDB) without ``--skip-invalid``
  stop with exit 2 and one line naming the bundle, before writing anything;
- mixed with a good bundle: ``report --skip-invalid`` reports the good one and lists
  the bad one;
- all at once, as real processes, in one directory with good bundles and the
  structural cases of tests/test_inspect.py, tests/corpus/ and crafted zip end records:
  ``report`` (text, json, html) and ``ingest`` (DuckDB, chDB) with ``--skip-invalid``
  report and ingest exactly the good bundles and list every bad one; without it they
  stop with exit 2 and write nothing. No traceback anywhere, nothing written outside
  the target.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from bundle_factory import invoke
from hostile_values import CASES, good_bundle, write_case
from test_bundle_limits import _refused
from typer.testing import CliRunner

from localtelemetry._cli.app import make_app

import hostapp
from conftest import ROOT, TESTS

GOOD_DOCUMENTS = 4  # a good bundle: snapshot, build, cli-command, run-summary


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every path under ``root`` (links not followed) with its type and size."""
    out = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        out[str(path.relative_to(root))] = (stat.S_IFMT(st.st_mode), st.st_size)
    return out


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return good_bundle(tmp_path_factory.mktemp("good") / "good.zip", seed=1000)


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_bundle_with_one_bad_value_costs_only_itself(
    case: str, good: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    bundle, entry, raw = write_case(work / f"{case}.zip", case)
    monkeypatch.chdir(work)
    before = _tree(tmp_path)

    inspect = CliRunner().invoke(make_app(None), ["inspect", str(bundle)])
    _refused(inspect, entry)
    target = tmp_path / "extracted"
    _refused(invoke("inspect", str(bundle), "--extract", str(target)), entry)
    assert not target.exists()

    for fmt in ("text", "json", "html"):
        _refused(invoke("report", str(bundle), "--format", fmt), str(bundle), entry)
    for into in (f"duckdb:{tmp_path / 'db.duckdb'}", f"chdb:{tmp_path / 'ch'}"):
        _refused(invoke("ingest", str(bundle), "--into", into), str(bundle), entry)
    assert _tree(tmp_path) == before, "a refused command wrote something"

    mixed = invoke("report", str(bundle), str(good), "--skip-invalid", "--format", "json")
    assert mixed.exit_code == 0, mixed.output
    result = json.loads(mixed.stdout)["result"]
    assert result["documents"] == GOOD_DOCUMENTS
    assert result["sources"]["skipped"] == 1
    (skipped,) = result["sources"]["skipped_listed"]
    assert skipped["source"] == str(bundle) and entry in skipped["reason"]

    kind = entry.split("/")[1]
    document = tmp_path / "doc" / f"{kind}-{Path(entry).stem}.json"
    document.parent.mkdir()
    document.write_bytes(raw)
    validate = CliRunner().invoke(make_app(None), ["validate", str(document)])
    assert validate.exit_code == 1, validate.output
    assert validate.stderr == "" and "Traceback" not in validate.output
    assert f"INVALID {document}" in validate.stdout
    assert "1 checked: 0 valid, 1 invalid" in validate.stdout


def test_the_corpus_is_big_and_breaks_every_kind_of_rule() -> None:
    assert len(CASES) >= 60
    families = {name.split("-")[0] for name in CASES}
    assert {"date", "int", "num", "dup", "nl", "digits"} <= families
    assert {kind for kind, _ in CASES.values()} == {
        "cli-command",
        "build",
        "snapshot",
        "run-summary",
    }


# -- everything at once, as real processes ------------------------------------------------


def _structural(root: Path) -> list[Path]:
    """The structural cases: tests/test_inspect.py's hand-made hostile bundles, the
    crashing inputs kept in tests/corpus/ and crafted zip end records."""
    import test_bundle_limits
    import test_inspect

    store = root / "store"
    env = {"LOCALTELEMETRY_DIR": str(store)}
    for args in (["ok", "/srv/x.csv"], ["fail"]):
        CliRunner().invoke(hostapp.app, ["--telemetry", *args], env=env)
    exported = root / "exported.zip"
    result = CliRunner().invoke(
        make_app(None), ["export", "--app", "hostapp", "-o", str(exported)], env=env
    )
    assert result.exit_code == 0, result.output
    made = []
    for name, build in sorted(test_inspect.HOSTILE.items()):
        work = root / f"work-{name}"
        work.mkdir()
        made.append(build(exported, work).rename(root / f"structural-{name}.zip"))
    for path in sorted((TESTS / "corpus" / "bundles").glob("*.bundle")):
        made.append(Path(shutil.copy(path, root / f"corpus-{path.stem}.zip")))
    for name, data in sorted(test_bundle_limits.crafted_zips().items()):
        target = root / f"crafted-{name}.zip"
        target.write_bytes(data)
        made.append(target)
    exported.unlink()
    return made


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One directory: every value case, every structural case, and five good bundles."""
    root = tmp_path_factory.mktemp("mixed")
    directory = root / "received"
    directory.mkdir()
    bad = [write_case(directory / f"value-{name}.zip", name)[0] for name in sorted(CASES)]
    structural = _structural(root / "structural")
    for path in structural:
        shutil.move(path, directory / path.name)
    bad += [directory / p.name for p in structural]
    good_paths = [good_bundle(directory / f"good-{n}.zip", seed=2000 + n) for n in range(5)]
    return {"root": root, "directory": directory, "bad": bad, "good": good_paths}


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "localtelemetry", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=600,
        check=False,
    )


def _check_skipped(result: dict[str, Any], mixed: dict[str, Any]) -> None:
    sources = result["sources"]
    assert sources["bundles"] == len(mixed["bad"]) + len(mixed["good"])
    assert sources["skipped"] == len(mixed["bad"])
    listed = {s["source"] for s in sources["skipped_listed"]}
    assert len(listed) == len(sources["skipped_listed"]) == min(100, len(mixed["bad"]))
    assert listed <= {str(p) for p in mixed["bad"]}
    assert all(s["reason"] and "\n" not in s["reason"] for s in sources["skipped_listed"])


def test_report_over_a_directory_of_hostile_bundles(mixed: dict[str, Any]) -> None:
    root, directory = mixed["root"], mixed["directory"]
    assert len(mixed["bad"]) >= 60 + 21
    before = _tree(root)
    stopped = _cli("report", str(directory), cwd=root)
    assert stopped.returncode == 2, stopped.stderr
    assert stopped.stderr.count("\n") == 1 and "Traceback" not in stopped.stderr
    assert stopped.stdout == ""
    as_json = _cli("report", str(directory), "--skip-invalid", "--format", "json", cwd=root)
    assert as_json.returncode == 0, as_json.stderr
    assert "Traceback" not in as_json.stderr
    result = json.loads(as_json.stdout)["result"]
    assert result["documents"] == GOOD_DOCUMENTS * len(mixed["good"])
    assert result["runs"] == len(mixed["good"])
    _check_skipped(result, mixed)
    assert _tree(root) == before
    for fmt in ("text", "html"):
        out = root / f"report.{fmt}"
        made = _cli(
            "report", str(directory), "--skip-invalid", "--format", fmt, "-o", str(out), cwd=root
        )
        assert made.returncode == 0, made.stderr
        assert "Traceback" not in made.stderr
        assert out.stat().st_size > 0
        out.unlink()
    assert _tree(root) == before


@pytest.mark.parametrize("engine", ["duckdb", "chdb"])
def test_ingest_over_a_directory_of_hostile_bundles(engine: str, mixed: dict[str, Any]) -> None:
    pytest.importorskip(engine, reason=f"{engine} is not installed")
    root, directory = mixed["root"], mixed["directory"]
    target = root / f"into-{engine}"
    into = f"{engine}:{target}"
    before = _tree(root)
    stopped = _cli("ingest", str(directory), "--into", into, cwd=root)
    assert stopped.returncode == 2, stopped.stderr
    assert stopped.stderr.count("\n") == 1 and "Traceback" not in stopped.stderr
    assert not target.exists(), "ingest wrote before it had verified every source"
    assert _tree(root) == before
    done = _cli("ingest", str(directory), "--into", into, "--skip-invalid", cwd=root)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    good = GOOD_DOCUMENTS * len(mixed["good"])
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"ingested into {into} ({engine}): {good} new documents")
    assert lines[1] == (
        f"read: {good} documents; already in the database (same id): 0; repeated in the sources: 0"
    )
    assert "conflicts" not in done.stdout
    at = lines.index(f"skipped as invalid: {len(mixed['bad'])}")
    listed = [line.strip().split(": ", 1) for line in lines[at + 1 :]]
    _check_skipped(
        {
            "sources": {
                "bundles": len(mixed["bad"]) + len(mixed["good"]),
                "skipped": len(mixed["bad"]),
                "skipped_listed": [{"source": w, "reason": r} for w, r in listed],
            }
        },
        mixed,
    )
    after = _tree(root)
    assert {k for k in after if not k.startswith(target.name)} == set(before)
    counts = _counts(engine, target)
    assert counts == {
        "lt_cli_commands": 5,
        "lt_builds": 5,
        "lt_snapshots": 5,
        "lt_run_summaries": 5,
    }


def _counts(engine: str, target: Path) -> dict[str, int]:
    tables = ("lt_cli_commands", "lt_builds", "lt_snapshots", "lt_run_summaries")
    if engine == "duckdb":
        import duckdb

        with duckdb.connect(str(target), read_only=True) as con:
            return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
    from chdb import session

    s = session.Session(str(target))
    try:
        return {
            t: int(str(s.query(f"SELECT count() FROM {t} FINAL", "TabSeparated")).strip())
            for t in tables
        }
    finally:
        s.close()
