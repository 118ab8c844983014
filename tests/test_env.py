"""Environment detection maps variables onto fixed vocabularies, never raw values."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from localtelemetry._record import (
    AGENT_MARKERS,
    AGENT_NAMES,
    CI_PROVIDER_NAMES,
    CI_PROVIDERS,
    ci_provider,
    describe,
    hard_off_reason,
    invocation_source,
    is_true,
)


@pytest.mark.parametrize(("provider", "variable", "value"), CI_PROVIDERS)
def test_each_ci_provider_is_detected(provider: str, variable: str, value: str | None) -> None:
    env = {variable: value or "something"}
    assert ci_provider(env) == provider
    assert describe(env, interactive=False, exists=lambda p: False)["runtime_context"] == "ci"


def test_generic_ci_and_none() -> None:
    assert ci_provider({"CI": "true"}) == "other"
    assert ci_provider({}) is None
    assert ci_provider({"GITHUB_ACTIONS": "false"}) is None


@pytest.mark.parametrize(("agent", "variable", "value"), AGENT_MARKERS)
def test_each_agent_is_detected(agent: str, variable: str, value: str | None) -> None:
    assert invocation_source({variable: value or "1"}, interactive=True) == ("agent", agent)


def test_terminal_or_unknown() -> None:
    assert invocation_source({}, interactive=True) == ("terminal", None)
    assert invocation_source({}, interactive=False) == ("unknown", None)


def test_container_and_local() -> None:
    assert (
        describe({}, interactive=False, exists=lambda p: p == "/.dockerenv")["runtime_context"]
        == "container"
    )
    assert (
        describe({"container": "podman"}, interactive=False, exists=lambda p: False)[
            "runtime_context"
        ]
        == "container"
    )
    assert describe({}, interactive=False, exists=lambda p: False)["runtime_context"] == "local"


@given(
    st.dictionaries(
        st.sampled_from(["CI", "GITLAB_CI", "CLAUDECODE", "container", "HOME", "TF_BUILD", "USER"]),
        st.text(max_size=30),
    )
)
def test_describe_never_copies_a_value(environ: dict[str, str]) -> None:
    result = describe(environ, interactive=False, exists=lambda p: False)
    vocabulary = {
        *CI_PROVIDER_NAMES,
        *AGENT_NAMES,
        "ci",
        "local",
        "container",
        "terminal",
        "agent",
        "unknown",
        "None",
        "True",
        "False",
        str(result["os"]),
        str(result["arch"]),
        str(result["python"]),
    }
    for value in environ.values():
        if value not in vocabulary:
            assert value not in {str(v) for v in result.values()}


@pytest.mark.parametrize("value", ["1", "true", "True", "YES", "y", "on", " on "])
def test_true_words(value: str) -> None:
    assert is_true(value)
    assert hard_off_reason({"DO_NOT_TRACK": value}) == "DO_NOT_TRACK"


@pytest.mark.parametrize("value", [None, "", "0", "false", "no", "off", "2", "enable"])
def test_not_true_words(value: str | None) -> None:
    assert not is_true(value)
