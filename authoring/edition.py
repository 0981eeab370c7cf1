"""Build the student edition: ``_build/student/mlcourse-student/`` and the same tree as a zip.

    python -m authoring.edition            # what `make edition` runs

The edition is what a student downloads — and nothing else:

    mlcourse-student/
        README.md                     how to start, work, check progress and submit (student/README.md)
        Makefile                      make lab | progress | submit NAME="…"   (student/Makefile)
        notebooks/NN_topic.ipynb      the released notebooks (notebooks/, in sync with solutions/)
        wheels/mlcourse-<v>-py3-none-any.whl
                                      the library with its data (mlcourse/coursedata/), the
                                      exercise → points table (mlcourse/course.json, no hidden seeds)
                                      and the public checks without their grader-side code: the
                                      cases of the public seed are stored instead
                                      (mlcourse/checks/public_cases.json + .npz; authoring/grader_side.py)

Steps (each a small function, run in order by ``build``): check the release is current,
stage the package (grader-side code stripped, public cases stored), write the wheel, copy
notebooks and the student files, verify, zip. The verification proves no solution line and
no instructor file went in (``leaks``; tests/test_edition.py too).
"""
from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import io
import json
import re
import shutil
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import nbformat

from grading.config import load

from . import grader_side, release

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "_build" / "student"
NAME = "mlcourse-student"
STUDENT_FILES = ROOT / "student"  # README.md and Makefile of the edition
ZIP_TIME = (2020, 1, 1, 0, 0, 0)  # fixed timestamps: the same inputs give the same bytes
# Runtime needs of the student's wheel (the instructors' extras — pytest, nbval, the site — stay out):
# what the notebooks and `mlcourse progress` need, all preinstalled in Colab, so `%pip install` there
# changes none of its own packages; JupyterLab and a kernel only with the extra "lab" (`make lab`).
REQUIRES = ["numpy>=1.24", "pandas>=2.0", "matplotlib>=3.7", "ipywidgets>=7.6", "nbformat>=5.9", "tqdm>=4.65"]
LAB_REQUIRES = ["jupyterlab>=4.0", "ipykernel>=6.0", "ipywidgets>=8.0"]
# What must never be in the edition: instructor sources, tests, grader and its configuration.
FORBIDDEN = re.compile(r"(^|/)(solutions|tests|grading|authoring|book|benchmarks)(/|$)|rubric\.toml$|exercises\.toml$"
                       r"|hidden_seeds|\.pyc$|__pycache__")


def course_metadata() -> dict:
    """The rubric items and the graded exercises with their points — no hidden seeds."""
    rubric = load()
    return {"items": [{"id": i.id, "description": i.description, "points": i.points, "category": i.category,
                       "partial": i.partial} for i in rubric.items],
            "exercises": [{"chapter": e.chapter, "check": e.check, "function": e.function, "rubric": e.rubric,
                           "points": e.points} for e in rubric.exercises]}


def _version() -> str:
    text = (ROOT / "mlcourse" / "__init__.py").read_text(encoding="utf-8")
    return re.search(r'^__version__ = "([^"]+)"', text, re.M).group(1)


PACKAGE_FILES = ("*.py", "public_cases.json", "public_cases.npz")  # what of a (staged) package goes in


def wheel_files(package: Path = ROOT / "mlcourse") -> dict[str, bytes]:
    """Archive name → bytes of every file of the mlcourse package in the wheel (``package``:
    the staged copy whose grader-side code is stripped)."""
    files: dict[str, bytes] = {}
    for p in sorted(q for pattern in PACKAGE_FILES for q in package.rglob(pattern)):
        if "__pycache__" not in p.parts:
            files[f"mlcourse/{p.relative_to(package).as_posix()}"] = p.read_bytes()
    for p in sorted((ROOT / "data").rglob("*")):
        if p.is_file():
            files[f"mlcourse/coursedata/{p.relative_to(ROOT / 'data').as_posix()}"] = p.read_bytes()
    files["mlcourse/course.json"] = (json.dumps(course_metadata(), indent=1) + "\n").encode("utf-8")
    return files


