"""Known-value redaction at export: the user's ``--redact`` words and ``--redact-file``
entries, and the values that identify this machine, removed from what a bundle shares.

The rules (docs/privacy.md states them for users):

* **Matching.** Every word, regular expression and machine value of at least
  ``MACHINE_SUBSTRING_LENGTH`` characters matches anywhere inside a string (a substring,
  not only a whole word); a shorter machine value (a login such as ``ann``) matches only
  where no letter or digit is glued to it, so ``annual`` is left alone. Case is ignored as
  Python's ``re`` does (``re.IGNORECASE``: simple case folding, so ``Straße`` does not
  match ``STRASSE``). Longer values are tried first, so ``host-42.acme.internal`` is
  replaced whole, not as ``host-42`` and a remainder.
* **Where.** ``free_text`` replaces each match in free text by ``<redacted:KIND>``;
  ``plain`` replaces it by ``redacted`` in short fields with a fixed format (a flag, the
  app version, a file extension), so the field keeps its shape (``removed`` or ``x`` when
  the word would form a redacted value again); ``count`` finds matches in names, which
  the caller hashes whole. Markers already in a text (``<redacted:...>``,
  ``<path:...>``) and the truncation suffix are localtelemetry's own words: they are never
  searched, so a redacted word such as ``path`` still shows in ``<path:...>``.
* **Kinds.** ``machine-value`` for what identifies this machine, ``user-redaction`` for
  the user's words and expressions. A value that is both counts as ``machine-value``.
* **Minimum.** Words shorter than ``MIN_WORD_LENGTH`` characters are refused (they would
  take letters out of every message); a regular expression may be shorter but must not
  match the empty string.

``--redact-file`` holds one entry per line, UTF-8: blank lines and lines whose first
non-blank character is ``#`` are ignored; a line starting with ``re:`` is a Python
regular expression (the rest of the line, as written); any other line is a literal word
(surrounding white space removed). A file that cannot be read, is not UTF-8, is too big,
or holds a bad entry is refused with the file name and line number.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from localtelemetry._contract.exceptions import Unredactable, UsageError
from localtelemetry._record.scrub import MARKER_PATTERN, TRUNCATED

MIN_WORD_LENGTH = 3
#: Machine values this long or longer match anywhere; shorter ones (a login such as
#: ``ann``) only as a whole word, so ``annual`` keeps its letters.
MACHINE_SUBSTRING_LENGTH = 5
REGEX_PREFIX = "re:"
MAX_REDACT_FILE_BYTES = 1 << 20
MAX_ENTRIES = 10_000

USER_KIND = "user-redaction"
MACHINE_KIND = "machine-value"
#: What replaces a known value in a short field with a fixed format, first one first.
PLAIN_REPLACEMENTS = ("redacted", "removed", "x")

#: Values that identify no one: default accounts of systems, images and CI services, and
#: names every machine has. A machine value equal to one of these (ignoring case) is
#: not redacted: it would take common words out of every message and name.
COMMON_VALUES = frozenset(
    {
        "admin",
        "administrator",
        "app",
        "build",
        "buildkite-agent",
        "circleci",
        "codespace",
        "default",
        "docker",
        "ec2-user",
        "gitlab-runner",
        "guest",
        "jenkins",
        "localdomain",
        "localhost",
        "localhost.localdomain",
        "node",
        "nobody",
        "root",
        "runner",
        "travis",
        "ubuntu",
        "user",
        "vagrant",
        "vscode",
    }
)

# Text written by localtelemetry itself: scrubbing markers and the truncation suffix.
_PROTECTED = rf"({MARKER_PATTERN}|{re.escape(TRUNCATED)}\Z)"


@functools.cache
def _protected() -> re.Pattern[str]:
    return re.compile(_PROTECTED)  # compiled when a redactor first needs it


def check_word(word: str, where: str) -> str:
    """``word`` as given, or UsageError naming ``where`` if it cannot be used."""
    if len(word) < MIN_WORD_LENGTH:
        raise UsageError(
            f"{where}: {word!r} is shorter than {MIN_WORD_LENGTH} characters; "
            f"use a longer word, or a regular expression line ({REGEX_PREFIX}...) in "
            "--redact-file"
        )
    return word


def check_regex(text: str, where: str) -> str:
    try:
        pattern = re.compile(text, re.IGNORECASE)
    except (re.error, OverflowError, RecursionError) as exc:
        raise UsageError(f"{where}: bad regular expression {text!r}: {exc}") from None
    if pattern.search("") is not None:
        raise UsageError(f"{where}: regular expression {text!r} matches the empty string")
    return text


def parse_redact_file(text: str, name: str) -> tuple[list[str], list[str]]:
    """(words, regular expressions) of a ``--redact-file`` text; UsageError on a bad line."""
    words: list[str] = []
    regexes: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        where = f"--redact-file {name} line {number}"
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if len(words) + len(regexes) >= MAX_ENTRIES:
            raise UsageError(f"--redact-file {name}: more than {MAX_ENTRIES} entries")
        if line.startswith(REGEX_PREFIX):
            regexes.append(check_regex(line[len(REGEX_PREFIX) :], where))
        else:
            words.append(check_word(stripped, where))
    return words, regexes


def read_redact_file(path: Path) -> tuple[list[str], list[str]]:
    """Read and parse a ``--redact-file`` (bounded); UsageError says what is wrong."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_REDACT_FILE_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"--redact-file {path}: cannot read it: {exc.strerror or exc}") from None
    if len(data) > MAX_REDACT_FILE_BYTES:
        raise UsageError(f"--redact-file {path}: larger than {MAX_REDACT_FILE_BYTES} bytes")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UsageError(f"--redact-file {path}: not UTF-8 text") from None
    return parse_redact_file(text, str(path))


