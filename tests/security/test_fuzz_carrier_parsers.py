"""Any bytes given to any carrier parser: a list of results or a ValueError, never another exception."""
from __future__ import annotations

import inspect
import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations.carriers import CARRIERS
from integrations.carriers.base import TrackingResult


def _vocabulary(cls: type) -> list[str]:
    """The string literals of the carrier's module: the keys and codes its parser looks for, to reach deep paths."""
    source = inspect.getsource(inspect.getmodule(cls))  # type: ignore[arg-type]
    return sorted(set(re.findall(r"[\"']([A-Za-z_][\w-]{1,40})[\"']", source))) or ["status"]


def _json_values(words: list[str]) -> st.SearchStrategy:
    scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True),
                        st.sampled_from(words), st.text(max_size=30),
                        st.sampled_from(["2026-11-23T08:52:00-07:00", "2026-11-23", "20261123 085200", "", "1Z999"]))
    return st.recursive(scalars, lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(words), inner, max_size=6)), max_leaves=40)


def _xml(words: list[str]) -> st.SearchStrategy:
    def render(tree) -> str:
        tag, children = tree
        inner = "".join(render(c) if isinstance(c, tuple) else str(c) for c in children)
        return f"<{tag}>{inner}</{tag}>"
    node = st.recursive(st.tuples(st.sampled_from(words), st.lists(st.text(max_size=12), max_size=1)),
                        lambda inner: st.tuples(st.sampled_from(words), st.lists(inner, max_size=4)), max_leaves=25)
    return node.map(lambda tree: ('<?xml version="1.0"?>' + render(tree)).encode())


def payloads(cls: type) -> st.SearchStrategy[bytes]:
    words = _vocabulary(cls)
    return st.one_of(st.binary(max_size=300), _json_values(words).map(lambda v: json.dumps(v).encode()), _xml(words))


@pytest.mark.parametrize("code", sorted(CARRIERS))
def test_parser_never_raises_anything_but_value_error(code):
    cls = CARRIERS[code]

    @settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(payloads(cls))
    def check(body: bytes) -> None:
        try:
            results = cls().parse(body)
        except ValueError:
            return
        assert isinstance(results, list) and all(isinstance(r, TrackingResult) for r in results)

    check()
