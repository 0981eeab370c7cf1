"""The student edition (authoring/edition.py): what it holds, that it runs outside the
repository from its own wheel, and that the student's commands report exactly what the
notebooks say — and never write to a notebook."""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import nbformat
import pytest

from authoring import edition, release

ROOT = Path(__file__).resolve().parent.parent


def _solution_with(chapter: str, **changes: str) -> nbformat.NotebookNode:
    """The solution of ``chapter`` with the solution block of each named function replaced by
    one line of code; "STUB" puts back ``raise NotImplementedError()`` (not started)."""
    nb = nbformat.read(ROOT / "solutions" / f"{chapter}.ipynb", as_version=4)
    for cell in nb.cells:
        for name, body in changes.items():
            m = re.search(rf"^def {name}\(", cell.source, re.M) if cell.cell_type == "code" else None
            if m:
                start = cell.source.index(release.BEGIN, m.end())
                end = cell.source.index(release.END, start) + len(release.END)
                line_start = cell.source.rindex("\n", 0, start) + 1
                new = (release.BEGIN + "\n    raise NotImplementedError()\n    " + release.END) if body == "STUB" else body
                cell.source = cell.source[:line_start] + "    " + new + cell.source[end:]
    return nb


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("edition")
    archive = edition.build(out)
    return archive


def test_edition_holds_notebooks_wheel_readme_makefile_and_nothing_else(built):
    tree = built.parent / edition.NAME
    files = sorted(p.relative_to(tree).as_posix() for p in tree.rglob("*") if p.is_file())
    notebooks = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert files == ["Makefile", "README.md", *[f"notebooks/{n}" for n in notebooks],
                     f"wheels/mlcourse-{edition._version()}-py3-none-any.whl"]
    with zipfile.ZipFile(built) as z:
        assert sorted(z.namelist()) == [f"{edition.NAME}/{f}" for f in files]
    with zipfile.ZipFile(tree / "wheels" / f"mlcourse-{edition._version()}-py3-none-any.whl") as w:
        names = w.namelist()
        course = json.loads(w.read("mlcourse/course.json"))
    assert "mlcourse/coursedata/iris.csv" in names and "mlcourse/coursedata/mnist/t10k-images-idx3-ubyte.gz" in names
    assert not [n for n in names if n.startswith(("grading/", "tests/", "solutions/", "book/")) or n.endswith(".toml")]
    assert all(set(e) == {"chapter", "check", "function", "rubric", "points"} for e in course["exercises"])
    assert course == edition.course_metadata()  # the rubric's points, as grading/config reads them
    assert sum(i["points"] for i in course["items"] if i["category"] != "bonus") >= 100


def test_edition_leaks_no_solution_line_and_no_instructor_file(built, tmp_path):
    tree = built.parent / edition.NAME
    problems = edition.leaks(tree)
    assert problems == []
    # the public checks' grader-side code is not in the wheel: its reference lines are stripped
    with zipfile.ZipFile(next((tree / "wheels").glob("*.whl"))) as w:
        ch04 = w.read("mlcourse/checks/ch04.py").decode()
        assert "public_cases.json" in " ".join(w.namelist()) and "public_cases.npz" in " ".join(w.namelist())
    assert '_forward = grader_side.stripped("_forward")' in ch04 and "return h, cache" not in ch04
    # The scan can fail: a solution notebook or a solution line dropped into the tree is found.
    shutil.copytree(tree, tmp_path / "t")
    shutil.copy(ROOT / "solutions" / "04_mlp_backprop.ipynb", tmp_path / "t" / "notebooks" / "solutions_copy.ipynb")
    (tmp_path / "t" / "tests").mkdir()
    (tmp_path / "t" / "tests" / "x.py").write_text("")
    problems = edition.leaks(tmp_path / "t")
    assert any("solutions_copy.ipynb: solution line" in p for p in problems)
    # … and so is the reference code of the public checks, had it not been stripped: a wheel
    # of the instructor's package (every @grader_side function still in it) leaks.
    for old in (tmp_path / "t" / "wheels").glob("*.whl"):
        old.unlink()
    edition.write_wheel(tmp_path / "t" / "wheels", ROOT / "mlcourse")
    problems = edition.leaks(tmp_path / "t")
    assert any(".whl!mlcourse/checks/ch04.py: solution line 'return h, cache'" in p for p in problems), problems
    assert any("tests/x.py: instructor-only file" in p for p in problems)


