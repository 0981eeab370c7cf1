"""Assignments: what a course grades together, when it is due, and how late work counts.

An assignment is a set of rubric items (chosen by the chapters they belong to, or named)
with an optional due date, late policy and point scale. ``rubric.toml`` declares them::

    [late]                         # the course's default late policy
    policy = "penalty"             # none | penalty | cutoff
    per_day = 10                   # percent of the assignment's points per started day late

    [[assignment]]
    id = "week2"                   # gradebook column, feedback folder name
    title = "Week 2: data and activations"
    chapters = ["02", "03"]        # every rubric item of these chapters
    # items = ["xor"]              # and/or rubric items by id
    due = 2026-12-07T23:59:00+01:00   # TOML date-time with its UTC offset
    # points = 20                  # scale the score to this maximum (default: the items' points)
    # late = { policy = "cutoff" } # this assignment's own late policy
    # canvas_id = "12345"          # the Canvas assignment this is imported into

An assignment's maximum is the points of its non-bonus items (all-bonus assignments: the
bonus points); bonus items add to the score on top of it. Late penalties are taken from
the score after scaling and never take it below 0.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .config import Item

POLICIES = ("none", "penalty", "cutoff")
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
RESERVED_COLUMNS = ("late_days", "penalty")


@dataclass(frozen=True)
class LatePolicy:
    """none: lateness is only reported; penalty: ``per_day`` % of the maximum per started
    day late; cutoff: a late submission scores 0."""

    policy: str = "none"
    per_day: float = 0.0

    def describe(self) -> str:
        if self.policy == "penalty":
            return f"{_num(self.per_day)} % of the points per started day late"
        if self.policy == "cutoff":
            return "no points for work submitted after the due date"
        return "late work is accepted without penalty"


@dataclass(frozen=True)
class Assignment:
    id: str
    title: str
    items: tuple[str, ...]           # rubric item ids, in rubric order
    chapters: tuple[str, ...] = ()
    due: datetime | None = None
    late: LatePolicy = LatePolicy()
    points: float | None = None      # declared maximum (None: the items' points)
    canvas_id: str = ""              # the Canvas assignment id, for the Canvas export's header


@dataclass(frozen=True)
class Late:
    """How late one submission of one assignment is, and what it costs."""

    days: int             # started days after the due date (0: on time or no due date)
    penalty: float        # points taken off
    note: str             # one sentence for the feedback ("" when on time)


def _num(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def parse_late(raw: object, where: str, default: LatePolicy = LatePolicy()) -> LatePolicy:
    if raw is None:
        return default
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: late must be a table like {{ policy = \"penalty\", per_day = 10 }}")
    policy = str(raw.get("policy", default.policy))
    if policy not in POLICIES:
        raise ValueError(f"{where}: late policy must be one of {', '.join(POLICIES)}, not {policy!r}")
    try:
        per_day = float(raw.get("per_day", default.per_day if policy == default.policy else 0.0))
    except (TypeError, ValueError):
        raise ValueError(f"{where}: late per_day must be a number (percent per day)") from None
    if policy == "penalty" and not 0 < per_day <= 100:
        raise ValueError(f"{where}: late per_day must be a percentage in (0, 100], got {per_day}")
    unknown = set(raw) - {"policy", "per_day"}
    if unknown:
        raise ValueError(f"{where}: unknown late setting(s) {', '.join(sorted(unknown))}; "
                         "known: policy, per_day")
    return LatePolicy(policy=policy, per_day=per_day if policy == "penalty" else 0.0)


def _due(raw: object, where: str) -> datetime | None:
    if raw is None:
        return None
    if not isinstance(raw, datetime) or raw.tzinfo is None:
        raise ValueError(f"{where}: due must be a TOML date-time with its UTC offset, "
                         f"e.g. due = 2026-12-07T23:59:00+01:00 (got {raw!r})")
    return raw


def parse(data: dict, items: list["Item"], path: object) -> list[Assignment]:
    """The ``[[assignment]]`` tables of a rubric file (validated against its items)."""
    default_late = parse_late(data.get("late"), f"{path}: [late]")
    by_id = {i.id: i for i in items}
    for item_id in by_id:
        if item_id in RESERVED_COLUMNS:
            raise ValueError(f"{path}: item id {item_id!r} is reserved for a gradebook column")
    out: list[Assignment] = []
    for n, raw in enumerate(data.get("assignment", []), 1):
        where = f"{path}: assignment {n}"
        if "id" not in raw:
            raise ValueError(f"{where} has no 'id'")
        aid = str(raw["id"])
        where = f"{path}: assignment {aid!r}"
        if not ID_PATTERN.match(aid):
            raise ValueError(f"{where}: the id must be letters, digits, '_' or '-' (it names a folder "
                             "and a gradebook column)")
        if any(a.id == aid for a in out):
            raise ValueError(f"{where} is declared twice")
        chapters = tuple(str(c) for c in raw.get("chapters", []))
        named = [str(i) for i in raw.get("items", [])]
        unknown = [i for i in named if i not in by_id]
        if unknown:
            raise ValueError(f"{where}: unknown item(s) {', '.join(unknown)}; known: {', '.join(by_id)}")
        chosen = [i.id for i in items if i.id in named or set(i.chapters) & set(chapters)]
        if not chosen:
            raise ValueError(f"{where}: no rubric item belongs to chapters {list(chapters)} or items {named}")
        points = raw.get("points")
        if points is not None and (not isinstance(points, (int, float)) or points <= 0):
            raise ValueError(f"{where}: points must be a positive number")
        extra = set(raw) - {"id", "title", "chapters", "items", "due", "late", "points", "canvas_id"}
        if extra:
            raise ValueError(f"{where}: unknown field(s) {', '.join(sorted(extra))}")
        out.append(Assignment(id=aid, title=str(raw.get("title", aid)), items=tuple(chosen), chapters=chapters,
                              due=_due(raw.get("due"), where), late=parse_late(raw.get("late"), where, default_late),
                              points=None if points is None else float(points),
                              canvas_id=str(raw.get("canvas_id", ""))))
    return out


def maxima(a: Assignment, items: dict[str, "Item"]) -> tuple[float, float, float]:
    """(the assignment's maximum, its items' core points, its items' bonus points)."""
    core = sum(items[i].points for i in a.items if items[i].category != "bonus")
    bonus = sum(items[i].points for i in a.items if items[i].category == "bonus")
    base = core or bonus
    return (a.points if a.points is not None else base), core, bonus


def lateness(a: Assignment, submitted: datetime | None, maximum: float) -> Late:
    """Started days late and the penalty for a submission made at ``submitted``."""
    if a.due is None or submitted is None or submitted <= a.due:
        return Late(0, 0.0, "")
    days = math.ceil((submitted - a.due).total_seconds() / 86400)
    when = f"submitted {stamp(submitted)}, {days} day{'s' if days != 1 else ''} after the due date {stamp(a.due)}"
    if a.late.policy == "penalty":
        penalty = round(maximum * a.late.per_day / 100 * days, 4)
        return Late(days, penalty, f"{when}: −{_num(penalty)} points ({a.late.describe()})")
    if a.late.policy == "cutoff":
        return Late(days, math.inf, f"{when}: {a.late.describe()}")
    return Late(days, 0.0, f"{when} (no penalty)")


def stamp(t: datetime) -> str:
    """A time as the gradebook shows it: UTC, to the second, ``2026-12-07T22:59:00Z``."""
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def score(a: Assignment, items: dict[str, "Item"], earned: dict[str, float], late: Late) -> dict:
    """The assignment's points for one student from the points of its items."""
    maximum, core, bonus = maxima(a, items)
    raw = sum(earned.get(i, 0.0) for i in a.items)
    got_bonus = sum(earned.get(i, 0.0) for i in a.items if items[i].category == "bonus")
    base = core or bonus
    factor = maximum / base if a.points is not None and base else 1.0
    scaled = raw * factor
    final = 0.0 if math.isinf(late.penalty) else max(0.0, scaled - late.penalty)
    penalty = scaled if math.isinf(late.penalty) else min(late.penalty, scaled)
    return {"points": round(final, 4), "max": maximum, "bonus": round(bonus * factor, 4) if core else 0.0,
            "bonus_points": round(got_bonus * factor, 4) if core else 0.0,
            "before_late": round(scaled, 4), "late_days": late.days, "penalty": round(penalty, 4),
            "late_note": late.note}