def _zip_write(z: zipfile.ZipFile, name: str, data: bytes, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = (0o755 if executable else 0o644) << 16
    z.writestr(info, data)


def write_wheel(folder: Path, package: Path) -> Path:
    """A pure-Python wheel of the staged ``package`` (PEP 427), written directly: no build backend needed."""
    version = _version()
    dist = f"mlcourse-{version}.dist-info"
    files = wheel_files(package)
    metadata = "\n".join(["Metadata-Version: 2.1", "Name: mlcourse", f"Version: {version}",
                          "Summary: Neural networks from scratch with NumPy: the course's library, data and student commands.",
                          "Requires-Python: >=3.10", *(f"Requires-Dist: {r}" for r in REQUIRES), "Provides-Extra: lab",
                          *(f'Requires-Dist: {r}; extra == "lab"' for r in LAB_REQUIRES)]) + "\n"
    files[f"{dist}/METADATA"] = metadata.encode()
    files[f"{dist}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: authoring.edition\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    files[f"{dist}/entry_points.txt"] = b"[console_scripts]\nmlcourse = mlcourse.__main__:main\n"
    record = io.StringIO()
    writer = csv.writer(record, lineterminator="\n")
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        writer.writerow([name, f"sha256={digest}", len(data)])
    writer.writerow([f"{dist}/RECORD", "", ""])
    files[f"{dist}/RECORD"] = record.getvalue().encode()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / release.wheel_name()
    with zipfile.ZipFile(path, "w") as z:
        for name, data in files.items():
            _zip_write(z, name, data)
    return path


def _code_lines(text: str) -> set[str]:
    return {line.strip() for line in text.splitlines()}


def solution_lines() -> set[str]:
    """Every line of every solution block (stripped) that the student is not given anyway —
    neither in the released notebooks nor in the mlcourse library the chapters use (e.g.
    chapter 05 trains with ``mlcourse.nn`` after chapter 04 built the same layers)."""
    blocks, given = [], set()
    for src in sorted(release.SOLUTIONS.glob("[0-9][0-9]_*.ipynb")):
        blocks += release.solution_blocks(nbformat.read(src, as_version=4))
    for nb in sorted(release.NOTEBOOKS.glob("*.ipynb")):
        given |= {line for c in nbformat.read(nb, as_version=4).cells if c.cell_type == "code"
                  for line in _code_lines(c.source)}
    for p in sorted((ROOT / "mlcourse").glob("*.py")):  # the library, not mlcourse/checks/
        given |= _code_lines(p.read_text(encoding="utf-8"))
    lines = {line.strip() for b in blocks for line in b.splitlines()}
    return {line for line in lines if line and not line.startswith("#") and line not in given}


def bundle_texts(folder: Path) -> dict[str, str]:
    """Relative path → text of every file of the edition, wheels and zips opened."""
    texts: dict[str, str] = {}

    def add(name: str, data: bytes) -> None:
        if name.endswith((".whl", ".zip")):
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                for member in z.namelist():
                    add(f"{name}!{member}", z.read(member))
        elif not name.endswith((".gz", ".png")):
            texts[name] = data.decode("utf-8", "replace")

    for p in sorted(folder.rglob("*")):
        if p.is_file():
            add(p.relative_to(folder).as_posix(), p.read_bytes())
    return texts


def _lines_of(name: str, text: str) -> set[str]:
    if name.endswith(".ipynb"):  # the notebook's code and text, not its JSON quoting
        nb = nbformat.reads(text, as_version=4)
        return {line for c in nb.cells for line in _code_lines(c.source)}
    return _code_lines(text)


def leaks(folder: Path) -> list[str]:
    """Every forbidden file and every solution line found in ``folder`` (wheels and zips opened,
    the public checks included), as "file: what"."""
    texts = bundle_texts(folder)
    found = [f"{name}: instructor-only file" for name in texts if FORBIDDEN.search(name.split("!")[-1])]
    found += [f"{name}: mentions hidden seeds" for name, text in texts.items() if "hidden_seeds" in text]
    secret = solution_lines()
    for name, text in texts.items():
        found += [f"{name}: solution line {line!r}" for line in sorted(secret & _lines_of(name, text))]
    return found


def build(out: Path = OUT) -> Path:
    """Build the edition folder and zip under ``out``; return the zip."""
    stale = release.release(check=True)
    if stale:
        raise SystemExit(f"notebooks/ is out of date with solutions/ (run `make release` first): {', '.join(stale)}")
    if out.exists():
        shutil.rmtree(out)
    tree = out / NAME
    (tree / "notebooks").mkdir(parents=True)
    for nb in sorted(release.NOTEBOOKS.glob("*.ipynb")):
        shutil.copy2(nb, tree / "notebooks" / nb.name)
    with tempfile.TemporaryDirectory(prefix="mlcourse-edition-") as staging:
        package = Path(staging) / "mlcourse"
        stripped = grader_side.stage_package(package)
        stored = sum((package / "checks" / f).stat().st_size for f in ("public_cases.json", "public_cases.npz"))
        wheel = write_wheel(tree / "wheels", package)
    print(f"grader-side code stripped: {sum(map(len, stripped.values()))} functions in {len(stripped)} files; "
          f"stored public cases: {stored / 1e3:.0f} kB")
    for name in ("README.md", "Makefile"):
        text = (STUDENT_FILES / name).read_text(encoding="utf-8").replace("{wheel}", f"wheels/{wheel.name}")
        text = text.replace("{wheel_file}", wheel.name)
        (tree / name).write_text(text, encoding="utf-8")
    problems = leaks(tree)
    if problems:
        raise SystemExit("the student edition would leak:\n  " + "\n  ".join(problems[:20]))
    archive = out / f"{NAME}.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for p in sorted(tree.rglob("*")):
            if p.is_file():
                _zip_write(z, p.relative_to(out).as_posix(), p.read_bytes())
    return archive


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args(argv)
    t0 = time.monotonic()
    archive = build()
    files = sum(1 for p in (archive.parent / NAME).rglob("*") if p.is_file())
    print(f"student edition: {archive.parent / NAME}/ ({files} files) and {archive} "
          f"({archive.stat().st_size / 1e6:.1f} MB) in {time.monotonic() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
