"""The message store: schema, recorder (write side) and the query API (read side).

CONTRACT (implementation owned by the message-store work):

    store = open_store("sqlite:///tgstats.db")   # or postgresql+psycopg://...
    store.queries                                 # MessageQueries, for plugins
    store.record_message(message)                 # telegram.Message; new or edited
    store.record_reaction_count(update)           # telegram.MessageReactionCountUpdated
    store.migrate_chat(old_chat_id, new_chat_id)  # group -> supergroup keeps history
    store.opt_out(chat_id, user_id) -> int        # deletes their messages, stops recording
    store.opt_in(chat_id, user_id)
    with store.bulk() as batch:                   # one transaction (importer)
        batch.upsert_chat(ChatInfo); batch.upsert_users([...]); batch.add_messages([...])
    store.export(chat_id=None) -> Iterator[dict]  # JSON-ready rows, ISO 8601 UTC dates
    store.close()

``open_store`` creates the schema on first use, records a schema version and
raises StoreError with one clear line when the database is unreachable.
"""
