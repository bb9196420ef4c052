"""Modules in a monolith without faking a network: boundary checks, events, outbox, cost.

The application is ``examples/modular_shop``: ``orders``, ``billing`` and
``notifications``, each with a facade in ``api.py`` and private code in
``internal/``. This file holds what the article demonstrates about it:

- ``check``: a boundary checker built on ``ast``. It reads every import in the
  package (nothing is imported or run) and reports two kinds of violation, as
  Shopify's Packwerk does: *privacy* (a module imports another module's code
  other than its ``api``) and *dependency* (a module imports a module it has
  not declared in ``DEPENDENCIES``). It also rejects cycles in the module
  graph. Existing violations live in a baseline file, ``boundary_todo.txt``,
  that may only shrink: a new violation fails, and so does a baseline entry
  that no longer occurs (it must be deleted).
- ``affected_modules`` and ``expected_share``: which modules' tests a change must run,
  and what share of the suites a typical change runs.
- ``change_coupling``: how often a change to one module also changes another, from the
  file lists of past changes (``git log --no-merges --name-only --format=%H``).
- ``deliver``: the same declined order and the same crash under three ways of
  sending the confirmation e-mail (in the transaction, after commit, outbox).
- ``measure`` and ``fetch_prices``: 40 price look-ups through the in-process
  facade against the same look-ups over a real HTTP server on 127.0.0.1.

Run ``python -m examples.modular_monolith`` for the demo, and
``python -m examples.modular_monolith --measure`` to time the two paths on
your machine (the demo prints the ratio recorded in ``RECORDED``).
"""

from __future__ import annotations

import ast
import http.client
import json
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from examples.modular_shop.app import Strategy, build
from examples.modular_shop.billing.api import Billing, BillingError, UnknownSku
from examples.modular_shop.billing.internal.ledger import PRICES
from examples.modular_shop.db import Database, SimulatedCrash
from examples.modular_shop.orders.api import OrderRejected

APP = Path(__file__).with_name("modular_shop")
PACKAGE = "examples.modular_shop"
BASELINE = "boundary_todo.txt"
PUBLIC = "api"  # the one submodule other modules may import
DEPENDENCIES: dict[str, frozenset[str]] = {  # declared, like Packwerk's package.yml
    "billing": frozenset(),
    "orders": frozenset({"billing"}),
    "notifications": frozenset({"orders"}),
}

# --------------------------------------------------------------------------
# The boundary check
# --------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Violation:
    kind: str  # "privacy" or "dependency"
    path: str  # the importing file, relative to the application root
    target: str  # what it imports, relative to the application package

    def __str__(self) -> str:
        return f"{self.kind} {self.path} -> {self.target}"


@dataclass(frozen=True)
class Report:
    edges: frozenset[tuple[str, str]]  # module -> module it imports
    new: tuple[Violation, ...]  # not in the baseline: fail
    known: tuple[Violation, ...]  # in the baseline: tolerated for now
    stale: tuple[str, ...]  # in the baseline but fixed: delete the line
    cycles: tuple[tuple[str, ...], ...]  # never tolerated

    @property
    def ok(self) -> bool:
        return not (self.new or self.stale or self.cycles)


def modules(root: Path) -> list[str]:
    """The modules of the application: sub-packages that have a public ``api.py``."""
    return sorted(p.parent.name for p in root.glob(f"*/{PUBLIC}.py"))


