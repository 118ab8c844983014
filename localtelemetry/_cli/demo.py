"""``localtelemetry demo``: run the bundled example CLI a few times and show the result.

The example (``examples/notebook.py``, shipped in the wheel as ``_examples``) runs as
real subprocesses, exactly as a user would run it, on a throwaway notes directory.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from localtelemetry._contract.exceptions import OperationFailed
from localtelemetry._record import hard_off_reason
from localtelemetry._store import StoreLocation
from localtelemetry._store.listing import load_document
from localtelemetry._store.store import Store

from . import commands as _commands
from . import render as _render

EXAMPLE_APP = "nb"
_NOTES = {
    "ideas.md": "Start with [[plan]] and keep [[journal]] daily.\n",
    "plan.md": "Steps: see [[ideas]].\n",
    "journal.md": "Nothing linked here yet.\n",
    "archive/old.md": "An old note pointing at [[missing-note]].\n",
    "scratch.txt": "plain text, links to [[plan]]\n",
}


def example_path() -> Path:
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "_examples" / "notebook.py", here.parent / "examples" / "notebook.py"):
        if candidate.is_file():
            return candidate
    raise OperationFailed("the example app is missing from this installation")


def _make_notes(root: Path) -> None:
    for name, text in _NOTES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def run_demo(base: Path | None) -> tuple[dict[str, Any], str]:
    example = example_path()
    env = dict(os.environ)
    if base is not None:
        env["LOCALTELEMETRY_DIR"] = str(base.expanduser().resolve())
    env.pop("LOCALTELEMETRY_APP", None)
    workspace = Path(tempfile.mkdtemp(prefix="localtelemetry-demo-"))
    notes = workspace / "notes"
    _make_notes(notes)
    plan = [
        ("index the notes", ["--telemetry", "index", str(notes), "--include", "*.md"]),
        (
            "index again, other options",
            [
                "index",
                str(notes),
                "--include",
                "*.txt",
                "--jobs",
                "2",
                "--mode",
                "thorough",
                "--telemetry",
            ],
        ),
        ("check links (fails on purpose)", ["--telemetry", "check", str(notes)]),
        ("stats without --telemetry (records nothing)", ["stats", str(notes)]),
    ]
    runs = []
    try:
        for label, args in plan:
            shown = "nb " + " ".join(a if a != str(notes) else "NOTES" for a in args)
            runs.append(_run([sys.executable, str(example), *args], label, shown, env, workspace))
        runs.extend(_wrapped_run(env, workspace, notes))
    finally:
        shutil.rmtree(workspace, ignore_errors=True)

    store = Store(StoreLocation(EXAMPLE_APP, environ=env))
    status = _commands.status(store, env)
    listing = _commands.list_documents(store, kind="cli-command", run=None, since=None, limit=3)
    failed_message = None
    for row in reversed(listing["documents"]):
        document = load_document(store.directory / row["file"])
        payload: Any = document.get("payload")
        if isinstance(payload, dict) and payload.get("error_message"):
            failed_message = payload["error_message"]
            break
    result: dict[str, Any] = {
        "runs": runs,
        "status": status,
        "blocked_by": hard_off_reason(env),
        "stored_error_message": failed_message,
        "bundle": None,
        "inspect": None,
    }
    if status["documents"]:
        from localtelemetry._receive.inspect import inspect_bundle
        from localtelemetry._share.export import Selection, export

        # Next to the store, not in it: the store holds only documents.
        bundle = store.directory.parent / "nb-telemetry-demo.zip"
        result["bundle"] = export(
            store,
            target=bundle,
            force=True,
            selection=Selection(),
            keep_hashes=False,
            now=datetime.now(timezone.utc),
        )
        result["inspect"] = inspect_bundle(bundle)
    return result, _text(result, store)


WRAPPED_APP = "nb-ls"


def _wrapped_run(env: dict[str, str], workspace: Path, notes: Path) -> list[dict[str, Any]]:
    """Record a program that is not Python at all, through `localtelemetry run`."""
    ls = shutil.which("ls", path=env.get("PATH"))
    if ls is None:
        return []
    args = ["run", "--telemetry", "--app", WRAPPED_APP, "--", "ls", "-l", str(notes)]
    shown = " ".join(a if a != str(notes) else "NOTES" for a in args)
    label = f"a non-Python program, recorded as app {WRAPPED_APP}"
    argv = [sys.executable, "-m", "localtelemetry", *args]
    return [_run(argv, label, f"localtelemetry {shown}", env, workspace)]


def _run(
    argv: list[str], label: str, shown: str, env: dict[str, str], workspace: Path
) -> dict[str, Any]:
    """Run one step of the demo as a real subprocess, as a user would; its summary row."""
    proc = subprocess.run(
        argv, env=env, capture_output=True, text=True, timeout=300, check=False, cwd=workspace
    )
    return {
        "label": label,
        "command": shown,
        "exit_code": proc.returncode,
        "stderr_lines": len(proc.stderr.splitlines()),
    }


def _text(result: dict[str, Any], store: Store) -> str:
    lines = ["localtelemetry demo: running the example CLI 'nb' (examples/notebook.py)", ""]
    for run in result["runs"]:
        lines.append(f"  $ {run['command']}")
        lines.append(f"    {run['label']}: exit code {run['exit_code']}")
    lines.append("")
    if result["blocked_by"]:
        lines.append(f"{result['blocked_by']} is set in your environment, so nothing was recorded.")
        lines.append("")
    lines.append(_render.status_text(result["status"]))
    if result["stored_error_message"]:
        lines += [
            "",
            "The failed run's error message, as stored (paths hashed, e-mail redacted):",
            f"  {result['stored_error_message']}",
        ]
    if result["bundle"]:
        lines += [
            "",
            "Exporting a bundle to share (localtelemetry export --app nb):",
            _render.export_text(result["bundle"]),
            "",
            "What a maintainer sees (localtelemetry inspect BUNDLE):",
            _render.inspect_text(result["inspect"]),
        ]
    lines += [
        "",
        f"Documents are in {store.directory}",
        f"Next: localtelemetry list --app nb (or --app {WRAPPED_APP})   |   "
        "localtelemetry show ID --app nb"
        "   |   localtelemetry explain",
    ]
    return "\n".join(lines)
