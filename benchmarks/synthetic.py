"""Generate a synthetic handbook: N articles shaped like real ones, next to the real ones.

Each article has valid front matter (a date within three years, the topic's
title as category, three of twenty tags from ``docs/tags.yaml``, a
description), a label, about 1,000 words under headings, a code block, a
``{ref}``, a ``{doc}`` and a ``{term}``, and a Graphviz diagram of its own.
Articles are spread evenly over the five topics and added to each topic page's
toctree, so the result builds with ``-W -n`` like the real handbook.

The words are drawn from the real articles' prose: each synthetic article
takes one real article as its model, in turn, and samples words with that
article's frequencies. So a subject's words cluster in the articles about it,
common words are everywhere and rare ones are rare, as in real writing, and a
search index gets the size it would have for 1,000 real articles. (Drawn
from one list of 50 words, as before, every word was on every page about 20
times: the worst case for any search index, and nothing like a handbook.)
"""

from __future__ import annotations

import datetime as dt
import random
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

# What a build needs (the same list as the tests' project copy).
PREFIX = "bench-"  # every generated slug starts with this
FIRST_DATE = dt.date(2022, 7, 1)
DAYS = 3 * 365
_VOCABULARY = """
request queue worker latency budget deadline retry cache replica shard timeout
pool thread client server dependency contract schema event log trace span
metric alert incident capacity throughput backlog partition lease token
consumer producer boundary service database index write read failure recovery
rollout canary fallback limit window burst spike load
"""
WORDS = tuple(_VOCABULARY.split())
_TOCTREE = re.compile(r"(```\{toctree\}\n(?:.*\n)*?)(```)")
_GLOSSARY = re.compile(r"```\{glossary\}\n((?:.*\n)*?)```")
_TERM = re.compile(r"^([A-Za-z][^'\n]*?)\s*$")  # unindented lines; terms with quotes skipped
_FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.S)
_NOT_PROSE = re.compile(r"(?ms)^([`:]{3,}).*?^\1\s*$|\{[a-z-]+\}`[^`]*`|`[^`]*`|\(.*?\)=|<[^>]*>")
_WORD = re.compile(r"\b[a-z]{2,}\b")


@dataclass(frozen=True)
class Synthetic:
    """One generated article."""

    topic: str
    slug: str
    title: str

    @property
    def docname(self) -> str:
        """The article's Sphinx document name."""
        return f"{self.topic}/{self.slug}"

    @property
    def label(self) -> str:
        """The article's MyST label."""
        return f"{self.topic}-{self.slug}"


def glossary_terms(docs: Path) -> list[str]:
    """The glossary's terms, read from ``docs/glossary.md``."""
    block = _GLOSSARY.search((docs / "glossary.md").read_text(encoding="utf-8"))
    if not block:
        raise ValueError("docs/glossary.md has no glossary directive")
    return [m.group(1) for line in block.group(1).splitlines() if (m := _TERM.match(line))]


def prose_words(docs: Path) -> list[list[str]]:
    """Each real article's prose as a list of lower-case words, in order.

    Front matter, code, directives, roles and labels are left out, so sampled
    text holds plain words only and builds without warnings.
    """
    models = []
    for path in sorted(docs.glob("*/*.md")):
        if path.stem.startswith(PREFIX):
            continue
        text = _NOT_PROSE.sub(" ", _FRONT_MATTER.sub("", path.read_text(encoding="utf-8")))
        words = _WORD.findall(text.lower())
        if len(words) >= 500:
            models.append(words)
    if not models:
        raise ValueError(f"no article of 500 words or more under {docs} to draw words from")
    return models


def sentence(rng: random.Random, words: list[str], length: int = 14) -> str:
    """One plain sentence of ``length`` words sampled from ``words``."""
    text = " ".join(rng.choice(words) for _ in range(length))
    return text[0].upper() + text[1:] + "."


def paragraph(rng: random.Random, words: list[str], sentences: int = 5) -> str:
    """A paragraph of about 70 words."""
    return " ".join(sentence(rng, words) for _ in range(sentences))


