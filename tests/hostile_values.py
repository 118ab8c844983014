"""A hostile corpus of values (issue 12): bundles that verify against their manifests
(every digest and size right) but whose documents each break one rule of a valid
document: dates that are not dates, digits that are not ASCII, integers no engine
holds, a key given twice at some depth, a trailing newline in a pattern-checked string.

``CASES`` names each one; ``write_case(path, name)`` writes its bundle: a real run's
documents (one of each kind, from ``bundle_factory``), one of them changed, the manifest
made from the unchanged documents (so the manifest itself is valid) with the digest and
size of the bytes actually stored. ``good_bundle(path, seed)`` writes a valid bundle of
the same shape.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bundle_factory import EPOCH, Run, documents_for, write_bundle

from localtelemetry._record.documents import serialize

Mutation = Callable[[dict[str, Any]], dict[str, Any] | bytes]
ARABIC_INDIC = "".join(chr(0x0660 + i) for i in range(10))
FULLWIDTH = "".join(chr(0xFF10 + i) for i in range(10))
DEVANAGARI = "".join(chr(0x0966 + i) for i in range(10))
HASH = "0123456789abcdef0123456789abcdef"
PATH = {"hash": HASH, "extension": ".py", "is_absolute": False, "under_home": False}


def _set(path: str, value: Any) -> Mutation:
    """Set the value at ``path`` (dotted; integers index lists)."""

    def change(doc: dict[str, Any]) -> dict[str, Any]:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        node: Any = doc
        for part in parents:
            node = node[part]
        node[last] = value
        return doc

    return change


def _append(path: str, suffix: str) -> Mutation:
    """Append ``suffix`` to the string at ``path``."""

    def change(doc: dict[str, Any]) -> dict[str, Any]:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        node: Any = doc
        for part in parents:
            node = node[part]
        node[last] = node[last] + suffix
        return doc

    return change


def _rename_key(path: str, old: str, new: str) -> Mutation:
    """Rename key ``old`` of the object at ``path`` (a map of counts) to ``new``."""

    def change(doc: dict[str, Any]) -> dict[str, Any]:
        node: Any = doc
        for part in [int(p) if p.isdigit() else p for p in path.split(".")]:
            node = node[part]
        node[new] = node.pop(old)
        return doc

    return change


def _then(*changes: Mutation) -> Mutation:
    def change(doc: dict[str, Any]) -> dict[str, Any] | bytes:
        out: Any = doc
        for step in changes:
            out = step(out)
        return out  # type: ignore[no-any-return]

    return change


def _digits(path: str, digits: str, keep: int = 0) -> Mutation:
    """Replace the ASCII digits of the string at ``path`` (after ``keep`` characters)."""

    def change(doc: dict[str, Any]) -> dict[str, Any]:
        *parents, last = path.split(".")
        node: Any = doc
        for part in parents:
            node = node[part]
        text = node[last]
        node[last] = text[:keep] + text[keep:].translate(str.maketrans("0123456789", digits))
        return doc

    return change


def _duplicate(path: str, key: str, attacker: Any, raw_key: str | None = None) -> Mutation:
    """The document's bytes with ``key`` given twice in the object at ``path`` (""
    for the top): first ``attacker``'s value, then the real one, which is what a
    last-wins parser (orjson, Python's json) and the validator see."""

    def change(doc: dict[str, Any]) -> bytes:
        parts = [int(p) if p.isdigit() else p for p in path.split(".")] if path else []
        target: Any = doc
        for part in parts:
            target = target[part]
        marker = "__duplicate_marker__"
        items = list(target.items())
        target.clear()
        for k, v in items:
            if k == key:
                target[marker] = attacker
            target[k] = v
        text = serialize(doc).decode("utf-8")
        shown = json.dumps(raw_key if raw_key is not None else key)
        if raw_key is not None:
            shown = '"' + raw_key + '"'
        return text.replace(json.dumps(marker), shown, 1).encode("utf-8")

    return change


CASES: dict[str, tuple[str, Mutation]] = {
    # -- dates that match no calendar (created_at) --------------------------------------
    "date-month-13": ("cli-command", _set("created_at", "2026-13-01T00:00:00.000Z")),
    "date-month-00": ("cli-command", _set("created_at", "2026-00-10T00:00:00.000Z")),
    "date-day-00": ("cli-command", _set("created_at", "2026-03-00T00:00:00.000Z")),
    "date-feb-30": ("cli-command", _set("created_at", "2026-02-30T12:00:00.000Z")),
    "date-feb-29-common-year": ("cli-command", _set("created_at", "2026-02-29T12:00:00.000Z")),
    "date-apr-31": ("cli-command", _set("created_at", "2026-04-31T12:00:00.000Z")),
    "date-year-0000": ("cli-command", _set("created_at", "0000-01-01T00:00:00.000Z")),
    "date-year-1969": ("cli-command", _set("created_at", "1969-12-31T23:59:59.999Z")),
    "date-year-2100": ("cli-command", _set("created_at", "2100-01-01T00:00:00.000Z")),
    "date-year-9999": ("run-summary", _set("created_at", "9999-12-31T23:59:59.999Z")),
    "date-hour-24": ("cli-command", _set("created_at", "2026-03-02T24:00:00.000Z")),
    "date-minute-60": ("cli-command", _set("created_at", "2026-03-02T10:60:00.000Z")),
    "date-leap-second": ("cli-command", _set("created_at", "2026-03-02T23:59:60.000Z")),
    "date-arabic-indic-digits": ("cli-command", _digits("created_at", ARABIC_INDIC)),
    "date-fullwidth-digits": ("snapshot", _digits("created_at", FULLWIDTH)),
    "date-devanagari-millis": ("build", _digits("created_at", DEVANAGARI, keep=20)),
    "date-trailing-newline": ("cli-command", _append("created_at", "\n")),
    "date-feb-30-build": ("build", _set("created_at", "2026-02-30T10:00:00.000Z")),
    "date-month-13-snapshot": ("snapshot", _set("created_at", "2026-13-13T10:00:00.000Z")),
    # -- integers and numbers no engine holds ---------------------------------------------
    "int-exit-code-u64-max": ("cli-command", _set("payload.exit_code", 2**64 - 1)),
    "int-exit-code-below-i64": ("cli-command", _set("payload.exit_code", -(2**63) - 1)),
    "int-exit-code-2-53": ("cli-command", _set("payload.exit_code", 2**53)),
    "int-exit-code-1e30": ("cli-command", _set("payload.exit_code", 1e30)),
    "num-cli-duration-1e300": ("cli-command", _set("payload.duration_ms", 1e300)),
    "num-parameter-value-1e20": (
        "cli-command",
        _set(
            "payload.parameters",
            [{"name": "jobs", "type": "integer", "source": "commandline", "values": [10**20]}],
        ),
    ),
    "int-cache-hits-2-63": ("build", _set("payload.cache.hits", 2**63)),
    "int-cache-misses-u64-max": ("build", _set("payload.cache.misses", 2**64 - 1)),
    "int-counter-2-53": ("build", _set("payload.counters.files", 2**53)),
    "int-counter-minus-2-53": ("build", _set("payload.counters.files", -(2**53))),
    "int-warnings-2-60": ("build", _set("payload.warnings", {"deprecation": 2**60})),
    "num-build-duration-2-60": ("build", _set("payload.duration_ms", 2.0**60)),
    "num-phase-duration-1e19": ("build", _set("payload.phases.0.duration_ms", 1e19)),
    "int-snapshot-count-2-63": ("snapshot", _set("payload.counts.tables", 2**63)),
    "num-snapshot-duration-1e20": ("snapshot", _set("payload.duration_ms", 1e20)),
    "int-summary-exit-code-u64-max": ("run-summary", _set("payload.exit_code", 2**64 - 1)),
    "int-peak-rss-2-63": ("run-summary", _set("payload.peak_rss_kib", 2**63)),
    "int-documents-build-2-53": ("run-summary", _set("payload.documents.build", 2**53)),
    "int-documents-failed-u64-max": ("run-summary", _set("payload.documents_failed", 2**64 - 1)),
    "num-cpu-user-1e300": ("run-summary", _set("payload.cpu_user_ms", 1e300)),
    "num-overhead-2-60": ("run-summary", _set("payload.recorder_overhead_ms", 2.0**60)),
    "int-redactions-2-53": ("run-summary", _set("payload.redactions", {"email": 2**53})),
    # -- a key given twice (the last copy is valid: what a last-wins reader checks) ----
    "dup-payload-top": ("cli-command", _duplicate("", "payload", {"command_path": ["evil"]})),
    "dup-id-top": ("cli-command", _duplicate("", "id", "01m84dnec7mswr4sxewtdyyvna")),
    "dup-app-version": ("cli-command", _duplicate("app", "version", "6.6.6")),
    "dup-environment-os": ("run-summary", _duplicate("environment", "os", "windows")),
    "dup-cache-hits": ("build", _duplicate("payload.cache", "hits", 999)),
    "dup-phase-name": ("build", _duplicate("payload.phases.0", "name", "hidden")),
    "dup-snapshot-count": ("snapshot", _duplicate("payload.counts", "tables", 10**6)),
    "dup-summary-documents": ("run-summary", _duplicate("payload.documents", "build", 50)),
    "dup-escaped-key": ("cli-command", _duplicate("", "payload", {}, raw_key="\\u0070ayload")),
    "dup-exit-code": ("cli-command", _duplicate("payload", "exit_code", 0)),
    # -- a trailing newline in a pattern-checked string -----------------------------------
    "nl-id": ("cli-command", _append("id", "\n")),
    "nl-run-id": ("cli-command", _append("run_id", "\n")),
    "nl-app-name": ("cli-command", _append("app.name", "\n")),
    "nl-app-version": ("build", _append("app.version", "\n")),
    "nl-producer-version": ("snapshot", _append("producer.version", "\n")),
    "nl-python-version": ("run-summary", _append("environment.python", "\n")),
    "nl-key-id": ("cli-command", _append("hashing.key_id", "\n")),
    "nl-command-path": ("cli-command", _set("payload.command_path", ["index\n"])),
    "nl-command-family": ("cli-command", _append("payload.command_family", "\n")),
    "nl-flag": ("cli-command", _set("payload.flags", ["--include\n"])),
    "nl-error-kind": (
        "cli-command",
        _then(_set("payload.error_kind", "KeyError\n"), _set("payload.outcome", "failure")),
    ),
    "nl-parameter-name": ("cli-command", _append("payload.parameters.0.name", "\n")),
    "nl-parameter-hash": ("cli-command", _set("payload.parameters.1.hashes", [HASH + "\n"])),
    "nl-parameter-choice": (
        "cli-command",
        _set(
            "payload.parameters",
            [{"name": "mode", "type": "choice", "source": "commandline", "values": ["fast\n"]}],
        ),
    ),
    "nl-path-extension": (
        "cli-command",
        _set("payload.parameters.0.paths", [{**PATH, "extension": ".py\n"}]),
    ),
    "nl-path-hash": ("build", _set("payload.inputs.0.path", {**PATH, "hash": HASH + "\n"})),
    "nl-build-name": ("build", _append("payload.name", "\n")),
    "nl-phase-name": ("build", _append("payload.phases.0.name", "\n")),
    "nl-counter-name": ("build", _rename_key("payload.counters", "files", "files\n")),
    "nl-input-role": ("build", _append("payload.inputs.0.role", "\n")),
    "nl-filter-hash": ("build", _append("payload.filters.0.hash", "\n")),
    "nl-snapshot-name": ("snapshot", _append("payload.name", "\n")),
    "nl-count-name": ("snapshot", _rename_key("payload.counts", "tables", "tables\n")),
    "nl-fingerprint": ("snapshot", _set("payload.fingerprint", HASH + "\n")),
    "nl-redaction-kind": ("run-summary", _set("payload.redactions", {"email\n": 1})),
    "nl-hashed-name": ("build", _set("payload.name", "h:" + HASH + "\n")),
    "digits-python-version": ("run-summary", _digits("environment.python", ARABIC_INDIC, 2)),
    "nl-output-role": (
        "build",
        _set("payload.outputs", [{"role": "wheel\n", "path": PATH}]),
    ),
}


def _documents(seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    run = Run(
        command=("index",),
        build=("compile", "success", 40.0, (("parse", 10.0, "success"),)),
        snapshot=("catalog", {"tables": 10}),
        when=EPOCH,
    )
    return documents_for(run, rng)


def _dumps(document: dict[str, Any]) -> bytes:
    try:
        return serialize(document)
    except TypeError:  # integers orjson cannot write (beyond 64 bits)
        return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def write_case(path: Path, name: str, seed: int = 0) -> tuple[Path, str, bytes]:
    """The bundle of case ``name``: (its path, the changed entry's name, its bytes)."""
    kind, mutate = CASES[name]
    documents = _documents(seed)
    original = next(d for d in documents if d["kind"] == kind)
    changed = mutate(json.loads(json.dumps(original)))
    raw = changed if isinstance(changed, bytes) else _dumps(changed)
    write_bundle(path, documents, raw={str(original["id"]): raw})
    return path, f"documents/{kind}/{original['id']}.json", raw


def good_bundle(path: Path, seed: int) -> Path:
    return write_bundle(path, _documents(seed))
