"""Start a new article: ``nox -s new -- "Title" --topic resilience``.

Creates ``docs/<topic>/<slug>.md`` with complete front matter and the
editorial guide's sections, a diagram and a plot to start from in
``docs/<topic>/figures/``, ``examples/<module>.py`` with its test in
``tests/examples/``, adds the article to the topic's toctree, and records
its URL in the manifest of published URLs (``docs/urls.txt``). The
``description``, ``tags`` and the figures' alternative text and captions are
left for the author: the build names them until they are filled in. Nothing
is written when the slug is taken or the topic unknown.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from commands.urls import add_to_manifest, add_to_toctree
from handbook.frontmatter import load_topics

ROOT = Path(__file__).resolve().parents[1]

ARTICLE = """\
---
date: {date}
category: {category}
tags: []
description: TODO say in one or two sentences what the article is about.
reviewed: {date}
owner: Handbook editors
---

({topic}-{slug})=
# {title}

% Open with a production situation an on-call engineer recognizes (the symptom
% people actually see), then state the claim this article defends.

## Why the obvious response fails

% Name the naive fix and explain, by its mechanism, how it makes things worse.

## The mechanism

% What is really going on, with numbers: a formula, a worked example, a
% measured effect. Link glossary terms on first use: {{term}}`Little's law`.
% Refer to each figure from the prose: {{numref}}`fig-{slug}-diagram` shows ...

:::{{graphviz}} figures/{slug}.dot
:name: fig-{slug}-diagram
:alt: TODO say in a sentence what the diagram shows, for readers who cannot see it.

TODO the caption: what to notice in the diagram.
:::

## What to do instead

% Concrete designs, their costs, and when each one is the wrong choice.

## Worked example

```{{literalinclude}} ../../examples/{module}.py
:language: python
:pyobject: demonstrate
```

% Explain what the example shows and what it prints. The plot draws the
% example's own data ({{numref}}`fig-{slug}-plot`), so it cannot drift from the code.

:::{{plot}} figures/{slug}.py
:name: fig-{slug}-plot
:alt: TODO say what the plot shows, with its key values.

TODO the caption: what to notice in the plot.
:::

## How to tell it is working

% The signals, metrics, logs or traces an operator watches, and what each
% looks like when the design is wrong.

## Checklist

% Five to ten lines a reviewer can apply to a real design.

## Related reading

% At least three other articles, each with a sentence on why to follow it:
% {{ref}}`link text <topic-slug>`. Then the primary public sources.
"""

EXAMPLE = '''\
"""Worked example for "{title}".

Replace this with a small, runnable demonstration of the article's mechanism
(standard library only, deterministic), and run it with
``python -m examples.{module}``.
"""

from __future__ import annotations


def demonstrate() -> str:
    """Return what the example shows; replace with the real mechanism."""
    return "{title}"


def figure_data() -> list[tuple[float, float]]:
    """The points the article's plot draws; replace with what the example computes."""
    return [(x, x * x) for x in range(6)]


def main() -> None:
    """Print the demonstration."""
    print(demonstrate())


if __name__ == "__main__":
    main()
'''

TEST = '''\
"""The claims of "{title}"."""

import pytest

from examples.{module} import demonstrate, figure_data
from tests.figures import draw, lines


def test_the_example_does_what_the_article_claims() -> None:
    # Each claim the article makes about the example, as an assertion on what
    # demonstrate() (or the real mechanism) returns. This placeholder fails
    # until then, as the build refuses the article's placeholders.
    pytest.fail(
        f"write the article's claims as assertions on {{demonstrate.__module__}} "
        "in this test (tests/examples/test_{module}.py)"
    )


def test_the_figure_plots_the_tested_data() -> None:
    # The plot must show exactly what the example computes (and the tests assert).
    assert lines(draw("{topic}/figures/{slug}.py")) == {{"replace me": figure_data()}}
'''


DIAGRAM = """\
// The diagram for "{title}". Replace it with the mechanism the article
// explains: boxes for components or states, arrows for what flows or changes.
// Graphviz's language: https://graphviz.org/doc/info/lang.html
digraph {module} {{
  rankdir=LR;
  node [shape=box, style=rounded];
  request -> mechanism -> outcome;
}}
"""

PLOT = '''\
"""The plot for "{title}": draws what examples/{module}.py computes."""

