"""Issue 5, secrets at rest: the hashing key never leaves its file, and every file and
directory localtelemetry writes is private, whatever the umask.

The key is searched for raw, as hex (either case), base64 (standard and URL-safe, with
and without padding), base32 and base85, in: every file under the test's directory but
the key file itself (documents, retention records, bundles and every entry inside them,
extracted files), and everything every command printed on stdout and stderr, in text
and JSON, including the error messages about a corrupt key. Three keys are checked: the
first, the one reset-key made, and one planted inside an oversized key file.

tests/test_recording.py::test_key_never_appears_in_documents and
tests/test_export.py::test_leak_nothing_planted_survives_export check the same for
documents and bundles in their own scenarios.
"""

from __future__ import annotations

import base64
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from localtelemetry._cli.app import make_app

import hostapp
from conftest import HOSTAPP, ROOT, clean_env


def _forms(key: bytes) -> list[bytes]:
    b64 = base64.b64encode(key)
    url = base64.urlsafe_b64encode(key)
    return [
        key,
        key.hex().encode(),
        key.hex().upper().encode(),
        b64,
        b64.rstrip(b"="),
        url,
        url.rstrip(b"="),
        base64.b32encode(key).rstrip(b"="),
        base64.b85encode(key),
        repr(key).encode(),  # how Python would print it in a message
    ]


class Transcript:
    """Runs commands in-process and keeps everything they printed."""

    def __init__(self) -> None:
        self.text: list[str] = []

    def host(self, *args: str) -> Any:
        result = CliRunner().invoke(hostapp.app, list(args))
        self.text += [result.stdout, result.stderr]
        return result

    def cli(self, *args: str) -> Any:
        result = CliRunner().invoke(make_app(None), list(args))
        self.text += [result.stdout, result.stderr]
        return result


def _everything_written(root: Path, key_file: Path) -> list[bytes]:
    blobs = []
    for path in sorted(root.rglob("*")):
        if path == key_file or path.is_symlink() or not path.is_file():
            continue
        data = path.read_bytes()
        blobs.append(data)
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as zf:
                blobs += [zf.read(info) for info in zf.infolist()]
    return blobs


def test_the_key_never_appears_in_any_output_file_or_message(
    base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = Transcript()
    monkeypatch.chdir(tmp_path)
    for args in (["ok", "/srv/a.csv"], ["boom"], ["fail"], ["open", "nope.txt"], ["odd"]):
        t.host("--telemetry", *args)
    store = base / "hostapp"
    key_file = store / ".hashkey"
    keys = [key_file.read_bytes()]
    some_id = sorted(store.glob("cli-command-*.json"))[0].name
    app = ("--app", "hostapp")
    for output in ("text", "json"):
        t.cli("status", *app, "--format", output)
        t.cli("list", *app, "--format", output)
        t.cli("show", some_id, *app, "--format", output)
        t.cli("validate", *app, "--format", output)
        t.cli("export", *app, "--preview", "--format", output)
        t.cli("export", *app, "--preview", "--keep-hashes", "--format", output)
    for i, flags in enumerate(([], ["--keep-hashes"])):
        bundle = tmp_path / f"bundle-{i}.zip"
        assert t.cli("export", *app, "-o", str(bundle), *flags).exit_code == 0
        assert t.cli("inspect", str(bundle), "--format", "json").exit_code == 0
        assert t.cli("inspect", str(bundle), "--extract", str(tmp_path / f"x{i}")).exit_code == 0
    assert t.cli("reset-key", *app, "--format", "json").exit_code == 0
    keys.append(key_file.read_bytes())
    t.host("--telemetry", "ok")
    assert t.cli("export", *app, "-o", str(tmp_path / "after-reset.zip")).exit_code == 0
    # A key file that is too long, holding a real-looking key: refused, never echoed.
    planted = os.urandom(32)
    keys.append(planted)
    key_file.write_bytes(planted + b"\n")
    assert "corrupt" in t.host("--telemetry", "ok").stderr
    t.cli("status", *app, "--format", "json")
    t.cli("status", *app)
    key_file.write_bytes(planted[:16])  # truncated
    t.host("--telemetry", "ok")
    t.cli("status", *app)
    t.cli("export", *app, "-o", str(tmp_path / "broken-key.zip"), "--keep-hashes")
    assert t.cli("reset-key", *app).exit_code == 0
    t.cli("purge", *app, "--older-than", "9999d", "--yes")

    printed = "\n".join(t.text).encode("utf-8", "surrogateescape")
    files = _everything_written(tmp_path, key_file)
    assert len(files) > 40
    for key in keys:
        for form in _forms(key):
            assert form not in printed, f"a key was printed ({form[:12]!r}...)"
            for blob in files:
                assert form not in blob, f"a key was written to a file ({form[:12]!r}...)"


MODES_SCRIPT = r"""
import os, subprocess, sys
host, tmp = sys.argv[1], sys.argv[2]
def run(*args):
    proc = subprocess.run(args, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
run(sys.executable, host, "--telemetry", "ok")                               # documents, key
run(sys.executable, "-m", "localtelemetry", "reset-key", "--app", "hostapp")  # a new key
run(sys.executable, host, "--telemetry", "fail", "--code", "0")               # more documents
run(sys.executable, "-m", "localtelemetry", "export", "--app", "hostapp", "-o", tmp + "/b.zip")
run(sys.executable, "-m", "localtelemetry", "inspect", tmp + "/b.zip", "--extract", tmp + "/x/y")
"""


@pytest.mark.skipif(os.name != "posix", reason="POSIX modes")
@pytest.mark.parametrize("umask", [0o000, 0o002, 0o022, 0o077])
def test_every_kind_of_write_is_private_whatever_the_umask(umask: int, tmp_path: Path) -> None:
    home, base = tmp_path / "home", tmp_path / "lt"
    home.mkdir()
    env = clean_env(base, home, PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, "-c", MODES_SCRIPT, str(HOSTAPP), str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        umask=umask,
    )
    assert proc.returncode == 0, proc.stderr
    store = base / "hostapp"
    assert stat.S_IMODE(store.stat().st_mode) == 0o700
    files = list(store.iterdir())
    assert {p.name for p in files} >= {".hashkey"}
    assert len([p for p in files if p.suffix == ".json"]) == 6
    for path in files:  # documents, the key, retention records: all 0600
        assert stat.S_ISREG(path.lstat().st_mode), path.name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    assert stat.S_IMODE((tmp_path / "b.zip").stat().st_mode) == 0o600
    extracted = tmp_path / "x" / "y"
    directories = [extracted, *(p for p in extracted.iterdir() if p.is_dir())]
    assert {stat.S_IMODE(p.stat().st_mode) for p in directories} == {0o700}
    written = [p for p in extracted.rglob("*") if p.is_file()]
    assert len(written) == 7  # the manifest and six documents
    assert {stat.S_IMODE(p.stat().st_mode) for p in written} == {0o600}
