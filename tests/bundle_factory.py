"""Make many valid bundles and stores quickly, for the report/ingest tests and the
scale benchmark.

Real documents come first: ``templates()`` records one run of the test host app with
``--telemetry`` and exports it with the real ``export``, then takes one document of
each kind from that bundle. ``documents_for(run)`` varies copies of them (ids, times,
versions, platforms, commands, outcomes, durations, phases, counts) and validates each
one against the schemas; ``write_bundle`` packs documents with the package's own zip
entry, README and serialization functions and a manifest that follows its schema.
Every bundle written here verifies with ``localtelemetry inspect`` (the tests check).
"""

from __future__ import annotations

import copy
import os
import random
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import blake3

from localtelemetry._contract import __version__, new_id
from localtelemetry._contract.bundle import (
    BUNDLE_FORMAT,
    BUNDLE_FORMAT_VERSION,
    MANIFEST_NAME,
    README_NAME,
    README_TEXT,
    document_entry_name,
    zip_info,
)
from localtelemetry._record.documents import SCHEMA_IDS, duration_bucket, rfc3339, serialize
from localtelemetry._store import KINDS

EPOCH = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
Phase = tuple[str, float, str]


@dataclass
class Run:
    """One recorded run: a cli-command, optionally a build and a snapshot, and a
    run-summary."""

    command: tuple[str, ...] = ("build",)
    outcome: str = "success"
    duration_ms: float = 10.0
    error_kind: str | None = None
    version: str = "1.0.0"
    app: str = "shop"
    os: str = "linux"
    arch: str = "x86_64"
    context: str = "local"
    when: datetime = EPOCH
    build: tuple[str, str, float, tuple[Phase, ...]] | None = None
    snapshot: tuple[str, dict[str, int]] | None = None
    summary: bool = True
    overhead_ms: float = 1.5
    peak_rss_kib: int | None = 40_000


_TEMPLATES: dict[str, dict[str, Any]] = {}


def templates() -> dict[str, dict[str, Any]]:
    """One real, exported document of each kind (recorded once per process)."""
    if _TEMPLATES:
        return _TEMPLATES
    import tempfile

    from typer.testing import CliRunner

    from localtelemetry._cli.app import make_app
    from localtelemetry._receive.bundle import iter_verified

    import hostapp

    old = os.environ.get("LOCALTELEMETRY_DIR")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["LOCALTELEMETRY_DIR"] = str(Path(tmp) / "store")
        try:
            CliRunner().invoke(hostapp.app, ["--telemetry", "ok", "src", "--include", "*.py"])
            target = Path(tmp) / "template.zip"
            result = CliRunner().invoke(
                make_app(None), ["export", "--app", "hostapp", "-o", str(target)]
            )
            assert result.exit_code == 0, result.output
            for name, document, _ in iter_verified(target):
                if name != MANIFEST_NAME:
                    _TEMPLATES.setdefault(str(document["kind"]), document)
        finally:
            if old is None:
                os.environ.pop("LOCALTELEMETRY_DIR", None)
            else:
                os.environ["LOCALTELEMETRY_DIR"] = old
    assert set(_TEMPLATES) == set(KINDS), sorted(_TEMPLATES)
    return _TEMPLATES


def _id(moment: datetime, rng: random.Random) -> str:
    return new_id(int(moment.timestamp() * 1000), random_bytes=rng.randbytes(10))


def _envelope(
    kind: str, run: Run, run_id: str, moment: datetime, rng: random.Random
) -> dict[str, Any]:
    document = copy.deepcopy(templates()[kind])
    document["id"] = _id(moment, rng)
    document["run_id"] = run_id
    document["created_at"] = rfc3339(moment)
    document["app"] = {"name": run.app, "version": run.version}
    env = document["environment"]
    env.update(os=run.os, arch=run.arch, runtime_context=run.context)
    env["ci_provider"] = "github-actions" if run.context == "ci" else None
    return document


