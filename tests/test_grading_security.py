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


# ---------------------------------------------------------------------------------------
# 9. definitions are read the way IPython runs a cell
# ---------------------------------------------------------------------------------------

REAL_WORLD_CELLS = [
    # a line magic, a shell escape, and continuation lines that begin with != and %
    '%matplotlib inline\n!pip list | head -3\ndef same_shape(a, b):\n    return not (a.shape\n'
    '                != b.shape)\n',
    'def wrap(k, n):\n    return (k\n            % n)\n',
    # a backslash continuation, an assigned shell capture, a help query
    'TOTAL = 1 + \\\n    2\nfiles = !ls\nnp.mean?\n',
    # Python cell magics: their body is the cell (IPython runs it in the notebook's namespace)
    '%%time\ndef timed_twice(x):\n    return 2 * x\n',
    '\n%%capture out\nimport math\ndef root(x):\n    return math.sqrt(x)\n',
    # a cell magic whose body is not Python: nothing to define, and no "not valid Python"
    '%%bash\necho "def fake(): pass"\nfor f in *; do echo $f; done\n',
    # a magic used inside a function body
    'def shell_inside():\n    !echo hi\n    return 7\n',
]


def test_definitions_are_read_with_ipythons_own_transformer() -> None:
    import nbformat

    from grading.extract import definitions

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in REAL_WORLD_CELLS])
    source, problems = definitions(nb)
    assert problems == []
    ns = {"get_ipython": lambda: type("Shell", (), {"system": lambda *a: None})()}
    exec(compile(source, "<definitions>", "exec"), ns)
    import numpy as np

    assert ns["same_shape"](np.zeros(2), np.ones(2)) and ns["wrap"](7, 5) == 2 and ns["TOTAL"] == 3
    assert ns["timed_twice"](4) == 8 and ns["root"](9.0) == 3.0 and ns["shell_inside"]() == 7
    assert "fake" not in ns


def test_a_syntax_error_keeps_its_cell_line_number() -> None:
    from grading.extract import python_source

    import ast

    for cell, line in [("%matplotlib inline\n\ndef f(:\n    pass\n", 3), ("\n%%time\nx = (\n", 3)]:
        with pytest.raises(SyntaxError) as err:
            ast.parse(python_source(cell))
        assert err.value.lineno == line, cell
