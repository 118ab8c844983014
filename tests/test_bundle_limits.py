"""Issue 12, points 5 and 6: a bundle's limits are checked before their cost is paid,
and ``inspect --extract`` never writes through a symlink.

Cheap refusal: the zip's end records and central directory are checked record by
record before ``zipfile`` builds its directory in memory (a zip claiming two million
entries used to cost about 25 s and 800 MB before it was refused); the manifest's size
is bounded by the number of entries and its shape is checked before it is parsed. The
crafted zips are a few hundred bytes: they claim what they do not hold.

Extraction: files are created ``O_EXCL|O_NOFOLLOW`` relative to descriptors of the
directories checked, so a symlink already inside the target, or one swapped in after
the checks, is refused (exit 2) and nothing lands outside the target.
"""

from __future__ import annotations

import io
import os
import stat
import struct
import types
import zipfile
from pathlib import Path
from typing import Any

import pytest
from bundle_factory import invoke
from hostile_values import good_bundle

from localtelemetry._contract import MAX_CENTRAL_RECORD_BYTES, MAX_ENTRIES
from localtelemetry._contract import bundle as _bundle_format
from localtelemetry._contract import schemas as _schemas
from localtelemetry._contract.bundle import MANIFEST_NAME, zip_info
from localtelemetry._receive import bundle as _bundle

POSIX = pytest.mark.skipif(os.name != "posix", reason="POSIX symlinks")
END = struct.Struct("<4s4H2LH")
END64_LOCATOR = struct.Struct("<4sLQL")
END64 = struct.Struct("<4sQ2H2L4Q")


def _small_zip(entries: int = 3, comment: bytes = b"") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(entries - 1):
            zf.writestr(zip_info(f"documents/build/{'0' * 25}{i}.json"), b"{}")
        zf.writestr(zip_info(MANIFEST_NAME), b"{}")
        zf.comment = comment
    return buffer.getvalue()


def _split(data: bytes) -> tuple[bytes, int, int]:
    """(everything before the end record, the directory's size, its offset)."""
    end = END.unpack(data[-END.size :])
    return data[: -END.size], end[5], end[6]


def _end(entries: int, size: int, offset: int, *, on_disk: int | None = None) -> bytes:
    on = entries if on_disk is None else on_disk
    return END.pack(b"PK\x05\x06", 0, 0, on, entries, size, offset, 0)


def _zip64_claiming(entries: int) -> bytes:
    """A small zip whose ZIP64 end record claims ``entries`` entries."""
    body, size, offset = _split(_small_zip())
    record = END64.pack(b"PK\x06\x06", 44, 45, 45, 0, 0, entries, entries, size, offset)
    locator = END64_LOCATOR.pack(b"PK\x06\x07", 0, len(body), 1)
    return body + record + locator + _end(0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF)


def crafted_zips() -> dict[str, bytes]:
    """Zips whose end records or directory lie; each must be refused cheaply."""
    body, size, offset = _split(_small_zip())
    records = body[offset:]
    return {
        "zip64-claims-two-million-entries": _zip64_claiming(2_000_000),
        "claims-more-directory-than-the-file": body + _end(60_000, 60_000 * 46, offset),
        "directory-too-big-for-its-entries": body
        + _end(3, 3 * MAX_CENTRAL_RECORD_BYTES + 1, offset),
        "more-records-than-claimed": body[:offset]
        + records
        + records
        + _end(3, 2 * len(records), offset),
        "fewer-records-than-claimed": body + _end(4, size, offset),
        "comment-after-the-end-record": _small_zip(comment=b"hello"),
        "zip64-locator-without-its-record": body
        + END64_LOCATOR.pack(b"PK\x06\x07", 0, 0, 1)
        + _end(3, size, offset),
        "spans-disks": body + _end(3, size, offset, on_disk=2),
    }


