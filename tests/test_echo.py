"""LOCALTELEMETRY_ECHO=1: the live view. Each document goes to stderr as it is written,
byte for byte as stored, and only in runs that record."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import HOSTAPP, clean_env, store_documents


def _documents_in(stream: bytes) -> list[tuple[dict[str, object], bytes]]:
    """Split concatenated JSON documents; each with the exact bytes it came from."""
    decoder = json.JSONDecoder()
    text = stream.decode("utf-8")
    out = []
    position = 0
    while position < len(text):
        if text[position].isspace():
            position += 1
            continue
        value, end = decoder.raw_decode(text, position)
        if text[end : end + 1] == "\n":
            end += 1
        out.append((value, text[position:end].encode("utf-8")))
        position = end
    return out


def _run(tmp_path: Path, args: list[str], **extra: str) -> tuple[int, bytes, bytes]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = clean_env(tmp_path / "store", home, **extra)
    proc = subprocess.run(
        [sys.executable, str(HOSTAPP), *args],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    return proc.returncode, proc.stdout, proc.stderr


def test_echo_prints_each_document_exactly_as_stored(tmp_path: Path) -> None:
    code, out, err = _run(tmp_path, ["--telemetry", "ok", "src"], LOCALTELEMETRY_ECHO="1")
    assert code == 0
    assert out == b"ok src=src include=* jobs=1 verbose=False\n"  # stdout is untouched
    echoed = _documents_in(err)
    store = tmp_path / "store" / "hostapp"
    files = {p.name: p.read_bytes() for p in store.glob("*.json")}
    assert len(echoed) == len(files) == 4
    assert [d["kind"] for d, _ in echoed] == ["build", "snapshot", "cli-command", "run-summary"]
    for document, raw in echoed:
        assert raw == files[f"{document['kind']}-{document['id']}.json"]
    assert err == b"".join(raw for _, raw in echoed)  # nothing else on stderr
    assert [d for d, _ in echoed] == sorted(store_documents(store), key=lambda d: str(d["id"]))


def test_echo_alone_records_and_prints_nothing(tmp_path: Path) -> None:
    code, _, err = _run(tmp_path, ["ok", "src"], LOCALTELEMETRY_ECHO="1")
    assert code == 0 and err == b""
    assert not (tmp_path / "store").exists()


@pytest.mark.parametrize("value", ["0", "no", "", "off"])
def test_echo_off_values_print_nothing(tmp_path: Path, value: str) -> None:
    code, _, err = _run(tmp_path, ["--telemetry", "ok"], LOCALTELEMETRY_ECHO=value)
    assert code == 0 and err == b""
    assert len(list((tmp_path / "store" / "hostapp").glob("*.json"))) == 4


def test_echo_with_do_not_track_shows_only_the_notice(tmp_path: Path) -> None:
    code, _, err = _run(tmp_path, ["--telemetry", "ok"], LOCALTELEMETRY_ECHO="1", DO_NOT_TRACK="1")
    assert code == 0
    assert err == (
        b"hostapp: telemetry: DO_NOT_TRACK is set, so --telemetry is ignored "
        b"and nothing is recorded\n"
    )


WRAP = [sys.executable, "-m", "localtelemetry", "run", "--telemetry"]


def test_echo_of_a_wrapped_program(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = clean_env(tmp_path / "store", home, LOCALTELEMETRY_ECHO="yes")
    proc = subprocess.run(
        [*WRAP, "--app", "wrapped", "--", sys.executable, "-c", "print('child')"],
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0 and proc.stdout == b"child\n"
    echoed = _documents_in(proc.stderr)
    assert [d["kind"] for d, _ in echoed] == ["cli-command", "run-summary"]
    for document, raw in echoed:
        path = tmp_path / "store" / "wrapped" / f"{document['kind']}-{document['id']}.json"
        assert path.read_bytes() == raw
