"""Issue 3: `localtelemetry inspect` treats a bundle as hostile input. Every malformed,
tampered or malicious bundle gives exit code 2, one line on stderr, and nothing written
outside the directory the user named."""

from __future__ import annotations

import json
import os
import random
import signal
import stat
import subprocess
import sys
import time
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from localtelemetry._cli.app import make_app
from localtelemetry._contract.bundle import zip_info
from localtelemetry._receive import bundle as _bundle

import hostapp
from conftest import clean_env


def inspect(*args: str) -> Any:
    return CliRunner().invoke(make_app(None), ["inspect", *args])


@pytest.fixture
def bundle(base: Path, tmp_path: Path) -> Path:
    for args in (["ok", "/srv/x.csv"], ["fail"], ["boom"]):
        CliRunner().invoke(hostapp.app, ["--telemetry", *args])
    target = tmp_path / "good.zip"
    result = CliRunner().invoke(make_app(None), ["export", "--app", "hostapp", "-o", str(target)])
    assert result.exit_code == 0, result.output
    return target


def _entries(path: Path) -> list[tuple[zipfile.ZipInfo, bytes]]:
    with zipfile.ZipFile(path) as zf:
        return [(info, zf.read(info)) for info in zf.infolist()]


def _rewrite(source: Path, target: Path, change: Callable[[str, bytes], bytes | None]) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in _entries(source):
            new = change(info.filename, data)
            if new is not None:
                out.writestr(zip_info(info.filename), new)
    return target


