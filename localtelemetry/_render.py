"""Human rendering of command results: plain aligned tables, no heavy imports.

Renderers that can print long lines take ``width`` (the terminal's columns, see
``_cliout.width``): the last column of a table, and free text, wrap to fit it.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

#: When a table is too wide, no column but the first gets narrower than this.
MIN_COLUMN = 10


def plural(n: int, word: str) -> str:
    """``1 document``, ``2 documents``."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _fit(widths: list[int], minimums: list[int], width: int) -> list[int]:
    """Narrow the widest columns first until the table fits in ``width``."""
    widths = list(widths)
    excess = sum(widths) + 2 * (len(widths) - 1) - width
    while excess > 0:
        shrinkable = [i for i, w in enumerate(widths) if w > minimums[i]]
        if not shrinkable:
            break
        widest = max(widths[i] for i in shrinkable)
        for i in shrinkable:
            if widths[i] == widest and excess > 0:
                widths[i] -= 1
                excess -= 1
    return widths


def table(
    headers: Sequence[str], rows: Sequence[Sequence[object]], width: int | None = None
) -> str:
    """Aligned columns; with ``width``, the widest columns wrap so that lines fit in it
    (the first column, which names the row, is kept whole up to 60% of the width)."""
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    if width is not None:
        minimums = [max(len(h), min(w, MIN_COLUMN)) for h, w in zip(headers, widths, strict=True)]
        if widths[0] <= width * 3 // 5:
            minimums[0] = widths[0]
        widths = _fit(widths, minimums, width)
    lines = []
    for n, row in enumerate(cells):
        wrapped = [
            textwrap.wrap(c, w, break_on_hyphens=False) if len(c) > w else [c]
            for c, w in zip(row, widths, strict=True)
        ]
        for k in range(max(len(parts) for parts in wrapped)):
            pieces = [parts[k] if k < len(parts) else "" for parts in wrapped]
            lines.append(
                "  ".join(p.ljust(w) for p, w in zip(pieces, widths, strict=True)).rstrip()
            )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def wrap(text: str, width: int | None, indent: str = "") -> str:
    if width is None:
        return indent + text
    return (
        "\n".join(textwrap.wrap(text, width, initial_indent=indent, subsequent_indent=indent))
        or indent.rstrip()
    )


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"  # pragma: no cover


def status_text(result: dict[str, Any], width: int | None = None) -> str:
    lines = [
        f"app:        {result['app']}",
        f"recording:  {result['recording']}",
    ]
    flag = result.get("flag", "--telemetry")
    if result["blocked_by"]:
        lines.append(f"blocked:    {result['blocked_by']} is set: {flag} is ignored")
    elif result.get("off_marker"):
        lines.append(
            f"blocked:    {result['off_marker']} turns recording off in this directory tree: "
            f"{flag} is ignored here"
        )
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
    source = {
        "recorded": "; as set by the app's last recorded run",
        "default": "; the defaults: the store has no record of the app's own",
    }.get(result.get("limits_source", "app"), "")
    lines.append(
        f"limits:     {plural(limits['max_documents'], 'document')}, "
        f"{human_bytes(limits['max_bytes'])}, {plural_days(limits['max_age_days'])} "
        f"(oldest removed first{source})"
    )
    lines.append(
        f"key id:     {result['key_id'] or '(no key yet: made on the first recorded run)'}"
    )
    if result["key_problem"]:
        lines.append(f"key:        PROBLEM: {result['key_problem']}")
    elif result.get("key_private") is False:
        lines.append(
            f"key:        mode {result['key_mode']}: readable by other users; the next "
            "recorded run makes it 0600 (reset-key if someone may have read it)"
        )
    if result["foreign_files"]:
        lines.append(f"other files: {result['foreign_files']} (not ours: ignored, never deleted)")
    if result["documents"]:
        rows = [
            (kind, c["count"], human_bytes(c["bytes"])) for kind, c in result["by_kind"].items()
        ]
        lines += ["", table(("kind", "documents", "size"), rows)]
    return "\n".join(_hang(line, width) for line in lines)


