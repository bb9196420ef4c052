"""Figures: every article shows its idea, in HTML and in the PDF, drawn from source and cached.

The figures come from ``{graphviz}`` and ``{plot}`` directives (handbook/figures.py).
These tests read the built site and PDF as readers get them, and build copies of
the handbook to check that figures are drawn once and redrawn only when their
source changes.
"""

from __future__ import annotations

import html as html_lib
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from handbook import figures
from tests.conftest import Article, copy_project, find_articles
from tests.shared import ROOT, Build, build_html

ARTICLES = find_articles()
DIRECTIVE = re.compile(r"(?m)^[:`]{3,}\{(graphviz|plot)\} (\S+)")
FIGURE = re.compile(
    r'<figure class="handbook-figure[^"]*" id="(?P<id>fig-[^"]+)">\s*'
    r'<img src="(?P<src>[^"]+)" alt="(?P<alt>[^"]*)"(?P<attrs>[^>]*)/>\s*'
    r'<figcaption>\s*<p><span class="caption-number">(?P<number>Figure \d+) </span>'
    r'<span class="caption-text">(?P<caption>.*?)</span>',
    re.S,
)
GENERIC_ALT = {"diagram", "figure", "image", "plot", "chart", "graph"}


def figures_of(page: str) -> list[re.Match[str]]:
    return list(FIGURE.finditer(page))


def test_figure_pattern_matches_the_built_markup(html: Build) -> None:
    # If the markup changes, every other check here would pass on zero figures.
    total = sum(len(figures_of(html.page(f"{a.docname}.html"))) for a in ARTICLES)
    sources = sum(len(DIRECTIVE.findall(a.path.read_text(encoding="utf-8"))) for a in ARTICLES)
    assert total == sources > 0


@pytest.mark.parametrize("article", ARTICLES, ids=[a.docname for a in ARTICLES])
def test_article_has_a_figure_the_prose_points_to(html: Build, article: Article) -> None:
    page = html.page(f"{article.docname}.html")
    figures = figures_of(page)
    assert figures, f"{article.docname} has no figure"
    for figure in figures:
        alt = html_lib.unescape(figure["alt"])
        assert len(alt.split()) >= 8 and alt.lower().strip(".") not in GENERIC_ALT, alt
        assert figure["caption"].strip(), f"{figure['id']} has no caption"
        assert 'loading="lazy"' in figure["attrs"] and 'width="' in figure["attrs"]
        link = f'href="#{figure["id"]}"><span class="std std-numref">{figure["number"]}</span>'
        assert link in page, f"the prose of {article.docname} never refers to {figure['id']}"
        image = html.outdir / article.docname.rsplit("/", 1)[0] / figure["src"]
        assert image.resolve().is_file() and image.suffix == ".svg", figure["src"]


def caption_numbers(page: str) -> list[str]:
    return [figure["number"] for figure in figures_of(page)]


def test_each_article_numbers_its_own_figures_from_one(html: Build) -> None:
    # Sphinx would number them across the site: an article's first figure "Figure 9".
    for article in ARTICLES:
        numbers = caption_numbers(html.page(f"{article.docname}.html"))
        assert numbers == [f"Figure {n}" for n in range(1, len(numbers) + 1)], article.docname


