"""`localtelemetry run` keeps nothing of the command line in clear unless it is safe by
construction (issue 11, finding 4): the app name is the program's base name only when
the program was found on PATH, subcommand and flag names only when they are plain
lowercase words (or words the user declared with --keep-word); the rest is hashed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from localtelemetry._cli.wrap import default_app_name, describe_arguments, is_plain_word

from conftest import TESTS, all_files, clean_env, store_documents

CHILD = TESTS / "child_program.py"
POSIX = pytest.mark.skipif(os.name != "posix", reason="shell scripts as programs")
GHP = "ghp_" + "Zq9" * 12
AKIA = "AKIAIOSFODNN7EXAMPLE"


def _wrap(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "localtelemetry", "run", *args],
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )


def _script(directory: Path, name: str, code: int = 3) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    program = directory / name
    program.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{CHILD}" exit {code}\n')
    program.chmod(0o755)
    return program


def _everything(base: Path) -> bytes:
    """Every byte and every file name under the store base."""
    files = all_files(base)
    return b"".join(p.read_bytes() for p in files) + "\n".join(map(str, files)).encode()


def _only_store(base: Path) -> Path:
    stores = [p for p in base.iterdir() if p.is_dir() and any(p.glob("*.json"))]
    assert len(stores) == 1, stores
    return stores[0]


@POSIX
def test_nothing_of_a_personal_command_line_is_kept(tmp_path: Path, home: Path) -> None:
    base = tmp_path / "store"
    program = _script(tmp_path / "jane-secret-plans", "qz-deploy-acme.sh")
    args = ["build-host-03", f"--{GHP}", f"--{AKIA}=x", "--QzUser", "-v", "--dry-run"]
    result = _wrap(clean_env(base, home), "--telemetry", "--", str(program), *args)
    assert result.returncode == 3 and result.stderr == b"", result.stderr
    blob = _everything(base)
    for planted in ("qz-deploy", "acme", "jane-secret", "build-host-03", GHP, AKIA, "QzUser"):
        for form in {planted, planted.lower(), planted.upper()}:
            assert form.encode() not in blob, form
    store = _only_store(base)
    assert store.name.startswith("run-") and len(store.name) == 20
    (command,) = [d for d in store_documents(store) if d["kind"] == "cli-command"]
    assert command["app"]["name"] == store.name  # type: ignore[index]
    payload = command["payload"]
    assert payload["command_path"] == []  # type: ignore[index]
    assert payload["flags"] == ["-v", "--dry-run"]  # type: ignore[index]
    hashed = [p for p in payload["parameters"] if p["name"] == "argument"]  # type: ignore[index]
    assert len(hashed) == 4  # the host, two token-shaped flags and --QzUser
    # The same program records into the same store next time, from any directory.
    again = _wrap(clean_env(base, home), "--telemetry", "--", os.path.relpath(program))
    assert again.returncode == 3
    assert _only_store(base) == store


@POSIX
def test_a_program_found_on_path_keeps_its_name(tmp_path: Path, home: Path) -> None:
    base = tmp_path / "store"
    bin_dir = tmp_path / "bin"
    _script(bin_dir, "qztool")
    env = clean_env(base, home, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    assert _wrap(env, "--telemetry", "--", "qztool", "status").returncode == 3
    assert _wrap(env, "--telemetry", "--", str(bin_dir / "qztool"), "status").returncode == 3
    commands = [d for d in store_documents(base / "qztool") if d["kind"] == "cli-command"]
    assert [c["payload"]["command_path"] for c in commands] == [["status"], ["status"]]  # type: ignore[index]
    # A program of the same name that PATH does not find is not that program.
    other = _script(tmp_path / "elsewhere", "qztool")
    assert _wrap(env, "--telemetry", "--", str(other)).returncode == 3
    assert len(store_documents(base / "qztool")) == 4


@POSIX
def test_keep_word_declares_words_to_keep(tmp_path: Path, home: Path) -> None:
    base = tmp_path / "store"
    env = clean_env(base, home)
    program = _script(tmp_path / "bin", "mk", 0)
    keep = ["--keep-word", "build2", "--keep-word", "with_x11", "--app", "mk"]
    for words in ([], keep):
        args = ["--telemetry", *words, "--", str(program), "build2", "--with_x11", "--quiet"]
        result = _wrap(env, *args)
        assert result.returncode == 0, result.stderr
    store = base / "mk" if (base / "mk").exists() else _only_store(base)
    commands = [d["payload"] for d in store_documents(base / "mk") if d["kind"] == "cli-command"]
    assert [(c["command_path"], c["flags"]) for c in commands] == [(["build2"], ["--with_x11", "--quiet"])]  # type: ignore[index]  # fmt: skip
    others = [p for p in base.iterdir() if p.name.startswith("run-")]
    (plain,) = [d["payload"] for d in store_documents(others[0]) if d["kind"] == "cli-command"]
    assert (plain["command_path"], plain["flags"]) == ([], ["--quiet"])  # type: ignore[index]
    assert store
    bad = _wrap(env, "--keep-word", "a b", "--", "true")
    assert bad.returncode == 2 and b"--keep-word" in bad.stderr


def test_the_users_own_names_are_not_kept_as_a_subcommand() -> None:
    assert describe_arguments(["status"]).subcommand == "status"
    assert describe_arguments(["jdoe"], identity={"jdoe"}).subcommand is None
    assert describe_arguments(["qzbox"], identity={"qzbox"}).values == [
        ("argument", "string", "qzbox")
    ]


@pytest.mark.parametrize(
    "word",
    ["build", "status", "dry-run", "reset-key", "x", "install", "a" * 32],
)
def test_plain_words(word: str) -> None:
    assert is_plain_word(word)


@pytest.mark.parametrize(
    "word",
    [
        "build-host-03",
        "Build",
        "ghp_abc",
        "build2",
        "a" * 33,
        "-build",
        "build-",
        "a--b",
        "xkcdqzvt",  # five consonants in a row: not a word
        "",
    ],
)
def test_not_plain_words(word: str) -> None:
    assert not is_plain_word(word)
    assert is_plain_word(word, keep=frozenset({word})) is bool(word)


def test_flags_are_kept_only_when_plain() -> None:
    described = describe_arguments(
        ["--dry-run", f"--{GHP}", "--User", "-X", "--http2", "-pSECRET", "--we_ird=1"]
    )
    assert described.flags == ["--dry-run", "-X", "-p"]
    assert [v for _, _, v in described.values] == [f"--{GHP}", "--User", "--http2", "SECRET", "--we_ird=1"]  # fmt: skip


def test_default_app_name_needs_the_program_on_path(tmp_path: Path) -> None:
    found = {"make": "/usr/bin/make"}

    def which(name: str) -> str | None:
        return found.get(name)

    assert default_app_name("make", which=which) == "make"
    assert default_app_name("qz-private-script", which=which) is None
    assert default_app_name("./make", which=which) is None  # not the file PATH finds
