"""Two artifacts of an incident investigation: a merged timeline and a hypothesis board.

Timeline. Each source writes timestamps its own way: ISO 8601 with a UTC
offset, epoch milliseconds, or classic syslog ("Mar 14 04:02:07") with no year
and no zone. Each host's clock is also wrong by its own amount. This module
converts every line to UTC, removes each source's measured clock offset,
carries an uncertainty interval for every event, and marks the neighbors whose
order the evidence cannot prove.

Hypothesis board. Each candidate cause has a probability and a cost to test;
``expected_minutes`` gives the expected time until the true cause is
confirmed by its own test, for a schedule of tests run by one or more people.

Run ``python -m examples.investigation_process`` for a demo in which ignoring a
2.34 s clock offset makes load-balancer 502s appear to start before the deploy
that caused them, followed by the expected cost of four test schedules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Month names are matched here instead of with strptime("%b"), whose result
# depends on the process locale.
MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
        start=1,
    )
}
SYSLOG_LINE = re.compile(
    r"^(?P<mon>[A-Z][a-z]{2}) +(?P<day>\d{1,2}) (?P<h>\d{2}):(?P<m>\d{2}):(?P<s>\d{2}) (?P<msg>.*)$"
)


@dataclass(frozen=True)
class Source:
    """One log source and what is known about its clock.

    Attributes:
        name: Short label shown in the timeline.
        fmt: ``"iso8601"``, ``"epoch_ms"`` or ``"syslog"``.
        clock_offset: How far this source's clock runs ahead of the reference
            clock (negative if behind). Subtracted from every timestamp.
        offset_error: Half-width of the uncertainty on ``clock_offset``.
        resolution: Timestamp granularity; syslog truncates to whole seconds.
        year: Year to assume for syslog lines (they carry none).
        zone: Zone of syslog lines or of ISO 8601 lines without an offset.
    """

    name: str
    fmt: str
    clock_offset: timedelta = timedelta(0)
    offset_error: timedelta = timedelta(0)
    resolution: timedelta = timedelta(milliseconds=1)
    year: int | None = None
    zone: tzinfo | None = None


@dataclass(frozen=True)
class Event:
    """One log line placed on the reference clock, with its uncertainty."""

    earliest: datetime
    latest: datetime
    source: str
    line_no: int
    raw_time: str
    message: str

    @property
    def at(self) -> datetime:
        """Best estimate: the middle of the uncertainty interval."""
        return self.earliest + (self.latest - self.earliest) / 2

    @property
    def half_width(self) -> timedelta:
        """How far the true time may be from ``at`` in either direction."""
        return (self.latest - self.earliest) / 2


class TimestampError(ValueError):
    """A line whose timestamp cannot be placed without guessing."""


def parse_iso8601(text: str, zone: tzinfo | None = None) -> datetime:
    """Parse an ISO 8601 timestamp and return it in UTC.

    A timestamp without an offset is accepted only if ``zone`` states which
    zone it was written in; silently assuming UTC is how timelines go wrong.
    """
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        if zone is None:
            raise TimestampError(f"no UTC offset in {text!r} and no zone stated")
        parsed = parsed.replace(tzinfo=zone)
    return parsed.astimezone(UTC)


def parse_epoch_ms(text: str) -> datetime:
    """Parse integer milliseconds since the Unix epoch, exactly (no floats)."""
    return EPOCH + timedelta(milliseconds=int(text))


class SyslogClock:
    """Turns year-less, zone-less syslog stamps into UTC, file line by line.

    The caller states the year of the first line and the zone the host wrote
    in. When the month goes backwards (December, then January) the year is
    advanced, because syslog files are written in time order.
    """

    def __init__(self, year: int, zone: tzinfo) -> None:
        self.year = year
        self.zone = zone
        self._last_month: int | None = None

    def parse(self, month: str, day: int, hour: int, minute: int, second: int) -> datetime:
        """Return the UTC instant for one syslog timestamp."""
        number = MONTHS[month]
        if self._last_month is not None and number < self._last_month:
            self.year += 1
        self._last_month = number
        local = datetime(self.year, number, day, hour, minute, second, tzinfo=self.zone)
        return local.astimezone(UTC)


def load(source: Source, lines: Iterable[str], *, correct_clock: bool = True) -> list[Event]:
    """Parse one source's lines into events on the reference clock.

    Blank lines are skipped. With ``correct_clock=False`` the source's offset
    is ignored, which is what a naive merge does.
    """
    events: list[Event] = []
    syslog = None
    if source.fmt == "syslog":
        if source.year is None or source.zone is None:
            raise TimestampError(f"{source.name}: syslog needs a stated year and zone")
        syslog = SyslogClock(source.year, source.zone)
    for line_no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if syslog is not None:
            match = SYSLOG_LINE.match(line)
            if match is None:
                raise TimestampError(f"{source.name}:{line_no}: not a syslog line: {line!r}")
            stamp = syslog.parse(
                match["mon"], int(match["day"]), int(match["h"]), int(match["m"]), int(match["s"])
            )
            raw, message = line[: match.start("msg")].strip(), match["msg"]
        else:
            raw, _, message = line.partition(" ")
            if source.fmt == "iso8601":
                stamp = parse_iso8601(raw, source.zone)
            elif source.fmt == "epoch_ms":
                stamp = parse_epoch_ms(raw)
            else:
                raise TimestampError(f"{source.name}: unknown format {source.fmt!r}")
        offset = source.clock_offset if correct_clock else timedelta(0)
        error = source.offset_error if correct_clock else timedelta(0)
        # The true instant lies in [stamp, stamp + resolution) on the source's
        # clock; removing the offset and widening by its error moves that
        # interval onto the reference clock.
        earliest = stamp - offset - error
        latest = stamp + source.resolution - offset + error
        events.append(Event(earliest, latest, source.name, line_no, raw, message))
    return events


def merge(per_source: Sequence[Sequence[Event]]) -> list[Event]:
    """Order all events by best estimate; ties keep source order, then file order."""
    ranked = [
        (event.at, rank, event.line_no, event)
        for rank, events in enumerate(per_source)
        for event in events
    ]
    return [item[-1] for item in sorted(ranked, key=lambda item: item[:3])]


def order_unproven(timeline: Sequence[Event]) -> set[int]:
    """Indexes of events whose order against some earlier event is not provable.

    An event from one source and an earlier-placed event from another source
    could have happened in either order if their intervals overlap. Events
    from the same source keep file order, so they never conflict.
    """
    flagged: set[int] = set()
    for i, event in enumerate(timeline):
        for earlier in timeline[:i]:
            if earlier.source != event.source and event.earliest <= earlier.latest:
                flagged.add(i)
                break
    return flagged


def offset_bounds(
    sent: datetime, seen_remote: datetime, received: datetime
) -> tuple[timedelta, timedelta]:
    """Bound a remote clock's offset from one request/response pair.

    ``sent`` and ``received`` are read on the reference clock (for example a
    load balancer forwarding a request and getting the answer); ``seen_remote``
    is the remote's own log of handling that request. The handling really
    happened between ``sent`` and ``received``, so the remote clock's offset
    lies between ``seen_remote - received`` and ``seen_remote - sent``.
    """
    if received < sent:
        raise ValueError("response logged before request")
    return seen_remote - received, seen_remote - sent


def render(timeline: Sequence[Event]) -> str:
    """Format the timeline; '~' marks an order the clocks cannot prove."""
    flagged = order_unproven(timeline)
    rows = [f"  {'UTC':<12} {'+/- ms':>6}  {'src':<4} message"]
    for i, event in enumerate(timeline):
        mark = "~" if i in flagged else " "
        clock = event.at.strftime("%H:%M:%S.%f")[:-3]
        width_ms = round(event.half_width / timedelta(milliseconds=1))
        rows.append(f"{mark} {clock:<12} {width_ms:>6}  {event.source:<4} {event.message}")
    return "\n".join(rows)


# --- Demo data: a deploy that exhausts database connections ------------------

APP_LOG = """\
2025-03-14T09:02:00.430+01:00 handling req=7f3a path=/checkout
2025-03-14T09:02:07.440+01:00 rollout v412 started on app-7
2025-03-14T09:02:08.390+01:00 connection pool resized 50 -> 400
2025-03-14T09:02:09.240+01:00 ERROR checkout: could not acquire db connection
""".splitlines()

LB_LOG = """\
1741939318000 forwarded req=7f3a to app-7
1741939318180 response req=7f3a status=200
1741939327200 502 count=37 upstream=app-7
1741939327900 502 count=210 upstream=app-7
""".splitlines()

DB_LOG = """\
Mar 14 04:02:07 db1 postgres[311]: FATAL: sorry, too many clients already
""".splitlines()


def demo_sources(app_offset: timedelta, app_error: timedelta) -> list[Source]:
    """The three sources of the demo, with the app offset supplied by the caller."""
    return [
        Source("lb", "epoch_ms"),  # the reference clock
        Source("app", "iso8601", clock_offset=app_offset, offset_error=app_error),
        Source(
            "db",
            "syslog",
            clock_offset=timedelta(milliseconds=800),
            offset_error=timedelta(milliseconds=250),
            resolution=timedelta(seconds=1),
            year=2025,
            # New York is on daylight time (UTC-4) after 2025-03-09.
            zone=timezone(timedelta(hours=-4)),
        ),
    ]


def first(timeline: Sequence[Event], text: str) -> Event:
    """The first event whose message contains ``text``."""
    return next(event for event in timeline if text in event.message)


@dataclass(frozen=True)
class TimelinePoint:
    """One event of a merged timeline, placed relative to a reference event."""

    source: str
    message: str
    offset_ms: float  # best estimate, in milliseconds after the reference event
    half_width_ms: float  # uncertainty either side of ``offset_ms``
    order_unproven: bool  # overlaps an earlier event from another source


def demo_app_offset() -> tuple[timedelta, timedelta]:
    """The app clock's offset and its error, measured from req=7f3a as ``main`` does."""
    sent = parse_epoch_ms("1741939318000")
    received = parse_epoch_ms("1741939318180")
    seen = parse_iso8601("2025-03-14T09:02:00.430+01:00")
    low, high = offset_bounds(sent, seen, received)
    return (low + high) / 2, (high - low) / 2