def documents_for(run: Run, rng: random.Random, *, validate: bool = True) -> list[dict[str, Any]]:
    """The documents one run would have written, each valid against its schema."""
    run_id = _id(run.when, rng)
    documents = []
    moment = run.when
    if run.snapshot is not None:
        doc = _envelope("snapshot", run, run_id, moment, rng)
        name, counts = run.snapshot
        doc["payload"].update(name=name, counts=dict(counts), duration_ms=0.5)
        documents.append(doc)
        moment += timedelta(milliseconds=1)
    if run.build is not None:
        doc = _envelope("build", run, run_id, moment, rng)
        name, status, duration, phases = run.build
        doc["payload"].update(
            name=name,
            status=status,
            duration_ms=duration,
            phases=[{"name": n, "duration_ms": d, "status": s} for n, d, s in phases],
            error_kind=None if status == "success" else "BuildError",
            error_message=None if status == "success" else "build failed",
        )
        documents.append(doc)
        moment += timedelta(milliseconds=1)
    doc = _envelope("cli-command", run, run_id, moment, rng)
    failed = run.outcome != "success"
    doc["payload"].update(
        command_path=list(run.command),
        command_family=run.command[0] if run.command else None,
        duration_ms=run.duration_ms,
        duration_bucket=duration_bucket(run.duration_ms),
        exit_code={"success": 0, "failure": 1, "interrupted": 130}[run.outcome],
        outcome=run.outcome,
        error_kind=run.error_kind if failed else None,
        failure_stage="command" if failed else None,
        error_message="it failed" if failed else None,
    )
    documents.append(doc)
    if run.summary:
        moment += timedelta(milliseconds=1)
        doc = _envelope("run-summary", run, run_id, moment, rng)
        doc["payload"].update(
            documents={
                "cli-command": 1,
                "build": int(run.build is not None),
                "snapshot": int(run.snapshot is not None),
            },
            duration_ms=run.duration_ms + 1,
            exit_code={"success": 0, "failure": 1, "interrupted": 130}[run.outcome],
            outcome=run.outcome,
            recorder_overhead_ms=run.overhead_ms,
            peak_rss_kib=run.peak_rss_kib,
        )
        documents.append(doc)
    if validate:
        from localtelemetry._contract.schemas import validation_errors as document_errors

        for document in documents:
            errors = document_errors(document)
            assert not errors, errors
    return documents


def write_bundle(
    path: Path, documents: Iterable[dict[str, Any]], raw: Mapping[str, bytes] | None = None
) -> Path:
    """A bundle of these documents, made like ``export`` makes one (re-keying aside:
    the documents keep the hashes they have). ``raw`` gives the bytes to store for some
    document ids instead (the manifest lists their true digests and sizes, so the
    bundle verifies up to their content: tests/hostile_values.py)."""
    raw = raw or {}
    items = sorted(
        (
            (str(d["kind"]), str(d["id"]), raw.get(str(d["id"])) or serialize(d), d)
            for d in documents
        ),
        key=lambda i: (i[0], i[1]),
    )
    readme = README_TEXT.encode("utf-8")
    files = [
        {"path": README_NAME, "blake3": blake3.blake3(readme).hexdigest(), "size": len(readme)}
    ]
    by_kind: dict[str, int] = {}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zip_info(README_NAME), readme)
        for kind, id_, data, _ in items:
            name = document_entry_name(kind, id_)
            zf.writestr(zip_info(name), data)
            files.append(
                {"path": name, "blake3": blake3.blake3(data).hexdigest(), "size": len(data)}
            )
            by_kind[kind] = by_kind.get(kind, 0) + 1
        first = items[0][3]
        manifest = {
            "schema": "urn:localtelemetry:schema:manifest:1",
            "format": BUNDLE_FORMAT,
            "format_version": BUNDLE_FORMAT_VERSION,
            "producer": {"name": "localtelemetry", "version": __version__},
            "created_at": max(str(i[3]["created_at"]) for i in items),
            "app": {
                "name": first["app"]["name"],
                "versions": sorted({str(i[3]["app"]["version"]) for i in items}),
            },
            "schemas": {kind: SCHEMA_IDS[kind] for kind in KINDS},
            "selection": {"kinds": list(KINDS), "since": None, "run": None},
            "counts": {"documents": len(items), "by_kind": dict(sorted(by_kind.items()))},
            "files": files,
            "redaction": {
                "substitutions": {},
                "fields_dropped": 0,
                "names_hashed": 0,
                "documents_skipped": {},
                "skipped": [],
            },
            "hashing": {"mode": "rekeyed", "key_id": first["hashing"]["key_id"]},
        }
        zf.writestr(zip_info(MANIFEST_NAME), serialize(manifest))
    return path


