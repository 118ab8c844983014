"""The bundle's zip, written as a stream (``telemetry export``).

Why not ``zipfile``'s writer (docs/performance.md, "Libraries instead of hand-written
code"): it keeps a ``ZipInfo`` per entry until the central directory is written (about
360 bytes per document: 36 MB more at 100,000, where export must stay under 64 MiB and
grow by a few bytes per document), and sets up a compressor per entry (about twice the
time per document). Here each entry's local header and data go out at once; the central
directory (about 90 bytes per entry) waits in a spooled file (on disk past
``SPOOL_BYTES``, about 700 entries) and is written at the end, with ZIP64 end records
when there are 65,535 entries or more. Entries take their name, time, mode and
compression from ``_contract/bundle.zip_info`` (``zipfile``'s own ``ZipInfo``), and
``tests/test_export_speed.py`` reads the result back with ``zipfile``.
"""

from __future__ import annotations

import shutil
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Iterable
from typing import BinaryIO

from localtelemetry._contract.bundle import zip_info
from localtelemetry._contract.exceptions import OperationFailed

ZIP32_LIMIT = 0xFFFFFFFF
#: Held in memory before a spooled file goes to disk: reached within the first thousand
#: entries, so memory does not grow with the bundle.
SPOOL_BYTES = 64 * 1024

# compress type, DOS time, DOS date, create_system, external attributes
_Fields = tuple[int, int, int, int, int]
_LOCAL = struct.Struct("<4sHHHHHLLLHH")
_CENTRAL = struct.Struct("<4sHHHHHHLLLHHHHHLL")
_RECORDS_BATCH = 256


def _fields(info: zipfile.ZipInfo) -> _Fields:
    year, month, day, hour, minute, second = info.date_time
    dos_time = hour << 11 | minute << 5 | second // 2
    dos_date = (year - 1980) << 9 | month << 5 | day
    return info.compress_type, dos_time, dos_date, info.create_system, info.external_attr


def _encoded(filename: str) -> tuple[bytes, int]:
    """An entry name as zip stores it, and its flags (0x800: UTF-8)."""
    try:
        return filename.encode("ascii"), 0
    except UnicodeEncodeError:
        return filename.encode("utf-8"), 0x800