def around_rollout(
    *, correct_clock: bool, before: timedelta = timedelta(seconds=2)
) -> list[TimelinePoint]:
    """The demo's merged timeline relative to the rollout start, for the figure.

    Events more than ``before`` ahead of the rollout (the req=7f3a lines that
    measure the offset) are left out; the order flags are computed on the whole
    timeline, as ``render`` does.
    """
    sources = demo_sources(*demo_app_offset())
    logs = [LB_LOG, APP_LOG, DB_LOG]
    timeline = merge(
        [load(s, log, correct_clock=correct_clock) for s, log in zip(sources, logs, strict=True)]
    )
    flagged = order_unproven(timeline)
    rollout = first(timeline, "rollout").at
    ms = timedelta(milliseconds=1)
    return [
        TimelinePoint(
            event.source,
            event.message,
            (event.at - rollout) / ms,
            event.half_width / ms,
            i in flagged,
        )
        for i, event in enumerate(timeline)
        if event.at >= rollout - before
    ]


# --- The hypothesis board ----------------------------------------------------


@dataclass(frozen=True)
class Hypothesis:
    """One candidate cause on the board."""

    name: str
    probability: float  # belief that this is the cause; the board sums to 1
    minutes: float  # time one person needs for a conclusive test

    @property
    def per_minute(self) -> float:
        """Probability bought per minute of testing."""
        return self.probability / self.minutes


