"""Make ABlog's generated pages render inside furo's layout.

ABlog normally puts its own templates *before* the theme's. Its ``page.html``
then shadows furo's, and furo renders every page as its "inherited from
layout.html" error page while the build still reports success. ``conf.py``
sets ``skip_injecting_base_ablog_templates = True``; this module appends
ABlog's template folder *after* the theme, so ABlog's snippets stay available
while furo's ``page.html`` wins. The archive templates that ABlog renders
(``ablog/catalog.html``, ``ablog/collection.html``) are overridden in
``handbook/templates/ablog/`` to fill furo's ``content`` block.
"""

from __future__ import annotations

import ablog
from sphinx.application import Sphinx
from sphinx.builders.html import StandaloneHTMLBuilder
from sphinx.jinja2glue import BuiltinTemplateLoader, SphinxFileSystemLoader


def add_ablog_templates_after_theme(app: Sphinx) -> None:
    """Append ABlog's template folder to the loader, after the theme's."""
    if not isinstance(app.builder, StandaloneHTMLBuilder):
        return
    templates = app.builder.templates
    if isinstance(templates, BuiltinTemplateLoader):
        templates.loaders.append(SphinxFileSystemLoader(ablog.get_html_templates_path()))


def setup(app: Sphinx) -> None:
    """Connect the template loader fix."""
    app.connect("builder-inited", add_ablog_templates_after_theme)
