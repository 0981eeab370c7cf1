"""The site build's steps (authoring.site), without Sphinx or a browser."""
from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from authoring import chapters, landing, pages
from authoring.common import BuildError
from grading import config

SOLVED = '''def double(x):
    """x: (N,) → (N,)"""
    ### BEGIN SOLUTION
    secret_result = 2 * x
    return secret_result
    ### END SOLUTION'''


def _executed() -> nbformat.NotebookNode:
    figure = new_output("display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"})
    progress = new_output("display_data", data={
        "application/vnd.jupyter.widget-view+json": {"model_id": "abc", "version_major": 2, "version_minor": 0},
        "text/plain": "HBox(children=(FloatProgress(value=0.0),))"})
    stream = new_output("stream", name="stderr", text="epochs:  10%|#\repochs: 100%|##########| 10/10\n")
    return new_notebook(cells=[
        new_markdown_cell("# 09 · Doubling\n\nWe double numbers. Then more."),
        new_code_cell(SOLVED),
        new_code_cell("double(3)", outputs=[figure, progress, stream]),
        new_code_cell("print(secret_result)", metadata={"tags": ["solution-only"]}),
    ])


def test_page_keeps_outputs_and_hides_the_solution():
    page = pages.page_notebook(_executed(), "09_doubling.ipynb")
    text = "\n".join(c.source for c in page.cells)
    assert "secret_result" not in text and "raise NotImplementedError()" in text
    code = [c for c in page.cells if c.cell_type == "code"]
    assert len(code) == 2, "the solution-only cell is dropped"
    outputs = code[1].outputs
    assert outputs[0].data["image/png"] == "iVBORw0KGgo=", "figures stay"
    assert all("application/vnd.jupyter.widget-view+json" not in o.get("data", {}) for o in outputs), \
        "a widget view without saved state is dropped"
    assert outputs[-1].text == "epochs: 100%|##########| 10/10\n", "a progress bar shows its final state"
    assert page.cells[1].cell_type == "markdown" and "{note}" in page.cells[1].source


def test_widget_views_with_saved_state_stay():
    nb = _executed()
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {"abc": {}}}}
    page = pages.page_notebook(nb, "09_doubling.ipynb")
    views = [o for c in page.cells if c.cell_type == "code" for o in c.outputs
             if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert len(views) == 1


def test_a_cell_that_raised_fails_the_build():
    nb = _executed()
    nb.cells[2].outputs.append(new_output("error", ename="ValueError", evalue="boom", traceback=[]))
    with pytest.raises(BuildError, match="cell 2 raised ValueError: boom"):
        pages.page_notebook(nb, "09_doubling.ipynb")


def test_title_and_summary():
    nb = _executed()
    assert pages.chapter_title(nb, "x") == "09 · Doubling"
    assert pages.chapter_summary(nb) == "We double numbers."


def test_rubric_table_is_the_rubric_file():
    rubric = config.load()  # the one reader of grading/rubric.toml
    table = landing.rubric_markdown(rubric)
    for item in rubric.items:
        assert (f"| `{item.id}` | {item.points:g} |" in table) == (item.category != "extra")
    assert "Total: **100 points**, plus up to 10 bonus points." in table
    extra = [i for i in rubric.items if i.category == "extra"]
    assert all(f"`{i.id}` ({i.points:g}, chapter" in table.split("outside this total")[1] for i in extra)


def test_toc_lists_the_chapters_that_exist(tmp_path):
    landing.write_toc(tmp_path, ["01_a.ipynb", "02_b.ipynb"])
    toc = (tmp_path / "_toc.yml").read_text()
    assert "chapters/01_a" in toc and "chapters/02_b" in toc and "instructors" in toc
    landing.write_toc(tmp_path, [])
    assert "Chapters" not in (tmp_path / "_toc.yml").read_text()


def test_stale_executed_copies_are_found(tmp_path):
    sol, done = tmp_path / "solutions", tmp_path / "executed"
    sol.mkdir(), done.mkdir()
    nbformat.write(_executed(), sol / "09_doubling.ipynb")
    assert chapters.stale_chapters([sol / "09_doubling.ipynb"], done) == [sol / "09_doubling.ipynb"]
    nbformat.write(_executed(), done / "09_doubling.ipynb")
    assert chapters.stale_chapters([sol / "09_doubling.ipynb"], done) == []
    failed = _executed()
    failed.cells[2].outputs.append(new_output("error", ename="KeyboardInterrupt", evalue="", traceback=[]))
    nbformat.write(failed, done / "09_doubling.ipynb")
    assert chapters.stale_chapters([sol / "09_doubling.ipynb"], done) == [sol / "09_doubling.ipynb"], \
        "a copy from a run in which a cell raised is not used"
    nbformat.write(_executed(), done / "09_doubling.ipynb")
    changed = _executed()
    changed.cells[2].source = "double(4)"
    nbformat.write(changed, sol / "09_doubling.ipynb")
    assert chapters.stale_chapters([sol / "09_doubling.ipynb"], done) == [sol / "09_doubling.ipynb"]


def test_chapter_page_offers_the_edition_and_folds_long_helper_code():
    from authoring import site_extras as student

    nb = _executed()
    helper = "def draw():\n" + "\n".join(f"    line_{i} = {i}" for i in range(student.FOLD_LINES + 1))
    nb.cells.append(new_code_cell(helper))
    nb.cells.append(new_code_cell("def f(x):\n" + "\n".join(f"    a{i} = {i}" for i in range(20))
                                  + "\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION"))
    page = pages.page_notebook(nb, "09_doubling.ipynb")
    note = next(c for c in page.cells if c.get("id") == "mlcourse-download")
    assert '<a href="../mlcourse-student.zip" download>' in note.source
    assert "unzip mlcourse-student.zip && cd mlcourse-student\nmake lab" in note.source
    assert "hide-input" in page.cells[-2].metadata["tags"]
    assert "hide-input" not in page.cells[-1].metadata.get("tags", [])  # an exercise stays open
