"""Fixtures for the worked examples' tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.postgres import running_postgres


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    """A libpq connection string to a PostgreSQL server started for this test session."""
    with running_postgres() as conninfo:
        yield conninfo
