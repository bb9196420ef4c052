"""The register of workarounds: where the handbook changes what a dependency does.

Each entry names the module that holds the workaround, the upstream issue or
pull request (or that none is filed, and where the behavior is), the versions
it was checked against, its measured reason to exist, and the tests that fail
when it stops working or stops being needed. A workaround with no measured
reason is not kept: ``ablog.blog.new_document`` with parsed default settings
saved 0.1 s of a 60 s build at 1,000 articles and was removed; so was the
module that declared ABlog safe for ``sphinx-build -j``, which no command used
and which made a 2-core build slower than a serial one.

A workaround that replaces a dependency's function, or depends on how that
function works inside, names it in ``replaces``. When the extension is set up,
:func:`confirm` hashes the source of each named function and stops the build
with one message naming the package and its version when the code is not the
code the workaround was written against. Then: read what changed upstream,
check the workaround (it may no longer be needed), run its tests, and record
the new hash that ``python -m handbook.upstream`` prints.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from typing import TYPE_CHECKING, Any

from sphinx.errors import SphinxError

if TYPE_CHECKING:
    from sphinx.application import Sphinx


@dataclass(frozen=True)
class Workaround:
    """One change to a dependency's behavior, and why it is still there."""

    name: str
    module: str  # where it lives, under handbook/
    package: str  # the distribution whose behavior it changes
    upstream: str  # the issue or pull request, or where the behavior is
    verified: str  # the versions it was checked against
    reason: str  # measured: a correctness test or a number at 1,000 articles
    tests: tuple[str, ...]  # fail when it stops working or stops being needed
    replaces: tuple[str, ...] = ()  # dotted names of the upstream code it depends on
    fingerprint: str = ""  # hash of that code's source, see fingerprint()


