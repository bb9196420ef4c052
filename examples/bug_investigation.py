"""Shrink a failing input with delta debugging (ddmin).

Zeller and Hildebrandt's ddmin ("Simplifying and Isolating Failure-Inducing
Input", IEEE TSE 2002) takes an input that makes a program fail and a test
that says whether a candidate input still shows *that* failure. It removes
chunks of the input, first large ones, then smaller ones, and stops at a
1-minimal input: removing any single remaining element makes the failure go.

The demo reduces a 40-line log batch that crashes a ``key=value`` parser to a
four-character line, and shows how a sloppy test ("any exception") shrinks
the input to a different failure instead. It repeats the reduction on the
story's 8,192-byte line, and runs the exit-code probe a ``git bisect run``
script would use on models of four commits.

Run ``python -m examples.bug_investigation``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass
class Reduction(Generic[T]):
    """What a ddmin run produced.

    Attributes:
        result: The 1-minimal failing input.
        tests: How many times the test function actually ran.
        cache_hits: Candidates skipped because they had been tested already.
    """

    result: list[T]
    tests: int
    cache_hits: int


def split(items: Sequence[T], n: int) -> list[tuple[T, ...]]:
    """Cut ``items`` into ``n`` contiguous chunks whose sizes differ by at most one."""
    size, extra = divmod(len(items), n)
    chunks: list[tuple[T, ...]] = []
    start = 0
    for index in range(n):
        end = start + size + (1 if index < extra else 0)
        chunks.append(tuple(items[start:end]))
        start = end
    return chunks


def ddmin(items: Sequence[T], fails: Callable[[list[T]], bool]) -> Reduction[T]:
    """Reduce ``items`` to a 1-minimal subsequence for which ``fails`` is true.

    ``fails`` must return True only when a candidate reproduces the original
    failure, and must be deterministic: ddmin trusts every answer. The empty
    input is assumed to pass and is never tested.

    At granularity ``n`` the current input is cut into ``n`` chunks. If a
    chunk alone still fails, it becomes the input (granularity back to 2). If
    the input minus one chunk still fails, that becomes the input (granularity
    ``n - 1``). Otherwise the chunks are halved; when they are single elements
    and nothing can be removed, the input is 1-minimal.
    """
    cache: dict[tuple[T, ...], bool] = {}
    counts = {"tests": 0, "hits": 0}

    def check(candidate: tuple[T, ...]) -> bool:
        if candidate in cache:
            counts["hits"] += 1
            return cache[candidate]
        counts["tests"] += 1
        outcome = bool(fails(list(candidate)))
        cache[candidate] = outcome
        return outcome

    current = tuple(items)
    if not check(current):
        raise ValueError("the starting input does not reproduce the failure")
    n = 2
    while len(current) >= 2:
        chunks = split(current, n)
        reduced = next((chunk for chunk in chunks if check(chunk)), None)
        if reduced is not None:
            current, n = reduced, 2
            continue
        complements = (
            tuple(x for j, chunk in enumerate(chunks) if j != i for x in chunk)
            for i in range(len(chunks))
        )
        reduced = next((c for c in complements if check(c)), None)
        if reduced is not None:
            current, n = reduced, max(n - 1, 2)
            continue
        if n >= len(current):
            break
        n = min(2 * n, len(current))
    return Reduction(list(current), counts["tests"], counts["hits"])


def is_one_minimal(items: Sequence[T], fails: Callable[[list[T]], bool]) -> bool:
    """True if ``items`` fails and removing any single element makes it pass."""
    if not fails(list(items)):
        return False
    return all(not fails(list(items[:i]) + list(items[i + 1 :])) for i in range(len(items)))


# --- The bug under investigation ---------------------------------------------


class ParseError(ValueError):
    """The parser's own exception for a malformed line; the caller counts or quarantines it."""


def parse_fields(line: str) -> dict[str, str]:
    """Parse ``key=value`` pairs separated by spaces; the parser after the fix.

    Values may be double-quoted; inside quotes a backslash escapes the next
    character. Malformed input raises ParseError, and nothing else.
    """
    fields: dict[str, str] = {}
    i, end = 0, len(line)
    while i < end:
        if line[i] == " ":
            i += 1
            continue
        eq = line.find("=", i)
        if eq == -1 or eq == i or " " in line[i:eq]:
            raise ParseError(f"expected key=value at column {i}")
        key, i = line[i:eq], eq + 1
        if i < end and line[i] == '"':
            i += 1
            chars: list[str] = []
            while True:
                if i >= end:
                    raise ParseError(f"unterminated quoted value for {key!r}")
                char = line[i]
                if char == "\\":  # escape: keep the next character
                    if i + 1 >= end:  # the fix: a backslash with nothing after it
                        raise ParseError(f"unterminated quoted value for {key!r}")
                    chars.append(line[i + 1])
                    i += 2
                elif char == '"':
                    i += 1
                    break
                else:
                    chars.append(char)
                    i += 1
            fields[key] = "".join(chars)
        else:
            stop = line.find(" ", i)
            stop = end if stop == -1 else stop
            fields[key], i = line[i:stop], stop
    return fields


