"""Reconstruct a request's latency critical path, its untraced gaps and its clock skew from spans.

The input is what a tracing backend exports: a flat list of span records with an
id, a parent id, a service, a kind and start and end times. The functions here
answer the questions an investigation asks of one trace:

* which stretches of time actually decided the end-to-end latency (the
  latency critical path), and how much of it each service owns;
* where the trace holds time that no span explains (queueing, pool waits,
  garbage collection, locks, uninstrumented calls);
* whether a server span sits outside its caller's client span, which is
  clock skew between hosts, and how to move it back;
* which spans lost their parent (broken propagation) and how long linked
  asynchronous work waited in a queue.

Times are integer milliseconds on each host's own clock. Nothing here sleeps.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace

CLIENT_KINDS = frozenset({"client", "producer"})


@dataclass(frozen=True)
class Span:
    """One exported span record."""

    span_id: str
    parent_id: str | None
    service: str
    name: str
    kind: str  # "server", "client", "producer", "consumer" or "internal"
    start: int
    end: int
    trace_id: str = "t1"
    links: tuple[str, ...] = field(default=())

    @property
    def duration(self) -> int:
        """Wall time between the span's start and end."""
        return self.end - self.start


@dataclass(frozen=True)
class Segment:
    """A slice of the latency critical path, owned by the span that was blocking at that time."""

    span_id: str
    service: str
    name: str
    kind: str
    start: int
    end: int
    leaf: bool

    @property
    def length(self) -> int:
        """Milliseconds of critical time in this slice."""
        return self.end - self.start


def children_of(spans: list[Span]) -> dict[str, list[Span]]:
    """Map each span id to the spans that name it as parent."""
    kids: dict[str, list[Span]] = defaultdict(list)
    for span in spans:
        if span.parent_id is not None:
            kids[span.parent_id].append(span)
    return kids


def find_root(spans: list[Span]) -> Span:
    """Return the single span without a parent; a trace with several is reported."""
    roots = [s for s in spans if s.parent_id is None]
    if len(roots) != 1:
        raise ValueError(f"expected one root span, found {len(roots)}")
    return roots[0]


def find_orphans(spans: list[Span]) -> list[Span]:
    """Spans whose parent is missing from the trace: lost context or a dropped span."""
    ids = {s.span_id for s in spans}
    return [s for s in spans if s.parent_id is not None and s.parent_id not in ids]


def correct_skew(spans: list[Span]) -> tuple[list[Span], dict[str, int]]:
    """Move server spans that fall outside their caller's client span.

    A client sends before its server receives and receives after the server
    replies, so a server span must fit inside the client span that called it.
    When it does not, the server host's clock is off: shift the server span
    and its whole subtree so that it is centered in the client span, as
    Jaeger's query service does. Unlike Jaeger, this compares service names,
    not hosts, checks only server spans under client spans, has no cap, and
    moves a server span longer than its client to the client's start.
    Returns the corrected spans and the shift applied to each moved server
    span, in milliseconds.
    """
    by_id = {s.span_id: s for s in spans}
    kids = children_of(spans)
    shifts: dict[str, int] = {}

    def shift_subtree(span_id: str, delta: int) -> None:
        span = by_id[span_id]
        by_id[span_id] = replace(span, start=span.start + delta, end=span.end + delta)
        for kid in kids.get(span_id, []):
            shift_subtree(kid.span_id, delta)

    def visit(span_id: str) -> None:
        span = by_id[span_id]
        parent = by_id.get(span.parent_id) if span.parent_id else None
        if (
            span.kind == "server"
            and parent is not None
            and parent.kind == "client"
            and parent.service != span.service
            and (span.start < parent.start or span.end > parent.end)
        ):
            slack = parent.duration - span.duration
            delta = parent.start + max(slack, 0) // 2 - span.start
            shift_subtree(span_id, delta)
            shifts[span_id] = delta
        for kid in kids.get(span_id, []):
            visit(kid.span_id)

    visit(find_root(spans).span_id)
    return [by_id[s.span_id] for s in spans], shifts


def critical_path(spans: list[Span]) -> list[Segment]:
    """Attribute every millisecond of the root span to the span that was blocking then.

    Walk backward from the end of a span: the child that finished last is on
    the latency critical path; before it, the latest child that finished before that
    one started; and so on. Children that overlap a child already on the path
    ran in parallel and are skipped. Time inside a span when none of its chosen
    children was running is the span's own (self) time. A child that ends after
    its parent (skew, or asynchronous work the parent did not wait for) is
    skipped with its whole subtree, so it cannot extend the path; a child that
    starts before its parent has only its start clipped to the parent's.
    Returns segments in time order; their lengths sum to the root's duration.
    """
    kids = children_of(spans)
    segments: list[Segment] = []

    def own(span: Span, start: int, end: int) -> None:
        if end > start:
            leaf = not kids.get(span.span_id)
            segments.append(
                Segment(span.span_id, span.service, span.name, span.kind, start, end, leaf)
            )

    def walk(span: Span, lo: int, hi: int) -> None:
        start, cursor = max(span.start, lo), min(span.end, hi)
        for kid in sorted(kids.get(span.span_id, []), key=lambda k: k.end, reverse=True):
            if kid.end > cursor:
                continue  # still running at the cursor: parallel work, or outlives the parent
            kid_start = max(kid.start, start)  # only a child's start is clipped
            if kid.end <= kid_start:
                continue  # ended before its parent started
            own(span, kid.end, cursor)
            walk(kid, kid_start, kid.end)
            cursor = kid_start
        own(span, start, cursor)

    root = find_root(spans)
    walk(root, root.start, root.end)
    return sorted(segments, key=lambda seg: seg.start)


