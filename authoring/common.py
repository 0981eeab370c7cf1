"""What every step of the site build shares: where things are, its error type, its log."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"            # the site's content files (pages, _config.yml, _toc.yml)
SOLUTIONS = ROOT / "solutions"
BUILD = ROOT / "_build"
STAGE = BUILD / "book_src"
VENDOR = BUILD / "vendor"
CHAPTER_DIR = "chapters"  # chapter pages live in <site>/chapters/NN_topic.html
VENDOR_URL = "_vendor"    # the vendored JavaScript, beside the pages


class BuildError(RuntimeError):
    """A problem the person running the build must fix (printed without a traceback)."""


def log(msg: str) -> None:
    print(f"[book] {msg}", flush=True)
