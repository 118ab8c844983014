"""The machine's identity, for real (issue 11, finding 3): a throwaway user with a real
name (GECOS) and a throwaway host name, in private namespaces, run a recorded app whose
error names them; nothing of them may reach the store.

How: as root, ``unshare --uts --mount`` gives the test its own host name and its own
view of /etc/passwd and /etc/hosts (bind-mounted private copies with the throwaway user
and host added), and ``setpriv`` runs the app as that user. The ambient capabilities
let the throwaway user read the interpreter wherever it is installed (a home directory
may be closed to others). The login is not in the environment, so the recorder can only
have found it where the app did: in the password database. Nothing outlives the
namespace: the real /etc/passwd, /etc/hosts and host name are checked unchanged after.
Elsewhere (not Linux, not root, no unshare or setpriv, namespaces not allowed) the test
skips and says why.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from localtelemetry._contract.schemas import validation_errors

from conftest import TESTS, all_files, clean_env

LOGIN = "qzthrow"
REAL_NAME = "Quentin Zylberstein"
HOST = "qz-host-7781"
FQDN = f"{HOST}.qzcorp.example"
CAPS = "+dac_read_search,+dac_override"


def _why_not() -> str | None:
    if not sys.platform.startswith("linux"):
        return "needs Linux namespaces"
    if os.geteuid() != 0:
        return "needs root to create a user and a host name in private namespaces"
    missing = [t for t in ("unshare", "setpriv", "mount", "hostname") if not shutil.which(t)]
    if missing:
        return f"needs {', '.join(missing)}"
    probe = subprocess.run(
        ["unshare", "--uts", "--mount", "sh", "-c", "hostname qz-probe && mount --bind / /mnt"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if probe.returncode != 0:
        return f"private UTS and mount namespaces are not allowed here: {probe.stderr.strip()}"
    return None


def _free_uid() -> int:
    import pwd

    used = {entry.pw_uid for entry in pwd.getpwall()}
    return next(uid for uid in range(42_000, 60_000) if uid not in used)


def _real_state() -> tuple[bytes, bytes, str]:
    return Path("/etc/passwd").read_bytes(), Path("/etc/hosts").read_bytes(), os.uname().nodename


@pytest.mark.parametrize(("which", "command"), [("typer", "session"), ("click", "csession")])
def test_a_throwaway_users_and_hosts_names_never_reach_the_store(
    tmp_path: Path, which: str, command: str
) -> None:
    reason = _why_not()
    if reason is not None:
        pytest.skip(reason)
    before = _real_state()
    uid = _free_uid()
    home = tmp_path / "home"
    home.mkdir()
    passwd = tmp_path / "passwd"
    passwd.write_text(
        Path("/etc/passwd").read_text()
        + f"{LOGIN}:x:{uid}:{uid}:{REAL_NAME},Room 9,,:{home}:/bin/sh\n"
    )
    hosts = tmp_path / "hosts"
    hosts.write_text(Path("/etc/hosts").read_text() + f"10.20.30.40 {FQDN} {HOST}\n")
    base = tmp_path / "store"
    env = clean_env(base, home, COLUMNS="400")
    for variable in ("USER", "LOGNAME", "LNAME", "USERNAME", "HOSTNAME"):
        env.pop(variable, None)
    script = (
        'mount --bind "$1" /etc/passwd && mount --bind "$2" /etc/hosts && hostname "$3" && '
        f"shift 3 && exec setpriv --reuid {uid} --regid {uid} --clear-groups "
        f'--inh-caps {CAPS} --ambient-caps {CAPS} "$@"'
    )
    app = [sys.executable, str(TESTS / "leaky_apps.py"), which, command, "--telemetry"]
    try:
        proc = subprocess.run(
            ["unshare", "--uts", "--mount", "sh", "-c", script, "sh", passwd, hosts, HOST, *app],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        assert _real_state() == before, "the namespaces leaked into the real system"
    # The app really saw the throwaway identity, and failed quoting it.
    for planted in (LOGIN, REAL_NAME, HOST, FQDN):
        assert planted in proc.stderr, (planted, proc.stderr)
    store = base / ("leakyt" if which == "typer" else "leakyc")
    files = all_files(store)
    assert files and all(p.stat().st_uid == uid for p in files)  # written by that user
    blob = b"".join(p.read_bytes() for p in files)
    for planted in (LOGIN, "Quentin", "Zylberstein", HOST, "qzcorp"):
        for form in {planted, planted.lower(), planted.upper()}:
            assert form.encode() not in blob, form
    documents = [json.loads(p.read_text()) for p in files if p.suffix == ".json"]
    assert all(validation_errors(d) == [] for d in documents)
    (message,) = [d["payload"]["error_message"] for d in documents if d["kind"] == "cli-command"]
    assert message == (
        "cannot open session for <redacted:user> (<redacted:user>) on <redacted:host> "
        "(<redacted:host>)"
    )