from matplotlib.figure import Figure

from examples.{module} import figure_data
from handbook.figures import COLORS


def draw(figure: Figure) -> None:
    axes = figure.subplots()
    xs, ys = zip(*figure_data(), strict=True)
    axes.plot(xs, ys, color=COLORS["neutral"], marker="o", label="replace me")
    axes.set(xlabel="x (unit)", ylabel="y (unit)")
    axes.legend()
'''


class ScaffoldError(Exception):
    """A request the scaffold refuses, with the reason and what to do."""


@dataclass
class Plan:
    """The files one new article needs."""

    article: Path
    example: Path
    test: Path
    diagram: Path
    plot: Path
    topic_page: Path
    docname: str

    @property
    def created(self) -> tuple[Path, ...]:
        """Every file the scaffold writes."""
        return (self.article, self.diagram, self.plot, self.example, self.test)


def slugify(title: str) -> str:
    """A file name for ``title``: lowercase ASCII words joined by hyphens."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")


def plan(root: Path, topic: str, slug: str, topics: dict[str, str]) -> Plan:
    """Work out the paths for a new article, refusing a taken slug or unknown topic."""
    if topic not in topics:
        raise ScaffoldError(f"unknown topic '{topic}'; choose one of {', '.join(topics)}")
    if not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", slug):
        raise ScaffoldError(f"'{slug}' is not a valid slug; use lowercase words and hyphens")
    taken = sorted((root / "docs").glob(f"*/{slug}.md"))
    if taken:
        raise ScaffoldError(
            f"an article named '{slug}' exists: {taken[0].relative_to(root)}; "
            "choose another title or pass --slug"
        )
    module = slug.replace("-", "_")
    return Plan(
        article=root / "docs" / topic / f"{slug}.md",
        example=root / "examples" / f"{module}.py",
        test=root / "tests" / "examples" / f"test_{module}.py",
        diagram=root / "docs" / topic / "figures" / f"{slug}.dot",
        plot=root / "docs" / topic / "figures" / f"{slug}.py",
        topic_page=root / "docs" / f"{topic}.md",
        docname=f"{topic}/{slug}",
    )


def scaffold(
    root: Path, title: str, topic: str, slug: str | None, today: dt.date, topics: dict[str, str]
) -> Plan:
    """Create the article, its example and test, and add it to the toctree."""
    paths = plan(root, topic, slug or slugify(title), topics)
    for path in paths.created[1:]:
        if path.exists():
            raise ScaffoldError(f"{path.relative_to(root)} exists; choose another slug")
    values = {
        "title": title,
        "topic": topic,
        "slug": paths.article.stem,
        "module": paths.example.stem,
        "category": topics[topic],
        "date": today.isoformat(),
    }
    if not add_to_toctree(paths.topic_page, paths.docname):
        raise ScaffoldError(f"{paths.topic_page} has no toctree to add the article to")
    templates = (ARTICLE, DIAGRAM, PLOT, EXAMPLE, TEST)
    for path, template in zip(paths.created, templates, strict=True):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template.format(**values), encoding="utf-8")
    add_to_manifest(root, [f"{paths.docname}.html"])
    return paths


def main(argv: list[str]) -> int:
    """Command line: scaffold one article, print what was created and what is next."""
    parser = argparse.ArgumentParser(prog="nox -s new --", description=__doc__.split("\n")[0])
    parser.add_argument(
        "title", help='the article\'s title, in sentence case, e.g. "Retry budgets"'
    )
    parser.add_argument("--topic", required=True, help="the topic folder under docs/")
    parser.add_argument("--slug", help="the file name, if the one made from the title is poor")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        paths = scaffold(
            args.root,
            args.title,
            args.topic,
            args.slug,
            dt.datetime.now(dt.UTC).date(),
            load_topics(args.root / "docs" / "topics.yaml"),
        )
    except ScaffoldError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for path in paths.created:
        print(f"created {path.relative_to(args.root)}")
    print(f"added {paths.docname} to {paths.topic_page.relative_to(args.root)}")
    print(
        "next: fill in tags and description, write the article, then preview it with "
        "`python3 -m nox -s serve`"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
