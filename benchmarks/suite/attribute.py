"""Where each cost row's instructions go (issue 14): ``python benchmarks/run.py --only attribute``.

Three tools, each answering its own question:

* callgrind differences: the host app runs through ``apps/preload.py`` twice, once with
  one item loaded or patched before it starts (a module, or a prototype of a fix from
  ``apps/prototypes.py``), once without; the difference of the instruction counts is
  what that item costs in that host (or what the fix saves). Both runs go through the
  same wrapper, so its own cost cancels out, and both run with the collector off: the
  collections a row triggers are an item of their own, averaged over allocation-counter
  phases. ms as in the cost table: the host's plain app's CPU time per instruction.
* ``python -X importtime``: which modules a path imports and what each takes.
* cProfile: which of localtelemetry's functions a recorded run spends its time in, and
  ``gc.callbacks``: how many collections of each generation a run triggers.
"""

from __future__ import annotations

import json
import os
import pstats
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from . import callgrind
from .common import BENCH, PYTHON, child_env, run_timed, table
from .costs import HOSTS, Variant, localtelemetry_command, make_notes, time_rounds

PRELOAD = BENCH / "apps" / "preload.py"
RUN_MODULES = "import localtelemetry._cli.runcmd, localtelemetry._cli.wrap"
TYPER_CLI = "from localtelemetry._cli.app import make_app; make_app(None)"
#: Modules a recorded run loads (``_record.recorder`` brings the rest: ``_record.documents``
#: with blake3, ``_store`` and ``_store.store``).
RECORDING = "localtelemetry._record,localtelemetry._record.recorder"
SCRUBBING = "localtelemetry._record.known,localtelemetry._record.scrub"
EMPTY_MODULES = 10


@dataclass(frozen=True)
class Item:
    """The sum of ``a`` minus ``b`` over ``pairs``, times ``scale`` (a mean over several
    pairs has ``scale`` 1/n). ``whole`` marks a row's total; ``sub`` an item that is part
    of the item above it (left out of the row's remainder); ``reference`` a figure to
    compare with, not part of the row."""

    row: str
    what: str
    where: str
    pairs: tuple[tuple[str, str], ...]
    scale: float = 1.0
    whole: bool = False
    sub: bool = False
    #: Not part of the row: a reference figure (left out of the remainder too).
    reference: bool = False
    #: The pairs set the collector themselves (the collection items); every other
    #: item is counted with the collector off on both sides (see ``_collector_off``).
    collector: bool = False


#: Allocation-counter phases for the collector experiments: a collection of the young
#: generations happens every 700 (gen 0) and 7,000 (gen 1) net allocations, so whether
#: a run's allocations trigger one depends on where the host's counter stands.
GC_PHASES = (0, 1750, 3500, 5250)


def command_for(name: str, good: Path, bad: Path) -> list[str]:
    """``host:kind[spec]`` (an app run through preload.py) or ``run:...``."""
    lt = localtelemetry_command()
    fixed = {
        "run:python": [PYTHON, "-c", "pass"],
        "run:run": [*lt, "run", "--", "true"],
        "run:import-run-modules": [PYTHON, "-c", RUN_MODULES],
        "run:typer-cli": [PYTHON, "-c", TYPER_CLI],
    }
    if name in fixed:
        return fixed[name]
    host, rest = name.split(":", 1)
    kind, spec = rest[:-1].split("[", 1)
    plain, app = HOSTS[host]
    script = plain if kind.startswith("plain") else app
    notes = bad if kind.endswith("-fail") else good
    flag = ["--telemetry"] if kind.startswith("recorded") else []
    return [PYTHON, str(PRELOAD), spec, str(script), *flag, "check", str(notes)]


def _with(spec: str, extra: str) -> str:
    return extra if spec == "-" else f"{spec},{extra}"


