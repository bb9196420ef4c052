"""Tests for the delta-debugging (ddmin) example."""

from __future__ import annotations

import difflib
import inspect
import itertools
from collections.abc import Callable

import pytest

import examples.bug_investigation as example
from examples.bug_investigation import (
    BAD,
    GOOD,
    LINE_LIMIT,
    SKIP,
    ParseError,
    Parser,
    any_exception,
    bisect_probe,
    crashes_like_production,
    ddmin,
    is_one_minimal,
    make_batch,
    parse_batch,
    parse_fields,
    parse_fields_v411,
    read_batch,
    shrink_traces,
    split,
    story_batch,
)
from tests.figures import draw, lines


def test_split_makes_near_equal_contiguous_chunks() -> None:
    assert split(list(range(7)), 3) == [(0, 1, 2), (3, 4), (5, 6)]
    assert [len(c) for c in split("x" * 10, 4)] == [3, 3, 2, 2]


def test_single_culprit_needs_logarithmic_tests() -> None:
    # Worked by hand: full input (1), [0-3] fails (2), [0,1] passes (3),
    # [2,3] fails (4), [2] passes (5), [3] fails (6).
    calls: list[list[int]] = []

    def fails(kept: list[int]) -> bool:
        calls.append(kept)
        return 3 in kept

    reduction = ddmin(list(range(8)), fails)
    assert reduction.result == [3]
    assert reduction.tests == 6 == len(calls)
    assert reduction.cache_hits == 0


def test_nothing_removable_costs_about_four_tests_per_element() -> None:
    # Granularity 2: 2 subsets (their complements are cache hits); 4: 4 + 4;
    # 8: 8 + 8. Plus the starting input: 1 + 2 + 8 + 16 = 27.
    reduction = ddmin(list(range(8)), lambda kept: len(kept) == 8)
    assert reduction.result == list(range(8))
    assert reduction.tests == 27
    assert reduction.cache_hits == 2
    # The same count for n elements, a power of two: 1 + 2 + sum of 2k for
    # k = 4, 8, ..., n, which is 4n - 5 (the article quotes 123 for 32).
    for n in (4, 16, 32):
        assert ddmin(list(range(n)), lambda kept, n=n: len(kept) == n).tests == 4 * n - 5


def test_a_single_culprit_costs_four_to_seven_tests_wherever_it_sits() -> None:
    counts = [ddmin(list(range(8)), lambda kept, c=c: c in kept).tests for c in range(8)]
    assert min(counts) == 4 and max(counts) == 7, counts


def test_interacting_elements_are_both_kept() -> None:
    def fails(kept: list[int]) -> bool:
        return 2 in kept and 6 in kept

    reduction = ddmin(list(range(16)), fails)
    assert reduction.result == [2, 6]
    assert is_one_minimal(reduction.result, fails)


def test_no_candidate_is_run_twice() -> None:
    seen: list[tuple[str, ...]] = []

    def fails(kept: list[str]) -> bool:
        seen.append(tuple(kept))
        return crashes_like_production("".join(kept))

    line = make_batch().splitlines()[27]
    ddmin(line, fails)
    assert len(seen) == len(set(seen))


def test_starting_input_must_fail() -> None:
    with pytest.raises(ValueError):
        ddmin([1, 2, 3], lambda kept: False)


def test_is_one_minimal_detects_removable_elements() -> None:
    def fails(kept: list[int]) -> bool:
        return 3 in kept

    assert is_one_minimal([3], fails)
    assert not is_one_minimal([1, 3], fails)
    assert not is_one_minimal([1, 2], fails)


def test_demo_batch_reduces_to_a_one_minimal_line() -> None:
    batch = make_batch()
    lines = batch.splitlines()
    assert crashes_like_production(batch)

    by_line = ddmin(lines, lambda kept: crashes_like_production("\n".join(kept)))
    assert by_line.result == [lines[27]]

    def fails(kept: list[str]) -> bool:
        return crashes_like_production("".join(kept))

    by_char = ddmin(by_line.result[0], fails)
    minimal = "".join(by_char.result)
    assert minimal == 'h="\\'
    assert is_one_minimal(by_char.result, fails)
    assert (by_line.tests, by_char.tests) == (9, 33)


