"""What turns recording off although ``--telemetry`` was given: ``DO_NOT_TRACK`` and
``LOCALTELEMETRY_DISABLED`` (``_env``), and a project or organisation marker file,
``.localtelemetry-off``, in the working directory or any directory above it.

The marker is looked up only in a run that was given ``--telemetry``, so other runs pay
nothing. The walk is bounded: it stops after the home directory (a marker there turns
recording off for everything below it), at the file-system root, and after
``MAX_LEVELS`` directories. The file's content does not matter; an empty file will do,
and a directory or a symlink of that name counts too (only its name is checked). A
level that cannot be looked at (permissions, I/O error) counts as having no marker.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from .env import hard_off_reason

MARKER = ".localtelemetry-off"
MAX_LEVELS = 64


def home_of(environ: Mapping[str, str]) -> str | None:
    home = environ.get("HOME") or environ.get("USERPROFILE")
    return home if home and os.path.isabs(home) else None


def find_marker(cwd: str | None = None, home: str | None = None) -> str | None:
    """The path of the nearest ``.localtelemetry-off`` at or above ``cwd`` (default:
    the working directory), not looking above ``home``; None if there is none."""
    try:
        current = os.path.abspath(cwd if cwd is not None else os.getcwd())
    except OSError:  # the working directory was removed
        return None
    stop = os.path.normcase(os.path.abspath(home)) if home else None
    for _ in range(MAX_LEVELS):
        candidate = os.path.join(current, MARKER)
        try:
            os.lstat(candidate)
            return candidate
        except OSError:  # not there, or cannot be looked at: no marker at this level
            pass
        parent = os.path.dirname(current)
        if parent == current or os.path.normcase(current) == stop:
            return None
        current = parent
    return None


def off_reason(environ: Mapping[str, str], cwd: str | None = None) -> str | None:
    """Why recording is off despite ``--telemetry``, as the start of a sentence
    (``"DO_NOT_TRACK is set"``), or None. The variables win over the marker."""
    variable = hard_off_reason(environ)
    if variable is not None:
        return f"{variable} is set"
    marker = find_marker(cwd, home_of(environ))
    if marker is not None:
        return f"{marker} turns recording off in this directory tree"
    return None