def _gc_cost(h: str, row: str, a: str, b: str) -> Item:
    """What the collections that ``a``'s extra allocations trigger cost, compared with
    ``b``: (a - b) with the collector on minus the same with it off, averaged over
    allocation-counter phases."""
    n = len(GC_PHASES)
    shifts = [f"@gc-shift-{p}" if p else "-" for p in GC_PHASES]
    pairs = tuple(
        pair
        for s in shifts
        for pair in (
            (f"{h}:{a}[{s}]", f"{h}:{b}[{s}]"),
            (f"{h}:{b}[{_with(s, '@gc-off')}]", f"{h}:{a}[{_with(s, '@gc-off')}]"),
        )
    )
    return Item(
        row,
        f"garbage collections this row adds (collector on minus off, mean of {n} "
        "allocation-counter phases; part of the items above)",
        "every allocation of localtelemetry's code and imports",
        pairs,
        scale=1 / n,
        sub=True,
        collector=True,
    )


def _gc_pause(h: str, row: str) -> Item:
    n = len(GC_PHASES)
    shifts = [f"@gc-shift-{p}" if p else "-" for p in GC_PHASES]
    pairs = tuple((f"{h}:recorded[{s}]", f"{h}:recorded[{_with(s, '@gc-pause')}]") for s in shifts)
    return Item(
        row,
        f"collector paused in begin_run/end_run (prototype gc-pause; saved, mean of {n} phases)",
        "_telemetry.py, _record/recorder.py",
        pairs,
        scale=1 / n,
        sub=True,
        collector=True,
    )


def _collector_off(it: Item) -> Item:
    """``it`` counted with the collector off in both runs. Whether a run's allocations
    trigger a collection depends on where the host's allocation counter stands, which
    any change moves (up to 2M instructions either way in the Typer host); what the
    collections cost is its own item, averaged over counter phases."""
    if it.collector:
        return it

    def off(name: str) -> str:
        if "[" not in name:
            return name  # run:... rows: whole commands
        head, spec = name[:-1].split("[", 1)
        return f"{head}[{_with(spec, '@gc-off')}]"

    return replace(it, pairs=tuple((off(a), off(b)) for a, b in it.pairs))


