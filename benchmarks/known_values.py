"""What known-value redaction (issue 11) adds to a recorded run that fails with a message.

    python benchmarks/known_values.py            # medians over many repetitions

A run without a message pays nothing (tests/test_known_values.py checks that neither
``_known`` nor ``_scrub`` is imported). A failed run pays, once per message: importing
``_known`` (once per process), reading the machine's identity (once per run), building
the redactor from the values the run saw and redacting the message. Each step is timed
on its own, for a typical command line and for one of 20,000 arguments.
"""

from __future__ import annotations

import itertools
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from localtelemetry._record import known as _known  # noqa: E402

TYPICAL_ARGV = [
    "build",
    "--include",
    "src/**/*.py",
    "--users",
    "alice,quentin,bob",
    "--jobs",
    "8",
    "-nQZVAL",
    "HOST-42.ACME.INTERNAL",
    "--out=/home/jane/out/x.bin",
]
TYPICAL_API = ["*.py", "customers", "data/ledger.db", "region = 'eu'"]
MESSAGE = "cannot open data/ledger.db for quentin on host-42.acme.internal: no account 41555"


def _median_ms(step: Callable[[int], object], repeat: int) -> float:
    times = []
    for i in range(repeat):
        t0 = time.perf_counter()
        step(i)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def _import_ms(repeat: int) -> float:
    code = (
        "import time, localtelemetry._record.documents; t = time.perf_counter(); "
        "import localtelemetry._record.known; print((time.perf_counter() - t) * 1000)"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(ROOT / "localtelemetry")], env=env
    )
    runs = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], env=env, capture_output=True, text=True
            ).stdout
        )
        for _ in range(repeat)
    ]
    return statistics.median(runs)


def main() -> None:
    machine = _known.machine_values(os.environ)
    counter = itertools.count()

    def redactor(argv: list[str]) -> _known.Redactor:
        unique = f"qz{next(counter)}value"  # defeats re's pattern cache: a run compiles once
        pairs = [*machine.items(), *((v, "argument") for v in [*argv, unique])]
        return _known.Redactor([*pairs, *((v, "value") for v in TYPICAL_API)])

    def token(path: str) -> str:
        return "<path:0>"

    huge = [f"src/pkg{i}/module{i}.py" for i in range(20_000)]
    rows = [
        ("import _known (fresh process)", _import_ms(15)),
        ("machine_values()", _median_ms(lambda i: _known.machine_values(os.environ), 300)),
        (
            "redactor + redact, typical run",
            _median_ms(lambda i: redactor(TYPICAL_ARGV).redact(MESSAGE, token), 300),
        ),
        (
            "redactor + redact, 20,000 arguments",
            _median_ms(lambda i: redactor(huge).redact(MESSAGE, token), 7),
        ),
    ]
    width = max(len(name) for name, _ in rows)
    for name, ms in rows:
        print(f"{name:<{width}}  {ms:8.3f} ms")


if __name__ == "__main__":
    main()
