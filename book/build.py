"""Build the course site into ``_build/html`` from the executed solution notebooks.

    python -m book.build --executed _build/executed       # what `make site` runs

Steps:

1. Find the chapters (``solutions/NN_topic.ipynb``) and their executed copies, written by
   nbval (``--save-executed``, see conftest.py). A chapter whose executed copy is missing or
   differs from its solution is executed again the same way (nbval, MLCOURSE_STATIC=1), so
   the site always shows the run that validated the course. A cell that raised fails the
   build.
2. Stage every chapter in ``_build/book_src/chapters/``: each code cell shows the student
   version of its source (``grading.release.strip_solutions``) with the outputs of the
   complete run (figures, check verdicts); ``solution-only`` cells are dropped;
   progress-bar noise and widget views without a saved state are removed.
3. Stage the landing and instructors' pages, filling in the chapter map and the rubric,
   and write ``_toc.yml`` listing the chapters that exist.
4. Vendor MathJax 3, require.js and the ipywidgets HTML manager from the npm registry
   (``npm pack``, once: the tarballs are kept in ``_build/vendor/npm/``) and serve them
   from ``_vendor/`` beside the pages, so no page loads anything from a CDN.
5. Run Sphinx (Jupyter Book 1.x configuration) with warnings as errors and nitpicky
   references (``-W -n --keep-going``); notebook execution is off.
"""
from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import nbformat
import yaml

from grading.release import strip_solutions

from . import student

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
SOLUTIONS = ROOT / "solutions"
BUILD = ROOT / "_build"
STAGE = BUILD / "book_src"
VENDOR = BUILD / "vendor"
CHAPTER_DIR = "chapters"  # chapter pages live in <site>/chapters/NN_topic.html

# npm packages served from <site>/_vendor/<folder>/. Pinned: the site must build the same
# way every time. html-manager 1.x matches ipywidgets 8 (its __html_manager_version__).
NPM_PACKAGES = {
    "mathjax": ("3.2.2", "mathjax"),
    "requirejs": ("2.3.8", "requirejs"),
    "@jupyter-widgets/html-manager": ("1.0.7", "html-manager"),
}
VENDOR_URL = "_vendor"
# Sphinx resolves these relative to _static/, hence the "../".
MATHJAX_PATH = f"../{VENDOR_URL}/mathjax/tex-mml-chtml.js"
REQUIREJS_PATH = f"../{VENDOR_URL}/requirejs/require.js"
WIDGETS_PATH = f"../{VENDOR_URL}/html-manager/embed-amd.js"

# The nbval run of `make notebooks` (kept in step with NBVAL in the Makefile).
NBVAL_ARGS = ["-p", "no:cacheprovider", "--nbval-lax", "--nbval-current-env",
              "--nbval-sanitize-with", "nbval_sanitize.cfg", "--nbval-cell-timeout", "300"]

# The rubric of the course brief, used while grading/rubric.toml does not exist.
DEFAULT_RUBRIC = [
    ("linear_regression", 10, "Linear regression: MSE, its gradient, gradient descent"),
    ("network_built", 15, "A network built from your own Dense and activation layers"),
    ("backprop", 20, "Backpropagation: correct gradients, checked numerically"),
    ("training_loop", 10, "The training loop: epochs, shuffled minibatches, updates"),
    ("iris_80", 5, "Iris classified with at least 80 % test accuracy"),
    ("activations", 10, "Activations and their derivatives; stable softmax and losses"),
    ("normalisation_split", 5, "Standardisation fitted on the training split; stratified split"),
    ("learning_curve", 5, "Train and validation learning curves recorded"),
    ("xor", 10, "XOR solved by a small MLP"),
    ("adam", 3, "Adam with bias correction"),
    ("dropout", 3, "Inverted Dropout"),
    ("cnn_basics", 4, "Convolution and max-pooling basics"),
    ("bonus_mnist_90", 5, "Bonus: MNIST with at least 90 % test accuracy"),
    ("bonus_speedup", 5, "Bonus: a measured vectorisation speed-up"),
]

_WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
_WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class BuildError(RuntimeError):
    """A problem the person running the build must fix (printed without a traceback)."""


def log(msg: str) -> None:
    print(f"[book] {msg}", flush=True)


# --- chapters -------------------------------------------------------------------------

