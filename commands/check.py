"""Check article files without building the site: ``python -m commands.check FILE...``.

Runs the build's own checks of the source text (:mod:`handbook.frontmatter`)
on the named files, prints ``file:line: message`` for each problem, and exits
1 if there was any. ``nox -s check`` and the pre-commit hook use it. It takes
a second for the whole handbook.

What it checks: the front matter (every field, date, tag and the category),
the title and the label above it, labels shared with another article or
taken by a file name, titles shared by two articles, ``{post}`` directives
in articles, code fences that are never closed, and that each file is UTF-8.

What it does not check, because only a build can: cross-references and
``{term}`` links, toctrees (an article listed in none, or twice), included
files and ``:pyobject:`` names, figures (a diagram or plot that fails to
draw, a missing ``:alt:``), heading levels, and Markdown that MyST rejects.
``nox -s docs`` checks those, with the same ``file:line: message`` form.
"""

from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass
from pathlib import Path

from handbook.frontmatter import (
    Problem,
    across_articles,
    article_body_problems,
    front_matter_problems,
    load_tags,
    load_topics,
    read_article,
    scan_source,
    source_problems,
)

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Checker:
    """What the checks of one page need to know about the rest of the handbook."""

    topics: dict[str, str]
    tags: dict[str, str]
    basenames: set[str]
    label_owners: dict[str, list[str]]
    same_titles: dict[str, list[Problem]]
    today: dt.date

    @classmethod
    def for_docs(cls, docs: Path, topics: dict[str, str]) -> Checker:
        """A checker that knows every page under ``docs``, as the build does."""
        # Titles and labels are checked across every article, as the build does.
        label_owners, same_titles = across_articles(
            {
                path.relative_to(docs).with_suffix("").as_posix(): scan_source(
                    path.read_text(encoding="utf-8", errors="replace")
                )
                for path in docs.glob("*/*.md")
            }
        )
        return cls(
            topics,
            load_tags(docs / "tags.yaml"),
            {p.stem for p in docs.rglob("*.md")},
            label_owners,
            same_titles,
            dt.datetime.now(dt.UTC).date(),
        )

    def problems(self, docname: str, text: str) -> list[Problem]:
        """Every problem in the page ``docname`` (``topic/slug``) whose source is ``text``."""
        article = read_article(docname, text)
        facts = scan_source(text)
        found = source_problems(facts, self.basenames, article is not None)
        if article is not None:
            found += front_matter_problems(article, self.topics, self.tags, self.today)
            found += article_body_problems(facts, docname, self.label_owners)
            found += self.same_titles.get(docname, [])
        return sorted(found)


def decode(data: bytes) -> tuple[str, Problem | None]:
    """The file's text, and where it stops being UTF-8 if it does."""
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        problem = (
            line,
            "this line is not UTF-8 (the file was saved in another encoding); "
            "save the file as UTF-8 in your editor",
        )
        return data.decode("utf-8", errors="replace"), problem


def main(argv: list[str]) -> int:
    """Check the named files; print ``file:line: message`` for each problem."""
    if any(arg in ("-h", "--help") for arg in argv):
        print(__doc__)
        return 0
    docs = ROOT / "docs"
    checker = Checker.for_docs(docs, load_topics(docs / "topics.yaml"))
    failed = 0
    for name in argv:
        path = Path(name).resolve()
        try:
            docname = path.relative_to(docs).with_suffix("").as_posix()
        except ValueError:
            continue  # not a page of the handbook
        text, encoding_problem = decode(path.read_bytes())
        problems = checker.problems(docname, text)
        if encoding_problem:
            problems.insert(0, encoding_problem)
        for line, message in problems:
            print(f"{name}:{line}: {message}")
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