def items() -> list[Item]:
    out: list[Item] = []
    for h in HOSTS:
        disabled = f"{h}: installed - plain"
        out += [
            Item(
                disabled,
                "whole row (through the preload wrapper, collector off)",
                "",
                ((f"{h}:installed[-]", f"{h}:plain[-]"),),
                whole=True,
            ),
            Item(
                disabled,
                "importing localtelemetry (the package: __init__, _telemetry, _contract)",
                "__init__.py, _telemetry.py, _contract/__init__.py",
                ((f"{h}:plain[localtelemetry]", f"{h}:plain[-]"),),
            ),
            Item(
                disabled,
                "importing _integration (install() and the recording hooks)",
                "_integration.py",
                ((f"{h}:plain[localtelemetry._integration]", f"{h}:plain[localtelemetry]"),),
            ),
        ]
        if h == "typer":
            out.append(
                Item(
                    disabled,
                    "building the --telemetry Typer option",
                    "_integration.py (_typer_flag_param)",
                    ((f"{h}:plain[@typer-flag]", f"{h}:plain[localtelemetry._integration]"),),
                )
            )
        out.append(_gc_cost(h, disabled, "installed", "plain"))
        recorded = f"{h}: recorded - plain"
        out += [
            Item(
                recorded,
                "whole row (through the preload wrapper, collector off)",
                "",
                ((f"{h}:recorded[-]", f"{h}:plain[-]"),),
                whole=True,
            ),
            Item(
                recorded,
                "the disabled path (installed - plain, above)",
                "",
                ((f"{h}:installed[-]", f"{h}:plain[-]"),),
            ),
            Item(
                recorded,
                "importing the recording modules: _record (environment, off switch), "
                "_record.recorder, _record.documents, _store, _store.store, and blake3",
                "_telemetry.begin_run",
                ((f"{h}:installed[{RECORDING}]", f"{h}:installed[-]"),),
            ),
            Item(
                recorded,
                "of which loading the blake3 extension",
                "_record/documents.py (import blake3)",
                ((f"{h}:installed[blake3]", f"{h}:installed[-]"),),
                sub=True,
            ),
            Item(
                recorded,
                f"(reference) importing {EMPTY_MODULES} empty modules of one package: what "
                "the import system costs per module, whatever the module holds",
                "",
                ((f"{h}:installed[@empty-modules]", f"{h}:installed[@empty-package]"),),
                reference=True,
            ),
            _gc_cost(h, recorded, "recorded", "installed"),
            _gc_pause(h, recorded),
        ]
        failed = f"{h}: recorded-fail - installed-fail"
        out += [
            Item(
                failed,
                "whole row (through the preload wrapper, collector off)",
                "",
                ((f"{h}:recorded-fail[-]", f"{h}:installed-fail[-]"),),
                whole=True,
            ),
            Item(
                failed,
                "importing the recording modules and blake3 (as above)",
                "_telemetry.begin_run",
                ((f"{h}:installed-fail[{RECORDING}]", f"{h}:installed-fail[-]"),),
            ),
            Item(
                failed,
                "importing the known-value redactor and the scrubber",
                "_record/known.py, _record/scrub.py, _record/scrub_rules.py",
                ((f"{h}:installed-fail[{SCRUBBING}]", f"{h}:installed-fail[-]"),),
            ),
            Item(
                failed,
                "scrubbing what the redactor leaves of the row's message (a path token and "
                "an e-mail address): pre-filters, compiling the e-mail rule",
                "_record/scrub.py",
                (
                    (
                        f"{h}:installed-fail[@scrub-warm]",
                        f"{h}:installed-fail[{SCRUBBING}]",
                    ),
                ),
            ),
        ]
    run = "run: run -- true - python -c pass"
    out += [
        Item(run, "whole row", "", (("run:run", "run:python"),), whole=True),
        Item(
            run,
            "importing what the run path needs: localtelemetry, _cli.runcmd, _cli.wrap, "
            "_contract.exceptions",
            "__main__.py, _cli/runcmd.py, _cli/wrap.py",
            (("run:import-run-modules", "run:python"),),
        ),
        Item(
            run,
            "(reference) what the Typer CLI would cost it (importing typer and its click, "
            "building the management app); `run` reaches it only for --help and mistakes",
            "_cli/app.py",
            (("run:typer-cli", "run:python"),),
            reference=True,
        ),
    ]
    return [_collector_off(it) for it in out]


# -- -X importtime, cProfile, gc.callbacks ----------------------------------------------


def importtime(cmd: list[str], env: dict[str, str]) -> list[dict[str, Any]]:
    sample = run_timed([cmd[0], "-X", "importtime", *cmd[1:]], env)
    rows = []
    for line in sample.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        parts = [p.strip() for p in line[len("import time:") :].split("|")]
        if parts[0].isdigit():
            depth = (len(line.split("|")[2]) - len(line.split("|")[2].lstrip())) // 2
            rows.append(
                {
                    "module": parts[2],
                    "self_us": int(parts[0]),
                    "cumulative_us": int(parts[1]),
                    "depth": depth,
                }
            )
    return rows