def find_chapters(solutions: Path = SOLUTIONS) -> list[Path]:
    """The chapter notebooks ``NN_topic.ipynb`` in order."""
    return sorted(solutions.glob("[0-9][0-9]_*.ipynb"))


def _sources(nb: nbformat.NotebookNode) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source) for c in nb.cells]


def source_digest(path: Path) -> str:
    """Fingerprint of a notebook's cell sources (the site records the one it was built from)."""
    text = json.dumps(_sources(nbformat.read(path, as_version=4)), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _raised(nb: nbformat.NotebookNode) -> bool:
    return any(out.get("output_type") == "error" and "raises-exception" not in cell.metadata.get("tags", [])
               for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs)


def stale_chapters(chapters: list[Path], executed: Path) -> list[Path]:
    """Chapters without a usable executed copy: missing, with other cell sources than the
    solution, or from a run in which a cell raised (e.g. an nbval run that failed)."""
    stale = []
    for path in chapters:
        done = executed / path.name
        if not done.exists():
            stale.append(path)
            continue
        nb = nbformat.read(done, as_version=4)
        if _raised(nb) or _sources(nb) != _sources(nbformat.read(path, as_version=4)):
            stale.append(path)
    return stale


def execute_chapters(chapters: list[Path], executed: Path) -> None:
    """Run nbval on ``chapters`` (static widgets), saving the executed copies to ``executed``."""
    log("executing with nbval (MLCOURSE_STATIC=1): " + ", ".join(p.name for p in chapters))
    env = dict(os.environ, MLCOURSE_STATIC="1")
    cmd = [sys.executable, "-m", "pytest", *NBVAL_ARGS, "--save-executed", str(executed),
           *[str(p) for p in chapters]]
    if subprocess.run(cmd, cwd=ROOT, env=env).returncode != 0:
        raise BuildError("nbval failed on " + ", ".join(p.name for p in chapters)
                         + ": fix the chapter before building the site")


def chapter_title(nb: nbformat.NotebookNode, fallback: str) -> str:
    """The first level-1 heading of the notebook (the page title)."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def readme_summaries(readme: Path = ROOT / "README.md") -> dict[str, str]:
    """{"01": "what you build"} from the chapter table of the README (| 01 | topic | you build |)."""
    if not readme.exists():
        return {}
    rows = re.findall(r"^\|\s*(\d\d)\s*\|[^|\n]*\|\s*([^\n]*?)\s*\|\s*$",
                      readme.read_text(encoding="utf-8"), flags=re.M)
    return {number: text for number, text in rows if text}


def chapter_summary(nb: nbformat.NotebookNode) -> str:
    """First sentence of the first paragraph after the title, as plain one-line Markdown."""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for para in re.split(r"\n\s*\n", cell.source):
            para = para.strip()
            if not para or para.startswith(("#", ">", "-", "*", "|", "`", ":", "$$", "!", "<", "1.")):
                continue
            text = " ".join(para.split())
            text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links → their text
            sentence = re.match(r"(.+?[.!?])(\s|$)", text)
            text = sentence.group(1) if sentence else text
            return _cell(text)
    return ""


def _cell(text: str) -> str:
    """Text made safe for a Markdown table cell."""
    return text.replace("|", "\\|")


def _collapse_progress(text: str) -> str:
    """Keep what a terminal would show: each line's text after its last carriage return."""
    text = _ANSI.sub("", text)
    lines = [line.rsplit("\r", 1)[-1] for line in text.split("\n")]
    return "\n".join(lines)


def clean_outputs(outputs: list, widget_models: set[str]) -> list:
    """Outputs fit for a static page.

    * widget views whose model state was not saved (nbval keeps none) are dropped: without
      a state the HTML manager has nothing to draw, and their text/plain is a useless repr
      such as ``HBox(children=(...))`` (e.g. a tqdm bar frozen at 0 %);
    * streams are reduced to what a terminal would show (tqdm redraws with ``\\r``).
    """
    cleaned = []
    for out in outputs:
        out = copy.deepcopy(out)
        kind = out.get("output_type")
        if kind in ("display_data", "execute_result") and _WIDGET_VIEW in out.get("data", {}):
            if out["data"][_WIDGET_VIEW].get("model_id") not in widget_models:
                continue
        if kind == "stream":
            out["text"] = _collapse_progress(out.get("text", ""))
            if not out["text"].strip():
                continue
        cleaned.append(out)
    return cleaned


def page_notebook(executed: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """The chapter page: student-facing code, outputs of the complete run, no solution-only cells."""
    state = executed.metadata.get("widgets", {}).get(_WIDGET_STATE, {}).get("state", {})
    models = set(state)
    cells = []
    for i, cell in enumerate(executed.cells):
        tags = cell.metadata.get("tags", [])
        if "solution-only" in tags:
            continue
        cell = copy.deepcopy(cell)
        if cell.cell_type == "code":
            for out in cell.outputs:
                if out.get("output_type") == "error" and "raises-exception" not in tags:
                    raise BuildError(f"{name}: cell {i} raised {out.get('ename')}: {out.get('evalue')} "
                                     "— the executed solution must run cleanly (see the nbval run)")
            cell.source, _ = strip_solutions(cell.source, f"{name} cell {i}")
            # nbval's markers are for the test run, not for readers.
            cell.source = "\n".join(line for line in cell.source.splitlines()
                                     if not line.strip().startswith("# NBVAL_"))
            cell.outputs = clean_outputs(cell.outputs, models)
            cell.metadata = {k: v for k, v in cell.metadata.items() if k in ("tags",)}
            student.fold_helpers(cell)
        cells.append(cell)
    # One note under the title, so readers know what they are looking at.
    note = nbformat.v4.new_markdown_cell(
        ":::{note}\nThis page shows a complete run of the chapter. The code cells show what you start "
        f"from in `notebooks/{name}` — your part is marked `# YOUR CODE HERE` — and the outputs "
        "are those of a working solution. The interactive controls appear here as static "
        "figures: open the notebook with `make lab` to move them.\n:::")
    note.id = "mlcourse-site-note"
    first_md = next((k for k, c in enumerate(cells) if c.cell_type == "markdown"), -1)
    cells.insert(first_md + 1, note)
    cells.insert(first_md + 2, student.download_note(name))
    page = nbformat.v4.new_notebook(cells=cells, metadata=copy.deepcopy(executed.metadata))
    if not state:
        page.metadata.pop("widgets", None)
    return page


# --- landing page content ----------------------------------------------------------------

def _load_toml(path: Path) -> dict:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    with open(path, "rb") as f:
        return tomllib.load(f)


def load_rubric(path: Path = ROOT / "grading" / "rubric.toml") -> list[tuple[str, float, str]]:
    """(item, points, description) from grading/rubric.toml, else the course brief's rubric.

    Accepts tables with a ``points`` key at any depth (``[items.xor] points = 10``,
    ``[[item]] name = "xor" points = 10``) or plain ``xor = 10`` entries.
    """
    if not path.exists():
        return list(DEFAULT_RUBRIC)
    data = _load_toml(path)
    items: list[tuple[str, float, str]] = []

    def walk(obj, key: str) -> None:
        if isinstance(obj, dict):
            if isinstance(obj.get("points"), (int, float)):
                if obj.get("category") == "extra" or "items" in obj or "chapters" in obj and "category" not in obj:
                    return  # extra chapters' items and assignments: not part of the course's total
                name = str(obj.get("name") or obj.get("id") or obj.get("item") or key)
                desc = str(obj.get("description") or obj.get("title") or obj.get("label") or "")
                items.append((name, obj["points"], desc))
                return
            for k, v in obj.items():
                walk(v, k)
        elif isinstance(obj, list):
            for v in obj:
                walk(v, key)

    walk(data, "")
    if not items:
        table = data.get("rubric", data.get("items", data))
        items = [(k, v, "") for k, v in table.items()
                 if isinstance(v, (int, float)) and not isinstance(v, bool)
                 and k not in ("total", "max", "max_points", "version")]
    if not items:
        raise BuildError(f"{path}: found no rubric items (tables with a 'points' key)")
    defaults = {name: desc for name, _, desc in DEFAULT_RUBRIC}
    return [(n, p, d or defaults.get(n, "")) for n, p, d in items]


def rubric_markdown() -> str:
    rows = ["| item | points | what earns it |", "|---|---:|---|"]
    core = bonus = 0.0
    for name, points, desc in load_rubric():
        rows.append(f"| `{name}` | {points:g} | {_cell(desc)} |")
        if name.startswith("bonus"):
            bonus += points
        else:
            core += points
    total = f"**{core:g} points**" + (f", plus up to {bonus:g} bonus points" if bonus else "")
    path = ROOT / "grading" / "rubric.toml"
    extra = [i for i in (_load_toml(path).get("item", []) if path.exists() else []) if i.get("category") == "extra"]
    note = ("\n\nGraded as extra items of their own, outside this total: " +
            ", ".join(f"`{i['id']}` ({i['points']:g}, chapter {', '.join(i.get('chapters', []))})" for i in extra) + "."
            if extra else "")
    return "\n".join(rows) + f"\n\nTotal: {total}.{note}"


def chapter_map_markdown(chapters: list[tuple[str, str, str]]) -> str:
    """chapters: (file name, title, summary) → a Markdown table linking every chapter page."""
    if not chapters:
        return "No chapter has been published yet."
    rows = ["| # | chapter | what you build |", "|---|---|---|"]
    for name, title, summary in chapters:
        rows.append(f"| {name[:2]} | [{_cell(title)}]({CHAPTER_DIR}/{name}) | {summary} |")
    return "\n".join(rows)


def render_page(template: Path, dest: Path, replacements: dict[str, str]) -> None:
    text = template.read_text(encoding="utf-8")
    for marker, content in replacements.items():
        if marker in text:
            text = text.replace(marker, content)
    dest.write_text(text, encoding="utf-8")


# --- vendored JavaScript ---------------------------------------------------------------

def _wanted(package: str, member: str) -> str | None:
    """Where a file of an npm tarball goes inside _vendor/<folder>/, or None to skip it."""
    if member == "package/LICENSE":
        return "LICENSE"
    if package == "mathjax":
        keep = ("es5/tex-mml-chtml.js", "es5/input/", "es5/output/chtml/", "es5/a11y/",
                "es5/ui/", "es5/sre/", "es5/adaptors/")
        rel = member.removeprefix("package/")
        return rel.removeprefix("es5/") if rel.startswith(keep) else None
    if package == "requirejs":
        return "require.js" if member == "package/require.js" else None
    if package == "@jupyter-widgets/html-manager":
        rel = member.removeprefix("package/")
        # The AMD bundle (base, controls, output widgets) and the fonts it refers to; the
        # other bundles (embed.js, libembed-amd.js) and source maps are not used.
        if rel == "dist/embed-amd.js" or (rel.startswith("dist/") and not rel.endswith((".js", ".map"))):
            return rel.removeprefix("dist/")
        return None
    return None


def _npm_pack(package: str, version: str, dest: Path) -> Path:
    """The npm tarball of package@version, downloaded into ``dest`` unless already there."""
    tarball = dest / f"{package.lstrip('@').replace('/', '-')}-{version}.tgz"
    if tarball.exists():
        return tarball
    npm = shutil.which("npm")
    if npm is None:
        raise BuildError(
            "npm is needed (once) to vendor MathJax, require.js and the ipywidgets HTML manager "
            "for the offline site, and it is not installed. Install Node.js/npm "
            "(Debian: apt-get install npm) and run the build again; afterwards the tarballs are "
            f"cached in {dest.relative_to(ROOT) if dest.is_relative_to(ROOT) else dest}.")
    dest.mkdir(parents=True, exist_ok=True)
    log(f"downloading {package}@{version} from the npm registry")
    proc = subprocess.run([npm, "pack", f"{package}@{version}", "--pack-destination", str(dest),
                           "--prefer-offline", "--silent", "--no-fund", "--no-audit"],
                          capture_output=True, text=True)
    if proc.returncode != 0 or not tarball.exists():
        raise BuildError(f"`npm pack {package}@{version}` failed (is the npm registry reachable?):\n"
                         + (proc.stderr or proc.stdout).strip())
    return tarball


def vendor(cache: Path = VENDOR) -> Path:
    """Extract the pinned npm packages into ``cache/site/_vendor``; return ``cache/site``.

    ``cache/site`` becomes a Sphinx ``html_extra_path``: its content is copied next to the
    pages. A second build finds the stamp and touches neither npm nor the tarballs.
    """
    site = cache / "site"
    stamp = site / VENDOR_URL / "versions.json"
    wanted = {name: version for name, (version, _) in NPM_PACKAGES.items()} | {"layout": 2}
    if stamp.exists() and json.loads(stamp.read_text()) == wanted:
        return site
    shutil.rmtree(site, ignore_errors=True)
    for package, (version, folder) in NPM_PACKAGES.items():
        tarball = _npm_pack(package, version, cache / "npm")
        target = site / VENDOR_URL / folder
        with tarfile.open(tarball, "r:gz") as tar:
            for member in tar.getmembers():
                rel = _wanted(package, member.name) if member.isfile() else None
                if rel is None or ".." in Path(rel).parts:
                    continue
                out = target / rel
                out.parent.mkdir(parents=True, exist_ok=True)
                with tar.extractfile(member) as src, open(out, "wb") as dst:
                    shutil.copyfileobj(src, dst)
        if not any(target.rglob("*.js")):
            raise BuildError(f"{tarball.name}: no JavaScript found — is it the right package?")
    stamp.write_text(json.dumps(wanted, indent=2) + "\n")
    return site


# --- staging and Sphinx ----------------------------------------------------------------

def write_config(stage: Path, vendor_site: Path) -> None:
    config = yaml.safe_load((BOOK / "_config.yml").read_text(encoding="utf-8"))
    sphinx_config = config.setdefault("sphinx", {}).setdefault("config", {}) or {}
    config["sphinx"]["config"] = sphinx_config
    sphinx_config["mathjax_path"] = MATHJAX_PATH
    # Loaded only on pages whose notebook saved widget state. Order matters: require.js,
    # then where the HTML manager finds its fonts (by default it derives that from the
    # AMD module path, which is wrong for a local copy), then the manager itself.
    assets = ("(function () { var dist = new URL('../html-manager/', document.querySelector("
              f"'script[src*=\"/{VENDOR_URL}/requirejs/\"]').src).href; "
              "window.__jupyter_widgets_assets_path__ = dist; "
              "require.config({paths: {'@jupyter-widgets/html-manager/dist': dist.slice(0, -1)}}); })();")
    sphinx_config["nb_ipywidgets_js"] = {
        REQUIREJS_PATH: {},
        "": {"body": assets},
        # Widget modules the bundle does not contain would be fetched from this "CDN":
        # point it at our own folder (relative to the chapter pages), never the internet.
        WIDGETS_PATH: {"data-jupyter-widgets-cdn": f"../{VENDOR_URL}/npm/"},
    }
    sphinx_config["html_extra_path"] = [str(vendor_site), str(student.copy_edition(BUILD / "site_extra").parent)]
    (stage / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True),
                                       encoding="utf-8")


def write_toc(stage: Path, chapter_names: list[str]) -> None:
    toc = yaml.safe_load((BOOK / "_toc.yml").read_text(encoding="utf-8"))
    parts = []
    for part in toc.get("parts", []):
        if part.get("caption") == "Chapters":
            part = dict(part, chapters=[{"file": f"{CHAPTER_DIR}/{Path(n).stem}"} for n in chapter_names])
        if part.get("chapters"):
            parts.append(part)
    toc["parts"] = parts
    (stage / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False), encoding="utf-8")


