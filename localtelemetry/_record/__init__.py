"""Recording one run: environment facts, keyed hashing, scrubbing, documents.

Turns what a run of a host app saw into documents that are safe to keep and hands them
to the store. May import ``_store`` and ``_contract``.

The package's own module is the environment (one module fewer on a recording run's
path): what the recorder learns about the machine and the environment, as coarse enums.

Nothing here returns a raw environment value: every function maps what it reads onto a
short, fixed vocabulary (a CI provider name, ``local``/``ci``/``container``, an agent
name), so no variable's content can reach a document.

It also says what turns recording off although ``--telemetry`` was given: ``DO_NOT_TRACK``
and ``LOCALTELEMETRY_DISABLED``, and a project or organisation marker file,
``.localtelemetry-off``, in the working directory or any directory above it (one module,
so a recorded run imports one module fewer).

The marker is looked up only in a run that was given ``--telemetry``, so other runs pay
nothing. The walk is bounded: it stops after the home directory (a marker there turns
recording off for everything below it), at the file-system root, and after
``MAX_LEVELS`` directories. The file's content does not matter; an empty file will do,
and a directory or a symlink of that name counts too (only its name is checked). A
level that cannot be looked at (permissions, I/O error) counts as having no marker.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy knows it)
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

TRUE_WORDS = frozenset({"1", "true", "yes", "y", "on"})

#: Variables that block recording even when ``--telemetry`` is given, in checking order.
HARD_OFF_VARIABLES = ("DO_NOT_TRACK", "LOCALTELEMETRY_DISABLED")

#: (provider, variable, required value or None for "set and non-empty"), first match wins.
CI_PROVIDERS: tuple[tuple[str, str, str | None], ...] = (
    ("github-actions", "GITHUB_ACTIONS", "true"),
    ("gitlab-ci", "GITLAB_CI", None),
    ("circleci", "CIRCLECI", None),
    ("travis-ci", "TRAVIS", None),
    ("jenkins", "JENKINS_URL", None),
    ("jenkins", "JENKINS_HOME", None),
    ("buildkite", "BUILDKITE", None),
    ("azure-pipelines", "TF_BUILD", None),
    ("bitbucket-pipelines", "BITBUCKET_BUILD_NUMBER", None),
    ("aws-codebuild", "CODEBUILD_BUILD_ID", None),
    ("teamcity", "TEAMCITY_VERSION", None),
)
CI_PROVIDER_NAMES = (*tuple(dict.fromkeys(name for name, _, _ in CI_PROVIDERS)), "other")

#: (agent, variable, required value or None): coding agents mark the shells they run.
AGENT_MARKERS: tuple[tuple[str, str, str | None], ...] = (
    ("claude-code", "CLAUDECODE", None),
    ("cursor-agent", "CURSOR_AGENT", None),
    ("codex", "CODEX_SANDBOX", None),
    ("codex", "CODEX_MANAGED_BY_NPM", None),
    ("gemini-cli", "GEMINI_CLI", None),
    ("opencode", "OPENCODE", None),
    ("aider", "AIDER_MODEL", None),
    ("cline", "CLINE_ACTIVE", None),
    ("github-copilot", "COPILOT_AGENT", None),
)
AGENT_NAMES = tuple(dict.fromkeys(name for name, _, _ in AGENT_MARKERS))

_OS_NAMES = {"linux": "linux", "darwin": "macos", "win32": "windows", "cygwin": "windows"}
_ARCH_NAMES = {
    "x86_64": "x86_64",
    "amd64": "x86_64",
    "i386": "x86",
    "i686": "x86",
    "x86": "x86",
    "aarch64": "arm64",
    "arm64": "arm64",
    "armv7l": "arm",
    "armv6l": "arm",
    "ppc64le": "ppc64le",
    "s390x": "s390x",
    "riscv64": "riscv64",
}


def is_true(value: str | None) -> bool:
    """``1/true/yes/y/on`` in any case and with surrounding spaces count as true."""
    return value is not None and value.strip().lower() in TRUE_WORDS


def hard_off_reason(environ: Mapping[str, str]) -> str | None:
    """The name of the variable that blocks recording, or None."""
    for name in HARD_OFF_VARIABLES:
        if is_true(environ.get(name)):
            return name
    return None


def _matches(environ: Mapping[str, str], variable: str, required: str | None) -> bool:
    value = environ.get(variable)
    if not value:
        return False
    return required is None or value.strip().lower() == required


def ci_provider(environ: Mapping[str, str]) -> str | None:
    """The CI service running this process, ``other`` for a generic ``CI=true``, else None."""
    for name, variable, required in CI_PROVIDERS:
        if _matches(environ, variable, required):
            return name
    if is_true(environ.get("CI")) or is_true(environ.get("CONTINUOUS_INTEGRATION")):
        return "other"
    return None


def in_container(environ: Mapping[str, str], exists: Callable[[str], bool]) -> bool:
    """Whether this process seems to run in a container (marker files or variables)."""
    if environ.get("container") or environ.get("KUBERNETES_SERVICE_HOST"):
        return True
    return exists("/.dockerenv") or exists("/run/.containerenv")


def invocation_source(environ: Mapping[str, str], *, interactive: bool) -> tuple[str, str | None]:
    """``("agent", NAME)`` for a known coding agent, else ``("terminal", None)`` when
    a person is at a terminal, else ``("unknown", None)``."""
    for name, variable, required in AGENT_MARKERS:
        if _matches(environ, variable, required):
            return "agent", name
    return ("terminal", None) if interactive else ("unknown", None)


def is_interactive() -> bool:
    try:
        return sys.stdin.isatty() and sys.stdout.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def os_name() -> str:
    return _OS_NAMES.get(sys.platform, "freebsd" if sys.platform.startswith("freebsd") else "other")


def arch_name() -> str:
    # platform costs `localtelemetry run --telemetry` 7 ms to import; os.uname() is
    # what platform.machine() reads on POSIX.
    uname = getattr(os, "uname", None)
    if uname is not None:
        machine = uname().machine
    else:
        import platform

        machine = platform.machine()
    return _ARCH_NAMES.get(machine.lower(), "other")


def python_version() -> str:
    v = sys.version_info
    return f"{v.major}.{v.minor}.{v.micro}"


def describe(
    environ: Mapping[str, str],
    *,
    interactive: bool | None = None,
    exists: Callable[[str], bool] = os.path.exists,
) -> dict[str, object]:
    """The ``environment`` object of the document envelope."""
    tty = is_interactive() if interactive is None else interactive
    provider = ci_provider(environ)
    if provider is not None:
        context = "ci"
    elif in_container(environ, exists):
        context = "container"
    else:
        context = "local"
    source, agent = invocation_source(environ, interactive=tty)
    return {
        "os": os_name(),
        "arch": arch_name(),
        "python": python_version(),
        "runtime_context": context,
        "ci_provider": provider,
        "invocation_source": source,
        "agent": agent,
        "interactive": tty,
    }


# -- the off switch ----------------------------------------------------------------------

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
