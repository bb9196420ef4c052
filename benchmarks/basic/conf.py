"""The benchmark's floor: the handbook's content with Sphinx's ``basic`` theme and MyST only.

No theme navigation, no ABlog, no sphinx-design, no sitemap: what building
the same Markdown costs at the least. Directives from the missing extensions
(cards, post lists) are reported as unknown and skipped, so this build runs
without ``-W``.
"""

project = "Backend Engineering Handbook"
root_doc = "index"
extensions = ["myst_parser"]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
html_theme = "basic"
suppress_warnings = ["myst.directive_unknown", "ref.ref", "myst.xref_missing"]
