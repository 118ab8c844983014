"""What scrubbing costs: the first message of a fresh process, and each message after.

    python benchmarks/scrub.py               # 40 interleaved rounds
    python benchmarks/scrub.py --rounds 5    # quick look

First call: a recorded run that fails scrubs one message, paying for importing the
scrubber, compiling the rules that message needs and the scrub itself. Each round runs,
in random order, a child that imports the package (what a recorded run has loaded
anyway), a child that also scrubs one typical failing message, and ``python -c pass`` as
the floor; CPU time comes from ``resource.getrusage(RUSAGE_CHILDREN)`` deltas around
each child, and the table shows the median over rounds of the paired difference. Before
timing, ``compileall`` writes the bytecode and the children run without
PYTHONDONTWRITEBYTECODE.

Warm: every text of the privacy corpus (tests/privacy_corpus/corpus.json) scrubbed in one
process after a warm-up pass, CPU time per message, against a pass of ``str.replace``
calls over the same texts as the baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CORPUS = ROOT / "tests" / "privacy_corpus" / "corpus.json"
PYTHON = sys.executable

MESSAGES = {
    "file not found": "[Errno 2] No such file or directory: '/home/alice/data/input.csv'",
    "key error": "KeyError: 'customer_id'",
    "connection": (
        "HTTPSConnectionPool(host='api.example.com', port=443): Max retries exceeded with "
        "url: /v1/items?page=2 (Caused by NewConnectionError('Failed to establish a new "
        "connection: [Errno 111] Connection refused'))"
    ),
    "token in config": "invalid config: api_key = Zx9" + "Qw8Er7Ty6Ui5Op4As3Df2Gh1",
}

_PREAMBLE = "import localtelemetry\n"
_SCRUB = (
    "from localtelemetry._record.scrub import scrub\n"
    "scrub({msg!r}, hash_path=lambda p: '0123456789abcdef', max_length=500)\n"
)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def compile_bytecode() -> None:
    subprocess.run(
        [PYTHON, "-m", "compileall", "-q", str(ROOT / "localtelemetry")],
        env=_env(),
        check=True,
        stdout=subprocess.DEVNULL,
    )


def child_cpu_ms(code: str) -> float:
    """CPU time (user + system) of one child process running ``code``, in ms."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([PYTHON, "-c", code], env=_env(), check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return 1000 * ((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))


def first_call(rounds: int) -> list[tuple[str, float, float, float]]:
    """(message, median ms over the package import, its ratio to the floor, floor ms)."""
    variants = {"floor": "pass", "package": _PREAMBLE}
    for name, msg in MESSAGES.items():
        variants[name] = _PREAMBLE + _SCRUB.format(msg=msg)
    for code in variants.values():  # warm-up: caches, bytecode
        child_cpu_ms(code)
    samples: dict[str, list[float]] = {name: [] for name in variants}
    rng = random.Random(0)
    for _ in range(rounds):
        order = list(variants)
        rng.shuffle(order)
        for name in order:
            samples[name].append(child_cpu_ms(variants[name]))
    floor = statistics.median(samples["floor"])
    rows = []
    for name in MESSAGES:
        diffs = [s - p for s, p in zip(samples[name], samples["package"], strict=True)]
        rows.append((name, statistics.median(diffs), statistics.median(diffs) / floor, floor))
    package = [p - f for p, f in zip(samples["package"], samples["floor"], strict=True)]
    rows.append(("(import localtelemetry)", statistics.median(package), 0.0, floor))
    return rows


def warm(repeats: int) -> tuple[int, float, float]:
    """(texts, µs per message scrubbed, µs per message of the str.replace baseline)."""
    sys.path.insert(0, str(ROOT))
    from localtelemetry._record.scrub import scrub

    texts = [str(e["text"]) for e in json.loads(CORPUS.read_text(encoding="utf-8"))]

    def hash_path(p: str) -> str:
        return "0123456789abcdef"

    for text in texts:  # warm-up: every rule any text needs is compiled here
        scrub(text, hash_path=hash_path, max_length=500)
    words = ("password", "token", "secret", "key", "@", "://", "/")
    scrub_s: list[float] = []
    base_s: list[float] = []
    for _ in range(repeats):
        start = time.process_time()
        for text in texts:
            scrub(text, hash_path=hash_path, max_length=500)
        scrub_s.append(time.process_time() - start)
        start = time.process_time()
        for text in texts:
            for word in words:
                text = text.replace(word, "x")
        base_s.append(time.process_time() - start)
    per = 1e6 / len(texts)
    return len(texts), statistics.median(scrub_s) * per, statistics.median(base_s) * per


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=40, help="interleaved rounds")
    parser.add_argument("--repeats", type=int, default=7, help="warm passes over the corpus")
    args = parser.parse_args(argv)
    compile_bytecode()
    rows = first_call(args.rounds)
    floor = rows[0][3]
    print(f"## Scrubbing: first call in a fresh process ({args.rounds} interleaved rounds)\n")
    print(f"Floor: `python -c pass` = {floor:.1f} ms CPU (median).\n")
    print("| message | added CPU ms (median) | ratio to the floor |")
    print("|---|---:|---:|")
    for name, ms, ratio, _ in rows[:-1]:
        print(f"| {name} | {ms:+.2f} | {ratio:.3f} |")
    print(f"| {rows[-1][0]} | {rows[-1][1]:+.2f} | over the floor |")
    texts, scrub_us, base_us = warm(args.repeats)
    print(f"\n## Scrubbing: warm, per message ({texts} corpus texts, {args.repeats} passes)\n")
    print("| variant | CPU µs per message (median) | ratio to the baseline |")
    print("|---|---:|---:|")
    print(f"| scrub(text, max_length=500) | {scrub_us:.1f} | {scrub_us / base_us:.1f} |")
    print(f"| baseline: 7 str.replace calls | {base_us:.2f} | 1.0 |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
