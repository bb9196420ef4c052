"""One operation, "list a customer's orders", in three API styles, measured.

docs/apis/api-styles.md walks through this file. It uses the standard library only:

- ``App`` behind ``serve`` is a real HTTP server on 127.0.0.1 (an ephemeral port).
  It serves a customer's orders as a resource-oriented HTTP+JSON endpoint with an
  ETag, so a repeated GET costs a 304 and no body; products as public, cacheable
  resources; and a small GraphQL endpoint, by POST and by GET of an allow-listed
  document's hash.
- ``Store`` is a real SQLite database that counts the SELECT statements it runs, so
  naive resolvers (N+1) and a batched loader are compared by the queries they send.
- ``encode_*`` write the protobuf wire format of ``examples/api_styles.proto`` by
  hand (varints, tags, length-delimited fields), so JSON and protobuf are compared
  on identical data, before and after gzip.
- ``CRITERIA`` and ``SCENARIOS`` are a weighted decision matrix for three
  scenarios, with the sensitivity analysis that says which weights can change each.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import json
import random
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

# --- The data: one customer, 20 orders, 8 products -------------------------------------

PRODUCTS = [
    ("BEAN-01", "House espresso beans, 1 kg", 1000),
    ("BEAN-02", "Single-origin filter beans, 250 g", 250),
    ("MILK-01", "Oat milk, barista edition, 6 x 1 l", 6200),
    ("CUP-08", "Paper cups, 8 oz, sleeve of 50", 450),
    ("LID-08", "Lids for 8 oz cups, sleeve of 50", 150),
    ("SYRUP-V", "Vanilla syrup, 750 ml", 1100),
    ("FILTER-2", "Paper filters, size 2, box of 100", 300),
    ("DESCALE", "Descaling tablets for espresso machines", 200),
]
STATES = ("STATE_UNSPECIFIED", "PLACED", "SHIPPED", "DELIVERED", "CANCELLED")
ADDRESS = {
    "recipient": "Northwind Cafe, receiving",
    "addressLine": "12 Harbour Street",
    "locality": "Porto",
    "postalCode": "4050-123",
    "regionCode": "PT",
}

SCHEMA_SQL = """
CREATE TABLE customers (id TEXT PRIMARY KEY, display_name TEXT);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id TEXT, state TEXT,
                     create_time INTEGER, currency_code TEXT, total_cents INTEGER);
CREATE TABLE line_items (order_id INTEGER, position INTEGER, sku TEXT,
                         quantity INTEGER, unit_price_cents INTEGER);
CREATE TABLE products (sku TEXT PRIMARY KEY, name TEXT, description TEXT,
                       image_url TEXT, weight_grams INTEGER, price_cents INTEGER);
