"""A corpus of student implementations, written here and modelled on public student code.

Every entry is a function written for this project that reproduces the *approach* (or the
bug) of an implementation we read in a public repository of a CS231n / Deep Learning from
Scratch style course, adapted to this course's calling convention. No code from those
repositories is copied here; ``seen`` names where the pattern was observed (owner/repo:path),
so a reviewer can check the verdict against the original.

``verdict`` is our own reading of the code against the exercise's docstring:

* ``"correct"``    — must pass the check (public seed and the grader's hidden seeds);
* ``"buggy"``      — must be rejected by the public check, with ``says`` in the message;
* ``"convention"`` — right maths but it breaks a rule the course enforces on purpose (dtype
  kept, no overflow warning, ReLU's derivative at 0, no in-place change of the inputs):
  must be rejected with a message that names that rule (``says``).
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import Callable

VERDICTS = ("correct", "buggy", "convention")


@dataclass(frozen=True)
class Entry:
    check: str
    verdict: str
    seen: str
    fn: Callable
    says: tuple[str, ...] = ()
    note: str = ""

    @property
    def id(self) -> str:
        return f"{self.check}-{self.fn.__name__}"


ENTRIES: list[Entry] = []


def entry(check: str, verdict: str, seen: str, says: tuple[str, ...] | str = (), note: str = "") -> Callable:
    """Register the decorated function as a corpus entry for the check ``check``."""
    if verdict not in VERDICTS:
        raise ValueError(f"verdict must be one of {VERDICTS}, got {verdict!r}")
    if ":" not in seen:
        raise ValueError(f"seen must be 'owner/repo:path', got {seen!r}")

    def register(fn: Callable) -> Callable:
        ENTRIES.append(Entry(check, verdict, seen, fn, (says,) if isinstance(says, str) else tuple(says), note))
        return fn
    return register


def load() -> list[Entry]:
    """Every entry of every module in this package."""
    for mod in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{mod.name}")
    return list(ENTRIES)
