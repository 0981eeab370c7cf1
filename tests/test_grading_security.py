"""The grader's trust boundaries, one class of hole at a time, without a grading run.

The whole-run view (canaries, leftovers, every hostile notebook) is tests/test_grading_corpus.py.
"""
from __future__ import annotations

import pytest

from grading import wire


# ---------------------------------------------------------------------------------------
# 8. the wire decoder refuses a reply before building it
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("body", [
    b'{"t":[' + b"[]," * 3_000_000 + b"[]]}",                          # a tuple of empty lists
    b'{"d":[' + b'["k",[]],' * 1_000_000 + b'["k",[]]]}',              # a dict of them
    b"[" + b"0," * 3_000_000 + b"0]",                                  # one long list of numbers
])
def test_wire_caps_items_across_all_containers_before_building_them(body: bytes, monkeypatch) -> None:
    def build(*args, **kwargs):
        raise AssertionError("the decoder built the reply before refusing it")

    monkeypatch.setattr(wire.json, "loads", build)
    with pytest.raises(wire.ProtocolError, match="items"):
        wire.loads(body, 64 << 20)


def test_wire_still_carries_honest_replies() -> None:
    import numpy as np

    value = {"out": np.zeros((1000, 10)), "losses": [0.5] * 50_000, "pair": (np.ones(3), [1, 2])}
    back = wire.loads(wire.dumps(value)[wire.HEADER:], 64 << 20)
    assert back["out"].shape == (1000, 10) and len(back["losses"]) == 50_000
