"""What a notebook's check cell calls: ``check("dense_forward", section=1)`` prints one verdict.

The released check cells (authoring/release.py) import ``check`` themselves and leave the
function out, so a check cell works first thing in a fresh kernel — plain Jupyter, Colab, no
kernel extension — and, run too early, says which cell to run instead of raising NameError.
"""
from __future__ import annotations

import sys
from typing import Callable

from .. import friendly
from .core import Result, Status, evaluate, get_check


def check(name: str, fn: Callable | None = None, quiet: bool = False, *, section: str | int | None = None) -> Result:
    """Run the public check ``name`` on your function ``fn`` and print one verdict.

    Without ``fn`` (the released check cells: ``check("dense_forward", section=1)``) the
    check's function is looked up in the calling notebook's namespace, so a check cell run
    before the cell that defines it — or before the imports — says which cell to run
    (``section``: where that cell is) instead of raising ``NameError``, in any Jupyter.
    """
    try:
        chk = get_check(name)
    except KeyError as exc:
        print(f"❌ {exc.args[0]}", file=sys.stdout)
        return Result(name, Status.ERROR, str(exc.args[0]))
    namespace = sys._getframe(1).f_globals
    if fn is None and chk.function not in namespace:
        result = Result(name, Status.MISSING_FUNCTION, friendly.not_defined_yet(chk.function, section),
                        chk.description)
    else:
        result = evaluate(chk, namespace[chk.function] if fn is None else fn)
        hint = friendly.run_first(result.detail.removeprefix("raised "), namespace) if result.status is Status.ERROR else None
        result.detail = hint or result.detail
    if not quiet:
        print(result.message)
    return result
