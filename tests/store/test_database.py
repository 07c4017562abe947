"""Opening the store: schema and version, reopening, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy
from tgstats.errors import StoreError
from tgstats.store import SCHEMA_VERSION, Store, default_db_url, open_store
from tgstats.testing import fill_store, make_chat, make_message, make_user


def test_schema_and_version_are_created(store: Store) -> None:
    inspector = sqlalchemy.inspect(store.engine)
    tables = set(inspector.get_table_names())
    assert {"messages", "chats", "users", "opt_outs", "chat_migrations"} <= tables
    with store.engine.connect() as connection:
        versions = connection.execute(
            sqlalchemy.text("SELECT version FROM tgstats_schema_version")
        ).scalars()
        assert list(versions) == [SCHEMA_VERSION]
    indexes = {ix["name"] for ix in inspector.get_indexes("messages")}
    assert {"ix_messages_chat_date", "ix_messages_chat_user_date", "ix_messages_chat_reply"} <= (
        indexes
    )


def test_reopening_keeps_data_and_version(store_url: str) -> None:
    first = open_store(store_url)
    fill_store(first, [make_message(make_chat(), make_user(1, "A"), "kept")])
    first.close()
    again = open_store(store_url)
    try:
        assert [m.text for m in again.queries.messages(make_chat().id)] == ["kept"]
        with again.engine.connect() as connection:
            rows = connection.execute(
                sqlalchemy.text("SELECT count(*) FROM tgstats_schema_version")
            ).scalar_one()
        assert rows == 1
    finally:
        again.close()


def test_newer_schema_is_refused(store_url: str) -> None:
    open_store(store_url).close()
    engine = sqlalchemy.create_engine(store_url)
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text("UPDATE tgstats_schema_version SET version = 999"))
    engine.dispose()
    with pytest.raises(StoreError, match="schema version 999 is newer"):
        open_store(store_url)


def test_sqlite_pragmas(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'p.db'}")
    try:
        with store.engine.connect() as connection:
            pragma = lambda name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
            assert pragma("journal_mode") == "wal"
            assert pragma("synchronous") == 2  # FULL: a confirmed commit survives a power cut
            assert pragma("foreign_keys") == 1
    finally:
        store.close()


@pytest.mark.postgres
def test_postgres_commits_are_durable(pg_store_url: str) -> None:
    """The bot confirms an update to Telegram once its commit returns: that
    commit must survive a server crash, so synchronous_commit is never off."""
    store = open_store(pg_store_url)
    plain = sqlalchemy.create_engine(pg_store_url)
    try:
        with store.engine.connect() as connection:
            ours = connection.exec_driver_sql("SHOW synchronous_commit").scalar()
        with plain.connect() as connection:
            default = connection.exec_driver_sql("SHOW synchronous_commit").scalar()
        assert ours == default  # the server's setting, untouched
        assert ours != "off"
        with store.engine.connect() as connection:
            assert connection.exec_driver_sql("SHOW jit").scalar() == "off"
    finally:
        store.close()
        plain.dispose()


def test_unreachable_postgres_is_one_line_without_password() -> None:
    url = "postgresql+psycopg://bob:s3cretpw@127.0.0.1:1/nodb"
    with pytest.raises(StoreError) as caught:
        open_store(url)
    message = str(caught.value)
    assert "\n" not in message
    assert "s3cretpw" not in message
    assert message.startswith("cannot open the message store at postgresql+psycopg://bob:***@")


def test_unopenable_sqlite_file(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="unable to open database file"):
        open_store(f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("not a url", "invalid database URL"),
        ("mysql://u:pw@localhost/db", "unsupported database 'mysql'"),
    ],
)
def test_bad_urls(url: str, expected: str) -> None:
    with pytest.raises(StoreError, match=expected) as caught:
        open_store(url)
    assert "pw" not in str(caught.value)


def test_default_db_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TGSTATS_DB", raising=False)
    assert default_db_url(None) == "sqlite:///tgstats.db"
    monkeypatch.setenv("TGSTATS_DB", "sqlite:///env.db")
    assert default_db_url(None) == "sqlite:///env.db"
    assert default_db_url("sqlite:///arg.db") == "sqlite:///arg.db"
