"""The message store: schema, recorder (write side) and the query API (read side).

The whole API, at a glance:

    store = open_store("sqlite:///tgstats.db")   # or postgresql+psycopg://...
    store.queries                                 # MessageQueries, for plugins
    store.record_message(message)                 # telegram.Message; new or edited
    store.record_reaction_count(update)           # telegram.MessageReactionCountUpdated
    store.record_reaction(update)                 # telegram.MessageReactionUpdated, once
    store.record_reaction_change(update)          # the same, returning what changed
    store.record_member_changes(item)             # joins/leaves of a Message or ChatMemberUpdated
    store.migrate_chat(old_chat_id, new_chat_id)  # group -> supergroup keeps history
    store.erase_member(user_id, chat_ids) -> Erased  # everything of theirs; None = every chat
    store.opt_out(chat_id, user_id) -> int        # erase_member in one chat: messages deleted
    store.opt_in(chat_id, user_id)                # record again from now on (None = every chat)
    with store.bulk() as batch:                   # one transaction (importer)
        batch.upsert_chat(ChatInfo); batch.upsert_users([...]); batch.add_messages([...])
        batch.add_users([...])                    # only users not stored yet (import)
    store.export(chat_id=None) -> Iterator[dict]  # JSON-ready rows, ISO 8601 UTC dates
    # Statistics aggregates, kept on every write above (tgstats.store.aggregates);
    # tgstats.store.rebuild.verify(connection) / rebuild(connection) recompute them.
    store.close()

``open_store`` creates the schema on first use, records a schema version and
raises StoreError with one clear line when the database is unreachable.
``default_db_url(explicit)`` resolves argument > $TGSTATS_DB > sqlite:///tgstats.db.
"""

from __future__ import annotations

from tgstats.store.database import DEFAULT_DB_URL, Store, default_db_url, open_store, safe_url
from tgstats.store.queries import (
    ChatInfo,
    MessageQueries,
    MessageRow,
    ReplyPair,
    UserActivity,
    UserInfo,
)
from tgstats.store.schema import SCHEMA_VERSION

__all__ = [
    "DEFAULT_DB_URL",
    "SCHEMA_VERSION",
    "ChatInfo",
    "MessageQueries",
    "MessageRow",
    "ReplyPair",
    "Store",
    "UserActivity",
    "UserInfo",
    "default_db_url",
    "open_store",
    "safe_url",
]
