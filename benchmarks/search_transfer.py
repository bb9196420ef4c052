"""What a reader's first search downloads, measured in Chromium.

Serves a built handbook the way Read the Docs does (``tools/siteserver.py``),
opens ``search.html?q=QUERY`` in a fresh headless Chromium (Debian's
``chromium``, or ``CHROME_PATH``) and adds up every response until the
results are shown: the page itself, then what the query cost (the search
code, the index chunks of its words, the excerpts of the shown results).
Sizes are compressed as a web server sends them: gzip level 6, or the body
as stored when it is already compressed (images).

    python3 benchmarks/search_transfer.py _build/html "retry budget"

``bench.py`` runs it on the handbook stack's build (``--search-query``).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools.siteserver import sent_size, serve  # noqa: E402

PREFIX = "/en/latest/"


def chromium() -> str | None:
    """The Chromium binary to drive, or None when there is none."""
    return os.environ.get("CHROME_PATH") or shutil.which("chromium")


def first_query_transfer(site: Path, query: str) -> dict[str, object]:
    """Compressed bytes of the search page and of its first query's answer."""
    from playwright.sync_api import sync_playwright

    server = serve(site, PREFIX)
    base = f"http://127.0.0.1:{server.server_port}{PREFIX}"
    try:
        with sync_playwright() as driver:
            browser = driver.chromium.launch(
                executable_path=chromium(), args=["--headless", "--no-sandbox"]
            )
            page = browser.new_page()
            finished: list = []
            page.on("requestfinished", lambda request: finished.append(request))
            page.goto(f"{base}search.html", wait_until="networkidle")
            on_load = len(finished)
            page.fill("#handbook-search-input", query)
            page.press("#handbook-search-input", "Enter")
            page.wait_for_function(
                "() => document.getElementById('handbook-search-status').textContent !== ''"
            )
            page.wait_for_load_state("networkidle")
            sizes = []
            for request in finished:
                body = request.response().body()
                sizes.append((request.url, sent_size(body)))
            results = page.locator("#handbook-search-results li").count()
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    page_bytes = sum(size for _, size in sizes[:on_load])
    query_bytes = sum(size for _, size in sizes[on_load:])
    return {
        "query": query,
        "results_shown": results,
        "page_kb": round(page_bytes / 1000, 1),
        "query_kb": round(query_bytes / 1000, 1),
        "total_kb": round((page_bytes + query_bytes) / 1000, 1),
        "requests": len(sizes),
        "largest": [
            (urlsplit(url).path.removeprefix(PREFIX), size)
            for url, size in sorted(sizes, key=lambda item: -item[1])[:5]
        ],
    }


if __name__ == "__main__":
    print(json.dumps(first_query_transfer(Path(sys.argv[1]), sys.argv[2]), indent=2))
