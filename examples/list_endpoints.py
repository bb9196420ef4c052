"""List endpoints that stay predictable: offset and keyset pagination on a real SQLite table.

The module builds an ``orders`` table in SQLite (standard library), serves it as
``GET /orders`` from a real HTTP server on 127.0.0.1, and measures what the
article claims:

- rows examined per page against page depth, for ``LIMIT ... OFFSET`` and for a
  keyset (seek) query on the index ``(created_at, id)``. Rows are counted by a
  SQL function, ``examined(id)``, placed in the WHERE clause: SQLite calls it once
  for every row it reads, so the counts are exact and the same on every run;
- duplicates and skipped rows when orders are inserted, deleted or updated
  while a client walks the list;
- page tokens signed with HMAC-SHA256 that carry the sort keys of the boundary
  row, a hash of the filter and the order, an expiry and the position in the
  walk, and are rejected when edited or replayed with other parameters;
- a filter grammar (a small subset of Google's AIP-160) with an allow-list of
  indexed fields, and a budget of rows each request may fetch for the permission
  check, which is why a page can be short or empty before the end of the list.

Run ``python -m examples.list_endpoints`` for the demo.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import json
import random
import re
import sqlite3
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer

# [limits]
DEFAULT_PAGE_SIZE = 50  # page_size absent or 0
MAX_PAGE_SIZE = 200  # larger page_size values are coerced down to this
SCAN_BUDGET = 500  # rows one request may fetch for checks made after the query
TOKEN_TTL_S = 3 * 24 * 3600  # AIP-158's rule of thumb for expiring page tokens: three days
MAX_FILTER_CLAUSES = 4
# [/limits]
EPOCH = 1_735_689_600  # 2025-01-01T00:00:00Z
NOW = EPOCH + 90 * 24 * 3600  # the demo's fixed clock, so its output never changes

SCHEMA = """
CREATE TABLE orders (
    id          TEXT    PRIMARY KEY,  -- public id, such as ord_000042
    customer    TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    total_cents INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,  -- Unix seconds; several orders may share a second
    updated_at  INTEGER NOT NULL,
    restricted  INTEGER NOT NULL DEFAULT 0
)
"""
# Every order the API offers has an index that ends in the unique tiebreaker,
# and every filter field leads an index followed by the default order's keys.
INDEXES = """
CREATE INDEX orders_by_created  ON orders (created_at, id);
CREATE INDEX orders_by_status   ON orders (status, created_at, id);
CREATE INDEX orders_by_customer ON orders (customer, created_at, id);
CREATE INDEX orders_by_updated  ON orders (updated_at, id);
CREATE INDEX orders_by_total    ON orders (total_cents DESC, id);
"""
STATUSES = ("open", "paid", "refunded")

# [orders]
# order_by value (AIP-132 syntax) -> sort keys as (column, descending), ending in a unique one
Keys = tuple[tuple[str, bool], ...]
ORDERINGS: dict[str, Keys] = {
    "create_time desc": (("created_at", True), ("id", True)),
    "create_time": (("created_at", False), ("id", False)),
    "update_time": (("updated_at", False), ("id", False)),
    "update_time desc": (("updated_at", True), ("id", True)),
    "total_cents desc": (("total_cents", True), ("id", False)),
}
DEFAULT_ORDER = "create_time desc"
# [/orders]


# --------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------


def build_orders(rows: int, seed: int = 7, restricted: range = range(0)) -> sqlite3.Connection:
    """An in-memory ``orders`` table with ``rows`` orders, created oldest first.

    Creation times advance by 0 to 3 seconds per order, so about two thirds of
    the orders share their second with another: a sort on ``created_at`` alone
    is not unique. Ids are ``ord_000001`` onward; orders whose number is in
    ``restricted`` are hidden from callers that are not administrators.
    """
    rnd = random.Random(seed)
    db = sqlite3.connect(":memory:", check_same_thread=False)
    db.row_factory = sqlite3.Row
    db.execute(SCHEMA)
    created, data = EPOCH, []
    for order_id in range(1, rows + 1):
        created += rnd.choice((0, 0, 1, 2, 3))
        draw = rnd.random()
        status = "refunded" if draw < 0.02 else "open" if draw < 0.10 else "paid"
        customer = f"cus_{rnd.randrange(500):04d}"
        cents = rnd.randrange(100, 50_000)
        public_id = f"ord_{order_id:06d}"
        data.append((public_id, customer, status, cents, created, created, order_id in restricted))
    db.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?)", data)
    db.executescript(INDEXES)
    db.execute("ANALYZE")
    return db


class RowCounter:
    """Counts the rows SQLite reads: ``examined(id)`` in a WHERE clause runs once per row."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.count = 0
        db.create_function("examined", 1, self._visit)

    def _visit(self, _row_id: object) -> int:
        self.count += 1
        return 1