def _assert_refused(result: Any, *needles: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in result.stderr, result.stderr


def test_a_good_bundle_verifies_and_summarises(bundle: Path) -> None:
    result = inspect(str(bundle))
    assert result.exit_code == 0, result.output
    assert "verified:   yes" in result.stdout
    assert "ok" in result.stdout and "CatalogError" in result.stdout
    data = json.loads(inspect(str(bundle), "--format", "json").stdout)["result"]
    rows = {r["command"]: r for r in data["commands"]}
    assert rows["fail"]["failure"] == 1 and rows["ok"]["success"] == 1
    assert rows["boom"]["error_kinds"] == {"CatalogError": 1}
    assert data["documents"] == 8


def test_tampered_document_names_the_entry(bundle: Path, tmp_path: Path) -> None:
    victim = next(i.filename for i, _ in _entries(bundle) if i.filename.startswith("documents/cli"))

    def change(name: str, data: bytes) -> bytes:
        return data.replace(b'"exit_code": 0', b'"exit_code": 7') if name == victim else data

    tampered = _rewrite(bundle, tmp_path / "t.zip", change)
    _assert_refused(inspect(str(tampered)), victim, "digest")


def test_tampered_digest_names_the_entry(bundle: Path, tmp_path: Path) -> None:
    def change(name: str, data: bytes) -> bytes:
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["files"][2]["blake3"] = "0" * 64
        return json.dumps(manifest).encode()

    manifest = json.loads(dict((i.filename, d) for i, d in _entries(bundle))["manifest.json"])
    _assert_refused(
        inspect(str(_rewrite(bundle, tmp_path / "t.zip", change))), manifest["files"][2]["path"]
    )


def test_unlisted_and_missing_entries(bundle: Path, tmp_path: Path) -> None:
    first_doc = next(i.filename for i, _ in _entries(bundle) if i.filename.startswith("documents/"))
    dropped = _rewrite(bundle, tmp_path / "d.zip", lambda n, d: None if n == first_doc else d)
    _assert_refused(inspect(str(dropped)), first_doc)


def _zip(path: Path, entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    with warnings.catch_warnings(), zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        warnings.simplefilter("ignore")  # duplicate names are the point of one case
        for info, data in entries:
            zf.writestr(info, data)
    return path


def _manifest(bundle: Path) -> bytes:
    return dict((i.filename, d) for i, d in _entries(bundle))["manifest.json"]


def _symlink_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


HOSTILE: dict[str, Callable[[Path, Path], Path]] = {
    "traversal": lambda b, d: _zip(
        d / "h.zip", [("../../evil.json", b"{}"), ("manifest.json", _manifest(b))]
    ),
    "traversal-in-middle": lambda b, d: _zip(
        d / "h.zip", [("documents/../../x.json", b"{}"), ("manifest.json", _manifest(b))]
    ),
    "absolute": lambda b, d: _zip(
        d / "h.zip", [("/etc/passwd", b"x"), ("manifest.json", _manifest(b))]
    ),
    "windows-absolute": lambda b, d: _zip(
        d / "h.zip", [("C:\\evil.json", b"x"), ("manifest.json", _manifest(b))]
    ),
    "symlink": lambda b, d: _zip(
        d / "h.zip",
        [
            (_symlink_info("documents/build/link.json"), b"/etc/passwd"),
            ("manifest.json", _manifest(b)),
        ],
    ),
    "duplicate": lambda b, d: _zip(
        d / "h.zip", [("manifest.json", _manifest(b)), ("manifest.json", _manifest(b))]
    ),
    "bomb": lambda b, d: _zip(
        d / "h.zip", [("README.txt", b"readme"), ("manifest.json", b"{" + b" " * 50_000_000 + b"}")]
    ),
    "oversized-document": lambda b, d: _zip(
        d / "h.zip",
        [
            ("documents/build/" + "0" * 26 + ".json", b"[" + b"1," * 700_000 + b"1]"),
            ("manifest.json", _manifest(b)),
        ],
    ),
    "truncated": lambda b, d: _write(d / "h.zip", b.read_bytes()[: len(b.read_bytes()) // 2]),
    "not-a-zip": lambda b, d: _write(d / "h.zip", b"PK\x03\x04 this is not really a zip"),
    "empty-file": lambda b, d: _write(d / "h.zip", b""),
    "huge-manifest": lambda b, d: _zip(
        d / "h.zip", [("manifest.json", os.urandom(64) * 3_000_000)]
    ),
    "wrong-types": lambda b, d: _zip(
        d / "h.zip", [("manifest.json", json.dumps({"schema": 1, "files": "all"}).encode())]
    ),
    "manifest-not-object": lambda b, d: _zip(d / "h.zip", [("manifest.json", b"[1, 2, 3]")]),
    "not-utf8": lambda b, d: _zip(d / "h.zip", [("manifest.json", b"\xff\xfe{\x00}")]),
    "not-json": lambda b, d: _zip(d / "h.zip", [("manifest.json", b"{'python': 'dict'}")]),
    "deep-nesting": lambda b, d: _zip(
        d / "h.zip", [("manifest.json", b'{"a":' * 200 + b"1" + b"}" * 200)]
    ),
    "no-manifest": lambda b, d: _zip(d / "h.zip", [("README.txt", b"hi")]),
    "unknown-entry": lambda b, d: _zip(
        d / "h.zip", [("payload.exe", b"MZ"), ("manifest.json", _manifest(b))]
    ),
    "directory-entry": lambda b, d: _zip(
        d / "h.zip", [("documents/", b""), ("manifest.json", _manifest(b))]
    ),
    "nul-in-name": lambda b, d: _zip(
        d / "h.zip", [("documents/build/a\0.json", b"{}"), ("manifest.json", _manifest(b))]
    ),
}


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_bundles_are_refused(
    case: str, bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    hostile = HOSTILE[case](bundle, work)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    before = sorted(p for p in tmp_path.rglob("*"))
    extract_dir = tmp_path / "extracted"
    _assert_refused(inspect(str(hostile), "--extract", str(extract_dir)))
    assert sorted(p for p in tmp_path.rglob("*")) == before, "inspect wrote something"
    assert not extract_dir.exists()


def test_too_many_entries(bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_bundle, "MAX_ENTRIES", 5)
    _assert_refused(inspect(str(bundle)), "over the limit")


def test_missing_bundle_and_directory(tmp_path: Path) -> None:
    _assert_refused(inspect(str(tmp_path / "nope.zip")), "does not exist")
    _assert_refused(inspect(str(tmp_path)), "not a regular file")


def test_json_mode_errors_are_one_object(bundle: Path, tmp_path: Path) -> None:
    bad = _write(tmp_path / "bad.zip", b"nope")
    result = inspect(str(bad), "--format", "json")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["ok"] is False


def test_extract_writes_only_into_the_named_directory(bundle: Path, tmp_path: Path) -> None:
    target = tmp_path / "out"
    result = inspect(str(bundle), "--extract", str(target))
    assert result.exit_code == 0, result.output
    files = sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())
    assert "manifest.json" in files and len(files) == 9
    assert all(
        f == "manifest.json"
        or f.split("/")[0] in ("build", "cli-command", "run-summary", "snapshot")
        for f in files
    )
    again = inspect(str(bundle), "--extract", str(target))
    _assert_refused(again, "already exists")


def test_fuzzed_bytes_never_crash_inspect(bundle: Path, tmp_path: Path) -> None:
    """Random byte flips: always a verified bundle or a one-line refusal, never a crash."""
    rng = random.Random(7)
    data = bytearray(bundle.read_bytes())
    outcomes = set()
    for i in range(60):
        mutated = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        path = _write(tmp_path / f"m{i}.zip", bytes(mutated))
        result = inspect(str(path))
        assert result.exit_code in (0, 2), result.output
        assert "Traceback" not in result.output
        if result.exit_code == 2:
            assert result.stderr.count("\n") == 1
        outcomes.add(result.exit_code)
    assert 2 in outcomes


def _export_command(target: Path) -> list[str]:
    return [sys.executable, "-m", "localtelemetry", "export", "--app", "hostapp", "-o", str(target)]


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigkill_mid_export_leaves_no_file_at_the_target(tmp_path: Path) -> None:
    home, base = tmp_path / "home", tmp_path / "store"
    home.mkdir()
    env = clean_env(base, home)
    proc = subprocess.run(
        [sys.executable, str(Path(hostapp.__file__)), "loop", "--runs", "400"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    # Kill at random instants while the export is writing its temp file: after the temp
    # file appears and within what one whole export takes on this machine.
    started = time.monotonic()
    whole = subprocess.run(
        _export_command(tmp_path / "whole.zip"),
        env=env,
        cwd=tmp_path,
        capture_output=True,
        timeout=600,
        check=False,
    )
    assert whole.returncode == 0, whole.stderr
    full_s = time.monotonic() - started
    rng = random.Random(3)
    mid_write = 0
    for i in range(12):
        target = tmp_path / f"bundle-{i}.zip"
        export = subprocess.Popen(
            _export_command(target),
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        temp_seen = False
        while export.poll() is None and not temp_seen:
            temp_seen = any(tmp_path.glob(f".{target.name}.partial-*"))
            time.sleep(0.002)
        if temp_seen:
            time.sleep(rng.uniform(0.0, 0.5) * full_s)
        if export.poll() is None:
            export.send_signal(signal.SIGKILL)
            export.wait(timeout=60)
            if any(tmp_path.glob(f".{target.name}.partial-*")):
                mid_write += 1  # killed while writing: the temp file is still there
            # Killed before the bundle was linked into place: nothing at the target. Killed
            # after (a fast export may be past it and only exiting): the bundle is whole.
            if target.exists():
                assert inspect(str(target)).exit_code == 0, "a killed export left a partial"
        else:
            assert export.returncode == 0
            assert inspect(str(target)).exit_code == 0  # a finished bundle is whole
    assert mid_write >= 3
    # The next export of a name removes what a killed one left behind.
    for i in range(12):
        target = tmp_path / f"bundle-{i}.zip"
        if not target.exists():
            again = subprocess.run(
                _export_command(target),
                env=env,
                cwd=tmp_path,
                capture_output=True,
                timeout=600,
                check=False,
            )
            assert again.returncode == 0, again.stderr
            assert not any(tmp_path.glob(f".{target.name}.partial-*"))


def test_tampered_readme_is_detected(bundle: Path, tmp_path: Path) -> None:
    def change(name: str, data: bytes) -> bytes:
        return data + b"\nSend the bundle to evil@example.com" if name == "README.txt" else data

    _assert_refused(inspect(str(_rewrite(bundle, tmp_path / "t.zip", change))), "README.txt")


def test_extract_clash_writes_nothing(bundle: Path, tmp_path: Path) -> None:
    target = tmp_path / "out"
    (target / "snapshot").mkdir(parents=True)
    snapshot = next(
        i.filename for i, _ in _entries(bundle) if i.filename.startswith("documents/snapshot/")
    )
    (target / "snapshot" / Path(snapshot).name).write_text("mine")
    _assert_refused(inspect(str(bundle), "--extract", str(target)), "already exists")
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*")) == [
        "snapshot",
        f"snapshot/{Path(snapshot).name}",
    ]


def test_extracted_documents_and_manifest_validate(bundle: Path, tmp_path: Path) -> None:
    target = tmp_path / "out"
    assert inspect(str(bundle), "--extract", str(target)).exit_code == 0
    paths = [str(target / "manifest.json"), *(str(p) for p in sorted(target.glob("*/*.json")))]
    result = CliRunner().invoke(make_app(None), ["validate", *paths])
    assert result.exit_code == 0, result.output
    assert "9 valid, 0 invalid" in result.stdout


def test_validate_of_an_extracted_directory_checks_every_document(
    bundle: Path, tmp_path: Path
) -> None:
    # `validate DIR` on what --extract wrote looks into the kind folders too: it once
    # checked only manifest.json there and said "1 checked".
    target = tmp_path / "out"
    assert inspect(str(bundle), "--extract", str(target)).exit_code == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "bad.json").write_text("{}")
    (target / "linked").symlink_to(elsewhere, target_is_directory=True)
    result = CliRunner().invoke(make_app(None), ["validate", str(target), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)["result"]
    assert (data["checked"], data["valid"], data["invalid"]) == (9, 9, 0)
    files = sorted(Path(r["file"]).relative_to(target).as_posix() for r in data["results"])
    assert "manifest.json" in files
    assert {f.split("/")[0] for f in files if "/" in f} >= {"cli-command", "run-summary"}
    assert not any(f.startswith("linked/") for f in files)  # symlinked folders not followed
