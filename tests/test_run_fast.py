"""`localtelemetry run` without Typer (issue 14): the console script reads run's command
line itself when it is plain, imports neither Typer nor Click, and behaves exactly as
the Typer command does; anything it does not handle goes to the Typer CLI."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from localtelemetry._cli import runcmd as _runcmd
from localtelemetry._cli.app import make_app
from localtelemetry._cli.runcmd import RunOptions, parse

from conftest import ROOT, clean_env

#: Never imported by a plain `run` command line.
NOT_FOR_RUN = (
    "typer",
    "click",
    "pydantic",
    "rich",
    "localtelemetry._cli.app",
    "localtelemetry._cli.commands",
    "localtelemetry._record.recorder",
    "subprocess",
    "typing",
    "pathlib",
    "dataclasses",
)

#: Runs the console script's entry point, then prints the modules it imported.
PROBE = r"""
import json, sys
sys.argv = ["localtelemetry", *sys.argv[1:]]
from localtelemetry.__main__ import main
try:
    main()
except SystemExit as done:
    code = done.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""

#: The Typer CLI alone, as `localtelemetry` ran before the fast path.
TYPER_ONLY = (
    "import sys\n"
    "from localtelemetry._cli.app import _invoke, make_app\n"
    "_invoke(make_app(None), sys.argv[1:], 'localtelemetry')\n"
)


def _probe(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, set[str]]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    report = json.loads(proc.stderr.strip().splitlines()[-1])
    return report["code"], set(report["modules"])


