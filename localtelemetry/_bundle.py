"""The bundle format, and reading bundles as the hostile input they may be.

A bundle is a zip holding ``README.txt``, ``documents/<kind>/<id>.json`` and
``manifest.json`` (sorted, fixed timestamps and permissions). ``verify`` never trusts
it: names that are absolute or contain ``..``, symlink entries, duplicates, too many
entries, compression methods other than deflate, oversized entries or totals,
compression ratios of a bomb, non-UTF-8 or non-JSON content, deep nesting, digests
that do not match and documents that do not validate each stop verification with one
clear ``BundleError``. Nothing is written anywhere, except, after a successful
verification, into the directory the user names with ``--extract`` (0700 directories,
0600 files, names built from validated ids, never from the zip).
"""

from __future__ import annotations

import os
import re
import stat
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._exceptions import BundleError
from ._location import KINDS

BUNDLE_FORMAT = "localtelemetry-bundle"
BUNDLE_FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
README_NAME = "README.txt"
FIXED_TIME = (1980, 1, 1, 0, 0, 0)

MAX_ENTRIES = 250_000
MAX_DOCUMENT_BYTES = 1024 * 1024
MAX_MANIFEST_BYTES = 128 * 1024 * 1024
MAX_README_BYTES = 64 * 1024
MAX_TOTAL_BYTES = 4 * 1024 * 1024 * 1024
MAX_RATIO = 100  # uncompressed/compressed; JSON documents compress about 5-10x
RATIO_FLOOR = 64 * 1024  # small entries may compress well without being bombs
MAX_DEPTH = 32

_DOCUMENT_RE = re.compile(rf"^documents/({'|'.join(KINDS)})/([0-9a-hjkmnp-tv-z]{{26}})\.json\Z")

README_TEXT = """\
localtelemetry diagnostics bundle
=================================

This zip was made by `telemetry export` from the local diagnostics of a command-line
tool. Its owner chose to share it. It contains:

  manifest.json            what is inside, how it was redacted, a BLAKE3 digest of
                           every file (verify with: localtelemetry inspect BUNDLE.zip)
  documents/<kind>/*.json  one JSON document per recorded event; each follows the JSON
                           Schema named in its "schema" field (localtelemetry schema KIND)

What was done before sharing: every field the schema does not allow was dropped; paths,
filters and other values that came from the user are keyed hashes (by default re-keyed
for this bundle only, with document and run ids re-mapped and times cut to the day, so
two bundles share no hash, id or exact time); free text was scrubbed of paths, secrets
and personal data at recording time and again at export, with the words the user asked
to redact and the names of their machine.

What redaction cannot guarantee: scrubbing free text works by patterns; an unusual
secret or a name in an error message may not be recognised. Names chosen by the tool's
authors (commands, phases, counters) are kept when they are plain identifiers. Hashes of
very common values can be compared within this bundle. Review the documents before
sending the bundle anywhere.
"""


def zip_info(name: str) -> zipfile.ZipInfo:
    """A zip entry with fixed time and permissions, so bundles are reproducible."""
    info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # unix, so the permissions below mean what they say
    info.external_attr = (stat.S_IFREG | 0o600) << 16
    return info


def document_entry_name(kind: str, id_: str) -> str:
    return f"documents/{kind}/{id_}.json"


@dataclass
class Verified:
    """A bundle that passed every check."""

    path: Path
    manifest: dict[str, Any]
    documents: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    has_readme: bool = False


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


def _limit_for(name: str) -> int:
    if name == MANIFEST_NAME:
        return MAX_MANIFEST_BYTES
    if name == README_NAME:
        return MAX_README_BYTES
    return MAX_DOCUMENT_BYTES


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
        if name not in (MANIFEST_NAME, README_NAME) and not _DOCUMENT_RE.match(name):
            raise BundleError(f"unknown entry {name!r}: not part of the bundle format")
        if info.file_size > _limit_for(name):
            raise BundleError(f"entry {name!r} is {info.file_size} bytes, over its size limit")
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise BundleError(f"entry {name!r} has a compression ratio that signals a zip bomb")
        total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise BundleError("bundle unpacks to more than the total size limit")
    if MANIFEST_NAME not in seen:
        raise BundleError("bundle has no manifest.json")


