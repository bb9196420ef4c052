"""Serve a built handbook on 127.0.0.1 the way Read the Docs serves it.

The site appears under the path of ``html_baseurl`` (``/en/latest/``), and
every missing address is answered with ``404.html`` and status 404. With
``compress``, responses are gzip-compressed for clients that accept it, as a
production host sends them. Used by the browser tests (``tests/browser/``)
and by ``tools/lighthouse.py``; standard library only.
"""

from __future__ import annotations

import gzip
import http.server
import mimetypes
import sys
import threading
from pathlib import Path
from urllib.parse import unquote, urlsplit


def sent_size(body: bytes) -> int:
    """Bytes a compressing web server sends for ``body``: gzip at level 6, or the
    body as it is when gzip cannot shrink it (an image already compressed)."""
    return min(len(body), len(gzip.compress(body, 6)))


class SiteHandler(http.server.BaseHTTPRequestHandler):
    """Answer GET requests from a built site; configured by :func:`serve`."""

    root: Path
    prefix: str
    compress: bool

    def do_GET(self) -> None:
        """Send the file, or the 404 page with status 404."""
        path = unquote(urlsplit(self.path).path)
        target = None
        if path.startswith(self.prefix):
            candidate = (self.root / path[len(self.prefix) :]).resolve()
            if candidate.is_dir():
                candidate = candidate / "index.html"
            if candidate.is_file() and candidate.is_relative_to(self.root):
                target = candidate
        status = 200 if target else 404
        target = target or self.root / "404.html"
        body = target.read_bytes()
        self.send_response(status)
        self.send_header(
            "Content-Type", mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        )
        if self.compress and "gzip" in self.headers.get("Accept-Encoding", ""):
            body = gzip.compress(body, 6)
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Stay quiet."""


class SiteServer(http.server.ThreadingHTTPServer):
    """A threading server that stays quiet when a browser drops a connection."""

    def handle_error(self, request: object, client_address: object) -> None:
        """Ignore a client that went away mid-answer (a cancelled lazy image); report the rest."""
        if isinstance(sys.exception(), ConnectionError):
            return
        super().handle_error(request, client_address)


def serve(site: Path, prefix: str, *, compress: bool = False) -> SiteServer:
    """Serve ``site`` under ``prefix`` on a free port of 127.0.0.1, in a background thread.

    Stop it with ``shutdown()`` and ``server_close()``.
    """
    settings = {"root": site.resolve(), "prefix": prefix, "compress": compress}
    handler = type("Handler", (SiteHandler,), settings)
    server = SiteServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
