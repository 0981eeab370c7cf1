"""Site build, step 3: the landing and instructors' pages and the table of contents.

The pages in book/ carry markers that are filled in here: the chapter map (from the staged
chapters) and the rubric (read by grading.config, the one reader of grading/rubric.toml).
"""
from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from grading import config

from . import release, site_extras
from .common import BOOK, CHAPTER_DIR
from .pages import table_cell


def rubric_markdown(rubric: config.Rubric | None = None) -> str:
    """The rubric as a Markdown table with its total (bonus items counted apart; the extra items
    of further chapters listed below it, outside the total)."""
    rubric = rubric or config.load()
    rows = ["| item | points | what earns it |", "|---|---:|---|"]
    core = bonus = 0.0
    for item in rubric.items:
        if item.category == "extra":
            continue
        rows.append(f"| `{item.id}` | {item.points:g} | {table_cell(item.description)} |")
        if item.category == "bonus":
            bonus += item.points
        else:
            core += item.points
    total = f"**{core:g} points**" + (f", plus up to {bonus:g} bonus points" if bonus else "")
    extra = [i for i in rubric.items if i.category == "extra"]
    note = ("\n\nGraded as extra items of their own, outside this total: " +
            ", ".join(f"`{i.id}` ({i.points:g}, chapter {', '.join(i.chapters)})" for i in extra) + "."
            if extra else "")
    return "\n".join(rows) + f"\n\nTotal: {total}.{note}"


def chapter_map_markdown(chapters: list[tuple[str, str, str]]) -> str:
    """chapters: (file name, title, summary) → a Markdown table linking every chapter page."""
    if not chapters:
        return "No chapter has been published yet."
    rows = ["| # | chapter | what you build |", "|---|---|---|"]
    for name, title, summary in chapters:
        rows.append(f"| {name[:2]} | [{table_cell(title)}]({CHAPTER_DIR}/{name}) | {summary} |")
    return "\n".join(rows)


def render_page(template: Path, dest: Path, replacements: dict[str, str]) -> None:
    text = template.read_text(encoding="utf-8")
    for marker, content in replacements.items():
        if marker in text:
            text = text.replace(marker, content)
    dest.write_text(text, encoding="utf-8")




def write_toc(stage: Path, chapter_names: list[str]) -> None:
    toc = yaml.safe_load((BOOK / "_toc.yml").read_text(encoding="utf-8"))
    parts = []
    for part in toc.get("parts", []):
        if part.get("caption") == "Chapters":
            part = dict(part, chapters=[{"file": f"{CHAPTER_DIR}/{Path(n).stem}"} for n in chapter_names])
        if part.get("chapters"):
            parts.append(part)
    toc["parts"] = parts
    (stage / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False), encoding="utf-8")



def stage_landing(stage: Path, info: list[tuple[str, str, str]]) -> None:
    """The landing and instructors' pages, the favicon and _toc.yml, into ``stage``."""
    replacements = {"<!-- mlcourse:chapter-map -->": chapter_map_markdown(info),
                    "<!-- mlcourse:rubric -->": rubric_markdown(), "<!-- mlcourse:wheel -->": release.wheel_name()}
    for page in ("intro.md", "instructors.md"):
        render_page(BOOK / page, stage / page, replacements)
    for asset in BOOK.glob("*.svg"):  # favicon and the like
        shutil.copy2(asset, stage / asset.name)
    site_extras.write_assets(stage)
    write_toc(stage, [name for name, _, _ in info])
