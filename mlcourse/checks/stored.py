"""Grader-side code, and the public cases the student edition ships instead of it.

In the instructor's repository every check makes its cases live (``Check.live_cases``). The
student edition's build (authoring/edition.py) removes the grader-side functions — references,
hypotheses, case builders that need them — and records here, for the public seed(s), the cases
of every check that needs them: ``args``, ``expected``, ``hypotheses``, ``secret``, ``batch``
and ``label``. Two files next to this module, both safe to load (no pickle):

* ``public_cases.json`` — the structure: ``{"seeds": [0], "checks": {name: {"0": [case, …]}}}``
  where every value is JSON, or ``{"array": "a12"}`` / ``{"scalar": "a13"}`` for a NumPy array
  or scalar, ``{"tuple": […]}``, ``{"dict": [[key, value], …]}`` (keys of any plain type,
  order kept);
* ``public_cases.npz`` — the arrays, read with ``allow_pickle=False``.

The round trip is exact: same types, dtypes, shapes and values (tests/test_stored_cases.py).
"""
from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

JSON_FILE = "public_cases.json"
ARRAYS_FILE = "public_cases.npz"
_HERE = Path(__file__).resolve().parent
_loaded: dict[Path, tuple[dict, dict]] = {}


class NotStored(LookupError):
    """The student edition has no stored case for this check and seed."""


# --- marking (in the instructor's package) --------------------------------------------------

def grader_side(fn: Callable) -> Callable:
    """Mark ``fn`` as carrying solution knowledge: a reference implementation, a variant of it
    used as a hypothesis, or a case builder that needs one.

    The student edition's build (authoring/edition.py) removes every function so marked from
    its copy of the package and ships the public seed's cases instead (stored.py). Only a
    module-level ``def`` can be marked; judges and ``run`` functions must never call one.
    """
    fn.__grader_side__ = True
    return fn


class GraderSideOnly(RuntimeError):
    """Raised by what is left of a grader-side function in the student edition."""


def _stripped(name: str) -> Callable:
    """The one-line stand-in the edition puts where the grader-side function ``name`` was."""
    def stub(*args: Any, **kwargs: Any) -> Any:
        raise GraderSideOnly(f"{name} is grader-side code: the student edition does not include it "
                             "(its public cases are stored instead)")
    stub.__name__ = stub.__qualname__ = name
    stub.__grader_side__ = stub.__stripped__ = True
    return stub


grader_side.stripped = _stripped  # what the edition's stub lines call: `name = grader_side.stripped("name")`


def is_grader_side(fn: Any) -> bool:
    return bool(getattr(fn, "__grader_side__", False))


def is_stripped(fn: Any) -> bool:
    return bool(getattr(fn, "__stripped__", False))


# --- encoding (at build time) -------------------------------------------------------------

def _encode(value: Any, arrays: dict[str, np.ndarray], where: str) -> Any:
    if isinstance(value, np.generic):  # first: np.float64 is also a float
        key = f"a{len(arrays)}"
        arrays[key] = np.asarray(value)
        return {"scalar": key}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            raise TypeError(f"{where}: an array of Python objects cannot be stored without pickle")
        key = f"a{len(arrays)}"
        arrays[key] = value
        return {"array": key}
    if isinstance(value, tuple):
        return {"tuple": [_encode(v, arrays, f"{where}[{i}]") for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [_encode(v, arrays, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {"dict": [[_encode(k, arrays, f"{where} key"), _encode(v, arrays, f"{where}[{k!r}]")]
                         for k, v in value.items()]}
    raise TypeError(f"{where}: cannot store a {type(value).__name__} (plain data only: arrays, numbers, "
                    "strings, None, and tuples/lists/dicts of those)")


def _decode(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(value, list):
        return [_decode(v, arrays) for v in value]
    if isinstance(value, dict):
        if "array" in value:
            return arrays[value["array"]].copy()
        if "scalar" in value:
            return arrays[value["scalar"]][()]
        if "tuple" in value:
            return tuple(_decode(v, arrays) for v in value["tuple"])
        return {_decode(k, arrays): _decode(v, arrays) for k, v in value["dict"]}
    return value


CASE_FIELDS = ("args", "expected", "hypotheses", "secret", "batch", "label")


def record(checks: Iterable[Any], seeds: tuple[int, ...], folder: Path) -> tuple[Path, Path]:
    """Make the cases of ``checks`` (live) for ``seeds`` and write them into ``folder``."""
    arrays: dict[str, np.ndarray] = {}
    out: dict[str, dict] = {}
    for chk in checks:
        out[chk.name] = {}
        for seed in seeds:
            out[chk.name][str(seed)] = [
                {f: _encode(getattr(case, f), arrays, f"{chk.name} seed {seed} case {i} {f}") for f in CASE_FIELDS}
                for i, case in enumerate(chk.live_cases(seed))]
    folder = Path(folder)
    text = json.dumps({"seeds": list(seeds), "checks": out}, indent=None, separators=(",", ":"), sort_keys=False)
    (folder / JSON_FILE).write_text(text + "\n", encoding="utf-8")
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    (folder / ARRAYS_FILE).write_bytes(buf.getvalue())
    return folder / JSON_FILE, folder / ARRAYS_FILE


# --- decoding (at run time, in the student edition) ----------------------------------------

def _load(folder: Path) -> tuple[dict, dict]:
    if folder not in _loaded:
        if not (folder / JSON_FILE).is_file():
            raise NotStored(f"this copy of mlcourse has neither the grader-side reference code nor the stored "
                            f"public cases ({folder / JSON_FILE})")
        data = json.loads((folder / JSON_FILE).read_text(encoding="utf-8"))
        with np.load(folder / ARRAYS_FILE, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        _loaded[folder] = (data, arrays)
    return _loaded[folder]


def stored_cases(name: str, seed: int, make: Callable[..., Any], folder: Path = _HERE) -> list[Any]:
    """The stored cases of check ``name`` for ``seed``, each made by ``make(**fields)`` (Case)."""
    data, arrays = _load(folder)
    stored = data["checks"].get(name, {})
    if str(seed) not in stored:
        seeds = ", ".join(map(str, data["seeds"]))
        raise NotStored(f"check {name!r}: the student edition holds its cases for the public seed ({seeds}) only, "
                        f"not for seed {seed} — the other seeds are the autograder's")
    return [make(**{f: _decode(c[f], arrays) for f in CASE_FIELDS}) for c in stored[str(seed)]]