def _refused(result: Any, *needles: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in result.stderr, (needle, result.stderr)


@pytest.fixture
def no_zipfile(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Fails the test if zipfile is asked to read the directory of the zip."""
    opened: list[str] = []

    class Refuse:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            opened.append(repr(args))
            raise AssertionError("zipfile read a directory that should have been refused")

    # _bundle's own view of the zipfile module; the real module stays as it is
    proxy = types.SimpleNamespace(**{**vars(zipfile), "ZipFile": Refuse})
    monkeypatch.setattr(_bundle, "zipfile", proxy)
    return opened


@pytest.mark.parametrize("case", sorted(crafted_zips()))
def test_lying_end_records_are_refused_before_zipfile_reads_them(
    case: str, tmp_path: Path, no_zipfile: list[str]
) -> None:
    path = tmp_path / "crafted.zip"
    path.write_bytes(crafted_zips()[case])
    _refused(invoke("inspect", str(path)))
    assert no_zipfile == []


@pytest.fixture
def good(tmp_path: Path) -> Path:
    return good_bundle(tmp_path / "good.zip", seed=5)


def test_two_million_entries_are_refused_by_their_count(
    tmp_path: Path, good: Path, no_zipfile: list[str]
) -> None:
    path = tmp_path / "millions.zip"
    path.write_bytes(_zip64_claiming(2_000_000))
    assert path.stat().st_size < 1000
    _refused(invoke("inspect", str(path)), f"2000000 entries, over the limit of {MAX_ENTRIES}")
    _refused(invoke("report", str(path), str(good)), str(path), "2000000 entries")
    assert no_zipfile == []


def test_a_valid_zip64_bundle_still_verifies(tmp_path: Path) -> None:
    """The end-record checks follow zipfile's reading: a real ZIP64 zip (as export
    writes from 65,535 entries on) passes them."""
    good = good_bundle(tmp_path / "good.zip", seed=6)
    data = good.read_bytes()
    body, size, offset = _split(data)
    record = END64.pack(b"PK\x06\x06", 44, 45, 45, 0, 0, 6, 6, size, offset)
    locator = END64_LOCATOR.pack(b"PK\x06\x07", 0, len(body), 1)
    zip64 = tmp_path / "zip64.zip"
    zip64.write_bytes(body + record + locator + _end(0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF))
    with zipfile.ZipFile(zip64) as zf:  # zipfile reads it the same way
        assert len(zf.infolist()) == 6
    result = invoke("inspect", str(zip64))
    assert result.exit_code == 0, result.output
    assert "verified:   yes: manifest, 4 documents, digests and schemas" in result.stdout


def _with_manifest(tmp_path: Path, manifest: bytes) -> Path:
    """A zip of a README and this manifest, stored: no compression ratio to refuse."""
    path = tmp_path / "b.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in (("README.txt", b"hi"), (MANIFEST_NAME, manifest)):
            info = zip_info(name)
            info.compress_type = zipfile.ZIP_STORED
            zf.writestr(info, data)
    return path


def test_a_small_bundle_cannot_carry_a_big_manifest(tmp_path: Path, no_zipfile: list[str]) -> None:
    """1 MiB and 256 bytes per entry: two entries allow about 1 MiB, whatever the
    general limit (formerly 128 MiB, then parsed: about 850 MB of memory)."""
    path = _with_manifest(tmp_path, b'{"a": "' + b"x" * (1100 * 1024) + b'"}')
    _refused(invoke("inspect", str(path)), "manifest.json", "over its size limit")
    assert no_zipfile == []


def test_a_manifest_shaped_to_cost_memory_is_refused_before_parsing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[int] = []
    real = _schemas.parse_json_object
    monkeypatch.setattr(_schemas, "parse_json_object", lambda data: parsed.append(1) or real(data))
    many_objects = b'{"files": [' + b"{}," * 300_000 + b"{}]}"  # within 1 MiB
    _refused(invoke("inspect", str(_with_manifest(tmp_path, many_objects))), "more values")
    many_values = b'{"files": [' + b"0," * 400_000 + b"0]}"
    _refused(invoke("inspect", str(_with_manifest(tmp_path, many_values))), "more values")
    assert parsed == []


def test_a_real_manifest_is_within_its_shape(tmp_path: Path) -> None:
    bundle = good_bundle(tmp_path / "g.zip", seed=8)
    with zipfile.ZipFile(bundle) as zf:
        manifest = zf.read(MANIFEST_NAME)
        entries = len(zf.infolist())
    _bundle._check_manifest_shape(manifest, entries)
    assert len(manifest) <= _bundle_format.manifest_limit(entries)


# -- extracting: never through a symlink -------------------------------------------------


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    return good_bundle(tmp_path / "bundle.zip", seed=9)


def _ids(bundle: Path) -> dict[str, str]:
    with zipfile.ZipFile(bundle) as zf:
        names = [n for n in zf.namelist() if n.startswith("documents/")]
    return {n.split("/")[1]: Path(n).stem for n in names}


@POSIX
@pytest.mark.parametrize("where", ["kind-directory", "document", "manifest", "dangling"])
def test_extract_refuses_a_symlink_inside_the_target(
    where: str, bundle: Path, tmp_path: Path
) -> None:
    target = tmp_path / "out"
    target.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    ids = _ids(bundle)
    if where == "kind-directory":
        (target / "build").symlink_to(outside)
    elif where == "document":
        (target / "build").mkdir()
        victim = outside / "victim.json"
        victim.write_text("mine")
        (target / "build" / f"{ids['build']}.json").symlink_to(victim)
    elif where == "manifest":
        victim = outside / "victim.json"
        victim.write_text("mine")
        (target / "manifest.json").symlink_to(victim)
    else:
        (target / "manifest.json").symlink_to(outside / "created-through-the-link.json")
    before = {p.name: p.read_bytes() for p in outside.iterdir()}
    _refused(invoke("inspect", str(bundle), "--extract", str(target)))
    assert {p.name: p.read_bytes() for p in outside.iterdir()} == before
    assert not [p for p in target.rglob("*") if p.is_file() and not p.is_symlink()]


@POSIX
def test_extract_refuses_a_symlink_swapped_in_after_the_checks(
    bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The checks that name the problem early are not what keeps the files safe:
    blind them, and O_NOFOLLOW/O_EXCL relative to the directory still refuse."""
    target = tmp_path / "out"
    target.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (target / "snapshot").symlink_to(outside)
    (target / "build").mkdir()
    victim = outside / "victim.json"
    victim.write_text("mine")
    (target / "build" / f"{_ids(bundle)['build']}.json").symlink_to(victim)
    monkeypatch.setattr(_bundle.os.path, "lexists", lambda p: False)
    monkeypatch.setattr(_bundle.os.path, "islink", lambda p: False)
    result = invoke("inspect", str(bundle), "--extract", str(target))
    _refused(result)
    assert victim.read_text() == "mine"
    assert sorted(p.name for p in outside.iterdir()) == ["victim.json"]


@POSIX
def test_extract_into_a_symlinked_target_is_refused(bundle: Path, tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    _refused(invoke("inspect", str(bundle), "--extract", str(tmp_path / "link")), "symlink")
    assert list(real.iterdir()) == []


def test_extract_onto_an_existing_file_is_bad_input(bundle: Path, tmp_path: Path) -> None:
    """Issue 13, point 8: exit code 2, not 1."""
    existing = tmp_path / "existing.txt"
    existing.write_text("keep me")
    _refused(invoke("inspect", str(bundle), "--extract", str(existing)), "not a directory")
    assert existing.read_text() == "keep me"
    _refused(invoke("inspect", str(bundle), "--extract", str(existing / "below")))
    assert existing.read_text() == "keep me"


def test_extract_writes_private_files_into_a_new_directory(bundle: Path, tmp_path: Path) -> None:
    target = tmp_path / "new" / "out"
    result = invoke("inspect", str(bundle), "--extract", str(target))
    assert result.exit_code == 0, result.output
    files = sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())
    assert len(files) == 5 and "manifest.json" in files
    if os.name == "posix":
        assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in target.rglob("*.json"))
        assert stat.S_IMODE(target.stat().st_mode) == 0o700
    _refused(invoke("inspect", str(bundle), "--extract", str(target)), "already exists")
