"""Site build, step 4: MathJax 3, require.js and the ipywidgets HTML manager, served locally.

They come from the npm registry (``npm pack``, once: the tarballs are kept in
``_build/vendor/npm/``) and are served from ``_vendor/`` beside the pages, so no page loads
anything from a CDN.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
from pathlib import Path

from .common import ROOT, VENDOR, VENDOR_URL, BuildError, log

# npm packages served from <site>/_vendor/<folder>/. Pinned: the site must build the same
# way every time. html-manager 1.x matches ipywidgets 8 (its __html_manager_version__).
NPM_PACKAGES = {
    "mathjax": ("3.2.2", "mathjax"),
    "requirejs": ("2.3.8", "requirejs"),
    "@jupyter-widgets/html-manager": ("1.0.7", "html-manager"),
}


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


