"""Human rendering of command results: plain aligned tables, no heavy imports.

Renderers that can print long lines take ``width`` (the terminal's columns, see
``_cli/output.width``): the last column of a table, and free text, wrap to fit it.
"""

from __future__ import annotations

import textwrap
from typing import Any

from localtelemetry._receive.text import commands_table, table, tally
from localtelemetry._receive.text import (
    plural as plural,  # the commands' text uses it through this module
)


def wrap(text: str, width: int | None, indent: str = "") -> str:
    if width is None:
        return indent + text
    return (
        "\n".join(textwrap.wrap(text, width, initial_indent=indent, subsequent_indent=indent))
        or indent.rstrip()
    )


def human_bytes(n: int) -> str:
    """``999 B``, ``14.8 KB``, ``1.0 MB``: the largest unit whose figure, once rounded to
    one decimal, stays below 1000 (999,950 bytes is ``1.0 MB``, not ``1000.0 KB``)."""
    if n < 1000:
        return f"{n} B"
    size = n / 1000
    for unit in ("KB", "MB"):
        shown = f"{size:.1f}"
        if float(shown) < 1000:
            return f"{shown} {unit}"
        size /= 1000
    return f"{size:.1f} GB"


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
    text = "\n".join(_hang(line, width) for line in lines)
    if result["documents"]:
        rows = [
            (kind, c["count"], human_bytes(c["bytes"])) for kind, c in result["by_kind"].items()
        ]
        # After the labelled lines, not among them: _hang would re-wrap it as a paragraph.
        text += "\n\n" + table(("kind", "documents", "size"), rows, width)
    return text


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
        "documents:  " + tally(result["by_kind"]),
    ]
    redaction = result["redaction"]
    subs = redaction.get("substitutions") or {}
    lines.append(
        "redaction:  "
        + (tally(subs) or "no substitutions at export")
        + f"; {redaction.get('fields_dropped', 0)} fields dropped; skipped: "
        + (tally(redaction.get("documents_skipped") or {}) or "none")
    )
    if result["commands"]:
        lines += [
            "",
            commands_table(
                result["commands"],
                lambda c: (c["duration_p50_ms"], c["duration_p95_ms"], c["duration_max_ms"]),
            ),
        ]
    if result["builds"]:
        rows: list[tuple[object, ...]] = [
            (b["name"], b["runs"], tally(b["statuses"])) for b in result["builds"]
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
            f"{plural(result['documents'], 'document')} (" + tally(result["by_kind"]) + ")",
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
            + (tally(subs) or "no new substitutions")
            + f"; {redaction.get('fields_dropped', 0)} unknown fields dropped"
            + ("; skipped " + tally(skipped) if skipped else ""),
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
        + tally(manifest["counts"]["by_kind"]),
        f"hashing: {manifest['hashing']['mode']}"
        + (
            "" if manifest["hashing"]["mode"] == "kept" else "; ids re-mapped, times cut to the day"
        ),
        "redaction at export: "
        + (tally(subs) or "no new substitutions")
        + f"; {redaction['fields_dropped']} unknown fields dropped; skipped: "
        + (tally(skipped) or "none"),
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
