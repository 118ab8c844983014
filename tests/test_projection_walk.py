"""Export's walk (``_projection.Rewriter``) against a plain interpreter of the schemas.

The walk is compiled per schema node and keeps results per value; the interpreter
(``tests/schema_interpreter.py``) walks the schema for every value, with the same rules
for strings. For any stored document (generated and mutated here under Hypothesis) the
walk must give the same document, the same redaction report and the same refusals. It
may skip scrubbing only strings that fully match a clean pattern, and only where no rule
can match.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import blake3
import orjson
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from mutations import at, mutate_at, paths
from schema_interpreter import Interpreted
from typer.testing import CliRunner

from localtelemetry._contract import MAX_DEPTH
from localtelemetry._contract.exceptions import TooDeepError, UsageError
from localtelemetry._contract.schemas import load_schema
from localtelemetry._record.documents import Hasher
from localtelemetry._record.scrub import scrub
from localtelemetry._share.projection import CLEAN_PATTERNS, Rewriter
from localtelemetry._share.redact import Redactor
from localtelemetry._store import StoreLocation
from localtelemetry._store.listing import load_document
from localtelemetry._store.store import Store

import hostapp

KEY = bytes(range(32))
HASHER = Hasher(KEY)
LEAKS = [
    "failed for jane.doe@example.org in /home/jane/clients/acme/ledger.csv",
    "token ghp_" + "Zq9" * 12 + " rejected",
    "password=hunter2; see https://user:pw@example.com/a?b=c",
    "already <path:" + "a" * 32 + ".py> and <redacted:email>",
    "connect to 10.1.2.3 from fe80::1ff:fe23:4567:890a",
    "C:\\Users\\John Smith\\notes.txt",
    "ctrl\x00chars\x07",
    "y" * 600,
    "plain words only",
    "Jane at ACME-CORP on buildhost-7 for ann (ticket-12345), " + "z" * 470,
]
# Known values of a bundle (export's --redact words and regexes, this machine's values).
REDACTOR = Redactor(
    words=["jane", "acme-corp"], regexes=[r"ticket-\d+"], machine=["buildhost-7", "ann", "Ann B"]
)
MODES = ("plain", "redact", "quiet")  # quiet: --no-messages and the known values


def _rekey(stored: str) -> str:
    return blake3.blake3(b"rekey\0" + stored.encode("ascii", "replace"), key=KEY).hexdigest(
        length=16
    )


def _pair(keep: bool, mode: str = "plain") -> tuple[Interpreted, Rewriter]:
    args: dict[str, Any] = {
        "rekey": (lambda s: s) if keep else _rekey,
        "key_id": HASHER.key_id,
        "hash_new_text": HASHER.path_hash,
        "hash_name": HASHER.value,
    }
    if mode != "plain":
        args["redactor"] = REDACTOR
    if mode == "quiet":
        args["messages"] = False
    return Interpreted(**args), Rewriter(**args)


def _recorded(base: Path) -> list[dict[str, Any]]:
    for args in (["ok", "src"], ["boom"], ["fail"], ["paint", "--color", "blue"]):
        CliRunner().invoke(hostapp.app, ["--telemetry", *args])
    store = Store(StoreLocation("hostapp", base=base))
    return [load_document(e.path) for e in store.entries()]


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    import os

    base = tmp_path_factory.mktemp("compiled") / "lt"
    old = os.environ.get("LOCALTELEMETRY_DIR")
    os.environ["LOCALTELEMETRY_DIR"] = str(base)
    try:
        documents = _recorded(base)
    finally:
        if old is not None:
            os.environ["LOCALTELEMETRY_DIR"] = old
    assert {d["kind"] for d in documents} == {"cli-command", "build", "snapshot", "run-summary"}
    return documents


def _run(rewriter: Rewriter, document: dict[str, Any]) -> tuple[Any, ...]:
    """What a rewriter makes of a document: its output, or the kind of its refusal."""
    try:
        if isinstance(rewriter, Interpreted):
            return ("ok", rewriter.document(copy.deepcopy(document)))
        return ("ok", rewriter.rewrite(copy.deepcopy(document)))
    except ValueError as exc:
        return ("ValueError", str(exc))
    except (KeyError, TypeError, AttributeError, UsageError) as exc:
        return (type(exc).__name__,)


def _agree(
    plain: Interpreted, walk: Rewriter, document: dict[str, Any]
) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """Run both on ``document``: the same output or refusal, and the same report."""
    expected, got = _run(plain, document), _run(walk, document)
    assert got == expected
    assert _report(walk) == _report(plain)
    return got, expected


def _report(rewriter: Rewriter) -> tuple[Any, ...]:
    return rewriter.substitutions, rewriter.fields_dropped, rewriter.names_hashed


def _jsonschema_valid(value: dict[str, Any]) -> bool:
    from jsonschema import Draft202012Validator

    return bool(Draft202012Validator(load_schema(str(value["kind"]))).is_valid(value))


def _nested(depth: int, leaf: Any) -> Any:
    value = leaf
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(
        [
            *LEAKS,
            "",
            "linux",
            "success",
            "h:" + "a" * 32,
            "h:" + "A" * 32,
            "a" * 32,
            "0" * 26,
            "01m84dnec7mswr4sxewtdyyvna",
            "2026-11-23T14:41:23.559Z",
            "2026-11-23T14:41:23.559Z\n",
            "4111111111111111",
            ".py",
            "--flag",
            "--jane-mode",
            "1.0+acme-corp",
            ".jane",
            "jane_name",
            "act",
        ]
    ),
    st.text(max_size=12),
)
_values = st.one_of(
    st.recursive(
        _scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
        ),
        max_leaves=6,
    ),
    st.builds(_nested, st.integers(MAX_DEPTH - 8, MAX_DEPTH + 2), _scalars),
)


def _mutated(data: st.DataObject, samples: list[dict[str, Any]]) -> dict[str, Any]:
    doc = copy.deepcopy(data.draw(st.sampled_from(samples)))
    kind = doc["kind"]
    for _ in range(data.draw(st.sampled_from([0, 1, 1, 1, 1, 2, 3, 4]))):
        found = [p for p in paths(doc) if p]
        if not found:
            break
        path = data.draw(st.sampled_from(found))
        parent: Any = doc
        for part in path[:-1]:
            parent = parent[part]
        action = data.draw(
            st.sampled_from(["replace", "delete", "add", "swap", "leak", "leak", "key", "grow"])
        )
        containers = [p for p in [(), *found] if isinstance(at(doc, p), dict | list)]
        target = at(doc, data.draw(st.sampled_from(containers)))
        if action == "key":  # a key like a name, or not, in any object (maps among them)
            maps = [p for p in containers if isinstance(at(doc, p), dict)]
            target = at(doc, data.draw(st.sampled_from(maps)))
            key = data.draw(
                st.sampled_from(
                    [*LEAKS, "a b", "", "x" * 70, "ok_name", "h:" + "b" * 32, "rows_Jane"]
                )
            )
            target[key] = copy.deepcopy(next(iter(target.values()))) if target else 1
        elif action == "grow" and target:  # past maxItems / maxProperties
            if isinstance(target, list):
                target.extend(copy.deepcopy(target[0]) for _ in range(100))
            else:
                first = next(iter(target.values()))
                target.update({f"k{i}": copy.deepcopy(first) for i in range(100)})
        elif action == "leak":  # a string of the document, or a key, becomes one with data
            leak = data.draw(st.sampled_from(LEAKS))
            strings = [p for p in found if isinstance(at(doc, p), str)]
            if strings and data.draw(st.booleans()):
                path = data.draw(st.sampled_from(strings))
                at(doc, path[:-1])[path[-1]] = leak
            elif isinstance(parent, dict):
                parent[leak] = parent.pop(path[-1])
        else:  # replace, delete, add, or swap in another document's value
            mutate_at(data, doc, path, action, [d for d in samples if d["kind"] == kind], _values)
    return doc


# shared: memos carry over, as in export
_PAIRS = {(keep, mode): _pair(keep, mode) for keep in (False, True) for mode in MODES}


@settings(
    max_examples=800, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data(), keep=st.booleans(), mode=st.sampled_from(MODES))
def test_walk_agrees_with_the_interpreter(
    samples: list[dict[str, Any]], data: st.DataObject, keep: bool, mode: str
) -> None:
    document = _mutated(data, samples)
    plain, walk = _PAIRS[(keep, mode)]
    got, _ = _agree(plain, walk, document)
    event(f"{got[0]}, valid {got[0] == 'ok' and _jsonschema_valid(got[1])}")


@pytest.mark.parametrize("mode", MODES)
def test_real_documents_stay_valid(samples: list[dict[str, Any]], mode: str) -> None:
    for keep in (False, True):
        plain, walk = _pair(keep, mode)
        for document in samples:
            rewritten = walk.rewrite(copy.deepcopy(document))
            assert rewritten == plain.document(copy.deepcopy(document))
            assert _jsonschema_valid(rewritten), document["kind"]


def test_results_are_not_shared_between_documents(samples: list[dict[str, Any]]) -> None:
    _, walk = _pair(False)
    first = walk.rewrite(copy.deepcopy(samples[0]))
    first["hashing"]["key_id"] = "changed"
    first["environment"]["os"] = "changed"
    second = walk.rewrite(copy.deepcopy(samples[0]))
    assert second["hashing"]["key_id"] != "changed" and second["environment"]["os"] != "changed"


def test_too_deep_documents_are_refused_with_the_report_unchanged(
    samples: list[dict[str, Any]],
) -> None:
    plain, walk = _pair(False)
    for where in ("payload", "unknown field", "environment"):
        for depth, refused in ((MAX_DEPTH - 3, False), (MAX_DEPTH - 1, None), (MAX_DEPTH, True)):
            document = copy.deepcopy(next(d for d in samples if d["kind"] == "build"))
            document["payload"]["error_message"] = LEAKS[0]  # counted before the deep part
            deep = _nested(depth, "jane.doe@example.org")
            if where == "payload":
                document["payload"]["counters"] = {"x": deep}
            elif where == "environment":
                document["environment"]["os"] = deep
            else:
                document["zz"] = deep
            before = copy.deepcopy(_report(walk))
            got, _ = _agree(plain, walk, document)
            assert refused is None or (got[0] == "ValueError") == refused, (where, depth)
            if got[0] == "ValueError":
                assert _report(walk) == before
                with pytest.raises(TooDeepError):
                    walk.rewrite(copy.deepcopy(document))


# -- strings that are not scrubbed again ------------------------------------------------


def test_clean_patterns_are_those_of_ids_and_times() -> None:
    defs = load_schema("envelope")["$defs"]
    assert {defs["id"]["pattern"], defs["created_at"]["pattern"]} == CLEAN_PATTERNS


@pytest.mark.parametrize("pattern", sorted(CLEAN_PATTERNS))
@settings(max_examples=500, deadline=None)
@given(data=st.data())
def test_no_rule_matches_inside_a_clean_string(pattern: str, data: st.DataObject) -> None:
    value = data.draw(st.from_regex(re.compile(pattern, re.ASCII), fullmatch=True))
    result = scrub(value, hash_path=HASHER.path_hash)
    assert result.text == value and not result.counts


@pytest.mark.parametrize(
    "value",
    [
        "4" + "1" * 15 + "0" * 10,  # digits only: a card number needs a non-word after it
        "0" * 26,
        "ghpzq9zq9zq9zq9zq9zq9zq9zq",
        "skaaaaaaaaaaaaaaaaaaaaaaaa",
        "2099-12-31T23:59:59.999Z",  # the latest time the schema allows
        "2096-02-29T11:11:11.111Z",  # a leap day
        "1970-01-01T00:00:00.000Z",  # the earliest
    ],
)
def test_awkward_clean_strings(value: str) -> None:
    assert any(re.fullmatch(p, value, re.ASCII) for p in CLEAN_PATTERNS)
    result = scrub(value, hash_path=HASHER.path_hash)
    assert result.text == value and not result.counts


def test_only_clean_id_and_time_values_skip_the_scrubber(samples: list[dict[str, Any]]) -> None:
    plain, walk = _pair(False)
    seen: list[str] = []
    text_result = walk._text_result

    def spy(value: str) -> tuple[str, dict[str, int]]:
        seen.append(value)
        return text_result(value)

    walk._text_result = spy  # type: ignore[method-assign]  # before it is compiled
    document = copy.deepcopy(next(d for d in samples if d["kind"] == "cli-command"))
    document["payload"]["parameters"].append(
        {"name": "x", "type": "string", "source": "commandline", "values": ["free text"]}
    )
    walk.rewrite(copy.deepcopy(document))
    for field in ("id", "run_id", "created_at"):
        assert document[field] not in seen
    # every other plain string was scrubbed (once per value and field: later ones are
    # the same results again)
    for value in (document["app"]["name"], document["app"]["version"], "free text"):
        assert value in seen
    # a value that does not match its field's pattern is scrubbed as before
    leaky = copy.deepcopy(document)
    leaky["run_id"] = "jane.doe@example.org"
    leaky["created_at"] = "/home/jane/x.txt"
    expected = plain.document(copy.deepcopy(leaky))
    plain.substitutions.clear()
    plain.document(copy.deepcopy(leaky))
    before = dict(walk.substitutions)
    assert walk.rewrite(copy.deepcopy(leaky)) == expected
    assert "jane.doe@example.org" in seen and "/home/jane/x.txt" in seen
    grown = {k: n - before.get(k, 0) for k, n in walk.substitutions.items()}
    assert {k: n for k, n in grown.items() if n} == plain.substitutions
    assert plain.substitutions.get("email") == 1 and plain.substitutions.get("home-path") == 1


@pytest.mark.parametrize("mode", MODES)
def test_objects_of_scalars_kept_per_value_give_what_a_walk_gives(
    samples: list[dict[str, Any]], mode: str
) -> None:
    """The envelope's small objects are kept per value; a hit must give a fresh object
    and add to the report exactly what walking it again would."""
    plain, walk = _pair(False, mode)
    variants: list[Any] = [
        {"name": "app", "version": "1.0"},
        {"name": "app", "version": "jane.doe@example.org"},  # scrubbed: counted every time
        {"name": "app", "version": "1.0+acme-corp"},  # a known value
        {"name": "app", "version": "1.0", "extra": "dropped"},  # counted as dropped
        {"name": "app", "version": True},  # invalid, and not kept with 1 or 1.0
        {"name": "app", "version": 1},
        {"name": "app", "version": 1.0},
        {"name": "app", "version": -0.0},
        {"name": "app", "version": 0.0},
        {"name": "app"},  # a required field missing
        {"name": "app", "version": {"nested": "x"}},  # the wrong type
    ]
    for _ in range(3):
        for app in variants:
            document = copy.deepcopy(samples[0])
            document["app"] = copy.deepcopy(app)
            got, expected = _agree(plain, walk, document)
            if got[0] == "ok":  # the same bytes: 1 == True == 1.0 and 0.0 == -0.0 in Python
                assert orjson.dumps(got[1]) == orjson.dumps(expected[1]), app
                got[1]["app"]["changed"] = True  # must not reach the next hit
