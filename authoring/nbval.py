"""The nbval run that validates the course — its arguments, written once.

``make notebooks`` (through ``python -m authoring.nbval``, which prints them) and the site
build (which re-executes a stale chapter the same way) both use :data:`NBVAL_ARGS`.
"""
from __future__ import annotations

NBVAL_ARGS = ["-p", "no:cacheprovider", "--nbval-lax", "--nbval-current-env",
              "--nbval-sanitize-with", "nbval_sanitize.cfg", "--nbval-cell-timeout", "300"]

if __name__ == "__main__":
    print(" ".join(NBVAL_ARGS))