def rows_examined(db: sqlite3.Connection, sql: str, args: Sequence[object]) -> tuple[list, int]:
    """Run ``sql`` (which must call ``examined(id)`` in its WHERE clause); rows and rows read."""
    counter = RowCounter(db)
    rows = db.execute(sql, list(args)).fetchall()
    return rows, counter.count


def query_plan(db: sqlite3.Connection, sql: str, args: Sequence[object]) -> str:
    """SQLite's EXPLAIN QUERY PLAN for ``sql``, one step per line."""
    RowCounter(db)
    return "\n".join(row[3] for row in db.execute("EXPLAIN QUERY PLAN " + sql, list(args)))


# --------------------------------------------------------------------------
# Offset and keyset queries
# --------------------------------------------------------------------------


def order_sql(keys: Keys, backward: bool = False) -> str:
    """The ORDER BY list for ``keys``, reversed when reading backward."""
    return ", ".join(f"{col} {'DESC' if desc != backward else 'ASC'}" for col, desc in keys)


def seek_clause(keys: Keys, boundary: Sequence[object], backward: bool) -> tuple[str, list]:
    """SQL selecting the rows strictly after ``boundary`` in the order ``keys``.

    When every key runs the same way this is one row-value comparison, which
    the index turns into a seek. Mixed directions (``total_cents DESC, id ASC``)
    need the expanded form: k1 < ? OR (k1 = ? AND k2 > ?) OR ...
    """
    cols = [col for col, _ in keys]
    desc = [d != backward for _, d in keys]
    if len(set(desc)) == 1:
        marks = ", ".join("?" * len(cols))
        return f"({', '.join(cols)}) {'<' if desc[0] else '>'} ({marks})", list(boundary)
    terms, args = [], []
    for i, col in enumerate(cols):
        equal = [f"{c} = ?" for c in cols[:i]]
        terms.append("(" + " AND ".join([*equal, f"{col} {'<' if desc[i] else '>'} ?"]) + ")")
        args += boundary[: i + 1]
    return "(" + " OR ".join(terms) + ")", list(args)


def offset_sql(size: int, offset: int) -> tuple[str, list]:
    """Page by skipping: the database reads ``offset`` rows and throws them away."""
    return (
        "SELECT id, created_at FROM orders WHERE examined(id) "
        f"ORDER BY {order_sql(ORDERINGS[DEFAULT_ORDER])} LIMIT ? OFFSET ?",
        [size + 1, offset],
    )


def keyset_sql(size: int, boundary: Sequence[object] | None) -> tuple[str, list]:
    """Page by seeking past the last row seen: (created_at, id) < (?, ?)."""
    keys = ORDERINGS[DEFAULT_ORDER]
    where, args = [], []
    if boundary is not None:
        seek, args = seek_clause(keys, boundary, backward=False)
        where.append(seek)
    where.append("examined(id)")  # after the seek: counts the rows the range scan reads
    sql = (
        f"SELECT id, created_at FROM orders WHERE {' AND '.join(where)} "
        f"ORDER BY {order_sql(keys)} LIMIT ?"
    )
    return sql, [*args, size + 1]


def boundary_before(db: sqlite3.Connection, offset: int) -> tuple[int, str] | None:
    """The sort keys of the row just before position ``offset`` (what a page token holds)."""
    if offset == 0:
        return None
    row = db.execute(
        f"SELECT created_at, id FROM orders ORDER BY {order_sql(ORDERINGS[DEFAULT_ORDER])} "
        "LIMIT 1 OFFSET ?",
        (offset - 1,),
    ).fetchone()
    return (row[0], row[1])


def page_cost(db: sqlite3.Connection, page: int, size: int = DEFAULT_PAGE_SIZE) -> tuple[int, int]:
    """Rows SQLite reads to serve page ``page`` (1-based), by OFFSET and by keyset."""
    offset = (page - 1) * size
    _, by_offset = rows_examined(db, *offset_sql(size, offset))
    _, by_keyset = rows_examined(db, *keyset_sql(size, boundary_before(db, offset)))
    return by_offset, by_keyset


DEPTH_TABLE_ROWS = 100_000
DEPTH_PAGES = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000)


@functools.cache
def depth_table() -> sqlite3.Connection:
    """The 100,000-order table the depth measurements use (built once per process)."""
    return build_orders(DEPTH_TABLE_ROWS)


