"""The rules that keep erased members out: opt-outs and tombstones, read as one mapping.

``skip_rules(connection, chat_ids)`` gives ``(chat_id, user_id) -> skip_before``:
a message (or a join, leave or reaction) of that member in that chat dated
before ``skip_before`` is not stored.  An opt-out in force is
:data:`SKIP_ALL`, later than any date, so the recorder, the importer and the
member events share one comparison.  (Written by tgstats.store.erasure; kept
apart from it so the event modules can read it without an import cycle.)
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy
from sqlalchemy import BigInteger, literal, select, union_all
from sqlalchemy.engine import Connection

from tgstats.store.schema import opt_outs, tombstones

__all__ = ["SKIP_ALL", "skip_rules"]

# Later than any date Telegram can send: "skip every message" (an opt-out in force).
SKIP_ALL = 2**63 - 1

# Built once: the recorder runs it per batch.
_CHATS: sqlalchemy.BindParameter[list[int]] = sqlalchemy.bindparam("chats", expanding=True)
_SKIPS_IN_CHATS = union_all(
    select(
        opt_outs.c.chat_id, opt_outs.c.user_id, literal(SKIP_ALL, BigInteger).label("skip_before")
    ).where(opt_outs.c.chat_id.in_(_CHATS)),
    select(tombstones.c.chat_id, tombstones.c.user_id, tombstones.c.skip_before).where(
        tombstones.c.chat_id.in_(_CHATS)
    ),
)


def skip_rules(connection: Connection, chat_ids: Sequence[int]) -> dict[tuple[int, int], int]:
    """``(chat_id, user_id) -> skip_before`` for the opt-outs and tombstones of ``chat_ids``."""
    rules: dict[tuple[int, int], int] = {}
    if not chat_ids:
        return rules
    for chat_id, user_id, skip_before in connection.execute(_SKIPS_IN_CHATS, {"chats": chat_ids}):
        key = (chat_id, user_id)
        rules[key] = max(rules.get(key, 0), int(skip_before))
    return rules