@pytest.mark.builds
def test_a_new_figure_renumbers_only_its_own_article(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    out = tmp_path / "out"
    first = build_html(project, out)
    assert first.returncode == 0, first.log[-3000:]
    with_figures = [a for a in find_articles(project) if DIRECTIVE.search(a.path.read_text())]
    edited, others = with_figures[0], with_figures[1:]

    def other_numbers() -> dict[str, list[str]]:
        return {a.docname: caption_numbers((out / f"{a.docname}.html").read_text()) for a in others}

    before = other_numbers()
    # Insert a copy of the article's first figure before it, under a new name.
    text = edited.path.read_text(encoding="utf-8")
    start = DIRECTIVE.search(text)
    assert start is not None
    fence = re.match(r"[:`]+", start.group(0)).group(0)
    probe = (
        f"{start.group(0)}\n:name: fig-numbering-probe\n"
        ":alt: The article's first diagram again, placed first by the numbering test.\n\n"
        f"A probe figure.\n{fence}\n\n{{numref}}`fig-numbering-probe` comes first.\n\n"
    )
    edited.path.write_text(text[: start.start()] + probe + text[start.start() :])
    again = build_html(project, out)
    assert again.returncode == 0, again.log[-3000:]

    page = again.page(f"{edited.docname}.html")
    figures = figures_of(page)
    assert [f["id"] for f in figures][:1] == ["fig-numbering-probe"]
    assert caption_numbers(page) == [f"Figure {n}" for n in range(1, len(figures) + 1)]
    pointer = f'href="#{figures[1]["id"]}"><span class="std std-numref">Figure 2</span>'
    assert pointer in page, "the prose still gives the old figure its old number"
    # The new label rewrote every page (handbook.incremental); no other article's numbers moved.
    assert other_numbers() == before


def test_figures_carry_no_date_or_random_ids(html: Build) -> None:
    svgs = sorted((html.outdir / "_images").glob("*.svg"))
    assert svgs
    for svg in svgs:
        text = svg.read_text(encoding="utf-8")
        assert "<dc:date>" not in text, f"{svg.name} records the time it was drawn"


def test_every_plot_is_compared_with_its_data_by_a_test() -> None:
    tests = "\n".join(p.read_text() for p in (ROOT / "tests" / "examples").glob("test_*.py"))
    for article in ARTICLES:
        for kind, source in DIRECTIVE.findall(article.path.read_text(encoding="utf-8")):
            if kind == "plot":
                path = f"{article.topic}/{source}"
                assert f'draw("{path}")' in tests, f"no test draws {path} and checks its data"


def test_every_figure_is_in_the_pdf(html: Build, pdf: Path) -> None:
    tex = (pdf.parent / "handbook.tex").read_text(encoding="utf-8")
    text = " ".join(page.extract_text() for page in PdfReader(pdf).pages).replace("\u2019", "'")
    # Without white space: pypdf infers spaces from glyph gaps and font metrics, and
    # drops many in justified lines, depending on which glyphs the font subset holds.
    text = "".join(re.sub(r"-\n", "", text).split())
    for article in ARTICLES:
        for figure in figures_of(html.page(f"{article.docname}.html")):
            key = Path(figure["src"]).stem
            assert f"\\sphinxincludegraphics{{{{{key}}}.pdf}}" in tex, figure["id"]
            assert (pdf.parent / f"{key}.pdf").is_file(), figure["id"]
            caption = html_lib.unescape(re.sub(r"<[^>]+>", "", figure["caption"]))
            opening = " ".join(caption.replace("\u2019", "'").split()[:6])
            assert "".join(opening.split()) in text, (
                f"caption of {figure['id']} not in the PDF: {opening!r}"
            )


def test_the_cache_key_changes_with_everything_that_decides_a_figure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cached figure is reused only while drawing it again would give the same file."""
    examples = tmp_path / "project" / "examples"
    (examples / "shop").mkdir(parents=True)
    (examples / "model.py").write_text("RATE = 1\n")
    (examples / "shop" / "recorded.json").write_text("[1, 2]\n")
    source = tmp_path / "project" / "curve.py"
    source.write_text("def plot(ax): ...\n")

    def key(kind: str = "plot", figure: Path = source) -> str:
        read = figures.examples_read(kind, str(examples))
        return figures.cache_key(kind, figure, str(examples), read)

    # Where the project lives is not part of it: every clone shares its keys.
    elsewhere = tmp_path / "clone" / "examples"
    elsewhere.parent.mkdir()
    (examples.parent).rename(elsewhere.parent)
    read = figures.examples_read("plot", str(elsewhere))
    moved = figures.cache_key("plot", elsewhere.parent / "curve.py", str(elsewhere), read)
    (elsewhere.parent).rename(examples.parent)
    assert moved == key()

    changes = {
        "the plot's source": lambda: source.write_text("def plot(ax): pass\n"),
        "a module the plot calls": lambda: (examples / "model.py").write_text("RATE = 2\n"),
        "data it reads": lambda: (examples / "shop" / "recorded.json").write_text("[2]\n"),
        "a new example file": lambda: (examples / "new.py").write_text(""),
        "the house style": lambda: monkeypatch.setitem(figures.PLOT_STYLE, "lines.linewidth", 9),
        "the drawing code": lambda: monkeypatch.setattr(
            figures, "DRAWING_CODE", figures.DRAWING_CODE + "# changed\n"
        ),
    }
    seen = [key()]
    for what, change in changes.items():
        change()
        assert key() not in seen, f"a cached figure survives a change to {what}"
        seen.append(key())
    # A diagram reads no example: a change to one does not draw diagrams again.
    diagram = tmp_path / "flow.dot"
    diagram.write_text("digraph { a -> b }\n")
    before = key("graphviz", diagram)
    (examples / "model.py").write_text("RATE = 3\n")
    assert key("graphviz", diagram) == before


def drew(build: Build) -> int:
    """How many figures a build drew (0 when it drew none)."""
    found = re.search(r"handbook: drew (\d+) figure", build.log)
    return int(found.group(1)) if found else 0


@pytest.mark.builds
def test_figures_are_drawn_once_and_redrawn_only_when_their_source_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HANDBOOK_FIGURE_CACHE", str(tmp_path / "cache"))
    project = copy_project(tmp_path / "project")
    sources = [
        (kind, article.path.parent / path)
        for article in find_articles(project)
        for kind, path in DIRECTIVE.findall(article.path.read_text(encoding="utf-8"))
    ]
    plots = {path for kind, path in sources if kind == "plot"}
    diagrams = {path for kind, path in sources if kind == "graphviz"}
    assert plots and diagrams
    out = tmp_path / "out"

    first = build_html(project, out)
    assert first.returncode == 0, first.log[-3000:]
    assert drew(first) == len(plots | diagrams)

    # Prose edits and clean builds reuse what was drawn.
    article = next(a for a in find_articles(project) if DIRECTIVE.search(a.path.read_text()))
    article.path.write_text(article.path.read_text() + "\nOne more sentence of prose.\n")
    edited = build_html(project, out)
    assert edited.returncode == 0 and drew(edited) == 0, edited.log[-3000:]
    clean = build_html(project, tmp_path / "clean")
    assert clean.returncode == 0 and drew(clean) == 0, clean.log[-3000:]

    # A change to the examples redraws every plot (they read their data there), no diagram.
    example = project / "examples" / "saturation_and_queues.py"
    example.write_text(example.read_text() + "\n# a comment\n")
    changed = build_html(project, out)
    assert changed.returncode == 0 and drew(changed) == len(plots), changed.log[-3000:]

    # A change to one diagram redraws that diagram alone.
    diagram = sorted(diagrams)[0]
    diagram.write_text(diagram.read_text() + "\n// a comment\n")
    redrawn = build_html(project, out)
    assert redrawn.returncode == 0 and drew(redrawn) == 1, redrawn.log[-3000:]