class ZipWriter:
    """A zip written to ``raw`` as a stream; close (or leave the ``with``) to finish it."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        # writestream patches a header in place: not where writes always go to the end.
        self._patchable = raw.seekable() and "a" not in str(getattr(raw, "mode", ""))
        self._offset = 0
        self._count = 0
        self._central_size = 0
        self._records: list[bytes] = []
        self._central = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
        self._document = _fields(zip_info("documents/entry.json"))

    def __enter__(self) -> ZipWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if exc_type is None:
                self.close()
        finally:
            self._central.close()

    def writestr(self, info: zipfile.ZipInfo, data: bytes) -> None:
        if info.compress_type == zipfile.ZIP_DEFLATED:
            # A zlib stream is a 2-byte header, the raw deflate data zip wants and a
            # 4-byte checksum (zlib.compress has no wbits argument before Python 3.11).
            body = zlib.compress(data)[2:-4]
        elif info.compress_type == zipfile.ZIP_STORED:
            body = data
        else:  # a programming error (export asks for these two only): a plain ValueError
            raise ValueError(f"unsupported compression {info.compress_type}")
        self._entry(info.filename, _fields(info), body, zlib.crc32(data), len(data))

    def write_document(self, name: str, data: bytes) -> None:
        """The same as ``writestr(zip_info(name), data)``, without making a ZipInfo."""
        body = zlib.compress(data)[2:-4]
        self._entry(name, self._document, body, zlib.crc32(data), len(data))

    def writestream(self, info: zipfile.ZipInfo, chunks: Iterable[bytes]) -> None:
        """An entry given in pieces (the manifest). Its compressed form goes out as it
        comes, after a header whose sizes and checksum are filled in at the end (the
        bytes are the same as ``writestr`` of the whole), so memory holds neither."""
        compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
        if not self._patchable:
            parts = []
            crc = size = 0
            for chunk in chunks:
                crc = zlib.crc32(chunk, crc)
                size += len(chunk)
                parts.append(compressor.compress(chunk))
            parts.append(compressor.flush())
            self._entry(info.filename, _fields(info), b"".join(parts), crc, size)
            return
        start = self._raw.tell()
        name, flags = _encoded(info.filename)
        fields = _fields(info)
        self._raw.write(self._header(name, flags, fields, 0, 0, 0) + name)
        crc = size = compressed = 0
        for chunk in chunks:
            crc = zlib.crc32(chunk, crc)
            size += len(chunk)
            out = compressor.compress(chunk)
            compressed += len(out)
            self._raw.write(out)
        out = compressor.flush()
        compressed += len(out)
        self._raw.write(out)
        end = self._raw.tell()
        self._raw.seek(start)
        self._raw.write(self._header(name, flags, fields, crc, compressed, size))
        self._raw.seek(end)
        self._record(name, flags, fields, crc, compressed, size)

    def _entry(self, filename: str, fields: _Fields, body: bytes, crc: int, size: int) -> None:
        name, flags = _encoded(filename)
        header = self._header(name, flags, fields, crc, len(body), size)
        self._raw.write(b"".join((header, name, body)))
        self._record(name, flags, fields, crc, len(body), size)

    def _header(
        self, name: bytes, flags: int, fields: _Fields, crc: int, compressed: int, size: int
    ) -> bytes:
        """The local header of an entry at the current offset; the name follows it."""
        if self._offset + compressed + len(name) + 30 > ZIP32_LIMIT or size > ZIP32_LIMIT:
            raise OperationFailed("the bundle would be over 4 GB; export fewer documents")
        compress_type, dos_time, dos_date, _, _ = fields
        return _LOCAL.pack(
            b"PK\x03\x04", 20, flags, compress_type, dos_time, dos_date, crc, compressed, size,
            len(name), 0,
        )  # fmt: skip

    def _record(
        self, name: bytes, flags: int, fields: _Fields, crc: int, compressed: int, size: int
    ) -> None:
        """Entry done: its central directory record, and the offset of the next one."""
        compress_type, dos_time, dos_date, create_system, external_attr = fields
        record = _CENTRAL.pack(
            b"PK\x01\x02", create_system << 8 | 20, 20, flags, compress_type, dos_time,
            dos_date, crc, compressed, size, len(name), 0, 0, 0, 0, external_attr, self._offset,
        ) + name  # fmt: skip
        self._offset += _LOCAL.size + len(name) + compressed
        self._records.append(record)
        self._central_size += len(record)
        self._count += 1
        if len(self._records) >= _RECORDS_BATCH:
            self._flush_records()

    def _flush_records(self) -> None:
        self._central.write(b"".join(self._records))
        self._records.clear()

    def close(self) -> None:
        self._flush_records()
        start = self._offset
        size = self._central_size
        self._central.seek(0)
        shutil.copyfileobj(self._central, self._raw, SPOOL_BYTES)
        end = start + size
        count = self._count
        if count >= 0xFFFF or start >= ZIP32_LIMIT or size >= ZIP32_LIMIT:
            self._raw.write(
                b"PK\x06\x06"
                + struct.pack("<QHHLLQQQQ", 44, 45, 45, 0, 0, count, count, size, start)
                + b"PK\x06\x07"
                + struct.pack("<LQL", 0, end, 1)
            )
        self._raw.write(
            b"PK\x05\x06"
            + struct.pack(
                "<HHHHLLH",
                0,
                0,
                min(count, 0xFFFF),
                min(count, 0xFFFF),
                min(size, ZIP32_LIMIT),
                min(start, ZIP32_LIMIT),
                0,
            )
        )
