"""Make ABlog's generated pages render inside furo's layout.

ABlog normally puts its own templates *before* the theme's. Its ``page.html``
then shadows furo's, and furo renders every page as its "inherited from
layout.html" error page while the build still reports success. ``conf.py``
sets ``skip_injecting_base_ablog_templates = True``; this module appends
ABlog's template folder *after* the theme, so ABlog's snippets stay available
while furo's ``page.html`` wins. The archive templates that ABlog renders
(``ablog/catalog.html``, ``ablog/collection.html``) are overridden in
``handbook/templates/ablog/`` to fill furo's ``content`` block, and their
titles say "articles", the handbook's word, instead of ABlog's "posts".
"""

from __future__ import annotations

from typing import Any

import ablog
from sphinx.application import Sphinx
from sphinx.builders.html import StandaloneHTMLBuilder
from sphinx.jinja2glue import BuiltinTemplateLoader, SphinxFileSystemLoader

from handbook import upstream


def add_ablog_templates_after_theme(app: Sphinx) -> None:
    """Append ABlog's template folder to the loader, after the theme's."""
    if not isinstance(app.builder, StandaloneHTMLBuilder):
        return
    templates = app.builder.templates
    if isinstance(templates, BuiltinTemplateLoader):
        templates.loaders.append(SphinxFileSystemLoader(ablog.get_html_templates_path()))


COLLECTION_TITLES = {  # ABlog's header for a collection page -> the handbook's title
    "All": "All articles",
    "Posts tagged": "Articles tagged {}",
    "Posts in": "Articles in {}",
    "Posted in": "Articles from {}",
}
CATALOG_TITLES = {
    "tags": "Articles by tag",
    "category": "Articles by topic",
    "archive": "Articles by year",
}


def retitle_archive_pages(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """Give ABlog's archive pages titles in the handbook's words."""
    if templatename == "ablog/collection.html" and context.get("header") in COLLECTION_TITLES:
        context["title"] = COLLECTION_TITLES[context["header"]].format(context["collection"])
    elif templatename == "ablog/catalog.html":
        context["title"] = CATALOG_TITLES.get(context["catalog"].name, context["title"])


def setup(app: Sphinx) -> None:
    """Connect the template loader fix and the archive titles."""
    upstream.confirm("ablog_furo")  # ABlog's own injection, which conf.py switches off
    app.connect("builder-inited", add_ablog_templates_after_theme)
    app.connect("html-page-context", retitle_archive_pages)