"""


def rfc3339(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Store:
    """A SQLite database of orders that counts every SELECT it runs (``queries``)."""

    def __init__(self, orders: int = 20, seed: int = 11) -> None:
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.Lock()
        self.queries = 0
        self._counting = False
        self._next_id = 1001
        self._db.executescript(SCHEMA_SQL)
        self._seed(orders, random.Random(seed))
        self._db.set_trace_callback(self._trace)
        self._counting = True

    def _trace(self, sql: str) -> None:
        if self._counting and sql.lstrip().upper().startswith("SELECT"):
            self.queries += 1

    def _seed(self, count: int, rng: random.Random) -> None:
        self._db.execute("INSERT INTO customers VALUES ('c-1', 'Northwind Cafe')")
        for i, (sku, name, grams) in enumerate(PRODUCTS):
            description = (
                f"{name}. Sold by the case to cafes and offices; delivered within two "
                f"working days, with a recyclable outer box. Catalog item {sku}."
            )
            image = f"https://cdn.example.com/products/{sku.lower()}/hero-1200x1200.jpg"
            price = 350 + 275 * i
            self._db.execute(
                "INSERT INTO products VALUES (?, ?, ?, ?, ?, ?)",
                (sku, name, description, image, grams, price),
            )
        start = int(datetime(2025, 1, 3, 9, 0, tzinfo=UTC).timestamp())
        for n in range(count):
            picks = rng.sample(range(len(PRODUCTS)), rng.randint(1, 4))
            age = count - 1 - n  # 0 for the newest order
            state = "PLACED" if age == 0 else "SHIPPED" if age < 3 else "DELIVERED"
            self.add_order(
                "c-1",
                [(PRODUCTS[p][0], rng.randint(1, 6)) for p in picks],
                create_time=start + n * 3 * 86400 + rng.randint(0, 36000),
                state="CANCELLED" if n == 7 else state,
            )

    def add_order(
        self,
        customer: str,
        items: list[tuple[str, int]],
        *,
        create_time: int,
        state: str = "PLACED",
    ) -> int:
        """Insert an order (not counted as a query) and return its id."""
        with self._lock:
            counting, self._counting = self._counting, False  # not a read the API made
            prices = {
                row["sku"]: row["price_cents"]
                for row in self._db.execute("SELECT sku, price_cents FROM products")
            }
            self._counting = counting
            total = sum(prices[sku] * qty for sku, qty in items)
            order_id, self._next_id = self._next_id, self._next_id + 1
            self._db.execute(
                "INSERT INTO orders VALUES (?, ?, ?, ?, 'EUR', ?)",
                (order_id, customer, state, create_time, total),
            )
            self._db.executemany(
                "INSERT INTO line_items VALUES (?, ?, ?, ?, ?)",
                [(order_id, pos, sku, qty, prices[sku]) for pos, (sku, qty) in enumerate(items)],
            )
            return order_id

    def _select(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def customer(self, customer: str) -> dict[str, Any] | None:
        rows = self._select("SELECT * FROM customers WHERE id = ?", (customer,))
        return {"id": rows[0]["id"], "displayName": rows[0]["display_name"]} if rows else None

    def orders(self, customer: str, limit: int) -> list[dict[str, Any]]:
        rows = self._select(
            "SELECT * FROM orders WHERE customer_id = ? ORDER BY create_time DESC LIMIT ?",
            (customer, limit),
        )
        return [
            {
                "id": row["id"],
                "customerId": row["customer_id"],
                "state": row["state"],
                "createTime": rfc3339(row["create_time"]),
                "currencyCode": row["currency_code"],
                "totalCents": row["total_cents"],
                "shippingAddress": dict(ADDRESS),
            }
            for row in rows
        ]

    @staticmethod
    def _item(row: sqlite3.Row) -> dict[str, Any]:
        return {
            "sku": row["sku"],
            "quantity": row["quantity"],
            "unitPriceCents": row["unit_price_cents"],
        }

    def line_items(self, order_id: int) -> list[dict[str, Any]]:
        """One order's items: one query per call (what a naive resolver does)."""
        rows = self._select(
            "SELECT * FROM line_items WHERE order_id = ? ORDER BY position", (order_id,)
        )
        return [self._item(row) for row in rows]

    def line_items_for(self, order_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
        """Many orders' items in one query (what a batched loader does)."""
        marks = ",".join("?" * len(order_ids))
        rows = self._select(
            f"SELECT * FROM line_items WHERE order_id IN ({marks}) ORDER BY order_id, position",
            tuple(order_ids),
        )
        found: dict[int, list[dict[str, Any]]] = {i: [] for i in order_ids}
        for row in rows:
            found[row["order_id"]].append(self._item(row))
        return found

    @staticmethod
    def _product(row: sqlite3.Row) -> dict[str, Any]:
        return {
            "sku": row["sku"],
            "name": row["name"],
            "description": row["description"],
            "imageUrl": row["image_url"],
            "weightGrams": row["weight_grams"],
            "priceCents": row["price_cents"],
        }

    def product(self, sku: str) -> dict[str, Any] | None:
        rows = self._select("SELECT * FROM products WHERE sku = ?", (sku,))
        return self._product(rows[0]) if rows else None

    def products_for(self, skus: list[str]) -> dict[str, dict[str, Any]]:
        marks = ",".join("?" * len(skus))
        rows = self._select(f"SELECT * FROM products WHERE sku IN ({marks})", tuple(skus))
        return {row["sku"]: self._product(row) for row in rows}


class DependencyUnavailable(Exception):
    """A downstream service did not answer."""


def error_code(exc: Exception) -> str:
    """The code a field error carries in ``extensions``: what a client decides retries by.

    The message is for people; the code is for code. UNAVAILABLE (borrowed from gRPC's
    names) means "this field may work if asked again, with backoff"; INTERNAL does not.
    """
    return "UNAVAILABLE" if isinstance(exc, DependencyUnavailable) else "INTERNAL"


@dataclass
class Loyalty:
    """A loyalty-points service that can be switched off to simulate an outage."""

    available: bool = True

    def points(self, customer: str) -> int:
        if not self.available:
            raise DependencyUnavailable("loyalty service unavailable")
        return 1_240 if customer == "c-1" else 0


# --- A minimal GraphQL: parser, limits, executor with batched loaders -------------------


@dataclass
class Field:
    name: str
    args: dict[str, Any] = field(default_factory=dict)
    selections: list[Field] = field(default_factory=list)


class RequestError(Exception):
    """Raised before execution (syntax, validation, limits): the response has no data."""


_TOKEN = re.compile(r'\s*(?:([{}():!$\[\]])|("(?:[^"\\]|\\.)*")|(-?\d+)|([_A-Za-z]\w*)|(,))')


def _tokens(text: str) -> list[str]:
    tokens, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            raise RequestError(f"Syntax error at character {pos}")
        pos = match.end()
        if not match.group(5):  # commas are insignificant in GraphQL
            tokens.append(next(g for g in match.groups() if g is not None))
    return tokens


def parse(document: str, variables: dict[str, Any]) -> list[Field]:
    """Parse one query operation (fields, arguments, variables; no fragments)."""
    tokens = _tokens(document)
    pos = 0

    def peek() -> str:
        if pos >= len(tokens):
            raise RequestError("Syntax error: unexpected end of document")
        return tokens[pos]

    def take(expected: str | None = None) -> str:
        nonlocal pos
        if peek() != (expected or peek()):
            raise RequestError(f"Syntax error: expected {expected}, found {tokens[pos]}")
        pos += 1
        return tokens[pos - 1]

    def value() -> Any:
        token = take()
        if token == "$":
            name = take()
            if name not in variables:
                raise RequestError(f"Variable ${name} was not provided")
            return variables[name]
        if token.startswith('"'):
            return json.loads(token)
        if token.lstrip("-").isdigit():
            return int(token)
        raise RequestError(f"Unsupported value {token}")

    def selection_set() -> list[Field]:
        take("{")
        fields = []
        while peek() != "}":
            node = Field(take())
            if peek() == "(":
                take("(")
                while peek() != ")":
                    key = take()
                    take(":")
                    node.args[key] = value()
                take(")")
            if peek() == "{":
                node.selections = selection_set()
            fields.append(node)
        take("}")
        return fields

    if tokens and tokens[0] == "query":
        take("query")
        if peek() not in ("{", "("):
            take()  # the operation name
        if peek() == "(":  # variable definitions: their types are not checked here
            while take() != ")":
                pass
    fields = selection_set()
    if pos != len(tokens):
        raise RequestError("Syntax error: unexpected input after the operation")
    return fields


@dataclass(frozen=True)
class FieldDef:
    """A field of an object type: its type (None for a scalar), list-ness, resolver."""

    type: str | None = None
    is_list: bool = False
    resolve: Callable[[dict[str, Any], dict[str, Any], Context], Any] | None = None


class Pending:
    """A value a loader will fetch at its next dispatch."""

    def __init__(self) -> None:
        self.value: Any = None
        self.error: Exception | None = None


class Loader:
    """DataLoader's idea: collect the keys asked for during one pass, fetch them at once.

    ``load`` only records the key; ``dispatch`` calls the batch function once with
    every key collected since the last dispatch. Keys are cached for the request, so
    a product that appears in three orders is fetched once.
    """

    def __init__(self, batch: Callable[[list[Any]], dict[Any, Any]]) -> None:
        self.batch = batch
        self.cache: dict[Any, Pending] = {}
        self.queue: list[Any] = []

    def load(self, key: Any) -> Pending:
        if key not in self.cache:
            self.cache[key] = Pending()
            self.queue.append(key)
        return self.cache[key]

    def dispatch(self) -> None:
        keys, self.queue = self.queue, []
        if not keys:
            return
        try:
            found = self.batch(keys)
        except Exception as exc:
            for key in keys:
                self.cache[key].error = exc
            return
        for key in keys:
            self.cache[key].value = found.get(key)


@dataclass
class Context:
    """Per-request state: the backends, the loaders, the resolver strategy."""

    store: Store
    loyalty: Loyalty
    batched: bool = True
    loaders: dict[str, Loader] = field(default_factory=dict)

    def loader(self, name: str, batch: Callable[[list[Any]], dict[Any, Any]]) -> Loader:
        return self.loaders.setdefault(name, Loader(batch))


def resolve_line_items(order: dict[str, Any], args: dict[str, Any], ctx: Context) -> Any:
    if not ctx.batched:
        return ctx.store.line_items(order["id"])  # one query per order: N+1
    return ctx.loader("line_items", ctx.store.line_items_for).load(order["id"])


def resolve_product(item: dict[str, Any], args: dict[str, Any], ctx: Context) -> Any:
    if not ctx.batched:
        return ctx.store.product(item["sku"])  # one query per line item
    return ctx.loader("products", ctx.store.products_for).load(item["sku"])


SCHEMA: dict[str, dict[str, FieldDef]] = {
    "Query": {
        "customer": FieldDef("Customer", resolve=lambda _, a, ctx: ctx.store.customer(a["id"])),
    },
    "Customer": {
        "id": FieldDef(),
        "displayName": FieldDef(),
        "loyaltyPoints": FieldDef(resolve=lambda c, _, ctx: ctx.loyalty.points(c["id"])),
        "orders": FieldDef(
            "Order", is_list=True, resolve=lambda c, a, ctx: ctx.store.orders(c["id"], a["first"])
        ),
    },
    "Order": {
        "id": FieldDef(),
        "state": FieldDef(),
        "createTime": FieldDef(),
        "currencyCode": FieldDef(),
        "totalCents": FieldDef(),
        "shippingAddress": FieldDef("Address"),
        "lineItems": FieldDef("LineItem", is_list=True, resolve=resolve_line_items),
    },
    "Address": {key: FieldDef() for key in ADDRESS},
    "LineItem": {
        "sku": FieldDef(),
        "quantity": FieldDef(),
        "unitPriceCents": FieldDef(),
        "product": FieldDef("Product", resolve=resolve_product),
    },
    "Product": {
        key: FieldDef()
        for key in ("sku", "name", "description", "imageUrl", "weightGrams", "priceCents")
    },
}

MAX_DEPTH = 6
MAX_NODES = 1_000


def check_limits(fields: list[Field], type_name: str = "Query") -> int:
    """Validate a document and return its worst-case node count, before running it.

    GitHub's GraphQL API uses the same arithmetic: every list field must say how many
    items it wants (``first``), and nested lists multiply: ``orders(first: 5)`` with
    ``lineItems(first: 10)`` can return 5 + 5 x 10 = 55 nodes.
    """

    def walk(fields: list[Field], type_name: str, multiplier: int, depth: int) -> int:
        if depth > MAX_DEPTH:
            raise RequestError(f"Query is deeper than {MAX_DEPTH} levels")
        total = 0
        for node in fields:
            spec = SCHEMA[type_name].get(node.name)
            if spec is None:
                raise RequestError(f"Cannot query field '{node.name}' on type '{type_name}'")
            if (spec.type is None) != (not node.selections):
                raise RequestError(f"Field '{node.name}' has a wrong selection set")
            if spec.type is None:
                continue
            inner = multiplier
            if spec.is_list:
                first = node.args.get("first")
                if not isinstance(first, int) or not 1 <= first <= 100:
                    raise RequestError(f"List field '{node.name}' needs first: 1 to 100")
                inner = multiplier * first
                total += inner
            total += walk(node.selections, spec.type, inner, depth + 1)
        return total

    nodes = walk(fields, type_name, 1, 1)
    if nodes > MAX_NODES:
        raise RequestError(f"Query could return {nodes:,} nodes; limit {MAX_NODES:,}")
    return nodes


def _complete(
    type_name: str,
    parents: list[tuple[dict[str, Any], dict[str, Any], list[Any]]],
    selections: list[Field],
    ctx: Context,
    errors: list[dict[str, Any]],
) -> None:
    """Resolve ``selections`` for every parent object of one level at once.

    Each resolver is called once per parent, as in any GraphQL server; loaders are
    dispatched after the whole level has asked, which is when batching happens.
    """
    for node in selections:
        spec = SCHEMA[type_name][node.name]
        results: list[Any] = []
        for obj, _, _ in parents:
            try:
                results.append(
                    spec.resolve(obj, node.args, ctx) if spec.resolve else obj.get(node.name)
                )
            except Exception as exc:
                results.append(exc)
        for loader in ctx.loaders.values():
            loader.dispatch()
        children: list[tuple[dict[str, Any], dict[str, Any], list[Any]]] = []
        for (_, out, path), result in zip(parents, results, strict=True):
            if isinstance(result, Pending):
                result = result.error or result.value
            here = [*path, node.name]
            if isinstance(result, Exception):
                out[node.name] = None  # the field is null, the error says why and where
                errors.append(
                    {
                        "message": str(result),
                        "path": here,
                        "extensions": {"code": error_code(result)},
                    }
                )
            elif spec.type is None or result is None:
                out[node.name] = result
            elif spec.is_list:
                items = result[: node.args["first"]]
                out[node.name] = [{} for _ in items]
                children += [(item, out[node.name][i], [*here, i]) for i, item in enumerate(items)]
            else:
                out[node.name] = {}
                children.append((result, out[node.name], here))
        if children and spec.type:
            _complete(spec.type, children, node.selections, ctx, errors)


def execute(document: str, variables: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Run a query: ``{"errors": [...]}`` without data for request errors, else
    ``{"data": ...}`` plus ``errors`` for every field that failed (partial data)."""
    try:
        fields = parse(document, variables)
        check_limits(fields)
    except RequestError as exc:
        return {"errors": [{"message": str(exc)}]}
    data: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    _complete("Query", [({}, data, [])], fields, ctx, errors)
    return {"errors": errors, "data": data} if errors else {"data": data}


ORDER_HISTORY = """
query OrderHistory($id: ID!) {
  customer(id: $id) {
    orders(first: 5) {
      id
      state
      createTime
      totalCents
      lineItems(first: 10) {
        quantity
        product { name }
      }
    }
  }
}
"""


def document_id(document: str) -> str:
    """The id of an allow-listed document: the SHA-256 of its text, as in persisted queries."""
    return hashlib.sha256(document.encode()).hexdigest()


TRUSTED_DOCUMENTS = {document_id(ORDER_HISTORY): ORDER_HISTORY}


# --- HTTP: one app, three surfaces -------------------------------------------------------


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes = b""


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:16] + '"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """The weak comparison RFC 9110 prescribes for If-None-Match (W/ prefixes ignored)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in if_none_match.split(","))


def conditional(
    request: dict[str, str], body: bytes, cache_control: str, content_type: str
) -> Response:
    """A cacheable response: 304 with no body if the client already holds this version."""
    etag = etag_of(body)
    headers = {"ETag": etag, "Cache-Control": cache_control}
    if etag_matches(request.get("if-none-match"), etag):
        return Response(304, headers)
    return Response(200, {**headers, "Content-Type": content_type}, body)


def problem(status: int, title: str, detail: str, **extra: str) -> Response:
    """An RFC 9457 problem details response."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return Response(
        status, {"Content-Type": "application/problem+json", **extra}, json.dumps(body).encode()
    )


def dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


ORDERS_PATH = re.compile(r"/v1/customers/(?P<customer>[\w-]+)/orders")
LOYALTY_PATH = re.compile(r"/v1/customers/(?P<customer>[\w-]+)/loyalty")
PRODUCT_PATH = re.compile(r"/v1/products/(?P<sku>[\w-]+)")
GRAPHQL_RESPONSE = "application/graphql-response+json"


def order_resource(order: dict[str, Any], items: list[dict[str, Any]]) -> dict[str, Any]:
    """The full HTTP+JSON representation of an order (the same fields as the .proto)."""
    return {
        "name": f"customers/{order['customerId']}/orders/{order['id']}",
        "state": order["state"],
        "createTime": order["createTime"],
        "currencyCode": order["currencyCode"],
        "totalCents": order["totalCents"],
        "lineItems": items,
        "shippingAddress": order["shippingAddress"],
    }


@dataclass
class App:
    store: Store
    loyalty: Loyalty = field(default_factory=Loyalty)
    batched: bool = True

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Response:
        url = urlsplit(target)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if method == "GET" and (m := ORDERS_PATH.fullmatch(url.path)):
            return self.list_orders(m["customer"], int(query.get("page_size", 20)), headers)
        if method == "GET" and (m := LOYALTY_PATH.fullmatch(url.path)):
            return self.loyalty_points(m["customer"])
        if method == "GET" and (m := PRODUCT_PATH.fullmatch(url.path)):
            product = self.store.product(m["sku"])
            if product is None:
                return problem(404, "Not Found", f"No product {m['sku']}.")
            return conditional(headers, dumps(product), "public, max-age=3600", "application/json")
        if url.path == "/graphql" and method in ("GET", "POST"):
            return self.graphql(method, query, headers, body)
        return problem(404, "Not Found", f"No route for {method} {url.path}.")

    def list_orders(self, customer: str, page_size: int, headers: dict[str, str]) -> Response:
        if self.store.customer(customer) is None:
            return problem(404, "Not Found", f"No customer {customer}.")
        orders = self.store.orders(customer, page_size)
        items = self.store.line_items_for([o["id"] for o in orders]) if orders else {}
        page = {"orders": [order_resource(o, items[o["id"]]) for o in orders], "nextPageToken": ""}
        # private: one customer's data, never in a shared cache; no-cache: revalidate
        # every use, which costs a 304 with an empty body when nothing has changed.
        return conditional(headers, dumps(page), "private, no-cache", "application/json")

    def loyalty_points(self, customer: str) -> Response:
        try:
            points = self.loyalty.points(customer)
        except DependencyUnavailable as exc:
            return problem(503, "Service Unavailable", str(exc), **{"Retry-After": "5"})
        return Response(200, {"Content-Type": "application/json"}, dumps({"points": points}))

    def graphql(
        self, method: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> Response:
        if method == "POST":
            request = json.loads(body or b"{}")
            document, variables = request.get("query", ""), request.get("variables") or {}
        else:  # GET only for allow-listed documents, so it stays safe and cacheable
            document = TRUSTED_DOCUMENTS.get(query.get("doc", ""), "")
            variables = json.loads(query.get("variables", "{}"))
            if not document:
                return problem(404, "Not Found", "Unknown document id.")
        result = execute(document, variables, Context(self.store, self.loyalty, self.batched))
        modern = GRAPHQL_RESPONSE in headers.get("accept", "")
        content_type = GRAPHQL_RESPONSE if modern else "application/json"
        # GraphQL over HTTP: with application/json every well-formed request gets 200;
        # with the newer media type a request error (no "data") gets 400. Partial data
        # with field errors is 200 either way.
        status = 400 if modern and "data" not in result else 200
        if method == "GET" and status == 200:
            return conditional(headers, dumps(result), "private, no-cache", content_type)
        return Response(status, {"Content-Type": content_type}, dumps(result))


@contextmanager
def serve(app: App) -> Iterator[int]:
    """Run ``app`` on a real HTTP server at 127.0.0.1 and yield its port."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _dispatch(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            response = app.handle(self.command, self.path, headers, body)
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)

        do_GET = do_POST = _dispatch

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def fetch(
    port: int, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> Response:
    """One HTTP request to the local server (JSON body if ``body`` is given)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        payload = dumps(body) if body is not None else None
        sent = dict(headers or {})
        if payload is not None:
            sent["Content-Type"] = "application/json"
        conn.request(method, path, body=payload, headers=sent)
        reply = conn.getresponse()
        return Response(reply.status, dict(reply.getheaders()), reply.read())
    finally:
        conn.close()


@dataclass
class CachingClient:
    """A private HTTP cache, as in a browser or a mobile HTTP stack: freshness, then ETags.

    Counts what crossed the network: requests sent and response body bytes received.
    """

    port: int
    requests: int = 0
    body_bytes: int = 0
    entries: dict[str, tuple[Response, float]] = field(default_factory=dict)

    def get(self, path: str) -> Response:
        cached = self.entries.get(path)
        if cached:
            response, fresh_until = cached
            if time.monotonic() < fresh_until:
                return response  # fresh: no request at all
        headers = {"If-None-Match": cached[0].headers["ETag"]} if cached else {}
        reply = fetch(self.port, "GET", path, headers=headers)
        self.requests += 1
        self.body_bytes += len(reply.body)
        if reply.status == 304 and cached:
            reply = cached[0]
        if "ETag" in reply.headers:
            control = reply.headers.get("Cache-Control", "")
            max_age = re.search(r"max-age=(\d+)", control)
            ttl = 0 if "no-cache" in control or not max_age else int(max_age.group(1))
            self.entries[path] = (reply, time.monotonic() + ttl)
        return reply

    def post(self, path: str, body: Any) -> Response:
        reply = fetch(self.port, "POST", path, body)  # POST responses are not reused
        self.requests += 1
        self.body_bytes += len(reply.body)
        return reply


@dataclass(frozen=True)
class ScreenCost:
    """What one render of the mobile order-history screen cost."""

    style: str
    requests: int
    round_trips: int  # sequential: requests that can go in parallel count once
    body_bytes: int
    queries: int  # SELECT statements the server ran


def rest_screen(
    client: CachingClient, store: Store, style: str = "HTTP+JSON resources"
) -> ScreenCost:
    """The screen from resources: the orders page, then each product it mentions."""
    before = (client.requests, client.body_bytes, store.queries)
    page = json.loads(client.get("/v1/customers/c-1/orders?page_size=5").body)
    skus = sorted({item["sku"] for order in page["orders"] for item in order["lineItems"]})
    sent = client.requests
    for sku in skus:  # independent of each other: they can share one round trip
        client.get(f"/v1/products/{sku}")
    round_trips = 1 + (client.requests > sent)
    return ScreenCost(
        style,
        client.requests - before[0],
        round_trips,
        client.body_bytes - before[1],
        store.queries - before[2],
    )


def graphql_screen(
    client: CachingClient, store: Store, style: str, *, get: bool = False
) -> ScreenCost:
    """The screen from one GraphQL operation, by POST or by GET of its document id."""
    before = (client.requests, client.body_bytes, store.queries)
    variables = {"id": "c-1"}
    if get:
        client.get(
            f"/graphql?doc={document_id(ORDER_HISTORY)}&variables={quote(json.dumps(variables))}"
        )
    else:
        client.post("/graphql", {"query": ORDER_HISTORY, "variables": variables})
    return ScreenCost(
        style,
        client.requests - before[0],
        1,
        client.body_bytes - before[1],
        store.queries - before[2],
    )


def screen_contents(store: Store, orders: int = 5) -> tuple[int, int, int]:
    """What the screen shows: (orders, line items, distinct products)."""
    page = json.loads(
        App(store).handle("GET", f"/v1/customers/c-1/orders?page_size={orders}", {}, b"").body
    )
    items = [item for order in page["orders"] for item in order["lineItems"]]
    return len(page["orders"]), len(items), len({item["sku"] for item in items})


def resolver_queries(store: Store, orders: int, *, batched: bool) -> int:
    """SQL queries one run of the screen's document costs with ``orders`` orders shown."""
    document = ORDER_HISTORY.replace("orders(first: 5)", f"orders(first: {orders})")
    before = store.queries
    execute(document, {"id": "c-1"}, Context(store, Loyalty(), batched=batched))
    return store.queries - before


# --- Protobuf wire format, by hand --------------------------------------------------------


def varint(n: int) -> bytes:
    """Base-128 varint: 7 bits per byte, low groups first, high bit = more to come."""
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def key(number: int, wire_type: int) -> bytes:
    return varint(number << 3 | wire_type)


def f_int(number: int, value: int) -> bytes:
    """A varint field; proto3 does not send a scalar that holds its default (0)."""
    return key(number, 0) + varint(value) if value else b""


def f_bytes(number: int, value: bytes, *, always: bool = False) -> bytes:
    """A length-delimited field: strings, bytes, nested messages."""
    return key(number, 2) + varint(len(value)) + value if value or always else b""


def f_str(number: int, value: str) -> bytes:
    return f_bytes(number, value.encode())


def encode_order(order: dict[str, Any]) -> bytes:
    """``shop.orders.v1.Order`` from examples/api_styles.proto."""
    seconds = int(
        datetime.strptime(order["createTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
    )
    address = order["shippingAddress"]
    return b"".join(
        [
            f_str(1, order["name"]),
            f_int(2, STATES.index(order["state"])),
            f_bytes(3, f_int(1, seconds), always=True),  # google.protobuf.Timestamp
            f_str(4, order["currencyCode"]),
            f_int(5, order["totalCents"]),
            *(
                f_bytes(
                    6,
                    f_str(1, li["sku"]) + f_int(2, li["quantity"]) + f_int(3, li["unitPriceCents"]),
                    always=True,
                )
                for li in order["lineItems"]
            ),
            f_bytes(
                7, b"".join(f_str(i, address[k]) for i, k in enumerate(ADDRESS, 1)), always=True
            ),
        ]
    )


def encode_page(page: dict[str, Any]) -> bytes:
    """``ListOrdersResponse``: repeated Order orders = 1; string next_page_token = 2."""
    return b"".join(f_bytes(1, encode_order(o), always=True) for o in page["orders"]) + f_str(
        2, page["nextPageToken"]
    )


def grpc_frame(message: bytes) -> bytes:
    """gRPC's length prefix on HTTP/2: a compressed flag byte and a 4-byte big-endian length."""
    return b"\x00" + len(message).to_bytes(4, "big") + message


@dataclass(frozen=True)
class PayloadSizes:
    orders: int
    json: int
    json_gzip: int
    protobuf: int
    protobuf_gzip: int


def payload_sizes(store: Store, orders: int = 20) -> PayloadSizes:
    """The same page of full orders as compact JSON and as protobuf, raw and gzipped."""
    app = App(store)
    reply = app.handle("GET", f"/v1/customers/c-1/orders?page_size={orders}", {}, b"")
    page = json.loads(reply.body)
    binary = encode_page(page)

    def gz(data: bytes) -> int:
        return len(gzip.compress(data, compresslevel=6, mtime=0))

    return PayloadSizes(
        len(page["orders"]), len(reply.body), gz(reply.body), len(binary), gz(binary)
    )


# --- The decision matrix ------------------------------------------------------------------

STYLES = ("HTTP+JSON", "gRPC", "GraphQL")

# Each criterion: a label and a score from 1 (poor) to 5 (strong) per style. The
# scores describe the style, so they are the same in every scenario; the article
# gives the reason for each one.
CRITERIA: dict[str, tuple[str, dict[str, int]]] = {
    "reach": ("Reach with stock clients", {"HTTP+JSON": 5, "gRPC": 2, "GraphQL": 4}),
    "caching": ("HTTP caches and CDNs", {"HTTP+JSON": 5, "gRPC": 1, "GraphQL": 2}),
    "contract": ("Enforced contract, codegen", {"HTTP+JSON": 3, "gRPC": 5, "GraphQL": 4}),
    "bytes": ("Bytes and CPU per call", {"HTTP+JSON": 2, "gRPC": 5, "GraphQL": 3}),
    "shapes": ("Client-chosen shapes", {"HTTP+JSON": 2, "gRPC": 2, "GraphQL": 5}),
    "streaming": ("Streaming built in", {"HTTP+JSON": 3, "gRPC": 5, "GraphQL": 3}),
    "deadlines": ("Deadlines, cancellation", {"HTTP+JSON": 2, "gRPC": 5, "GraphQL": 2}),
    "operability": ("Errors visible to tools", {"HTTP+JSON": 5, "gRPC": 3, "GraphQL": 2}),
}

# Each scenario: how much each criterion matters there, from 0 (not at all) to 5,
# in the order of CRITERIA: reach, caching, contract, bytes, shapes, streaming,
# deadlines, operability.
SCENARIOS: dict[str, dict[str, int]] = {
    name: dict(zip(CRITERIA, weights, strict=True))
    for name, weights in {
        "Partner API": (5, 3, 4, 1, 2, 1, 1, 5),
        "Internal fan-out": (1, 1, 4, 4, 1, 2, 5, 3),
        "Mobile BFF": (3, 2, 3, 3, 5, 2, 1, 3),
    }.items()
}


def weighted_scores(
    weights: dict[str, int | float],
    criteria: dict[str, tuple[str, dict[str, int]]] = CRITERIA,
) -> dict[str, float]:
    """Each style's weighted mean score, on the same 1-to-5 scale as the scores."""
    total = sum(weights.values())
    return {
        style: sum(weights[c] * criteria[c][1][style] for c in weights) / total for style in STYLES
    }


def matrix() -> dict[str, dict[str, float]]:
    """Weighted scores for every scenario: ``{scenario: {style: score}}``."""
    return {name: weighted_scores(weights) for name, weights in SCENARIOS.items()}


def ranking(scores: dict[str, float]) -> list[str]:
    return sorted(scores, key=lambda style: -scores[style])


def break_even(scenario: str, criterion: str, a: str, b: str) -> float | None:
    """The weight of ``criterion`` at which styles ``a`` and ``b`` tie in ``scenario``.

    The weighted scores share one denominator, so the tie is where the weighted sums
    are equal, which is linear in the one weight. None when the scores on that
    criterion are equal (no weight can separate them).
    """
    weights = SCENARIOS[scenario]
    score = CRITERIA[criterion][1]
    slope = score[a] - score[b]
    if slope == 0:
        return None
    rest = sum(
        w * (CRITERIA[c][1][a] - CRITERIA[c][1][b]) for c, w in weights.items() if c != criterion
    )
    return -rest / slope


def leader(scores: dict[str, float]) -> str | None:
    """The style with the highest score, or None when two or more share it (a tie)."""
    top = max(scores.values())
    best = [style for style in STYLES if abs(scores[style] - top) < 1e-9]
    return best[0] if len(best) == 1 else None


def leaders_by_weight(scenario: str) -> dict[str, list[str | None]]:
    """For each criterion, the leader when that one weight is 0, 1, ..., 5 and the rest stay.

    ``None`` marks a tie. A weight "changes the answer" only where another style leads
    outright; a tie is where the answer stops being the matrix's and becomes yours.
    """
    return {
        criterion: [
            leader(weighted_scores({**SCENARIOS[scenario], criterion: weight}))
            for weight in range(6)
        ]
        for criterion in CRITERIA
    }


def flips(scenario: str) -> dict[str, tuple[int, str]]:
    """Criteria whose weight alone hands the lead to another style: the nearest such
    weight to the chosen one, and the style that then leads."""
    chosen = leader(matrix()[scenario])
    found: dict[str, tuple[int, str]] = {}
    for criterion, leaders in leaders_by_weight(scenario).items():
        current = SCENARIOS[scenario][criterion]
        others = [
            (abs(w - current), w, style)
            for w, style in enumerate(leaders)
            if style is not None and style != chosen
        ]
        if others:
            _, weight, style = min(others)
            found[criterion] = (weight, style)
    return found


def render_matrix() -> str:
    """The two Markdown tables the article shows: inputs, then weighted results."""
    names = list(SCENARIOS)
    lines = [
        "| Criterion | " + " | ".join(STYLES) + " | " + " | ".join(names) + " |",
        "| --- | " + " | ".join("---:" for _ in [*STYLES, *names]) + " |",
    ]
    for key_, (label, scores) in CRITERIA.items():
        cells = [str(scores[s]) for s in STYLES] + [str(SCENARIOS[n][key_]) for n in names]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "| Scenario | " + " | ".join(STYLES) + " | Leader |",
        "| --- | " + " | ".join("---:" for _ in STYLES) + " | --- |",
    ]
    for name, scores in matrix().items():
        cells = [f"{scores[s]:.2f}" for s in STYLES]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {ranking(scores)[0]} |")
    return "\n".join(lines)


# --- The demonstration --------------------------------------------------------------------


def summarize(response: Response) -> str:
    """What one response says to whoever reads more than its status code."""
    body = json.loads(response.body)
    if response.headers.get("Content-Type") == "application/problem+json":
        after = response.headers.get("Retry-After")
        return f"problem: {body['title']}" + (f", Retry-After {after}" if after else "")
    errors = body.get("errors", [])
    if "data" not in body:
        return f"no data: {errors[0]['message']}"
    paths = ", ".join(
        ".".join(map(str, e["path"])) + f": {e['extensions']['code']}" for e in errors
    )
    if errors:
        return f"partial data; {paths}"
    return f"data, no errors: {json.dumps(body['data'])}"


def main() -> None:
    """Print the measurements the article quotes."""
    store = Store()
    with serve(App(store)) as port:
        path = "/v1/customers/c-1/orders?page_size=5"
        first = fetch(port, "GET", path)
        again = fetch(port, "GET", path, headers={"If-None-Match": first.headers["ETag"]})
        store.add_order("c-1", [("BEAN-01", 2)], create_time=1_800_000_000)
        changed = fetch(port, "GET", path, headers={"If-None-Match": first.headers["ETag"]})
        print("HTTP+JSON: GET", path)
        for label, r in (("first", first), ("same ETag", again), ("after a new order", changed)):
            print(
                f"  {label:<18} {r.status}  body {len(r.body):>5,} bytes  ETag {r.headers['ETag']}"
            )

    store, loyalty = Store(), Loyalty()
    app = App(store, loyalty)
    with serve(app) as port:
        orders, items, products = screen_contents(Store())
        print(
            f"\nMobile order-history screen: {orders} orders, {items} line items,"
            f" {products} distinct products (names)"
        )
        print(f"  {'':<32}{'requests':>9}{'round trips':>12}{'body bytes':>11}{'SQL':>5}")
        rest = CachingClient(port)
        rows = [rest_screen(rest, store)]
        app.batched = False
        rows.append(graphql_screen(CachingClient(port), store, "GraphQL POST, naive resolvers"))
        app.batched = True
        post, get = CachingClient(port), CachingClient(port)
        rows.append(graphql_screen(post, store, "GraphQL POST, batched loaders"))
        graphql_screen(get, store, "", get=True)
        rows += [
            rest_screen(rest, store, "again: HTTP+JSON, client cache"),
            graphql_screen(post, store, "again: GraphQL POST"),
            graphql_screen(get, store, "again: GraphQL GET, document id", get=True),
        ]
        for r in rows:
            print(
                f"  {r.style:<32}{r.requests:>9}{r.round_trips:>12}{r.body_bytes:>11,}"
                f"{r.queries:>5}"
            )
        print(
            f"  over-fetch of the resources: {rows[0].body_bytes / rows[2].body_bytes:.1f}x"
            " the bytes the screen shows"
        )
        growth = Store()
        sizes_ = [(n, screen_contents(growth, n)[1]) for n in (3, 5, 8)]
        print("  GraphQL SQL queries as the page grows, naive vs batched:")
        print(
            "   "
            + ";".join(
                f" {n} orders, {i} items: {resolver_queries(growth, n, batched=False)}"
                f" vs {resolver_queries(growth, n, batched=True)}"
                for n, i in sizes_
            )
        )

        print("\nThe same failures, by status code and by body")
        loyalty.available = False

        def graphql(query: str, headers: dict[str, str] | None = None) -> Response:
            return fetch(port, "POST", "/graphql", {"query": query}, headers)

        modern = {"Accept": GRAPHQL_RESPONSE}
        greedy = '{ customer(id: "c-1") { orders(first: 100) { lineItems(first: 100) { sku } } } }'
        checks = [
            ("HTTP+JSON, unknown customer", fetch(port, "GET", "/v1/customers/c-9/orders")),
            ("HTTP+JSON, loyalty down", fetch(port, "GET", "/v1/customers/c-1/loyalty")),
            (
                "GraphQL, unknown customer",
                graphql('{ customer(id: "c-9") { displayName } }', modern),
            ),
            ("GraphQL, loyalty down", graphql('{ customer(id: "c-1") { loyaltyPoints } }', modern)),
        ]
        before = store.queries
        checks += [
            ("GraphQL, too costly, json", graphql(greedy)),
            ("GraphQL, too costly, +json", graphql(greedy, modern)),
        ]
        costly = store.queries - before
        for label, r in checks:
            print(f"  {label:<28} {r.status}  {summarize(r)}")
        print(f"  SQL queries run by the two costly queries: {costly}")

    sizes = payload_sizes(Store())
    print(f"\nOne page of {sizes.orders} full orders, the same fields in both encodings")
    print(f"  JSON     {sizes.json:>6,} bytes, gzip {sizes.json_gzip:>5,}")
    print(
        f"  protobuf {sizes.protobuf:>6,} bytes, gzip {sizes.protobuf_gzip:>5,}"
        "  (gRPC adds 5 bytes of framing per message)"
    )
    print(
        f"  protobuf / JSON: {sizes.protobuf / sizes.json:.0%} raw,"
        f" {sizes.protobuf_gzip / sizes.json_gzip:.0%} gzipped"
    )

    print("\nDecision matrix: scores 1-5 per style, then weights 0-5 per scenario")
    print(render_matrix())
    print("\nOne weight moved over 0-5, the other seven kept: criteria that change the leader")
    for scenario in SCENARIOS:
        changed = flips(scenario)
        ties = {
            c: " or ".join(str(w) for w, style in enumerate(leaders) if style is None)
            for c, leaders in leaders_by_weight(scenario).items()
            if c not in changed and None in leaders
        }
        print(
            f"  {scenario:<17} {len(changed)} of {len(CRITERIA)}"
            + (
                f"; {len(ties)} more only tie: " + ", ".join(f"{c} at {w}" for c, w in ties.items())
                if ties
                else ""
            )
        )
    print("Mobile BFF, nearest weight at which another style leads:")
    for criterion, (weight, style) in flips("Mobile BFF").items():
        chosen = SCENARIOS["Mobile BFF"][criterion]
        print(f"  {CRITERIA[criterion][0]:<27} {chosen} -> {weight}: {style}")
    tie = break_even("Mobile BFF", "shapes", "GraphQL", "HTTP+JSON")
    one_team = weighted_scores({**SCENARIOS["Mobile BFF"], "shapes": 3})
    print(f"Client-chosen shapes at {tie:.0f}: HTTP+JSON and GraphQL tie")
    print(
        "Client-chosen shapes at 3: "
        + ", ".join(f"{style} {one_team[style]:.2f}" for style in ranking(one_team))
    )


if __name__ == "__main__":
    main()
