"""Human rendering of command results: plain aligned tables, no heavy imports."""

from __future__ import annotations

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
    lines.append(f"documents:  {result['documents']} ({human_bytes(result['bytes'])})")
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
