"""The build benchmark runs and reports what it promises; its times are not asserted."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT, SOURCE

REPEAT = 1  # rounds after the cold build: one is enough for a pair of each kind


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
    # The first search, measured in Chromium on the handbook stack's build.
    search = summary["search"]
    assert search["query"] == "retry budget" and search["results_shown"] > 0
    assert abs(search["total_kb"] - search["page_kb"] - search["query_kb"]) < 0.15
    assert search["query_kb"] > 0 and "First search for 'retry budget'" in done.stdout

    # The handbook and basic stacks build in turn, after both cold builds, so
    # that each round's ratio compares builds made back to back.
    order = re.findall(r"^\[bench\] (handbook|basic)-12: (.*)$", done.stderr, re.MULTILINE)
    cold = [stack for stack, what in order if "(cold)" in what]
    rounds = [(stack, what.split()[0]) for stack, what in order if ", round " in what]
    assert cold == ["handbook", "basic"], order
    assert order[:2] == [(stack, "first full build (cold)") for stack in cold], order
    assert rounds == [
        *[("handbook", "full"), ("basic", "full")] * REPEAT,
        *[("handbook", "incremental"), ("basic", "incremental")] * REPEAT,
    ], order

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
