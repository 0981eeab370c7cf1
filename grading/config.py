"""The rubric (grading/rubric.toml) and the exercise manifest (grading/exercises.toml).

Both are data: the rubric lists the items of the gradebook, the manifest maps every
checked exercise of a chapter to one item and says how many of the item's points it earns.
A check's own metadata (its function, chapter, description) lives in its ``define(...)`` call
(mlcourse/checks/chNN.py); the manifest holds only what grading adds: the notebook, the rubric
item, the points and the hidden seeds.
"""
from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path

from mlcourse.checks import all_checks

from . import assignments as _assignments
from .assignments import Assignment

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

HERE = Path(__file__).resolve().parent
RUBRIC = HERE / "rubric.toml"
MANIFEST = HERE / "exercises.toml"
CATEGORIES = ("required", "standard", "advanced", "bonus", "extra")  # extra: graded, outside the course total
COURSE = "course"  # the assignment of a rubric file that declares none: every item


@dataclass(frozen=True)
class Item:
    """One rubric item (a gradebook column)."""

    id: str
    description: str
    points: float
    category: str
    chapters: tuple[str, ...]
    partial: bool


@dataclass(frozen=True)
class Exercise:
    """One checked function of a chapter notebook, worth ``points`` of rubric item ``rubric``."""

    chapter: str      # notebook stem, e.g. "04_mlp_backprop"
    function: str
    check: str
    rubric: str
    points: float
    hidden_seeds: tuple[int, ...] | None = None  # None: the rubric's default

    @property
    def notebook(self) -> str:
        return f"{self.chapter}.ipynb"


@dataclass
class Rubric:
    items: list[Item]
    exercises: list[Exercise]
    hidden_seeds: tuple[int, ...] = (1, 2)
    problems: list[str] = field(default_factory=list)
    assignments: list[Assignment] = field(default_factory=list)

    def assignment(self, assignment_id: str) -> Assignment:
        for a in self.assignments:
            if a.id == assignment_id:
                return a
        raise KeyError(f"no assignment {assignment_id!r}; the rubric declares: "
                       f"{', '.join(a.id for a in self.assignments)}")

    def only(self, chosen: list[Assignment]) -> "Rubric":
        """This rubric grading only the exercises of ``chosen``'s items."""
        keep = {i for a in chosen for i in a.items}
        return Rubric(items=self.items, exercises=[e for e in self.exercises if e.rubric in keep],
                      hidden_seeds=self.hidden_seeds, problems=self.problems, assignments=chosen)

    def item(self, item_id: str) -> Item:
        return next(i for i in self.items if i.id == item_id)

    def chapters(self) -> list[str]:
        """Notebook stems in manifest order, each once."""
        return list(dict.fromkeys(e.chapter for e in self.exercises))

    def seeds(self, ex: Exercise) -> tuple[int, ...]:
        return (0,) + (self.hidden_seeds if ex.hidden_seeds is None else ex.hidden_seeds)


def _read(path: Path) -> dict:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{path}: {exc}") from None


def load(rubric: Path = RUBRIC, manifest: Path = MANIFEST) -> Rubric:
    """Read and validate both files; raises ValueError naming the file and the entry."""
    data = _read(rubric)
    items = []
    for n, raw in enumerate(data.get("item", []), 1):
        try:
            item = Item(id=str(raw["id"]), description=str(raw["description"]), points=float(raw["points"]),
                        category=str(raw["category"]), chapters=tuple(str(c) for c in raw.get("chapters", [])),
                        partial=bool(raw.get("partial", True)))
        except KeyError as exc:
            raise ValueError(f"{rubric}: item {n} has no {exc.args[0]!r}") from None
        if item.category not in CATEGORIES:
            raise ValueError(f"{rubric}: item {item.id!r}: category must be one of {CATEGORIES}")
        if any(i.id == item.id for i in items):
            raise ValueError(f"{rubric}: item {item.id!r} is listed twice")
        items.append(item)
    seeds = tuple(int(s) for s in data.get("grader", {}).get("hidden_seeds", [1, 2]))
    ids = {i.id for i in items}
    checks = all_checks()
    exercises, unknown = [], []
    for n, raw in enumerate(_read(manifest).get("exercise", []), 1):
        try:
            hidden = raw.get("hidden_seeds")
            check = str(raw["check"])
            if check not in checks:
                unknown.append(check)
            function = checks[check].function if check in checks else check
            if str(raw.get("function", function)) != function:
                raise ValueError(f"{manifest}: exercise {n} says function = {raw['function']!r}, but check "
                                 f"{check!r} checks {function!r} (its define(...) call decides; drop the line)")
            ex = Exercise(chapter=str(raw["chapter"]), function=function, check=check,
                          rubric=str(raw["rubric"]), points=float(raw["points"]),
                          hidden_seeds=None if hidden is None else tuple(int(s) for s in hidden))
        except KeyError as exc:
            raise ValueError(f"{manifest}: exercise {n} has no {exc.args[0]!r}") from None
        if check in checks and not ex.chapter.startswith(checks[check].chapter):
            raise ValueError(f"{manifest}: exercise {n}: check {check!r} belongs to chapter "
                             f"{checks[check].chapter}, not to {ex.chapter}")
        if ex.rubric not in ids:
            raise ValueError(f"{manifest}: exercise {n} ({ex.chapter}: {ex.function}) names rubric item "
                             f"{ex.rubric!r}; known items: {', '.join(sorted(ids))}")
        if ex.points < 0:  # 0 points: checked and reported in the feedback, but not scored
            raise ValueError(f"{manifest}: exercise {n} ({ex.chapter}: {ex.function}) must be worth >= 0 points")
        if any((e.chapter, e.check) == (ex.chapter, ex.check) for e in exercises):
            raise ValueError(f"{manifest}: check {ex.check!r} of {ex.chapter} is listed twice")
        exercises.append(ex)
    if unknown:
        raise ValueError(f"{manifest} names checks that do not exist: {', '.join(sorted(set(unknown)))}")
    chosen = _assignments.parse(data, items, rubric) or [
        Assignment(id=COURSE, title="The whole course", items=tuple(i.id for i in items if i.category != "extra"))]
    return Rubric(items=items, exercises=exercises, hidden_seeds=seeds, assignments=chosen)


def load_check_modules(paths: list[Path]) -> list[tuple[str, str]]:
    """Import extra check definitions (files of ``define(...)`` calls, e.g. test fixtures).

    They are registered in ``mlcourse.checks`` under ``mlcourse.checks.<stem>``; the worker
    receives the same source so both sides know the same checks. Returns (name, source) pairs.
    """
    sources = []
    for path in paths:
        path = Path(path).resolve()
        name = f"mlcourse.checks.{path.stem}"
        source = path.read_text(encoding="utf-8")
        if name not in sys.modules:
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
        sources.append((name, source))
    return sources
