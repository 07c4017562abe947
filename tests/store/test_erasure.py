"""Store.erase_member: what /optout and /forgetme remove, and the tombstones that keep it removed.

Every test runs on SQLite and PostgreSQL (the ``store`` fixture).  Rows are
checked in the tables themselves, not through the query API, so a column
nobody queries cannot keep what should be gone.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy
from tgstats.importer import import_export
from tgstats.store import Store
from tgstats.store.rejected import keep_rejected, list_rejected, mark_answered
from tgstats.store.schema import (
    answered_commands,
    member_events,
    opt_outs,
    reactions,
    tombstones,
    users,
)
from tgstats.testing import fill_store, make_chat, make_message, make_reaction, make_user

GROUP = make_chat(-1001000000800, "Erasure group")
OTHER = make_chat(-1001000000900, "Other group")
ALICE = make_user(31, "Alice", last_name="Hidden", username="alice_h")
BOB = make_user(32, "Bob", username="bob")


def table(store: Store, which: sqlalchemy.Table) -> list[tuple[Any, ...]]:
    with store.engine.connect() as connection:
        return sorted(tuple(row) for row in connection.execute(sqlalchemy.select(which)))


def users_ids(store: Store) -> list[int]:
    return [row[0] for row in table(store, users)]


def rejected_update(update_id: int, chat_id: int, user_id: int) -> str:
    """Raw JSON of an update as Telegram sends it (rejected, say, for a bad date)."""
    return json.dumps(
        {
            "update_id": update_id,
            "message": {
                "message_id": 99,
                "date": 1,
                "chat": {"id": chat_id, "type": "supergroup", "title": "x"},
                "from": {"id": user_id, "is_bot": False, "first_name": "Someone"},
                "text": "a message from 1970",
            },
        }
    )


def test_optout_in_one_chat_removes_what_identifies_them_there(store: Store) -> None:
    fill_store(
        store,
        [
            make_message(GROUP, ALICE, "secret one", message_id=1),
            make_message(GROUP, ALICE, "/heatmap", message_id=2),
            make_message(GROUP, BOB, "/heatmap", message_id=3),
            make_message(OTHER, ALICE, "still here", message_id=1),
        ],
    )
    for chat, message_id in ((GROUP.id, 2), (GROUP.id, 3), (OTHER.id, 1)):
        mark_answered(store.engine, chat, message_id)
    keep_rejected(store.engine, 501, rejected_update(501, GROUP.id, ALICE.id), "out of range")
    keep_rejected(store.engine, 502, rejected_update(502, OTHER.id, ALICE.id), "out of range")
    keep_rejected(store.engine, 503, rejected_update(503, GROUP.id, BOB.id), "out of range")
    # Cut at the size cap, so not JSON: matched on "id": <user id>.
    cut = rejected_update(504, GROUP.id, ALICE.id)[:-20] + "... [truncated, 99999 characters]"
    keep_rejected(store.engine, 504, cut, "cannot parse")

    erased = store.erase_member(ALICE.id, [GROUP.id])

    assert (erased.messages, erased.answered_commands, erased.rejected_updates) == (2, 1, 2)
    assert erased.chats == (GROUP.id,)
    assert [r.text for r in store.queries.messages(GROUP.id)] == ["/heatmap"]  # Bob's
    assert [(c, m) for c, m, _ in table(store, answered_commands)] == [
        (OTHER.id, 1),
        (GROUP.id, 3),
    ]
    assert sorted(r.update_id for r in list_rejected(store.engine)) == [502, 503]
    # Another chat still shows her messages, so her name stays there.
    assert not erased.user_row
    assert users_ids(store) == [ALICE.id, BOB.id]
    assert store.queries.count_messages(OTHER.id, user_id=ALICE.id) == 1
    assert [(c, u) for c, u, _ in table(store, opt_outs)] == [(GROUP.id, ALICE.id)]
    ((chat, user, skip_before),) = table(store, tombstones)
    assert (chat, user) == (GROUP.id, ALICE.id)
    assert abs(skip_before - time.time()) < 60


def test_last_chat_takes_the_users_row_with_it(store: Store) -> None:
    fill_store(store, [make_message(GROUP, ALICE, "hi"), make_message(GROUP, BOB, "yo")])
    erased = store.erase_member(ALICE.id, [GROUP.id])
    assert erased.user_row
    assert users_ids(store) == [BOB.id]
    assert store.queries.find_user(GROUP.id, "alice_h") is None


def test_forget_everywhere_covers_every_chat_and_private_commands(store: Store) -> None:
    group = make_chat(-4200, "Old group", type="group")
    supergroup = make_chat(-1004200, "Old group")
    fill_store(
        store,
        [
            make_message(group, ALICE, "before the migration", message_id=1),
            make_message(GROUP, ALICE, "a", message_id=5),
            make_message(OTHER, ALICE, "b", message_id=6),
            make_message(OTHER, BOB, "b", message_id=7),
        ],
    )
    store.migrate_chat(group.id, supergroup.id)
    mark_answered(store.engine, ALICE.id, 1)  # a command sent to the bot directly
    mark_answered(store.engine, BOB.id, 1)

    erased = store.erase_member(ALICE.id, None)

    assert erased.messages == 3 and erased.user_row
    # Opted out wherever she was seen, and in the supergroup her old group became.
    assert set(erased.chats) == {group.id, supergroup.id, GROUP.id, OTHER.id}
    assert {c for c, u, _ in table(store, opt_outs) if u == ALICE.id} == set(erased.chats)
    assert {c for c, u, _ in table(store, tombstones) if u == ALICE.id} == set(erased.chats)
    assert users_ids(store) == [BOB.id]
    assert [c for c, _, _ in table(store, answered_commands)] == [BOB.id]
    for chat in (group, supergroup, GROUP, OTHER):
        assert store.queries.count_messages(chat.id, user_id=ALICE.id) == 0
        later = make_message(chat, ALICE, "later", message_id=50, date=datetime.now(UTC))
        assert store.record_message(later) is False
    assert users_ids(store) == [BOB.id]


def test_opt_in_writes_the_name_again_from_now_on(store: Store) -> None:
    fill_store(store, [make_message(GROUP, ALICE, "first")])
    store.erase_member(ALICE.id, None)
    assert store.opt_in(None, ALICE.id) is True
    assert store.opt_in(None, ALICE.id) is False  # nothing left to opt in to
    # The store's cache of written users must not think her row still exists.
    now = datetime.now(UTC)
    assert store.record_message(make_message(GROUP, ALICE, "back", message_id=9, date=now))
    assert store.queries.find_user(GROUP.id, "alice_h") is not None
    assert not store.is_opted_out(GROUP.id, ALICE.id)
    assert [c for c, u, _ in table(store, tombstones)] == [GROUP.id]  # survives /optin


def export_of(chat_id: int, rows: list[tuple[int, int, int, str]]) -> dict[str, Any]:
    """A Telegram Desktop export of a supergroup: (message id, user id, unix time, text)."""
    return {
        "name": "Erasure group",
        "type": "private_supergroup",
        "id": int(str(chat_id).removeprefix("-100")),
        "messages": [
            {
                "id": message_id,
                "type": "message",
                "date": datetime.fromtimestamp(unix, UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                "date_unixtime": str(unix),
                "from": f"User {user}",
                "from_id": f"user{user}",
                "text": text,
                "text_entities": [{"type": "plain", "text": text}],
            }
            for message_id, user, unix, text in rows
        ],
    }


def write_export(folder: Path, export: dict[str, Any]) -> Path:
    path = folder / f"result{len(list(folder.iterdir()))}.json"
    path.write_text(json.dumps(export), encoding="utf-8")
    return path


def test_import_after_optout_and_optin_brings_nothing_back(store: Store, tmp_path: Path) -> None:
    old = int(datetime(2026, 1, 1, 12, tzinfo=UTC).timestamp())
    fill_store(
        store,
        [
            make_message(GROUP, ALICE, "old secret", message_id=1, date=old),
            make_message(GROUP, BOB, "bob's", message_id=2, date=old + 60),
        ],
    )
    store.opt_out(GROUP.id, ALICE.id)
    # While she is opted out an import brings nothing of hers back, nor her name.
    opted_out_at = int(time.time())
    history = [
        (1, ALICE.id, old, "old secret"),
        (2, BOB.id, old + 60, "bob's"),
        (3, ALICE.id, old + 120, "older, never recorded live"),
        (4, BOB.id, old + 180, "bob again"),
    ]
    assert import_export(write_export(tmp_path, export_of(GROUP.id, history)), store).added == 1
    assert store.queries.count_messages(GROUP.id, user_id=ALICE.id) == 0
    assert users_ids(store) == [BOB.id]

    time.sleep(1.1)  # the tombstone moves to the opt-in's second
    store.opt_in(GROUP.id, ALICE.id)
    opted_in_at = int(time.time())
    later = opted_in_at + 5
    newer = [
        *history,
        (5, ALICE.id, opted_out_at, "sent while opted out"),
        (6, ALICE.id, later, "after /optin"),
    ]
    # One message per batch: her name, held back while her rows are skipped,
    # is written once a later batch keeps one.
    report = import_export(write_export(tmp_path, export_of(GROUP.id, newer)), store, batch_size=1)

    assert report.added == 1
    mine = [(r.message_id, r.text) for r in store.queries.messages(GROUP.id, user_id=ALICE.id)]
    assert mine == [(6, "after /optin")]
    # Her row is back only with a message of hers that stays.
    assert users_ids(store) == [ALICE.id, BOB.id]


def test_tombstones_follow_a_group_that_becomes_a_supergroup(store: Store) -> None:
    group = make_chat(-4300, "Small", type="group")
    supergroup = make_chat(-1004300, "Small")
    fill_store(store, [make_message(group, ALICE, "before", message_id=1)])
    store.opt_out(group.id, ALICE.id)
    store.opt_in(group.id, ALICE.id)
    store.migrate_chat(group.id, supergroup.id)
    assert [(c, u) for c, u, _ in table(store, tombstones)] == [
        (supergroup.id, ALICE.id),
        (group.id, ALICE.id),
    ]
    old = make_message(supergroup, ALICE, "dated before the opt-out", message_id=2)
    assert store.record_message(old) is False
    now = make_message(supergroup, ALICE, "new", message_id=3, date=datetime.now(UTC))
    assert store.record_message(now) is True


def test_joins_leaves_and_reactions_are_erased_and_not_recorded_while_opted_out(
    store: Store,
) -> None:
    bobs = make_message(GROUP, BOB, "react to me", message_id=10)
    fill_store(store, [bobs])
    store.record_member_changes(make_message(GROUP, ALICE, new_chat_members=(ALICE,)))
    assert store.record_reaction(make_reaction(GROUP, 10, ALICE, new=["👍"]))
    assert [u for _, _, u, *_ in table(store, member_events)] == [ALICE.id]
    assert [u for _, _, u, *_ in table(store, reactions)] == [ALICE.id]

    erased = store.erase_member(ALICE.id, [GROUP.id])

    assert erased.events == 2 and erased.user_row
    assert table(store, member_events) == [] and table(store, reactions) == []
    assert users_ids(store) == [BOB.id]
    # Her reaction stays in Bob's total, naming nobody.
    (bob_row,) = store.queries.messages(GROUP.id)
    assert bob_row.reaction_count == 1

    # While she is opted out: her leave and a new reaction store nothing that names her.
    now = datetime.now(UTC)
    left = make_message(GROUP, ALICE, left_chat_member=ALICE, date=now)
    assert store.record_member_changes(left) == []
    withdrawn = make_reaction(GROUP, 10, ALICE, old=["👍"], new=[], date=now)
    assert store.record_reaction(withdrawn) is False
    assert table(store, member_events) == [] and table(store, reactions) == []
    assert users_ids(store) == [BOB.id]
    (bob_row,) = store.queries.messages(GROUP.id)
    assert bob_row.reaction_count == 0  # the total still follows what Telegram says


def test_a_setting_keeps_its_value_but_not_the_admin_who_set_it(store: Store) -> None:
    from tgstats.store.schema import chat_settings

    with store.engine.begin() as connection:
        connection.execute(
            chat_settings.insert(),
            [
                {"chat_id": chat, "key": "timezone", "value": "UTC", "updated_at": 1}
                | {"updated_by": ALICE.id}
                for chat in (GROUP.id, OTHER.id)
            ],
        )
    store.erase_member(ALICE.id, [GROUP.id])
    assert sorted((c, by) for c, _, _, _, by in table(store, chat_settings)) == [
        (OTHER.id, ALICE.id),  # (the smaller id)
        (GROUP.id, None),
    ]
    store.erase_member(ALICE.id, None)
    assert [by for *_, by in table(store, chat_settings)] == [None, None]