def _fresh_venv(where: Path) -> Path:
    """A new virtual environment outside the repository. Third-party packages come from this
    test run's environment through a .pth file (no download); mlcourse only from the wheel."""
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True)  # pip from ensurepip: offline
    py = where / "bin" / "python"
    site = subprocess.run([str(py), "-c", "import site; print(site.getsitepackages()[0])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    ours = [p for p in sys.path if p.endswith("site-packages")]
    Path(site, "zz_borrowed_deps.pth").write_text("\n".join(ours) + "\n")
    return py


def _sha(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.ipynb"))}


def test_a_lone_notebook_runs_after_the_pip_install_its_first_cell_names(built, tmp_path):
    """Colab or any Jupyter: a folder with one released notebook and the wheel, a Python without
    mlcourse. The `%pip install` the notebook's first cell names, run in a cell, installs it (no
    JupyterLab, no kernel extension: only what Colab already has); the chapter's cells then run
    and a check cell run before its exercise says which cell to run."""
    with zipfile.ZipFile(built) as z:
        z.extractall(tmp_path)
    home = tmp_path / edition.NAME
    wheel = next((home / "wheels").glob("*.whl"))
    with zipfile.ZipFile(wheel) as w:
        metadata = w.read(f"mlcourse-{edition._version()}.dist-info/METADATA").decode()
    needs = re.findall(r"^Requires-Dist: ([\w-]+)[^;\n]*$", metadata, re.M)
    assert needs and not {"jupyterlab", "ipykernel", "notebook"} & set(needs), needs  # Colab keeps its own
    assert re.search(r'^Requires-Dist: jupyterlab>=4\.0; extra == "lab"$', metadata, re.M)
    assert '"$(WHEEL)[lab]"' in (home / "Makefile").read_text()
    lone = tmp_path / "colab"
    lone.mkdir()
    shutil.copy(wheel, lone)
    nb = nbformat.read(home / "notebooks" / "02_data.ipynb", as_version=4)
    [install] = re.findall(r"`(%pip install [^`]+)`", nb.cells[0].source)
    assert install == f"%pip install {wheel.name}"
    first_check = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "\ncheck(" in c.source)
    nb.cells.insert(1, nbformat.v4.new_code_cell(nb.cells[first_check].source))  # before the imports, too
    nb.cells.insert(1, nbformat.v4.new_code_cell(install))
    nbformat.write(nb, lone / "02_data.ipynb")
    py = _fresh_venv(tmp_path / "venv")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "MLCOURSE", "VIRTUAL_ENV", "IPYTHON"))}
    env.update(MPLBACKEND="Agg", MLCOURSE_STATIC="1", OPENBLAS_NUM_THREADS="1", PATH=f"{py.parent}:{env['PATH']}",
               JUPYTER_PLATFORM_DIRS="1", HOME=str(tmp_path / "home"), PIP_NO_INDEX="1")
    assert subprocess.run([py, "-c", "import mlcourse"], env=env, cwd=lone, capture_output=True).returncode == 1
    script = ("import sys, nbformat; from nbclient import NotebookClient\n"
              "nb = nbformat.read(sys.argv[1], as_version=4)\n"
              "NotebookClient(nb, timeout=300, kernel_name='python3', allow_errors=True,\n"
              "               resources={'metadata': {'path': '.'}}).execute()\n"
              "nbformat.write(nb, sys.argv[1])\n")
    out = subprocess.run([py, "-c", script, "02_data.ipynb"], capture_output=True, text=True, env=env, cwd=lone)
    assert out.returncode == 0, out.stderr[-2000:]
    ran = nbformat.read(lone / "02_data.ipynb", as_version=4)
    said = ["".join(o.get("text", "") for o in c.outputs) for c in ran.cells[1:3]]
    assert f"Successfully installed mlcourse-{edition._version()}" in said[0], said[0][-500:]
    name = re.search(r'check\("(\w+)"', ran.cells[2].source)[1]
    assert re.fullmatch(rf"❌ `{name}`: `\w+` is not defined yet: run the cell that defines it \(section \d+\) first\n",
                        said[1]), said[1]
    outputs = [o for c in ran.cells if c.cell_type == "code" for o in c.outputs]
    errors = [re.sub(r"\x1b\[[0-9;]*m", "", "".join(o.traceback)) for o in outputs if o.output_type == "error"]
    assert all(re.fullmatch(r"(finish `\w+` \(section \d+\) first|`\w+` is not defined: .*|this cell needs .*)", e)
               for e in errors), errors
    assert "150" in "".join(o.get("text", "") for o in outputs)  # Iris, loaded from the package


