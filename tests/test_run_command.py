"""`localtelemetry run -- CMD`: a transparent wrapper around real child programs
(tests/child_program.py), run as real subprocesses, and what it records."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from localtelemetry._cli.wrap import default_app_name, describe_arguments, looks_like_path

from conftest import TESTS, all_files, clean_env, store_documents

CHILD = TESTS / "child_program.py"
POSIX = pytest.mark.skipif(os.name != "posix", reason="POSIX signals and exit statuses")


def child(*args: str) -> list[str]:
    return [sys.executable, str(CHILD), *args]


def wrap(*args: str) -> list[str]:
    return [sys.executable, "-m", "localtelemetry", "run", *args]


def run(cmd: list[str], env: dict[str, str], **kw: Any) -> subprocess.CompletedProcess[bytes]:
    kw.setdefault("capture_output", True)
    return subprocess.run(cmd, env=env, timeout=30, check=False, **kw)


def wait_ready(report: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if report.exists() and "ready" in report.read_text():
            return
        time.sleep(0.01)
    raise AssertionError("the child never got ready")


def one_line(stderr: bytes) -> str:
    text = stderr.decode()
    assert text.endswith("\n") and text.count("\n") == 1, text
    return text


# -- transparency -------------------------------------------------------------------


def test_output_passes_through_byte_for_byte(base: Path, home: Path) -> None:
    env = clean_env(base, home)
    direct = run(child("print"), env)
    wrapped = run(wrap("--", *child("print")), env)
    assert wrapped.returncode == direct.returncode == 0
    assert wrapped.stdout == direct.stdout and len(direct.stdout) > 100_000
    assert wrapped.stderr == direct.stderr and b"err 2\r\n" in direct.stderr
    # One pipe for both: the order of the writes survives too (nothing buffers them).
    direct = run(
        child("print"), env, capture_output=False, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    wrapped = run(
        wrap("--telemetry", "--app", "child", "--", *child("print")),
        env,
        capture_output=False,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert wrapped.stdout == direct.stdout


def test_arguments_reach_the_child_untouched(base: Path, home: Path) -> None:
    tricky = ["--telemetry", "--app", "x", "--", "--help", "-la", "--color=auto", "", "a b", "ünï"]
    result = run(wrap("--", *child("argv", *tricky)), clean_env(base, home))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == tricky
    assert not base.exists()  # the child's --telemetry is the child's, not ours


@pytest.mark.skipif(shutil.which("ls") is None, reason="needs ls")
def test_ls_with_options_passes_through(base: Path, home: Path, tmp_path: Path) -> None:
    (tmp_path / "some file.txt").write_text("x")
    env = clean_env(base, home)
    direct = run(["ls", "-la", "--color=auto", str(tmp_path)], env)
    wrapped = run(wrap("--", "ls", "-la", "--color=auto", str(tmp_path)), env)
    assert (wrapped.returncode, wrapped.stdout, wrapped.stderr) == (
        direct.returncode,
        direct.stdout,
        direct.stderr,
    )


def test_stdin_passes_through(base: Path, home: Path) -> None:
    data = bytes(range(256)) * 1000
    result = run(wrap("--", *child("echo")), clean_env(base, home), input=data)
    assert result.returncode == 0 and result.stdout == data


@pytest.mark.parametrize("code", [0, 2, 3])
def test_exit_code_is_the_childs(base: Path, home: Path, code: int) -> None:
    result = run(wrap("--", *child("exit", str(code))), clean_env(base, home))
    assert result.returncode == code and result.stderr == b""


@POSIX
@pytest.mark.parametrize(("name", "code"), [("SIGTERM", 143), ("SIGKILL", 137)])
def test_death_by_signal_is_128_plus_n(base: Path, home: Path, name: str, code: int) -> None:
    result = run(wrap("--", *child("kill", name)), clean_env(base, home))
    assert result.returncode == code


def test_missing_program_is_127(base: Path, home: Path) -> None:
    result = run(wrap("--telemetry", "--", "no-such-program-xyz", "arg"), clean_env(base, home))
    assert result.returncode == 127
    assert "no-such-program-xyz" in one_line(result.stderr)
    assert not base.exists()  # no program ran, nothing is recorded


@POSIX
def test_program_that_is_not_executable_is_126(base: Path, home: Path, tmp_path: Path) -> None:
    script = tmp_path / "not-executable"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o644)
    result = run(wrap("--", str(script)), clean_env(base, home))
    assert result.returncode == 126 and result.stdout == b""
    assert "permission denied" in one_line(result.stderr)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ([], "put '--' before the command"),
        (["echo", "hi"], "put '--' before the command"),
        (["--telemetry"], "put '--' before the command"),
        (["--"], "no command after '--'"),
        (["--telemetry", "--app", "x", "--"], "no command after '--'"),
        (["--app", "bad name", "--", "true"], "not a valid app name"),
        (["--app", "nb\n", "--", "true"], "not a valid app name"),  # `$` allowed this
        (["--bogus", "--", "true"], "No such option: --bogus"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(
    base: Path, home: Path, args: list[str], words: str
) -> None:
    result = run(wrap(*args), clean_env(base, home))
    assert result.returncode == 2 and result.stdout == b""
    line = one_line(result.stderr)
    assert line.startswith("error: ") and words in line
    assert not base.exists()


@POSIX
def test_a_program_not_on_path_records_under_a_hashed_name(
    base: Path, home: Path, tmp_path: Path
) -> None:
    program = tmp_path / "my program"
    program.write_text("#!/bin/sh\necho ran\n")
    program.chmod(0o755)
    env = clean_env(base, home)
    assert run(wrap("--", str(program)), env).stdout == b"ran\n"  # no name needed
    result = run(wrap("--telemetry", "--", str(program)), env)
    assert result.returncode == 0 and result.stdout == b"ran\n" and result.stderr == b""
    (store,) = [p for p in base.iterdir() if p.name.startswith("run-")]
    assert len(store_documents(store)) == 2
    result = run(wrap("--telemetry", "--app", "mine", "--", str(program)), env)
    assert result.returncode == 0 and result.stdout == b"ran\n"
    assert len(store_documents(base / "mine")) == 2


def test_help(base: Path, home: Path) -> None:
    result = run(wrap("--help"), clean_env(base, home))
    assert result.returncode == 0
    assert b"Usage: localtelemetry run [OPTIONS] -- CMD [ARGS]..." in result.stdout


# -- signals --------------------------------------------------------------------------


def _signal_wrapper(
    base: Path, home: Path, report: Path, signum: int, *child_args: str
) -> tuple[int, list[str]]:
    # A new session has no controlling terminal: a signal can only come from os.kill.
    proc = subprocess.Popen(
        wrap("--", *child("wait", str(report), *child_args)),
        env=clean_env(base, home),
        start_new_session=True,
    )
    try:
        wait_ready(report)
        os.kill(proc.pid, signum)  # the wrapper's pid only, not its process group
        code = proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return code, report.read_text().split()


@POSIX
def test_sigterm_is_forwarded(base: Path, home: Path, tmp_path: Path) -> None:
    code, seen = _signal_wrapper(base, home, tmp_path / "signals", signal.SIGTERM)
    assert seen == ["ready", "SIGTERM"]
    assert code == 128 + signal.SIGTERM


@POSIX
def test_sighup_is_forwarded_and_the_childs_exit_code_wins(
    base: Path, home: Path, tmp_path: Path
) -> None:
    code, seen = _signal_wrapper(base, home, tmp_path / "signals", signal.SIGHUP, "7")
    assert seen == ["ready", "SIGHUP"]
    assert code == 7


@POSIX
def test_sigint_sent_to_the_wrapper_alone_is_forwarded(
    base: Path, home: Path, tmp_path: Path
) -> None:
    code, seen = _signal_wrapper(base, home, tmp_path / "signals", signal.SIGINT)
    assert seen == ["ready", "SIGINT"]
    assert code == 130


def _on_a_terminal(env: dict[str, str], argv: list[str]) -> tuple[subprocess.Popen[bytes], int]:
    """Run ``argv`` as the leader of a new session whose controlling terminal is a fresh
    pty, as a shell does in a terminal window. Returns it and the pty's master side."""
    master, slave = os.openpty()
    launcher = (
        "import fcntl, os, sys, termios; os.setsid(); fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
        "os.execv(sys.argv[1], sys.argv[1:])"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", launcher, *argv], env=env, stdin=slave, stdout=slave, stderr=slave
    )
    os.close(slave)
    return proc, master


