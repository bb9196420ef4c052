"""Published URLs never vanish: the manifest, and moving an article safely.

``docs/urls.txt`` lists every URL the handbook has published, as paths under
the base URL. The tests fail when one of them has neither a page nor a
redirect, and when the site has a page the manifest does not list yet.

- ``python -m commands.urls record _build/html``: add the built site's new
  URLs to the manifest (``nox -s urls`` builds first); it never removes one.
- ``python -m commands.urls rename resilience/old-slug resilience/new-slug``:
  move an article, update the toctrees, add a redirect from the old URL to
  ``docs/redirects.yaml`` and the new URL to the manifest.
"""

from __future__ import annotations

import argparse
import html
import os
import re
import sys
from pathlib import Path
from xml.etree import ElementTree

import yaml

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = Path("docs") / "urls.txt"
REDIRECTS = Path("docs") / "redirects.yaml"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
HEADER = """\
# Every URL the handbook has published, as a path under its base URL.
# A URL listed here must keep a page or a redirect (docs/redirects.yaml);
# `python3 -m nox -s urls` adds new ones. Never delete a line.
"""


def read_manifest(root: Path) -> list[str]:
    """The recorded paths, in file order."""
    lines = (root / MANIFEST).read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def add_to_manifest(root: Path, paths: list[str]) -> list[str]:
    """Append the paths the manifest lacks; return those that were added."""
    manifest = root / MANIFEST
    known = set(read_manifest(root)) if manifest.exists() else set()
    new = sorted(set(paths) - known)
    text = manifest.read_text(encoding="utf-8") if manifest.exists() else HEADER
    manifest.write_text(text + "".join(f"{path}\n" for path in new), encoding="utf-8")
    return new


def sitemap_paths(outdir: Path, base_url: str) -> list[str]:
    """The page paths a built site's sitemap lists, relative to ``base_url``."""
    root = ElementTree.parse(outdir / "sitemap.xml").getroot()
    return [loc.text.removeprefix(base_url) for loc in root.iter(f"{SITEMAP}loc")]


def add_to_toctree(topic_page: Path, docname: str) -> bool:
    """Append ``docname`` to the last toctree of the topic page; False if it has none."""
    text = topic_page.read_text(encoding="utf-8")
    start = text.rfind("```{toctree}")
    end = text.find("\n```", start)
    if start < 0 or end < 0:
        return False
    topic_page.write_text(f"{text[:end]}\n{docname}{text[end:]}", encoding="utf-8")
    return True


def base_url(outdir: Path) -> str:
    """The URL a built site is published at: its home page's canonical link, less the page."""
    home = (outdir / "index.html").read_text(encoding="utf-8")
    link = re.search(r'<link rel="canonical" href="([^"]+)index\.html"', home)
    if link is None:
        raise SystemExit(f"error: {outdir}/index.html has no canonical link; run nox -s docs")
    return html.unescape(link.group(1))


def rename(root: Path, old: str, new: str) -> None:
    """Move article ``old`` (a docname) to ``new``, keeping its old URL as a redirect."""
    source, target = root / "docs" / f"{old}.md", root / "docs" / f"{new}.md"
    if not source.is_file():
        raise SystemExit(f"error: docs/{old}.md does not exist")
    if target.exists():
        raise SystemExit(f"error: docs/{new}.md exists already")
    old_topic, new_topic = old.partition("/")[0], new.partition("/")[0]
    old_page, new_page = root / "docs" / f"{old_topic}.md", root / "docs" / f"{new_topic}.md"
    if not new_page.is_file():
        raise SystemExit(f"error: docs/{new_topic}.md does not exist; is '{new_topic}' a topic?")
    target.parent.mkdir(parents=True, exist_ok=True)
    source.rename(target)
    text = old_page.read_text(encoding="utf-8")
    if old_page == new_page:
        old_page.write_text(text.replace(f"\n{old}\n", f"\n{new}\n"), encoding="utf-8")
    else:
        old_page.write_text(text.replace(f"\n{old}\n", "\n"), encoding="utf-8")
        if not add_to_toctree(new_page, new):
            raise SystemExit(f"error: docs/{new_topic}.md has no toctree to add the article to")
    redirects_file = root / REDIRECTS
    redirects = yaml.safe_load(redirects_file.read_text(encoding="utf-8")) or {}
    target_url = os.path.relpath(f"{new}.html", os.path.dirname(old) or ".")
    if old not in redirects:
        with redirects_file.open("a", encoding="utf-8") as handle:
            handle.write(f"{old}: {target_url}\n")
    add_to_manifest(root, [f"{new}.html"])
    print(f"moved docs/{old}.md to docs/{new}.md; {old}.html now redirects to {target_url}")
    if old_topic != new_topic:
        print(f"update 'category:' in docs/{new}.md to the title of the '{new_topic}' topic")


def main(argv: list[str]) -> int:
    """Command line for ``record`` and ``rename``."""
    parser = argparse.ArgumentParser(prog="python -m commands.urls", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    record = commands.add_parser("record", help="add a built site's new URLs to the manifest")
    record.add_argument("outdir", type=Path)
    move = commands.add_parser("rename", help="move an article and redirect its old URL")
    move.add_argument("old", help="the article's docname, e.g. resilience/old-slug")
    move.add_argument("new", help="its new docname, e.g. resilience/new-slug")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.command == "rename":
        rename(args.root, args.old.removesuffix(".md"), args.new.removesuffix(".md"))
        return 0

    for path in add_to_manifest(args.root, sitemap_paths(args.outdir, base_url(args.outdir))):
        print(f"recorded {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