def _read(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """Read at most the entry's limit, whatever its header claims."""
    limit = _limit_for(info.filename)
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


def _depth(value: Any, level: int = 0) -> int:
    if level > MAX_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level + 1)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level + 1)
    return level


def parse_json(data: bytes, name: str) -> dict[str, Any]:
    import orjson

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise BundleError(f"entry {name!r} is not UTF-8") from None
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise BundleError(f"entry {name!r} is not valid JSON ({exc.msg})") from None
    if not isinstance(value, dict):
        raise BundleError(f"entry {name!r} is not a JSON object")
    if _depth(value) > MAX_DEPTH:
        raise BundleError(f"entry {name!r} is nested deeper than {MAX_DEPTH} levels")
    return value


def _open(path: Path) -> zipfile.ZipFile:
    if not path.exists():
        raise BundleError(f"{path} does not exist")
    if not path.is_file():
        raise BundleError(f"{path} is not a regular file")
    try:
        return zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise BundleError(f"{path} is not a zip file (or it is truncated)") from None
    except (OSError, ValueError, EOFError, RuntimeError) as exc:
        raise BundleError(f"{path} cannot be opened as a zip ({exc})") from None


def iter_verified(path: Path) -> Iterator[tuple[str, dict[str, Any], bytes]]:
    """Verify the whole bundle, yielding ``(entry name, document, bytes)`` as it goes.

    The manifest is checked first; each document is yielded only after its digest and
    schema check out. Any problem raises ``BundleError``.
    """
    import blake3

    from ._schemas import manifest_errors, validation_errors

    with _open(path) as zf:
        try:
            infos = zf.infolist()
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise BundleError(f"{path} has an unreadable directory ({exc})") from None
        _check_entries(infos)
        by_name = {info.filename: info for info in infos}
        manifest = parse_json(_read(zf, by_name[MANIFEST_NAME]), MANIFEST_NAME)
        errors = manifest_errors(manifest)
        if errors:
            raise BundleError(f"manifest.json does not match its schema: {errors[0]}")
        listed = {f["path"]: f for f in manifest["files"]}
        if len(listed) != len(manifest["files"]):
            raise BundleError("manifest.json lists a file twice")
        yield MANIFEST_NAME, manifest, b""
        for name in sorted(by_name):
            match = _DOCUMENT_RE.match(name)
            if match is None:
                continue
            entry = listed.pop(name, None)
            if entry is None:
                raise BundleError(f"entry {name!r} is not listed in manifest.json")
            data = _read(zf, by_name[name])
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
            data = _read(zf, by_name[README_NAME])
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


def extract(verified_path: Path, destination: Path) -> int:
    """Write a verified bundle's documents under ``destination`` (created if needed).

    File names are built from validated kinds and ids, so nothing can land outside it;
    existing files are never overwritten.
    """
    from ._documents import serialize

    planned: list[Path] = []
    for name, document, _ in iter_verified(verified_path):  # verify all before writing
        if name == MANIFEST_NAME:
            planned.append(destination / MANIFEST_NAME)
        else:
            planned.append(destination / str(document["kind"]) / f"{document['id']}.json")
    clash = next((p for p in planned if p.exists() or p.is_symlink()), None)
    if clash is not None:
        raise BundleError(f"{clash} already exists; extract into an empty directory")
    # Like the store: directories we create are 0700, files 0600 (a directory that
    # already exists is the user's and keeps its mode).
    destination.mkdir(parents=True, exist_ok=True, mode=0o700)
    if destination.is_symlink():
        raise BundleError(f"{destination} is a symlink; choose a real directory")
    written = 0
    for name, document, data in iter_verified(verified_path):
        if name == MANIFEST_NAME:
            out = destination / MANIFEST_NAME
            payload = serialize(document)
        else:
            kind, id_ = str(document["kind"]), str(document["id"])
            (destination / kind).mkdir(exist_ok=True, mode=0o700)
            out = destination / kind / f"{id_}.json"
            payload = data
        try:
            fd = os.open(
                out, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600
            )
        except FileExistsError:
            raise BundleError(f"{out} already exists; extract into an empty directory") from None
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
        written += 1
    return written