def imports(root: Path, package: str) -> Iterator[tuple[Path, str]]:
    """Every ``(file, imported name)`` in the tree, relative imports resolved."""
    for path in sorted(root.rglob("*.py")):
        parts = [package, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        here = parts if path.name == "__init__.py" else parts[:-1]  # the file's package
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield path, alias.name
            elif isinstance(node, ast.ImportFrom):
                base = here[: len(here) - node.level + 1] if node.level else []
                stem = ".".join([*base, *([node.module] if node.module else [])])
                for alias in node.names:
                    yield path, f"{stem}.{alias.name}"


def scan(root: Path, package: str = PACKAGE) -> tuple[list[Violation], set[tuple[str, str]]]:
    """Privacy and dependency violations, and the module graph, read from the source."""
    known_modules, prefix = set(modules(root)), package + "."
    violations, edges = [], set()
    for path, name in imports(root, package):
        source = path.relative_to(root).parts[0]
        if source not in known_modules or not name.startswith(prefix):
            continue  # the shared kernel, the composition root, or a third-party import
        target = name.removeprefix(prefix).split(".")
        if target[0] not in known_modules or target[0] == source:
            continue
        edges.add((source, target[0]))
        where, what = path.relative_to(root).as_posix(), ".".join(target)
        if len(target) > 1 and target[1] != PUBLIC:
            violations.append(Violation("privacy", where, what))
        if target[0] not in DEPENDENCIES.get(source, frozenset()):
            violations.append(Violation("dependency", where, what))
    return sorted(set(violations)), edges


def cycles(edges: set[tuple[str, str]]) -> list[tuple[str, ...]]:
    """Every elementary cycle of the module graph, each starting at its smallest name."""
    graph: dict[str, list[str]] = {}
    for a, b in sorted(edges):
        graph.setdefault(a, []).append(b)
    found: set[tuple[str, ...]] = set()

    def walk(start: str, node: str, path: list[str]) -> None:
        for nxt in graph.get(node, []):
            if nxt == start:
                found.add((*path, start))
            elif nxt not in path and nxt > start:
                walk(start, nxt, [*path, nxt])

    for start in sorted(graph):
        walk(start, start, [start])
    return sorted(found)


def check(root: Path = APP, package: str = PACKAGE) -> Report:
    """The CI gate: fail on a new violation, a stale baseline entry, or a cycle."""
    violations, edges = scan(root, package)
    baseline_file = root / BASELINE
    recorded = (
        baseline_file.read_text(encoding="utf-8").split("\n") if baseline_file.exists() else []
    )
    baseline = {line.strip() for line in recorded if line.strip()}
    found = {str(v) for v in violations}
    return Report(
        edges=frozenset(edges),
        new=tuple(v for v in violations if str(v) not in baseline),
        known=tuple(v for v in violations if str(v) in baseline),
        stale=tuple(sorted(baseline - found)),
        cycles=tuple(cycles(edges)),
    )


def fan(edges: frozenset[tuple[str, str]], names: list[str]) -> dict[str, tuple[int, int]]:
    """(fan-in, fan-out) of each module: how many modules use it, and how many it uses."""
    return {
        m: (sum(1 for _, b in edges if b == m), sum(1 for a, _ in edges if a == m)) for m in names
    }


def affected_modules(changed: str, edges: frozenset[tuple[str, str]]) -> list[str]:
    """The changed module and every module that depends on it, directly or not.

    ``edges`` are the scanned imports (``Report.edges``), not ``DEPENDENCIES``: an
    undeclared import recorded in the baseline still selects the tests it can break.
    """
    affected, frontier = {changed}, [changed]
    while frontier:
        node = frontier.pop()
        for a, b in edges:
            if b == node and a not in affected:
                affected.add(a)
                frontier.append(a)
    return sorted(affected)


def expected_share(
    edges: frozenset[tuple[str, str]], names: list[str], changes: dict[str, float] | None = None
) -> float:
    """Share of module suites a change runs, averaged over changes (equal suite times).

    ``changes`` weights each module by its share of changes; the default is an even spread.
    """
    weights = changes or {m: 1.0 for m in names}
    total = sum(weights.values())
    return sum(w * len(affected_modules(m, edges)) for m, w in weights.items()) / (
        total * len(names)
    )


def module_of(path: str) -> str | None:
    """The module a changed file belongs to (its first folder under the application)."""
    parts = path.split("/")
    return parts[parts.index("modular_shop") + 1] if "modular_shop" in parts[:-2] else None


def change_coupling(changesets: list[list[str]]) -> dict[tuple[str, str], float]:
    """For each pair (a, b): the share of changes touching module a that also touch b."""
    touched: dict[str, int] = {}
    shared: dict[tuple[str, str], int] = {}
    for files in changesets:
        hit = sorted({m for m in map(module_of, files) if m})
        for a in hit:
            touched[a] = touched.get(a, 0) + 1
            for b in hit:
                if b != a:
                    shared[a, b] = shared.get((a, b), 0) + 1
    return {pair: n / touched[pair[0]] for pair, n in sorted(shared.items())}


@contextmanager
def copy_of_app() -> Iterator[Path]:
    """A throwaway copy of the application, to plant violations in."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "modular_shop"
        shutil.copytree(APP, root, ignore=shutil.ignore_patterns("__pycache__"))
        yield root


def plant(root: Path, relative: str, line: str) -> None:
    """Append an import to one file of a copied application."""
    path = root / relative
    path.write_text(path.read_text(encoding="utf-8") + line + "\n", encoding="utf-8")


# --------------------------------------------------------------------------
# Side effects between modules: three ways to send the order e-mail
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    orders: int  # orders that exist afterwards
    emails: int  # confirmation e-mails the customer received


def deliver(strategy: Strategy, scenario: str) -> Delivery:
    """One order under ``scenario``: "declined" (rolled back) or "crash" (dies after commit).

    After the crash a new process starts on the same database file and runs the
    outbox relay, as a restarted worker would.
    """
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "shop.db")
        shop = build(strategy, path)
        quantity = 200 if scenario == "declined" else 1  # 200 units exceed the card limit
        shop.db.crash_after_next_commit = scenario == "crash"
        with suppress(OrderRejected, SimulatedCrash):
            shop.orders.place("ana@example.com", "SKU-07", quantity)
        if scenario == "crash":  # a new process on the same database file, after the crash
            shop.db.conn.close()
            shop = build(strategy, path, shop.mailbox)
        shop.notifications.relay()
        return Delivery(shop.orders.count(), len(shop.mailbox))


# --------------------------------------------------------------------------
# The fake network: 40 look-ups in process and over loopback HTTP
# --------------------------------------------------------------------------

CALLS = 40
SKUS = sorted(PRICES)[:CALLS]
# Nanoseconds for 40 look-ups: the median of 5 runs of `python -m examples.modular_monolith
# --measure` on CPython 3.11.7 (server: http.server.ThreadingHTTPServer speaking HTTP/1.1 with
# TCP_NODELAY; client: http.client.HTTPConnection), on a 2-core virtual machine shared with other
# jobs. Regenerate with that command on your hardware; the tests never assert a time.
RECORDED = {
    "in_process_ns": 134_252,
    "http_new_connection_ns": 30_298_546,
    "http_keep_alive_ns": 13_161_078,
}

PATHS = {  # figure label -> RECORDED key
    "in-process facade": "in_process_ns",
    "HTTP, keep-alive": "http_keep_alive_ns",
    "HTTP, new connection": "http_new_connection_ns",
}


def boundary_cost_ms() -> dict[str, float]:
    """Milliseconds that 40 look-ups add to one request on each path, from ``RECORDED``."""
    return {label: RECORDED[key] / 1e6 for label, key in PATHS.items()}


class BillingUnavailable(BillingError):
    """The network path's extra failure: the billing endpoint did not answer in time."""


class HttpBilling:
    """What ``Billing.price_of`` becomes once a fake network is put in front of it."""

    def __init__(self, base_url: str, timeout_s: float, keep_alive: bool = False) -> None:
        parsed = urlparse(base_url)
        self.host, self.port = parsed.hostname or "127.0.0.1", parsed.port
        self.timeout_s, self.keep_alive = timeout_s, keep_alive
        self.round_trips = self.connections = self.bytes_received = 0
        self._conn: http.client.HTTPConnection | None = None

    def price_of(self, sku: str) -> int:
        if self._conn is None:
            self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout_s)
            self.connections += 1
        self.round_trips += 1
        try:
            self._conn.request("GET", f"/price?sku={sku}")
            response = self._conn.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as exc:  # timeouts are OSErrors
            self._close()
            raise BillingUnavailable(f"{type(exc).__name__} after {self.timeout_s} s") from exc
        if not self.keep_alive:
            self._close()
        self.bytes_received += len(body)
        if response.status == 404:  # a status code mapped back to the exception it replaced
            raise UnknownSku(sku)
        if response.status != 200:
            raise BillingUnavailable(f"HTTP {response.status}")
        return int(json.loads(body)["cents"])

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