@functools.cache
def cost_by_depth() -> list[tuple[int, int, int]]:
    """(page, rows read by OFFSET, rows read by keyset) for pages of 50 on 100,000 orders."""
    db = depth_table()
    return [(page, *page_cost(db, page)) for page in DEPTH_PAGES]


def vm_instructions(db: sqlite3.Connection, page: int) -> tuple[int, int]:
    """SQLite instructions for one page by OFFSET and by keyset, without ``examined(id)``."""
    order = f"ORDER BY {order_sql(ORDERINGS[DEFAULT_ORDER])}"
    offset = (page - 1) * DEFAULT_PAGE_SIZE
    by_offset = vm_steps(
        db, f"SELECT id FROM orders {order} LIMIT ? OFFSET ?", [DEFAULT_PAGE_SIZE + 1, offset]
    )
    seek = "WHERE (created_at, id) < (?, ?)"
    by_keyset = vm_steps(
        db,
        f"SELECT id FROM orders {seek} {order} LIMIT ?",
        [*boundary_before(db, offset), DEFAULT_PAGE_SIZE + 1],
    )
    return by_offset, by_keyset


def vm_steps(db: sqlite3.Connection, sql: str, args: Sequence[object]) -> int:
    """SQLite virtual-machine instructions a query runs, counted in steps of 100."""
    steps = 0

    def tick() -> int:
        nonlocal steps
        steps += 100
        return 0

    db.set_progress_handler(tick, 100)
    try:
        db.execute(sql, list(args)).fetchall()
    finally:
        db.set_progress_handler(None, 0)
    return steps


# --------------------------------------------------------------------------
# Filters: a small subset of AIP-160, over an allow-list of indexed fields
# --------------------------------------------------------------------------


