"""The build benchmark runs and reports what it promises; its times are not asserted."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT, SOURCE


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
        "1",
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.strip().splitlines()
    summary = json.loads(lines[-1])  # the JSON line comes last, for scripts
    table = [line for line in lines if line.startswith("| ")]
    assert len(table) == 2 + 4, table  # header, rule, real, reference, basic, handbook
    results = summary["results"]
    assert set(results) == {"real", "reference", "basic", "handbook"}
    articles = len(list((ROOT / SOURCE).glob("*/*.md")))
    assert results["real"]["total_articles"] == articles
    assert results["handbook"]["total_articles"] == articles + 12
    for name in ("real", "basic", "handbook"):
        result = results[name]
        assert result["incremental_complete"] is True, (name, result["problems"])
        assert result["full_s"] > 0 and result["incremental_s"] > 0
        assert result["html_pages"] >= articles
    assert summary["goals"]["incremental_complete"] is True
    assert summary["ratios"]["full_vs_basic"] is not None
