"""Sphinx configuration for the Backend Engineering Handbook.

Content lives in ``docs/``; this file is configuration only. Everything the
handbook does beyond stock Sphinx (article metadata, ABlog and furo working
together, a complete sitemap, reproducible feeds) lives in the local extension
``handbook/``. Build with ``nox -s docs`` (HTML) and ``nox -s pdf`` (PDF).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import urlparse

import yaml

ROOT = Path(__file__).parent.resolve()
sys.path.insert(0, str(ROOT))  # makes the local extension package ``handbook`` importable

# -- Build context -------------------------------------------------------------
# Computed once here and used below, instead of scattered environment lookups.
ON_READTHEDOCS = os.environ.get("READTHEDOCS") == "True"
# Read the Docs publishes at its own canonical URL; everywhere else the
# handbook's production address is used, so local builds match published ones.
BASE_URL = os.environ.get(
    "READTHEDOCS_CANONICAL_URL", "https://backend-handbook.readthedocs.io/en/latest/"
)
REPOSITORY_URL = "https://github.com/backend-handbook/backend-handbook"

# -- Project information -------------------------------------------------------
# https://www.sphinx-doc.org/en/master/usage/configuration.html#project-information
project = "Backend Engineering Handbook"
author = "The Backend Engineering Handbook authors"
copyright = "2025, the Backend Engineering Handbook authors"  # fixed, so builds are reproducible
language = "en"

# -- General configuration -----------------------------------------------------
# https://www.sphinx-doc.org/en/master/usage/configuration.html#general-configuration
extensions = [
    "myst_parser",
    "sphinx_design",
    "sphinx_sitemap",
    "ablog",
    "sphinx_copybutton",
    "sphinxext.opengraph",  # link previews; handbook/reader.py adds what it lacks
    "sphinx_reredirects",
    "notfound.extension",  # sphinx-notfound-page: 404.html with absolute links
    "handbook",  # the local extension: handbook/__init__.py
]
root_doc = "index"
templates_path = [str(ROOT / "handbook" / "templates")]
exclude_patterns: list[str] = []
nitpicky = True  # every unresolved reference is reported (and fails the build under -W)
# Unresolved {ref} links are reported by handbook/messages.py with the exact
# line, the closest existing label and the fix. Sphinx's standard domain would
# report each one a second time, without those: its own warn-missing-reference
# handler always runs, because Sphinx calls every handler of that event before
# looking at their results (sphinx/events.py, emit_firstresult).
suppress_warnings = ["ref.ref", "ref.numref"]
# "Last updated" comes from git (handbook/reader.py). In a shallow clone, a page
# whose last change is older than the clone gets no date instead of failing.
suppress_warnings += ["git.too_shallow"]
# Code colours with at least 4.5:1 contrast on their background (WCAG AA; the
# browser tests check it with axe-core), in both themes.
pygments_style = "a11y-light"
pygments_dark_style = "monokai"
# Figures (handbook/figures.py) are numbered; {numref} links read "Figure 2".
numfig = True
numfig_format = {"figure": "Figure %s"}

# -- The handbook's own settings (handbook/) -----------------------------------
# The topics are in docs/topics.yaml and the tags in docs/tags.yaml, beside the
# articles, so that the contributor commands read them without this file.
handbook_repository_url = REPOSITORY_URL
# The description of pages without one of their own: their <meta name="description">
# and link preview (handbook/articles.py), and the Atom feeds' subtitle.
handbook_description = (
    "Architecture, scale, reliability, data, and production concerns that shape real systems."
)
handbook_review_period_days = 365  # an older "reviewed:" date shows an out-of-date notice

# -- MyST ----------------------------------------------------------------------
# https://myst-parser.readthedocs.io/en/latest/configuration.html
myst_enable_extensions = ["colon_fence", "deflist"]
# Curly quotes and dashes come from Sphinx's own smartquotes transform, which runs
# after glossary terms are registered (MyST's "smartquotes" would curl the
# apostrophe in a term such as "Little's law" and break every link to it).
smartquotes = True
myst_heading_anchors = 3

# -- HTML output: furo ---------------------------------------------------------
# https://pradyunsg.me/furo/customisation/
html_theme = "furo"
html_title = project
html_baseurl = BASE_URL
html_static_path = [str(ROOT / "handbook" / "static")]
html_css_files = ["handbook.css", ("print.css", {"media": "print"})]
html_favicon = str(ROOT / "handbook" / "static" / "favicon.svg")
html_last_updated_fmt = "%Y-%m-%d"  # from git; see handbook/reader.py
git_untracked_show_sourcelink = True  # keep "Edit this page" on files not yet committed
html_copy_source = False  # readers follow "Edit this page" to the source instead
html_show_sourcelink = False
html_theme_options = {
    "source_repository": REPOSITORY_URL,
    "source_branch": "main",
    "source_directory": "docs/",
    "top_of_page_buttons": ["edit"],
}
html_sidebars = {
    "**": [
        "sidebar/brand.html",
        "sidebar/search.html",
        "sidebar/scroll-start.html",
        "sidebar/navigation.html",
        "handbook/sidebar-archives.html",
        "sidebar/scroll-end.html",
    ]
}

# -- ABlog: dated posts, archives and Atom feeds -------------------------------
# https://ablog.readthedocs.io/en/stable/manual/ablog-configuration-options.html
blog_title = project
blog_path = "articles"
blog_baseurl = BASE_URL
blog_post_pattern = ["*/*.md"]  # every Markdown file inside a topic folder is an article
blog_feed_archives = True  # one feed per tag and per category as well
blog_feed_fulltext = False
blog_feed_titles = True  # entries carry the description as their summary, not HTML
blog_feed_subtitle = handbook_description
post_date_format = "%Y-%m-%d"
post_date_format_short = "%Y-%m-%d"
# An article missing from every toctree must fail the build, not vanish.
post_auto_orphan = False
# ABlog's base templates break furo's layout; the extension adds them after the
# theme instead (handbook/ablog_furo.py).
skip_injecting_base_ablog_templates = True

# -- Copy buttons ----------------------------------------------------------------
# https://sphinx-copybutton.readthedocs.io/en/latest/use.html
# A console block copies only its commands: the "$ " and Python prompts are left
# out, and so are the output lines that follow them.
copybutton_prompt_text = r"\$ |>>> |\.\.\. "
copybutton_prompt_is_regexp = True

# -- Link previews: sphinxext-opengraph ----------------------------------------
# https://sphinxext-opengraph.readthedocs.io/en/latest/
# OpenGraph tags for link previews, with the handbook's card as their image.
# What the extension has no option for comes from handbook/reader.py: each page's
# description (front matter) and type (article or website), the tags of ABlog's
# generated pages, Twitter's names for the tags, article:published_time.
ogp_site_url = BASE_URL
ogp_image = "_static/handbook-card.png"  # handbook/static/, 1200 x 630; relative to ogp_site_url
ogp_image_alt = "Backend Engineering Handbook"  # the words on the card
# Every page shares that card: no card images drawn with matplotlib at build time.
ogp_social_cards = {"enable": False}
# handbook/articles.py writes the page's one <meta name="description">, from front matter.
ogp_enable_meta_description = False
ogp_custom_meta_tags = ['<meta name="twitter:card" content="summary_large_image" />']

# -- Sitemap -------------------------------------------------------------------
# https://sphinx-sitemap.readthedocs.io/en/latest/configuration-values.html
sitemap_url_scheme = "{link}"
sitemap_excludes = ["search.html", "genindex.html", "articles/drafts.html", "404.html"]

# -- 404 page ------------------------------------------------------------------
# https://sphinx-notfound-page.readthedocs.io/en/latest/configuration.html
notfound_template = "404.html"  # handbook/templates/404.html
notfound_urls_prefix = urlparse(BASE_URL).path  # links work at any depth of a missing URL

# -- Redirects -----------------------------------------------------------------
# https://documatt.com/sphinx-reredirects/usage.html
# Moved articles keep their old URLs (docs/urls.txt lists every published one).
# The map lives in docs/redirects.yaml, grouped by why pages moved;
# `python3 -m nox -s rename -- old/docname new/docname` adds to it.
redirects = yaml.safe_load((ROOT / "docs" / "redirects.yaml").read_text()) or {}

# -- LaTeX / PDF output --------------------------------------------------------
# https://www.sphinx-doc.org/en/master/latex.html
latex_engine = "xelatex"  # handles Unicode (arrows, curly quotes) that pdflatex rejects
latex_documents = [("index", "handbook.tex", project, author, "manual", False)]
latex_elements = {
    "papersize": "a4paper",
    "pointsize": "11pt",
    "fontpkg": r"""
\setmainfont{FreeSerif}
\setsansfont{FreeSans}
\setmonofont{FreeMono}
""",
    # The running head needs 14 pt at 11 pt type (fancyhdr warned on every page).
    # Tables at 10 pt: the articles' comparison tables have up to ten columns,
    # which at the body's 11 pt squeeze words onto one syllable per line.
    "preamble": r"""
\setcounter{tocdepth}{1}
\setlength{\headheight}{14pt}
\usepackage{etoolbox}
\AtBeginEnvironment{tabulary}{\small}
\AtBeginEnvironment{longtable}{\small}
""",
    # Code and example output at 9 pt: about 88 monospace characters fit the
    # A4 text width (about 80 at the body's 11 pt), so most lines no longer wrap.
    "fvset": r"\fvset{fontsize=\footnotesize}",
}
latex_show_urls = "no"
latex_domain_indices = False

# -- sphinx-design ---------------------------------------------------------------
# https://sphinx-design.readthedocs.io/en/latest/cards.html
sd_card_legacy_separators = False  # cards use the card-header/card-footer directives
