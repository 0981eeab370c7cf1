"""Own code only: an exercise that calls the course's own implementation scores 0.

The worker's process holds the checks and the ``mlcourse`` library (the grader needs them
there to call the student's functions). A student could answer ``dense_forward`` with
``mlcourse.layers.Dense`` or ch08's ``forward_reference``. So, before the notebook's
definitions load, every function and class constructor of ``mlcourse`` (the checks' modules
included) is watched — except what the chapter's *released* notebook imports itself (the
course gives the student those) and the infrastructure (``check``, plots, widgets). A
watched function called, or class instantiated, *directly by the student's code* while an
exercise is graded is recorded, and the grader scores the exercise 0 naming what was used.
Calls made by the library itself (an allowed ``Sequential`` building its layers), by a
check's own ``run``, or methods of an object a check passed in (the model a training loop
trains) do not count: the caller's file decides.

This catches using the course's code; it is not a wall against digging the original
functions out of the wrappers (see grading/README.md, "Not enforced").
"""
from __future__ import annotations

import ast
import importlib
import inspect
import json
import os
import sys
from pathlib import Path
from typing import Any

# Never watched: how a notebook talks to the course (check cells, figures, widgets).
INFRASTRUCTURE = ("mlcourse.checks.core", "mlcourse.checks", "mlcourse.plots", "mlcourse.widgets",
                  "mlcourse.blas", "mlcourse._validate")
LIBRARY = ("conv", "data", "gradcheck", "layers", "linear", "losses", "metrics", "model", "nn", "optim",
           "preprocessing", "splits", "toydata", "train")


def released_imports(notebook: Path) -> list[str]:
    """What the released notebook imports from mlcourse: "mlcourse.data.load_iris" (a name)
    or "mlcourse.nn" (a whole module). Grader side (trusted file)."""
    try:
        nb = json.loads(notebook.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    found: list[str] = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        src = src if isinstance(src, str) else "".join(src)
        try:
            from mlcourse.notebook import python_source  # lazy: IPython, only for released notebooks

            tree = ast.parse(python_source(src))
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("mlcourse"):
                found += [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                found += [a.name for a in node.names if a.name.startswith("mlcourse")]
    return sorted(set(found))


class Watch:
    """Worker side: wraps the course's implementations; ``used`` lists what student code called."""

    def __init__(self, allowed: list[str]) -> None:
        import mlcourse  # worker side, after confine()

        self.active = False
        self.used: list[str] = []
        self.allowed = set(allowed)
        self.own = (os.path.dirname(os.path.abspath(mlcourse.__file__)) + os.sep,
                    os.path.dirname(os.path.abspath(__file__)) + os.sep)
        for name in LIBRARY:
            try:
                importlib.import_module(f"mlcourse.{name}")
            except Exception:  # noqa: BLE001 — a module that cannot load cannot be used either
                pass
        modules = {n: m for n, m in list(sys.modules.items())
                   if m is not None and (n == "mlcourse" or n.startswith("mlcourse.")) and n not in INFRASTRUCTURE}
        self.labels: dict[int, str] = {}  # id of every wrapper → what it wraps
        wrapped: dict[int, Any] = {}
        # What the released notebook imports is allowed under every name it has (mlcourse.nn
        # re-exports mlcourse.model.Sequential: one object, allowed everywhere).
        allowed_ids = self.allowed_ids = {id(obj) for modname, module in modules.items()
                                          for attr, obj in vars(module).items() if self._allowed(modname, attr)}
        for modname, module in modules.items():
            for attr, obj in list(vars(module).items()):
                home = getattr(obj, "__module__", None)
                if not (inspect.isfunction(obj) or inspect.isclass(obj)) or not isinstance(home, str) \
                        or not home.startswith("mlcourse") or home in INFRASTRUCTURE or id(obj) in allowed_ids:
                    continue
                label = f"{home}.{getattr(obj, '__qualname__', attr)}"
                if id(obj) not in wrapped:
                    wrapped[id(obj)] = self._wrap_class(obj, label) if inspect.isclass(obj) else self._wrap(obj, label)
                setattr(module, attr, wrapped[id(obj)])

    def _allowed(self, module: str, name: str) -> bool:
        return f"{module}.{name}" in self.allowed or module in self.allowed

    def _wrap(self, fn: Any, label: str) -> Any:
        watch = self

        def watched(*args: Any, **kwargs: Any) -> Any:
            if watch.active and not sys._getframe(1).f_code.co_filename.startswith(watch.own):
                watch.used.append(label)
            return fn(*args, **kwargs)

        watched.__name__, watched.__qualname__, watched.__doc__ = fn.__name__, fn.__qualname__, fn.__doc__
        self.labels[id(watched)] = label
        return watched

    def _wrap_class(self, cls: type, label: str) -> type:
        # In place (isinstance keeps working), and only its constructor: the student building
        # the course's object is the shortcut; calling methods of an object a check passed in
        # (a model to train) is the exercise.
        init = vars(cls).get("__init__")
        if not inspect.isfunction(init):
            return cls
        watch = self

        def watched(obj: Any, *args: Any, **kwargs: Any) -> Any:
            # What counts is the class being built: an allowed nn.ReLU() runs its base class's
            # __init__, and a student's own subclass of a course base class is the student's.
            made = type(obj)
            if watch.active and id(made) not in watch.allowed_ids and made.__module__.startswith("mlcourse") \
                    and not sys._getframe(1).f_code.co_filename.startswith(watch.own):
                watch.used.append(f"{made.__module__}.{made.__qualname__}")
            return init(obj, *args, **kwargs)

        watched.__name__, watched.__qualname__, watched.__doc__ = init.__name__, init.__qualname__, init.__doc__
        self.labels[id(watched)] = label
        cls.__init__ = watched
        return cls

    def is_course_code(self, fn: Any) -> str | None:
        """What ``fn`` is, if the student's "function" is the course's own (imported as is)."""
        for candidate in (fn, getattr(fn, "__func__", None), getattr(fn, "__init__", None)):
            if candidate is not None and id(candidate) in self.labels:
                return self.labels[id(candidate)]
        return None

    def taken(self) -> list[str]:
        """What the student's code used since the last call (and forget it)."""
        used, self.used = sorted(set(self.used)), []
        return used[:5]