class InvalidArgument(Exception):
    """A request the API refuses: HTTP 400, gRPC INVALID_ARGUMENT."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail = reason, detail


def _rfc3339(text: str) -> int:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise InvalidArgument("INVALID_FILTER", f"{text!r} is not an RFC 3339 time")
    return int(moment.timestamp())


def _status(text: str) -> str:
    if text not in STATUSES:
        raise InvalidArgument("INVALID_FILTER", f"status must be one of {', '.join(STATUSES)}")
    return text


# public field -> (column, operators allowed, parser of the literal)
FILTER_FIELDS: dict[str, tuple[str, frozenset[str], Callable[[str], object]]] = {
    "status": ("status", frozenset({"=", "!="}), _status),
    "customer": ("customer", frozenset({"="}), str),
    "create_time": ("created_at", frozenset({"<", "<=", ">", ">=", "="}), _rfc3339),
}
CLAUSE = re.compile(r'\s*([A-Za-z_][\w.]*)\s*(<=|>=|!=|=|<|>|:)\s*("[^"]*"|[^\s"()]+)\s*')


@dataclass(frozen=True, order=True)
class Clause:
    """One comparison of a filter: ``field op value``."""

    field: str
    op: str
    value: str


def parse_filter(text: str) -> tuple[Clause, ...]:
    """Parse ``a = "x" AND b >= "y"``; reject whatever this endpoint does not support.

    The grammar is a subset of AIP-160: comparisons joined by AND. OR, NOT,
    parentheses, unknown fields and operators a field does not allow are
    errors, never silently ignored, and at most four comparisons are accepted.
    """
    parts = [p for p in re.split(r"\s+AND\s+", text.strip()) if p] if text.strip() else []
    if len(parts) > MAX_FILTER_CLAUSES:
        raise InvalidArgument("FILTER_TOO_COMPLEX", f"at most {MAX_FILTER_CLAUSES} comparisons")
    clauses = []
    for part in parts:
        match = CLAUSE.fullmatch(part)
        if match is None or re.search(r"\b(OR|NOT)\b|[()]", part):
            raise InvalidArgument("UNSUPPORTED_FILTER", f"cannot use {part.strip()!r}; only AND")
        name, op, literal = match.groups()
        if name not in FILTER_FIELDS:
            raise InvalidArgument("UNKNOWN_FILTER_FIELD", f"cannot filter on {name!r}")
        _, ops, parse = FILTER_FIELDS[name]
        if op not in ops:
            raise InvalidArgument("UNSUPPORTED_FILTER", f"{name} does not support {op!r}")
        value = literal[1:-1] if literal.startswith('"') else literal
        parse(value)  # validate the literal's type now, with a precise message
        clauses.append(Clause(name, op, value))
    return tuple(sorted(clauses))


def filter_sql(clauses: Sequence[Clause]) -> tuple[list[str], list[object]]:
    """WHERE terms with bound parameters: column names come from the allow-list only."""
    terms, args = [], []
    for clause in clauses:
        column, _, parse = FILTER_FIELDS[clause.field]
        terms.append(f"{column} {clause.op} ?")
        args.append(parse(clause.value))
    return terms, args


def query_hash(clauses: Sequence[Clause], order_by: str) -> str:
    """A stable hash of everything that defines the list, except the page size."""
    canonical = json.dumps([order_by, [list(vars(c).values()) for c in clauses]])
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


# --------------------------------------------------------------------------
# Page tokens: signed, bound to the query, expiring
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """What a page token carries."""

    key: tuple[object, ...]  # sort-key values of the boundary row
    backward: bool  # read toward the start of the list (a previous-page token)
    query_hash: str  # binds the token to one filter and one order: 16 hex digits, 64 bits
    expires: int  # Unix seconds
    position: int  # rows before the boundary in this walk, whatever the page sizes


class TokenCodec:
    """Page tokens as ``base64url(version | key id | JSON body | 128-bit HMAC-SHA256 tag)``.

    The tag makes a token impossible to forge or edit without the server's key;
    the key id lets keys rotate while older tokens are still in flight.
    """

    VERSION = 1
    TAG_BYTES = 16

    def __init__(self, keys: dict[int, bytes], active: int) -> None:
        self.keys, self.active = keys, active

    def _tag(self, key_id: int, signed: bytes) -> bytes:
        return hmac.new(self.keys[key_id], signed, hashlib.sha256).digest()[: self.TAG_BYTES]

    def encode(self, cursor: Cursor) -> str:
        body = json.dumps(
            [list(cursor.key), cursor.backward, cursor.query_hash, cursor.expires, cursor.position],
            separators=(",", ":"),
        ).encode()
        signed = bytes((self.VERSION, self.active)) + body
        raw = signed + self._tag(self.active, signed)
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    def decode(self, token: str, now: int) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (ValueError, binascii.Error):
            raise InvalidArgument("INVALID_PAGE_TOKEN", "page_token is malformed") from None
        signed, tag = raw[: -self.TAG_BYTES], raw[-self.TAG_BYTES :]
        if len(signed) < 3 or signed[0] != self.VERSION or signed[1] not in self.keys:
            raise InvalidArgument("INVALID_PAGE_TOKEN", "page_token is malformed")
        if not hmac.compare_digest(tag, self._tag(signed[1], signed)):
            raise InvalidArgument("INVALID_PAGE_TOKEN", "page_token was not issued by this API")
        key, backward, digest, expires, position = json.loads(signed[2:])
        if expires < now:
            raise InvalidArgument("EXPIRED_PAGE_TOKEN", "page_token expired; start again")
        return Cursor(tuple(key), backward, digest, expires, position)


DEMO_CODEC = TokenCodec({1: b"demo key 1: in production, from a secret store"}, active=1)


# --------------------------------------------------------------------------
# The list endpoint
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ListRequest:
    """The parameters of ``GET /orders`` (AIP-132 names)."""

    page_size: int = 0
    page_token: str = ""
    filter: str = ""
    order_by: str = ""


@dataclass(frozen=True)
class Caller:
    """Who is asking; every page is authorized again, whatever token it carries."""

    admin: bool = False

    def can_see(self, row: sqlite3.Row) -> bool:
        return self.admin or not row["restricted"]


@dataclass
class Page:
    """One response: the items and the tokens for the next and previous pages."""

    items: list[dict[str, object]]
    next_page_token: str = ""
    previous_page_token: str = ""
    rows_read: int = 0
    depth: int = 0  # rows before this page in the walk: what an offset would have been


def effective_page_size(requested: int) -> int:
    """0 means the default; above the maximum is coerced down; negative is an error."""
    if requested < 0:
        raise InvalidArgument("INVALID_PAGE_SIZE", "page_size must not be negative")
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


@dataclass
class Scan:
    """What one bounded read of the index found."""

    rows: list[sqlite3.Row] = field(default_factory=list)
    read: int = 0
    resume: tuple[object, ...] | None = None  # where the next read in this direction starts


def scan(
    db: sqlite3.Connection,
    keys: Keys,
    clauses: Sequence[Clause],
    boundary: Sequence[object] | None,
    backward: bool,
    size: int,
    visible: Callable[[sqlite3.Row], bool],
) -> Scan:
    """Fetch at most SCAN_BUDGET rows past ``boundary``; keep ``size`` + 1 ``visible`` ones.

    The filter runs inside the query, where an index bounds its cost; ``visible``
    is a check made after the query (row-level permission), which the budget
    bounds. The extra row proves there is a next page without a second query. If
    the budget runs out first, the page is short (possibly empty) and ``resume``
    points at the last row fetched, so the client continues from there.
    """
    where, args = filter_sql(clauses)
    if boundary is not None:
        seek, seek_args = seek_clause(keys, boundary, backward)
        where, args = [*where, seek], [*args, *seek_args]
    sql = (
        f"SELECT * FROM orders {'WHERE ' + ' AND '.join(where) if where else ''} "
        f"ORDER BY {order_sql(keys, backward)} LIMIT ?"
    )
    found = Scan()
    for row in db.execute(sql, [*args, SCAN_BUDGET]):
        found.read += 1
        if visible(row):
            found.rows.append(row)
        if len(found.rows) > size:  # the extra row: there is more, resume at the last shown
            found.rows.pop()
            found.resume = tuple(found.rows[-1][col] for col, _ in keys)
            return found
    if found.read == SCAN_BUDGET:  # out of budget: more may follow the last row read
        found.resume = tuple(row[col] for col, _ in keys)
    return found


def list_orders(
    db: sqlite3.Connection,
    request: ListRequest,
    caller: Caller = Caller(),
    codec: TokenCodec = DEMO_CODEC,
    now: int = NOW,
) -> Page:
    """``GET /orders``: validate, check the token against the query, read one page."""
    size = effective_page_size(request.page_size)
    order_by = " ".join(request.order_by.split()) or DEFAULT_ORDER
    if order_by not in ORDERINGS:
        raise InvalidArgument("UNSUPPORTED_ORDER_BY", f"order_by must be one of {list(ORDERINGS)}")
    keys, clauses = ORDERINGS[order_by], parse_filter(request.filter)
    digest = query_hash(clauses, order_by)
    cursor = codec.decode(request.page_token, now) if request.page_token else None
    if cursor is not None and cursor.query_hash != digest:
        raise InvalidArgument(
            "PAGE_TOKEN_MISMATCH", "filter and order_by must match the request that issued it"
        )
    backward = cursor.backward if cursor else False
    found = scan(db, keys, clauses, cursor and cursor.key, backward, size, caller.can_see)
    # Positions count the rows before a boundary, so depth stays right when the
    # page size changes mid-walk: forward pages start at the token's position,
    # backward pages end there.
    start, shown = (cursor.position if cursor else 0), len(found.rows)
    far = start - shown if backward else start + shown

    def token(key: Sequence[object] | None, back: bool, position: int) -> str:
        if key is None:
            return ""
        return codec.encode(Cursor(tuple(key), back, digest, now + TOKEN_TTL_S, position))

    # Onward in the direction read, from where the scan stopped; back the other
    # way from the first row shown (or from the token's own position if none was).
    onward = token(found.resume, backward, far)
    first = tuple(found.rows[0][col] for col, _ in keys) if found.rows else None
    back = token(first or (cursor and cursor.key), not backward, start) if cursor else ""
    rows = found.rows[::-1] if backward else found.rows
    page = Page([resource(row) for row in rows], rows_read=found.read, depth=min(start, far))
    page.next_page_token, page.previous_page_token = (back, onward) if backward else (onward, back)
    return page


def resource(row: sqlite3.Row) -> dict[str, object]:
    """The API's representation of one order."""
    return {
        "id": row["id"],
        "customer": row["customer"],
        "status": row["status"],
        "total_cents": row["total_cents"],
        "create_time": datetime.fromtimestamp(row["created_at"], UTC).isoformat(),
    }