def test_fresh_venv_runs_the_edition_and_the_student_commands(built, tmp_path):
    t0 = time.monotonic()
    with zipfile.ZipFile(built) as z:
        z.extractall(tmp_path)
    home = tmp_path / edition.NAME
    wheel = next((home / "wheels").glob("*.whl"))
    py = _fresh_venv(tmp_path / "venv")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "MLCOURSE", "VIRTUAL_ENV"))}
    env.update(MPLBACKEND="Agg", MLCOURSE_STATIC="1", OPENBLAS_NUM_THREADS="1", PATH=f"{py.parent}:{env['PATH']}",
               JUPYTER_PLATFORM_DIRS="1", HOME=str(tmp_path / "home"))
    subprocess.run([py, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
                   check=True, env=env, cwd=tmp_path)
    run = lambda *args: subprocess.run([str(a) for a in args], capture_output=True, text=True, env=env, cwd=home)  # noqa: E731
    where = run(py, "-c", "import mlcourse, mlcourse.data as d; print(mlcourse.__file__); print(d.DATA_DIR)")
    assert where.returncode == 0, where.stderr
    module, data_dir = where.stdout.split()
    assert module.startswith(str(tmp_path / "venv")) and data_dir.endswith("mlcourse/coursedata"), where.stdout
    check = run(py, "-m", "pip", "check")  # the wheel's requirements are all met
    assert check.returncode == 0, check.stdout + check.stderr

    # A released notebook runs from the unzipped folder (nbclient, the new environment's kernel):
    # the data loads from the package; unfinished exercises say one line each.
    script = ("import sys, nbformat; from nbclient import NotebookClient\n"
              "nb = nbformat.read(sys.argv[1], as_version=4)\n"
              "NotebookClient(nb, timeout=300, kernel_name='python3', allow_errors=True,\n"
              "               resources={'metadata': {'path': 'notebooks'}}).execute()\n"
              "nbformat.write(nb, sys.argv[2])\n")
    executed = tmp_path / "executed.ipynb"
    out = run(py, "-c", script, home / "notebooks" / "02_data.ipynb", executed)
    print(f"\nvenv + install + nbclient run: {time.monotonic() - t0:.1f} s")
    assert out.returncode == 0, out.stderr[-2000:]
    nb = nbformat.read(executed, as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    errors = [re.sub(r"\x1b\[[0-9;]*m", "", "".join(o.traceback)) for o in outputs if o.output_type == "error"]
    assert errors and all(re.fullmatch(r"(finish `\w+` \(section \d+\) first|`\w+` is not defined: .*|this cell needs .*)", e)
                          for e in errors), errors
    text = "".join(o.get("text", "") for o in outputs)
    assert "not implemented yet" in text and "150" in text  # check cells ran; Iris's 150 rows loaded

    # Partly solved notebooks: 01 solved, 03 with relu wrong and softmax not started, 04 blank.
    work = home / "notebooks"
    shutil.copy(ROOT / "solutions" / "01_linear_regression.ipynb", work)
    nbformat.write(_solution_with("03_activations_and_losses", relu="return np.abs(x)", softmax="STUB"),
                   work / "03_activations_and_losses.ipynb")
    before = _sha(work)
    t1 = time.monotonic()
    got = run(py.parent / "mlcourse", "progress", "notebooks", "--json")
    progress_seconds = time.monotonic() - t1
    assert got.returncode == 0, got.stderr[-2000:]
    rep = json.loads(got.stdout)
    rows = {(r["chapter"][:2], r["function"]): r for r in rep["rows"]}
    course = json.loads(zipfile.ZipFile(wheel).read("mlcourse/course.json"))
    expected_status = {}
    for e in course["exercises"]:
        key = (e["chapter"][:2], e["function"])
        expected_status[key] = ("pass" if key[0] in ("01", "03") else "not_started")
    expected_status[("03", "relu")] = "fail"
    expected_status[("03", "softmax")] = "not_started"
    assert {k: r["status"] for k, r in rows.items()} == expected_status
    assert rows[("03", "relu")]["reason"]  # the check's own one-line diagnosis
    core = {i["id"] for i in course["items"] if i["category"] in ("required", "standard", "advanced")}
    points = sum(e["points"] for e in course["exercises"]
                 if expected_status[(e["chapter"][:2], e["function"])] == "pass" and e["rubric"] in core)
    assert rep["totals"]["points"] == pytest.approx(points) and points == pytest.approx(10 + 10 - 0.5 - 1.5)
    sub = run(py.parent / "mlcourse", "submit", "notebooks", "--name", "Ada Lovelace")
    assert sub.returncode == 0, sub.stderr
    with zipfile.ZipFile(home / "Ada_Lovelace.zip") as z:
        names = sorted(z.namelist())
        report = z.read("validation.txt").decode()
    assert names == sorted([f"notebooks/{n}" for n in before] + ["validation.json", "validation.txt"])
    assert "Submitted by Ada Lovelace" in report
    extra, earned = {}, {}  # chapters 01 and 03 hold extra exercises too (questions, the softmax Jacobian)
    category = {i["id"]: i["category"] for i in course["items"]}
    for item in course["items"]:
        if item["category"] not in ("required", "standard", "advanced"):
            extra[item["category"]] = extra.get(item["category"], 0) + item["points"]
    earned = {k: sum(e["points"] for e in course["exercises"] if expected_status[(e["chapter"][:2], e["function"])] == "pass"
                     and next(i for i in course["items"] if i["id"] == e["rubric"])["category"] == k) for k in extra}
    others = ", ".join(f"+ {earned[k]:g} / {v:g} {k}" for k, v in extra.items())
    assert f"Points the public checks would give: {points:g} / 100 ({others})" in report
    assert re.search(r"^❌ 03_activations_and_losses +relu +0/0.5 +\S", report, re.M), report
    assert re.search(r"^· 03_activations_and_losses +softmax +0/1.5 +not started$", report, re.M), report
    assert re.search(r"^✅ 01_linear_regression +predict +1/1 +done$", report, re.M), report
    assert _sha(work) == before, "a student command changed a notebook"
    print(f"\nfresh-venv edition test: {time.monotonic() - t0:.1f} s; progress over all chapters: {progress_seconds:.1f} s")
