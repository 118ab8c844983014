"""What the recorder learns about the machine and the environment, as coarse enums.

Nothing here returns a raw environment value: every function maps what it reads onto a
short, fixed vocabulary (a CI provider name, ``local``/``ci``/``container``, an agent
name), so no variable's content can reach a document.
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