def walk(db: sqlite3.Connection, request: ListRequest, caller: Caller = Caller()) -> list[Page]:
    """Follow next_page_token until it is empty, as a correct client does."""
    pages = [list_orders(db, request, caller)]
    while pages[-1].next_page_token:
        request = replace(request, page_token=pages[-1].next_page_token)
        pages.append(list_orders(db, request, caller))
    return pages


# --------------------------------------------------------------------------
# What a client sees while the data changes
# --------------------------------------------------------------------------


def _ids(items: Sequence[dict[str, object]]) -> list[str]:
    return [str(item["id"]) for item in items]


def _writer(db: sqlite3.Connection, change: str, per_page: int, seed: int) -> Callable:
    """A function that changes ``per_page`` orders; called between two page requests."""
    rnd = random.Random(seed)
    arrivals = iter(range(900_001, 999_999))

    def act(seen: set[str]) -> None:
        newest = db.execute("SELECT max(created_at), max(updated_at) FROM orders").fetchone()
        if change == "insert":  # new orders arrive at the head of a newest-first list
            for _ in range(per_page):
                db.execute(
                    "INSERT INTO orders (id, customer, status, total_cents, created_at, updated_at)"
                    " VALUES (?, 'cus_new', 'open', 100, ?, ?)",
                    (f"ord_{next(arrivals):06d}", newest[0] + 1, newest[0] + 1),
                )
        elif change == "delete":  # orders the client has already read are archived
            for victim in rnd.sample(sorted(seen), per_page):
                db.execute("DELETE FROM orders WHERE id = ?", (victim,))
                seen.discard(victim)
        else:  # "update": any orders are modified, which moves them in update_time order
            ids = [r[0] for r in db.execute("SELECT id FROM orders ORDER BY id")]
            for victim in rnd.sample(ids, per_page):
                db.execute("UPDATE orders SET updated_at = ? WHERE id = ?", (newest[1] + 1, victim))

    return act


