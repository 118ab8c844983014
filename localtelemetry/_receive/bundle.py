"""The bundle format, and reading bundles as the hostile input they may be.

A bundle is a zip holding ``README.txt``, ``documents/<kind>/<id>.json`` and
``manifest.json`` (sorted, fixed timestamps and permissions). ``verify`` never trusts
it: names that are absolute or contain ``..``, symlink entries, duplicates, too many
entries, compression methods other than deflate, oversized entries or totals,
compression ratios of a bomb, non-UTF-8 or non-JSON content, deep nesting, digests
that do not match and documents that do not validate each stop verification with one
clear ``BundleError``. Limits are checked before their cost is paid: the zip's end
records and central directory are read here, record by record, before ``zipfile``
builds its directory in memory, and the manifest's size and shape are checked before
it is parsed. Nothing is written anywhere, except, after a successful verification,
into the directory the user names with ``--extract`` (0700 directories, 0600 files,
names built from validated ids, never from the zip, never through a symlink).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from localtelemetry._contract import (
    MAX_CENTRAL_RECORD_BYTES,
    MAX_DOCUMENT_BYTES,
    MAX_ENTRIES,
    MAX_RATIO,
    MAX_README_BYTES,
    MAX_TOTAL_BYTES,
    RATIO_FLOOR,
)
from localtelemetry._contract.bundle import (
    DOCUMENT_NAME,
    MANIFEST_NAME,
    README_NAME,
    limit_for,
    manifest_limit,
)
from localtelemetry._contract.exceptions import BundleError, InvalidJSON, UsageError


def _check_name(name: str, seen: set[str]) -> None:
    shown = name.encode("unicode_escape").decode("ascii")[:120]
    if not name or "\0" in name:
        raise BundleError(f"entry {shown!r} has an empty or NUL-containing name")
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        raise BundleError(f"entry {shown!r} has an absolute path")
    if "\\" in name:
        raise BundleError(f"entry {shown!r} uses backslashes")
    parts = name.split("/")
    if any(p in ("..", ".") for p in parts):
        raise BundleError(f"entry {shown!r} contains '..' or '.'")
    if name in seen:
        raise BundleError(f"entry {shown!r} appears twice")
    seen.add(name)


def _check_entries(infos: list[zipfile.ZipInfo]) -> None:
    if len(infos) > MAX_ENTRIES:
        raise BundleError(f"bundle has {len(infos)} entries, over the limit of {MAX_ENTRIES}")
    seen: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename
        _check_name(name, seen)
        mode = info.external_attr >> 16
        if info.create_system == 3 and stat.S_ISLNK(mode):
            raise BundleError(f"entry {name!r} is a symlink")
        if name.endswith("/") or info.is_dir():
            raise BundleError(f"entry {name!r} is a directory; bundles hold only files")
        if info.flag_bits & 0x1:
            raise BundleError(f"entry {name!r} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            # Bundles are deflated; other methods only widen what a hostile zip can
            # reach (LZMA and bzip2 decoders, with errors of their own).
            raise BundleError(
                f"entry {name!r} uses compression method {info.compress_type}; bundles use deflate"
            )
        if name not in (MANIFEST_NAME, README_NAME) and not DOCUMENT_NAME.match(name):
            raise BundleError(f"unknown entry {name!r}: not part of the bundle format")
        if info.file_size > limit_for(name, len(infos)):
            raise BundleError(f"entry {name!r} is {info.file_size} bytes, over its size limit")
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise BundleError(f"entry {name!r} has a compression ratio that signals a zip bomb")
        total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise BundleError("bundle unpacks to more than the total size limit")
    if MANIFEST_NAME not in seen:
        raise BundleError("bundle has no manifest.json")


# -- the zip's end records and central directory, read before zipfile reads them ---------

_END = struct.Struct("<4s4H2LH")  # end of central directory record
_END64_LOCATOR = struct.Struct("<4sLQL")
_END64 = struct.Struct("<4sQ2H2L4Q")
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")  # one central directory record
_CHUNK = 1024 * 1024
_LONGEST_RECORD = _CENTRAL.size + 3 * 0xFFFF  # name, extra field and comment at their longest
_MANIFEST_BYTES = MANIFEST_NAME.encode()
_README_BYTES = README_NAME.encode()


def _not_a_zip(path: Path) -> BundleError:
    return BundleError(f"{path} is not a zip file (or it is truncated)")


def _read_at(fh: IO[bytes], offset: int, size: int) -> bytes:
    fh.seek(offset)
    return fh.read(size)


def check_directory(fh: IO[bytes], size: int, path: Path) -> int:
    """Check the zip's end records and walk its central directory, record by record,
    with the limits of a bundle; the number of entries. Raises ``BundleError``.

    ``zipfile`` reads the whole central directory into memory and makes an object per
    record before anyone can count them: a zip claiming two million entries costs
    seconds and hundreds of megabytes before it can be refused. Here the same records
    are found the way ``zipfile`` finds them (the end record in the last 22 bytes, a
    ZIP64 end record right before its locator, the directory right before those), so
    what passes these checks is what ``zipfile`` then reads: at most ``MAX_ENTRIES``
    records, a directory of at most ``MAX_CENTRAL_RECORD_BYTES`` per entry, declared
    sizes within the limits. Bundles have no archive comment and nothing after the end
    record.
    """
    if size < _END.size:
        raise _not_a_zip(path)
    end_at = size - _END.size
    (sig, disk, disk_cd, on_disk, entries, cd_size, _, comment) = _END.unpack(
        _read_at(fh, end_at, _END.size)
    )
    if sig != b"PK\x05\x06" or comment != 0:
        raise _not_a_zip(path)
    cd_end = end_at
    locator = b""
    if end_at >= _END64_LOCATOR.size:
        locator = _read_at(fh, end_at - _END64_LOCATOR.size, _END64_LOCATOR.size)
    if locator[:4] == b"PK\x06\x07":
        _, disk64, _, disks = _END64_LOCATOR.unpack(locator)
        cd_end = end_at - _END64_LOCATOR.size - _END64.size
        record = _read_at(fh, cd_end, _END64.size) if cd_end >= 0 else b""
        if len(record) != _END64.size or record[:4] != b"PK\x06\x06":
            raise BundleError(f"{path} has a damaged ZIP64 end record")
        (_, _, _, _, disk, disk_cd, on_disk, entries, cd_size, _) = _END64.unpack(record)
        if disk64 != 0 or disks > 1:
            disk = 1
    if disk != 0 or disk_cd != 0 or on_disk != entries:
        raise BundleError(f"{path} spans several disks; bundles are one file")
    if entries > MAX_ENTRIES:
        raise BundleError(f"bundle has {entries} entries, over the limit of {MAX_ENTRIES}")
    if not entries * _CENTRAL.size <= cd_size <= entries * MAX_CENTRAL_RECORD_BYTES:
        raise BundleError(
            f"{path} has a central directory of {cd_size} bytes for {entries} entries "
            "(damaged or crafted)"
        )
    if cd_size > cd_end:
        raise _not_a_zip(path)
    _walk_directory(fh, cd_end - cd_size, cd_size, entries, path)
    return int(entries)


def _walk_directory(fh: IO[bytes], start: int, size: int, entries: int, path: Path) -> None:
    """Count the central directory's records and check their declared sizes, reading
    it a chunk at a time."""
    fh.seek(start)
    data, pos, left = b"", 0, size
    count = total = 0
    manifest = manifest_limit(entries)
    while True:
        if left and len(data) - pos < _LONGEST_RECORD:
            chunk = fh.read(min(left, _CHUNK))
            if not chunk:
                raise _not_a_zip(path)
            left -= len(chunk)
            data, pos = data[pos:] + chunk, 0
        if pos == len(data):
            break
        if len(data) - pos < _CENTRAL.size:
            raise BundleError(f"{path} has a damaged central directory")
        fields = _CENTRAL.unpack_from(data, pos)
        length = _CENTRAL.size + fields[12] + fields[13] + fields[14]
        if fields[0] != b"PK\x01\x02" or len(data) - pos < length:
            raise BundleError(f"{path} has a damaged central directory")
        name = data[pos + _CENTRAL.size : pos + _CENTRAL.size + fields[12]]
        pos += length
        count += 1
        if count > entries:
            raise BundleError(f"{path} holds more entries than its end record says (crafted)")
        compressed, declared = fields[10], fields[11]
        if declared == 0xFFFFFFFF or compressed == 0xFFFFFFFF:
            continue  # in a ZIP64 extra field: zipfile reads it, _check_entries checks it
        if name == _MANIFEST_BYTES:
            limit = manifest
        elif name == _README_BYTES:
            limit = MAX_README_BYTES
        else:
            limit = MAX_DOCUMENT_BYTES
        if declared > limit:
            shown = name.decode("utf-8", "replace")
            raise BundleError(f"entry {shown!r} is {declared} bytes, over its size limit")
        total += declared
        if total > MAX_TOTAL_BYTES:
            raise BundleError("bundle unpacks to more than the total size limit")
    if count != entries:
        raise BundleError(f"{path} holds fewer entries than its end record says (damaged)")


def _read(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """Read at most the entry's limit, whatever its header claims."""
    try:
        with zf.open(info) as fh:
            data = fh.read(limit + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, ValueError) as exc:
        raise BundleError(f"entry {info.filename!r} cannot be read ({exc})") from None
    except Exception as exc:  # a decoder's own error type: still a malformed bundle
        raise BundleError(
            f"entry {info.filename!r} cannot be read ({type(exc).__name__}: {exc})"
        ) from None
    if len(data) > limit:
        raise BundleError(f"entry {info.filename!r} is larger than its header says")
    return data


