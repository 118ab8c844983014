"""``localtelemetry inspect``: verify a bundle and summarise what it holds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from localtelemetry._contract.bundle import MANIFEST_NAME

from .bundle import iter_verified


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return round(ordered[index], 3)


def inspect_bundle(path: Path) -> dict[str, Any]:
    """Verify every check of the bundle format, then summarise. Raises BundleError."""
    manifest: dict[str, Any] = {}
    commands: dict[str, dict[str, Any]] = {}
    builds: dict[str, dict[str, Any]] = {}
    by_kind: dict[str, int] = {}
    for name, document, _ in iter_verified(path):
        if name == MANIFEST_NAME:
            manifest = document
            continue
        kind = str(document["kind"])
        by_kind[kind] = by_kind.get(kind, 0) + 1
        payload = document["payload"]
        if kind == "cli-command":
            command = " ".join(payload["command_path"]) or "(root)"
            entry = commands.setdefault(
                command,
                {"runs": 0, "outcomes": {}, "durations": [], "error_kinds": {}},
            )
            entry["runs"] += 1
            outcome = payload["outcome"]
            entry["outcomes"][outcome] = entry["outcomes"].get(outcome, 0) + 1
            entry["durations"].append(float(payload["duration_ms"]))
            if payload.get("error_kind"):
                kinds = entry["error_kinds"]
                kinds[payload["error_kind"]] = kinds.get(payload["error_kind"], 0) + 1
        elif kind == "build":
            entry = builds.setdefault(payload["name"], {"runs": 0, "statuses": {}})
            entry["runs"] += 1
            entry["statuses"][payload["status"]] = entry["statuses"].get(payload["status"], 0) + 1
    command_rows = []
    for command, entry in sorted(commands.items()):
        durations = entry.pop("durations")
        command_rows.append(
            {
                "command": command,
                "runs": entry["runs"],
                "success": entry["outcomes"].get("success", 0),
                "failure": entry["outcomes"].get("failure", 0),
                "interrupted": entry["outcomes"].get("interrupted", 0),
                "duration_p50_ms": percentile(durations, 0.5),
                "duration_p95_ms": percentile(durations, 0.95),
                "duration_max_ms": max(durations) if durations else None,
                "error_kinds": dict(sorted(entry["error_kinds"].items())),
            }
        )
    return {
        "bundle": str(path),
        "verified": True,
        "app": manifest.get("app"),
        "created_at": manifest.get("created_at"),
        "producer": manifest.get("producer"),
        "hashing": manifest.get("hashing"),
        "documents": sum(by_kind.values()),
        "by_kind": dict(sorted(by_kind.items())),
        "redaction": {k: v for k, v in manifest.get("redaction", {}).items() if k != "skipped"},
        "commands": command_rows,
        "builds": [{"name": n, **e} for n, e in sorted(builds.items())],
    }
