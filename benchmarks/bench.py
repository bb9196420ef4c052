"""Measure the handbook's build at scale against the stock stack and the practical floor.

Run as ``nox -s bench -- --articles 1000`` (or ``python benchmarks/bench.py``).
In a temporary folder, it copies the handbook, adds N synthetic articles
(``benchmarks/synthetic.py``) and, for each stack, times a full build, then
a one-article edit rebuilt incrementally:

- ``handbook``: the real configuration and options (``-W -n``);
- ``basic``: Sphinx's ``basic`` theme with only myst-parser (``benchmarks/basic/conf.py``);
- ``stock``: the real configuration without the local extension's fixes, that is
  furo's own navigation and ABlog's own templates and rebuilds (``-D`` overrides).

It also builds the real handbook alone (no synthetic articles) and the
handbook with ``--reference-articles`` articles, whose mean page size is the
yardstick for page growth. After the incremental build, the output is
compared with the full build's (file set, sitemap URLs) and, for the
handbook, with a clean build of the edited sources (also feed entries and the
text of every page, which covers navigation, archives and post lists).

The report is a table, then one JSON line (last) with every number and ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import runpy
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from synthetic import generate  # noqa: E402

from handbook.feeds import feed_entries  # noqa: E402
from handbook.project import copy_project  # noqa: E402
from handbook.urls import sitemap_paths  # noqa: E402

SETTINGS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["handbook"]
CONF = runpy.run_path(str(ROOT / "conf.py"))
EDIT = "\nA sentence added by the benchmark to measure a one-article rebuild.\n"
# The extensions of the handbook's own extension that its content needs in any
# stack: the {article-cards} directive and the front matter it reads.
CONTENT_EXTENSIONS = ["handbook.articles", "handbook.cards", "handbook.figures"]


def stack_options(stack: str, extensions: list[str]) -> list[str]:
    """Sphinx options for one stack, given the extensions conf.py lists.

    The stock stack is conf.py without the local extension's fixes: only its
    content directives stay, and ABlog injects its templates before the
    theme's, as it does by default.
    """
    if stack == "handbook":
        return list(SETTINGS["sphinx-options"])
    if stack == "basic":
        return ["-c", str(HERE / "basic"), "--keep-going"]
    stock = [name for name in extensions if name != "handbook"] + CONTENT_EXTENSIONS
    return [
        "-c",
        ".",
        "--keep-going",
        "-D",
        "extensions=" + ",".join(stock),
        "-D",
        "skip_injecting_base_ablog_templates=0",
    ]


GOALS = {  # the targets of the performance work, at 1,000 articles on 2 cores
    "full_vs_basic": 1.3,
    "incremental_seconds": 5.0,
    "page_size_vs_reference": 1.5,
    "real_full_seconds": 10.0,
    "real_incremental_seconds": 2.0,
}


@dataclass
class Run:
    """One Sphinx run: wall time, CPU time and peak resident memory of the child."""

    seconds: float
    cpu_seconds: float
    peak_mb: float


@dataclass
class Output:
    """What a build wrote."""

    files: set[str]
    total_bytes: int
    html_pages: int
    mean_page_bytes: float
    sitemap: set[str]


@dataclass
class Result:
    """One stack at one size: full and incremental builds, and the output check."""

    stack: str
    articles: int  # synthetic articles added
    full: Run
    real_articles: int = 0  # the handbook's own articles, built alongside
    cold: Run | None = None  # the first full build, which drew every figure
    incremental: Run | None = None
    output: Output | None = None
    complete: bool | None = None
    problems: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        """The numbers for the JSON line."""
        out = self.output
        return {
            "stack": self.stack,
            "articles": self.articles,
            "total_articles": self.articles + self.real_articles,
            "full_s": round(self.full.seconds, 2),
            "full_cold_s": round(self.cold.seconds, 2) if self.cold else None,
            "full_cpu_s": round(self.full.cpu_seconds, 2),
            "incremental_s": round(self.incremental.seconds, 2) if self.incremental else None,
            "incremental_cpu_s": (
                round(self.incremental.cpu_seconds, 2) if self.incremental else None
            ),
            "peak_mb": round(
                max(self.full.peak_mb, self.incremental.peak_mb if self.incremental else 0), 1
            ),
            "html_pages": out.html_pages if out else None,
            "output_mb": round(out.total_bytes / 2**20, 2) if out else None,
            "mean_page_kb": round(out.mean_page_bytes / 1024, 2) if out else None,
            "incremental_complete": self.complete,
            "problems": self.problems,
        }


def sphinx(
    project: Path, outdir: Path, stack: str, jobs: str, log: Path, profile: Path | None
) -> Run:
    """Build ``project`` with one stack; return its wall time and peak memory."""
    python = [sys.executable, "-m", "cProfile", "-o", str(profile)] if profile else [sys.executable]
    command = [
        *python,
        "-m",
        "sphinx",
        "-b",
        "html",
        "-d",
        str(outdir.parent / f"{outdir.name}.doctrees"),
        *stack_options(stack, CONF["extensions"]),
        *(["-j", jobs] if jobs != "1" else []),
        SETTINGS["source-dir"],
        str(outdir),
    ]
    # Figures are cached by content (handbook/figures.py); each output folder has
    # its own cache, removed with it, so a full build draws every figure.
    env = {**os.environ, "HANDBOOK_FIGURE_CACHE": str(figure_cache(outdir))}
    with log.open("a", encoding="utf-8") as stream:
        start = time.perf_counter()
        child = subprocess.Popen(
            command, cwd=project, env=env, stdout=stream, stderr=subprocess.STDOUT
        )
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        tail = log.read_text(encoding="utf-8")[-4000:]
        raise SystemExit(f"{stack} build of {project} failed ({code}):\n{tail}")
    # CPU time (user + system, the child's and its workers') is less sensitive than
    # wall time to other load on the machine; ru_maxrss is in KiB on Linux.
    return Run(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def fastest(runs: list[Run]) -> Run:
    """The least disturbed of repeated runs: the shortest times, the largest memory.

    Other load on the machine only ever adds time, so the minimum of a few
    repetitions is the best estimate of a build's own cost.
    """
    return Run(
        min(run.seconds for run in runs),
        min(run.cpu_seconds for run in runs),
        max(run.peak_mb for run in runs),
    )


def figure_cache(outdir: Path) -> Path:
    """Where the build into ``outdir`` keeps the figures it drew."""
    return outdir.parent / f"{outdir.name}.figures"


def remove_output(outdir: Path) -> None:
    """Delete a build's output and doctrees, for a full build from nothing.

    The figure cache stays, as it does for a contributor: the first full build
    of a run draws every figure (reported apart as ``full_cold_s``), later
    ones reuse the drawings.
    """
    shutil.rmtree(outdir, ignore_errors=True)
    shutil.rmtree(outdir.parent / f"{outdir.name}.doctrees", ignore_errors=True)


def sitemap_urls(outdir: Path) -> set[str]:
    """The URLs listed in sitemap.xml (empty when there is none)."""
    if not (outdir / "sitemap.xml").exists():
        return set()
    return set(sitemap_paths(outdir, ""))


def survey(outdir: Path) -> Output:
    """Measure the files a build wrote."""
    files = {
        p.relative_to(outdir).as_posix(): p.stat().st_size
        for p in outdir.rglob("*")
        if p.is_file() and p.name not in {".buildinfo", ".buildinfo.bak"}
    }
    pages = [size for name, size in files.items() if name.endswith(".html")]
    return Output(
        set(files),
        sum(files.values()),
        len(pages),
        sum(pages) / len(pages) if pages else 0.0,
        sitemap_urls(outdir),
    )


def all_feed_entries(outdir: Path) -> dict[str, list[tuple[str, ...]]]:
    """Every Atom feed's entries (:func:`handbook.feeds.feed_entries`), by feed path."""
    return {
        path.relative_to(outdir).as_posix(): feed_entries(path)
        for path in sorted(outdir.rglob("atom.xml"))
    }