def critical_share(segments: list[Segment]) -> dict[str, int]:
    """Milliseconds of critical time per service, largest first."""
    totals: dict[str, int] = defaultdict(int)
    for seg in segments:
        totals[seg.service] += seg.length
    return dict(sorted(totals.items(), key=lambda item: -item[1]))


def untraced_gaps(segments: list[Segment], min_ms: int = 20) -> list[tuple[Segment, str]]:
    """Critical self time of spans that have children, with a likely reading.

    A leaf span's time is explained by its name (a query, a call). A span with
    children that is blocking while none of its children runs is holding time
    that no span explains. For a client or producer span that is the wait
    before the remote side started or after it finished (connection pool,
    DNS and TLS, the remote server's own accept queue). For any other span it
    is the service itself: CPU work nobody wrapped, a garbage-collection pause,
    a lock, a thread-pool queue, or a call without instrumentation.
    """
    gaps = []
    for seg in segments:
        if seg.leaf or seg.length < min_ms:
            continue
        if seg.kind in CLIENT_KINDS:
            reading = "wait outside the remote span: pool, DNS/TLS, network, remote queue"
        else:
            reading = "inside the service, no child span: CPU, GC, lock, pool, untraced call"
        gaps.append((seg, reading))
    return gaps


def waterfall(spans: list[Span]) -> list[tuple[Span, int]]:
    """The spans of one trace in the order a waterfall view draws them, each with its depth.

    Depth first from the root, children by start time, so that every span's
    row sits under its parent's. Spans whose parent is missing are left out.
    """
    kids = children_of(spans)
    rows: list[tuple[Span, int]] = []

    def visit(span: Span, depth: int) -> None:
        rows.append((span, depth))
        for kid in sorted(kids.get(span.span_id, []), key=lambda k: k.start):
            visit(kid, depth + 1)

    visit(find_root(spans), 0)
    return rows


def queue_waits(spans: list[Span]) -> dict[str, int]:
    """For each consumer span that links to a producer span, the time the message waited."""
    by_id = {s.span_id: s for s in spans}
    waits = {}
    for span in spans:
        if span.kind != "consumer":
            continue
        for linked in span.links:
            producer = by_id.get(linked)
            if producer is not None and producer.kind == "producer":
                waits[span.span_id] = span.start - producer.end
    return waits


def checkout_trace() -> list[Span]:
    """A checkout request as exported: one trace plus the job its message started.

    The payments host's clock runs 25 ms behind the api host's, so the
    payments spans are exported 25 ms early.
    """
    return [
        Span("a1", None, "api", "POST /checkout", "server", 0, 400),
        Span("a2", "a1", "api", "authorize", "internal", 5, 25),
        Span("a3", "a1", "api", "GET /recommendations", "client", 30, 230),
        Span("r1", "a3", "recs", "GET /recommendations", "server", 35, 225),
        Span("a4", "a1", "api", "POST /reserve", "client", 30, 150),
        Span("i1", "a4", "inventory", "POST /reserve", "server", 62, 145),
        Span("i2", "i1", "inventory", "UPDATE stock", "client", 70, 130),
        Span("a5", "a1", "api", "POST /charge", "client", 210, 380),
        Span("p1", "a5", "payments", "POST /charge", "server", 190, 350),
        Span("p2", "p1", "payments", "POST psp/authorize", "client", 200, 340),
        Span("a6", "a1", "api", "publish order.placed", "producer", 382, 386),
        Span(
            "j1",
            None,
            "worker",
            "process order.placed",
            "consumer",
            4386,
            4510,
            trace_id="t2",
            links=("a6",),
        ),
    ]


def main() -> None:
    """Print the latency critical path, the service shares and the gaps of the checkout trace."""
    exported = checkout_trace()
    request = [s for s in exported if s.trace_id == "t1"]
    raw_gaps = untraced_gaps(critical_path(request))
    fixed, shifts = correct_skew(request)
    path = critical_path(fixed)
    root = find_root(fixed)

    print(f"trace: {root.name}, {root.duration} ms end to end")
    summed = sum(s.duration for s in fixed if s is not root)
    print(
        f"summed time of the spans under the root: {summed} ms"
        " (nested and parallel work count more than once)"
    )
    for span_id, delta in shifts.items():
        print(f"clock skew: server span {span_id} shifted {delta:+d} ms into its client span")
    print(
        f"gaps >= 20 ms before skew correction: {len(raw_gaps)}, after: {len(untraced_gaps(path))}"
    )
    print("\nlatency critical path:")
    for seg in path:
        print(f"  {seg.start:4d}-{seg.end:4d} {seg.length:4d} ms  {seg.service:<10} {seg.name}")
    print("\ncritical time by service:")
    for service, ms in critical_share(path).items():
        print(f"  {service:<10} {ms:4d} ms  {100 * ms / root.duration:5.1f} %")
    longest = max((s for s in fixed if s is not root), key=lambda s: s.duration)
    on_path = sum(seg.length for seg in path if seg.span_id == longest.span_id)
    print(
        f"\nlongest child span: {longest.name} ({longest.service}), "
        f"{longest.duration} ms,\n  of which on the latency critical path: {on_path} ms"
    )
    print("\nuntraced gaps on the latency critical path (>= 20 ms):")
    for seg, reading in untraced_gaps(path):
        where, what = reading.split(": ", 1)
        print(f"  {seg.start}-{seg.end} {seg.length} ms in {seg.service} '{seg.name}': {where}:")
        print(f"    {what}")
    for span_id, wait in queue_waits(exported).items():
        print(f"\nlinked job {span_id} waited {wait} ms in the queue after the publish")


if __name__ == "__main__":
    main()
