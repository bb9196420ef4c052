"""The shared kernel's database: one SQLite connection, one transaction at a time.

Every module receives the same ``Database`` and owns its own tables (named
after the module). Facade calls made inside ``transaction()`` join the
caller's transaction, so one business operation can span several modules and
still commit or roll back as a whole.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class SimulatedCrash(RuntimeError):
    """The process died: raised by the fault-injection point after a commit."""


class Database:
    """A connection with nested transactions and after-commit callbacks."""

    def __init__(self, path: str = ":memory:") -> None:
        # check_same_thread=False: the loopback HTTP demo serves from another thread.
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._depth = 0
        self._after_commit: list[Callable[[], None]] = []
        self.crash_after_next_commit = False  # fault injection for the demo and the tests

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run a block in the current transaction, or start one if there is none."""
        outer = self._depth == 0
        if outer:
            self.conn.execute("BEGIN")
        self._depth += 1
        try:
            yield self.conn
        except BaseException:
            self._depth -= 1
            if outer:
                self.conn.execute("ROLLBACK")
                self._after_commit.clear()
            raise
        self._depth -= 1
        if outer:
            self.conn.execute("COMMIT")
            callbacks, self._after_commit = self._after_commit, []
            if self.crash_after_next_commit:
                self.crash_after_next_commit = False
                raise SimulatedCrash("process died after COMMIT, before after-commit work")
            for callback in callbacks:
                callback()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once the current transaction commits (now, if there is none)."""
        if self._depth == 0:
            callback()
        else:
            self._after_commit.append(callback)