@dataclass(frozen=True)
class Anomalies:
    """How a traversal of the orders present at its start went wrong."""

    duplicates: int  # rows delivered more than once (extra deliveries)
    skipped: int  # rows present for the whole traversal that were never delivered
    pages: int  # requests the traversal took


def traverse_while_changing(
    method: str,
    change: str,
    *,
    rows: int = 1000,
    size: int = DEFAULT_PAGE_SIZE,
    per_page: int = 5,
    order_by: str = DEFAULT_ORDER,
    seed: int = 11,
) -> Anomalies:
    """Walk ``rows`` orders by ``method`` ("offset" or "keyset") while ``change`` happens."""
    db = build_orders(rows)
    original = {r[0] for r in db.execute("SELECT id FROM orders")}
    act = _writer(db, change, per_page, seed)
    delivered: Counter[str] = Counter()
    seen: set[str] = set()
    pages = 0

    def record(ids: list[str]) -> None:
        nonlocal pages
        pages += 1
        delivered.update(ids)
        seen.update(ids)

    if method == "offset":
        keys, page = ORDERINGS[order_by], 0
        while True:
            got = db.execute(
                f"SELECT id FROM orders ORDER BY {order_sql(keys)} LIMIT ? OFFSET ?",
                (size + 1, page * size),
            ).fetchall()
            record([r[0] for r in got[:size]])
            if len(got) <= size:
                break
            act(seen)
            page += 1
    else:
        request = ListRequest(page_size=size, order_by=order_by)
        while True:
            page_read = list_orders(db, request, Caller(admin=True))
            record(_ids(page_read.items))
            if not page_read.next_page_token:
                break
            act(seen)
            request = replace(request, page_token=page_read.next_page_token)
    survivors = original & {r[0] for r in db.execute("SELECT id FROM orders")}
    return Anomalies(
        duplicates=sum(n - 1 for i, n in delivered.items() if i in original),
        skipped=len(survivors - set(delivered)),
        pages=pages,
    )


@functools.cache
def anomaly_table() -> dict[tuple[str, str], Anomalies]:
    """Offset and keyset traversals of 1,000 orders, 5 changes after each page of 50."""
    return {
        (method, change): traverse_while_changing(method, change)
        for change in ("insert", "delete")
        for method in ("offset", "keyset")
    }


def tiebreak_skips(rows: int = 1000, size: int = DEFAULT_PAGE_SIZE) -> tuple[int, int]:
    """Rows never delivered when the cursor holds created_at alone, and with (created_at, id)."""
    db = build_orders(rows)
    every = {r[0] for r in db.execute("SELECT id FROM orders")}
    # created_at alone: "WHERE created_at < ?" drops the boundary second's other rows
    delivered, last = set(), None
    while True:
        where = "" if last is None else "WHERE created_at < ?"
        got = db.execute(
            f"SELECT id, created_at FROM orders {where} ORDER BY created_at DESC, id DESC LIMIT ?",
            ([] if last is None else [last]) + [size + 1],
        ).fetchall()
        delivered.update(r[0] for r in got[:size])
        if len(got) <= size:
            break
        last = got[size - 1][1]
    unique = {i for p in walk(db, ListRequest(page_size=size)) for i in _ids(p.items)}
    return len(every - delivered), len(every - unique)


def filtered_page_cost(db: sqlite3.Connection, status: str) -> dict[str, int]:
    """Rows read for one page filtered on ``status``, with and without an index leading on it."""
    sql = (
        "SELECT id FROM orders INDEXED BY {index} WHERE examined(id) AND status = ? "
        f"ORDER BY {order_sql(ORDERINGS[DEFAULT_ORDER])} LIMIT ?"
    )
    return {
        index: rows_examined(db, sql.format(index=index), (status, DEFAULT_PAGE_SIZE + 1))[1]
        for index in ("orders_by_created", "orders_by_status")
    }


