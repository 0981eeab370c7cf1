"""The pipeline: solutions/ is the source, notebooks/ is generated and in sync, every exercise
is followed by a check cell and listed in the manifest (that each check passes on the solution
and says "not implemented yet" on the stub: tests/checks/test_every_check.py)."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import pytest

from authoring import release
from mlcourse.notebook import definitions

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _exercises() -> list[dict]:
    path = ROOT / "grading" / "exercises.toml"
    if not path.exists():
        return []
    return tomllib.loads(path.read_text())["exercise"]


def test_there_is_a_course():
    assert SOLUTIONS, "no chapters in solutions/"
    assert [p.name for p in NOTEBOOKS] == [p.name for p in SOLUTIONS]


def test_notebooks_are_in_sync_with_solutions():
    stale = release.release(check=True)
    assert not stale, f"run `make release`: out of date: {stale}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_student_notebooks_hold_no_outputs_and_no_solutions(path):
    nb = nbformat.read(path, as_version=4)
    solution_code = [b for s in SOLUTIONS if s.name == path.name
                     for b in release.solution_blocks(nbformat.read(s, as_version=4))]
    text = "\n".join(c.source for c in nb.cells)
    assert release.BEGIN not in text and release.END not in text
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    for block in solution_code:
        for line in block.splitlines():
            if len(line.strip()) > 25:  # a distinctive line of solution code
                assert line.strip() not in text, f"solution code leaked into {path.name}: {line.strip()}"


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_every_exercise_is_followed_by_a_check_cell(path):
    cells = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    for i, cell in enumerate(cells):
        if release.BEGIN in cell.source:
            following = cells[i + 1].source if i + 1 < len(cells) else ""
            assert "check(" in following, f"{path.name}: no check cell after the exercise:\n{cell.source[:200]}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_released_check_cells_import_check_and_name_the_section_that_defines_the_function(path):
    """A check cell run first (fresh kernel, Colab) needs nothing from other cells: it imports
    ``check`` and looks its function up by name; the section it names is where that function is
    defined (the same section as the function's own "finish … first" stub)."""
    from mlcourse.checks import get_check

    nb = nbformat.read(path, as_version=4)
    section, defined, calls = "", {}, []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            section = (release._SECTION.findall(cell.source) or [section])[-1]
            continue
        defined.update((m[3], section) for m in map(release._DEF.match, cell.source.splitlines()) if m and not m[1])
        lines = [line for line in cell.source.splitlines() if "check(" in line]
        if lines:
            assert cell.source.splitlines()[0] == release.CHECK_IMPORT, cell.source
            calls += lines
    assert calls
    for line in calls:
        m = re.fullmatch(r'check\("(\w+)"(?:, section=(\d+))?\);?', line)
        assert m, f"{path.name}: a check call that needs its function defined first: {line}"
        function = get_check(m[1]).function
        assert m[2] == defined[function], f"{path.name}: {line} but `{function}` is defined in section {defined[function]}"


def test_self_sufficient_checks_rewrites_only_check_calls_of_known_checks():
    sections = {"dense_forward": "1", "train_network": "8"}
    assert (release.self_sufficient_checks('check("dense_forward", dense_forward);\nprint(1)', sections)
            == 'from mlcourse.checks import check\ncheck("dense_forward", section=1);\nprint(1)')
    assert release.self_sufficient_checks('check("train_xor", train_network)', sections).endswith(
        'check("train_xor", section=8)')
    assert release.self_sufficient_checks('check("no_such_check", f)', sections) == 'check("no_such_check", f)'
    with pytest.raises(ValueError, match="judges `train_network`"):
        release.self_sufficient_checks('check("train_xor", my_train)', sections, "04 cell 3")


def _graded_chapters() -> set[str]:
    rubric = tomllib.loads((ROOT / "grading" / "rubric.toml").read_text())
    return {c for item in rubric["item"] for c in item.get("chapters", [])}


def _all_checks() -> list:
    from mlcourse.checks import all_checks

    return sorted(all_checks().values(), key=lambda c: (c.chapter, c.name))


def test_manifest_lists_every_check_of_a_graded_chapter_and_nothing_else():
    listed = {e["check"] for e in _exercises()}
    graded = {c.name for c in _all_checks() if c.chapter in _graded_chapters()}
    assert graded == listed
    for e in _exercises():
        assert (ROOT / "solutions" / f"{e['chapter']}.ipynb").exists(), e
        assert "function" not in e, f"{e}: the function is the check's (define(...)), not the manifest's"


def test_strip_solutions_keeps_indentation_and_reports_unclosed_blocks():
    src = "def f(x):\n    \"\"\"Doc.\"\"\"\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION\n"
    out, blocks = release.strip_solutions(src)
    assert out == "def f(x):\n    \"\"\"Doc.\"\"\"\n    # YOUR CODE HERE\n    raise NotImplementedError()"
    assert blocks == ["    return x + 1"]
    with pytest.raises(ValueError, match="never closed"):
        release.strip_solutions("### BEGIN SOLUTION\nx = 1\n")
    with pytest.raises(ValueError, match="without"):
        release.strip_solutions("x = 1\n### END SOLUTION\n")


def test_student_version_tags_cells_that_use_exercises_and_drops_solution_only():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION"),
        nbformat.v4.new_code_cell("f()", metadata={"tags": ["uses-exercise"]}),
        nbformat.v4.new_code_cell("secret = 42", metadata={"tags": ["solution-only"]}),
    ])
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", text="x")]
    student = release.student_version(nb)
    assert len(student.cells) == 2
    assert "raise NotImplementedError(\"finish `f` first\")" in student.cells[0].source
    assert student.cells[0].outputs == []
    assert "raises-exception" in student.cells[1].metadata["tags"]