def _drain(master: int) -> bytes:
    data = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the terminal's last user is gone
            break
        if not chunk:
            break
        data += chunk
    os.close(master)
    return data


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pty job control as on Linux")
def test_ctrl_c_on_a_terminal_reaches_the_child_once(
    base: Path, home: Path, tmp_path: Path
) -> None:
    report = tmp_path / "signals"
    proc, master = _on_a_terminal(clean_env(base, home), wrap("--", *child("count", str(report))))
    try:
        wait_ready(report)
        os.write(master, b"\x03")  # Ctrl-C: the terminal signals its foreground group
        code = proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        _drain(master)
    assert report.read_text().split() == ["ready", "SIGINT"]  # not twice
    assert code == 130


DECIDE = """
import subprocess, sys
from localtelemetry._cli.wrap import _Forwarder
forwarder = _Forwarder()
forwarder.install()
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(10)"])
forwarder.started(child.pid)
print("heard-terminal", forwarder._child_heard_terminal(child.pid))
child.kill()
child.wait()
forwarder.restore()
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pty job control as on Linux")
def test_keyboard_signals_are_not_forwarded_when_the_terminal_sent_them_to_the_child(
    base: Path, home: Path
) -> None:
    # The exact-count test above cannot always tell: a duplicate that arrives while the
    # first is still pending merges with it. So check the decision itself, both ways.
    env = clean_env(base, home)
    proc, master = _on_a_terminal(env, [sys.executable, "-c", DECIDE])
    assert proc.wait(timeout=10) == 0
    assert b"heard-terminal True" in _drain(master)
    alone = subprocess.run(
        [sys.executable, "-c", DECIDE],
        env=env,
        capture_output=True,
        start_new_session=True,  # no controlling terminal: SIGINT can only be a kill
        timeout=10,
        check=True,
    )
    assert b"heard-terminal False" in alone.stdout


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pty as on Linux")
def test_the_child_keeps_the_terminal(base: Path, home: Path) -> None:
    proc, master = _on_a_terminal(clean_env(base, home), wrap("--", *child("isatty")))
    code = proc.wait(timeout=10)
    output = _drain(master)
    assert code == 0
    assert b"0:True 1:True 2:True" in output


# -- recording ------------------------------------------------------------------------


def test_without_telemetry_nothing_is_written(base: Path, home: Path) -> None:
    result = run(wrap("--app", "child", "--", *child("exit", "3")), clean_env(base, home))
    assert result.returncode == 3
    assert not base.exists()
    assert all_files(home) == []


@pytest.mark.parametrize("variable", ["DO_NOT_TRACK", "LOCALTELEMETRY_DISABLED"])
def test_hard_off_blocks_recording(base: Path, home: Path, variable: str) -> None:
    env = clean_env(base, home, **{variable: "Yes"})
    result = run(wrap("--telemetry", "--app", "child", "--", *child("print")), env)
    direct = run(child("print"), env)
    assert result.returncode == 0 and result.stdout == direct.stdout
    extra = result.stderr.replace(direct.stderr, b"", 1)
    assert f"{variable} is set" in one_line(extra)
    assert not base.exists() and all_files(home) == []


def test_records_the_child_and_no_argument_value(base: Path, home: Path, tmp_path: Path) -> None:
    planted_path = f"{home}/private/PLANTED-notes.txt"
    secret = "hunter2-PLANTED"
    tool = tmp_path / "tool"
    tool.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{CHILD}" exit 3\n')
    tool.chmod(0o755)
    args = [
        "build",
        f"--password={secret}",
        "-v",
        "-pPLANTEDshort",
        "--user",
        "plantedperson",
        planted_path,
        "plantedvalue",
        "--",
        "--planted-after-dashes",
    ]
    result = run(
        wrap("--telemetry", "--app", "tool", "--", str(tool), *args), clean_env(base, home)
    )
    assert result.returncode == 3
    assert result.stderr == b""
    documents = store_documents(base / "tool")
    assert sorted(d["kind"] for d in documents) == ["cli-command", "run-summary"]
    (command,) = (d for d in documents if d["kind"] == "cli-command")
    assert command["app"] == {"name": "tool", "version": "unknown"}
    payload = command["payload"]
    assert payload["command_path"] == ["build"] and payload["command_family"] == "build"
    assert payload["flags"] == ["--password", "-v", "-p", "--user"]
    assert [(p["name"], p["type"]) for p in payload["parameters"]] == [
        ("option-value", "string"),
        ("option-value", "string"),
        ("argument", "string"),
        ("argument", "path"),
        ("argument", "string"),
        ("argument", "string"),
    ]
    path = payload["parameters"][3]["paths"][0]
    assert path["extension"] == ".txt" and path["under_home"] is True
    assert (payload["exit_code"], payload["outcome"]) == (3, "failure")
    assert (payload["error_kind"], payload["failure_stage"]) == ("Exit", "exit")
    blob = b"".join(p.read_bytes() for p in all_files(base))
    for planted in (b"PLANTED", b"planted", b"hunter2", str(home).encode(), b"private"):
        assert planted not in blob, planted


@POSIX
def test_run_summary_measures_the_child(base: Path, home: Path) -> None:
    result = run(
        wrap("--telemetry", "--app", "child", "--", *child("memory", "100", "0.3")),
        clean_env(base, home),
    )
    assert result.returncode == 0, result.stderr
    documents = store_documents(base / "child")
    (summary,) = (d["payload"] for d in documents if d["kind"] == "run-summary")
    assert summary["documents"] == {"cli-command": 1, "build": 0, "snapshot": 0}
    assert summary["exit_code"] == 0 and summary["outcome"] == "success"
    # The child touched 100 MiB; the wrapper itself stays far below that.
    assert summary["peak_rss_kib"] >= 100 * 1024
    assert summary["cpu_user_ms"] + summary["cpu_system_ms"] >= 250
    assert summary["duration_ms"] >= 300


@POSIX
@pytest.mark.parametrize(
    ("name", "code", "outcome"),
    [("SIGKILL", 137, "failure"), ("SIGINT", 130, "interrupted")],
)
def test_death_by_signal_is_recorded(
    base: Path, home: Path, name: str, code: int, outcome: str
) -> None:
    result = run(
        wrap("--telemetry", "--app", "child", "--", *child("kill", name)), clean_env(base, home)
    )
    assert result.returncode == code
    documents = store_documents(base / "child")
    (payload,) = (d["payload"] for d in documents if d["kind"] == "cli-command")
    assert (payload["exit_code"], payload["outcome"]) == (code, outcome)
    assert (payload["error_kind"], payload["failure_stage"]) == (name, "exit")
    assert payload["command_path"] == []  # the first argument is a path (the script)


def test_a_broken_store_changes_nothing_but_one_stderr_line(
    base: Path, home: Path, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    env = clean_env(blocker, home)
    direct = run(child("print"), env)
    result = run(wrap("--telemetry", "--app", "child", "--", *child("print")), env)
    assert result.returncode == 0 and result.stdout == direct.stdout
    extra = result.stderr.replace(direct.stderr, b"", 1)
    assert "child: telemetry: could not" in one_line(extra)


# -- the argument rules, in-process ---------------------------------------------------


def test_subcommand_is_a_plain_first_word_not_owned_by_an_option() -> None:
    assert describe_arguments(["build", "x"]).subcommand == "build"
    assert describe_arguments(["--verbose=1", "run-all"]).subcommand == "run-all"
    assert describe_arguments(["Build"]).subcommand is None
    assert describe_arguments(["./build"]).subcommand is None
    assert describe_arguments(["-C", "repo", "status"]).subcommand is None
    assert describe_arguments(["--user", "alice", "login"]).subcommand is None
    assert describe_arguments(["src", "build"]).subcommand == "src"
    assert describe_arguments(["--", "build"]).subcommand is None


def test_option_names_are_kept_and_values_are_not() -> None:
    described = describe_arguments(
        ["--password=x", "-v", "-la", "-o=out.txt", "-5", "-", "--we.ird", "--", "-v2"]
    )
    assert described.flags == ["--password", "-v", "-l", "-o"]
    assert described.values == [
        ("option-value", "string", "x"),
        ("option-value", "string", "a"),
        ("option-value", "string", "out.txt"),
        ("argument", "string", "-5"),
        ("argument", "string", "-"),
        ("argument", "string", "--we.ird"),  # not a name we keep: hashed whole
        ("argument", "string", "-v2"),
    ]


def test_path_heuristic_needs_no_file_system() -> None:
    assert looks_like_path("src/main.c") and looks_like_path("./x") and looks_like_path("..")
    assert looks_like_path("~/notes") and looks_like_path(".env")
    assert not looks_like_path("main.c") and not looks_like_path("hunter2")


def test_default_app_name() -> None:
    def which(name: str) -> str | None:
        return f"/bin/{name}"

    assert default_app_name("make", which=which) == "make"
    assert default_app_name("./my tool", which=which) is None
    assert default_app_name("ünï", which=which) is None


def test_recorded_runs_apply_retention(base: Path, home: Path) -> None:
    from localtelemetry._contract import new_id
    from localtelemetry._store import StoreLocation
    from localtelemetry._store.store import Store

    store = Store(StoreLocation("child", base=base))
    old_ms = int(time.time() * 1000) - 40 * 86_400_000  # older than the 30-day limit
    for i in range(1005):  # and more than the 1,000-document limit
        store.write_bytes("build", new_id(old_ms + i, random_bytes=os.urandom(10)), b"{}")
    hour_ago_ms = int(time.time() * 1000) - 3_600_000
    for i in range(3):  # recent ones: pruning by age is not a clock that jumped ahead
        store.write_bytes("snapshot", new_id(hour_ago_ms + i, random_bytes=os.urandom(10)), b"{}")
    env = clean_env(base, home)
    proc = run(wrap("--telemetry", "--app", "child", "--", *child("exit", "0")), env)
    assert proc.returncode == 0 and proc.stderr == b"", proc.stderr
    kinds = sorted(p.name.rsplit("-", 1)[0] for p in (base / "child").glob("*.json"))
    # The expired documents went; the recent ones and the run's own two stayed.
    assert kinds == ["cli-command", "run-summary", "snapshot", "snapshot", "snapshot"]