@contextmanager
def billing_server(billing: Billing, stall_on: int | None = None) -> Iterator[str]:
    """Serve ``billing.price_of`` on 127.0.0.1 (ephemeral port); optionally stall one request."""
    served = {"n": 0}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # so that a client may keep its connection open
        disable_nagle_algorithm = True  # else headers and body wait on delayed ACKs: ~40 ms a call

        def do_GET(self) -> None:
            served["n"] += 1
            if served["n"] == stall_on:
                time.sleep(1.0)  # a GC pause, a deploy, a full accept queue...
            sku = parse_qs(urlparse(self.path).query)["sku"][0]
            try:
                status, payload = 200, {"sku": sku, "cents": billing.price_of(sku)}
            except UnknownSku:
                status, payload = 404, {"error": "unknown_sku"}
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def fetch_prices(price_of: Callable[[str], int], skus: list[str]) -> tuple[int, str | None]:
    """Look up each price in turn; return how many succeeded and the error that stopped it."""
    done = 0
    for sku in skus:
        try:
            price_of(sku)
        except BillingUnavailable as exc:
            return done, type(exc).__name__
        done += 1
    return done, None


def measure(repeats: int = 5) -> dict[str, int]:
    """Median nanoseconds for 40 look-ups on each path (for ``--measure``, not for tests)."""
    billing = Billing(Database())
    runs: dict[str, list[int]] = {key: [] for key in RECORDED}
    with billing_server(billing) as url:
        paths = {
            "in_process_ns": billing.price_of,
            "http_new_connection_ns": HttpBilling(url, timeout_s=2.0).price_of,
            "http_keep_alive_ns": HttpBilling(url, timeout_s=2.0, keep_alive=True).price_of,
        }
        for _ in range(repeats):
            for key, price_of in paths.items():
                start = time.perf_counter_ns()
                fetch_prices(price_of, SKUS)
                runs[key].append(time.perf_counter_ns() - start)
    return {key: int(statistics.median(values)) for key, values in runs.items()}


