"""Measure the handbook's build at scale against the stock stack and the practical floor.

Run as ``nox -s bench -- --articles 1000`` (or ``python benchmarks/bench.py``).
In a temporary folder, it copies the handbook, adds N synthetic articles
(``benchmarks/synthetic.py``) and, for each stack, times a first (cold) full
build, then full builds again, then one-article edits, each rebuilt incrementally:

- ``handbook``: the real configuration and options (``-W -n``);
- ``basic``: Sphinx's ``basic`` theme with only myst-parser (``benchmarks/basic/conf.py``);
- ``stock``: the real configuration without the local extension's fixes, that is
  furo's own navigation and ABlog's own templates and rebuilds (``-D`` overrides).

It also builds the real handbook alone (no synthetic articles) and the
handbook with ``--reference-articles`` articles, whose mean page size is the
yardstick for page growth. Every edit appends a numbered sentence, and the
rebuilt page must show it. After the last incremental build, the output is
compared with the full build's (file set, sitemap URLs) and, for the
handbook, with a clean build of the edited sources (also feed entries and the
text of every page, which covers navigation, archives and post lists).

The handbook and basic stacks build in rounds, one after the other, and each
handbook / basic ratio is taken within a round (:func:`paired_ratios`): a slow
phase of a shared machine then weighs on both builds of a ratio, not on one
stack only. A one-article rebuild takes a second or two, so that a tenth of a
second of noise would move its ratio by 10 %: an incremental round therefore
times several edits, the stacks alternating edit by edit, and takes each
stack's median edit (:func:`median_run`). The report is a table, the ratios'
median and spread over the rounds, then one JSON line (last) with every number
and ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import shutil
import statistics
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

from search_transfer import chromium, first_query_transfer  # noqa: E402
from sphinx.config import eval_config_file  # noqa: E402
from sphinx.util.tags import Tags  # noqa: E402
from synthetic import generate  # noqa: E402

from commands.build import doctree_folder  # noqa: E402
from commands.urls import sitemap_paths  # noqa: E402
from handbook.feeds import feed_entries  # noqa: E402
from handbook.frontmatter import load_topics  # noqa: E402
from handbook.project import copy_project  # noqa: E402
from handbook.search import INDEX_FOLDER as SEARCH_INDEX  # noqa: E402

SETTINGS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["handbook"]
# The configuration as Sphinx reads it: the extensions each stack starts from.
CONF = eval_config_file(ROOT / "conf.py", Tags())
EDIT = "\nA sentence added by the benchmark to measure a one-article rebuild (edit {}).\n"
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
    "search_first_query_kb": 150.0,  # the search page and its first query's answer, compressed
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
    cold: Run  # the first full build, with empty caches: it draws every figure
    real_articles: int = 0  # the handbook's own articles, built alongside
    full_runs: list[Run] = field(default_factory=list)  # the later full builds, one a round
    edit_rounds: list[list[Run]] = field(default_factory=list)  # the incremental builds, by round
    output: Output | None = None
    complete: bool | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def incremental_runs(self) -> list[Run]:
        """One incremental time a round: the median of the round's edits."""
        return [median_run(runs) for runs in self.edit_rounds]

    @property
    def full(self) -> Run:
        """The fastest full build after the cold one; the cold one if it is the only one."""
        return fastest(self.full_runs or [self.cold])

    @property
    def incremental(self) -> Run | None:
        """The fastest incremental build, if any ran."""
        return fastest(self.incremental_runs) if self.incremental_runs else None

    def summary(self) -> dict[str, object]:
        """The numbers for the JSON line."""
        out, incremental = self.output, self.incremental
        return {
            "stack": self.stack,
            "articles": self.articles,
            "total_articles": self.articles + self.real_articles,
            "full_s": round(self.full.seconds, 2),
            "full_cold_s": round(self.cold.seconds, 2),
            "full_cpu_s": round(self.full.cpu_seconds, 2),
            "incremental_s": round(incremental.seconds, 2) if incremental else None,
            "incremental_cpu_s": round(incremental.cpu_seconds, 2) if incremental else None,
            "incremental_edits_s": [
                [round(r.seconds, 2) for r in runs] for runs in self.edit_rounds
            ],
            "incremental_edits_cpu_s": [
                [round(r.cpu_seconds, 2) for r in runs] for runs in self.edit_rounds
            ],
            "peak_mb": round(
                max(run.peak_mb for run in [self.cold, *self.full_runs, *self.incremental_runs]),
                1,
            ),
            "html_pages": out.html_pages if out else None,
            "output_mb": round(out.total_bytes / 2**20, 2) if out else None,
            "mean_page_kb": round(out.mean_page_bytes / 1024, 2) if out else None,
            "incremental_complete": self.complete,
            "problems": self.problems,
        }