@pytest.mark.parametrize(
    "args",
    [
        ["run", "--", "true"],
        ["run", "--telemetry", "--", "true"],
        ["run", "--telemetry", "--app", "fastapp", "--keep-word", "build", "--", "true"],
        ["run", "--format", "json", "--", "true"],
        ["run", "--telemetry", "--format=json", "-o", "result.json", "--", "false"],
    ],
)
def test_run_imports_neither_typer_nor_click(args: list[str], base: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    if "--telemetry" in args:  # a store in use: the first run's full retention pass is done
        _probe(args, clean_env(base, home), tmp_path)
        (tmp_path / "result.json").unlink(missing_ok=True)
    code, modules = _probe(args, clean_env(base, home), tmp_path)
    assert code == (1 if "false" in args else 0)
    assert "localtelemetry._cli.runcmd" in modules  # it really went the fast way
    assert [m for m in NOT_FOR_RUN if m in modules and m not in _needed(args)] == []
    if "--telemetry" in args:  # and it really recorded
        assert list(base.glob("*/run-summary-*.json"))


def _needed(args: list[str]) -> set[str]:
    """A recorded run loads the recorder; -o and --format json load the output helpers,
    which use pathlib and typing (still no Typer)."""
    needed = {"localtelemetry._record.recorder"} if "--telemetry" in args else set()
    if "-o" in args or any(a.startswith("--format") for a in args):
        needed |= {"typing", "pathlib"}
    return needed


@pytest.mark.parametrize(
    "args",
    [
        ["run", "--help"],
        ["run", "true"],  # no '--'
        ["run", "--bogus", "--", "true"],
        ["run", "-o", "json", "--", "true"],
        ["run", "--format", "xml", "--", "true"],
        ["run", "--app", "--", "true"],
    ],
)
def test_what_the_fast_path_does_not_handle_goes_to_typer(
    args: list[str], base: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    code, modules = _probe(args, clean_env(base, home), tmp_path)
    assert code == (0 if "--help" in args else 2)
    assert "typer" in modules and "localtelemetry._cli.app" in modules


def test_the_console_script_is_the_fast_entry_point() -> None:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    (entry,) = re.findall(r'^localtelemetry = "([^"]+)"$', text, re.MULTILINE)
    assert entry == "localtelemetry.__main__:main"


# -- the same options as Typer ----------------------------------------------------------

WORDS = [
    "--telemetry",
    "--force",
    "--app",
    "--app=x",
    "--app=",
    "mine",
    "--keep-word",
    "--keep-word=w",
    "build",
    "--format",
    "--format=json",
    "--format=text",
    "json",
    "text",
    "JSON",
    "-o",
    "-ofile",
    "-o=f",
    "-o-",
    "--output",
    "--output=out.txt",
    "--output=json",
    "out.txt",
    "",
    "-",
    "-x",
    "-h",
    "--help",
    "--tele",
    "--telemetry=1",
    "--bogus",
]


def _typer_options(args: list[str], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any] | None:
    """The options the Typer command `run` hands to ``execute``; None when Typer
    refused the command line (or printed help)."""
    seen: list[RunOptions] = []

    def capture(options: RunOptions) -> int:
        seen.append(options)
        return 0

    monkeypatch.setattr(_runcmd, "execute", capture)
    result = CliRunner().invoke(make_app(None), ["run", *args])
    if not seen:
        assert result.exit_code in (0, 2), result.output
        return None
    return _normal(seen[0])


def _normal(options: RunOptions) -> dict[str, Any]:
    found = options.as_dict()
    found["keep_word"] = list(options.keep_word or [])  # Typer: None or a list
    return found


@given(
    st.lists(st.sampled_from(WORDS), max_size=6),
    st.sampled_from([[], ["true"], ["prog", "--app", "-o", "json", "--help"]]),
    st.booleans(),
)
@settings(max_examples=300, deadline=None)
def test_the_fast_parser_reads_what_typer_reads(
    head: list[str], command: list[str], dashes: bool
) -> None:
    args = [*head, "--", *command] if dashes else head
    fast = parse(args)
    with pytest.MonkeyPatch.context() as monkeypatch:
        typer_found = _typer_options(args, monkeypatch)
    if fast is not None:
        assert typer_found == _normal(fast), args


@pytest.mark.parametrize(
    "args",
    [
        ["--", "true"],
        ["--telemetry", "--app", "x", "--keep-word", "a", "--keep-word=b", "--", "make", "-j"],
        ["--format", "json", "-o", "f.json", "--force", "--", "true"],
        ["--output=f", "--format=text", "--", "x"],
        ["-ofile", "--app=", "--"],
    ],
)
def test_plain_command_lines_take_the_fast_path(args: list[str]) -> None:
    fast = parse(args)
    assert fast is not None
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert _typer_options(args, monkeypatch) == _normal(fast)


# -- the same behaviour as Typer ------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["run", "--"],
        ["run", "--app", "bad name", "--", "true"],
        ["run", "--format", "json", "--app", "bad name", "--", "true"],
        ["run", "--keep-word", "a b", "--", "true"],
        ["run", "-o", "exists.json", "--", "true"],
        ["run", "--format=json", "-o", "exists.json", "--", "true"],
        ["run", "--", "no-such-program-anywhere"],
        ["run", "--", sys.executable, "-c", "import sys; print('out'); sys.exit(7)"],
        ["run", "-o", "result.txt", "--", "true"],
    ],
)
def test_the_fast_path_behaves_as_the_typer_command(
    args: list[str], base: Path, tmp_path: Path
) -> None:
    outcomes = []
    for way in ("fast", "typer"):
        where = tmp_path / way
        home = where / "home"
        home.mkdir(parents=True)
        (where / "exists.json").write_text("{}\n")
        code = ["-m", "localtelemetry"] if way == "fast" else ["-c", TYPER_ONLY]
        proc = subprocess.run(
            [sys.executable, *code, *args],
            env=clean_env(base, home),
            cwd=where,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        files = {p.name: p.read_text() for p in where.iterdir() if p.is_file()}
        outcomes.append((proc.returncode, proc.stdout, proc.stderr, files))
    assert outcomes[0] == outcomes[1]


@pytest.mark.skipif(sys.platform == "win32", reason="the POSIX search")
@pytest.mark.parametrize("path", [None, "", ":", "/nonexistent", "BIN:/usr/bin", "/usr/bin::BIN"])
@pytest.mark.parametrize("name", ["sh", "prog", "dir", "plain", "no-such-program"])
def test_program_lookup_agrees_with_shutil_which(
    path: str | None, name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from localtelemetry._cli.wrap import _which

    bin_dir = tmp_path / "bin"
    (bin_dir / "dir").mkdir(parents=True)
    (bin_dir / "prog").write_text("#!/bin/sh\n")
    (bin_dir / "prog").chmod(0o755)
    (bin_dir / "plain").write_text("not executable\n")
    (tmp_path / "prog").write_text("#!/bin/sh\n")  # in the working directory
    (tmp_path / "prog").chmod(0o755)
    monkeypatch.chdir(tmp_path)
    if path is None:
        monkeypatch.delenv("PATH", raising=False)
    else:
        monkeypatch.setenv("PATH", path.replace("BIN", str(bin_dir)))
    assert _which(name) == shutil.which(name)
