"""The build benchmark runs and reports what it promises; its times are not asserted."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from types import ModuleType

import pytest

from tests.shared import ROOT, SOURCE

REPEAT = 1  # rounds after the cold build: one is enough for a pair of each kind
EDITS = 2  # one-article edits in each incremental round: more than one, to alternate


def load_bench() -> ModuleType:
    """benchmarks/bench.py as a module, for its pure functions."""
    spec = importlib.util.spec_from_file_location("bench", ROOT / "benchmarks" / "bench.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


bench = load_bench()


def runs(*seconds: float) -> list:
    """Runs with these wall times, half as many CPU seconds and growing memory."""
    return [bench.Run(s, s / 2, 100.0 + i) for i, s in enumerate(seconds)]


def test_a_round_of_edits_counts_as_its_median_edit() -> None:
    median = bench.median_run(runs(1.0, 9.0, 1.2, 1.1, 0.2))  # one slow edit, one lucky one
    assert (median.seconds, median.cpu_seconds, median.peak_mb) == (1.1, 0.55, 104.0)
    assert bench.median_run(runs(2.0, 1.0)).seconds == 1.5  # an even count: the middle two


def test_ratios_are_taken_round_by_round_between_median_edits() -> None:
    cold = bench.Run(10.0, 5.0, 100.0)
    handbook = bench.Result("handbook", 200, cold, full_runs=runs(4.0, 6.0))
    basic = bench.Result("basic", 200, cold, full_runs=runs(2.0, 4.0))
    # A disturbed handbook edit in round 1 and a disturbed basic edit in round 2 move
    # neither round: each round compares the stacks' median edits, 2.0 / 1.0.
    handbook.edit_rounds = [runs(1.9, 2.0, 7.0), runs(2.1, 2.0, 1.8)]
    basic.edit_rounds = [runs(1.0, 0.9, 1.1), runs(1.0, 5.0, 0.8)]
    by_round = bench.paired_ratios({"handbook": handbook, "basic": basic})
    assert by_round == {
        "full": [2.0, 1.5],
        "full_cpu": [2.0, 1.5],
        "incremental": [2.0, 2.0],
        "incremental_cpu": [2.0, 2.0],
    }
    assert bench.spread(by_round["full"]) == {"median": 1.75, "min": 1.5, "max": 2.0}
    summary = handbook.summary()
    assert summary["incremental_s"] == 2.0  # the fastest round's median edit
    assert summary["incremental_edits_s"] == [[1.9, 2.0, 7.0], [2.1, 2.0, 1.8]]
    assert bench.paired_ratios({"handbook": handbook}) == {}


def test_every_edit_changes_the_source(tmp_path) -> None:
    article = tmp_path / SOURCE / "topic" / "bench-0001.md"
    article.parent.mkdir(parents=True)
    article.write_text("# Title\n", encoding="utf-8")
    assert bench.edit_one_article(tmp_path, 1) == "topic/bench-0001"
    first = article.read_text(encoding="utf-8")
    bench.edit_one_article(tmp_path, 2)
    second = article.read_text(encoding="utf-8")
    assert first != second and "(edit 1)" in first and "(edit 2)" in second


@pytest.mark.builds
def test_benchmark_reports_every_stack_and_checks_incremental_output() -> None:
    command = [
        sys.executable,
        "benchmarks/bench.py",
        "--articles",
        "12",
        "--reference-articles",
        "6",
        "--stacks",
        "handbook,basic,real",
        "--no-git",
        "--repeat",
        str(REPEAT),
        "--edits",
        str(EDITS),
    ]
    # Every build reuses the figures this test session drew: times are not asserted.
    env = {**os.environ, "HANDBOOK_BENCH_FIGURE_CACHE": os.environ["HANDBOOK_FIGURE_CACHE"]}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.strip().splitlines()
    summary = json.loads(lines[-1])  # the JSON line comes last, for scripts
    blocks = [block.splitlines() for block in done.stdout.split("\n\n")]
    tables = [rows for block in blocks if (rows := [x for x in block if x.startswith("| ")])]
    assert len(tables) == 2, tables
    builds, pairs = tables
    assert len(builds) == 2 + 4, builds  # header, rule, real, reference, basic, handbook
    assert [row.split(" | ")[0] for row in pairs[2:]] == ["| full build", "| incremental build"]
    results = summary["results"]
    assert set(results) == {"real", "reference", "basic", "handbook"}
    articles = len(list((ROOT / SOURCE).glob("*/*.md")))
    assert results["real"]["total_articles"] == articles
    assert results["handbook"]["total_articles"] == articles + 12
    for name in ("real", "basic", "handbook"):
        result = results[name]
        assert result["incremental_complete"] is True, (name, result["problems"])
        assert result["full_s"] > 0 and result["incremental_s"] > 0
        assert result["full_cold_s"] > 0
        assert result["html_pages"] >= articles
    assert summary["goals"]["incremental_complete"] is True
    assert [len(summary["load_average"][when]) for when in ("start", "end")] == [3, 3]
    # The first search, measured in Chromium on the handbook stack's build.
    search = summary["search"]
    assert search["query"] == "retry budget" and search["results_shown"] > 0
    assert abs(search["total_kb"] - search["page_kb"] - search["query_kb"]) < 0.15
    assert search["query_kb"] > 0 and "First search for 'retry budget'" in done.stdout

    # The handbook and basic stacks build in turn, after both cold builds, so
    # that each round's ratio compares builds made back to back; in an
    # incremental round they alternate edit by edit.
    order = re.findall(r"^\[bench\] (handbook|basic)-12: (.*)$", done.stderr, re.MULTILINE)
    cold = [stack for stack, what in order if "(cold)" in what]
    rounds = [(stack, what.split()[0]) for stack, what in order if ", round " in what]
    assert cold == ["handbook", "basic"], order
    assert order[:2] == [(stack, "first full build (cold)") for stack in cold], order
    assert rounds == [
        *[("handbook", "full"), ("basic", "full")] * REPEAT,
        *[("handbook", "incremental"), ("basic", "incremental")] * REPEAT * EDITS,
    ], order
    for name in ("real", "basic", "handbook"):
        edits = results[name]["incremental_edits_s"]
        assert [len(times) for times in edits] == [EDITS] * REPEAT, (name, edits)

    by_round, spreads, ratios = (
        summary["ratios_by_round"],
        summary["ratio_spread"],
        summary["ratios"],
    )
    kinds = {"full", "full_cpu", "incremental", "incremental_cpu"}
    assert set(by_round) == set(spreads) == kinds
    for kind in kinds:
        assert len(by_round[kind]) == REPEAT and all(value > 0 for value in by_round[kind])
        spread = spreads[kind]
        assert spread["min"] <= spread["median"] <= spread["max"], (kind, spread)
        assert ratios[f"{kind}_vs_basic"] == spread["median"]


def test_synthetic_articles_draw_their_words_from_one_real_article_each(tmp_path) -> None:
    import synthetic  # benchmarks/ is on the path once bench.py is loaded

    docs = tmp_path / "docs"
    (docs / "topic").mkdir(parents=True)
    prose = " ".join(["queues grow when arrivals outpace service"] * 100)
    (docs / "topic" / "real.md").write_text(
        "---\ndate: 2025-01-01\n---\n(topic-real)=\n# Real\n\n"
        f"{prose} {{term}}`backpressure` and `codeword`.\n\n"
        "```python\nimport nothing_in_prose\n```\n",
        encoding="utf-8",
    )
    (docs / "topic" / "short.md").write_text("# Too short to model\n", encoding="utf-8")
    (docs / "topic" / "bench-0001.md").write_text(prose.replace("queues", "zzz"), encoding="utf-8")
    models = synthetic.prose_words(docs)
    assert len(models) == 1  # the short page and the synthetic one are no models
    # The heading is prose; front matter, label, role, inline code and code block are not.
    expected = {"real", "queues", "grow", "when", "arrivals", "outpace", "service", "and"}
    assert set(models[0]) == expected