REGISTER: tuple[Workaround, ...] = (
    Workaround(
        name="excerpt-cache",
        module="ablog_performance",
        package="ablog",
        upstream="none filed; ablog/blog.py Post.to_html renders anew on every call",
        verified="ablog 0.11.13",
        reason=(
            "to_html takes 9.3 s of a full build at 1,000 articles without the cache "
            "and 1.0 s with it (6,156 calls, timed in the build); the archive pages "
            "are identical either way"
        ),
        tests=(
            "tests/test_upstream.py::test_cached_excerpts_equal_ablogs_own",
            "tests/test_upstream.py::test_replaced_upstream_code_is_what_the_workarounds_expect",
        ),
        replaces=("ablog.blog.Post.to_html",),
        fingerprint="ec4e01307af808bf",
    ),
    Workaround(
        name="no-doctree-copies",
        module="ablog_performance",
        package="ablog",
        upstream="none filed; ablog/post.py process_posts deep-copies every post's page",
        verified="ablog 0.11.13",
        reason=(
            "the copies are read only for full-text feeds, which the handbook does not "
            "publish; copying the 1,033 pages of a 1,000-article build takes 1.7 s, and "
            "kept, the copies were 40 of the 46 MB environment every rebuild loads"
        ),
        tests=(
            "tests/test_upstream.py::test_a_page_copy_ablog_no_longer_asks_for_fails_the_build",
            "tests/test_publication.py::test_the_saved_environment_holds_no_article_body",
            "tests/test_publication.py::test_full_text_feeds_carry_each_article_when_switched_on",
        ),
        replaces=("ablog.post.process_posts",),
        fingerprint="7e7db666265c3028",
    ),
    Workaround(
        name="incremental-archives",
        module="incremental",
        package="ablog",
        upstream=(
            "none filed; ablog/post.py regenerates every archive page and feed on every "
            "build (a reader's report of the cost: abakan-zz/ablog#24)"
        ),
        verified="ablog 0.11.13",
        reason=(
            "an incremental build equals a clean one, archives and feeds included, and an "
            "edit rewrites only the pages that show it: at 1,000 articles the stock stack "
            "(ABlog's archives, furo's navigation) took 32.5 s per one-article edit and "
            "814 s per full build, the handbook 2.7 s and 36 s (benchmarks/README.md)"
        ),
        tests=(
            "tests/test_incremental_equivalence.py::test_editing_an_article_matches_a_clean_build",
            "tests/test_incremental_equivalence.py::test_a_body_edit_rewrites_only_the_article_and_its_topic",
        ),
        replaces=("ablog.post.generate_archive_pages", "ablog.post.generate_atom_feeds"),
        fingerprint="166dc791f5ed6f8b",
    ),
    Workaround(
        name="ablog-templates-after-furo",
        module="ablog_furo",
        package="ablog",
        upstream="sunpy/ablog#108, sunpy/ablog#323 (both open)",
        verified="ablog 0.11.13, furo 2025.12.19",
        reason=(
            "correctness: with ABlog's templates before furo's, every page renders as "
            "furo's error page and the build still succeeds"
        ),
        tests=("tests/test_site.py::test_every_page_uses_furo_layout",),
        replaces=("ablog.builder_inited",),
        fingerprint="d793a09bde0d621f",
    ),
    Workaround(
        name="furo-navigation-once",
        module="navigation",
        package="furo",
        upstream="pradyunsg/furo#674, pradyunsg/furo#748, pradyunsg/furo#939 (all open)",
        verified="furo 2025.12.19",
        reason=(
            "furo copies and re-parses the whole site's toctree for every page, so "
            "pages and build time grow with pages times articles: the stock stack's "
            "full build took 814 s at 1,000 articles, the handbook's 36 s "
            "(benchmarks/README.md); the markup stays furo's own, byte for byte"
        ),
        tests=(
            "tests/test_navigation.py::test_navigation_is_furos_own_markup_for_the_collapsed_toctree",
            "tests/test_navigation.py::test_navigation_does_not_embed_every_article",
        ),
        replaces=("furo._compute_navigation_tree", "furo._html_page_context"),
        fingerprint="716b6146997d25f0",
    ),
    Workaround(
        name="only-directives-in-navigation",
        module="navigation",
        package="sphinx",
        upstream="none: Sphinx's own toctree code decides {only} blocks with this private function",
        verified="sphinx 9.0.4, 9.2.0",
        reason=(
            "the navigation built once per build must drop a toctree inside an {only} "
            "block exactly as Sphinx's does, and this is the function that decides"
        ),
        tests=(
            "tests/test_navigation.py::test_navigation_is_furos_own_markup_for_the_collapsed_toctree",
        ),
        replaces=("sphinx.util.nodes._only_node_keep_children",),
        fingerprint="5d57087425f28806",
    ),
    Workaround(
        name="complete-sitemap",
        module="sitemap",
        package="sphinx-sitemap",
        upstream="jdillard/sphinx-sitemap#13 (open)",
        verified="sphinx-sitemap 2.9.0",
        reason=(
            "correctness: after an incremental build the sitemap lists only the pages "
            "that build rewrote; and its multiprocessing manager took 0.7 s of every build "
            "(cProfile of a one-article edit at 1,000 articles)"
        ),
        tests=("tests/test_incremental.py::test_sitemap_stays_complete_after_a_one_file_edit",),
        replaces=(
            "sphinx_sitemap.record_builder_type",
            "sphinx_sitemap.add_html_link",
            "sphinx_sitemap.create_sitemap",
        ),
        fingerprint="d00179eff9dcb261",
    ),
    Workaround(
        name="previews-on-every-page",
        module="reader",
        package="sphinxext-opengraph",
        upstream=(
            "none filed; sphinxext/opengraph/__init__.py writes nothing for a page "
            "without a doctree and no twitter: names"
        ),
        verified="sphinxext-opengraph 0.13.0",
        reason=(
            "correctness: ABlog's archive pages and the 404 page keep the link-preview "
            "tags they had before the extension, and X gets its own names for them"
        ),
        tests=(
            "tests/test_reader.py::test_link_previews_have_title_description_and_image",
            "tests/test_reader.py::test_every_page_has_one_description_and_one_preview_description",
        ),
        replaces=("sphinxext.opengraph.html_page_context",),  # called for pages it skips
        fingerprint="2c94315aa18f4835",
    ),
    Workaround(
        name="reproducible-feeds",
        module="feeds",
        package="ablog",
        upstream="none filed; ablog/post.py stamps feeds with the build time through feedgen",
        verified="ablog 0.11.13, feedgen 1.0.0",
        reason="correctness: two builds of one commit are byte-identical, feeds included",
        tests=(
            "tests/test_publication.py::test_feed_updated_is_the_newest_post_not_the_build_time",
        ),
    ),
    Workaround(
        name="caption-aria-level",
        module="accessibility",
        package="sphinx",
        upstream="sphinx-doc/sphinx#14030 (Sphinx 9.2's translator still writes no level)",
        verified="sphinx 9.0.4, 9.2.0",
        reason="correctness: axe-core reports a critical violation on every page without it",
        tests=(
            "tests/browser/test_accessibility.py::test_page_kind_has_no_serious_violations",
            "tests/test_upstream.py::test_sphinx_captions_still_lack_an_aria_level",
        ),
        replaces=("sphinx.writers.html5.HTML5Translator.visit_title",),  # its caption branch
        fingerprint="c76f745e80a9d394",
    ),
    Workaround(
        name="no-sphinx-search-index",
        module="search",
        package="sphinx",
        upstream="none: Sphinx has no option to skip searchindex.js; its help builders set search",
        verified="sphinx 9.0.4, 9.2.0",
        reason=(
            "nothing reads Sphinx's index (the search page reads _search/); building it took "
            "6.2 s of a 61 s full build at 1,000 articles and published an 880 KB file"
        ),
        tests=(
            "tests/test_site.py::test_sphinx_writes_no_search_index_and_the_search_page_stays",
            "tests/browser/test_search.py::test_a_first_query_downloads_a_small_part_of_the_index",
        ),
        replaces=("sphinx.builders.html.StandaloneHTMLBuilder.gen_additional_pages",),
        fingerprint="d78a24f5ac87c6a5",
    ),
    Workaround(
        name="article-figure-numbers",
        module="numbering",
        package="sphinx",
        upstream=(
            "none: without a numbered toctree Sphinx numbers figures site-wide, "
            "loading every doctree on every build (TocTreeCollector.assign_figure_numbers)"
        ),
        verified="sphinx 9.0.4, 9.2.0",
        reason=(
            "an article's first figure read 'Figure 9'; finding the numbers took 1.9 s of a "
            "9 s one-article edit at 1,000 articles (cProfile)"
        ),
        tests=(
            "tests/test_figures.py::test_each_article_numbers_its_own_figures_from_one",
            "tests/test_figures.py::test_a_new_figure_renumbers_only_its_own_article",
        ),
        replaces=("sphinx.environment.collectors.toctree.TocTreeCollector.assign_figure_numbers",),
        fingerprint="23db73e84d425215",
    ),
    Workaround(
        name="english-stemmer",
        module="search",
        package="sphinx",
        upstream=(
            "none: Sphinx pairs snowballstemmer's English stemmer with its Snowball "
            "JavaScript twin (SearchEnglish.js_stemmer_rawcode) for its own search"
        ),
        verified="sphinx 9.0.4, 9.2.0",
        reason=(
            "the search page must stem a query as the index was stemmed; Sphinx ships the "
            "pair, 2.9 KB compressed, so the handbook keeps no stemmer of its own"
        ),
        tests=(
            "tests/browser/test_search.py::test_the_page_stems_every_indexed_word_as_the_index",
            "tests/browser/test_search.py::test_held_out_queries_find_their_article",
        ),
        replaces=("sphinx.search.en.SearchEnglish",),
        fingerprint="caa9434d25bd4b56",
    ),
    Workaround(
        name="gc-freeze",
        module="memory",
        package="sphinx",
        upstream="none: Python's collector rescans the environment Sphinx keeps alive",
        verified="sphinx 9.0.4, CPython 3.11 to 3.13",
        reason=(
            "garbage collection took 5.0 s of a 35 s build at 1,000 articles, 4.2 s "
            "with the freeze (gc.callbacks, two runs each)"
        ),
        tests=("tests/test_memory.py::test_the_freeze_lasts_from_reading_to_the_end_of_the_build",),
    ),
)


