"""Joins, leaves and reactions through the bot's update path reach event listeners once each."""

from __future__ import annotations

import threading
from typing import Any

from tgstats.plugins import (
    MemberContext,
    MessageContext,
    NoConfig,
    Plugin,
    ReactionContext,
    listener,
    on_member_joined,
    on_member_left,
    on_reaction,
)
from tgstats.store.rejected import list_rejected

from .conftest import record

GROUP = -3001


class Watcher(Plugin[NoConfig]):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.seen: list[tuple[Any, ...]] = []
        self.messages: list[str] = []
        self._lock = threading.Lock()

    @on_member_joined
    def joined(self, ctx: MemberContext) -> None:  # a worker thread: guard the list
        with self._lock:
            self.seen.append((ctx.kind, ctx.chat_id, ctx.user_id, ctx.display_name))

    @on_member_left
    async def left(self, ctx: MemberContext) -> None:
        self.seen.append((ctx.kind, ctx.chat_id, ctx.user_id))

    @on_reaction
    async def reacted(self, ctx: ReactionContext) -> None:
        self.seen.append(("reaction", ctx.message_id, ctx.user_id, ctx.added, ctx.total))

    @on_reaction
    async def broken(self, ctx: ReactionContext) -> None:
        raise RuntimeError("a listener bug must not stop the others")

    @listener
    async def on_message(self, ctx: MessageContext) -> None:
        self.messages.append(ctx.message.text or "<service>")


async def test_each_event_reaches_listeners_once(harness: Any, log_lines: Any) -> None:
    installed = record("watcher", Watcher, harness.store)
    harness.handlers.install(installed)
    watcher = installed.instance
    assert isinstance(watcher, Watcher)
    message = harness.api.send_message(GROUP, 5, "hello")
    mid = message["message_id"]
    harness.api.member_joined_message(GROUP, 7)
    harness.api.chat_member(GROUP, 7)  # the same join, seen the other way
    harness.api.chat_member(GROUP, 7, old="member", new="administrator")  # no join
    harness.api.reaction(GROUP, mid, 7, new=("👍",))
    harness.api.reaction(GROUP, mid, 7, new=("👍",))  # delivered again
    harness.api.reaction_count(GROUP, mid, {"👍": 1, "❤": 2})
    harness.api.reaction_count(GROUP, mid, {"👍": 1, "❤": 2})  # delivered again
    harness.api.chat_member(GROUP, 7, old="administrator", new="left")
    await harness.settle()
    assert watcher.seen == [
        ("member_joined", GROUP, 7, "User 7"),
        ("reaction", mid, 7, ("👍",), None),
        ("reaction", mid, None, (), 3),
        ("member_left", GROUP, 7),
    ]
    # The service message is not a message people wrote: message listeners never see it.
    assert watcher.messages == ["hello"]
    [row] = list(harness.store.queries.messages(GROUP))
    assert row.reaction_count == 3
    days = harness.store.queries.member_changes(GROUP)
    assert [(d.joins, d.leaves) for d in days] == [(1, 1)]
    # The listener that raises is logged with the plugin's name; the others ran.
    log = log_lines.getvalue()
    assert "plugin_handler_failed" in log and "plugin=watcher" in log
    assert "event_kind=reaction" in log


async def test_events_are_recorded_without_any_listener(harness: Any) -> None:
    message = harness.api.send_message(GROUP, 5, "hello")
    harness.api.chat_member(GROUP, 9)
    harness.api.reaction(GROUP, message["message_id"], 9, new=("🔥", "👍"))
    await harness.settle()
    assert [d.joins for d in harness.store.queries.member_changes(GROUP)] == [1]
    [member] = [m for m in harness.store.queries.reactions_by_member(GROUP) if m.given]
    assert (member.user.user_id, member.given) == (9, 2)


async def test_a_forged_member_update_is_rejected_and_the_rest_go_on(harness: Any) -> None:
    harness.api.chat_member(GROUP, 2**70)  # an id no Telegram user has
    harness.api.chat_member(GROUP, 8)
    await harness.settle()
    assert [d.joins for d in harness.store.queries.member_changes(GROUP)] == [1]
    [rejected] = list_rejected(harness.store.engine)
    assert "64 bits" in rejected.reason


async def test_a_plugin_off_in_a_chat_hears_no_events_there(harness: Any) -> None:
    # The permission hook (per-chat enablement) decides for event listeners too.
    harness.handlers._permits = lambda plugin, update: update.effective_chat.id != GROUP
    installed = record("watcher", Watcher, harness.store)
    harness.handlers.install(installed)
    watcher = installed.instance
    assert isinstance(watcher, Watcher)
    harness.api.chat_member(GROUP, 7)
    harness.api.chat_member(GROUP - 1, 7)
    await harness.settle()
    assert watcher.seen == [("member_joined", GROUP - 1, 7, "User 7")]
    # Recorded all the same: statistics do not depend on who listens.
    assert [d.joins for d in harness.store.queries.member_changes(GROUP)] == [1]
