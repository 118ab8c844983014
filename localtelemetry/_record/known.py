"""Known-value redaction: every value a run saw is removed from free text by value.

The pattern scrubber (``_record/scrub``) finds secrets by their shape. This module needs no
shape: it knows the values themselves -- the words of the command line and their parts,
option values from any source, values handed to the recording API, the login and real
name, the host names, the home and working directories -- and replaces each one wherever
a message quotes it, in any case, before the scrubber runs.

The rule (docs/privacy.md, "Known values"), decided per value:

1. A value is stripped of surrounding white space. Besides the whole value, its *parts*
   count too: the pieces between separators (white space and ``, ; = : / \\ | & @ ? #
   ! * + ( ) [ ] { } < > " ' ```), the dot-separated labels of each piece
   (``host-42`` of ``host-42.acme.internal``), the value without its leading dashes, and
   what follows a single-dash letter (``VALUE`` of ``-nVALUE``).
2. Shorter than ``MIN_LENGTH`` (3) characters: never redacted; too short to identify
   anyone and replacing it would garble every message.
3. A common word (``COMMON_WORDS``, compared case-insensitively) or one of the app's own
   names (its command, option and choice names): not redacted. Whole identity values
   (the login, the full real name, the host names) are the exception: they are always
   redacted from 3 characters on, even when they are common words.
4. Shorter than ``ANYWHERE_LENGTH`` (5) characters: redacted only as a token, i.e. not
   where a letter continues a value that starts or ends with a letter, or a digit one
   that starts or ends with a digit (``bob`` goes in ``user bob``, ``bob's`` and
   ``bob_2``, stays in ``bobsled``; ``4155`` stays in ``41550``).
5. Longer: redacted wherever it appears, inside longer words too.
6. Matching ignores case (the lower-, upper- and case-folded forms all match).

A value with a path separator, and any value that a message quotes inside a path (next
to ``/`` or ``\\``), takes the whole path around it: the path becomes one
``<path:HASH.ext>`` token (for a value quoted exactly as given, the token its path
descriptor carries), so no component of it is left behind. Any other match becomes
``<redacted:KIND>``, KIND naming where the value came from (``KINDS``).

This module loads only when a message is about to be scrubbed: a run without a message
never pays for it, nor for reading the machine's identity (``machine_values``).
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy knows it)
if TYPE_CHECKING:
    import re
    from collections.abc import Callable, Iterable, Mapping

__all__ = [
    "ANYWHERE_LENGTH",
    "COMMON_WORDS",
    "KINDS",
    "MIN_LENGTH",
    "Redactor",
    "machine_values",
    "parts",
    "system_identity",
]

#: Where a value came from, as its marker says: ``<redacted:argument>`` ...
ARGUMENT = "argument"  # the command line and option values (any source)
VALUE = "value"  # handed to the recording API (b.filter, b.value, b.path, snapshot filters)
USER = "user"  # the login and the real name
HOST = "host"  # the machine's host names
DIRECTORY = "directory"  # the home and working directories
KINDS = (ARGUMENT, VALUE, USER, HOST, DIRECTORY)
#: Kinds whose whole values are redacted even when they are common words (rule 3).
IDENTITY_KINDS = frozenset({USER, HOST, DIRECTORY})

MIN_LENGTH = 3
ANYWHERE_LENGTH = 5

# Words too common in messages to redact when a user happens to type them, and that
# identify no one: English function words and frequent verbs and nouns of error
# messages, command-line vocabulary, common directory names, file extensions and the
# most common top-level domains. Lower case; compared with str.casefold().
_COMMON = """
    about above access after again against all also and another any are argument
    arguments auto available back bad bak bash because been before being below between
    bin boolean both branch build but bytes cache can cannot check code com command
    config configuration corp could csv current data debug default dev did directory
    disabled does doing done down during each either empty enabled end entry env error
    errors etc example exist exists expected failed false file files find for found from
    get got had has have help her here his home how html http https ini input internal
    into intranet invalid its json key keys lan lib list local localdomain log main
    master may missing more most must name names need net new next nil none not null
    number off old one only open option options org other our out output over own path
    paths please port prod project projects read release repo repos required root run
    running same see set shall share should show some source src such than that the
    their them then there these they this those tmp toml too true txt type under unknown
    until usage use used user users using usr valid value values var very was were what
    when where which while who why will with without work would www xml yaml yes yml you
    your zip
