"""Figures drawn from source in the repository: Graphviz diagrams and plots of example data.

Two directives make a numbered figure with a caption and alternative text::

    :::{graphviz} figures/breaker-states.dot
    :name: fig-breaker-states
    :alt: A circuit breaker's three states and the transitions between them.

    The breaker's states; the dashed transition is the one that flaps.
    :::

    :::{plot} figures/goodput.py
    :name: fig-goodput
    :alt: Goodput against offered load for an unbounded and a bounded queue.

    Goodput against offered load, from the worked example's simulation.
    :::

A ``.dot`` file is a Graphviz graph. A plot file is a Python module with a
function ``draw(figure)`` that draws on a matplotlib ``Figure`` with data it
computes by calling the worked example's own code in ``examples/``, the code
the tests run, so a figure cannot show a curve the code no longer produces.
Paths are relative to the article; by convention the sources live in
``docs/<topic>/figures/``.

Figures are drawn once and cached by content in ``_build/figures/`` (or
``$HANDBOOK_FIGURE_CACHE``): the key hashes the source, the house style, the
version of the tool, this module's code and, for plots, every file in
``examples/``. Editing an article's prose draws nothing; a clean build with a
warm cache draws nothing; and every figure that is missing is drawn after
reading, diagrams on every core at once. HTML gets SVG in an
``<img loading="lazy">`` with its size set; LaTeX gets PDF. Output is
byte-identical between builds (matplotlib is told the hash salt and no date;
cairo's PDF date is fixed).

Why not ``sphinx.ext.graphviz`` and matplotlib's ``plot`` directive, the stock
ways (Sphinx 9.0, matplotlib 3.10):

- ``sphinx.ext.graphviz`` draws each diagram while writing its page, one at a
  time, and caches only inside the output folder, so every clean build (and
  each of the test suite's builds) draws everything again; it embeds SVG as an
  ``<object>``, which is not lazily loaded and has the alternative text only as
  fallback content; and a syntax error is reported with the whole dot source
  rather than the file and line.
- matplotlib's directive decides that a plot is stale from the plot script's
  modification time alone, so a change to the example it plots keeps the old
  curve; it writes beside the doctrees, inside the published HTML folder here;
  and a failing plot prints a traceback instead of the file and line.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
import posixpath
import re
import shutil
import subprocess
import sys
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.environment import BuildEnvironment
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

# Part of every cache key: this module's own code, so that a change to how
# figures are drawn draws them all again.
DRAWING_CODE = Path(__file__).read_text(encoding="utf-8")
# Output format of each builder family that shows figures.
FORMATS = {"html": "svg", "latex": "pdf"}
# Graphviz defaults for every diagram: the handbook's sans-serif type, and no
# background, so that the dark theme can invert the drawing (handbook.css).
DOT_ARGS = (
    "-Gfontname=Helvetica,Arial,sans-serif",
    "-Nfontname=Helvetica,Arial,sans-serif",
    "-Efontname=Helvetica,Arial,sans-serif",
    "-Gbgcolor=transparent",
    "-Gfontsize=11",
    "-Nfontsize=11",
    "-Efontsize=10",
)
# matplotlib's settings for every plot: small sans-serif type kept as text in
# the SVG (searchable, lighter), a fixed hash salt so that SVG ids do not
# change between builds, a transparent background for the dark theme.
PLOT_STYLE: dict[str, Any] = {
    "figure.figsize": (6.4, 3.4),
    "figure.constrained_layout.use": True,  # titles and labels never overlap
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.35,
    "lines.linewidth": 1.8,
    "svg.fonttype": "none",
    "svg.hashsalt": "backend-handbook",
    "pdf.fonttype": 42,
    "savefig.transparent": True,
    "savefig.bbox": "tight",
}
# Colours that keep their meaning and contrast in both themes (the dark theme
# inverts lightness and keeps hue): plots import these rather than pick their own.
COLORS = {"good": "#1b7837", "bad": "#b2182b", "neutral": "#2166ac", "muted": "#6b6b6b"}
_CAIRO_DATE = re.compile(rb"/CreationDate \(D:\d{14}Z\)")
_DOT_LINE = re.compile(r"line (\d+)")
_SVG_SIZE = re.compile(r'<svg[^>]*?\swidth="([\d.]+)pt"[^>]*?\sheight="([\d.]+)pt"', re.S)


@dataclass(frozen=True)
class Figure:
    """One figure of one page: what to draw, from which file, for whom."""

    key: str  # content hash; the cached files are <key>.svg and <key>.pdf
    kind: str  # "graphviz" or "plot"
    source: str  # absolute path of the .dot or .py file
    docname: str
    line: int


class figure_image(nodes.General, nodes.Element):
    """The drawing inside a figure; written as ``<img>`` in HTML, a PDF in LaTeX."""


def configure(app: Sphinx, config: Config) -> None:
    """Where figures are cached, and where the examples that plots read live."""
    configured = os.environ.get("HANDBOOK_FIGURE_CACHE")
    root = Path(app.confdir)
    config.handbook_figure_cache = configured or str(root / "_build" / "figures")
    config.handbook_examples = str(root / "examples")


@cache
def _tool_version(kind: str) -> str:
    """The version of what draws ``kind``, part of every cache key."""
    if kind == "plot":
        return "matplotlib " + importlib.metadata.version("matplotlib")
    try:
        done = subprocess.run(["dot", "-V"], capture_output=True, text=True, check=False)
    except OSError:
        return "dot missing"
    return done.stderr.strip()


def examples_read(kind: str, folder: str) -> list[Path]:
    """The files under ``examples/`` a figure is drawn from: every one for a plot, none else.

    Plots call the examples' modules and read their recorded data; diagrams read no example.
    """
    if kind != "plot":
        return []
    found = Path(folder).rglob("*")
    return sorted(path for path in found if path.is_file() and "__pycache__" not in path.parts)


def cache_key(kind: str, source: Path, examples: str, read: list[Path]) -> str:
    """The name a figure is cached under: a hash of everything that decides how it looks.

    That is the figure's source file, the drawing tool's version, the house
    style, this module's code and the example files it reads (``read``, from
    :func:`examples_read`), each by its path inside the ``examples`` folder and
    its content.
    """
    digest = hashlib.sha256()
    for part in (DRAWING_CODE, kind, _tool_version(kind), repr(DOT_ARGS), repr(PLOT_STYLE)):
        digest.update(part.encode() + b"\0")
    digest.update(source.read_bytes())
    for example in read:
        name = example.relative_to(examples).as_posix()
        digest.update(name.encode() + b"\0" + example.read_bytes())
    return digest.hexdigest()[:20]


class _FigureDirective(SphinxDirective):
    """A figure drawn from a source file, with a caption and alternative text."""

    kind: ClassVar[str]
    suffix: ClassVar[str]
    required_arguments = 1
    has_content = True
    option_spec: ClassVar[dict[str, Any]] = {
        "alt": directives.unchanged,
        "name": directives.unchanged,
    }

    def fail(self, message: str) -> list[nodes.Node]:
        logger.warning(message, location=self.get_location(), type="handbook", subtype="figure")
        return []

    def run(self) -> list[nodes.Node]:
        argument = self.arguments[0]
        source = (Path(self.env.doc2path(self.env.docname)).parent / argument).resolve()
        if source.suffix != self.suffix:
            return self.fail(
                f"'{argument}' is not a {self.suffix} file; a {{{self.kind}}} figure draws "
                f"a {self.suffix} file (a diagram is {{graphviz}} with a .dot file, a plot "
                "is {plot} with a .py file)"
            )
        if not source.is_file():
            return self.fail(
                f"figure source '{argument}' not found; the path is relative to the article, "
                f"so create docs/<topic>/figures/{Path(argument).name} or fix the path"
            )
        alt = " ".join(self.options.get("alt", "").split())
        if len(alt.split()) < 4:
            return self.fail(
                "the figure needs ':alt:' saying in a sentence what it shows (at least four "
                "words, for readers who cannot see it), for example ':alt: Goodput falls to "
                "zero above 100 percent load while throughput stays flat.'"
            )
        caption_nodes = self.parse_content_to_nodes()
        if not caption_nodes or not isinstance(caption_nodes[0], nodes.paragraph):
            return self.fail(
                "the figure needs a caption: write it as the directive's content, one "
                "paragraph below the options"
            )
        if "TODO" in alt or "TODO" in caption_nodes[0].astext():
            return self.fail(
                "the figure's ':alt:' or caption is still the placeholder: say in ':alt:' what "
                "the figure shows, and in the caption what to notice in it"
            )

        examples = self.config.handbook_examples
        read = examples_read(self.kind, examples)
        key = cache_key(self.kind, source, examples, read)
        for dependency in [source, *read]:
            self.env.note_dependency(str(dependency))
        figure = Figure(key, self.kind, str(source), self.env.docname, self.lineno)
        _figures(self.env).setdefault(self.env.docname, []).append(figure)

        caption = nodes.caption("", "", *caption_nodes[0].children)
        self.set_source_info(caption)
        node = nodes.figure("", figure_image("", key=key, alt=alt), caption, *caption_nodes[1:])
        node["classes"].append("handbook-figure")
        self.set_source_info(node)
        self.add_name(node)
        return [node]


class GraphvizFigure(_FigureDirective):
    """``{graphviz} path.dot``: a diagram from a Graphviz file."""

    kind = "graphviz"
    suffix = ".dot"


class PlotFigure(_FigureDirective):
    """``{plot} path.py``: a plot drawn by the module's ``draw(figure)``."""

    kind = "plot"
    suffix = ".py"