def stage_book(chapters: list[Path], executed: Path, stage: Path = STAGE) -> list[tuple[str, str, str]]:
    """Write the Jupyter Book sources to ``stage``; return (name, title, summary) per chapter."""
    shutil.rmtree(stage, ignore_errors=True)
    (stage / CHAPTER_DIR).mkdir(parents=True)
    # Files beside the chapters (images a notebook links to, ...) come along.
    folder = chapters[0].parent if chapters else SOLUTIONS
    for extra in folder.iterdir() if folder.exists() else []:
        if extra.suffix == ".ipynb" or extra.name.startswith((".", "__")):
            continue
        (shutil.copytree if extra.is_dir() else shutil.copy2)(extra, stage / CHAPTER_DIR / extra.name)
    info = []
    summaries = readme_summaries()
    for path in chapters:
        nb = nbformat.read(executed / path.name, as_version=4)
        page = page_notebook(nb, path.name)
        nbformat.write(page, stage / CHAPTER_DIR / path.name)
        summary = summaries.get(path.name[:2]) or chapter_summary(nb)
        info.append((path.name, chapter_title(nb, path.stem), summary))
    replacements = {"<!-- mlcourse:chapter-map -->": chapter_map_markdown(info),
                    "<!-- mlcourse:rubric -->": rubric_markdown()}
    for page in ("intro.md", "instructors.md"):
        render_page(BOOK / page, stage / page, replacements)
    for asset in BOOK.glob("*.svg"):  # favicon and the like
        shutil.copy2(asset, stage / asset.name)
    student.write_assets(stage)
    write_toc(stage, [p.name for p in chapters])
    return info


