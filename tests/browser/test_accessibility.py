"""axe-core on the built handbook: no serious or critical violation anywhere.

Every kind of page is checked at desktop and phone widths, in the light and
the dark theme, and at phone width with the navigation drawer open; every
other page of the site at phone width (where code and tables scroll) in the
light theme.
The full results, minor and moderate findings included, are written to
``artifacts/axe/`` for people to read.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.browser.conftest import ARTIFACTS, MOBILE, THEMES, WIDTHS, Browse, Visit
from tests.browser.test_reading import AXE_KINDS, open_navigation_drawer
from tests.shared import Build

BLOCKING = {"serious", "critical"}


def run_axe(visit: Visit, axe_source: str, name: str) -> list[str]:
    """Run axe-core on the page; save the violations; return the blocking ones, described."""
    visit.page.add_script_tag(content=axe_source)
    result = visit.page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    violations = [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]],
            "html": [n["html"][:200] for n in v["nodes"]],
        }
        for v in result["violations"]
    ]
    target = ARTIFACTS / "axe" / f"{name}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(violations, indent=2) + "\n", encoding="utf-8")
    return [
        f"{name}: {v['impact']} {v['id']} ({v['help']}) at {v['nodes'][:3]}"
        for v in violations
        if v["impact"] in BLOCKING
    ]


@pytest.mark.parametrize("kind", AXE_KINDS)
def test_page_kind_has_no_serious_violations(
    browse: Browse, pages: dict, axe_source: str, kind: str
) -> None:
    problems = []
    for width, pixels in WIDTHS.items():
        for theme in THEMES:
            visit = browse.open(pages[kind], width=pixels, theme=theme)
            problems += run_axe(visit, axe_source, f"{kind}-{width}-{theme}")
            if pixels == MOBILE:
                open_navigation_drawer(visit)
                problems += run_axe(visit, axe_source, f"{kind}-{width}-{theme}-navigation-open")
    assert problems == []


def test_every_other_page_has_no_serious_violations(
    browse: Browse, html: Build, pages: dict, axe_source: str
) -> None:
    covered = {pages[kind] for kind in AXE_KINDS}
    paths = sorted(
        p.relative_to(html.outdir).as_posix()
        for p in html.outdir.rglob("*.html")
        if "_static" not in p.parts and p.relative_to(html.outdir).as_posix() not in covered
    )
    assert len(paths) > 20
    visit = browse.open(paths[0], width=MOBILE, theme="light")
    problems = []
    for path in paths:
        if visit.page.url != browse.site + path:
            visit.page.goto(browse.site + path, wait_until="load")
        problems += run_axe(
            visit, axe_source, "site-" + path.removesuffix(".html").replace("/", "-")
        )
    assert visit.blocked == []
    assert problems == []


def test_every_page_has_the_landmark_and_keyboard_fixes(html: Build) -> None:
    """The markup fixes axe-core needs are on every page (templates/page.html and
    handbook/accessibility.py); this fails if furo's markup stops matching them."""
    fixes = (
        '<aside class="sidebar-drawer" aria-label="Site navigation">',
        '<aside aria-label="On this page" class="toc-drawer',
        '<div class="content-icon-container" role="region" aria-label="Page tools">',
        '<p aria-level="2" class="caption" role="heading">',
    )
    pages = [p for p in html.outdir.rglob("*.html") if "_static" not in p.parts]
    assert len(pages) > 20
    scrolling = 0
    for path in pages:
        name = path.relative_to(html.outdir)
        text = path.read_text(encoding="utf-8")
        for fix in fixes:
            assert fix in text, f"{name} lacks {fix}"
        for tag in re.findall(r"<pre\b[^>]*>|<div class=\"(?:table|math)-wrapper[^>]*>", text):
            assert 'tabindex="0"' in tag or "literal-block" in tag, f"{name}: {tag}"
            scrolling += 1
    assert scrolling, "no code block or table was checked"