def count_cost(db: sqlite3.Connection, status: str) -> tuple[int, int]:
    """(the exact count, rows read to compute it) for orders with ``status``."""
    rows, read = rows_examined(
        db, "SELECT count(*) FROM orders WHERE examined(id) AND status = ?", (status,)
    )
    return rows[0][0], read


# --------------------------------------------------------------------------
# HTTP: GET /orders on 127.0.0.1
# --------------------------------------------------------------------------


def problem(error: InvalidArgument) -> dict[str, object]:
    """An RFC 9457 problem details body for a 400, with the machine-readable reason."""
    return {
        "type": "https://api.example.com/problems/invalid-argument",
        "title": "Invalid argument",
        "status": 400,
        "detail": error.detail,
        "reason": error.reason,
    }


def make_handler(db: sqlite3.Connection) -> type[BaseHTTPRequestHandler]:
    """A request handler serving ``GET /orders`` from ``db``."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query))
            caller = Caller(admin=self.headers.get("X-Role") == "admin")  # stands in for authn
            try:
                if url.path != "/orders":
                    raise InvalidArgument("NOT_FOUND", "only /orders is served")
                size = query.get("page_size", "0")
                if not re.fullmatch(r"-?\d{1,9}", size):
                    raise InvalidArgument("INVALID_PAGE_SIZE", "page_size must be an integer")
                request = ListRequest(
                    int(size),
                    query.get("page_token", ""),
                    query.get("filter", ""),
                    query.get("order_by", ""),
                )
                page = list_orders(db, request, caller)
            except InvalidArgument as error:
                self._send(400, problem(error), "application/problem+json")
                return
            links = {}
            for rel, token in (("next", page.next_page_token), ("prev", page.previous_page_token)):
                if token:
                    target = urllib.parse.urlencode({**query, "page_token": token})
                    links[rel] = f'<{url.path}?{target}>; rel="{rel}"'
            body = {
                "orders": page.items,
                "next_page_token": page.next_page_token,
                "previous_page_token": page.previous_page_token,
            }
            self._send(200, body, "application/json", ", ".join(links.values()))

        def _send(self, status: int, body: dict, media: str, link: str = "") -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", media)
            self.send_header("Content-Length", str(len(data)))
            if link:
                self.send_header("Link", link)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:  # keep the demo quiet
            pass

    return Handler


@contextmanager
def serve(db: sqlite3.Connection) -> Iterator[str]:
    """Serve ``db`` on 127.0.0.1 at an ephemeral port; yields the base URL."""
    server = HTTPServer(("127.0.0.1", 0), make_handler(db))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@dataclass(frozen=True)
class Response:
    """An HTTP response as the client sees it."""

    status: int
    body: dict
    link: str


def get(base: str, path: str = "/orders", role: str = "", **params: object) -> Response:
    """``GET`` a page over real HTTP; 4xx responses are returned, not raised."""
    query = urllib.parse.urlencode({k: v for k, v in params.items() if v != ""})
    request = urllib.request.Request(f"{base}{path}?{query}", headers={"X-Role": role})
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return Response(reply.status, json.loads(reply.read()), reply.headers.get("Link", ""))
    except urllib.error.HTTPError as error:
        return Response(error.code, json.loads(error.read()), "")


def edit_token(token: str, page_jump: int) -> str:
    """What a curious client does: decode the token, move the cursor, encode it again."""
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    head, body, tag = raw[:2], json.loads(raw[2:-16]), raw[-16:]
    body[0][0] -= page_jump  # jump ahead by moving the creation time in the sort key
    edited = head + json.dumps(body, separators=(",", ":")).encode() + tag
    return base64.urlsafe_b64encode(edited).rstrip(b"=").decode()


HTTP_TABLE_ROWS = 2000
RESTRICTED = range(301, 1501)  # 1,200 consecutive orders only administrators may see


def http_walk(base: str, role: str, stop_on_short_page: bool) -> tuple[int, int, int]:
    """(requests, empty pages, orders received) for one traversal over HTTP."""
    requests = empty = received = 0
    token = ""
    while True:
        reply = get(base, role=role, page_token=token)
        requests += 1
        received += len(reply.body["orders"])
        empty += not reply.body["orders"]
        token = reply.body["next_page_token"]
        if not token or (stop_on_short_page and len(reply.body["orders"]) < DEFAULT_PAGE_SIZE):
            return requests, empty, received


# --------------------------------------------------------------------------
# Demo
# --------------------------------------------------------------------------


def main() -> None:
    db = depth_table()
    print(f"orders: {DEPTH_TABLE_ROWS:,} rows, pages of {DEFAULT_PAGE_SIZE}, newest first")
    print("rows SQLite reads to serve one page (counted by examined(id) in the WHERE clause)")
    print(f"{'page':>6} {'OFFSET':>9} {'keyset':>7}")
    for page, by_offset, by_keyset in cost_by_depth():
        if page in (1, 10, 100, 1000, 2000):
            print(f"{page:>6,} {by_offset:>9,} {by_keyset:>7,}")
    steps = vm_instructions(db, 1000)
    print(f"SQLite VM instructions for page 1,000: OFFSET {steps[0]:,}, keyset {steps[1]:,}")
    print("plan, OFFSET:", query_plan(db, *offset_sql(50, 99_950)))
    print("plan, keyset:", query_plan(db, *keyset_sql(50, (EPOCH, "ord_000001"))))

    print("\nfilter status = refunded (about 2 % of orders), first page, bare query:")
    cost = filtered_page_cost(db, "refunded")
    print(f"  index (created_at, id): {cost['orders_by_created']:,} rows read; "
          f"(status, created_at, id): {cost['orders_by_status']:,}")  # fmt: skip
    total, read = count_cost(db, "paid")
    print(f"  exact count of paid orders: {total:,}, which read {read:,} rows")

    print("\n1,000 orders walked in pages of 50; 5 changes after each page")
    table = anomaly_table()
    for change, label in (("insert", "5 new orders"), ("delete", "5 read orders deleted")):
        off, key = table[("offset", change)], table[("keyset", change)]
        print(f"  {label:<22} OFFSET {off.duplicates:>3} duplicates {off.skipped:>3} skipped"
              f" in {off.pages} pages; keyset {key.duplicates} and {key.skipped}")  # fmt: skip
    for order_by in ("update_time", "update_time desc"):
        got = traverse_while_changing("keyset", "update", order_by=order_by)
        print(f"  5 orders updated, keyset by {order_by + ':':<17} {got.duplicates:>3} seen "
              f"twice {got.skipped:>3} skipped")  # fmt: skip
    alone, with_id = tiebreak_skips()
    print(f"  no changes, cursor on created_at alone: {alone} skipped; (created_at, id): {with_id}")

    print(f"\nHTTP, GET /orders on 127.0.0.1: {HTTP_TABLE_ROWS:,} orders, ord_000001 to "
          f"ord_{HTTP_TABLE_ROWS:06d};\n  orders {RESTRICTED.start} to {RESTRICTED.stop - 1:,}"
          " visible only to administrators")  # fmt: skip
    with serve(build_orders(HTTP_TABLE_ROWS, restricted=RESTRICTED)) as base:
        big = get(base, page_size=5000)
        print(f"  page_size=5000 -> {big.status}, {len(big.body['orders'])} orders (coerced)")
        first = get(base, page_size=3, filter='status = "paid"')
        token = first.body["next_page_token"]
        ids = [o["id"] for o in first.body["orders"]]
        print(f"  page_size=3 -> {', '.join(ids)}")
        has_next_link = 'rel="next"' in first.link
        print(f"    next_page_token of {len(token)} characters; Link rel=next: {has_next_link}")
        second = get(base, page_size=3, filter='status = "paid"', page_token=token)
        back = get(base, page_size=3, filter='status = "paid"',
                   page_token=second.body["previous_page_token"])  # fmt: skip
        same = [o["id"] for o in back.body["orders"]] == ids
        print(f"  next, then previous_page_token -> the first page again: {same}")
        for label, params in (
            ("same token, other filter", {"filter": 'status = "open"', "page_token": token}),
            ("token edited by client", {"filter": 'status = "paid"',
                                        "page_token": edit_token(token, 40)}),
            ("page_size=-1", {"page_size": -1}),
            ("filter with OR", {"filter": 'status = "paid" OR status = "open"'}),
            ("filter on a field not offered", {"filter": 'note = "gift"'}),
        ):  # fmt: skip
            reply = get(base, **params)
            print(f"  {label:<30} -> {reply.status} {reply.body['reason']}")
        requests, empty, received = http_walk(base, role="", stop_on_short_page=False)
        print(f"  non-admin follows tokens to the end: {received:,} orders in {requests} requests,"
              f" {empty} of them empty")  # fmt: skip
        requests, empty, received = http_walk(base, role="", stop_on_short_page=True)
        print(f"  non-admin stops at the first short page: {received:,} orders")


if __name__ == "__main__":
    main()