"""
COMMON_WORDS = frozenset(_COMMON.split())

# A path component: what may stand next to a separator inside a path in a message.
_PATH_STOP = frozenset(" \t\r\n\f\v'\"`<>|;,()[]{}=")
_LOCALHOST = frozenset(
    {"localhost", "localhost.localdomain", "localhost6", "ip6-localhost", "ip6-loopback"}
)
#: Accounts that exist on every machine and identify no one: not identity values.
GENERIC_ACCOUNTS = frozenset({"root", "nobody", "daemon", "admin", "administrator", "user"})

_PIECE = r"""[^\s,;=:/\\|&@?#!*+()\[\]{}<>"'`]+"""
#: The separators of ``_PIECE`` (besides white space), each mapped to a space.
_PIECE_SEPARATORS = dict.fromkeys(map(ord, ",;=:/\\|&@?#!*+()[]{}<>\"'`"), " ")


def _all_parts(values: list[str]) -> list[str]:
    """The parts of all ``values`` (rule 1), in order, duplicates included. One pass
    over all values at once (a run may have been given thousands of arguments): the
    runs ``_PIECE`` finds, found with ``str.split`` (``\\s`` and ``str.split`` agree on
    white space) instead of compiling the pattern."""
    joined = "\n".join(values).translate(_PIECE_SEPARATORS)
    pieces = [p.strip(".-_~") for p in joined.split()]
    out = [p for p in pieces if p]
    out.extend(label for p in out if "." in p for label in p.split(".") if label)
    # -nVALUE: the value attached to a short option; --name: the name without dashes
    out.extend(v[2:] for v in values if len(v) > 2 and v[0] == "-" and v[1].isalpha())
    out.extend(v.lstrip("-") for v in values if v[:1] == "-" and v.lstrip("-"))
    # (a part with a line break is left out: its pieces are in already)
    return [p for p in out if "\n" not in p]


def parts(value: str) -> list[str]:
    """The parts of ``value`` that count as known values of their own (rule 1)."""
    return [p for p in dict.fromkeys(_all_parts([value])) if p != value]


def _folds(value: str) -> tuple[str, ...]:
    """The case-folded forms of ``value`` in each case a message may quote it in
    (the dotless i, U+0131, upper-cases to ``I``, which folds to a dotted ``i``)."""
    if value.isascii():
        return (value.casefold(),)
    return tuple(dict.fromkeys(f.casefold() for f in (value, value.lower(), value.upper())))


def _boundaries(value: str) -> tuple[str, str]:
    """Lookarounds that keep a short value from matching inside a longer word (rule 4)."""
    if len(value) >= ANYWHERE_LENGTH:
        return "", ""

    def guard(char: str, look: str) -> str:
        if char.isalpha():
            return f"(?{look}[^\\W\\d_])"
        if char.isdigit():
            return f"(?{look}\\d)"
        return ""

    return guard(value[0], "<!"), guard(value[-1], "!")


class Redactor:
    """Replaces known values in free text; built for one message (or a few)."""

    __slots__ = ("_other_folds", "_part_kind", "_parts", "_whole")

    def __init__(
        self,
        values: Iterable[tuple[str, str]],
        *,
        exclude: Iterable[str] = (),
    ) -> None:
        """``values``: (value, kind) pairs of whole values, in order of precedence
        (the first kind given for a value wins); ``exclude``: the app's own names."""
        own = [e.casefold() for e in exclude]
        skip = COMMON_WORDS.union(own, (e.lstrip("-") for e in own))  # --opt and opt
        whole: dict[str, tuple[str, str]] = {}  # fold -> (value, kind)
        pairs = [(str(v).strip(), k) for v, k in values]
        for value, kind in pairs:
            fold = value.casefold()
            if len(value) < MIN_LENGTH or fold in whole:
                continue
            if kind in IDENTITY_KINDS or fold not in skip:
                whole[fold] = (value, kind)
        # Parts, kind by kind, with C-level dict and set operations: a run may have been
        # given tens of thousands of arguments.
        found_parts: dict[str, str] = {}  # fold -> part
        part_kind: dict[str, str] = {}
        for kind in dict.fromkeys(k for _, k in pairs):
            found = _all_parts([v for v, k in pairs if k == kind])
            if not found:
                continue
            folds = "\n".join(found).casefold().split("\n")  # parts hold no line break
            new = dict(zip(folds, found, strict=True))
            for fold in [f for f in new if len(f) < MIN_LENGTH]:
                del new[fold]
            for fold in (
                (skip & new.keys())
                | (new.keys() & whole.keys())
                | (new.keys() & found_parts.keys())
            ):
                del new[fold]
            found_parts.update(new)
            part_kind.update(dict.fromkeys(new, kind))
        self._whole = whole
        self._parts = found_parts
        self._part_kind = part_kind
        # Values whose other cases fold differently (the dotless i, U+0131, upper-cases
        # to I, which folds to a dotted i): checked in each of those forms.
        self._other_folds: dict[str, tuple[str, ...]] = {}
        for fold, value in self._values():
            if not value.isascii() and len(folds_of := _folds(value)) > 1:
                self._other_folds[fold] = folds_of

    def _values(self) -> Iterable[tuple[str, str]]:
        """(fold, value) of every known value; non-ASCII ones only when there are any."""
        if "".join(self._whole).isascii() and "".join(self._parts).isascii():
            return ()
        return [*((f, v) for f, (v, _) in self._whole.items()), *self._parts.items()]

    def _lookup(self, fold: str) -> tuple[str, str] | None:
        found = self._whole.get(fold)
        if found is None and fold in self._parts:
            found = (self._parts[fold], self._part_kind[fold])
        return found

    def __bool__(self) -> bool:
        return bool(self._whole or self._parts)

    def _present(self, text: str) -> list[str]:
        """The known values that occur in ``text``, in any case."""
        folded = text.casefold()
        present = [v for f, (v, _) in self._whole.items() if f in folded]
        present += [v for f, v in self._parts.items() if f in folded]
        for fold, folds in self._other_folds.items():
            if fold not in folded and any(f in folded for f in folds):
                found = self._lookup(fold)
                if found is not None:
                    present.append(found[0])
        return present

    def _pattern(self, text: str) -> re.Pattern[str] | None:
        """A pattern of the known values that occur in ``text`` (in any case) only: a
        run given ten thousand file names compiles a handful, not all of them."""
        present = self._present(text)
        return self._compile(present) if present else None

    @staticmethod
    def _compile(present: list[str]) -> re.Pattern[str]:
        import re  # only non-ASCII text needs a pattern (`localtelemetry run` has no re)

        alternatives: dict[str, None] = {}
        for value in sorted(present, key=len, reverse=True):
            before, after = _boundaries(value)
            # IGNORECASE matches every case of ASCII text; other scripts also need the
            # forms whose case mapping changes the letters (ß and SS).
            forms = (value,) if value.isascii() else (value, value.upper(), value.casefold())
            for form in forms:
                alternatives[before + re.escape(form) + after] = None
        return re.compile("|".join(alternatives), re.IGNORECASE)

    def redact(self, text: str, path_token: Callable[[str], str]) -> tuple[str, dict[str, int]]:
        """``text`` with every known value replaced, and the replacements by kind.

        ``path_token(path)`` gives the ``<path:...>`` token of a path."""
        counts: dict[str, int] = {}
        present = self._present(text) if self else []
        if not present:
            return text, counts
        if text.isascii() and "".join(present).isascii():
            spans = _ascii_spans(text, present)
        else:
            spans = [m.span() for m in self._compile(present).finditer(text)]
        out: list[str] = []
        done = 0
        for start, end in spans:
            if start < done:
                continue  # inside a path already taken whole
            matched = text[start:end]
            value, kind = self._lookup(matched.casefold()) or (matched, ARGUMENT)
            in_path = "/" in value or "\\" in value
            if (start > 0 and text[start - 1] in "/\\") or (end < len(text) and text[end] in "/\\"):
                in_path = True
                while start > done and text[start - 1] not in _PATH_STOP:
                    start -= 1
                while end < len(text) and text[end] not in _PATH_STOP:
                    end += 1
            if in_path:
                exact = text[start:end].casefold() == value.casefold()
                replacement = path_token(value if exact else text[start:end])
            else:
                replacement = f"<redacted:{kind}>"
            out.append(text[done:start])
            out.append(replacement)
            done = end
            counts[kind] = counts.get(kind, 0) + 1
        if not out:
            return text, counts
        out.append(text[done:])
        return "".join(out), counts


def _ascii_spans(text: str, present: list[str]) -> list[tuple[int, int]]:
    """The spans ``Redactor._pattern(present).finditer(text)`` finds, for ASCII text
    and values, without compiling it (about 0.2 ms for a message that quotes a path).

    The pattern is an alternation of the values, longest first, ignoring case, with
    lookarounds that keep a short value from continuing a word (``_boundaries``): at
    each place the longest value that may match there wins, and the search goes on
    after it."""
    lower = text.lower()
    found: list[tuple[int, int]] = []
    for value in dict.fromkeys(present):
        needle = value.lower()
        first, last = needle[0], needle[-1]
        short = len(needle) < ANYWHERE_LENGTH
        start = lower.find(needle)
        while start >= 0:
            end = start + len(needle)
            if not short or (
                not (start and _continues(first, lower[start - 1]))
                and not (end < len(lower) and _continues(last, lower[end]))
            ):
                found.append((start, -end))
            start = lower.find(needle, start + 1)
    spans: list[tuple[int, int]] = []
    done = 0
    for start, end in sorted(found):
        if start >= done:
            spans.append((start, -end))
            done = -end
    return spans


def _continues(edge: str, neighbour: str) -> bool:
    """Whether ``neighbour`` continues a value that ends (or starts) with ``edge``: a
    letter next to a letter, a digit next to a digit (rule 4)."""
    if edge.isalpha():
        return neighbour.isalpha()
    return edge.isdigit() and neighbour.isdigit()


# -- the machine's identity ------------------------------------------------------------

#: Environment variables that name the user, the host or their directories.
_ENVIRONMENT = (
    ("USER", USER),
    ("LOGNAME", USER),
    ("USERNAME", USER),
    ("HOSTNAME", HOST),
    ("COMPUTERNAME", HOST),
    ("USERDOMAIN", HOST),
    ("HOME", DIRECTORY),
    ("USERPROFILE", DIRECTORY),
    ("PWD", DIRECTORY),
)
_MAX_FILE = 64 * 1024


def _read_small(path: str) -> str:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return ""
    try:
        return os.read(fd, _MAX_FILE).decode("utf-8", "replace")
    except OSError:
        return ""
    finally:
        os.close(fd)


def _host_names(nodename: str, read: Callable[[str], str]) -> list[str]:
    """The host's names: its node name, short and long, plus the names /etc/hostname and
    the /etc/hosts lines that mention it give. Files only: never a name service, which
    may ask a server over the network."""
    names = [nodename]
    from_file = read("/etc/hostname").strip()
    if from_file and "\n" not in from_file:
        names.append(from_file)
    own = {n.split(".", 1)[0].casefold() for n in names if n}
    for line in read("/etc/hosts").splitlines():
        fields = line.split("#", 1)[0].split()
        aliases = fields[1:]
        if any(a.split(".", 1)[0].casefold() in own for a in aliases):
            names.extend(aliases)
    out: list[str] = []
    for name in names:
        for candidate in (name, name.split(".", 1)[0]):
            if candidate and candidate.casefold() not in _LOCALHOST and candidate not in out:
                out.append(candidate)
    return out


def system_identity(*, read: Callable[[str], str] = _read_small) -> dict[str, str]:
    """The user's and the machine's names as the operating system gives them (value ->
    kind): login, real name and other GECOS fields from the password database, the home
    directory, the working directory and the host names."""
    values: dict[str, str] = {}
    getuid = getattr(os, "getuid", None)
    if getuid is not None:
        try:
            import pwd

            entry = pwd.getpwuid(getuid())
        except (ImportError, KeyError, OSError):
            entry = None
        if entry is not None:
            for field in (entry.pw_name, *entry.pw_gecos.split(",")):
                if field.strip() and field.strip().casefold() not in GENERIC_ACCOUNTS:
                    values.setdefault(field.strip(), USER)
            values.setdefault(entry.pw_dir, DIRECTORY)
    uname = getattr(os, "uname", None)
    if uname is not None:
        for name in _host_names(uname().nodename, read):
            values.setdefault(name, HOST)
    try:  # noqa: SIM105 - contextlib costs `localtelemetry run --telemetry` 3 ms
        values.setdefault(os.getcwd(), DIRECTORY)
    except OSError:  # the working directory was removed
        pass
    return values


def machine_values(
    environ: Mapping[str, str] | None = None, *, system: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Every identity value of this user and machine (value -> kind: ``user``, ``host``
    or ``directory``): the environment's (``USER``, ``LOGNAME``, ``HOSTNAME``, ``HOME``,
    ...) and, unless ``system`` replaces them, the operating system's
    (``system_identity``). Export calls this too, for what the store kept."""
    env = os.environ if environ is None else environ
    values: dict[str, str] = {}
    for variable, kind in _ENVIRONMENT:
        value = env.get(variable, "").strip()
        generic = _LOCALHOST | GENERIC_ACCOUNTS if kind != DIRECTORY else frozenset()
        if value and value.casefold() not in generic and value not in ("/", "\\"):
            values.setdefault(value, kind)
    for value, kind in (system_identity() if system is None else system).items():
        values.setdefault(value, kind)
    return values
