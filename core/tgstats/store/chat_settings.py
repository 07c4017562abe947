"""The per-chat settings tables: what a chat's admins chose, read and written.

This module only stores: values are JSON, keys are opaque strings, and
:mod:`tgstats.host.chat_settings` decides what is valid.  Reads go through a
short cache (invalidated on this process's own writes), because every command
and every statistics query asks for its chat's settings; several webhook
workers share one database, so a value set through another worker shows up
here within :data:`CACHE_SECONDS`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

import attrs
from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine

from tgstats.store.schema import chat_excluded_users, chat_settings
from tgstats.store.upserts import insert_ignore, upsert

__all__ = [
    "CACHE_SECONDS",
    "MAX_EXCLUDED",
    "MAX_VALUE_BYTES",
    "ChatSettingsStore",
    "StoredSetting",
    "StoredSettings",
]

CACHE_SECONDS = 5.0
# Bounds, so a hostile admin (or a bug) cannot grow a chat's rows without end.
MAX_VALUE_BYTES = 1024
MAX_KEY_CHARS = 128
MAX_EXCLUDED = 1000


@attrs.frozen
class StoredSetting:
    """One stored value and who set it when (unix seconds; user id or None for the CLI)."""

    value: Any
    updated_at: int
    updated_by: int | None


@attrs.frozen
class StoredSettings:
    """Everything stored for one chat."""

    chat_id: int
    values: Mapping[str, StoredSetting] = attrs.field(factory=dict)
    excluded: frozenset[int] = frozenset()


class ChatSettingsStore:
    """Reads and writes ``chat_settings`` and ``chat_excluded_users`` of one database."""

    def __init__(self, engine: Engine, *, cache_seconds: float = CACHE_SECONDS) -> None:
        self._engine = engine
        self._cache_seconds = cache_seconds
        self._cache: dict[int, tuple[float, StoredSettings]] = {}
        self._lock = threading.Lock()

    # -- reading ---------------------------------------------------------------

    def load(self, chat_id: int) -> StoredSettings:
        """The chat's stored settings (cached for a few seconds)."""
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(chat_id)
        if hit is not None and now - hit[0] < self._cache_seconds:
            return hit[1]
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(
                    chat_settings.c.key,
                    chat_settings.c.value,
                    chat_settings.c.updated_at,
                    chat_settings.c.updated_by,
                ).where(chat_settings.c.chat_id == chat_id)
            ).all()
            excluded = connection.execute(
                select(chat_excluded_users.c.user_id).where(
                    chat_excluded_users.c.chat_id == chat_id
                )
            ).scalars()
            loaded = StoredSettings(
                chat_id=chat_id,
                values={
                    key: StoredSetting(_loads(value), int(at), by) for key, value, at, by in rows
                },
                excluded=frozenset(int(user_id) for user_id in excluded),
            )
        with self._lock:
            if len(self._cache) > 10_000:  # many chats: start over rather than grow
                self._cache.clear()
            self._cache[chat_id] = (now, loaded)
        return loaded

    def cached(self, chat_id: int) -> StoredSettings | None:
        """The cached copy if it is fresh, without touching the database (safe on the loop)."""
        with self._lock:
            hit = self._cache.get(chat_id)
        if hit is not None and time.monotonic() - hit[0] < self._cache_seconds:
            return hit[1]
        return None

    def excluded_ids(self, chat_id: int) -> frozenset[int]:
        """Members left out of the chat's statistics: the filter every query applies."""
        return self.load(chat_id).excluded

    def chats(self) -> list[int]:
        """Every chat with at least one stored setting or excluded member."""
        with self._engine.connect() as connection:
            ids = set(connection.execute(select(chat_settings.c.chat_id).distinct()).scalars())
            ids |= set(
                connection.execute(select(chat_excluded_users.c.chat_id).distinct()).scalars()
            )
        return sorted(int(chat_id) for chat_id in ids)

    def chats_with_key_prefix(self, prefix: str) -> list[int]:
        """Chats that store a key starting with ``prefix`` (e.g. a disabled plugin)."""
        with self._engine.connect() as connection:
            ids = connection.execute(
                select(chat_settings.c.chat_id)
                .where(chat_settings.c.key.startswith(prefix, autoescape=True))
                .distinct()
            ).scalars()
            return sorted(int(chat_id) for chat_id in ids)

    def export_rows(self, chat_id: int | None = None) -> Iterator[dict[str, Any]]:
        """One JSON-ready object per chat: its settings and its excluded members."""
        chat_ids = self.chats() if chat_id is None else [chat_id]
        for cid in chat_ids:
            stored = self.load(cid)
            if not stored.values and not stored.excluded:
                continue
            yield {
                "chat_id": cid,
                "settings": {key: item.value for key, item in sorted(stored.values.items())},
                "excluded_user_ids": sorted(stored.excluded),
            }

    # -- writing ---------------------------------------------------------------

    def set_value(self, chat_id: int, key: str, value: Any, *, by: int | None) -> None:
        """Store ``value`` (JSON-able) under ``key``, replacing any earlier one."""
        if not key or len(key) > MAX_KEY_CHARS:
            raise ValueError(f"setting key: expected 1-{MAX_KEY_CHARS} characters, got {key!r}")
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        if len(text.encode()) > MAX_VALUE_BYTES:
            raise ValueError(f"setting {key}: the value is over {MAX_VALUE_BYTES} bytes")
        with self._engine.begin() as connection:
            connection.execute(
                upsert(connection, chat_settings, ["value", "updated_at", "updated_by"]),
                {
                    "chat_id": chat_id,
                    "key": key,
                    "value": text,
                    "updated_at": int(time.time()),
                    "updated_by": by,
                },
            )
        self.forget(chat_id)

    def unset(self, chat_id: int, key: str) -> bool:
        """Remove the chat's own value for ``key`` (the layers below apply again)."""
        with self._engine.begin() as connection:
            result = connection.execute(
                delete(chat_settings).where(
                    chat_settings.c.chat_id == chat_id, chat_settings.c.key == key
                )
            )
        self.forget(chat_id)
        return bool(result.rowcount)

    def exclude(self, chat_id: int, user_id: int, *, by: int | None) -> bool:
        """Leave ``user_id`` out of the chat's statistics; False if already excluded.

        Raises ValueError past :data:`MAX_EXCLUDED` members per chat."""
        with self._engine.begin() as connection:
            known = connection.execute(
                select(chat_excluded_users.c.user_id).where(
                    chat_excluded_users.c.chat_id == chat_id,
                    chat_excluded_users.c.user_id == user_id,
                )
            ).first()
            if known is not None:
                return False
            count = connection.execute(
                select(func.count()).where(chat_excluded_users.c.chat_id == chat_id)
            ).scalar_one()
            if count >= MAX_EXCLUDED:
                raise ValueError(f"at most {MAX_EXCLUDED} members can be excluded in one chat")
            # Ignore a concurrent insert of the same member (another worker).
            connection.execute(
                insert_ignore(connection, chat_excluded_users),
                {
                    "chat_id": chat_id,
                    "user_id": user_id,
                    "since": int(time.time()),
                    "excluded_by": by,
                },
            )
        self.forget(chat_id)
        return True

    def include(self, chat_id: int, user_id: int) -> bool:
        """Count ``user_id`` again; False if they were not excluded."""
        with self._engine.begin() as connection:
            result = connection.execute(
                delete(chat_excluded_users).where(
                    chat_excluded_users.c.chat_id == chat_id,
                    chat_excluded_users.c.user_id == user_id,
                )
            )
        self.forget(chat_id)
        return bool(result.rowcount)

    def forget(self, chat_id: int | None = None) -> None:
        """Drop the cached copy of one chat (or of all): the next read goes to the database."""
        with self._lock:
            if chat_id is None:
                self._cache.clear()
            else:
                self._cache.pop(chat_id, None)


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None  # written by something else; validation drops it with a log line