def _figures(env: BuildEnvironment) -> dict[str, list[Figure]]:
    if not hasattr(env, "handbook_figures"):
        env.handbook_figures = {}  # type: ignore[attr-defined]
    return env.handbook_figures  # type: ignore[attr-defined]


def purge(_app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    _figures(env).pop(docname, None)


def merge(_app: Sphinx, env: BuildEnvironment, docnames: set[str], other: BuildEnvironment) -> None:
    for docname in docnames:
        if docname in _figures(other):
            _figures(env)[docname] = _figures(other)[docname]


def _location(figure: Figure, line: int | None = None) -> str:
    """``file:line`` of a figure's source, for messages."""
    return f"{figure.source}:{line or 1}"


def _report(figure: Figure, message: str, line: int | None = None) -> None:
    logger.warning(
        "%s (drawn for %s, line %d)",
        message,
        figure.docname,
        figure.line,
        location=_location(figure, line),
        type="handbook",
        subtype="figure",
    )


def _draw_diagram(figure: Figure, fmt: str, cache: Path) -> None:
    """Draw one diagram with a ``dot`` process of its own, and report what it says.

    One process per diagram, because ``dot`` drawing several graphs in one run
    carries state from one to the next (cluster numbering and order), so a
    diagram's bytes would depend on what else was drawn with it.
    """
    try:
        done = subprocess.run(
            ["dot", *DOT_ARGS, f"-T{fmt}", figure.source],
            capture_output=True,
            check=False,
        )
    except OSError:
        _report(
            figure,
            "Graphviz's 'dot' is not installed; install the graphviz package "
            "(requirements/apt.txt lists what the build needs)",
        )
        return
    for message in done.stderr.decode(errors="replace").strip().splitlines():
        line = _DOT_LINE.search(message)
        text = message.replace(figure.source, Path(figure.source).name)
        _report(
            figure,
            f"Graphviz: {text}; fix the diagram source",
            int(line.group(1)) if line else None,
        )
    if done.returncode == 0 and done.stdout:
        data = done.stdout
        if fmt == "pdf":  # cairo stamps the clock; keep the bytes stable
            data = _CAIRO_DATE.sub(b"/CreationDate (D:20000101000000Z)", data)
        _store(cache, f"{figure.key}.{fmt}", data)


def _draw_diagrams(figures: list[Figure], fmt: str, cache: Path) -> None:
    """Draw diagrams on every core at once."""
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        list(pool.map(lambda figure: _draw_diagram(figure, fmt, cache), figures))


def _load_plot(source: Path) -> Any:
    """Import a plot file as a module of its own."""
    name = "handbook_plot_" + hashlib.sha256(str(source).encode()).hexdigest()[:12]
    spec = importlib.util.spec_from_file_location(name, source)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def render_plot(source: Path) -> Any:
    """Draw one plot file into a new matplotlib figure in the house style, and return it."""
    from matplotlib import rc_context
    from matplotlib.figure import Figure as MplFigure

    with rc_context(PLOT_STYLE):
        module = _load_plot(source)
        if not callable(getattr(module, "draw", None)):
            raise LookupError("the file has no function draw(figure)")
        figure = MplFigure()
        module.draw(figure)
    return figure


def _failure_line(error: BaseException, source: Path) -> int | None:
    """The line of ``source`` closest to where ``error`` was raised."""
    if isinstance(error, SyntaxError) and error.filename and Path(error.filename) == source:
        return error.lineno
    frames = traceback.extract_tb(error.__traceback__)
    lines = [frame.lineno for frame in frames if Path(frame.filename) == source]
    return lines[-1] if lines else None


def _draw_plots(figures: list[Figure], fmt: str, cache: Path) -> None:
    from matplotlib import rc_context

    for figure in figures:
        source = Path(figure.source)
        try:
            drawn = render_plot(source)
            with rc_context(PLOT_STYLE):
                target = cache / f"{figure.key}.{fmt}.{os.getpid()}.part"
                cache.mkdir(parents=True, exist_ok=True)
                metadata = {"Date": None} if fmt == "svg" else {"CreationDate": None}
                drawn.savefig(target, format=fmt, metadata=metadata)
            target.replace(cache / f"{figure.key}.{fmt}")
        except Exception as error:  # a contributor's plot code: report it, never crash
            _report(
                figure,
                f"the plot failed: {type(error).__name__}: {error}; see the full traceback "
                f"with 'python3 -m handbook.figures {os.path.relpath(source)}'",
                _failure_line(error, source),
            )


def _store(cache: Path, name: str, data: bytes) -> None:
    cache.mkdir(parents=True, exist_ok=True)
    part = cache / f"{name}.{os.getpid()}.part"  # one per process: builds may share a cache
    part.write_bytes(data)
    part.replace(cache / name)


def draw_missing(app: Sphinx, env: BuildEnvironment) -> None:
    """Draw every figure of the site that the cache lacks for this builder."""
    fmt = FORMATS.get(app.builder.format)
    if fmt is None:
        return
    cache = Path(app.config.handbook_figure_cache)
    missing: dict[str, Figure] = {}
    for figures in _figures(env).values():
        for figure in figures:
            if not (cache / f"{figure.key}.{fmt}").is_file():
                missing.setdefault(figure.key, figure)
    started = time.perf_counter()
    diagrams = [f for f in missing.values() if f.kind == "graphviz"]
    plots = [f for f in missing.values() if f.kind == "plot"]
    if diagrams:
        _draw_diagrams(diagrams, fmt, cache)
    if plots:
        _draw_plots(plots, fmt, cache)
    if missing:
        seconds = time.perf_counter() - started
        logger.info("handbook: drew %d figure(s) in %.1f s into %s", len(missing), seconds, cache)


def _svg_size(path: Path) -> tuple[int, int] | None:
    """The SVG's size in CSS pixels, so the page reserves its space before it loads."""
    match = _SVG_SIZE.search(path.read_text(encoding="utf-8")[:2000])
    if not match:
        return None
    return round(float(match.group(1)) * 4 / 3), round(float(match.group(2)) * 4 / 3)


def _publish(drawn: Path, destination: Path) -> None:
    if not destination.is_file() or destination.read_bytes() != drawn.read_bytes():
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(drawn, destination)


def visit_html(self: Any, node: figure_image) -> None:
    drawn = Path(self.builder.config.handbook_figure_cache) / f"{node['key']}.svg"
    if not drawn.is_file():  # already reported when drawing failed
        self.body.append(f'<p class="handbook-figure-missing">{self.encode(node["alt"])}</p>')
        raise nodes.SkipNode
    _publish(drawn, Path(self.builder.outdir) / self.builder.imagedir / drawn.name)
    size = _svg_size(drawn)
    dimensions = f' width="{size[0]}" height="{size[1]}"' if size else ""
    src = posixpath.join(self.builder.imgpath, drawn.name)
    self.body.append(
        f'<img src="{src}" alt="{self.attval(node["alt"])}"{dimensions} '
        'loading="lazy" decoding="async" class="handbook-figure-image" />\n'
    )
    raise nodes.SkipNode


def visit_latex(self: Any, node: figure_image) -> None:
    drawn = Path(self.builder.config.handbook_figure_cache) / f"{node['key']}.pdf"
    if not drawn.is_file():
        raise nodes.SkipNode
    _publish(drawn, Path(self.builder.outdir) / drawn.name)
    self.body.append(f"\\noindent\\sphinxincludegraphics{{{{{node['key']}}}.pdf}}\n")
    raise nodes.SkipNode


def visit_text(self: Any, node: figure_image) -> None:
    self.add_text(f"[Figure: {node['alt']}]")
    raise nodes.SkipNode


def main(argv: list[str]) -> int:
    """``python3 -m handbook.figures docs/<topic>/figures/x.py``: draw one plot, traceback and all.

    Writes ``_build/figures/preview.svg`` to look at; a failing plot shows Python's
    full traceback here, where the build shows one line.
    """
    if len(argv) != 1 or not argv[0].endswith(".py"):
        print("usage: python3 -m handbook.figures docs/<topic>/figures/<name>.py", file=sys.stderr)
        return 2
    sys.path.insert(0, str(Path.cwd()))  # the plot imports examples/ from the repository
    from matplotlib import rc_context

    drawn = render_plot(Path(argv[0]).resolve())
    target = Path("_build") / "figures" / "preview.svg"
    target.parent.mkdir(parents=True, exist_ok=True)
    with rc_context(PLOT_STYLE):
        drawn.savefig(target, format="svg", metadata={"Date": None})
    print(f"drew {argv[0]} into {target}")
    return 0


def setup(app: Sphinx) -> None:
    # Set by configure() from the environment and conf.py's folder, not by conf.py.
    app.add_config_value("handbook_figure_cache", "", "", str)
    app.add_config_value("handbook_examples", "", "", str)
    app.connect("config-inited", configure)
    app.add_node(
        figure_image,
        html=(visit_html, None),
        latex=(visit_latex, None),
        text=(visit_text, None),
    )
    app.add_directive("graphviz", GraphvizFigure)
    app.add_directive("plot", PlotFigure)
    app.connect("env-purge-doc", purge)
    app.connect("env-merge-info", merge)
    app.connect("env-updated", draw_missing)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
