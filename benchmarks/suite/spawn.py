"""Start one command from a small process and report the kernel's accounting of it.

    python -I -S benchmarks/suite/spawn.py RESULT_FILE CMD [ARGS...]

Why a separate small parent: Linux reports as a child's peak resident memory
(``ru_maxrss`` from ``wait4``) at least the memory of the process it was started
from, because the child starts as a copy of (or, with vfork, inside) its parent's
address space and the high-water mark of that space is carried across ``exec``. The
benchmark process itself holds tens of MiB (it imported orjson, localtelemetry, ...),
so every child it started reported at least that: issue 14. This script imports only
built-in modules (``-I -S``: no site, no user paths), so what it hands down is the
floor of a Python process, about 8 MiB; the benchmark prints that floor (the figure
reported for ``true``). Wall time is taken here from just before the spawn to the
reaping, CPU time and peak memory from ``wait4``.

The child inherits stdin, stdout, stderr, the working directory and the environment.
RESULT_FILE gets one line: ``wall_s user_s sys_s maxrss_kib exit_code``.
"""

import os
import sys
import time


def main() -> int:
    result_file, command = sys.argv[1], sys.argv[2:]
    t0 = time.perf_counter()
    pid = os.posix_spawnp(command[0], command, os.environ)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    with open(result_file, "w", encoding="ascii") as fh:
        fh.write(f"{wall!r} {usage.ru_utime!r} {usage.ru_stime!r} {usage.ru_maxrss} {code}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