def _hang(line: str, width: int | None) -> str:
    """A ``label:     value`` line wrapped under its value; words (paths) are not cut."""
    if width is None or len(line) <= width or line[:1] in ("", " "):
        return line
    return "\n".join(textwrap.wrap(line, width, subsequent_indent=" " * 12, break_long_words=False))


def plural_days(days: float) -> str:
    return f"{days:g} day" if days == 1 else f"{days:g} days"


def list_text(result: dict[str, Any], width: int | None = None) -> str:
    if not result["documents"]:
        return "no documents match"
    rows = [
        (d["id"], d["kind"], d["created_at"], (d["run_id"] or "")[:12], d["summary"])
        for d in result["documents"]
    ]
    text = table(("id", "kind", "created (UTC)", "run", "summary"), rows, width)
    if result["shown"] < result["total"]:
        text += f"\n({result['shown']} of {result['total']} shown; use --limit)"
    if result["skipped_unreadable"]:
        skipped = plural(result["skipped_unreadable"], "unreadable document")
        text += f"\n({skipped} skipped)"
    return text


def explain_text(result: dict[str, Any], width: int | None = None) -> str:
    parts = []
    for kind, info in result["kinds"].items():
        parts.append(f"{kind}  ({info['schema']})")
        parts.append(wrap(info["description"], width, "  ") + "\n")
        rows = [(f["field"], f["type"], f["description"]) for f in info["fields"]]
        parts.append(table(("field", "type", "meaning"), rows, width))
        parts.append("")
    return "\n".join(parts).rstrip()


def apps_text(result: dict[str, Any], width: int | None = None) -> str:
    where = (
        "LOCALTELEMETRY_DIR" if result["base_from"] == "LOCALTELEMETRY_DIR" else "per-user state"
    )
    if not result["apps"]:
        return (
            f"no stores in {result['base']} ({where} directory): an app's store is made "
            "by its first run with --telemetry"
        )
    rows = [
        (
            a["app"],
            "" if a["documents"] is None else a["documents"],
            ""
            if a["bytes"] is None
            else ("about " if a["bytes_estimated"] else "") + human_bytes(a["bytes"]),
            a["newest"] or "",
            f"PROBLEM: {a['problem']}" if a["problem"] else a["store"],
        )
        for a in result["apps"]
    ]
    header = _hang(f"{plural(len(rows), 'store')} in {result['base']} ({where} directory):", width)
    return header + "\n\n" + table(("app", "documents", "size", "newest", "store"), rows, width)


def validate_text(result: dict[str, Any], width: int | None = None) -> str:
    lines = []
    for r in result["results"]:
        if not r["valid"]:
            lines.append(f"INVALID {r['file']}")
            lines.extend(wrap(e, width, "  ") for e in r["errors"])
    lines.append(
        f"{result['checked']} checked: {result['valid']} valid, {result['invalid']} invalid"
    )
    return "\n".join(lines)


def inspect_text(result: dict[str, Any]) -> str:
    app = result["app"] or {}
    hashing = result["hashing"] or {}
    lines = [
        f"bundle:     {result['bundle']}",
        f"verified:   yes: manifest, {plural(result['documents'], 'document')}, digests and "
        "schemas",
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
            f"wrote {result['bundle']} ({human_bytes(result['bytes'])}): "
            f"{plural(result['documents'], 'document')} ("
            + ", ".join(f"{k} {v}" for k, v in result["by_kind"].items())
            + ")",
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
        f"would export {plural(manifest['counts']['documents'], 'document')}: "
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
        "Nothing was written. '--preview --format json' shows every document in full.",
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
    import orjson  # loaded already: export parsed the documents with it

    lines = [f"free text that would be shared ({len(entries)} distinct strings, after redaction):"]
    heading = None
    for entry in entries:
        if (entry["kind"], entry["field"]) != heading:
            heading = (entry["kind"], entry["field"])
            lines.append(f"  {entry['kind']} {entry['field']}:")
        lines.append(f"    {entry['count']:>5}x {orjson.dumps(entry['text']).decode()}")
    return lines