def expected_minutes(lanes: Sequence[Sequence[Hypothesis]]) -> float:
    """Expected minutes until the true cause is confirmed.

    Each lane is one person testing hypotheses in order. Exactly one
    hypothesis on the board is true, each test settles its hypothesis, and
    tests in different lanes do not disturb each other. A cause counts as
    found only when its own test confirms it, never by eliminating the
    others: the real cause may be missing from the board, so the last
    hypothesis in a lane is tested too. The answer therefore arrives when
    the test of the true cause finishes, and each hypothesis contributes its
    probability times the minute its test ends.
    """
    total = 0.0
    for lane in lanes:
        ends = 0.0
        for hypothesis in lane:
            ends += hypothesis.minutes
            total += hypothesis.probability * ends
    return total


def by_probability_per_minute(board: Iterable[Hypothesis]) -> list[Hypothesis]:
    """The order that minimizes ``expected_minutes`` for one person."""
    return sorted(board, key=lambda h: h.per_minute, reverse=True)


# The demo's board. All three explain the IS / IS NOT table (only v412 hosts,
# only the database path), which is why they are on it.
BOARD = {
    "H1": Hypothesis("v412's checkout query got a slow plan", 0.5, 30),
    "H2": Hypothesis("v412's pool size exhausts db connections", 0.3, 5),
    "H3": Hypothesis("health checks flapping on v412 hosts", 0.2, 10),
}