def sphinx_build(stage: Path, out: Path, doctrees: Path) -> None:
    """Jupyter Book's Sphinx configuration, then sphinx-build with warnings as errors."""
    jb = Path(sys.executable).parent / "jupyter-book"
    jb_cmd = [str(jb)] if jb.exists() else [shutil.which("jupyter-book") or "jupyter-book"]
    proc = subprocess.run([*jb_cmd, "config", "sphinx", str(stage)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise BuildError("jupyter-book config sphinx failed:\n" + proc.stderr + proc.stdout)
    with open(stage / "conf.py", "a", encoding="utf-8") as conf:
        # Offline site: thebe (live code on a remote kernel) would load its runtime from a CDN.
        conf.write('\n# Added by book/build.py\nextensions = [e for e in extensions if e != "sphinx_thebe"]\n')
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(doctrees, ignore_errors=True)
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-W", "-n", "--keep-going", "-q",
           "-d", str(doctrees), str(stage), str(out)]
    if subprocess.run(cmd, cwd=stage).returncode != 0:
        raise BuildError("sphinx-build reported warnings or errors (above), so the build failed. "
                         f"The pages in {stage.relative_to(ROOT) if stage.is_relative_to(ROOT) else stage}"
                         "/chapters/ are staged copies of solutions/: fix the chapter there "
                         "(a notebook line number 10000·k + n means cell k of the staged copy, counting from 1)")


def build(executed: Path, out: Path, execute_missing: bool = True, solutions: Path = SOLUTIONS) -> dict:
    t0 = time.perf_counter()
    chapters = find_chapters(solutions)
    stale = stale_chapters(chapters, executed)
    if stale:
        if not execute_missing:
            raise BuildError("no up-to-date executed copy in " f"{executed} of: "
                             + ", ".join(p.name for p in stale) + " (run `make notebooks`)")
        execute_chapters(stale, executed)
        still = stale_chapters(stale, executed)
        if still:
            raise BuildError("after nbval, the executed copy in " f"{executed} of "
                             + ", ".join(p.name for p in still) + " is missing, recorded an error, or "
                             "differs from the solution (was the chapter edited while nbval ran?)")
    t1 = time.perf_counter()
    info = stage_book(chapters, executed)
    vendor_site = vendor()
    write_config(STAGE, vendor_site)
    t2 = time.perf_counter()
    sphinx_build(STAGE, out, BUILD / "doctrees")
    t3 = time.perf_counter()
    pages = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.html")
                   if not p.relative_to(out).as_posix().startswith((VENDOR_URL, "_")))
    summary = {"chapters": [n for n, _, _ in info], "pages": pages,
               # of the executed copies the pages were made from (= the solutions at staging time)
               "sources": {p.name: source_digest(executed / p.name) for p in chapters},
               "seconds": {"execute": round(t1 - t0, 1), "stage_and_vendor": round(t2 - t1, 1),
                           "sphinx": round(t3 - t2, 1), "total": round(t3 - t0, 1)}}
    (BUILD / "site.json").write_text(json.dumps(summary, indent=2) + "\n")
    log(f"built {len(pages)} pages ({len(info)} chapters) into {out} in {t3 - t0:.1f} s "
        f"(sphinx {t3 - t2:.1f} s)")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--executed", type=Path, default=BUILD / "executed",
                        help="folder of executed solution notebooks (nbval --save-executed)")
    parser.add_argument("--out", type=Path, default=BUILD / "html", help="where the site goes")
    parser.add_argument("--no-execute", action="store_true",
                        help="fail instead of executing chapters whose executed copy is missing or stale")
    parser.add_argument("--solutions", type=Path, default=SOLUTIONS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        build(args.executed.resolve(), args.out.resolve(), execute_missing=not args.no_execute,
              solutions=args.solutions.resolve())
    except BuildError as exc:
        print(f"[book] ERROR: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
