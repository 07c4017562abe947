"""Secrets the bot keeps in its own store, so they survive restarts and are shared by N workers.

Today there is one: the key that signs inline buttons' callback data
(:mod:`tgstats.host.callbacks`).  Kept in the database rather than a file so
every webhook worker on the same database signs and checks alike, and a
button sent before a restart still works after it.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.engine import Engine

from tgstats.store.schema import bot_secrets
from tgstats.store.upserts import insert_ignore

__all__ = ["BUTTON_KEY", "get_or_create_secret"]

BUTTON_KEY = "button_key"


def get_or_create_secret(engine: Engine, name: str, *, nbytes: int = 32) -> bytes:
    """The secret ``name``, created (random, ``nbytes``) on first use.

    Two workers starting at once may both try to create it: the insert is
    ignored on conflict and both read back the one that won.
    """
    with engine.begin() as connection:
        connection.execute(
            insert_ignore(connection, bot_secrets),
            {"name": name, "value": secrets.token_hex(nbytes)},
        )
        value = connection.execute(
            select(bot_secrets.c.value).where(bot_secrets.c.name == name)
        ).scalar_one()
    return bytes.fromhex(value)