def test_the_storys_8192_byte_line_reduces_to_the_same_four_characters() -> None:
    """The demo's 61-character line stands in for the story's 8,192-byte ones."""
    demo = make_batch().splitlines()
    raw = story_batch().splitlines()
    assert len(raw[27]) > LINE_LIMIT  # production wrote it whole
    lines = read_batch(story_batch(), LINE_LIMIT).splitlines()
    assert len(lines[27].encode()) == LINE_LIMIT
    assert lines[27].endswith("\\") and lines[27].endswith(demo[27][-10:])
    assert [line for i, line in enumerate(lines) if i != 27] == demo[:27] + demo[28:]

    by_line = ddmin(lines, lambda kept: crashes_like_production("\n".join(kept)))
    assert by_line.tests == 9  # the line step does not depend on the line's length
    by_char = ddmin(by_line.result[0], lambda kept: crashes_like_production("".join(kept)))
    assert "".join(by_char.result) == 'h="\\'
    assert by_char.tests == 83  # 8,131 more characters to remove cost 50 more tests


Pipeline = Callable[[str], object]


def pipeline(limit: int | None, *, fixed: bool = False) -> Callable[[], Pipeline]:
    """A model of one commit's ingest pipeline: the reader's limit and the parser's version."""
    parse = parse_fields if fixed else parse_fields_v411
    return lambda: lambda raw: parse_batch(read_batch(raw, limit), parse)


def test_bisect_probe_reads_only_the_production_signature_as_bad() -> None:
    raw = story_batch()
    assert bisect_probe(pipeline(None), raw) == GOOD  # before the limit: the old bug is hidden
    assert bisect_probe(pipeline(LINE_LIMIT), raw) == BAD
    assert bisect_probe(pipeline(LINE_LIMIT, fixed=True), raw) == GOOD  # ParseError is intended

    def does_not_build() -> Pipeline:
        raise ImportError("cannot import name 'parse_batch'")

    assert bisect_probe(does_not_build, raw) == SKIP
    assert (GOOD, BAD, SKIP) == (0, 1, 125)


def test_bisect_probe_skips_a_commit_where_another_failure_hides_this_one() -> None:
    def other_bug() -> Pipeline:
        return lambda raw: {}["missing"]

    assert bisect_probe(other_bug, story_batch()) == SKIP


def test_bisect_probe_calls_a_flaky_commit_good_only_after_every_run_passes() -> None:
    calls = {"n": 0}

    def flaky() -> Pipeline:
        def run(raw: str) -> None:
            calls["n"] += 1
            if calls["n"] == 3:
                raise IndexError("string index out of range")

        return run

    assert bisect_probe(flaky, "", runs=1) == GOOD  # one run misses it
    calls["n"] = 0
    assert bisect_probe(flaky, "", runs=5) == BAD
    assert calls["n"] == 3  # stops at the first failure


def test_the_shrunk_input_is_the_wrong_bisect_probe() -> None:
    # It fails the old parser even where the reader kept lines whole, so every
    # commit in the range would look bad and bisect would blame the first one.
    assert bisect_probe(pipeline(None), 'h="\\') == BAD


def test_coarse_granularity_first_saves_tests() -> None:
    batch = make_batch()
    lines = batch.splitlines()
    by_line = ddmin(lines, lambda kept: crashes_like_production("\n".join(kept)))
    by_char = ddmin(by_line.result[0], lambda kept: crashes_like_production("".join(kept)))
    direct = ddmin(batch, lambda kept: crashes_like_production("".join(kept)))
    assert "".join(direct.result) == "".join(by_char.result)
    assert by_line.tests + by_char.tests == 42
    assert direct.tests == 187


def test_sloppy_predicate_shrinks_to_a_different_failure() -> None:
    line = make_batch().splitlines()[27]
    sloppy = "".join(ddmin(line, lambda kept: any_exception("".join(kept))).result)
    assert len(sloppy) == 1
    assert not crashes_like_production(sloppy)
    with pytest.raises(ParseError):
        parse_fields_v411(sloppy)


# The regression test, and the proof that it detects the bug.
MINIMAL = 'h="\\'  # the 8,192-byte production line, reduced by ddmin


