"""Baseline (c): the posthog client capturing one event, with sending disabled.

``send=False`` builds and queues the event but never sends it; ``sync_mode=True`` keeps
the client from starting its background thread. The host is an unroutable local
address, so even a mistake could not reach a server.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable
from typing import Any, NoReturn

from ._common import run_app


def recorded(app: Callable[..., Any], app_name: str, argv: list[str]) -> NoReturn:
    record = "--telemetry" in argv
    args = [a for a in argv if a != "--telemetry"]
    code, seconds = run_app(app, args)
    if record:
        from posthog import Posthog

        client = Posthog(
            "phc_benchmark_only",
            host="http://127.0.0.1:9",
            send=False,
            sync_mode=True,
            disable_geoip=True,
            enable_exception_autocapture=False,
        )
        command = [a for a in args if not a.startswith("-")][:1]
        values = [hashlib.blake2b(a.encode()).hexdigest() for a in args[1:] if a[:1] != "-"]
        client.capture(
            "cli-command",
            distinct_id="benchmark",
            properties={
                "command": command[0] if command else "",
                "args": values,
                "exit_code": code,
                "duration_ms": round(seconds * 1000, 3),
            },
        )
        client.shutdown()
    sys.exit(code)