def machine_values(
    environ: Mapping[str, str], *, system: Mapping[str, str] | None = None
) -> frozenset[str]:
    """What identifies this machine and its user, to redact from every shared string.

    The values are the recorder's (``_record/known.machine_values``: the login, real name and
    other account fields, host names, the user's domain, the home and working
    directories, from the environment and the operating system; ``system`` replaces what
    the operating system says, for tests), with export's rules on top, because export
    matches them in every string and not only in messages: each word of a real name and
    the short form of a host name count too; a path counts with either separator; left
    out are values shorter than ``MIN_WORD_LENGTH``, values in ``COMMON_VALUES``
    (``root``, ``runner``, ``localhost``, ...) and paths with fewer than two components
    (``/``, ``/root``, ``/tmp``, ``C:\\``), which identify no one.
    """
    from localtelemetry._record.known import DIRECTORY, HOST, USER
    from localtelemetry._record.known import machine_values as identity

    found: set[str] = set()
    for value, kind in identity(environ, system=system).items():
        if kind == DIRECTORY:
            if len([p for p in re.split(r"[\\/]", value) if p and not p.endswith(":")]) < 2:
                continue
            value = value.rstrip("/\\")
            found.update({value, value.replace("\\", "/"), value.replace("/", "\\")})
            continue
        if kind == USER:  # the words of a real name
            names = (value, *value.split())
        else:  # a host name, short too
            names = (value, value.split(".", 1)[0]) if kind == HOST else (value,)
        for name in names:
            if len(name) >= MIN_WORD_LENGTH and name.lower() not in COMMON_VALUES:
                found.add(name)
    return frozenset(found)


def _alternation(values: Iterable[str], *, whole_below: int = 0) -> re.Pattern[str] | None:
    """One pattern for all ``values``, longest first; values shorter than ``whole_below``
    match only where no letter or digit is glued to them."""
    ordered = sorted(set(values), key=lambda v: (-len(v), v))
    if not ordered:
        return None
    parts = [
        rf"(?<![^\W_]){re.escape(v)}(?![^\W_])" if len(v) < whole_below else re.escape(v)
        for v in ordered
    ]
    return re.compile("|".join(parts), re.IGNORECASE)


class Redactor:
    """The known values of one export, compiled once; every method is a pure function
    of its input (the rewriter keeps results per value)."""

    def __init__(
        self,
        *,
        words: Iterable[str] = (),
        regexes: Iterable[str] = (),
        machine: Iterable[str] = (),
    ) -> None:
        machine = frozenset(machine)
        words = frozenset(words)
        lowered = {m.lower() for m in machine}
        matchers: list[tuple[str, re.Pattern[str]]] = []
        for kind, values, whole_below in (
            (MACHINE_KIND, machine, MACHINE_SUBSTRING_LENGTH),
            (USER_KIND, [w for w in words if w.lower() not in lowered], 0),
        ):
            pattern = _alternation(values, whole_below=whole_below)
            if pattern is not None:
                matchers.append((kind, pattern))
        for text in dict.fromkeys(regexes):
            matchers.append((USER_KIND, re.compile(text, re.IGNORECASE)))
        self._matchers = tuple(matchers)

    def __bool__(self) -> bool:
        return bool(self._matchers)

    def count(self, text: str) -> dict[str, int] | None:
        """Matches in ``text`` by kind, or None when there is none."""
        counts: dict[str, int] | None = None
        segments: list[str] | None = None
        for kind, pattern in self._matchers:
            if pattern.search(text) is None:
                continue
            if segments is None:
                segments = _protected().split(text)[::2]
            n = sum(1 for s in segments for m in pattern.finditer(s) if m.group())
            if n:
                counts = counts or {}
                counts[kind] = counts.get(kind, 0) + n
        return counts

    def free_text(self, text: str) -> tuple[str, dict[str, int] | None]:
        """``text`` with every match replaced by ``<redacted:KIND>``, and the counts."""
        return self._replace(text, None)

    def plain(self, text: str) -> tuple[str, dict[str, int] | None]:
        """``text`` with every match replaced by the first of ``PLAIN_REPLACEMENTS`` that
        does not form a redacted value again (``act`` is inside ``redacted``);
        Unredactable when none does."""
        for replacement in PLAIN_REPLACEMENTS:
            result, counts = self._replace(text, replacement)
            if not counts or not self.count(result):
                return result, counts
        raise Unredactable(f"{text!r} cannot be redacted in place")

    def _replace(self, text: str, replacement: str | None) -> tuple[str, dict[str, int] | None]:
        counts: dict[str, int] | None = None
        for kind, pattern in self._matchers:
            if pattern.search(text) is None:
                continue
            marker = replacement or f"<redacted:{kind}>"
            hits = 0

            def replace(match: re.Match[str], marker: str = marker) -> str:
                nonlocal hits
                if not match.group():  # a zero-width match (a look-around) hides nothing
                    return ""
                hits += 1
                return marker

            parts = _protected().split(text)
            for i in range(0, len(parts), 2):
                parts[i] = pattern.sub(replace, parts[i])
            if hits:
                text = "".join(parts)
                counts = counts or {}
                counts[kind] = counts.get(kind, 0) + hits
        return text, counts
