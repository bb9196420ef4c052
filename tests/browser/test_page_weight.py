"""Page weight: requests and bytes per kind of page, within budgets.

Counts and sizes are exact for a given build (no timing is measured), so
they can be asserted. Compressed sizes are gzip at level 6, as a compressing
web server such as Read the Docs' sends them; raw sizes are the files as
built. The table is written to ``artifacts/page-weight.md``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser.conftest import ARTIFACTS, MOBILE, Browse, Transfer

# kind: (most requests, most compressed bytes) for one page load with an empty cache.
# Copy buttons on code blocks (sphinx-copybutton) cost three small requests and
# about 6 KB; the article measured is the longest, with its tables.
BUDGETS = {
    "landing": (18, 60_000),
    "topic": (18, 60_000),
    "article": (18, 70_000),
    "archive": (18, 60_000),
    "tags": (18, 60_000),
    "not-found": (18, 60_000),
    # The search page loads no index until a query is typed (tests/browser/test_search.py).
    "search": (18, 60_000),
}


@pytest.fixture(scope="module")
def weights() -> Iterator[dict[str, list[Transfer]]]:
    """What each kind of page transferred; written as a table after the module."""
    measured: dict[str, list[Transfer]] = {}
    yield measured
    lines = [
        "| Page | Requests | Transferred, gzip (KB) | Raw (KB) | Budget |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for kind, transfers in measured.items():
        requests, limit = BUDGETS[kind]
        gzipped = sum(t.gzip_bytes for t in transfers) / 1000
        raw = sum(t.raw_bytes for t in transfers) / 1000
        lines.append(
            f"| {kind} | {len(transfers)} | {gzipped:.1f} | {raw:.1f} "
            f"| ≤ {requests} requests, ≤ {limit // 1000} KB |"
        )
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "page-weight.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize("kind", BUDGETS)
def test_page_weight_is_within_budget(
    browse: Browse, pages: dict, weights: dict, kind: str
) -> None:
    visit = browse.open(pages[kind], width=MOBILE)
    visit.page.wait_for_load_state("networkidle")
    transfers = visit.transfers()
    weights[kind] = transfers
    requests, limit = BUDGETS[kind]
    listing = "\n".join(f"{t.gzip_bytes:>8} {t.url}" for t in transfers)
    assert visit.blocked == []
    assert len(transfers) <= requests, f"{kind}: {len(transfers)} requests\n{listing}"
    gzipped = sum(t.gzip_bytes for t in transfers)
    assert gzipped <= limit, f"{kind}: {gzipped} bytes compressed\n{listing}"


# An article read to the end, with every figure loaded: at most this many
# compressed bytes. Figures are SVG and load lazily, so the first screen of a
# page does not pay for the figures further down.
READ_TO_THE_END = 150_000


def test_articles_with_all_their_figures_stay_light_and_load_figures_lazily(
    browse: Browse, articles: list
) -> None:
    heaviest, first_screen_figures, all_figures = (0, ""), 0, 0
    for article in articles:
        visit = browse.open(f"{article.docname}.html", width=MOBILE)
        visit.page.wait_for_load_state("networkidle")
        figures = visit.page.locator("figure.handbook-figure img").count()
        first_screen_figures += sum("/_images/" in t.url for t in visit.transfers())
        all_figures += figures
        # Read to the end: every lazily loaded image is fetched.
        visit.page.evaluate(
            "document.querySelectorAll('img[loading=lazy]').forEach(i => i.loading = 'eager')"
        )
        visit.page.wait_for_function("Array.from(document.images).every(i => i.complete)")
        visit.page.wait_for_load_state("networkidle")
        transfers = visit.transfers()
        drawn = [t for t in transfers if "/_images/" in t.url and t.url.endswith(".svg")]
        assert len(drawn) == figures > 0, f"{article.docname}: {len(drawn)} of {figures} figures"
        gzipped = sum(t.gzip_bytes for t in transfers)
        listing = "\n".join(f"{t.gzip_bytes:>8} {t.url}" for t in transfers)
        assert gzipped <= READ_TO_THE_END, f"{article.docname}: {gzipped} bytes\n{listing}"
        heaviest = max(heaviest, (gzipped, article.docname))
        browse.close()
    assert first_screen_figures < all_figures, "figures below the first screen loaded eagerly"
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "page-weight-figures.md").write_text(
        f"Heaviest article read to the end, every figure loaded: {heaviest[1]}, "
        f"{heaviest[0] / 1000:.1f} KB gzip; figures fetched on the first screen: "
        f"{first_screen_figures} of {all_figures}\n",
        encoding="utf-8",
    )
