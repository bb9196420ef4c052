"""The HTML we publish is valid HTML5, by the Nu HTML Checker (vnu.jar).

The checker comes from the npm registry (tools/package.json, vnu-jar) and
runs on Java. Errors fail the test. Warnings fail it too, except the ones
listed in ALLOWED, each of which is furo's markup rather than ours and is
recorded with the reason.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter

from tests.shared import ROOT, Build

VNU = ROOT / "tools" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"

ALLOWED = {
    # furo puts every page's content, h1 included, inside <article role="main">
    # (furo/theme/furo/page.html); the checker suggests sectioning headings
    # there. Changing it means replacing furo's page template.
    "Consider using the \u201ch1\u201d element as a top-level heading only": "furo's layout",
    "Article lacks heading.": "furo's layout: the same <article role=main> element",
}


def test_every_page_is_valid_html5(html: Build) -> None:
    java = shutil.which("java")
    assert java, "Java is needed to run the Nu HTML Checker; .ci/run installs it"
    assert VNU.is_file(), "run `npm ci --prefix tools` to install the Nu HTML Checker"
    done = subprocess.run(
        [java, "-jar", str(VNU), "--format", "json", "--skip-non-html", str(html.outdir)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    messages = json.loads(done.stderr or done.stdout)["messages"]
    assert messages is not None
    problems = Counter()
    for message in messages:
        text = message.get("message", "")
        if message["type"] == "info" and message.get("subType") != "warning":
            continue
        if any(text.startswith(allowed) for allowed in ALLOWED):
            continue
        page = message.get("url", "").rpartition(str(html.outdir))[2]
        problems[f"{message['type']}: {text} ({page}:{message.get('lastLine')})"] += 1
    assert not problems, "\n".join(sorted(problems))[:6000]
