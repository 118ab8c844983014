"""Pruning: the full retention pass, exact pruning for ``purge``, stale temp files.

Loaded only when a store must be listed and pruned: the cheap check in
``Store.apply_retention`` keeps most recording runs from importing it. The functions
take the directory and limits the ``Store`` checked, never the ``Store``, which imports
this module.
"""

from __future__ import annotations

import contextlib
import os
import stat

from localtelemetry._contract import lowest_id

from . import TEMP_PREFIX, Limits, name_regex, pid_alive
from .listing import DocumentEntry, entries

#: A temp file whose writer is gone, or older than this, is stale.
STALE_TEMP_SECONDS = 15 * 60
#: Documents this new are "just written" for the clock-jump guard in ``plan``.
RECENT_MS = 10 * 60 * 1000
#: A full retention pass prunes this fraction below each limit, and at most an hour of
#: age early, so a store at its limits is listed once per many runs, not on every run.
SLACK_FRACTION = 32
AGE_SLACK_MS = 60 * 60 * 1000


def prune(limits: Limits, directory: str | os.PathLike[str] | None, now_ms: int) -> int:
    """Apply the retention limits exactly; oldest documents go first. Returns how
    many went.

    Two guards against a wrong clock: documents dated more than a day ahead go first
    (else they would outlive real ones forever), and age pruning is skipped when it
    would remove every document but the ones just written, which is what a clock
    jumped far ahead looks like (count and size limits still apply).
    """
    doomed, _ = plan(limits, entries(directory), now_ms, slack=False)
    return delete(doomed)


def plan(
    limits: Limits, documents: list[DocumentEntry], now_ms: int, *, slack: bool
) -> tuple[list[DocumentEntry], list[DocumentEntry]]:
    """(doomed, kept) for ``documents`` sorted oldest first. With ``slack``, prune a
    little below each limit (1/32 of it; at most an hour of age) so a store at its
    limits is scanned once per many runs instead of on every run."""
    day = 86_400_000
    max_age_ms = int(limits.max_age_days * day)
    max_documents, max_bytes, age_slack = limits.max_documents, limits.max_bytes, 0
    if slack:
        max_documents -= max_documents // SLACK_FRACTION
        max_bytes -= max_bytes // SLACK_FRACTION
        age_slack = min(max_age_ms // SLACK_FRACTION, AGE_SLACK_MS)
    future_id = lowest_id(now_ms + day + 1)  # created_ms > now + day
    cutoff_id = lowest_id(now_ms - max_age_ms + age_slack)  # created_ms < cutoff
    recent_id = lowest_id(now_ms - RECENT_MS)
    future = [e for e in documents if e.id >= future_id]
    present = [e for e in documents if e.id < future_id]
    aged = [e for e in present if e.id < cutoff_id]
    older = sum(1 for e in present if e.id < recent_id)
    if aged and len(aged) == older:
        aged = []
    kept = present[len(aged) :]  # present is sorted: the aged ones come first
    total = sum(e.size for e in kept)
    excess = len(kept) - max_documents
    i = 0
    while i < len(kept) and (excess > 0 or total > max_bytes):
        total -= kept[i].size
        excess -= 1
        i += 1
    return future + aged + kept[:i], kept[i:]


def delete(documents: list[DocumentEntry]) -> int:
    removed = 0
    for entry in documents:
        try:
            os.unlink(entry.path)
            removed += 1
        except FileNotFoundError:
            pass  # a concurrent run pruned it first
    return removed


def clean_stale_temp_files(directory: str | os.PathLike[str] | None, now_s: float) -> int:
    """Remove temp files whose writing process is gone or that are old."""
    if directory is None:
        return 0
    temps = []
    with os.scandir(directory) as it:
        for entry in it:
            if entry.name.startswith(TEMP_PREFIX) and name_regex("TEMP_NAME_RE").match(entry.name):
                temps.append((entry.name, entry.path))
    return remove_stale(temps, now_s)


def remove_stale(temps: list[tuple[str, str]], now_s: float) -> int:
    """Remove the temp files whose writing process is gone or that are old."""
    removed = 0
    me = os.getpid()
    for name, path in temps:
        match = name_regex("TEMP_NAME_RE").match(name)
        if match is None:
            continue
        pid = int(match.group(1))
        if pid == me:
            continue
        try:
            st = os.lstat(path)
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode):
            continue  # ours are regular files: a directory or link of that name is not
        if now_s - st.st_mtime > STALE_TEMP_SECONDS or not pid_alive(pid):
            with contextlib.suppress(OSError):
                os.unlink(path)
                removed += 1
    return removed
