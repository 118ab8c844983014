"""Mutating a valid document one step at a time, for the Hypothesis tests that check a
reader against its reference on documents that are nearly valid (``test_fast_validation``,
``test_projection_walk``)."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

BASIC_ACTIONS = ("replace", "delete", "add", "swap")


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into ``value`` (the empty path first), keys and indexes as they are."""
    found = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            found += paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += paths(v, (*prefix, i))
    return found


def at(value: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        value = value[part]
    return value


def mutate_at(
    data: st.DataObject,
    doc: Any,
    path: tuple[Any, ...],
    action: str,
    others: list[Any],
    values: st.SearchStrategy[Any],
) -> None:
    """One of ``BASIC_ACTIONS`` at ``path`` (not empty): ``replace`` its value with one
    of ``values``, ``delete`` it, ``add`` a member beside it, or ``swap`` in the value at
    the same path of one of ``others`` (documents of the same kind: often still valid;
    nothing happens when that document has no such path)."""
    parent = at(doc, path[:-1])
    if action == "swap":
        try:
            other = at(data.draw(st.sampled_from(others)), path)
        except (KeyError, IndexError, TypeError):
            return
        parent[path[-1]] = copy.deepcopy(other)
    elif action == "replace":
        parent[path[-1]] = data.draw(values)
    elif action == "delete":
        del parent[path[-1]]
    elif isinstance(parent, dict):
        parent[data.draw(st.text(max_size=8))] = data.draw(values)
    else:
        parent.append(data.draw(values))