def parse_json(data: bytes, name: str) -> dict[str, Any]:
    """An entry's JSON object, parsed as every reader parses documents
    (``_contract/schemas.parse_json_object``). Raises ``BundleError`` naming the entry."""
    from localtelemetry._contract.schemas import parse_json_object

    try:
        return parse_json_object(data)
    except InvalidJSON as exc:
        raise BundleError(f"entry {name!r} {exc}") from None


def _check_manifest_shape(data: bytes, entries: int) -> None:
    """Bound what parsing the manifest can cost before it is parsed: a listed file is
    one object with three values; apart from those, a manifest holds at most about a
    thousand objects (its list of skipped documents) and a few thousand values."""
    containers = data.count(b"{") + data.count(b"[")
    values = data.count(b",")
    if containers > entries + 1_100 or values > 3 * entries + 10_000:
        raise BundleError(
            f"manifest.json holds more values than a bundle of {entries} entries needs (crafted)"
        )


@contextlib.contextmanager
def _open(path: Path) -> Iterator[zipfile.ZipFile]:
    try:
        # O_NONBLOCK: a FIFO given as a bundle must not hang the reader.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise BundleError(f"{path} does not exist") from None
    except OSError as exc:
        raise BundleError(f"{path} cannot be opened ({exc.strerror})") from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise BundleError(f"{path} is not a regular file")
    with os.fdopen(fd, "rb") as fh:
        try:
            check_directory(fh, st.st_size, path)
            zf = zipfile.ZipFile(fh)
        except zipfile.BadZipFile:
            raise _not_a_zip(path) from None
        except (OSError, ValueError, EOFError, RuntimeError, struct.error) as exc:
            raise BundleError(f"{path} cannot be opened as a zip ({exc})") from None
        with zf:
            yield zf


