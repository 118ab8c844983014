"""Baseline (b): the OpenTelemetry SDK recording one span through a file exporter.

The span covers the command and carries the same facts localtelemetry records (command,
hashed path argument, exit code); ``ConsoleSpanExporter`` writes it as JSON to a local
file, so nothing goes over the network. The SDK is imported only when recording, like
localtelemetry's recording machinery.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable
from typing import Any, NoReturn

from ._common import run_app, state_directory


def recorded(app: Callable[..., Any], app_name: str, argv: list[str]) -> NoReturn:
    record = "--telemetry" in argv
    args = [a for a in argv if a != "--telemetry"]
    if not record:
        code, _ = run_app(app, args)
        sys.exit(code)
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

    directory = state_directory(app_name, "telemetry-otel")
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(directory / "spans.jsonl", "a", encoding="utf-8") as out:
        provider = TracerProvider(resource=Resource.create({"service.name": app_name}))
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(out=out)))
        tracer = provider.get_tracer(app_name)
        with tracer.start_as_current_span("cli-command") as span:
            command = [a for a in args if not a.startswith("-")][:1]
            span.set_attribute("command", command[0] if command else "")
            for i, value in enumerate(a for a in args[1:] if not a.startswith("-")):
                span.set_attribute(f"arg.{i}", hashlib.blake2b(value.encode()).hexdigest())
            code, _ = run_app(app, args)
            span.set_attribute("exit_code", code)
        provider.shutdown()
    sys.exit(code)
