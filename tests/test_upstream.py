"""The register of workarounds (handbook/upstream.py) is complete, current and enforced."""

from __future__ import annotations

import importlib
import inspect
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from docutils import nodes
from docutils.frontend import get_default_settings
from docutils.utils import new_document
from sphinx.writers.html5 import HTML5Translator

from handbook import ablog_performance, upstream
from tests.conftest import copy_project
from tests.shared import ROOT, Build, build_html

REGISTERED = {workaround.module for workaround in upstream.REGISTER}
# What marks code that depends on a dependency's insides: importing ABlog, furo,
# sphinx-sitemap or sphinxext-opengraph themselves (their public face is the
# configuration), or a private name.
INTERNALS = re.compile(
    r"^(?:import|from) (?:ablog|furo|sphinx_sitemap|sphinxext)\b|import _\w", re.M
)


def test_replaced_upstream_code_is_what_the_workarounds_expect() -> None:
    for workaround in upstream.REGISTER:
        if workaround.replaces:
            found = upstream.fingerprint(workaround.replaces)
            assert found == workaround.fingerprint, (
                f"{workaround.name}: {workaround.package} {upstream.version(workaround.package)} "
                f"changed {', '.join(workaround.replaces)}"
            )


@pytest.mark.parametrize(
    "module", sorted({w.module for w in upstream.REGISTER if w.replaces}), ids=str
)
def test_setup_stops_when_replaced_code_changes_naming_package_and_version(
    module: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(upstream, "fingerprint", lambda *_: "0" * 16)
    package = next(w.package for w in upstream.REGISTER if w.module == module and w.replaces)
    expected = f"{package} {upstream.version(package)}"
    # The check comes first in setup, before the app is touched.
    with pytest.raises(upstream.UpstreamChanged, match=re.escape(expected)) as stopped:
        importlib.import_module(f"handbook.{module}").setup(SimpleNamespace())
    assert f"handbook/{module}.py" in str(stopped.value)


@pytest.mark.parametrize("module", ["numbering", "sitemap"])
def test_setup_stops_when_the_listener_it_replaces_is_gone(
    module: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(upstream, "confirm", lambda *_: None)  # the code is unchanged
    app = SimpleNamespace(events=SimpleNamespace(listeners={}))  # but nobody listens
    with pytest.raises(upstream.UpstreamChanged, match="found 0; see that entry"):
        importlib.import_module(f"handbook.{module}").setup(app)


def test_every_module_that_reaches_into_a_dependency_is_registered() -> None:
    reaching = {
        path.stem
        for path in (ROOT / "handbook").glob("*.py")
        if INTERNALS.search(path.read_text(encoding="utf-8")) and path.stem != "upstream"
    }
    assert reaching, "the pattern finds nothing: it no longer matches how modules import"
    assert reaching <= REGISTERED, f"not in handbook/upstream.py: {sorted(reaching - REGISTERED)}"


def test_every_registered_test_exists() -> None:
    for workaround in upstream.REGISTER:
        assert workaround.tests, workaround.name
        for test in workaround.tests:
            path, name = test.split("::")
            source = (ROOT / path).read_text(encoding="utf-8")
            assert f"def {name}(" in source, f"{workaround.name}: no test {test}"
        assert (ROOT / "handbook" / f"{workaround.module}.py").is_file(), workaround.name


def test_the_register_command_reports_every_workaround() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "handbook.upstream"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for workaround in upstream.REGISTER:
        assert f"{workaround.name}: handbook/{workaround.module}.py" in done.stdout


def _post_page(docname: str) -> tuple[SimpleNamespace, nodes.document]:
    """A page that ABlog recorded as one post, in a summary-feed build."""
    doctree = new_document(docname, get_default_settings())
    posts = {docname: [{"section": "", "doctree": None}]}
    env = SimpleNamespace(docname=docname, ablog_posts=posts)
    app = SimpleNamespace(config=SimpleNamespace(blog_feed_fulltext=False), env=env)
    return app, doctree


def test_the_page_copy_ablog_asks_for_is_skipped() -> None:
    app, doctree = _post_page("resilience/example")
    ablog_performance.skip_post_doctree_copy(app, doctree)  # type: ignore[arg-type]
    copy = doctree.deepcopy()  # what ablog.post.process_posts asks for
    assert isinstance(copy, nodes.section) and not copy.children
    ablog_performance.drop_post_doctrees(app, doctree)  # type: ignore[arg-type]
    assert "deepcopy" not in doctree.__dict__


def test_a_page_copy_ablog_no_longer_asks_for_fails_the_build() -> None:
    app, doctree = _post_page("resilience/example")
    ablog_performance.skip_post_doctree_copy(app, doctree)  # type: ignore[arg-type]
    # ABlog copied the page some other way: the skip did nothing.
    with pytest.raises(upstream.UpstreamChanged, match="resilience/example"):
        ablog_performance.drop_post_doctrees(app, doctree)  # type: ignore[arg-type]


def test_sphinx_captions_still_lack_an_aria_level() -> None:
    # sphinx-doc/sphinx#14030: once Sphinx writes the level itself, remove the
    # caption fix from handbook/accessibility.py and its entry in the register.
    stock = inspect.getsource(HTML5Translator.visit_title)
    assert "ROLE='heading'" in stock, "Sphinx writes captions another way: check the fix"
    assert "aria" not in stock.lower(), "Sphinx now sets aria-level: the fix is not needed"


@pytest.mark.builds
def test_cached_excerpts_equal_ablogs_own(html: Build, tmp_path: Path) -> None:
    # The same handbook with ABlog's own Post.to_html put back after the extension's setup.
    project = copy_project(tmp_path / "stock-excerpts")
    with (project / "conf.py").open("a", encoding="utf-8") as conf:
        conf.write(
            "\n\ndef setup(app):\n"
            "    import ablog.blog\n"
            "    from handbook import ablog_performance\n"
            "    ablog.blog.Post.to_html = ablog_performance._upstream_to_html\n"
        )
    stock = build_html(project, tmp_path / "out")
    assert stock.returncode == 0, stock.log
    listings = sorted(
        path.relative_to(html.outdir)
        for path in html.outdir.rglob("*.html")
        if 'class="ablog-post-excerpt"' in path.read_text(encoding="utf-8")
    )
    assert len(listings) > 10, "no archive page shows excerpts"
    for name in listings:
        assert excerpts(stock.page(str(name))) == excerpts(html.page(str(name))), name


def excerpts(page: str) -> list[str]:
    """Each excerpt's HTML on a listing page."""
    return re.findall(r'<p class="ablog-post-excerpt">.*?</p>', page, re.S)