def fingerprint(names: tuple[str, ...], objects: dict[str, object] | None = None) -> str:
    """A short hash of the source of the named functions (``objects`` overrides lookups)."""
    digest = hashlib.sha256()
    for name in names:
        found = (objects or {}).get(name) or resolve(name)
        digest.update(inspect.getsource(found).encode())  # type: ignore[arg-type]
    return digest.hexdigest()[:16]


def resolve(name: str) -> object:
    """The object a dotted name points to: a module, then attributes."""
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            found = getattr(found, attribute)
        return found
    raise ImportError(name)


def version(package: str) -> str:
    """The installed version of a distribution."""
    return metadata.version(package)


class UpstreamChanged(SphinxError):
    """A dependency's code is not what a workaround was written against."""

    category = "Upstream changed"


def only_listener(app: Sphinx, event: str, matches: Callable[[Any], bool], entry: str) -> Any:
    """The one listener of ``event`` whose handler ``matches``, for a workaround to replace.

    Sphinx keeps its listeners in ``app.events.listeners``, which is not public;
    when that or the listener is gone, the build stops naming the register ``entry``.
    """
    listeners = getattr(app.events, "listeners", {}).get(event, [])
    found = [each for each in listeners if matches(each.handler)]
    if len(found) != 1:
        raise UpstreamChanged(
            f"the '{entry}' workaround expected one matching '{event}' listener and "
            f"found {len(found)}; see that entry of handbook/upstream.py"
        )
    return found[0]


def confirm(module: str, originals: dict[str, object] | None = None) -> None:
    """Stop unless the upstream code the module's workarounds replace is unchanged.

    ``originals`` gives the functions a module captured before replacing them,
    so that a second setup in the same process hashes upstream's code, not ours.
    """
    for workaround in REGISTER:
        if workaround.module != module or not workaround.replaces:
            continue
        found = fingerprint(workaround.replaces, originals)
        if found != workaround.fingerprint:
            raise UpstreamChanged(
                f"handbook/{module}.py works around {', '.join(workaround.replaces)} "
                f"of {workaround.package} {version(workaround.package)}, and that code is "
                f"not what the workaround was written against ({workaround.verified}). "
                f"Check the workaround ({workaround.upstream}), run "
                f"{' '.join(workaround.tests)}, then record the new fingerprint "
                f'"{found}" for "{workaround.name}" in handbook/upstream.py.'
            )


def main() -> int:
    """Print each workaround, its package version and whether its code still matches."""
    stale = 0
    for workaround in REGISTER:
        status = "no upstream code replaced"
        if workaround.replaces:
            found = fingerprint(workaround.replaces)
            stale += found != workaround.fingerprint
            status = "matches" if found == workaround.fingerprint else f"CHANGED: now {found}"
        print(
            f"{workaround.name}: handbook/{workaround.module}.py, {workaround.package} "
            f"{version(workaround.package)} (verified: {workaround.verified}); {status}"
        )
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
