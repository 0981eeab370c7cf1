"""Site build, step 5: Jupyter Book 1.x's Sphinx configuration, then sphinx-build.

Warnings are errors and references are nitpicky (``-W -n --keep-going``); notebook
execution is off (the pages carry the outputs of the validated run).
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from . import site_extras
from .common import BOOK, BUILD, ROOT, VENDOR_URL, BuildError

# Sphinx resolves these relative to _static/, hence the "../".
MATHJAX_PATH = f"../{VENDOR_URL}/mathjax/tex-mml-chtml.js"
REQUIREJS_PATH = f"../{VENDOR_URL}/requirejs/require.js"
WIDGETS_PATH = f"../{VENDOR_URL}/html-manager/embed-amd.js"


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
    sphinx_config["html_extra_path"] = [str(vendor_site), str(site_extras.copy_edition(BUILD / "site_extra").parent)]
    (stage / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True),
                                       encoding="utf-8")


def sphinx_build(stage: Path, out: Path, doctrees: Path) -> None:
    """Jupyter Book's Sphinx configuration, then sphinx-build with warnings as errors."""
    jb = Path(sys.executable).parent / "jupyter-book"
    jb_cmd = [str(jb)] if jb.exists() else [shutil.which("jupyter-book") or "jupyter-book"]
    proc = subprocess.run([*jb_cmd, "config", "sphinx", str(stage)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise BuildError("jupyter-book config sphinx failed:\n" + proc.stderr + proc.stdout)
    with open(stage / "conf.py", "a", encoding="utf-8") as conf:
        # Offline site: thebe (live code on a remote kernel) would load its runtime from a CDN.
        conf.write('\n# Added by authoring/sphinx.py\nextensions = [e for e in extensions if e != "sphinx_thebe"]\n')
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(doctrees, ignore_errors=True)
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-W", "-n", "--keep-going", "-q",
           "-d", str(doctrees), str(stage), str(out)]
    if subprocess.run(cmd, cwd=stage).returncode != 0:
        raise BuildError("sphinx-build reported warnings or errors (above), so the build failed. "
                         f"The pages in {stage.relative_to(ROOT) if stage.is_relative_to(ROOT) else stage}"
                         "/chapters/ are staged copies of solutions/: fix the chapter there "
                         "(a notebook line number 10000·k + n means cell k of the staged copy, counting from 1)")