def write_store(directory: Path, documents: Iterable[dict[str, Any]]) -> Path:
    """A store directory holding these documents (``<kind>-<id>.json``, 0600)."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(directory, 0o700)
    for document in documents:
        path = directory / f"{document['kind']}-{document['id']}.json"
        path.write_bytes(serialize(document))
        os.chmod(path, 0o600)
    return directory


# -- a varied population, for scale ----------------------------------------------------

COMMANDS = (("build",), ("test",), ("deploy", "prod"), ("deploy", "staging"), ("lint",), ())
VERSIONS = ("1.8.0", "1.9.0", "1.9.1", "1.10.0", "2.0.0")
PLATFORMS = (("linux", "x86_64"), ("macos", "arm64"), ("windows", "x86_64"), ("linux", "arm64"))
CONTEXTS = ("local", "local", "ci", "container")
ERRORS = ("TimeoutError", "ConfigError", "HTTPError", "KeyError")
PHASES = ("resolve", "compile", "link", "package")


@dataclass
class Population:
    """Runs for ``bundles`` simulated users: each user has one platform and context,
    and sends one bundle of 1 to 6 runs, spread over ``days`` days."""

    bundles: int
    seed: int = 6
    days: int = 60
    runs_per_bundle: tuple[int, int] = (1, 6)
    bundle_runs: list[list[Run]] = field(default_factory=list)

    def __post_init__(self) -> None:
        rng = random.Random(self.seed)
        for user in range(self.bundles):
            os_, arch = rng.choice(PLATFORMS)
            context = rng.choice(CONTEXTS)
            version = VERSIONS[min(len(VERSIONS) - 1, int(rng.random() * len(VERSIONS)))]
            start = EPOCH + timedelta(days=rng.randrange(self.days), seconds=user)
            runs = []
            for i in range(rng.randint(*self.runs_per_bundle)):
                command = rng.choice(COMMANDS)
                fail_chance = 0.05 + (
                    0.25 if command[:1] == ("deploy",) and VERSIONS.index(version) >= 2 else 0
                )
                roll = rng.random()
                outcome = (
                    "failure" if roll < fail_chance else "interrupted" if roll > 0.98 else "success"
                )
                build = None
                if command in (("build",), ("deploy", "prod")):
                    phases = tuple(
                        (p, round(rng.uniform(5, 400) * (3 if p == "compile" else 1), 3), "success")
                        for p in PHASES
                    )
                    total = round(sum(d for _, d, _ in phases) + rng.uniform(1, 20), 3)
                    build = (
                        command[0],
                        "failure" if outcome == "failure" else "success",
                        total,
                        phases,
                    )
                snapshot = None
                if command == ("test",):
                    snapshot = (
                        "suite",
                        {"tests": 100 + rng.randrange(50), "skipped": rng.randrange(5)},
                    )
                runs.append(
                    Run(
                        command=command,
                        outcome=outcome,
                        duration_ms=round(rng.lognormvariate(5, 1.2), 3),
                        error_kind=rng.choice(ERRORS) if outcome == "failure" else None,
                        version=version,
                        os=os_,
                        arch=arch,
                        context=context,
                        when=start + timedelta(minutes=7 * i),
                        build=build,
                        snapshot=snapshot,
                        overhead_ms=round(rng.uniform(0.5, 4), 3),
                        peak_rss_kib=30_000 + rng.randrange(20_000),
                    )
                )
            self.bundle_runs.append(runs)

    def write(self, directory: Path, *, validate: bool = False) -> Iterator[Path]:
        """Write the bundles as ``directory/user-NNNNN.zip``."""
        directory.mkdir(parents=True, exist_ok=True)
        rng = random.Random(self.seed + 1)
        width = len(str(self.bundles))
        for n, runs in enumerate(self.bundle_runs):
            documents = [d for run in runs for d in documents_for(run, rng, validate=validate)]
            yield write_bundle(directory / f"user-{n:0{width}d}.zip", documents)


def maintainer_app() -> Any:
    """The standalone CLI, which has ``report`` and ``ingest``."""
    from localtelemetry._cli.app import make_app

    return make_app(None)


def invoke(*args: str) -> Any:
    """Run the standalone CLI in-process, like the other CLI tests do."""
    from typer.testing import CliRunner

    return CliRunner().invoke(maintainer_app(), list(args))