def sphinx(project: Path, outdir: Path, stack: str, log: Path, profile: Path | None) -> Run:
    """Build ``project`` with one stack; return its wall time and peak memory."""
    python = [sys.executable, "-m", "cProfile", "-o", str(profile)] if profile else [sys.executable]
    command = [
        *python,
        "-m",
        "sphinx",
        "-b",
        "html",
        "-d",
        str(doctree_folder(outdir)),
        *stack_options(stack, CONF["extensions"]),
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


def median_run(runs: list[Run]) -> Run:
    """The typical one of repeated runs: the median times, the largest memory.

    Unlike the fastest run, the median of a few runs moves little when one of
    them is disturbed or lucky, so two benchmark runs agree more closely.
    """
    return Run(
        statistics.median(run.seconds for run in runs),
        statistics.median(run.cpu_seconds for run in runs),
        max(run.peak_mb for run in runs),
    )


def figure_cache(outdir: Path) -> Path:
    """Where the build into ``outdir`` keeps the figures it drew.

    ``HANDBOOK_BENCH_FIGURE_CACHE`` makes every build share one folder, so
    that no build draws a figure another one drew: cold times then mean
    nothing, but the test of the benchmark's output runs in a fraction of
    the time.
    """
    shared = os.environ.get("HANDBOOK_BENCH_FIGURE_CACHE")
    return Path(shared) if shared else outdir.parent / f"{outdir.name}.figures"


def remove_output(outdir: Path) -> None:
    """Delete a build's output and doctrees, for a full build from nothing.

    The figure cache stays, as it does for a contributor: the first full build
    of a run draws every figure (reported apart as ``full_cold_s``), later
    ones reuse the drawings.
    """
    shutil.rmtree(outdir, ignore_errors=True)
    shutil.rmtree(doctree_folder(outdir), ignore_errors=True)


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


def index_files(outdir: Path) -> dict[str, bytes]:
    """The search index, file by file."""
    folder = outdir / SEARCH_INDEX
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def differences(incremental: Path, reference: Path, deep: bool) -> list[str]:
    """How the incremental output differs from a reference build's; empty when equal."""
    found = []
    new, old = survey(incremental), survey(reference)
    new_files, old_files = new.files, old.files
    if new_files != old_files:
        found.append(
            f"file sets differ: {len(new_files - old_files)} extra, "
            f"{len(old_files - new_files)} missing"
        )
    if new.sitemap != old.sitemap:
        found.append(f"sitemap lists {len(new.sitemap)} URLs instead of {len(old.sitemap)}")
    if deep:
        if index_files(incremental) != index_files(reference):
            found.append("the search index differs")
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


def edit_one_article(project: Path, number: int) -> str:
    """Append sentence ``number`` to one article; return its document name.

    Always the same article, the middle synthetic one (else the first real
    one), so that every edit costs the same rebuild; each edit adds a sentence
    of its own, so the source always changes.
    """
    source = project / SETTINGS["source-dir"]
    articles = sorted(source.glob("*/*.md"))
    synthetic = [p for p in articles if p.stem.startswith("bench-")]
    target = synthetic[len(synthetic) // 2] if synthetic else articles[0]
    target.write_text(target.read_text(encoding="utf-8") + EDIT.format(number), encoding="utf-8")
    return target.relative_to(source).with_suffix("").as_posix()


@dataclass
class Copy:
    """One stack's copy of the handbook with the synthetic articles, and where it builds."""

    stack: str
    name: str  # <stack>-<articles>: the folder, output and log names
    project: Path
    outdir: Path
    log: Path
    edits: int = 0  # one-article edits made so far

    def build(self, what: str, outdir: Path | None = None, profile: Path | None = None) -> Run:
        """Run Sphinx on the copy, into its output folder unless told another."""
        print(f"[bench] {self.name}: {what}", file=sys.stderr, flush=True)
        return sphinx(self.project, outdir or self.outdir, self.stack, self.log, profile)

    def edit_and_build(self, when: str, profile: Path | None = None) -> Run:
        """Edit one article, rebuild incrementally and check the page shows the edit."""
        self.edits += 1
        docname = edit_one_article(self.project, self.edits)
        run = self.build(f"incremental build after editing {docname}, {when}", profile=profile)
        page = self.outdir / f"{docname}.html"
        if EDIT.format(self.edits).strip() not in page.read_text(encoding="utf-8"):
            raise SystemExit(f"{self.name}: {page} does not show edit {self.edits}: not rebuilt")
        return run


def prepare(stack: str, articles: int, work: Path, topics: dict[str, str], git: bool) -> Copy:
    """Copy the handbook for one stack and add the synthetic articles."""
    name = f"{stack}-{articles}"
    project = copy_project(ROOT, work / name)
    generate(project, articles, topics)
    if git:
        commit_all(project)
    return Copy(stack, name, project, work / f"{name}.html", work / f"{name}.log")


def measure(
    stacks: list[str],
    articles: int,
    work: Path,
    *,
    topics: dict[str, str],
    git: bool,
    full_rounds: int,
    incremental_rounds: int,
    edits: int = 1,
    verify: bool = False,
    profile: bool = False,
) -> dict[str, Result]:
    """Build stacks at one size, round by round: fully, then after a one-article edit.

    Each stack first builds once with empty caches (the cold build, reported
    apart), then ``full_rounds`` more full builds and ``incremental_rounds``
    rounds of ``edits`` one-article edits, each rebuilt incrementally. Within a
    round the stacks build one after the other, in the order given, edit by
    edit, so that :func:`paired_ratios` compares builds made seconds apart.
    ``verify`` and ``profile`` apply to the ``handbook`` stack: a clean build of
    the edited sources to compare with, and one more full and one more
    incremental build under cProfile, outside the timed rounds.
    """
    copies = [prepare(stack, articles, work, topics, git) for stack in stacks]
    results: dict[str, Result] = {}
    for copy in copies:
        cold = copy.build("first full build (cold)")
        real = len(list((copy.project / SETTINGS["source-dir"]).glob("*/*.md"))) - articles
        results[copy.stack] = Result(copy.stack, articles, cold, real_articles=real)
    profiled = [copy for copy in copies if profile and copy.stack == "handbook"]
    for number in range(1, full_rounds + 1):
        for copy in copies:
            remove_output(copy.outdir)
            results[copy.stack].full_runs.append(copy.build(f"full build, round {number}"))
    for copy in profiled:
        remove_output(copy.outdir)
        copy.build("full build under cProfile", profile=work / f"{copy.name}.full.prof")
    for copy in copies:
        results[copy.stack].output = survey(copy.outdir)
    if not incremental_rounds:
        return results
    for copy in copies:  # the full build's output, to compare the incremental ones with
        shutil.copytree(copy.outdir, work / f"{copy.name}.full")
    for number in range(1, incremental_rounds + 1):
        runs: dict[str, list[Run]] = {copy.stack: [] for copy in copies}
        for edit in range(1, edits + 1):
            for copy in copies:
                runs[copy.stack].append(copy.edit_and_build(f"round {number}, edit {edit}"))
        for copy in copies:
            results[copy.stack].edit_rounds.append(runs[copy.stack])
    for copy in profiled:
        copy.edit_and_build("under cProfile", profile=work / f"{copy.name}.incremental.prof")
    for copy in copies:
        result = results[copy.stack]
        result.problems = differences(copy.outdir, work / f"{copy.name}.full", deep=False)
        if verify and copy.stack == "handbook":
            clean = work / f"{copy.name}.clean"
            copy.build("clean build of the edited sources", outdir=clean)
            result.problems += differences(copy.outdir, clean, deep=True)
        result.complete = not result.problems
    return results


PAIR = ("handbook", "basic")  # the stacks whose builds are compared round by round


def paired_ratios(results: dict[str, Result]) -> dict[str, list[float]]:
    """handbook / basic time within each round, full and incremental, wall and CPU seconds.

    The two stacks build one after the other in every round, so a slow phase
    of the machine (other jobs, a noisy neighbour) weighs on both builds of a
    ratio; comparing each stack's fastest run instead lets it fall on one only.
    A round's incremental time is the median of its edits (``incremental_runs``).
    """
    handbook, basic = (results.get(stack) for stack in PAIR)
    if handbook is None or basic is None:
        return {}
    rounds = {
        "full": zip(handbook.full_runs, basic.full_runs, strict=True),
        "incremental": zip(handbook.incremental_runs, basic.incremental_runs, strict=True),
    }
    by_round: dict[str, list[float]] = {}
    for kind, runs in rounds.items():
        pairs = list(runs)
        by_round[kind] = [round(h.seconds / b.seconds, 3) for h, b in pairs]
        by_round[f"{kind}_cpu"] = [round(h.cpu_seconds / b.cpu_seconds, 3) for h, b in pairs]
    return by_round


def spread(values: list[float]) -> dict[str, float] | None:
    """The median of the per-round ratios, and the least and greatest of them."""
    if not values:
        return None
    return {
        "median": round(statistics.median(values), 2),
        "min": round(min(values), 2),
        "max": round(max(values), 2),
    }


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator, rounded, or None when either is missing."""
    if not numerator or not denominator:
        return None
    return round(numerator / denominator, 2)


def report(
    results: dict[str, Result], args: argparse.Namespace, search: dict[str, object] | None = None
) -> dict[str, object]:
    """Print the tables and return the JSON summary."""
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
    rounds = f"{args.repeat} round{'s' if args.repeat > 1 else ''}"
    edits = f"{args.edits} edit{'s' if args.edits > 1 else ''}"
    print(
        f"Times: each stack's fastest of {rounds} after its first, cold full build; "
        f"a round's incremental time is the median of its {edits} "
        "(the stock stack: one full and one incremental build).\n"
    )
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
        if result is not None and result.full_runs:
            print(
                f"first, cold full build of {label} (not in the table): {result.cold.seconds:.1f} s"
            )

    by_round = paired_ratios(results)
    spreads = {kind: spread(values) for kind, values in by_round.items()}
    if by_round:
        print(
            f"\n{PAIR[0]} / {PAIR[1]}, round by round: in each of {args.repeat} rounds, {PAIR[0]} "
            f"then {PAIR[1]} build back to back, for the incremental build {edits} in turn "
            "(each stack's median edit); the median of the rounds' ratios "
            "(the least to the greatest).\n"
        )
        print("| handbook / basic | wall time | CPU time | wall time by round |")
        print("| --- | --- | --- | --- |")
        for kind in ("full", "incremental"):
            wall, cpu = spreads[kind], spreads[f"{kind}_cpu"]
            if wall is None or cpu is None:
                continue
            print(
                f"| {kind} build | {wall['median']:.2f} ({wall['min']:.2f} to {wall['max']:.2f}) "
                f"| {cpu['median']:.2f} ({cpu['min']:.2f} to {cpu['max']:.2f}) "
                f"| {', '.join(f'{value:.2f}' for value in by_round[kind])} |"
            )

    def median(kind: str) -> float | None:
        found = spreads.get(kind)
        return found["median"] if found else None

    def get(key: str, stat: str) -> float | None:
        result = results.get(key)
        return result.summary()[stat] if result else None  # type: ignore[return-value]

    ratios = {  # against basic: the median of the paired rounds (ratio_spread)
        "full_vs_basic": median("full"),
        "full_cpu_vs_basic": median("full_cpu"),
        "incremental_vs_basic": median("incremental"),
        "incremental_cpu_vs_basic": median("incremental_cpu"),
        "stock_full_vs_handbook": ratio(get("stock", "full_s"), get("handbook", "full_s")),
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
        "search_first_query_at_most_150kb": at_most(
            search["total_kb"] if search else None,  # type: ignore[arg-type]
            GOALS["search_first_query_kb"],
        ),
    }
    if search:
        print(
            f"\nFirst search for {search['query']!r} at {args.articles} articles, in Chromium: "
            f"{search['total_kb']} KB compressed ({search['page_kb']} KB the search page, "
            f"{search['query_kb']} KB the query), {search['requests']} requests, "
            f"{search['results_shown']} results shown; largest: {search['largest']}"
        )
    print()
    for name, met in goals.items():
        print(f"goal {name}: {'n/a' if met is None else 'met' if met else 'NOT MET'}")
    return {
        "articles": args.articles,
        "nproc": os.cpu_count(),
        "repeat": args.repeat,
        "edits": args.edits,
        "results": {key: result.summary() for key, result in results.items()},
        "ratios": ratios,
        "ratios_by_round": by_round,
        "ratio_spread": spreads,
        "search": search,
        "goals": goals,
    }


SEARCH_STEPS = ("read_page", "write_index")  # handbook/search.py's two listeners


def print_profiles(work: Path, limit: int = 25) -> None:
    """Print the functions that took the most time in each profiled run."""
    for path in sorted(work.glob("*.prof")):
        print(f"\n## profile {path.stem} (top {limit} by internal time)")
        stats = pstats.Stats(str(path), stream=sys.stdout)
        stats.sort_stats("tottime").print_stats(limit)
        # What the search index cost in this build: counting the read pages'
        # words, then bringing _search/ up to date (handbook/search.py).
        spent = {
            function: cumulative
            for (file, _line, function), (*_, cumulative, _callers) in stats.stats.items()  # type: ignore[attr-defined]
            if file.endswith("handbook/search.py") and function in SEARCH_STEPS
        }
        print(
            f"search index: {sum(spent.values()):.3f} s "
            + ", ".join(f"{name} {spent.get(name, 0.0):.3f} s" for name in SEARCH_STEPS)
        )


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
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="rounds of full and of incremental builds after the first, cold full build, "
        "handbook and basic alternating (3, at least 1; the stock stack: one of each)",
    )
    parser.add_argument(
        "--edits",
        type=int,
        default=5,
        help="one-article edits in each incremental round, handbook and basic alternating "
        "edit by edit; the round's time is each stack's median edit (5, at least 1; the "
        "stock stack: one)",
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
    parser.add_argument(
        "--search-query",
        default="retry budget",
        help="measure the first search for this query on the handbook stack's build, in "
        "Chromium ('retry budget'; '' to skip)",
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.edits < 1:
        parser.error("--edits must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print the table, then the JSON line last."""
    args = parse_args(argv)
    stacks = set(args.stacks.split(","))
    topics = load_topics(ROOT / SETTINGS["source-dir"] / "topics.yaml")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="handbook-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    common = {"topics": topics, "git": not args.no_git}
    results: dict[str, Result] = {}
    repeat = args.repeat
    load_at_start = os.getloadavg()  # other jobs' load moves the ratios: say how busy it was
    try:
        if "real" in stacks:
            real = measure(
                ["handbook"],
                0,
                work / "real",
                full_rounds=repeat,
                incremental_rounds=repeat,
                edits=args.edits,
                verify=True,
                **common,
            )
            results["real"] = real["handbook"]
        if (
            "handbook" in stacks
            and args.reference_articles
            and args.reference_articles != args.articles
        ):
            reference = measure(
                ["handbook"],
                args.reference_articles,
                work,
                full_rounds=0,
                incremental_rounds=0,
                **common,
            )
            results["reference"] = reference["handbook"]
        if paired := [stack for stack in PAIR if stack in stacks]:
            results |= measure(
                paired,
                args.articles,
                work,
                full_rounds=repeat,
                incremental_rounds=repeat,
                edits=args.edits,
                verify=not args.no_verify,
                profile=args.profile,
                **common,
            )
        if "stock" in stacks:  # an order of magnitude slower: one build of each kind is enough
            results |= measure(
                ["stock"], args.articles, work, full_rounds=0, incremental_rounds=1, **common
            )
        search = None
        if args.search_query and "handbook" in results:
            if chromium() is None:
                print("[bench] search not measured: no Chromium (apt-get install chromium)")
            else:
                site = work / f"handbook-{args.articles}.html"
                search = first_query_transfer(site, args.search_query)
        summary = report(results, args, search)
        summary["load_average"] = {"start": load_at_start, "end": os.getloadavg()}
        print(
            f"\nload average (1, 5, 15 min) on {os.cpu_count()} cores: "
            + ", ".join(f"{value:.1f}" for value in load_at_start)
            + " at the start, "
            + ", ".join(f"{value:.1f}" for value in os.getloadavg())
            + " at the end"
        )
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