def article_text(
    article: Synthetic,
    *,
    category: str,
    date: dt.date,
    tags: list[str],
    other: Synthetic,
    term: str,
    words: list[str],
    rng: random.Random,
) -> str:
    """The Markdown source of one article, about 1,000 words."""
    description = (
        f"What {article.title.lower()} means for a backend team, "
        f"with a worked example and the signals to watch."
    )
    parts = [
        "---",
        f"date: {date.isoformat()}",
        f"category: {category}",
        f"tags: [{', '.join(tags)}]",
        f"description: {description}",
        "---",
        "",
        f"({article.label})=",
        f"# {article.title}",
        "",
        paragraph(rng, words),
        "",
        paragraph(rng, words),
        "",
    ]
    for section in range(1, 5):
        parts += [f"## Part {section}: {rng.choice(words)} and {rng.choice(words)}", ""]
        parts += [paragraph(rng, words), "", paragraph(rng, words), ""]
        if section == 2:
            parts += [
                "```python",
                "def handle(request, deadline):",
                "    if deadline.expired():",
                "        raise TimeoutError(request.id)",
                "    return queue.put(request, timeout=deadline.remaining())",
                "```",
                "",
                f"See {{ref}}`{other.label}`, the article {{doc}}`/{other.docname}` and "
                f"the glossary's {{term}}`{term}`. {sentence(rng, words)}",
                "",
                f"{{numref}}`fig-{article.slug}` draws it.",
                "",
                f":::{{graphviz}} figures/{article.slug}.dot",
                f":name: fig-{article.slug}",
                f":alt: {sentence(rng, words, 10)}",
                "",
                sentence(rng, words),
                ":::",
                "",
            ]
        parts += [f"### Checklist {section}", "", paragraph(rng, words, 3), ""]
    return "\n".join(parts)


def diagram_text(article: Synthetic, rng: random.Random) -> str:
    """A small Graphviz diagram of its own for each article, as real articles have."""
    a, b, c, d = rng.sample(WORDS, 4)
    return (
        f"digraph {article.slug.replace('-', '_')} {{\n"
        "  node [shape=box, style=rounded];\n"
        f'  {a} -> {b} [label="{article.slug}"];\n  {b} -> {c};\n  {b} -> {d} [style=dashed];\n'
        "}\n"
    )


def plan(topics: dict[str, str], count: int) -> list[Synthetic]:
    """The ``count`` articles to generate, spread over the topics in turn."""
    names = sorted(topics)
    return [
        Synthetic(
            names[index % len(names)],
            f"{PREFIX}{index:04d}",
            f"Synthetic article {index:04d}",
        )
        for index in range(count)
    ]


def add_to_toctree(topic_page: Path, docnames: list[str]) -> None:
    """Append ``docnames`` to the (first) toctree of a topic page."""
    text = topic_page.read_text(encoding="utf-8")
    match = _TOCTREE.search(text)
    if not match:
        raise ValueError(f"{topic_page} has no toctree")
    body = match.group(1)
    entries = "".join(f"{name}\n" for name in docnames)
    topic_page.write_text(
        text[: match.start()] + body + entries + match.group(2) + text[match.end() :],
        encoding="utf-8",
    )


def generate(project: Path, count: int, topics: dict[str, str], seed: int = 6) -> list[Synthetic]:
    """Write ``count`` articles into ``project/docs`` and list them in the toctrees."""
    docs = project / "docs"
    rng = random.Random(seed)
    tags = sorted(yaml.safe_load((docs / "tags.yaml").read_text(encoding="utf-8")))[:20]
    terms = glossary_terms(docs)
    models = prose_words(docs)
    articles = plan(topics, count)
    for index, article in enumerate(articles):
        date = FIRST_DATE + dt.timedelta(days=index * DAYS // max(count, 1))
        text = article_text(
            article,
            category=topics[article.topic],
            date=date,
            tags=sorted(rng.sample(tags, 3)),
            other=articles[index - 1],
            term=rng.choice(terms),
            words=models[index % len(models)],
            rng=rng,
        )
        (docs / article.topic / "figures").mkdir(parents=True, exist_ok=True)
        (docs / f"{article.docname}.md").write_text(text, encoding="utf-8")
        diagram = docs / article.topic / "figures" / f"{article.slug}.dot"
        diagram.write_text(diagram_text(article, rng), encoding="utf-8")
    for topic in sorted(topics):
        add_to_toctree(docs / f"{topic}.md", [a.docname for a in articles if a.topic == topic])
    return articles