# --------------------------------------------------------------------------
# The demo
# --------------------------------------------------------------------------


def main() -> None:
    report = check()
    names = modules(APP)
    print(f"Boundary check of {len(names)} modules: {', '.join(names)}")
    print("  module edges: " + ", ".join(f"{a} -> {b}" for a, b in sorted(report.edges)))
    fans = fan(report.edges, names)
    print("  fan-in/fan-out: " + ", ".join(f"{m} {i}/{o}" for m, (i, o) in fans.items()))
    for v in report.known:
        print(f"  baseline: {v}")
    verdict = "pass" if report.ok else "FAIL"
    counts = f"new {len(report.new)}, stale {len(report.stale)}, cycles {len(report.cycles)}"
    print(f"  {counts}: {verdict}")
    plants = [
        (
            "orders -> billing.internal",
            "orders/api.py",
            "from ..billing.internal import ledger",
        ),
        ("billing -> orders.api", "billing/api.py", "from ..orders.api import OrderView"),
    ]
    for label, where, line in plants:
        with copy_of_app() as root:
            plant(root, where, line)
            planted = check(root)
        found = ", ".join(v.kind for v in planted.new) or "none"
        loops = ", ".join("->".join(c) for c in planted.cycles) or "none"
        print(f"  plant {label}: new {found}; cycle {loops}: {'pass' if planted.ok else 'FAIL'}")
    with copy_of_app() as root:
        (root / "notifications/internal/digest.py").unlink()
        fixed = check(root)
    print(
        f"  digest fixed, baseline not updated: stale {len(fixed.stale)}: "
        f"{'pass' if fixed.ok else 'FAIL'}"
    )

    print("Tests to run for a change")
    for changed in names:
        hit = affected_modules(changed, report.edges)
        print(f"  {changed:<13}: {', '.join(hit)} ({len(hit)} of {len(names)})")
    share = expected_share(report.edges, names)
    print(f"  changes spread evenly: {share:.0%} of suites run, {1 / share:.1f}x faster than all")

    print("Confirmation e-mail for a declined order, and after a crash after commit")
    for strategy in ("send_in_transaction", "send_after_commit", "outbox"):
        declined, crash = deliver(strategy, "declined"), deliver(strategy, "crash")
        print(
            f"  {strategy:<19}: declined {declined.orders} orders {declined.emails} e-mails;"
            f" crash {crash.orders} orders {crash.emails} e-mails"
        )

    print(f"{CALLS} price look-ups")
    billing = Billing(Database())
    with billing_server(billing) as url:
        client = HttpBilling(url, timeout_s=2.0)
        print(f"  in process: {fetch_prices(billing.price_of, SKUS)[0]} answers, 0 round trips")
        done, _ = fetch_prices(client.price_of, SKUS)
        print(
            f"  loopback HTTP: {done} answers, {client.round_trips} round trips on "
            f"{client.connections} connections, {client.bytes_received} bytes of JSON parsed"
        )
    base = RECORDED["in_process_ns"]
    print(f"  recorded, in process: {base / 1e6:.3f} ms, {base / CALLS / 1e3:.3f} us a call")
    for key, label in (
        ("http_keep_alive_ns", "keep-alive"),
        ("http_new_connection_ns", "new connection"),
    ):
        print(
            f"  recorded, HTTP {label}: {RECORDED[key] / 1e6:.2f} ms, "
            f"{RECORDED[key] / CALLS / 1e3:.1f} us a call, {RECORDED[key] / base:.0f}x in process"
        )
    with billing_server(billing, stall_on=17) as url:
        client = HttpBilling(url, timeout_s=0.2)
        done, error = fetch_prices(client.price_of, SKUS)
        print(
            f"  request 17 stalls: in process {fetch_prices(billing.price_of, SKUS)[0]}"
            f" of {CALLS}; HTTP {done} of {CALLS}, then {error}"
        )


if __name__ == "__main__":
    if "--measure" in sys.argv:
        print(measure())
    else:
        main()