def page_texts(outdir: Path) -> dict[str, str]:
    """Every HTML page's text: navigation, archives, post lists, related articles."""
    return {
        p.relative_to(outdir).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(outdir.rglob("*.html"))
    }


def differences(incremental: Path, reference: Path, deep: bool) -> list[str]:
    """How the incremental output differs from a reference build's; empty when equal."""
    found = []
    new, old = survey(incremental), survey(reference)
    if new.files != old.files:
        found.append(
            f"file sets differ: {len(new.files - old.files)} extra, "
            f"{len(old.files - new.files)} missing"
        )
    if new.sitemap != old.sitemap:
        found.append(f"sitemap lists {len(new.sitemap)} URLs instead of {len(old.sitemap)}")
    if deep:
        if all_feed_entries(incremental) != all_feed_entries(reference):
            found.append("feed entries differ")
        new_pages, old_pages = page_texts(incremental), page_texts(reference)
        stale = sorted(page for page in old_pages if new_pages.get(page) != old_pages[page])
        if stale:
            found.append(f"{len(stale)} pages differ, e.g. {stale[:3]}")
    return found


def commit_all(project: Path) -> None:
    """Make the copy a git repository with one commit, as a checkout is ("last updated")."""
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.invalid"]
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "benchmark"]):
        subprocess.run([*git, *command], cwd=project, check=True, capture_output=True)


