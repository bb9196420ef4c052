"""The commands contributors run, apart from the Sphinx extension (``handbook/``).

Each is a module run with ``python -m`` by a nox session (``noxfile.py``):

- :mod:`commands.build`: Sphinx, with a short message if it ever crashes, and
  its build state kept out of the published folder (every build session).
- :mod:`commands.check`: the front-matter and source checks of the named files,
  without a build (``nox -s check``, the pre-commit hook).
- :mod:`commands.scaffold`: a new article with its example, test and figures
  (``nox -s new``).
- :mod:`commands.urls`: the manifest of published URLs, and moving an article
  (``nox -s urls``, ``nox -s rename``).

None imports Sphinx at the top or reads ``conf.py``: they read the data in
``docs/`` (``topics.yaml``, ``tags.yaml``) and the schema of an article in
:mod:`handbook.frontmatter`, which needs no Sphinx either.
"""
