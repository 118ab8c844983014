"""Issue 5, hostile local state: a store, key or documents that someone (or something)
arranged to mislead the recorder or the management commands.

Each case is checked twice: a recorded run of the host must be unaffected (same exit
code and stdout, at most one line on stderr, nothing written where it should not be),
and every management command must refuse it in one line with exit code 2, or skip the
bad file and carry on, never with a traceback. Nothing is followed: a symlinked store or
key is never written through, a symlinked document is never read.

Already covered elsewhere (not repeated here): a symlinked, world-writable or file store,
a short or symlinked key, corrupt and foreign files for a recorded run
(tests/test_faults.py); a FIFO as the key and deeply nested documents
(tests/test_reliability_regressions.py).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from localtelemetry._cli.app import make_app
from localtelemetry._contract import new_id
from localtelemetry._store import KEY_BYTES
from localtelemetry._store import store as _store

import hostapp
from conftest import all_files, store_documents

POSIX = pytest.mark.skipif(os.name != "posix", reason="POSIX symlinks, modes and owners")
EXPECTED_STDOUT = "ok src=. include=* jobs=1 verbose=False\n"


def _record() -> Any:
    return CliRunner().invoke(hostapp.app, ["--telemetry", "ok"])


def _cli(*args: str) -> Any:
    return CliRunner().invoke(make_app(None), [*args, "--app", "hostapp"])


def _host_unaffected(result: Any, *needles: str) -> None:
    assert result.exit_code == 0, result.output
    assert result.stdout == EXPECTED_STDOUT
    assert len(result.stderr.splitlines()) <= 1, result.stderr
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in result.stderr, result.stderr


def _refused(result: Any, *needles: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in result.stderr, result.stderr


def _snapshot(root: Path) -> dict[str, tuple[int, bytes]]:
    """Every file under ``root`` (not following links) with its mode and content."""
    out = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        data = os.readlink(path).encode() if stat.S_ISLNK(st.st_mode) else b""
        if stat.S_ISREG(st.st_mode):
            data = path.read_bytes()
        out[str(path.relative_to(root))] = (st.st_mode, data)
    return out


# -- the store directory --------------------------------------------------------------


def _foreign_owner_os() -> types.SimpleNamespace:
    """The store's ``os``, but ``getuid`` says we are someone else (the owner seam)."""
    fake = types.SimpleNamespace(**{k: getattr(os, k) for k in dir(os) if not k.startswith("__")})
    fake.getuid = lambda: os.getuid() + 1
    return fake