def _new_modules(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[Any]:
    seen = {r["module"] for r in before}
    return [r for r in after if r["module"] not in seen]


def profile(cmd: list[str], env: dict[str, str], work: Path, name: str) -> list[dict[str, Any]]:
    """localtelemetry's functions in a cProfile of ``cmd`` (a preload run), by
    cumulative time; the wrappers that contain the host's own command are left out."""
    out = work / f"{name}.prof"
    run_timed([cmd[0], "-m", "cProfile", "-o", str(out), *cmd[1:]], env)
    stats = pstats.Stats(str(out))
    wrappers = {"main", "_run_main", "invoke", "make_context", "get_command", "<module>"}
    rows = []
    for (filename, _line, function), entry in stats.stats.items():  # type: ignore[attr-defined]
        cumulative = entry[3]
        if "localtelemetry" not in filename or function in wrappers:
            continue
        rows.append(
            {
                "function": f"{Path(filename).name}:{function}",
                "calls": entry[1],
                "cumulative_ms": cumulative * 1000,
                "own_ms": entry[2] * 1000,
            }
        )
    rows.sort(key=lambda r: -r["cumulative_ms"])
    return rows[:12]


def gc_counts(cmd: list[str], env: dict[str, str], work: Path, name: str) -> dict[str, int]:
    out = work / f"{name}.gc.json"
    spec_at = cmd.index(str(PRELOAD)) + 1
    counted = [
        *cmd[:spec_at],
        "@gc-count" if cmd[spec_at] == "-" else cmd[spec_at] + ",@gc-count",
        *cmd[spec_at + 1 :],
    ]
    run_timed(counted, {**env, "BENCH_GC_OUT": str(out)})
    data: dict[str, int] = json.loads(out.read_text())
    return data


# -- the part -----------------------------------------------------------------------------


def _rows(wanted: list[Item], counts: dict[str, int], ns: dict[str, float]) -> list[Any]:
    """Each item's difference, and after each row's items what they leave unexplained."""
    rows: list[dict[str, Any]] = []

    def add(it: Item, diff: float | None) -> None:
        row: dict[str, Any] = {"row": it.row, "what": it.what, "where": it.where}
        row.update(whole=it.whole, sub=it.sub or it.reference)
        if diff is not None:
            host = it.row.split(":")[0]
            row["instructions"] = diff
            row["ms"] = diff * ns.get(host, ns.get("typer", 0.0)) / 1e6
        rows.append(row)

    def value(it: Item) -> float | None:
        if not all(a in counts and b in counts for a, b in it.pairs):
            return None
        return sum(counts[a] - counts[b] for a, b in it.pairs) * it.scale

    for name in dict.fromkeys(it.row for it in wanted):
        group = [it for it in wanted if it.row == name]
        for it in group:
            add(it, value(it))
        whole = [value(it) for it in group if it.whole]
        parts = [value(it) for it in group if not (it.whole or it.sub or it.reference)]
        if whole and whole[0] is not None and all(p is not None for p in parts):
            rest = whole[0] - sum(p for p in parts if p is not None)
            add(
                Item(name, "remainder: the run's own work and what the items leave out", "", ()),
                rest,
            )
    return rows


def _empty_modules(work: Path) -> str:
    """A package of empty modules, compiled (``empty-modules`` prototype)."""
    package = work / "empty" / "lt_bench_empty"
    package.mkdir(parents=True)
    for name in ["__init__", *(f"m{i}" for i in range(EMPTY_MODULES))]:
        (package / f"{name}.py").write_text("")
    compile_env = {k: v for k, v in child_env(work).items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([PYTHON, "-m", "compileall", "-q", str(package)], env=compile_env, check=True)
    return os.pathsep.join([str(package.parent), package.name, str(EMPTY_MODULES)])


def run(*, smoke: bool, install_valgrind: bool, workers: int) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="lt-bench-attribute-"))
    try:
        home = work / "home"
        home.mkdir()
        good, bad = make_notes(work)
        env = child_env(home, BENCH_EMPTY_MODULES=_empty_modules(work))
        wanted = items()
        names = sorted({n for it in wanted for pair in it.pairs for n in pair})
        cmds = {n: command_for(n, good, bad) for n in names}
        # Warm up once per app variant: every .pyc written, each store and key created.
        for name in dict.fromkeys(n.split("[")[0] + "[-]" for n in names if "[" in n):
            sample = run_timed(command_for(name, good, bad), env, timeout=300)
            if (sample.returncode != 0) != name.split("[")[0].endswith("-fail"):
                raise RuntimeError(f"{name} exited {sample.returncode}: {sample.stderr[-2000:]}")
        plain = {host: Variant((PYTHON, str(HOSTS[host][0]), "check", str(good))) for host in HOSTS}
        times = time_rounds(plain, home, rounds=2 if smoke else 9, reps=1, warmup=1)
        valgrind, note = callgrind.ensure_valgrind(install=install_valgrind and not smoke)
        counts: dict[str, int] = {}
        ns: dict[str, float] = {}
        if valgrind is not None and not smoke:
            jobs = [(n, cmds[n], env) for n in names]
            counts = {
                k: v[0] for k, v in callgrind.count_many(valgrind, jobs, workers=workers).items()
            }
            # the conversion uses the plain app itself (not run through the wrapper), with
            # its fastest CPU time, as the cost table does
            plain_counts = callgrind.count_many(
                valgrind, [(h, list(v.argv), env) for h, v in plain.items()], workers=workers
            )
            ns = {h: min(times["cpu"][h]) * 1e9 / plain_counts[h][0] for h in HOSTS}
        lt = localtelemetry_command()
        run_cmd = [*lt, "run", "--", "true"]
        if lt[0] != PYTHON:
            run_cmd = [PYTHON, *run_cmd]
        watched = [
            f"{h}:{k}[-]"
            for h in HOSTS
            for k in ("plain", "installed", "recorded", "installed-fail", "recorded-fail")
        ]
        return {
            "valgrind": note,
            "ns_per_instruction": ns,
            "instructions": counts,
            "items": _rows(wanted, counts, ns),
            "importtime": {
                **{
                    f"{h}_installed_new_modules": _new_modules(
                        importtime(command_for(f"{h}:plain[-]", good, bad), env),
                        importtime(command_for(f"{h}:installed[-]", good, bad), env),
                    )
                    for h in HOSTS
                },
                "run": sorted(
                    (r for r in importtime(run_cmd, env) if r["depth"] == 1),
                    key=lambda r: -r["cumulative_us"],
                )[:12],
            },
            "profiles": {
                name: profile(command_for(name, good, bad), env, work, name.replace(":", "-"))
                for name in ("typer:recorded[-]", "click:recorded-fail[-]")
            },
            "gc": {
                name: gc_counts(command_for(name, good, bad), env, work, name.replace(":", "-"))
                for name in watched
            },
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def render(result: dict[str, Any]) -> str:
    rows = []
    for r in result["items"]:
        rows.append(
            (
                "" if not r["whole"] else r["row"],
                ("  - " if r["sub"] else "") + r["what"],
                f"{r['instructions']:+,.0f}" if "instructions" in r else "-",
                f"{r['ms']:+.2f}" if "ms" in r else "-",
                r["where"],
            )
        )
    ns = ", ".join(f"{h} {v:.3f} ns" for h, v in result["ns_per_instruction"].items())
    lines = [
        table(
            "Attribution: callgrind differences between runs with and without one item "
            f"(ms at the plain app's CPU time per instruction: {ns or 'n/a'})",
            ("row", "item", "instructions", "ms", "where"),
            rows,
        ),
        result["valgrind"],
        "",
        *(
            f"modules the {h} host imports with localtelemetry installed, not without "
            "(-X importtime, us self / cumulative): "
            + ", ".join(
                f"{r['module']} {r['self_us']}/{r['cumulative_us']}"
                for r in result["importtime"][f"{h}_installed_new_modules"]
            )
            for h in HOSTS
        ),
        "localtelemetry run -- true, top-level imports by cumulative us: "
        + ", ".join(f"{r['module']} {r['cumulative_us']}" for r in result["importtime"]["run"]),
        "",
    ]
    for name, prof in result["profiles"].items():
        lines.append(
            f"cProfile of {name}, localtelemetry's functions by cumulative ms (profiled, so "
            "slower than real; compare them with each other): "
            + ", ".join(f"{p['function']} {p['cumulative_ms']:.1f}" for p in prof[:10])
        )
    lines.append(
        "garbage collections per generation (gc.callbacks, gen0/gen1/gen2): "
        + ", ".join(
            f"{name.removesuffix('[-]')} {c['0']}/{c['1']}/{c['2']}"
            for name, c in result["gc"].items()
        )
    )
    return "\n".join(lines)


__all__ = ["render", "run"]
