"""Fixtures shared by every host test area (each area has its own conftest too)."""

from __future__ import annotations

import os

import pytest

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="session")
def pg_url() -> str:
    """URL of the PostgreSQL server the postgres tests use.

    In CI (CI=true) an unreachable server fails the run instead of skipping,
    because the PostgreSQL tests must really run there.
    """
    url = os.environ.get("TGSTATS_TEST_PG_URL", DEFAULT_PG_URL)
    import sqlalchemy

    try:
        engine = sqlalchemy.create_engine(url)
        with engine.connect():
            pass
        engine.dispose()
    except Exception as error:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL at {url} is unreachable in CI: {error}")
        pytest.skip(f"PostgreSQL at {url} is unreachable: {error}")
    return url
