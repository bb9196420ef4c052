"""Tests for the delta-debugging (ddmin) example."""

from __future__ import annotations

import itertools

import pytest

from examples.bug_investigation import (
    ParseError,
    any_exception,
    crashes_like_production,
    ddmin,
    is_one_minimal,
    make_batch,
    parse_fields,
    shrink_traces,
    split,
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


def test_an_8192_byte_line_like_the_storys_reduces_the_same_way() -> None:
    """The demo's 61-character line stands in for the story's 8,192-byte ones."""
    lines = make_batch().splitlines()
    short = lines[27]
    assert len(short) == 61
    cut = short.index("path=")
    padding = "x" * (8192 - len(short) - len(" note="))
    lines[27] = f"{short[:cut]}note={padding} {short[cut:]}"
    assert len(lines[27].encode()) == 8192

    by_line = ddmin(lines, lambda kept: crashes_like_production("\n".join(kept)))
    assert by_line.tests == 9  # the line step does not depend on the line's length
    by_char = ddmin(by_line.result[0], lambda kept: crashes_like_production("".join(kept)))
    assert "".join(by_char.result) == 'h="\\'
    assert by_char.tests > 33  # more characters to remove, more tests


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
        parse_fields(sloppy, check_escape_bounds=False)


def test_regression_test_fails_on_v411_and_passes_on_the_fix() -> None:
    minimal = 'h="\\'
    with pytest.raises(IndexError):
        parse_fields(minimal, check_escape_bounds=False)
    with pytest.raises(ParseError, match="unterminated"):
        parse_fields(minimal)


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
