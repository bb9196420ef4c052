"""Run Sphinx, and turn a crash into a short message: ``python -m commands.build ARGS``.

``ARGS`` are ``sphinx-build``'s own. Everything Sphinx prints passes through
unchanged, with one exception. When the build crashes (an exception nobody
foresaw, in the handbook's code or a dependency's), Sphinx prints some fifty
lines: versions, extensions, a traceback and an invitation to report a Sphinx
bug. A contributor needs three things instead: which file was being processed,
that the fault is in the build and not necessarily in their text, and where the
full log is. This prints those, and exits with Sphinx's own code (2).

It reads Sphinx's crash report as text ("The full traceback has been saved
in:"); if that report ever changes shape, the report is printed unchanged.

It also keeps build state out of what gets published: without ``-d``, Sphinx
puts its doctrees (the pickled environment, and the extension's record of the
archive pages it wrote) inside the output folder, which Read the Docs copies
whole. Here they go beside it instead, in ``<output folder>.doctrees``
(``_build/html.doctrees`` for ``_build/html``), one per output folder as before.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import TextIO

# The lines that start Sphinx's crash report (sphinx/_cli/util/errors.py).
CRASH_HEADERS = re.compile(
    r"^(Extension error!|Exception occurred:|Sphinx error:|Encoding error:|"
    r"Recursion error:|Interrupted!|.*error!)\s*$"
)
SAVED_IN = "The full traceback has been saved in:"
PROGRESS = re.compile(
    r"^(?:reading sources|writing output|copying|pickling|checking)\.\.\.\s*"
    r"(?:\[\s*\d+%\]\s*)?(?P<docname>\S+)"
)
SUMMARY = re.compile(
    r"\(exception: (?P<what>.*)\)\s*$|^\s*(?P<raised>[\w.]+(?:Error|Exception): .*)$"
)


def source_dir(argv: list[str]) -> str:
    """The source folder named on Sphinx's command line (make mode or not)."""
    if argv[:1] == ["-M"]:
        return argv[2]
    from sphinx.cmd.build import get_parser  # the parser sphinx-build itself uses

    return str(get_parser().parse_args(argv).sourcedir)


def doctree_folder(outdir: str | Path) -> Path:
    """Where a build into ``outdir`` keeps its doctrees: beside it, never inside."""
    outdir = Path(outdir)
    return outdir.with_name(f"{outdir.name}.doctrees")


def with_doctrees_beside_output(argv: list[str]) -> list[str]:
    """``argv`` with ``-d <output folder>.doctrees`` when it names no doctree folder.

    Make mode (``-M``) already keeps doctrees in ``<build folder>/doctrees``.
    """
    if argv[:1] == ["-M"]:
        return argv
    from sphinx.cmd.build import get_parser

    parsed = get_parser().parse_args(argv)
    if parsed.doctreedir:
        return argv
    return ["-d", str(doctree_folder(parsed.outputdir)), *argv]


def short_report(report: list[str], docname: str | None, source: str) -> str | None:
    """The contributor's version of Sphinx's crash ``report``, or None if it is not one."""
    try:
        log = report[report.index(SAVED_IN) + 1].strip()
    except (ValueError, IndexError):
        return None
    causes = [
        m.group("what") or m.group("raised") for line in report if (m := SUMMARY.search(line))
    ]
    what = causes[-1] if causes else "an unexpected error"
    where = f"while processing {source}/{docname}.md" if docname else "before reading any page"
    return (
        f"handbook: the build crashed {where}: {what}\n"
        "handbook: this is a fault in the build, not a message about your text; if a change "
        "to that file set it off, undo the change and rebuild, and report the crash with "
        f"the full log: {log}\n"
    )


def relay(stream: TextIO, out: TextIO, seen: dict[str, str], report: list[str] | None) -> None:
    """Copy ``stream`` to ``out`` line by line, noting the page being processed.

    With ``report``, a crash report is held back into it instead of copied.
    """
    for line in stream:
        if report is not None and (report or CRASH_HEADERS.match(line.rstrip("\n"))):
            report.append(line.rstrip("\n"))
            continue
        if progress := PROGRESS.match(line.strip()):
            seen["doc"] = progress.group("docname")
        out.write(line)
        out.flush()


def main(argv: list[str]) -> int:
    """Run ``python -m sphinx argv``; return its exit code."""
    child = subprocess.Popen(
        [sys.executable, "-m", "sphinx", *with_doctrees_beside_output(argv)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        bufsize=1,
    )
    assert child.stdout is not None and child.stderr is not None
    report: list[str] = []
    seen: dict[str, str] = {}
    threads = [
        threading.Thread(target=relay, args=(child.stdout, sys.stdout, seen, None)),
        threading.Thread(target=relay, args=(child.stderr, sys.stderr, seen, report)),
    ]
    for thread in threads:
        thread.start()
    code = child.wait()
    for thread in threads:
        thread.join()
    if report:
        short = short_report(report, seen.get("doc"), source_dir(argv)) if code == 2 else None
        sys.stderr.write(short or "\n".join(report) + "\n")
    return code


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
