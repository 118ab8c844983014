"""Scrubbing of free text (exception messages, warning text) before it is stored or exported.

Engine
------
``scrub`` works in this order:

1. Control characters (Unicode category Cc) other than ``\\n`` and ``\\t`` become spaces.
2. Markers already in the text -- ``<redacted:KIND>`` and ``<path:HEX>`` / ``<path:HEX.ext>``
   -- are split off as *protected* segments. No rule ever looks inside a protected segment.
3. Every rule of ``RULES`` whose pre-filters pass runs, in table order, over the
   unprotected segments. A match (or only the rule's ``group``, so that e.g. ``password=``
   stays readable) becomes a ``<redacted:KIND>`` marker, which is itself a protected
   segment from then on. A rule's ``validate`` hook may reject a candidate (Luhn check for
   cards, mod 97 for IBANs, "looks random" for keys); the text is then left as it was and
   the search resumes one character later.
4. A fixed path stage runs last: URLs (``scheme://...``) and file-system paths become
   ``<path:{hash_path(p)}{ext}>`` tokens, counted as ``url``, ``home-path`` or ``path``.
5. Steps 2-4 repeat until a pass changes nothing (usually one extra pass when something
   was replaced), which makes ``scrub`` idempotent: ``scrub(scrub(x).text) == scrub(x)``
   for a deterministic ``hash_path``.
6. ``max_length`` caps the result; the cut never splits a marker.

Order matters: a rule only sees text that no earlier rule has claimed, so the table
(``_record/scrub_rules.SPECS``) lists the most specific formats first (PEM blocks, vendor tokens
with a fixed prefix), then context rules (credentials in URLs, ``Authorization:``
headers, command-line options, ``password=`` style assignments, random-looking values
under credential-like keys), then personal data (e-mail, internal host names, MAC, IPv6,
IPv4, card numbers, IBAN, national identifiers, phone numbers), and paths last. A GitHub
token in ``token=ghp_...`` is therefore counted as ``github-token``, not as a generic
assignment. Several rules may share a kind (``phone-number`` has four).

Cost
----
Importing compiles nothing, and a message compiles only the rules it may need: each rule
has cheap pre-filters (substrings of the lower-cased text, substrings of the text as it
is, a minimum number of digits, a small test function; see ``_record/scrub_rules.Spec``), and a
rule's pattern is compiled the first time its pre-filters pass, then kept. A typical
failing message compiles a handful of patterns; ``RULES`` (all of them, compiled) is built
only when asked for. A second pass re-runs only the rules that passed their pre-filters in
the first. The patterns are written to run in linear time (anchored starts, bounded
repetition, no ambiguous nested quantifiers); the tests feed them pathological inputs.

Phone numbers are matched by hand-written patterns, not by the ``phonenumbers`` library:
importing it and running its matcher once costs about 20 ms, four times the budget of a
whole failing recorded run, and its validity check rejects the reserved fictional ranges
(555-01xx) that documentation and tests use.

Decisions
---------
* Paths. Rooted paths (``/a/b``, ``C:\\a``, ``\\\\server\\share``, ``~/a``, ``~user/``,
  ``./a``, ``../a``) are paths; a POSIX root path needs two components or a file extension
  (``/etc/hosts``, ``/config.yaml``), so ``/tmp``, ``/8`` or ``/api`` stay. A bare relative
  path (``src/pkg/mod.py``) needs three components, or two and an extension containing a
  letter, and at least one ASCII letter: ``and/or``, ``text/html``, ``11/23/2026``,
  ``requests/2.31.0`` and ``Mozilla/5.0`` stay. Path components end at whitespace, quotes,
  ``: ; , = < > | * ? ( ) [ ] { }``; a trailing ``.`` is treated as punctuation. Quoted
  paths (``'/Users/a b/c d.txt'``) may contain spaces; so may the inner components of
  Windows drive/UNC paths (``C:\\Users\\John Smith\\x``).
* The extension kept in a token is the lower-cased last suffix of the last component if it
  is ``.[a-z0-9]{1,10}`` (``_contract.EXTENSION_PATTERN``); dot-files (``.bashrc``) have
  none, like ``os.path.splitext``.
* Home directories (``/home/NAME``, ``/Users/NAME``, ``/root``, ``C:\\Users\\NAME``,
  ``~`` and ``~NAME``, also under ``/var``, ``/usr``, ``/export``, ``/mnt/c``) are paths
  too: the whole path becomes one ``<path:...>`` token, so no user name survives, and it
  is counted as ``home-path`` instead of ``path``.
* URLs. Everything after ``scheme://`` (host, port, path, query, fragment) becomes one
  ``<path:...>`` token counted as ``url``; the scheme stays (``https://<path:ab12.json>``).
  A URL with a user:password part, or a random-looking user name (a token, a Sentry DSN
  key), becomes ``scheme://<redacted:url-credentials>``, the host included. Bare public
  domains (``example.com``) stay: they cannot be told from ``os.path``; names under a
  private-use suffix (``build-7.acme.internal``, ``nas.local``, ``*.corp``, ``*.lan``,
  ``*.home.arpa``) are ``internal-hostname``.
* IPv4: a dotted quad with every octet 0-255 that is not part of a longer dotted or
  alphanumeric run (so ``v1.2.3.4``, ``1.2.3.4.5`` and ``1.2.3`` stay, but a four-part
  version written as ``1.2.3.4`` is taken for an address). Loopback ``127.x.x.x`` and
  ``0.0.0.0`` stay: they identify no one and help diagnosis.
* IPv6: full or compressed hex groups; a compressed form needs three groups, or two with
  a four-digit first group (``fe80::1``), so ``::``, ``::1``, ``a::b``, slices such as
  ``1::2`` and ``std::vector`` stay; times (``12:30:45``) are never eight groups. An
  address right before a colon (``fe80::1: no route``) is found too.
* Cards: 13-19 digits starting with 2-6, contiguous or in 4-4-4-x / 4-6-5 groups of spaces
  or dashes, and passing the Luhn check.
* Phone numbers: international (``+`` or ``00``, 8-15 digits, separators optional only in
  the E.164 form), North American (``(415) 555-0199``, ``415-555-0199``, ``415.555.0199``),
  national forms with a leading 0 and separators (UK, DE, FR and the like, 9-12 digits),
  and any 7-15 digits after ``phone``/``tel``/``mobile``/``fax``. A bare run of digits
  (``4155550199``, an epoch time, a byte count) stays.
* AWS secret keys: a 40-character base64 run with upper- and lower-case letters within 48
  characters after the word ``aws`` or ``secret`` (so a 40-hex git SHA stays).
* Assignments (``password=``, ``token:``, ``api_key =``, JSON ``"secret": "..."``) keep the
  key and separator and replace the value: up to whitespace, quote, comma, semicolon or
  ``&``; a quoted value is replaced up to its closing quote. Under any other key that names
  a credential or a service (``*_KEY``, ``X-Api-Key``, ``DATADOG_APP_KEY``, ``?sig=``), a
  value is replaced when it looks generated: 8+ characters, two or more character classes
  and the entropy of random text (``high-entropy-secret``); words, numbers, versions,
  dates, URLs and ``${PLACEHOLDERS}`` stay.
* ``max_length``: a longer result is cut to at most ``max_length`` characters ending with
  ``\\u2026[truncated]``; a marker that would be cut is dropped whole. If ``max_length`` is
  shorter than that suffix, the result is just ``\\u2026`` (or ``""`` for 0).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from localtelemetry._contract import EXTENSION_PATTERN, MAX_EXTENSION_CHARS

from .scrub_rules import _URL_REST, SPECS, Spec, Validator

__all__ = ["PATH_KINDS", "RULES", "RULE_KINDS", "Rule", "ScrubResult", "scrub"]


# Tuples with named fields, written out: this module loads in every recorded run that
# scrubs, and creating a typing.NamedTuple (or a dataclass) costs about a millisecond.
class Rule(tuple):  # type: ignore[type-arg]
    """One redaction rule: matches of ``pattern`` (its ``group``) become ``<redacted:kind>``.

    ``validate(candidate, match)`` may reject a candidate (the group's text). A tuple
    ``(kind, pattern, description, group, validate)``."""

    __slots__ = ()

    def __new__(
        cls,
        kind: str,
        pattern: re.Pattern[str],
        description: str,
        group: str | int = 0,
        validate: Validator | None = None,
    ) -> Rule:
        return tuple.__new__(cls, (kind, pattern, description, group, validate))

    @property
    def kind(self) -> str:
        """The kind counted and named in the marker."""
        kind: str = self[0]
        return kind

    @property
    def pattern(self) -> re.Pattern[str]:
        pattern: re.Pattern[str] = self[1]
        return pattern

    @property
    def description(self) -> str:
        description: str = self[2]
        return description

    @property
    def group(self) -> str | int:
        """The group replaced (0: the whole match)."""
        group: str | int = self[3]
        return group

    @property
    def validate(self) -> Validator | None:
        validate: Validator | None = self[4]
        return validate

    def __repr__(self) -> str:
        return f"Rule(kind={self[0]!r}, description={self[2]!r})"


class ScrubResult(tuple):  # type: ignore[type-arg]
    """The scrubbed text and the number of substitutions per kind: ``(text, counts)``."""

    __slots__ = ()

    def __new__(cls, text: str, counts: dict[str, int]) -> ScrubResult:
        return tuple.__new__(cls, (text, counts))

    @property
    def text(self) -> str:
        text: str = self[0]
        return text

    @property
    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = self[1]
        return counts

    def __repr__(self) -> str:
        return f"ScrubResult(text={self[0]!r}, counts={self[1]!r})"


PATH_KINDS: frozenset[str] = frozenset({"url", "home-path", "path"})
"""Kinds counted by the path stage, which emits ``<path:...>`` tokens instead of markers."""

RULE_KINDS: frozenset[str]
"""Every kind that can appear in ``ScrubResult.counts``: the rules' kinds and PATH_KINDS.
Made on first access (``__getattr__``): a failing run does not need it."""

RULES: tuple[Rule, ...]
"""The rules in the order they run (most specific first). Compiled on first access, so
that importing this module stays cheap: see ``__getattr__``."""

# --------------------------------------------------------------------------- path stage

_URL = (
    r"(?=[A-Za-z])(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]{0,31}://"
    rf"(?P<value>{_URL_REST})"
)
_C = r"""[^\s\\/'"`<>|*?:;,()\[\]{}=]"""  # a path-component character
_CE = r"""[^\s\\/'"`<>|*?:;,()\[\]{}=.]"""  # ... that may end a path
_SEP = r"[\\/]+"
_LAST = rf"(?:{_C}*{_CE})?"
_BODY = rf"(?:{_C}+{_SEP})*{_LAST}"
# Inner components of Windows paths may contain spaces: C:\Program Files\x, C:\Users\A B\x
_BODY_WS = rf"(?:{_C}+(?:(?: {_C}+){{1,3}}(?=\\))?{_SEP})*{_LAST}"
_QROOT = r"(?:/|~|\.{1,2}[\\/]|[A-Za-z]:[\\/]|\\\\)"


def _path_pattern(single: bool = True, double: bool = True, windows: bool = True) -> str:
    """The path stage's pattern. Without ``single``, ``double`` or ``windows`` it leaves
    out the alternatives that cannot match a text without a single quote, a double quote,
    or a drive or UNC start (a colon before a slash or backslash, or two backslashes).
    Compiling the whole pattern costs a failing run about 5M instructions, one with only
    the alternatives a message can match about half that (issue 14); ``_path_variant``
    says which a text needs."""
    alternatives = []
    if single:  # quoted: may contain spaces
        alternatives.append(rf"(?<='){_QROOT}[^'\n]*(?=')")
    if double:
        alternatives.append(rf"""(?<="){_QROOT}[^"\n]*(?=")""")
    if windows:  # C:\... and \\server\share\...
        alternatives.append(rf"(?:[A-Za-z]:[\\/]|\\\\){_BODY_WS}")
    # ~/... and ~user/..., ./... and ../..., /..., and a/b... share one body (each copy
    # of it costs the first message that has a path a tenth of a millisecond to compile)
    alternatives.append(
        rf"(?:~(?:[A-Za-z_][A-Za-z0-9_.\-]*)?[\\/]|\.{{1,2}}[\\/]|/|(?={_C}+{_SEP})){_BODY}"
    )
    # a path starts the text or follows one of these
    return r"""(?<![^\s'"`(\[{=,;:])(?:""" + "|".join(alternatives) + ")"


def _path_variant(text: str) -> tuple[bool, bool, bool]:
    """The alternatives of ``_path_pattern`` that can match somewhere in ``text`` (or in
    any part of it): each needs a character or pair that must occur in the text."""
    return ("'" in text, '"' in text, ":\\" in text or ":/" in text or "\\\\" in text)


_PATH = _path_pattern()
_CONTROL = r"[\x00-\x08\x0b-\x1f\x7f-\x9f]"
MARKER_PATTERN = rf"<(?:redacted:[a-z0-9]+(?:-[a-z0-9]+)*|path:[0-9a-f]+(?:{EXTENSION_PATTERN})?)>"

# The small helpers below are string code, not patterns: compiling the five patterns
# they replace (_CONTROL, MARKER_PATTERN, ...) cost the first failing message of a run about
# 0.5 ms (issue 14). tests/test_fast_paths.py checks each against its pattern.
_MARKER_KIND = "abcdefghijklmnopqrstuvwxyz0123456789"
_EXT_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_control_table: dict[int, str] | None = None


def _replace_control(text: str) -> str:
    """``_CONTROL`` characters replaced by spaces."""
    global _control_table
    if _control_table is None:
        codes = [*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0)]
        _control_table = dict.fromkeys(codes, " ")
    return text.translate(_control_table)


def _is_marker(candidate: str) -> bool:
    """Whether ``candidate`` is all of a ``MARKER_PATTERN``."""
    if candidate.startswith("<redacted:") and candidate.endswith(">"):
        kind = candidate[10:-1]
        return (
            bool(kind)
            and not kind.strip(_MARKER_KIND + "-")
            and ("--" not in kind and kind[0] != "-" and kind[-1] != "-")
        )
    if candidate.startswith("<path:") and candidate.endswith(">"):
        digest, dot, ext = candidate[6:-1].partition(".")
        if not digest or digest.strip(_HEX_DIGITS):
            return False
        return not dot or (0 < len(ext) <= MAX_EXTENSION_CHARS and not ext.strip(_MARKER_KIND))
    return False


def _marker_at(text: str, start: int) -> int:
    """The end of the marker that starts at ``start``, or -1 (``MARKER_PATTERN``'s match)."""
    if not text.startswith(("<redacted:", "<path:"), start):
        return -1
    end = text.find(">", start) + 1
    return end if end and _is_marker(text[start:end]) else -1


def _split_markers(text: str) -> list[str]:
    """``re.split(f"({MARKER_PATTERN})", text)``: free text at even places, markers at odd."""
    parts: list[str] = []
    done = 0
    start = text.find("<")
    while start >= 0:
        end = _marker_at(text, start)
        if end < 0:
            start = text.find("<", start + 1)
            continue
        parts.append(text[done:start])
        parts.append(text[start:end])
        done = end
        start = text.find("<", end)
    parts.append(text[done:])
    return parts


def _is_home(p: str) -> bool:
    """Whether path ``p`` is in a home directory: ``~``, ``~user``, ``/home/NAME``,
    ``/Users/NAME``, ``/root``, ``C:\\Users\\NAME``, ``C:\\Documents and Settings\\NAME``, also
    under ``/var``, ``/usr``, ``/export`` or ``/mnt/X`` (WSL)."""
    if p.startswith("~"):
        return True
    q = p.lower().replace("\\", "/")
    if len(q) >= 2 and q[1] == ":" and "a" <= q[0] <= "z":
        q = q[2:]
    if not q.startswith("/"):
        return False
    q = q.lstrip("/")
    for prefix in ("var/", "usr/", "export/"):
        if q.startswith(prefix):
            q = q[len(prefix) :].lstrip("/")
            break
    else:
        if q.startswith("mnt/"):
            rest = q[4:].lstrip("/")
            if "a" <= rest[:1] <= "z" and rest[1:2] == "/":
                q = rest[1:].lstrip("/")
    for name in ("home/", "users/", "documents and settings/"):
        if q.startswith(name):
            return q[len(name) :].lstrip("/") != ""
    return q == "root" or q.startswith("root/")


def _has_letter(text: str) -> bool:
    return any("a" <= c <= "z" or "A" <= c <= "Z" for c in text)


def _extension(last: str) -> str:
    """``.ext`` (lower case) when ``last`` ends in ``[^.]\\.([A-Za-z0-9]{1,10})``."""
    dot = last.rfind(".")
    if dot < 1 or last[dot - 1] == ".":
        return ""
    ext = last[dot + 1 :]
    if not 0 < len(ext) <= MAX_EXTENSION_CHARS or ext.strip(_EXT_CHARS):
        return ""
    return "." + ext.lower()


def _path_kind(p: str) -> tuple[str, str] | None:
    """(``"home-path"`` or ``"path"``, extension), or None if ``p`` is not taken for a path."""
    comps = [comp for comp in p.replace("\\", "/").split("/") if comp]
    if not comps:
        return None
    first = p[0]
    ext = _extension(comps[-1]) if p[-1] not in "\\/" else ""
    if first == "/":
        ok = len(comps) >= 2 or _has_letter(ext)
    elif p.startswith("\\\\"):
        ok = len(comps) >= 2
    elif first == "~":
        ok = len(comps) >= 2 or comps[0] != "~"
    elif len(p) > 2 and p[1] == ":" and p[2] in "\\/":
        ok = len(comps) >= 2
    elif comps[0] in (".", ".."):
        ok = any(comp not in (".", "..") for comp in comps)
    else:
        ok = _has_letter(p) and (len(comps) >= 3 or (len(comps) == 2 and _has_letter(ext)))
    if not ok:
        return None
    return ("home-path" if _is_home(p) else "path"), ext


# ------------------------------------------------------------------------------ engine

TRUNCATED = "\u2026[truncated]"
_MAX_PASSES = 8
_DIGITS = "0123456789"
_HEX_DIGITS = "0123456789abcdef"

_REDACT, _URL_MODE, _PATH_MODE = 0, 1, 2


class _Stage:
    """A rule, or the URL / path stage, with its pre-filters; compiled on first use."""

    __slots__ = (
        "cased",
        "group",
        "hints",
        "kind",
        "marker",
        "min_digits",
        "mode",
        "pattern",
        "pre",
        "source",
        "validate",
        "variants",
    )

    def __init__(self, spec: Spec, mode: int = _REDACT) -> None:
        self.kind, self.source, self.group, self.validate = (
            spec.kind,
            spec.pattern,
            spec.group,
            spec.validate,
        )
        self.hints, self.cased, self.min_digits, self.pre = (
            spec.hints,
            spec.cased,
            spec.min_digits,
            spec.pre,
        )
        self.pattern: re.Pattern[str] | None = None
        self.mode = mode
        self.marker = f"<redacted:{spec.kind}>"
        #: The path stage's patterns by ``_path_variant``, compiled on first use.
        self.variants: dict[tuple[bool, bool, bool], re.Pattern[str]] = {}

    def compiled(self, text: str | None = None) -> re.Pattern[str]:
        """The stage's pattern; for the path stage and a ``text``, the pattern with only
        the alternatives that can match in that text (the same matches, cheaper to
        compile: see ``_path_pattern``)."""
        if text is not None and self.mode == _PATH_MODE:
            key = _path_variant(text)
            pattern = self.variants.get(key)
            if pattern is None:
                pattern = self.variants[key] = re.compile(_path_pattern(*key))
            return pattern
        pattern = self.pattern
        if pattern is None:
            pattern = self.pattern = re.compile(self.source)
        return pattern


#: Each stage's pre-filters, in the order the stages run: (hints, cased, min_digits, pre).
_Filter = tuple[tuple[str, ...], tuple[str, ...], int, Callable[[str], bool] | None]
_filters: tuple[_Filter, ...] | None = None
#: The stages made so far, by position: a message makes only those whose pre-filters
#: pass (making all of them cost every failing run about 0.1 ms).
_made: list[_Stage | None] = []


_extra: tuple[tuple[Spec, int], ...] | None = None


def _extra_specs() -> tuple[tuple[Spec, int], ...]:
    """The two stages after the rules: URLs, then paths."""
    global _extra
    if _extra is None:
        _extra = (
            (Spec("url", _URL, "URLs", "value", hints=("://",)), _URL_MODE),
            (Spec("path", _PATH, "paths", hints=("/", "\\")), _PATH_MODE),
        )
    return _extra


def _get_filters() -> tuple[_Filter, ...]:
    global _filters
    if _filters is None:
        specs = [*SPECS, *(spec for spec, _ in _extra_specs())]
        _made.extend([None] * (len(specs) - len(_made)))
        _filters = tuple([(s.hints, s.cased, s.min_digits, s.pre) for s in specs])
    return _filters


def _stage(index: int) -> _Stage:
    stage = _made[index]
    if stage is None:
        rules = len(SPECS)
        spec, mode = (SPECS[index], _REDACT) if index < rules else _extra_specs()[index - rules]
        stage = _made[index] = _Stage(spec, mode)
    return stage


def _get_stages() -> tuple[_Stage, ...]:
    """All the stages in the order they run; making them compiles nothing."""
    return tuple(_stage(i) for i in range(len(_get_filters())))


def __getattr__(name: str) -> object:
    """``RULES`` is compiled on first access (PEP 562), keeping the import cheap."""
    if name == "RULE_KINDS":
        kinds = frozenset([spec.kind for spec in SPECS]) | PATH_KINDS
        globals()["RULE_KINDS"] = kinds
        return kinds
    if name == "RULES":
        rules = tuple(
            Rule(stage.kind, stage.compiled(), spec.description, spec.group, spec.validate)
            for stage, spec in zip(_get_stages(), SPECS, strict=False)
        )
        globals()["RULES"] = rules
        return rules
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _token(hash_path: Callable[[str], str], p: str, ext: str) -> str:
    digest = hash_path(p)
    if not digest or digest.strip(_HEX_DIGITS):
        # A ValueError, not in _contract/exceptions: the caller broke scrub()'s argument contract.
        raise ValueError("hash_path must return a lower-case hexadecimal string")
    return f"<path:{digest}{ext}>"


def _apply(
    stage: _Stage,
    seg: str,
    m: re.Match[str] | None,
    hash_path: Callable[[str], str],
    counts: dict[str, int],
    search: Callable[[str, int], re.Match[str] | None] | None = None,
) -> list[str] | None:
    """Replace the matches of ``stage`` in ``seg``, starting with the match ``m``;
    ``search`` is the search that found ``m`` (default: the stage's whole pattern's).

    Returns alternating free text and markers, or None if nothing was replaced. A
    rejected candidate is retried one character later (so a failed Luhn check on a
    longer run cannot hide a card number inside it)."""
    out: list[str] = []
    pos = 0  # end of the text already emitted
    if search is None:
        search = stage.compiled().search
    while m is not None:
        start, end = m.span(stage.group)
        replacement: str | None = None
        kind = stage.kind
        if start < end and start >= pos:
            value = seg[start:end]
            if stage.mode == _REDACT:
                if stage.validate is None or stage.validate(value, m):
                    replacement = stage.marker
            elif stage.mode == _URL_MODE:
                path = value.split("?", 1)[0].split("#", 1)[0]
                ext = _extension(path.rsplit("/", 1)[1]) if "/" in path else ""
                replacement = _token(hash_path, value, ext)
            else:
                qualified = _path_kind(value)
                if qualified is not None:
                    kind, ext = qualified
                    replacement = _token(hash_path, value, ext)
        if replacement is None:
            m = search(seg, m.start() + 1)
            continue
        out.append(seg[pos:start])
        out.append(replacement)
        pos = end
        counts[kind] = counts.get(kind, 0) + 1
        m = search(seg, max(m.end(), m.start() + 1))
    if not out:
        return None
    out.append(seg[pos:])
    return out


def _pass(
    text: str,
    hash_path: Callable[[str], str],
    counts: dict[str, int],
    indices: Iterable[int],
) -> tuple[str | None, list[int]]:
    """Run the stages at ``indices`` once. Returns the new text (None if nothing was
    replaced) and the stages that passed their pre-filters: only those can match in the
    next pass, whose free text consists of parts of this pass's free text."""
    if "<" in text:
        parts = _split_markers(text)  # free text at even, markers at odd
        free = "\0".join(parts[::2])  # "\0": no hint spans a marker
    else:
        parts = [text]
        free = text
    lower = free.lower()
    digits = 0
    for d in _DIGITS:
        digits += lower.count(d)
    changed = False
    active: list[int] = []
    filters = _filters or _get_filters()
    for index in indices:
        # The pre-filters (see ``Spec``), checked in line: a call per stage and pass
        # cost a failing run more than the checks themselves.
        hints, cased, min_digits, pre = filters[index]
        if hints:
            for hint in hints:
                if hint in lower:
                    break
            else:
                continue
        if cased:
            for hint in cased:
                if hint in free:
                    break
            else:
                continue
        if digits < min_digits or (pre is not None and not pre(lower)):
            continue
        active.append(index)
        stage = _made[index] or _stage(index)
        search = stage.compiled(free).search
        new_parts: list[str] | None = None
        for i in range(0, len(parts), 2):
            seg = parts[i]
            m = search(seg) if seg else None
            pieces = None if m is None else _apply(stage, seg, m, hash_path, counts, search)
            if pieces is not None:
                if new_parts is None:
                    new_parts = parts[:i]
                new_parts.extend(pieces)
            elif new_parts is not None:
                new_parts.append(seg)
            if new_parts is not None and i + 1 < len(parts):
                new_parts.append(parts[i + 1])
        if new_parts is not None:
            parts = new_parts
            changed = True
    return ("".join(parts) if changed else None), active


def _truncate(text: str, max_length: int) -> str:
    if len(text) <= max_length:
        return text
    if max_length < len(TRUNCATED):
        return TRUNCATED[: min(1, max_length)]
    cut = max_length - len(TRUNCATED)
    start = text.rfind("<", 0, cut)
    if start >= 0 and _marker_at(text, start) > cut:
        cut = start
    return text[:cut] + TRUNCATED


def scrub(
    text: str, *, hash_path: Callable[[str], str], max_length: int | None = None
) -> ScrubResult:
    """Replace secrets and personal data in ``text`` by ``<redacted:KIND>`` markers and
    paths/URLs by ``<path:{hash_path(p)}{ext}>`` tokens; see the module docstring.

    ``hash_path`` must return lower-case hex (ValueError otherwise). ``max_length`` caps
    the result, in characters, after scrubbing.
    """
    if max_length is not None and max_length < 0:
        # A ValueError, not in _contract/exceptions: a programming error of the caller.
        raise ValueError("max_length must not be negative")
    if not text.isprintable():
        text = _replace_control(text)
    counts: dict[str, int] = {}
    indices: Iterable[int] = range(len(_filters or _get_filters()))
    for _ in range(_MAX_PASSES):
        new, indices = _pass(text, hash_path, counts, indices)
        if new is None:
            break
        text = new
    if max_length is not None:
        text = _truncate(text, max_length)
    return ScrubResult(text, counts)
