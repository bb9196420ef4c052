"""Build messages a contributor can act on without knowing Sphinx.

Two kinds of improvement:

- Broken cross-references and unknown glossary terms are reported by this
  module instead of Sphinx (``warn-missing-reference``), with the closest
  existing label or term and how to fix the link.
- Other Sphinx and MyST warnings that contributors commonly trigger get a
  one-line hint appended (a missing ``literalinclude`` file, an unknown or
  malformed directive), through a filter on Sphinx's warning handlers.
"""

from __future__ import annotations

import difflib
import logging as std_logging
import re
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.domains import Domain
from sphinx.util import logging

logger = logging.getLogger(__name__)

# (pattern in Sphinx's or MyST's message, what to tell the contributor)
HINTS = [
    (
        re.compile(r"Include file .* not found or reading it failed"),
        "check the path: it is relative to the article's folder, so an example is "
        "'../../examples/<module>.py'",
    ),
    (
        re.compile(r"Unknown directive type"),
        "check the directive's name after the opening fence, for example "
        "```{literalinclude} or ```{note}",
    ),
    (
        re.compile(r"Directive '[^']+': .*(argument|option)"),
        "check the text after the directive's name on the opening fence line, and the "
        ":option: lines below it",
    ),
    (
        re.compile(r"document isn't included in any toctree"),
        "add the page to the toctree at the end of its topic page, docs/<topic>.md",
    ),
    (
        re.compile(r"Malformed YAML"),
        "the front matter is not valid YAML: indent with spaces, never tabs, and quote "
        "a value that contains ': ' or starts with a bracket",
    ),
    (
        re.compile(r"toctree contains reference to nonexisting document"),
        "a toctree entry is a page's path under docs/ without '.md', for example "
        "'resilience/slow-dependencies'; fix the spelling or remove the line",
    ),
    (
        re.compile(r"duplicated entry found in toctree"),
        "remove the repeated line, so the page appears once in the navigation",
    ),
    (
        re.compile(r"duplicate term description of"),
        "a glossary term is defined once; merge the two definitions into one entry",
    ),
    (
        re.compile(r"duplicate label"),
        "labels are unique across the handbook (a figure's :name: is a label too); "
        "rename the one you added",
    ),
    (
        re.compile(r"Unknown interpreted text role"),
        "check the role's name: the handbook uses {ref}, {term}, {numref} and {doc}",
    ),
    (
        re.compile(r"Non-consecutive header level increase"),
        "use the next level down: a section is '##' and a subsection '###'",
    ),
    (
        re.compile(r"'myst' cross-reference target not found"),
        "link an article by its label, {ref}`link text <topic-slug>`, not by a file path",
    ),
    (
        re.compile(r"Object named '[^']*' not found in include file"),
        "check the :pyobject: name against the functions and classes of that file",
    ),
    (
        re.compile(r"image file not readable"),
        "figures are drawn from source with {graphviz} or {plot} (contributor "
        "guide, Figures); a path is relative to the article",
    ),
]
# Python reprs that some messages show instead of a path: _StrPath('/x/y.py') -> /x/y.py
_REPR_PATH = re.compile(r"_StrPath\('([^']*)'\)")
# Warnings about one toctree entry, which Sphinx places at the toctree's first line.
_TOCTREE_ENTRY = re.compile(
    r"(?:reference to nonexisting document|duplicated entry found in toctree:) "
    r"'?([^';]+?)'?(?:;|$)"
)


def closest(word: str, candidates: list[str]) -> str:
    """A "did you mean" phrase for the closest candidate, or an empty string."""
    match = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return f"did you mean '{match[0]}'? " if match else ""


def report_missing_reference(app: Sphinx, domain: Domain, node: nodes.Element) -> bool | None:
    """Report an unresolved ``{ref}`` or ``{term}`` with its nearest match and the fix."""
    if domain is None or domain.name != "std":
        return None
    target, kind = node["reftarget"], node["reftype"]
    if kind == "term":
        terms = [name for (type_, name) in domain.objects if type_ == "term"]
        message = (
            f"'{target}' is not in the glossary; {closest(target.lower(), terms)}"
            "link an existing term, or add this one to docs/glossary.md"
        )
    elif kind == "ref" and target in domain.anonlabels:
        message = (
            f"label '{target}' is not above a heading, so the link has no text; "
            f"write {{ref}}`link text <{target}>`"
        )
    elif kind == "ref":
        labels = [label for label in domain.anonlabels if not label.startswith("blog-")]
        message = (
            f"no label '{target}'; {closest(target, labels)}articles are linked "
            "by their label '<topic>-<slug>', and a section by a '(label)=' line "
            "above its heading"
        )
    elif kind == "numref":
        names = [label for label in domain.labels if label.startswith("fig-")]
        message = (
            f"no figure named '{target}'; {closest(target, names)}a figure is referred to "
            "by the :name: of its {graphviz} or {plot} directive"
        )
    elif kind == "doc":
        message = (
            f"no page '{target}'; {closest(target, sorted(app.env.found_docs))}link "
            "an article by its label instead: {ref}`text <topic-slug>`"
        )
    else:
        return None
    location = (node["refdoc"], exact_line(app, node, target))
    logger.warning(message, location=location, type="handbook", subtype="reference")
    return True


def exact_line(app: Sphinx, node: nodes.Element, target: str) -> int:
    """The line that holds ``target``; MyST gives an inline role its paragraph's line."""
    start = node.line or 1
    path = Path(app.env.doc2path(node["refdoc"]))
    lines = path.read_text(encoding="utf-8").splitlines()
    for number in range(start, min(len(lines), start + 50) + 1):
        if target in lines[number - 1]:
            return number
    return start


def entry_line(location: Any, entry: str) -> str | None:
    """``path:line`` of the toctree line naming ``entry``, for a warning about it.

    Sphinx reports a bad toctree entry at the toctree's opening line (its
    location is the toctree node); the contributor needs the entry's own line.
    """
    source, start = getattr(location, "source", None), getattr(location, "line", None)
    if not source or not start:
        return None
    path = Path(source)
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    for number in range(start, len(lines) + 1):
        if lines[number - 1].strip() == entry:
            return f"{path}:{number}"
    return None


class HintFilter(std_logging.Filter):
    """Append a hint to warnings that match :data:`HINTS`, and point at the right line."""

    def filter(self, record: std_logging.LogRecord) -> bool:
        """Rewrite the message in place; never drops a record."""
        if record.levelno >= std_logging.WARNING:
            message = _REPR_PATH.sub(r"\1", record.getMessage())
            record.msg, record.args = message, ()
            entry = _TOCTREE_ENTRY.search(message)
            if entry and (where := entry_line(getattr(record, "location", None), entry[1])):
                record.location = where
            for pattern, hint in HINTS:
                if pattern.search(message) and hint not in message:
                    record.msg, record.args = f"{message}; {hint}", ()
                    break
        return True


def add_hints(app: Sphinx, *_: Any) -> None:
    """Install the hint filter on Sphinx's warning handlers (once)."""
    for handler in std_logging.getLogger(logging.NAMESPACE).handlers:
        if not any(isinstance(f, HintFilter) for f in handler.filters):
            handler.filters.insert(0, HintFilter())


def setup(app: Sphinx) -> None:
    """Connect the reference reporter and install the hints."""
    # Before the standard domain's own handler (priority 500), which would
    # report "undefined label" without the line, the nearest match or the fix.
    app.connect("warn-missing-reference", report_missing_reference, priority=400)
    app.connect("builder-inited", add_hints)