def check_escape_at_end_is_unterminated(parse: Parser) -> None:
    with pytest.raises(ParseError, match="unterminated"):
        parse(MINIMAL)


def test_escape_at_end_of_line_is_unterminated() -> None:
    """The regression test: the production parser rejects the line instead of crashing."""
    check_escape_at_end_is_unterminated(parse_fields)


def test_the_regression_test_fails_on_the_unfixed_parser() -> None:
    """Revert the fix and watch it fail: on v411's parser, the production IndexError escapes."""
    with pytest.raises(IndexError, match="string index out of range"):
        check_escape_at_end_is_unterminated(parse_fields_v411)


def test_the_shrinking_test_matches_the_signature_and_stops_on_other_failures(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert crashes_like_production(MINIMAL)
    assert not crashes_like_production("n")  # ParseError: rejected on purpose, a pass

    def another_index_error(line: str) -> dict[str, str]:
        return {"first": [][0]}

    monkeypatch.setattr(example, "parse_fields_v411", another_index_error)
    with pytest.raises(IndexError, match="list index out of range"):
        crashes_like_production("a=1")  # neither this bug nor a pass: the reduction stops


def test_the_reader_cuts_bytes_and_drops_a_split_character() -> None:
    line = "a" + "\u00e9" * 5000  # 10,001 bytes in UTF-8
    cut = read_batch(line, LINE_LIMIT)
    assert len(cut.encode()) == LINE_LIMIT - 1  # the 8,192nd byte began an "é": dropped
    assert cut == line[:4096]


def test_v411_is_the_fixed_parser_without_the_two_lines_of_the_fix() -> None:
    def body(function: Parser) -> list[str]:
        source = inspect.getsource(function)
        return source[source.index("    fields: dict") :].splitlines()

    changes = list(difflib.unified_diff(body(parse_fields_v411), body(parse_fields), n=0))
    added = [line[1:].strip() for line in changes[3:] if not line.startswith("@@")]
    assert added == [
        "if i + 1 >= end:  # the fix: a backslash with nothing after it",
        'raise ParseError(f"unterminated quoted value for {key!r}")',
    ]


def test_fixed_parser_still_reads_escapes() -> None:
    assert parse_fields('a=1 path="C:\\\\b\\"x" z=q') == {"a": "1", "path": 'C:\\b"x', "z": "q"}


def last_failing(trace: list[tuple[int, bool]]) -> list[int]:
    left, current = [], trace[0][0]
    for size, failed in trace:
        current = size if failed else current
        left.append(current)
    return left


def test_shrink_traces_record_every_test_of_the_demo() -> None:
    traces = shrink_traces()
    staged, direct = traces["lines, then characters"], traces["characters only"]
    assert (len(staged), len(direct)) == (9 + 33, 187)
    batch = make_batch()
    for trace in (staged, direct):
        assert trace[0] == (len(batch), True)
        assert last_failing(trace)[-1] == len('h="\\')
        failing = [size for size, failed in trace if failed]
        # A failing candidate is always smaller than the input it came from, except
        # where the character stage re-checks the one line the line stage kept.
        assert all(b <= a for a, b in itertools.pairwise(failing))
    # The line stage alone takes the batch to one 61-character line in 9 tests.
    assert last_failing(staged)[8] == 61
    # When the staged run is done, characters-only still has hundreds left,
    # after most of its candidates passed (the figure's caption cites these).
    assert last_failing(direct)[len(staged) - 1] == 291
    assert last_failing(direct)[99] == 91
    assert sum(not failed for _, failed in direct) == 157
    assert (last_failing(staged).index(4) + 1, last_failing(direct).index(4) + 1) == (39, 183)


def test_the_figure_plots_each_test_of_both_reductions() -> None:
    figure = draw("debugging/figures/ddmin-narrowing.py")
    for axes, trace in enumerate(shrink_traces().values()):
        tests = range(1, len(trace) + 1)
        drawn = lines(figure, axes=axes)
        assert drawn["input left (last failing candidate)"] == list(
            zip(tests, last_failing(trace), strict=True)
        )
        numbered = list(zip(tests, trace, strict=True))
        assert drawn["candidate failed"] == [(t, s) for t, (s, f) in numbered if f]
        assert drawn["candidate passed"] == [(t, s) for t, (s, f) in numbered if not f]