def test_definitions_keep_defs_imports_and_constants_only():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import numpy as np\nEPS = 1e-8\nX = np.ones(3)\n%matplotlib inline"),
        nbformat.v4.new_code_cell("def f(x):\n    # why\n    return x + EPS\nprint('training...')"),
        nbformat.v4.new_code_cell("def broken(:\n"),
    ])
    source, problems = definitions(nb)
    assert "import numpy as np" in source and "EPS = 1e-8" in source and "# why" in source
    assert "np.ones" not in source and "print" not in source
    assert len(problems) == 1 and "cell 3" in problems[0]


def test_stub_names_the_function_and_section_and_markers_become_tags():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("## 2 · The Dense layer: backward"),
        nbformat.v4.new_code_cell("class L:\n    def backward(self):\n        ### BEGIN SOLUTION\n"
                                  "        return 1\n        ### END SOLUTION"),
        nbformat.v4.new_code_cell("# NBVAL_CHECK_OUTPUT\nprint(L().backward())", metadata={"tags": ["uses-exercise"]}),
    ])
    student = release.student_version(nb)
    assert student.cells[1].source.endswith(
        '        raise NotImplementedError("finish `L.backward` (section 2) first")')
    assert student.cells[2].source == "print(L().backward())"
    assert student.cells[2].metadata["tags"] == ["uses-exercise", "nbval-check-output", "raises-exception"]
    released = [p for p in NOTEBOOKS if "# NBVAL_" in "".join(c.source for c in nbformat.read(p, as_version=4).cells)]
    assert not released, f"nbval comment markers left in {released}"


@pytest.fixture
def course(tmp_path, monkeypatch):
    """A one-chapter course in tmp_path: (solutions/, notebooks/), released once."""
    sol, nbs = tmp_path / "solutions", tmp_path / "notebooks"
    sol.mkdir()
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION")]), sol / "01_a.ipynb")
    for name, value in {"ROOT": tmp_path, "SOLUTIONS": sol, "NOTEBOOKS": nbs, "BACKUPS": tmp_path / "release-backups"}.items():
        monkeypatch.setattr(release, name, value)
    assert release.release() == ["01_a.ipynb"]
    return sol, nbs


def test_release_never_overwrites_an_edited_notebook_without_force(course, capsys):
    sol, nbs = course
    student = nbs / "01_a.ipynb"
    nb = nbformat.read(student, as_version=4)
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", text="ran")]  # running cells is not an edit
    nbformat.write(nb, student)
    assert not release.edited(student)
    nb.cells[0].source = "def f():\n    return 1  # my work"
    nbformat.write(nb, student)
    mine = student.read_text()
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "def f():\n    ### BEGIN SOLUTION\n    return 2\n    ### END SOLUTION")]), sol / "01_a.ipynb")
    with pytest.raises(release.EditedNotebooks, match=r"notebooks/01_a.ipynb.*make release FORCE=1.*release-backups"):
        release.release()
    assert student.read_text() == mine
    assert release.main([]) == 1 and "01_a.ipynb" in capsys.readouterr().err
    assert release.release(force=True) == ["01_a.ipynb"]
    backups = list((release.BACKUPS).rglob("01_a.ipynb"))
    assert len(backups) == 1 and backups[0].read_text() == mine
    assert "NotImplementedError" in student.read_text() and not release.edited(student)


def test_release_backs_up_a_merge_conflict_and_regenerates_it(course):
    _, nbs = course
    student = nbs / "01_a.ipynb"
    student.write_text("{\n<<<<<<< HEAD\n  \"a\": 1\n=======\n  \"a\": 2\n>>>>>>> i99\n}\n")
    assert release.release() == ["01_a.ipynb"]
    assert not release.edited(student) and len(list(release.BACKUPS.rglob("01_a.ipynb"))) == 1


def test_student_commands_then_make_release_never_lose_an_edit(course, capsys):
    """Edit a student notebook, run every student command on it (lab, progress, submit) and
    then the release: the edit survives, and the release refuses naming the file and FORCE."""
    import subprocess
    import sys

    sol, nbs = course
    student = nbs / "01_a.ipynb"
    nb = nbformat.read(student, as_version=4)
    nb.cells[0].source = "def f():\n    return 1  # my work"
    nbformat.write(nb, student)
    mine = student.read_bytes()
    env = {**__import__("os").environ, "MLCOURSE_STATIC": "1"}
    for args in (["lab", str(nbs), "--version"], ["progress", str(nbs)],
                 ["submit", str(nbs), "--name", "Ada Lovelace"]):
        proc = subprocess.run([sys.executable, "-m", "mlcourse", *args], capture_output=True, text=True,
                              env=env, cwd=nbs.parent, timeout=600)
        assert proc.returncode == 0, (args, proc.stderr[-2000:])
        assert student.read_bytes() == mine, f"mlcourse {args[0]} changed the notebook"
    assert (nbs.parent / "Ada_Lovelace.zip").exists()
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "def f():\n    ### BEGIN SOLUTION\n    return 2\n    ### END SOLUTION")]), sol / "01_a.ipynb")
    assert release.main([]) == 1
    err = capsys.readouterr().err
    assert "notebooks/01_a.ipynb" in err and "make release FORCE=1" in err and "release-backups/" in err
    assert student.read_bytes() == mine
