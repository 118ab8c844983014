"""Baseline (a): the practical floor. A minimal recorder using only the standard library.

It does the same kind of work as localtelemetry for one run, and nothing more: a keyed
hash of the path argument (hashlib.blake2b with a per-install 0600 key), three small
JSON documents (command, build, run summary), each written to a temp file and renamed
into place in a 0700 directory.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from ._common import run_app, state_directory


def _key(directory: Path) -> bytes:
    path = directory / ".key"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        key = os.urandom(32)
        os.write(fd, key)
        os.close(fd)
        return key


def _write(directory: Path, kind: str, document: dict[str, Any]) -> None:
    data = json.dumps(document, indent=2).encode()
    tmp = directory / f".tmp-{os.getpid()}-{os.urandom(8).hex()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.replace(tmp, directory / f"{kind}-{document['id']}.json")


def recorded(app: Callable[..., Any], app_name: str, argv: list[str]) -> NoReturn:
    record = "--telemetry" in argv
    args = [a for a in argv if a != "--telemetry"]
    code, seconds = run_app(app, args)
    if record:
        directory = state_directory(app_name, "telemetry-stdlib")
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = _key(directory)

        def keyed(value: str) -> str:
            return hashlib.blake2b(value.encode(), key=key, digest_size=16).hexdigest()

        run_id = os.urandom(16).hex()
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        common: dict[str, Any] = {"run_id": run_id, "created_at": now, "app": {"name": app_name}}
        command = [a for a in args if not a.startswith("-")][:1]
        values = [keyed(a) for a in args[1:] if not a.startswith("-")]
        outcome = "success" if code == 0 else "failure"
        docs: dict[str, dict[str, Any]] = {
            "cli-command": {"command_path": command, "hashes": values, "exit_code": code},
            "build": {"name": command[0] if command else None, "inputs": values},
            "run-summary": {"duration_ms": round(seconds * 1000, 3), "outcome": outcome},
        }
        for kind, payload in docs.items():
            _write(directory, kind, {"kind": kind, "id": os.urandom(16).hex(), **common, **payload})
    sys.exit(code)