def iter_verified(path: Path) -> Iterator[tuple[str, dict[str, Any], bytes]]:
    """Verify the whole bundle, yielding ``(entry name, document, bytes)`` as it goes.

    The manifest is checked first; each document is yielded only after its digest and
    schema check out. Any problem raises ``BundleError``.
    """
    import blake3

    from localtelemetry._contract.schemas import manifest_errors, validation_errors

    with _open(path) as zf:
        try:
            infos = zf.infolist()
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise BundleError(f"{path} has an unreadable directory ({exc})") from None
        _check_entries(infos)
        entries = len(infos)
        by_name = {info.filename: info for info in infos}
        raw_manifest = _read(zf, by_name[MANIFEST_NAME], manifest_limit(entries))
        _check_manifest_shape(raw_manifest, entries)
        manifest = parse_json(raw_manifest, MANIFEST_NAME)
        del raw_manifest
        errors = manifest_errors(manifest)
        if errors:
            raise BundleError(f"manifest.json does not match its schema: {errors[0]}")
        listed = {f["path"]: f for f in manifest["files"]}
        if len(listed) != len(manifest["files"]):
            raise BundleError("manifest.json lists a file twice")
        yield MANIFEST_NAME, manifest, b""
        for name in sorted(by_name):
            match = DOCUMENT_NAME.match(name)
            if match is None:
                continue
            entry = listed.pop(name, None)
            if entry is None:
                raise BundleError(f"entry {name!r} is not listed in manifest.json")
            data = _read(zf, by_name[name], MAX_DOCUMENT_BYTES)
            if len(data) != entry["size"] or blake3.blake3(data).hexdigest() != entry["blake3"]:
                raise BundleError(
                    f"entry {name!r} does not match its digest in manifest.json "
                    "(tampered or corrupt)"
                )
            document = parse_json(data, name)
            doc_errors = validation_errors(document)
            if doc_errors:
                raise BundleError(f"entry {name!r} does not match its schema: {doc_errors[0]}")
            if document.get("kind") != match.group(1) or document.get("id") != match.group(2):
                raise BundleError(f"entry {name!r} holds a document of another kind or id")
            yield name, document, data
        if README_NAME in by_name:
            entry = listed.pop(README_NAME, None)
            data = _read(zf, by_name[README_NAME], MAX_README_BYTES)
            if entry is None:
                raise BundleError("entry 'README.txt' is not listed in manifest.json")
            if len(data) != entry["size"] or blake3.blake3(data).hexdigest() != entry["blake3"]:
                raise BundleError(
                    "entry 'README.txt' does not match its digest in manifest.json "
                    "(tampered or corrupt)"
                )
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:
                raise BundleError("entry 'README.txt' is not UTF-8") from None
        if listed:
            missing = sorted(listed)[0]
            raise BundleError(f"manifest.json lists {missing!r}, which is not in the bundle")