def schedules() -> dict[str, list[list[str]]]:
    """The demo's test schedules: lanes of hypothesis keys, one lane per person."""
    best_order = by_probability_per_minute(BOARD.values())
    keys = {h: k for k, h in BOARD.items()}
    return {
        "one person, most likely first": [["H1", "H2", "H3"]],
        "one person, by p per minute": [[keys[h] for h in best_order]],
        # Two people dispatching by p per minute: H2 and H3 start, and H1
        # goes to whoever frees first (H2's tester, at minute 5).
        "two people, greedy by p per minute": [["H2", "H1"], ["H3"]],
        "two people, slow likely test first": [["H1"], ["H2", "H3"]],
    }


def print_board() -> None:
    """Print the board and the expected minutes of each schedule."""
    print("\nhypothesis board:")
    print(f"  {'':<3} {'hypothesis':<40} {'p':>4} {'min':>4} {'p/min':>6}")
    for key, h in BOARD.items():
        numbers = f"{h.probability:>4.2f} {h.minutes:>4.0f} {h.per_minute:>6.3f}"
        print(f"  {key:<3} {h.name:<40} {numbers}")
    print("expected minutes to the cause:")
    for label, lanes in schedules().items():
        shown = " | ".join(", ".join(lane) for lane in lanes)
        minutes = expected_minutes([[BOARD[k] for k in lane] for lane in lanes])
        print(f"  {label + ' (' + shown + ')':<56} {minutes:>5.1f}")


def main() -> None:
    """Estimate the app's clock offset, then compare a naive and a corrected merge."""
    sent = parse_epoch_ms("1741939318000")
    received = parse_epoch_ms("1741939318180")
    seen = parse_iso8601("2025-03-14T09:02:00.430+01:00")
    low, high = offset_bounds(sent, seen, received)
    app_offset, app_error = (low + high) / 2, (high - low) / 2
    ms = timedelta(milliseconds=1)
    print(
        f"app clock offset from req=7f3a: between {low / ms:.0f} and {high / ms:.0f} ms "
        f"-> {app_offset / ms:.0f} +/- {app_error / ms:.0f} ms"
    )
    logs = [LB_LOG, APP_LOG, DB_LOG]
    for label, correct in (("naive merge (clock offsets ignored)", False), ("corrected", True)):
        sources = demo_sources(app_offset, app_error)
        timeline = merge(
            [load(s, log, correct_clock=correct) for s, log in zip(sources, logs, strict=True)]
        )
        gap = first(timeline, "502").at - first(timeline, "rollout").at
        print(f"\n{label}: first 502 minus rollout start = {gap / ms:+.0f} ms")
        print(render(timeline))
    print_board()


if __name__ == "__main__":
    main()
