"""The contract: what every layer agrees on.

Owns the exceptions (one hierarchy under ``LocalTelemetryError``), the limits and name
patterns, document ids, and the published schemas with the one validity check every
reader uses. This module itself holds what a host app loads even when it records
nothing: the version every document names as its producer, the default flag and command
names, and the rules for app names and versions (one module, not two, on that path).
Imports nothing from localtelemetry outside this package.
"""

__version__ = "0.1.0"

# -- names -------------------------------------------------------------------------------
# Checked with string methods, not compiled regexes: every host process constructs a
# Telemetry (compiling both patterns cost it 0.2 ms); tests/test_write_path.py checks
# that each check accepts exactly what its pattern fully matches.

#: An app's name: it names the app's store directory, so every layer agrees on it.
APP_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
VERSION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9.+_-]{0,63}$"
#: The option that turns recording on for one run, and the management command group,
#: unless a host chooses other names.
FLAG = "--telemetry"
COMMAND = "telemetry"
_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def _plain(text: object, rest: str) -> bool:
    """Whether ``text`` is 1-64 characters, the first a letter or digit and the others
    letters, digits or ``rest``: the name patterns above."""
    return (
        isinstance(text, str)
        and 0 < len(text) <= 64
        and text[0] in _ALNUM
        and not text.strip(_ALNUM + rest)
    )


def is_app_name(text: object) -> bool:
    return _plain(text, "._-")


def is_version(text: object) -> bool:
    return _plain(text, ".+_-")
