"""The bundle format: what every bundle holds and what each entry may weigh.

A bundle is a zip holding ``README.txt``, ``documents/<kind>/<id>.json`` and
``manifest.json``, every entry with a fixed time and permissions so bundles are
reproducible. Export (``_share``) writes this format and the readers (``_receive``)
check it; both take its names and limits from here.
"""

from __future__ import annotations

import re
import stat
import zipfile

from localtelemetry._contract import (
    ID_PATTERN,
    KINDS,
    MANIFEST_BASE_BYTES,
    MANIFEST_BYTES_PER_ENTRY,
    MAX_DOCUMENT_BYTES,
    MAX_ENTRIES,
    MAX_MANIFEST_BYTES,
    MAX_README_BYTES,
)

BUNDLE_FORMAT = "localtelemetry-bundle"
BUNDLE_FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
README_NAME = "README.txt"
FIXED_TIME = (1980, 1, 1, 0, 0, 0)

#: What a document's entry in a bundle is called (``documents/<kind>/<id>.json``).
DOCUMENT_NAME = re.compile(rf"^documents/({'|'.join(KINDS)})/({ID_PATTERN})\.json\Z")

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


def limit_for(name: str, entries: int = MAX_ENTRIES) -> int:
    """How many bytes the entry ``name`` may hold once inflated."""
    if name == MANIFEST_NAME:
        return manifest_limit(entries)
    if name == README_NAME:
        return MAX_README_BYTES
    return MAX_DOCUMENT_BYTES


def manifest_limit(entries: int) -> int:
    """The size manifest.json may have in a zip of ``entries`` entries: a listed file
    takes about 190 bytes, so a small bundle cannot carry a huge manifest."""
    return min(MAX_MANIFEST_BYTES, MANIFEST_BASE_BYTES + MANIFEST_BYTES_PER_ENTRY * entries)
