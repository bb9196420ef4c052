"""Run Lighthouse on the built handbook: ``python tools/lighthouse.py [HTML_DIR]``.

``nox -s lighthouse`` builds the site and runs this. It serves the build on
127.0.0.1 as Read the Docs does (``tools/siteserver.py``: under the path of
``html_baseurl``, gzip-compressed), runs
Lighthouse (``tools/node_modules``, from ``npm ci --prefix tools``) with its
mobile profile on one page of each kind, in Debian's Chromium (``CHROME_PATH``,
else ``chromium`` on the PATH), offline, and writes the reports and a summary
table to ``artifacts/lighthouse/``.

It exits non-zero when accessibility, best practices or SEO scores below 1.0
on any page. Performance (goal: 0.95) is timed on this machine, so it is
reported but not enforced.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
LIGHTHOUSE = ROOT / "tools" / "node_modules" / "lighthouse" / "cli" / "index.js"
OUTPUT = ROOT / "artifacts" / "lighthouse"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
GOALS = {"performance": 0.95, "accessibility": 1.0, "best-practices": 1.0, "seo": 1.0}
ENFORCED = ("accessibility", "best-practices", "seo")
# Headless and offline, as in tests/browser/conftest.py; the resolver rule stops
# Chromium from looking up Google's hosts at start.
CHROME_FLAGS = (
    "--headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
    "--disable-background-networking --disable-component-update --disable-sync "
    '--host-resolver-rules="MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"'
)


def page_kinds() -> dict[str, str]:
    """One page of each kind: the landing page, the longest article and its topic, the archive."""
    articles = sorted((ROOT / "docs").glob("*/*.md"), key=lambda p: (p.stat().st_size, p))
    if not articles:
        raise SystemExit("no article found under docs/<topic>/")
    article = articles[-1]
    return {
        "landing": "index.html",
        "topic": f"{article.parent.name}.html",
        "article": f"{article.parent.name}/{article.stem}.html",
        "archive": "articles.html",
    }


def run_lighthouse(url: str, name: str, chrome: str) -> dict[str, float]:
    """Run Lighthouse on one URL; write its reports; return the category scores."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    command = [
        "node",
        str(LIGHTHOUSE),
        url,
        "--quiet",
        "--output=json",
        "--output=html",
        f"--output-path={OUTPUT / name}",
        f"--only-categories={','.join(CATEGORIES)}",
        f"--chrome-flags={CHROME_FLAGS}",
    ]
    subprocess.run(command, check=True, env={**os.environ, "CHROME_PATH": chrome})
    report = json.loads((OUTPUT / f"{name}.report.json").read_text(encoding="utf-8"))
    return {key: report["categories"][key]["score"] for key in CATEGORIES}


def main(site: Path) -> int:
    """Run Lighthouse on every kind of page and write the summary; 1 if a goal is missed."""
    chrome = os.environ.get("CHROME_PATH") or shutil.which("chromium")
    if not chrome:
        raise SystemExit("Chromium not found: apt-get install chromium, or set CHROME_PATH")
    if not LIGHTHOUSE.is_file() or not shutil.which("node"):
        raise SystemExit("Lighthouse not found: install Node.js and run 'npm ci --prefix tools'")
    if not (site / "index.html").is_file():
        raise SystemExit(f"no built site in {site}: run 'nox -s docs' first")
    sys.path.insert(0, str(ROOT))
    from commands.urls import base_url
    from tools.siteserver import serve

    prefix = urlsplit(base_url(site)).path or "/"  # where the built site says it is published
    server = serve(site, prefix, compress=True)  # as Read the Docs serves it
    base = f"http://127.0.0.1:{server.server_port}{prefix}"
    scores = {
        kind: run_lighthouse(base + path, kind, chrome) for kind, path in page_kinds().items()
    }
    server.shutdown()
    lines = [
        "| Page | Performance | Accessibility | Best practices | SEO |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {kind} | " + " | ".join(f"{found[key]:.2f}" for key in CATEGORIES) + " |"
        for kind, found in scores.items()
    ]
    table = "\n".join(lines) + "\n"
    (OUTPUT / "summary.md").write_text(table, encoding="utf-8")
    print(table)
    missed = [
        f"{kind}: {key} {found[key]:.2f} < {GOALS[key]}"
        for kind, found in scores.items()
        for key in CATEGORIES
        if found[key] < GOALS[key]
    ]
    for line in missed:
        print(("goal missed: " if line.split()[1] in ENFORCED else "below goal (timed): ") + line)
    return 1 if any(line.split()[1] in ENFORCED for line in missed) else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "_build" / "html")))
