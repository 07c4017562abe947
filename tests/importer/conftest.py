"""Fixtures of the importer tests: a fresh store (SQLite and PostgreSQL) and export files."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from tgstats.store import Store, open_store

DATA = Path(__file__).parent / "data"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An empty store on SQLite and on PostgreSQL (a throwaway schema, dropped after)."""
    if request.param == "sqlite":
        opened = open_store(f"sqlite:///{tmp_path / 'store.db'}")
        yield opened
        opened.close()
        return
    base: str = request.getfixturevalue("pg_url")
    schema = f"imp_{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(base)
    with admin.begin() as connection:
        connection.execute(sqlalchemy.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    opened = open_store(f"{base}{sep}options=-csearch_path%3D{schema}")
    try:
        yield opened
    finally:
        opened.close()
        with admin.begin() as connection:
            connection.execute(sqlalchemy.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def single_chat() -> Path:
    """The hand-written export with every message shape (tests/importer/data)."""
    return DATA / "single_chat.json"


@pytest.fixture
def write_export(tmp_path: Path) -> Callable[[Any, str], Path]:
    """Write ``obj`` as an export file (or ``str`` as raw text) and return its path."""

    def write(obj: Any, name: str = "result.json") -> Path:
        path = tmp_path / name
        text = obj if isinstance(obj, str) else json.dumps(obj, ensure_ascii=False, indent=1)
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def text_message() -> Callable[..., dict[str, Any]]:
    """A builder of one export message shaped like Telegram Desktop writes it."""
    return _text_message


def _text_message(message_id: int, user: int, text: Any, unix: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": message_id,
        "type": "message",
        "date": "2024-05-01T12:00:00",
        "date_unixtime": str(unix),
        "from": f"User {user}",
        "from_id": f"user{user}",
        "text": text,
        "text_entities": [],
        **extra,
    }