def parse_fields_v411(line: str) -> dict[str, str]:
    """The parser as released up to v411, kept only to demonstrate the bug.

    The reductions and the bisect models below run it, and a test shows that
    the regression test fails on it. It is ``parse_fields`` without the fix:
    a line that stops right after a backslash inside quotes makes it read
    ``line[i + 1]`` past the end and raise IndexError.
    """
    fields: dict[str, str] = {}
    i, end = 0, len(line)
    while i < end:
        if line[i] == " ":
            i += 1
            continue
        eq = line.find("=", i)
        if eq == -1 or eq == i or " " in line[i:eq]:
            raise ParseError(f"expected key=value at column {i}")
        key, i = line[i:eq], eq + 1
        if i < end and line[i] == '"':
            i += 1
            chars: list[str] = []
            while True:
                if i >= end:
                    raise ParseError(f"unterminated quoted value for {key!r}")
                char = line[i]
                if char == "\\":  # escape: keep the next character
                    chars.append(line[i + 1])
                    i += 2
                elif char == '"':
                    i += 1
                    break
                else:
                    chars.append(char)
                    i += 1
            fields[key] = "".join(chars)
        else:
            stop = line.find(" ", i)
            stop = end if stop == -1 else stop
            fields[key], i = line[i:stop], stop
    return fields


Parser = Callable[[str], dict[str, str]]


def parse_batch(text: str, parse: Parser = parse_fields) -> list[dict[str, str]]:
    """The worker's loop, without its error handling: ``parse`` each non-empty line of a batch."""
    return [parse(line) for line in text.splitlines() if line]


def is_production_signature(exc: BaseException) -> bool:
    """The failure production saw: IndexError from reading past the end of a string."""
    return isinstance(exc, IndexError) and str(exc) == "string index out of range"


def crashes_like_production(text: str) -> bool:
    """The precise test: does v411 fail on ``text`` with the production signature?

    ParseError is the parser rejecting input on purpose, so it counts as a
    pass. Any other exception, including an IndexError with another message,
    propagates and stops the reduction: it is a different failure, to look at.
    """
    try:
        parse_batch(text, parse_fields_v411)
    except IndexError as exc:
        if not is_production_signature(exc):
            raise
        return True
    except ParseError:
        return False
    return False


def any_exception(text: str) -> bool:
    """The sloppy test: any exception counts as 'the bug'."""
    try:
        parse_batch(text, parse_fields_v411)
    except Exception:
        return True
    return False


def make_rows(seed: int = 7, lines: int = 40) -> list[str]:
    """A deterministic log batch as the service wrote it, one ``key=value`` row per line."""
    rng = random.Random(seed)
    rows = []
    for number in range(lines):
        job = rng.randint(100, 999)
        path = f"C:\\\\builds\\\\job-{job}\\\\out"
        rows.append(
            f"ts=2025-04-17T10:{number // 60:02d}:{number % 60:02d}Z level=info "
            f'host=win-build-{rng.randint(1, 9)} path="{path}" bytes={rng.randint(10, 99999)} '
            f'msg="artifact stored"'
        )
    return rows


def make_batch(seed: int = 7, lines: int = 40, bad_line: int = 27) -> str:
    """The demo batch: row ``bad_line`` is cut right after a backslash, as a byte limit would.

    The cut lands right after the first backslash of an escaped ``\\\\`` pair
    in a quoted Windows path, which is what crashes v411. The row is short
    (61 characters) so that the output and the figure stay readable.
    """
    rows = make_rows(seed, lines)
    row = rows[bad_line]
    rows[bad_line] = row[: row.index("\\\\") + 1]
    return "\n".join(rows)


# --- The story's batch, and the probe for git bisect -------------------------

LINE_LIMIT = 8192  # bytes; once the limit was added, the batch reader cuts longer lines here


def story_batch(seed: int = 7, lines: int = 40, bad_line: int = 27) -> str:
    """The batch as production wrote it: row ``bad_line`` is long and uncut.

    A ``note=`` field pads the row so that its first ``LINE_LIMIT`` bytes end
    right after the same backslash as the demo's cut row.
    """
    rows = make_rows(seed, lines)
    row = rows[bad_line]
    cut, start = row.index("\\\\") + 1, row.index("path=")
    padding = "x" * (LINE_LIMIT - cut - len("note= "))
    rows[bad_line] = f"{row[:start]}note={padding} {row[start:]}"
    return "\n".join(rows)


def read_batch(raw: str, limit: int | None) -> str:
    """The batch reader: it kept lines whole (``limit=None``), later cut them at ``limit`` bytes."""
    if limit is None:
        return raw
    return "\n".join(line.encode()[:limit].decode(errors="ignore") for line in raw.split("\n"))


GOOD, BAD, SKIP = 0, 1, 125  # what `git bisect run` reads from the probe's exit code


