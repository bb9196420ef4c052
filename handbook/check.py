"""Check article files without building the site: ``python -m handbook.check FILE...``.

Runs the same checks as the build (:mod:`handbook.frontmatter`) on the named
files, prints ``file:line: message`` for each problem, and exits 1 if there
was any. ``nox -s check`` and the pre-commit hook use it.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from handbook.frontmatter import (
    across_articles,
    article_body_problems,
    front_matter_problems,
    load_tags,
    read_article,
    scan_source,
    source_problems,
)

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str]) -> int:
    """Check the front matter and body of article files without building the site."""
    sys.path.insert(0, str(ROOT))
    from conf import handbook_topics  # conf.py is read only when run

    docs = ROOT / "docs"
    tags = load_tags(docs / "tags.yaml")
    basenames = {p.stem for p in docs.rglob("*.md")}
    today = dt.datetime.now(dt.UTC).date()
    # Titles and labels are checked across every article, as the build does.
    label_owners, same_titles = across_articles(
        {
            path.relative_to(docs).with_suffix("").as_posix(): scan_source(
                path.read_text(encoding="utf-8")
            )
            for path in docs.glob("*/*.md")
        }
    )
    failed = 0
    for name in argv:
        path = Path(name).resolve()
        try:
            docname = path.relative_to(docs).with_suffix("").as_posix()
        except ValueError:
            continue  # not a page of the handbook
        text = path.read_text(encoding="utf-8")
        article = read_article(docname, text)
        facts = scan_source(text)
        problems = source_problems(facts, basenames, article is not None)
        if article is not None:
            problems += front_matter_problems(article, handbook_topics, tags, today)
            problems += article_body_problems(facts, docname, label_owners)
            problems += same_titles.get(docname, [])
        for line, message in sorted(problems):
            print(f"{name}:{line}: {message}")
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