def _symlinked(store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    real = tmp_path / "elsewhere"
    shutil.copytree(store, real, symlinks=True)
    shutil.rmtree(store)
    store.symlink_to(real)
    return "symlink"


def _foreign(store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(_store, "os", _foreign_owner_os())
    return "another user"


def _really_foreign(store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    if os.geteuid() != 0:
        pytest.skip("changing a directory's owner needs root")
    os.chown(store, 54321, 54321)
    return "another user"


def _world_writable(store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    store.chmod(0o777)
    return "writable by other users"


def _group_writable(store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    store.chmod(0o770)
    return "writable by other users"


def _a_file(store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    shutil.rmtree(store)
    store.write_text("not a directory")
    return "not a directory"


STORES: dict[str, Callable[[Path, Path, pytest.MonkeyPatch], str]] = {
    "symlink": _symlinked,
    "foreign-owner-seam": _foreign,
    "foreign-owner-real": _really_foreign,
    "world-writable": _world_writable,
    "group-writable": _group_writable,
    "a-file": _a_file,
}
COMMANDS = [
    ["status"],
    ["list"],
    ["show", "0000"],
    ["validate"],
    ["export", "-o", "bundle.zip"],
    ["export", "--preview"],
    ["purge", "--yes"],
    ["purge", "--older-than", "1d", "--yes"],
    ["reset-key"],
]


@POSIX
@pytest.mark.parametrize("case", sorted(STORES))
def test_a_hostile_store_is_refused_by_recording_and_every_command(
    case: str, base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _record().exit_code == 0
    store = base / "hostapp"
    needle = STORES[case](store, tmp_path, monkeypatch)
    before = _snapshot(tmp_path)
    _host_unaffected(_record(), needle)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    for command in COMMANDS:
        _refused(_cli(*command), needle)
    after = _snapshot(tmp_path)
    after.pop("cwd")
    assert after == before, "something was written through or into a refused store"


# -- the key file ---------------------------------------------------------------------


def _key_a_directory(key: Path, tmp_path: Path) -> None:
    key.unlink()
    key.mkdir()


def _key_a_symlink(key: Path, tmp_path: Path) -> None:
    target = tmp_path / "not-the-key"
    target.write_bytes(b"K" * KEY_BYTES)  # the right size: only the link gives it away
    key.unlink()
    key.symlink_to(target)


KEYS: dict[str, tuple[Callable[[Path, Path], object], str]] = {
    "empty": (lambda key, tmp: key.write_bytes(b""), "corrupt"),
    "truncated": (lambda key, tmp: key.write_bytes(key.read_bytes()[:31]), "corrupt"),
    "one-byte-too-long": (lambda key, tmp: key.write_bytes(key.read_bytes() + b"x"), "corrupt"),
    "oversized": (lambda key, tmp: key.write_bytes(os.urandom(1024 * 1024)), "corrupt"),
    "a-directory": (_key_a_directory, "not a regular"),
    "symlink-to-another-file": (_key_a_symlink, "symlink"),
}


@POSIX
@pytest.mark.parametrize("case", sorted(KEYS))
def test_a_hostile_key_is_never_used_or_followed(
    case: str, base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _record().exit_code == 0
    store = base / "hostapp"
    key = store / ".hashkey"
    corrupt, needle = KEYS[case]
    corrupt(key, tmp_path)
    documents = sorted(p.name for p in store.glob("*.json"))
    before = _snapshot(tmp_path)
    # A recorded run refuses the key and records nothing: hashes made with a key it
    # cannot trust would be worthless, and it must not make a new key over the old one.
    _host_unaffected(_record(), needle, "telemetry")
    assert sorted(p.name for p in store.glob("*.json")) == documents
    assert _snapshot(tmp_path) == before
    # status names the problem; reading commands do not need the key.
    status = _cli("status", "--format", "json")
    assert status.exit_code == 0, status.output
    assert needle in json.loads(status.stdout)["result"]["key_problem"]
    for command in (["list"], ["validate"], ["export", "--preview"]):
        result = _cli(*command)
        assert result.exit_code == 0, (command, result.output)
    monkeypatch.chdir(tmp_path)
    for flags in ([], ["--keep-hashes"]):  # --keep-hashes cannot keep them: fresh key
        bundle = tmp_path / f"bundle{len(flags)}.zip"
        assert _cli("export", "-o", str(bundle), *flags).exit_code == 0
        assert CliRunner().invoke(make_app(None), ["inspect", str(bundle)]).exit_code == 0
    # reset-key replaces what is there with a whole new key, and nothing else.
    elsewhere = tmp_path / "not-the-key"
    outside = elsewhere.read_bytes() if elsewhere.exists() else None
    if case == "a-directory":
        _refused(_cli("reset-key"))  # a directory is not ours to remove
        return
    assert _cli("reset-key").exit_code == 0
    st = key.lstat()
    assert stat.S_ISREG(st.st_mode) and st.st_size == KEY_BYTES
    assert stat.S_IMODE(st.st_mode) == 0o600
    if outside is not None:
        assert elsewhere.read_bytes() == outside  # the link was replaced, not its target
    _host_unaffected(_record())
    assert len(store_documents(store)) == len(documents) + 4


# -- documents --------------------------------------------------------------------------


def _doc_name(kind: str = "snapshot") -> str:
    return f"{kind}-{new_id(int(time.time() * 1000), random_bytes=os.urandom(10))}.json"


def _deep(depth: int) -> bytes:
    return b'{"nested": ' + b"[" * depth + b"]" * depth + b"}"


FOLLOWED = "9.9.9-followed"


def _plant_symlink(store: Path, tmp_path: Path) -> Path:
    source = next(store.glob("cli-command-*.json"))
    document = json.loads(source.read_text())
    document["app"]["version"] = FOLLOWED  # valid, and visible if it were ever read
    target = tmp_path / "outside.json"
    target.write_text(json.dumps(document))
    link = store / _doc_name("cli-command")
    link.symlink_to(target)
    return link


def _plant(store: Path, tmp_path: Path, case: str) -> Path:
    if case == "symlink-outside":
        return _plant_symlink(store, tmp_path)
    path = store / _doc_name()
    if case == "fifo":
        os.mkfifo(path)
    elif case == "a-directory":
        path.mkdir()
    else:
        path.write_bytes(DOCUMENTS[case])
    return path


DOCUMENTS: dict[str, bytes] = {
    "huge": b'{"pad": "' + b"x" * (2 * 1024 * 1024) + b'"}',
    "nested-100": _deep(100),
    "nested-1000": _deep(1000),
    "nested-2000": _deep(2000),  # past orjson's limit: not JSON
    "not-utf8": b'{"kind": "snapshot", "name": "\xff\xfe\xfd"}',
    "not-json": b"{'kind': 'snapshot'}",
    "truncated": b'{"kind": "snapshot", "payload": {"na',
    "empty": b"",
    "json-array": b"[1, 2, 3]",
    "nul-bytes": b"\x00" * 64,
    "wrong-everything": b'{"kind": 5, "id": [], "payload": "x", "run_id": {}}',
}
# Objects that parse (and are not nested beyond the reader's depth limit) are listed.
JSON_OBJECTS = {"wrong-everything"}
DOCUMENT_CASES = [
    *sorted(DOCUMENTS),
    pytest.param("symlink-outside", marks=POSIX),
    pytest.param("fifo", marks=POSIX),
    "a-directory",
]


@pytest.mark.parametrize("case", DOCUMENT_CASES)
def test_hostile_documents_are_skipped_or_refused_in_one_line(
    case: str, base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _ in range(2):
        assert _record().exit_code == 0
    store = base / "hostapp"
    good = len(list(store.glob("*.json")))
    _plant(store, tmp_path, case)
    # Recording never reads documents: the run is unaffected and does not complain.
    recorded = _record()
    _host_unaffected(recorded)
    assert recorded.stderr == ""
    good += 4
    status = _cli("status", "--format", "json")
    assert status.exit_code == 0, status.output
    listing = _cli("list", "--limit", "0", "--format", "json")
    assert listing.exit_code == 0, listing.output
    # list shows any JSON object with a document's name (as stored); the rest it skips
    listed = good + (1 if case in JSON_OBJECTS else 0)
    assert json.loads(listing.stdout)["result"]["total"] == listed
    validate = _cli("validate")
    assert validate.exit_code in (0, 1) and "Traceback" not in validate.output
    assert validate.stderr == ""
    monkeypatch.chdir(tmp_path)
    export = _cli("export", "-o", "b.zip", "--format", "json")
    assert export.exit_code == 0, export.output
    assert json.loads(export.stdout)["result"]["documents"] == good
    inspect = CliRunner().invoke(make_app(None), ["inspect", "b.zip"])
    assert inspect.exit_code == 0, inspect.output
    blob = b"".join(p.read_bytes() for p in all_files(tmp_path) if p.suffix == ".zip")
    assert FOLLOWED.encode() not in blob
    preview = _cli("export", "--preview", "--format", "json")
    assert preview.exit_code == 0 and FOLLOWED not in preview.stdout


@pytest.mark.parametrize(
    "case",
    [
        c
        for c in [*sorted(DOCUMENTS), "symlink-outside", "fifo", "a-directory"]
        # JSON objects that parse are shown as stored (and validate as invalid)
        if c != "wrong-everything"
    ],
)
def test_show_refuses_hostile_documents_in_one_line(case: str, base: Path, tmp_path: Path) -> None:
    if os.name != "posix" and case in ("symlink-outside", "fifo"):
        pytest.skip("POSIX file types")
    assert _record().exit_code == 0
    planted = _plant(base / "hostapp", tmp_path, case)
    result = _cli("show", planted.name)
    _refused(result)
    assert FOLLOWED not in result.output