# -- extracting -------------------------------------------------------------------------

_DIRECTORY_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
_NEW_FILE_FLAGS = (
    os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
)
_AT = os.open in os.supports_dir_fd and os.mkdir in os.supports_dir_fd


def _no_symlink(where: Path) -> BundleError:
    return BundleError(
        f"{where} is a symlink; not writing through it (extract into an empty directory)"
    )


def _exists(where: Path) -> BundleError:
    return BundleError(f"{where} already exists; extract into an empty directory")


def _directory(where: Path, parent: int | None) -> int | None:
    """Create directory ``where`` (0700) unless it exists, never through a symlink; a
    descriptor of it (relative to ``parent``'s), or None where the platform has no
    ``dir_fd`` (then paths are used, with the same checks)."""
    name = where.name if parent is not None else str(where)
    try:
        os.mkdir(name, 0o700, dir_fd=parent)
    except FileExistsError:
        pass
    except OSError as exc:
        raise BundleError(f"{where} cannot be created ({exc.strerror})") from None
    if os.path.islink(where):
        raise _no_symlink(where)
    if not _AT:
        if not where.is_dir():
            raise _exists(where)
        return None
    try:
        return os.open(name, _DIRECTORY_FLAGS, dir_fd=parent)
    except OSError as exc:
        if os.path.islink(where):  # swapped in since the check above
            raise _no_symlink(where) from None
        if exc.errno == errno.ENOTDIR:
            raise _exists(where) from None
        raise BundleError(f"{where} cannot be used ({exc.strerror})") from None


def extract(verified_path: Path, destination: Path) -> int:
    """Write a verified bundle's documents under ``destination`` (created if needed).

    File names are built from validated kinds and ids, so nothing can land outside it.
    Every file is created new (``O_EXCL``) and nothing is opened through a symlink
    (``O_NOFOLLOW``, relative to a descriptor of the directory checked): a symlink
    already inside ``destination`` is refused, never followed, and existing files are
    never overwritten. Raises ``BundleError`` (or ``UsageError`` for a destination that
    is not a directory).
    """
    from localtelemetry._record.documents import serialize

    planned: list[tuple[str | None, str]] = []  # (kind directory or None, file name)
    for name, document, _ in iter_verified(verified_path):  # verify all before writing
        if name == MANIFEST_NAME:
            planned.append((None, MANIFEST_NAME))
        else:
            planned.append((str(document["kind"]), f"{document['id']}.json"))
    try:
        st = os.lstat(destination)
    except FileNotFoundError:
        st = None
    except OSError as exc:  # a file where a parent directory should be, ...
        raise UsageError(f"cannot extract into {destination} ({exc.strerror})") from None
    if st is not None and stat.S_ISLNK(st.st_mode):
        raise _no_symlink(destination)
    if st is not None and not stat.S_ISDIR(st.st_mode):
        raise UsageError(
            f"{destination} exists and is not a directory; give a new or empty directory"
        )
    if st is not None:  # say so before writing anything, if it can be seen now
        for kind, file_name in planned:
            if kind and os.path.islink(destination / kind):
                raise _no_symlink(destination / kind)
            where = destination / kind / file_name if kind else destination / file_name
            if os.path.lexists(where):
                raise _exists(where)
    try:
        destination.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create {destination.parent} ({exc.strerror})") from None
    # Like the store: directories we create are 0700, files 0600 (a directory that
    # already exists is the user's and keeps its mode).
    root = _directory(destination, None)
    kinds: dict[str, int | None] = {}
    written = 0
    try:
        for name, document, data in iter_verified(verified_path):
            if name == MANIFEST_NAME:
                parent, payload = root, serialize(document)
                where = destination / MANIFEST_NAME
            else:
                kind = str(document["kind"])
                if kind not in kinds:
                    kinds[kind] = _directory(destination / kind, root)
                parent, payload = kinds[kind], data
                where = destination / kind / f"{document['id']}.json"
            _write_new(where, parent, payload)
            written += 1
    finally:
        for fd in (*kinds.values(), root):
            if fd is not None:
                os.close(fd)
    return written


def _write_new(where: Path, parent: int | None, payload: bytes) -> None:
    name = where.name if parent is not None else str(where)
    try:
        fd = os.open(name, _NEW_FILE_FLAGS, 0o600, dir_fd=parent)
    except FileExistsError:
        raise _exists(where) from None
    except OSError as exc:
        if os.path.islink(where):
            raise _no_symlink(where) from None
        raise BundleError(f"{where} cannot be written ({exc.strerror})") from None
    with os.fdopen(fd, "wb") as fh:
        fh.write(payload)
