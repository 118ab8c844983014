"""A small real program for `localtelemetry run` tests: each action is one thing a
wrapped program can do to its wrapper (print, exit, die from a signal, read stdin,
wait for signals).

    child_program.py print              bytes on stdout and stderr, interleaved
    child_program.py argv ARGS...       its arguments as JSON on stdout
    child_program.py isatty             which of fds 0, 1, 2 are terminals
    child_program.py exit N             exit with code N
    child_program.py kill SIGNAME       kill itself with a signal
    child_program.py echo               copy stdin to stdout, byte for byte
    child_program.py memory MIB SECONDS touch MIB of memory, then spin the CPU
    child_program.py wait FILE [CODE]   write 'ready' to FILE, wait for SIGINT/TERM/HUP,
                                        append each one's name to FILE; then exit CODE,
                                        or die from the first signal when no CODE
    child_program.py count FILE         like wait, but counts every delivery exactly
                                        (sigtimedwait; Linux), then exits 128+N
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time


def _print() -> None:
    out, err = sys.stdout.buffer, sys.stderr.buffer
    for i in range(3):
        out.write(f"out {i} \x1b[31mred\x1b[0m caf\u00e9 ".encode() + b"\xff\xfe\n")
        out.flush()
        err.write(f"err {i}\r\n".encode())
        err.flush()
    out.write(b"x" * 100_000)  # more than a pipe buffer, and no final newline
    out.flush()


def _wait(report: str, code: str | None) -> None:
    received: list[int] = []

    def note(signum: int, frame: object) -> None:
        received.append(signum)
        with open(report, "a", encoding="utf-8") as f:
            f.write(signal.Signals(signum).name + "\n")

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, note)
    with open(report, "a", encoding="utf-8") as f:
        f.write("ready\n")
    deadline = time.monotonic() + 10
    while not received and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)  # a duplicate delivery would arrive in this window
    if code is not None or not received:
        sys.exit(int(code or 0))
    signal.signal(received[0], signal.SIG_DFL)
    os.kill(os.getpid(), received[0])


def _count(report: str) -> None:
    """Like ``wait``, but takes signals with sigtimedwait: each delivery is dequeued as
    soon as it arrives, so a duplicate sent a moment later is seen, not merged."""
    watched = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
    signal.pthread_sigmask(signal.SIG_BLOCK, watched)
    with open(report, "a", encoding="utf-8") as f:
        f.write("ready\n")
    first = signal.sigtimedwait(watched, 10)
    if first is None:
        sys.exit(0)
    names = [signal.Signals(first.si_signo).name]
    end = time.monotonic() + 0.3
    while (left := end - time.monotonic()) > 0:
        more = signal.sigtimedwait(watched, left)
        if more is not None:
            names.append(signal.Signals(more.si_signo).name)
    with open(report, "a", encoding="utf-8") as f:
        f.write("".join(name + "\n" for name in names))
    sys.exit(128 + first.si_signo)


def main(argv: list[str]) -> None:
    action, args = argv[0], argv[1:]
    if action == "print":
        _print()
    elif action == "argv":
        print(json.dumps(args))
    elif action == "isatty":
        print(" ".join(f"{fd}:{os.isatty(fd)}" for fd in (0, 1, 2)))
    elif action == "exit":
        sys.exit(int(args[0]))
    elif action == "kill":
        signum = getattr(signal, args[0])
        if signum not in (signal.SIGKILL, signal.SIGSTOP):  # those cannot be caught anyway
            signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        time.sleep(5)
    elif action == "echo":
        while chunk := sys.stdin.buffer.read1(65536):
            sys.stdout.buffer.write(chunk)
            sys.stdout.buffer.flush()
    elif action == "memory":
        block = b"m" * (int(args[0]) * 1024 * 1024)  # written, so resident
        end = time.process_time() + float(args[1])
        while time.process_time() < end:
            pass
        del block
    elif action == "count":
        _count(args[0])
    elif action == "wait":
        _wait(args[0], args[1] if len(args) > 1 else None)
    else:
        sys.exit(f"unknown action {action!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
