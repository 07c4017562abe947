"""Fixtures shared by every host test area (each area has its own conftest too)."""

from __future__ import annotations

import contextlib
import os
import sys
import uuid
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path

import pytest
import sqlalchemy
from tgstats.store import Store, open_store

# Fixtures of the plugin-host areas (host, hotreload, cli, config, bot), kept in
# modules of their own so test modules can import their helper types too.
from .fake_dists import (
    empty_host_config,
    make_dist,
    plugin_source,
    run_tgstats,
    site_dir,
    unique_name,
    write_config,
)
from .plugin_env import plugin_env, started

__all__ = [
    "empty_host_config",
    "make_dist",
    "plugin_env",
    "plugin_source",
    "run_tgstats",
    "site_dir",
    "started",
    "unique_name",
    "write_config",
]

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


@contextlib.contextmanager
def fresh_schema(base: str) -> Iterator[str]:
    """A URL of ``base`` whose ``search_path`` is a new, empty schema, dropped afterwards,
    so tests never see each other's rows (nor the server's public schema)."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(base)
    with admin.begin() as connection:
        connection.execute(sqlalchemy.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(sqlalchemy.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def pg_store_url(pg_url: str) -> Iterator[str]:
    """An empty PostgreSQL database (a fresh schema) for PostgreSQL-only tests."""
    with fresh_schema(pg_url) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database of each kind (store and importer tests run on both)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    with fresh_schema(request.getfixturevalue("pg_url")) as url:
        yield url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """An empty store on each database kind (areas with SQLite-only needs override it)."""
    opened = open_store(store_url)
    try:
        yield opened
    finally:
        opened.close()


# The installed plugins' top-level packages, as at the start of the session.
_INSTALLED_PLUGIN_PACKAGES = frozenset(
    ep.module.partition(".")[0] for ep in entry_points(group="tgstats.plugins")
)


@pytest.fixture(autouse=True)
def _keep_installed_plugin_modules() -> Iterator[None]:
    """Put the installed plugins' modules back in sys.modules after each test.

    A test that runs the real plugin manager in-process (the demo, a failed
    load) purges a plugin's modules, as a reload does.  Later tests, the
    plugins' own among them, must still see the classes their modules
    imported at collection, not a second copy from a fresh import.
    """

    def installed(name: str) -> bool:
        return name.partition(".")[0] in _INSTALLED_PLUGIN_PACKAGES

    before = {name: module for name, module in sys.modules.items() if installed(name)}
    yield
    for name in [name for name in sys.modules if installed(name) and name not in before]:
        del sys.modules[name]
    sys.modules.update(before)