def edit_one_article(project: Path) -> Path:
    """Append a sentence to one article: the middle synthetic one, else the first real one."""
    articles = sorted((project / SETTINGS["source-dir"]).glob("*/*.md"))
    synthetic = [p for p in articles if p.stem.startswith("bench-")]
    target = synthetic[len(synthetic) // 2] if synthetic else articles[0]
    target.write_text(target.read_text(encoding="utf-8") + EDIT, encoding="utf-8")
    return target


def measure(
    stack: str,
    articles: int,
    work: Path,
    *,
    topics: dict[str, str],
    jobs: str,
    git: bool,
    repeat: int = 1,
    incremental: bool = True,
    verify: bool = False,
    profile: bool = False,
) -> Result:
    """Build one stack at one size, fully and after a one-article edit.

    With ``repeat`` above 1, each kind of build runs that many times and the
    fastest run is kept (:func:`fastest`); only the first run is profiled.
    """
    name = f"{stack}-{articles}"
    project = copy_project(ROOT, work / name)
    generate(project, articles, topics)
    if git:
        commit_all(project)
    outdir, log = work / f"{name}.html", work / f"{name}.log"
    prof = (lambda phase: work / f"{name}.{phase}.prof") if profile else (lambda phase: None)
    print(f"[bench] {name}: full build", file=sys.stderr, flush=True)
    runs = []
    for attempt in range(repeat):
        if attempt:
            remove_output(outdir)
        profiled = prof("full") if not attempt else None
        runs.append(sphinx(project, outdir, stack, jobs, log, profiled))
    real = len(list((project / SETTINGS["source-dir"]).glob("*/*.md"))) - articles
    result = Result(stack, articles, fastest(runs), real_articles=real, cold=runs[0])
    result.output = survey(outdir)
    if not incremental:
        return result
    snapshot = work / f"{name}.full"
    shutil.copytree(outdir, snapshot)
    runs = []
    for attempt in range(repeat):
        edited = edit_one_article(project)
        print(f"[bench] {name}: incremental build after editing {edited.name}", file=sys.stderr)
        profiled = prof("incremental") if not attempt else None
        runs.append(sphinx(project, outdir, stack, jobs, log, profiled))
    result.incremental = fastest(runs)
    result.problems = differences(outdir, snapshot, deep=False)
    if verify:
        print(f"[bench] {name}: clean build of the edited sources", file=sys.stderr, flush=True)
        clean = work / f"{name}.clean"
        sphinx(project, clean, stack, jobs, log, None)
        result.problems += differences(outdir, clean, deep=True)
    result.complete = not result.problems
    return result


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator, rounded, or None when either is missing."""
    if not numerator or not denominator:
        return None
    return round(numerator / denominator, 2)


def report(results: dict[str, Result], args: argparse.Namespace) -> dict[str, object]:
    """Print the table and return the JSON summary."""
    rows = [
        ("real handbook", results.get("real")),
        (f"handbook + {args.reference_articles} articles", results.get("reference")),
        ("basic theme + MyST (floor)", results.get("basic")),
        ("stock stack", results.get("stock")),
        ("handbook", results.get("handbook")),
    ]
    header = (
        "| build | articles | pages | full (s) | full CPU (s) | incremental (s) "
        "| incremental CPU (s) | peak memory (MB) | output (MB) | mean page (KB) "
        "| incremental complete |"
    )
    if args.repeat > 1:
        print(f"Times are the fastest of {args.repeat} runs (the stock stack: one run).\n")
    print(header)
    print("|" + " --- |" * header.count(" | ") + " --- |")
    for label, result in rows:
        if result is None:
            continue
        s = result.summary()
        complete = {True: "yes", False: "NO: " + "; ".join(result.problems), None: "n/a"}
        incremental = "" if s["incremental_s"] is None else f"{s['incremental_s']:.2f}"
        incremental_cpu = "" if s["incremental_cpu_s"] is None else f"{s['incremental_cpu_s']:.2f}"
        print(
            f"| {label} | {s['total_articles']} | {s['html_pages']} | {s['full_s']:.1f} "
            f"| {s['full_cpu_s']:.1f} | {incremental} | {incremental_cpu} "
            f"| {s['peak_mb']:.0f} | {s['output_mb']:.1f} "
            f"| {s['mean_page_kb']:.1f} | {complete[result.complete]} |"
        )

    for label, result in rows:
        if result is not None and result.cold is not None and result.cold is not result.full:
            print(f"first full build of {label}, drawing every figure: {result.cold.seconds:.1f} s")

    def get(key: str, stat: str) -> float | None:
        result = results.get(key)
        return result.summary()[stat] if result else None  # type: ignore[return-value]

    ratios = {
        "full_vs_basic": ratio(get("handbook", "full_s"), get("basic", "full_s")),
        "stock_full_vs_handbook": ratio(get("stock", "full_s"), get("handbook", "full_s")),
        "incremental_vs_basic": ratio(
            get("handbook", "incremental_s"), get("basic", "incremental_s")
        ),
        "stock_incremental_vs_handbook": ratio(
            get("stock", "incremental_s"), get("handbook", "incremental_s")
        ),
        "page_size_vs_reference": ratio(
            get("handbook", "mean_page_kb"), get("reference", "mean_page_kb")
        ),
        "page_size_vs_basic": ratio(get("handbook", "mean_page_kb"), get("basic", "mean_page_kb")),
        "stock_page_size_vs_handbook": ratio(
            get("stock", "mean_page_kb"), get("handbook", "mean_page_kb")
        ),
    }

    def at_most(value: float | None, limit: float) -> bool | None:
        return None if value is None else value <= limit

    handbook = results.get("handbook")
    goals = {
        "full_at_most_1.3x_basic": at_most(ratios["full_vs_basic"], GOALS["full_vs_basic"]),
        "incremental_at_most_5s": at_most(
            get("handbook", "incremental_s"), GOALS["incremental_seconds"]
        ),
        "incremental_complete": handbook.complete if handbook else None,
        "page_size_at_most_1.5x_reference": at_most(
            ratios["page_size_vs_reference"], GOALS["page_size_vs_reference"]
        ),
        "real_full_at_most_10s": at_most(get("real", "full_s"), GOALS["real_full_seconds"]),
        "real_incremental_at_most_2s": at_most(
            get("real", "incremental_s"), GOALS["real_incremental_seconds"]
        ),
    }
    print()
    for name, met in goals.items():
        print(f"goal {name}: {'n/a' if met is None else 'met' if met else 'NOT MET'}")
    return {
        "articles": args.articles,
        "nproc": os.cpu_count(),
        "jobs": args.jobs,
        "repeat": args.repeat,
        "results": {key: result.summary() for key, result in results.items()},
        "ratios": ratios,
        "goals": goals,
    }


def print_profiles(work: Path, limit: int = 25) -> None:
    """Print the functions that took the most time in each profiled run."""
    for path in sorted(work.glob("*.prof")):
        print(f"\n## profile {path.stem} (top {limit} by internal time)")
        stats = pstats.Stats(str(path), stream=sys.stdout)
        stats.sort_stats("tottime").print_stats(limit)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=200, help="synthetic articles (200)")
    parser.add_argument(
        "--reference-articles",
        type=int,
        default=100,
        help="size whose mean page size the N-article build is compared with (100; 0: skip)",
    )
    parser.add_argument("--jobs", default="1", help="sphinx-build -j for every stack (1)")
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="run each build this many times and keep the fastest (3; the stock stack once)",
    )
    parser.add_argument(
        "--stacks",
        default="handbook,basic,stock,real",
        help="comma-separated subset of handbook,basic,stock,real",
    )
    parser.add_argument("--no-verify", action="store_true", help="skip the clean comparison build")
    parser.add_argument(
        "--no-git", action="store_true", help="do not make the copies git repositories"
    )
    parser.add_argument("--profile", action="store_true", help="run the handbook under cProfile")
    parser.add_argument("--workdir", type=Path, help="build here and keep it (default: temporary)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print the table, then the JSON line last."""
    args = parse_args(argv)
    stacks = set(args.stacks.split(","))
    topics: dict[str, str] = CONF["handbook_topics"]
    work = args.workdir or Path(tempfile.mkdtemp(prefix="handbook-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    common = {"topics": topics, "jobs": args.jobs, "git": not args.no_git}
    results: dict[str, Result] = {}
    try:
        if "real" in stacks:
            results["real"] = measure(
                "handbook", 0, work / "real", verify=True, repeat=args.repeat, **common
            )
        if (
            "handbook" in stacks
            and args.reference_articles
            and args.reference_articles != args.articles
        ):
            results["reference"] = measure(
                "handbook", args.reference_articles, work, incremental=False, **common
            )
        for stack in ("basic", "stock", "handbook"):
            if stack in stacks:
                results[stack] = measure(
                    stack,
                    args.articles,
                    work,
                    # The stock stack is an order of magnitude slower: once is enough.
                    repeat=1 if stack == "stock" else args.repeat,
                    verify=stack == "handbook" and not args.no_verify,
                    profile=args.profile and stack == "handbook",
                    **common,
                )
        summary = report(results, args)
        if args.profile:
            print_profiles(work)
        print(f"\nbuilds and logs: {work}" if args.workdir else "")
        print(json.dumps(summary, sort_keys=True))
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