def bisect_probe(build: Callable[[], Callable[[str], object]], raw: str, runs: int = 1) -> int:
    """Exit code for ``git bisect run``: is the production failure present at this commit?

    ``build`` returns the commit's ingest pipeline (reader and parser) or
    raises if the commit cannot be built. Only the production signature is
    "bad"; a commit is "good" only after ``runs`` clean runs.
    """
    try:
        pipeline = build()
    except Exception:  # does not build or import: says nothing about the bug
        return SKIP
    for _ in range(runs):
        try:
            pipeline(raw)
        except ParseError:
            continue  # the parser rejecting bad input on purpose is not this bug
        except Exception as exc:
            if is_production_signature(exc):
                return BAD
            return SKIP  # another failure hides this one: cannot tell
    return GOOD


def shrink_traces() -> dict[str, list[tuple[int, bool]]]:
    """Every test the demo's reductions run, in order: (characters in the candidate, failed).

    ``"lines, then characters"`` reduces the batch by lines and then the
    remaining line by characters, as ``main`` does; ``"characters only"``
    reduces the whole batch by characters. A failing candidate becomes the
    current input, so the last failing size so far is what is left to read.
    """
    batch = make_batch()
    traces: dict[str, list[tuple[int, bool]]] = {}

    def recorded(trace: list[tuple[int, bool]], sep: str) -> Callable[[list[str]], bool]:
        def fails(kept: list[str]) -> bool:
            text = sep.join(kept)
            outcome = crashes_like_production(text)
            trace.append((len(text), outcome))
            return outcome

        return fails

    staged: list[tuple[int, bool]] = []
    (line,) = ddmin(batch.splitlines(), recorded(staged, "\n")).result
    ddmin(line, recorded(staged, ""))
    traces["lines, then characters"] = staged
    direct: list[tuple[int, bool]] = []
    ddmin(batch, recorded(direct, ""))
    traces["characters only"] = direct
    return traces


def main() -> None:
    """Reduce the batch by lines, then by characters, and compare the tests."""
    batch = make_batch()
    lines = batch.splitlines()
    print(f"batch: {len(lines)} lines, {len(batch)} chars; v411 crashes with IndexError")

    by_line = ddmin(lines, lambda kept: crashes_like_production("\n".join(kept)))
    (line,) = by_line.result
    print(f"step 1, lines:  {len(lines)} -> 1 line ({len(line)} chars) in {by_line.tests} tests")

    by_char = ddmin(line, lambda kept: crashes_like_production("".join(kept)))
    minimal = "".join(by_char.result)
    print(
        f"step 2, chars:  {len(line)} -> {len(minimal)} chars [{minimal}] in {by_char.tests} tests"
    )
    print(f"   total: {by_line.tests + by_char.tests} tests")

    direct = ddmin(batch, lambda kept: crashes_like_production("".join(kept)))
    print(
        f"characters only, no line step: {len(batch)} -> {len(direct.result)} chars "
        f"in {direct.tests} tests"
    )

    story = read_batch(story_batch(), LINE_LIMIT)
    story_lines = ddmin(story.splitlines(), lambda kept: crashes_like_production("\n".join(kept)))
    (long_line,) = story_lines.result
    story_chars = ddmin(long_line, lambda kept: crashes_like_production("".join(kept)))
    tests = story_lines.tests + story_chars.tests
    story_minimal = "".join(story_chars.result)
    print(
        f"story-sized line ({len(long_line.encode())} bytes): "
        f"{story_lines.tests} + {story_chars.tests} = {tests} tests to [{story_minimal}]"
    )

    sloppy = ddmin(line, lambda kept: any_exception("".join(kept)))
    sloppy_text = "".join(sloppy.result)
    try:
        parse_batch(sloppy_text, parse_fields_v411)
    except Exception as exc:
        print(f"'any exception' test shrinks to [{sloppy_text}]: {type(exc).__name__}: {exc}")

    try:
        parse_fields(minimal)
    except ParseError as exc:
        print(f"fixed parser on [{minimal}]: ParseError: {exc}")

    def does_not_build() -> Callable[[str], object]:
        raise ImportError("cannot import name 'parse_batch'")

    commits: dict[str, Callable[[], Callable[[str], object]]] = {
        "reader keeps lines": lambda: (
            lambda raw: parse_batch(read_batch(raw, None), parse_fields_v411)
        ),
        f"reader cuts at {LINE_LIMIT}": lambda: (
            lambda raw: parse_batch(read_batch(raw, LINE_LIMIT), parse_fields_v411)
        ),
        "broken build": does_not_build,
        "parser fixed": lambda: lambda raw: parse_batch(read_batch(raw, LINE_LIMIT)),
    }
    codes = ", ".join(
        f"{name} {bisect_probe(build, story_batch())}" for name, build in commits.items()
    )
    print(f"bisect probe on the uncut batch: {codes}")
    old = bisect_probe(commits["reader keeps lines"], minimal)
    print(f"bisect probe on [{minimal}]: reader keeps lines {old}")


if __name__ == "__main__":
    main()
