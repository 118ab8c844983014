"""Two host CLIs whose errors quote what the run saw (issue 11), for subprocess tests.

    leaky_apps.py typer ARGS...   the Typer app ``leakyt``
    leaky_apps.py click ARGS...   the Click app ``leakyc`` (auto envvar prefix LEAKYC,
                                  default_map read from the JSON file $LEAKYC_DEFAULTS)
    leaky_apps.py version ARGS... the Typer app ``leakyv``, whose version is a token

Every command fails on purpose with a message that quotes a value the user, the
environment, the machine or the app's own API calls gave it. Nothing of it may reach
the store in clear.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import click
import typer

from localtelemetry import Limits, Telemetry

LIMITS = Limits(max_documents=100_000, max_bytes=10**9)


def _identity() -> str:
    """Login, real name and host name, as a program would find them."""
    import getpass

    login = getpass.getuser()
    real = ""
    try:
        import pwd

        real = pwd.getpwuid(os.getuid()).pw_gecos.split(",")[0]
    except (ImportError, KeyError):
        pass
    node = os.uname().nodename
    return f"cannot open session for {login} ({real}) on {node} ({_fqdn(node)})"


def _fqdn(node: str) -> str:
    """The long host name as `hostname -f` finds it in /etc/hosts (no network)."""
    try:
        lines = Path("/etc/hosts").read_text().splitlines()
    except OSError:
        return node
    for line in lines:
        names = line.split("#")[0].split()[1:]
        if node in names:
            return next((n for n in names if n.startswith(node + ".")), node)
    return node


#: Names that the recording API used to keep in clear (finding 5): host names with dots,
#: random tokens, numbers. The planted parts must not reach the store.
ODD_NAMES = {
    "build": "qzbuild.acme.internal",
    "phase": "parse.build-host-03.corp",
    "counter": "Zq9Xk2Lm8Np4Rt6Vw1Yz",
    "warning": "a1b2c3d4e5",
    "role": "qzrole.example",
    "filter": "deadbeefcafe42",
    "value": "acct-4155550199",
    "snapshot": "qzsnap.internal",
    "count": "QxZtRkPvWmNaLsEdQ",
    "error": "Qz7f3k9x2m1p4n8b",
}
#: A version that is not a version: a token, as an app might derive one.
ODD_VERSION = "Zq9Xk2Lm8Np4Rt6Vw1Yz"


def _odd_names(telemetry: Telemetry) -> None:
    n = ODD_NAMES
    with telemetry.build(n["build"]) as b:
        with b.phase(n["phase"]):
            b.count(n["counter"])
        b.warning(n["warning"])
        b.path(n["role"], "src/main.c")
        b.filter(n["filter"], "*.c")
        b.value(n["value"], "x")
    telemetry.snapshot(n["snapshot"], counts={n["count"]: 1})
    raise type(n["error"], (Exception,), {})("failed")


# -- the Typer app ------------------------------------------------------------------------

tapp = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
ttelemetry = Telemetry("leakyt", version="1.0.0", limits=LIMITS)
ttelemetry.install(tapp)


@tapp.command()
def lookup(account: str) -> None:
    raise KeyError(f"no account {account}")


@tapp.command()
def users(users: Annotated[str, typer.Option("--users")]) -> None:
    raise LookupError(f"unknown user {users.split(',')[1]}")


@tapp.command()
def resolve(host: str) -> None:
    raise RuntimeError(f"cannot resolve {host.lower()}")


@tapp.command("set")
def set_(pair: str) -> None:
    key, _, value = pair.partition("=")
    raise ValueError(f"bad value {value} for {key}")


@tapp.command()
def tally(
    label: Annotated[str, typer.Option("--label", "-l", envvar="LEAKYT_LABEL")] = "x",
) -> None:
    # Typer's own usage errors do not quote the value; the app does.
    raise RuntimeError(f"unknown label {label}")


@tapp.command()
def scan(config: Path, inside: bool = False) -> None:
    """A filter, a value, a path and a snapshot filter read from a config file, each
    handed to the API, then quoted by an exception (in or after the build)."""
    include, table, source, where = config.read_text().split()
    with ttelemetry.build("scan") as b:
        b.filter("include", include)
        b.value("table", table)
        b.path("source", source)
        ttelemetry.snapshot("catalog", counts={"tables": 1}, filters={"where": where})
        if inside:
            raise RuntimeError(f"no table {table} matches {include} in {source} ({where})")
    raise RuntimeError(f"no table {table} matches {include} in {source} ({where})")


@tapp.command()
def session() -> None:
    raise RuntimeError(_identity())


@tapp.command()
def names() -> None:
    _odd_names(ttelemetry)


@tapp.command()
def where() -> None:
    raise RuntimeError(f"cannot write in {os.getcwd()} or {Path.home()}")


# -- the Click app ----------------------------------------------------------------------


@click.group(context_settings={"auto_envvar_prefix": "LEAKYC"})
def capp() -> None:
    pass


ctelemetry = Telemetry("leakyc", version="1.0.0", limits=LIMITS)
ctelemetry.install(capp)


@capp.command()
@click.argument("account")
def clookup(account: str) -> None:
    raise KeyError(f"no account {account}")


@capp.command()
@click.option("--name")
def greet(name: str) -> None:
    raise RuntimeError(f"cannot greet {name}")


@capp.command()
@click.option("--count", "-n", type=int, default=1)
def count(count: int) -> None:
    click.echo(f"count {count}")


@capp.command()
@click.option("--profile")
def conf(profile: str) -> None:
    raise RuntimeError(f"profile {profile} not found")


@capp.command()
@click.option("--token", prompt=True)
def ask(token: str) -> None:
    raise RuntimeError(f"rejected {token}")


@capp.command()
@click.option("--users")
def cusers(users: str) -> None:
    raise LookupError(f"unknown user {users.split(';')[-1].upper()}")


@capp.command()
def csession() -> None:
    raise RuntimeError(_identity())


@capp.command()
def cnames() -> None:
    _odd_names(ctelemetry)


# -- an app whose version is a token ------------------------------------------------------

vapp = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
vtelemetry = Telemetry("leakyv", version=ODD_VERSION, limits=LIMITS)
vtelemetry.install(vapp)


@vapp.command()
def vgo() -> None:
    print("ok")


@vapp.command()
def vother() -> None:
    print("ok")


def main() -> int:
    which, sys.argv = sys.argv[1], [sys.argv[0], *sys.argv[2:]]
    if which == "typer":
        tapp()
        return 0
    if which == "version":
        vapp()
        return 0
    defaults = os.environ.get("LEAKYC_DEFAULTS")
    default_map = json.loads(Path(defaults).read_text()) if defaults else None
    capp(default_map=default_map)
    return 0


if __name__ == "__main__":
    sys.exit(main())
