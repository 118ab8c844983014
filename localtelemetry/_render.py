"""Human rendering of command results: plain aligned tables, no heavy imports."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"  # pragma: no cover


def status_text(result: dict[str, Any]) -> str:
    lines = [
        f"app:        {result['app']}",
        f"recording:  {result['recording']}",
    ]
    if result["blocked_by"]:
        lines.append(f"blocked:    {result['blocked_by']} is set: --telemetry is ignored")
    relocated = result["overrides"].get("LOCALTELEMETRY_DIR")
    lines.append(
        f"store:      {result['store']}"
        + ("" if result["store_exists"] else " (not created yet)")
        + (" (relocated by LOCALTELEMETRY_DIR)" if relocated else "")
    )
    if result.get("bytes_estimated"):
        size = (
            f"about {human_bytes(result['bytes'])}, estimated from "
            f"{result['bytes_sampled']} sampled documents"
        )
    else:
        size = human_bytes(result["bytes"])
    lines.append(f"documents:  {result['documents']} ({size})")
    if result["oldest"]:
        lines.append(f"oldest:     {result['oldest']}")
        lines.append(f"newest:     {result['newest']}")
    limits = result["limits"]
    lines.append(
        f"limits:     {limits['max_documents']} documents, {human_bytes(limits['max_bytes'])}, "
        f"{limits['max_age_days']:g} days (oldest removed first)"
    )
    lines.append(
        f"key id:     {result['key_id'] or '(no key yet: made on the first recorded run)'}"
    )
    if result["key_problem"]:
        lines.append(f"key:        PROBLEM: {result['key_problem']}")
    if result["foreign_files"]:
        lines.append(f"other files: {result['foreign_files']} (not ours: ignored, never deleted)")
    if result["documents"]:
        rows = [
            (kind, c["count"], human_bytes(c["bytes"])) for kind, c in result["by_kind"].items()
        ]
        lines += ["", table(("kind", "documents", "size"), rows)]
    return "\n".join(lines)


def list_text(result: dict[str, Any]) -> str:
    if not result["documents"]:
        return "no documents match"
    rows = [
        (d["id"], d["kind"], d["created_at"], (d["run_id"] or "")[:12], d["summary"])
        for d in result["documents"]
    ]
    text = table(("id", "kind", "created (UTC)", "run", "summary"), rows)
    if result["shown"] < result["total"]:
        text += f"\n({result['shown']} of {result['total']} shown; use --limit)"
    if result["skipped_unreadable"]:
        text += f"\n({result['skipped_unreadable']} unreadable documents skipped)"
    return text


def explain_text(result: dict[str, Any]) -> str:
    parts = []
    for kind, info in result["kinds"].items():
        parts.append(f"{kind}  ({info['schema']})\n  {info['description']}\n")
        rows = [(f["field"], f["type"], f["description"]) for f in info["fields"]]
        parts.append(table(("field", "type", "meaning"), rows))
        parts.append("")
    return "\n".join(parts).rstrip()


def validate_text(result: dict[str, Any]) -> str:
    lines = []
    for r in result["results"]:
        if not r["valid"]:
            lines.append(f"INVALID {r['file']}")
            lines.extend(f"  {e}" for e in r["errors"])
    lines.append(
        f"{result['checked']} checked: {result['valid']} valid, {result['invalid']} invalid"
    )
    return "\n".join(lines)


def inspect_text(result: dict[str, Any]) -> str:
    app = result["app"] or {}
    hashing = result["hashing"] or {}
    lines = [
        f"bundle:     {result['bundle']}",
        f"verified:   yes: manifest, {result['documents']} documents, digests and schemas",
        f"app:        {app.get('name')} (versions: {', '.join(app.get('versions') or [])})",
        f"created:    {result['created_at']} by localtelemetry "
        f"{(result['producer'] or {}).get('version')}",
        f"hashing:    {hashing.get('mode')} (key id {hashing.get('key_id')})",
        "documents:  " + ", ".join(f"{k} {v}" for k, v in result["by_kind"].items()),
    ]
    redaction = result["redaction"]
    subs = redaction.get("substitutions") or {}
    lines.append(
        "redaction:  "
        + (", ".join(f"{k} {v}" for k, v in subs.items()) or "no substitutions at export")
        + f"; {redaction.get('fields_dropped', 0)} fields dropped; skipped: "
        + (
            ", ".join(f"{k} {v}" for k, v in (redaction.get("documents_skipped") or {}).items())
            or "none"
        )
    )
    if result["commands"]:
        command_rows: list[tuple[object, ...]] = [
            (
                c["command"],
                c["runs"],
                c["success"],
                c["failure"],
                c["interrupted"],
                c["duration_p50_ms"],
                c["duration_p95_ms"],
                c["duration_max_ms"],
                ", ".join(f"{k} x{v}" for k, v in c["error_kinds"].items()),
            )
            for c in result["commands"]
        ]
        headers = (
            "command",
            "runs",
            "ok",
            "failed",
            "interrupted",
            "p50 ms",
            "p95 ms",
            "max ms",
            "error kinds",
        )
        lines += ["", table(headers, command_rows)]
    if result["builds"]:
        rows: list[tuple[object, ...]] = [
            (b["name"], b["runs"], ", ".join(f"{k} {v}" for k, v in b["statuses"].items()))
            for b in result["builds"]
        ]
        lines += ["", table(("build", "runs", "statuses"), rows)]
    return "\n".join(lines)


def export_text(result: dict[str, Any]) -> str:
    redaction = result["redaction"]
    subs = redaction.get("substitutions") or {}
    skipped = redaction.get("documents_skipped") or {}
    return "\n".join(
        [
            f"wrote {result['bundle']} ({human_bytes(result['bytes'])}): {result['documents']} "
            "documents (" + ", ".join(f"{k} {v}" for k, v in result["by_kind"].items()) + ")",
            f"hashing: {result['hashing']['mode']} (key id {result['hashing']['key_id']}); "
            + (
                "ids and times as recorded"
                if result.get("ids") == "kept"
                else "ids re-mapped, times cut to the day"
            )
            + (
                "; free text left out (--no-messages)"
                if result.get("messages") == "dropped"
                else ""
            ),
            "redaction at export: "
            + (", ".join(f"{k} {v}" for k, v in subs.items()) or "no new substitutions")
            + f"; {redaction.get('fields_dropped', 0)} unknown fields dropped"
            + ("; skipped " + ", ".join(f"{k} {v}" for k, v in skipped.items()) if skipped else ""),
            "Check it before sharing: localtelemetry inspect " + result["bundle"],
        ]
    )


def preview_text(result: dict[str, Any], summaries: list[str]) -> str:
    manifest = result["manifest"]
    redaction = manifest["redaction"]
    subs = redaction["substitutions"]
    skipped = redaction["documents_skipped"]
    lines = [
        f"would export {manifest['counts']['documents']} documents: "
        + ", ".join(f"{k} {v}" for k, v in manifest["counts"]["by_kind"].items()),
        f"hashing: {manifest['hashing']['mode']}"
        + (
            "" if manifest["hashing"]["mode"] == "kept" else "; ids re-mapped, times cut to the day"
        ),
        "redaction at export: "
        + (", ".join(f"{k} {v}" for k, v in subs.items()) or "no new substitutions")
        + f"; {redaction['fields_dropped']} unknown fields dropped; skipped: "
        + (", ".join(f"{k} {v}" for k, v in skipped.items()) or "none"),
        "",
        *free_text_lines(result),
        "",
        "documents:",
        *summaries,
        "",
        "Nothing was written. '--preview --output json' shows every document in full.",
    ]
    return "\n".join(lines)


def free_text_lines(result: dict[str, Any]) -> list[str]:
    """Every free-text string of a preview, as JSON strings (quotes show where each one
    starts and ends; escapes show line breaks), under its kind and field."""
    if result.get("messages") == "dropped":
        return ["free text: none (--no-messages leaves every message out)"]
    entries = result["free_text"]
    if not entries:
        return ["free text: none"]
    lines = [f"free text that would be shared ({len(entries)} distinct strings, after redaction):"]
    heading = None
    for entry in entries:
        if (entry["kind"], entry["field"]) != heading:
            heading = (entry["kind"], entry["field"])
            lines.append(f"  {entry['kind']} {entry['field']}:")
        lines.append(f"    {entry['count']:>5}x {json.dumps(entry['text'], ensure_ascii=False)}")
    return lines
