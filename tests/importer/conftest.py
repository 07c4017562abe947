"""Fixtures of the importer tests: export files (``store``, on SQLite and PostgreSQL,
comes from tests/conftest.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).parent / "data"


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
