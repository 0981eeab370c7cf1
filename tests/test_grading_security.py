"""The grader's trust boundaries, one class of hole at a time, without a grading run.

The whole-run view (canaries, leftovers, every hostile notebook) is tests/test_grading_corpus.py.
"""
from __future__ import annotations

import os

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

    from mlcourse.notebook import definitions

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
    from mlcourse.notebook import python_source

    import ast

    for cell, line in [("%matplotlib inline\n\ndef f(:\n    pass\n", 3), ("\n%%time\nx = (\n", 3)]:
        with pytest.raises(SyntaxError) as err:
            ast.parse(python_source(cell))
        assert err.value.lineno == line, cell


# ---------------------------------------------------------------------------------------
# 3. one student's report failing never stops the others'
# ---------------------------------------------------------------------------------------

def test_a_failing_feedback_costs_one_note_not_the_run(tmp_path, monkeypatch) -> None:
    import json

    from grading import config, feedback, report
    from grading.gradebook import build_rows

    rubric = config.load()
    results = [{"student": sid, "source": f"{sid}/", "total": 0.0, "notebooks": {}, "notes": [],
                "items": {i.id: {"points": 0.0, "max": i.points, "note": "", "exercises": []} for i in rubric.items}}
               for sid in ("ana", "bad", "zoe")]
    rows = build_rows(results, rubric, rubric.assignments, None, {}, {})
    real = feedback.render

    def render(row, a, rb):
        if row.id == "bad":
            raise UnicodeEncodeError("utf-8", "\udcff", 0, 1, "surrogates not allowed")
        return real(row, a, rb)

    monkeypatch.setattr(feedback, "render", render)
    report.write_all(tmp_path, rubric, rubric.assignments, rows, {})
    doc = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert [s["id"] for s in doc["students"]] == ["ana", "bad", "zoe"]
    bad = next(s for s in doc["students"] if s["id"] == "bad")
    assert any("feedback could not be written" in n for n in bad["notes"])
    book = (tmp_path / "gradebook.csv").read_text(encoding="utf-8").splitlines()
    assert len(book) == 4 and "feedback could not be written" in next(r for r in book if r.startswith("bad,"))
    assert (tmp_path / "feedback" / "course" / "zoe.md").exists() and not (tmp_path / "feedback" / "course" / "bad.md").exists()


# ---------------------------------------------------------------------------------------
# 5. a uid goes back to the pool only when nothing runs as it
# ---------------------------------------------------------------------------------------

@pytest.mark.skipif(os.geteuid() != 0, reason="uids of their own need root")
def test_a_uid_with_a_process_left_is_not_reused() -> None:
    from grading.uids import UidPool, reap

    pool = UidPool(1)
    uid = pool.acquire()
    pid = os.fork()
    if pid == 0:  # a zombie of that uid: dead, unreaped, still counted against its processes
        os.setgid(uid)
        os.setuid(uid)
        os._exit(0)
    try:
        pool.release(uid)
        again = pool.acquire()
        assert again != uid
    finally:
        os.waitpid(pid, 0)
    assert reap(uid)  # once reaped, the uid is clean
    pool.release(again)
