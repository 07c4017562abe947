"""The one entry for a raw update, whether it came from long polling or a webhook.

:class:`UpdateIntake` parses each update on its own (python-telegram-bot's
batch parser raises for the whole page when one update is malformed),
commits what it carries through the :class:`~tgstats.bot.recorder.Recorder`,
and only then hands it to its chat's lane (:mod:`tgstats.bot.lanes`) for the
host's and the plugins' handlers.  The caller confirms the update to Telegram
once ``submit`` returns, so a crash at any point loses nothing: what was not
committed was not confirmed and comes again.

A *poison* update (python-telegram-bot cannot parse it, or recording it
raises for a reason that is not a database fault) is kept in
``rejected_updates`` with its raw JSON, logged once (truncated, rate-limited)
and then treated as done, so it is confirmed and never blocks the ones after it.

A button press (``callback_query``) carries nothing to store, so it is
confirmed as soon as it is in its chat's lane, like a command whose message is
stored: a redraw never holds up fetching, recording or other chats.  A crash
while a press is handled loses only that press: the member's spinner times
out and they tap again (a press changes no data).

Commands are handled at most once: before its handler runs, a command is
claimed in the store (an insert only one process wins, through the store
writer, after the command's message), and a copy that comes again
(redelivered after a crash, or to another webhook worker) is skipped.

While the store refuses writes (an outage), the updates wait, unconfirmed, but
their commands do not wait in silence: each gets :data:`UNAVAILABLE_TEXT` once
(:meth:`UpdateIntake.answer_unavailable`), and is not answered a second time
when the store is back.  Commands that need no store (``/plugins``,
``/reload``) wait for the store like the rest.
"""

from __future__ import annotations

import asyncio
import json
import reprlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from telegram import Message, Update

from tgstats.bot.lanes import ChatLanes
from tgstats.bot.language import language_for
from tgstats.bot.outage import STORE_FREE_COMMANDS, UNAVAILABLE_TEXT, command_name
from tgstats.bot.plain import PlainMessage, plain_message
from tgstats.bot.quiet import RateLimitedLog, truncate
from tgstats.bot.recorder import Event, Outcome, Recorder, Stopping
from tgstats.logs import get_logger
from tgstats.plugins._i18n import N_, resolve_language, translate
from tgstats.store.bounds import check_date, check_id
from tgstats.store.rejected import claim_command, keep_rejected

__all__ = ["UpdateIntake", "is_command"]

log = get_logger(__name__)

OUTAGE_POLL = 0.5  # seconds between looks at the store's health while a write waits
# Presses one chat may have queued or running; more are answered BUSY_TEXT at
# once, so a member hammering "All" under a big chart queues at most a few
# redraws in their chat's lane.
MAX_PRESSES_PER_CHAT = 3
BUSY_TEXT = N_("Still working on the last press; try again in a moment.")
MAX_DEFERRED = 10_000


def is_command(message: Message | None) -> bool:
    return message is not None and (message.text or "").startswith("/")


class UpdateIntake:
    def __init__(
        self,
        application: Any,
        recorder: Recorder,
        *,
        has_listeners: Callable[[], bool] = lambda: False,
        has_event_listeners: Callable[[], bool] = lambda: False,
        lanes: ChatLanes | None = None,
        commands: Callable[[], Iterable[str]] = lambda: (),
    ) -> None:
        self._application = application
        self._recorder = recorder
        self._has_listeners = has_listeners
        self._has_event_listeners = has_event_listeners
        self._commands = commands
        # Commands told "temporarily unavailable" during an outage (chat, message
        # id), in arrival order; bounded, since an outage can last long.
        self._deferred: dict[tuple[int, int], None] = {}
        self.lanes = lanes or ChatLanes(self._handle)
        self._recorded: dict[int, bool] = {}  # update_id -> message stored, while in a lane
        self._events: dict[int, tuple[Event, ...]] = {}  # update_id -> new events, in a lane
        # Presses queued or running (update ids), and how many per chat.
        self._presses: set[int] = set()
        self._busy_answers: set[asyncio.Task[None]] = set()  # held so they are not collected
        self._presses_per_chat: dict[int, int] = {}
        self._busy_log = RateLimitedLog(__name__, "presses_busy", burst=5, window=60)
        self._rejected_log = RateLimitedLog(__name__, "update_rejected", burst=10, window=60)
        self.rejected = 0

    async def submit(self, data: dict[str, Any]) -> None:
        """Take one raw update (the JSON object Telegram sent); return once it is safe to confirm.

        Parses it, commits what it carries (message, edit, reaction) and
        returns only after that commit; its commands then run in its chat's
        lane without the caller waiting.  A poison update is kept in
        ``rejected_updates`` and returns normally (confirm it).  Raises
        :class:`~tgstats.bot.recorder.Stopping` if the bot stops before the
        commit: then do not confirm.
        """
        await self.submit_batch([data])

    async def submit_batch(self, batch: Sequence[Any]) -> None:
        """:meth:`submit` for a page of updates, in order, in as few transactions as possible."""
        updates: list[Update | PlainMessage] = []
        raws: list[Any] = []  # the JSON as received, kept if recording the update raises
        poison: list[tuple[Any, str]] = []
        # A listener sees every new message, so it needs them parsed.
        listeners = self._has_listeners()
        for raw in batch:
            parsed = self._parse_plain(raw, listeners) or self._parse(raw)
            if isinstance(parsed, str):
                poison.append((raw, parsed))
            else:
                updates.append(parsed)
                raws.append(raw)
        outcomes = await self._record(updates) if updates else []
        for raw, outcome in zip(raws, outcomes, strict=True):
            if isinstance(outcome, Exception):
                poison.append((raw, f"recording raised {_describe(outcome)}"))
        for raw, reason in poison:
            await self._keep(raw, reason)
        for update, outcome in zip(updates, outcomes, strict=True):
            if not isinstance(update, Update):
                continue  # a plain message: stored, and no handler wants it
            if isinstance(outcome, Exception):
                self._recorder.pop_events(update.update_id)
            else:
                self._dispatch(update, outcome)

    async def _record(self, updates: list[Update | PlainMessage]) -> list[Outcome]:
        """Record ``updates``; their commands hear "unavailable" if an outage holds them up."""
        recording = asyncio.ensure_future(self._recorder.record(updates))
        try:
            while not recording.done():
                await asyncio.wait({recording}, timeout=OUTAGE_POLL)
                if not recording.done() and not self._recorder.healthy:
                    await self.answer_unavailable([u for u in updates if isinstance(u, Update)])
        except asyncio.CancelledError:
            recording.cancel()
            raise
        return recording.result()

    async def answer_unavailable(self, updates: Sequence[Update]) -> None:
        """Tell each command among ``updates`` once that statistics are unavailable."""
        known = set(self._commands())
        username = self._application.bot.username
        for update in updates:
            message = update.message
            if message is None:
                continue
            name = command_name(message.text, username)
            key = (message.chat_id, message.message_id)
            if name is None or name in STORE_FREE_COMMANDS or name not in known:
                continue
            if key in self._deferred:
                continue
            self._deferred[key] = None
            while len(self._deferred) > MAX_DEFERRED:
                self._deferred.pop(next(iter(self._deferred)))
            log.info("command_deferred", command=name, chat_id=message.chat_id)
            await self._reply_unavailable(message, name)

    async def _reply_unavailable(self, message: Message, name: str) -> None:
        user = message.from_user
        language = resolve_language(None, user.language_code if user is not None else None)
        try:
            await message.reply_text(translate(language, UNAVAILABLE_TEXT))
        except Exception as error:
            log.warning("reply_failed", command=name, error=truncate(str(error)))

    async def answer_unavailable_raw(self, batch: Sequence[Any]) -> None:
        """:meth:`answer_unavailable` for raw updates seen while an outage blocks them."""
        parsed = [self._parse(raw) for raw in batch]
        await self.answer_unavailable([u for u in parsed if isinstance(u, Update)])

    def events_of(self, update: Update) -> tuple[Event, ...]:
        """The events ``update`` brought that were new to the store (for event listeners)."""
        return self._events.get(update.update_id, ())

    def was_recorded(self, update: Update) -> bool:
        """Whether ``update``'s message was stored (False for opted-out senders)."""
        return self._recorded.get(update.update_id, False)

    async def reject(self, update: object, error: BaseException) -> None:
        """Keep an update whose host-side handling raised (python-telegram-bot's error handler)."""
        raw = update.to_dict() if isinstance(update, Update) else update
        await self._keep(raw, f"handling raised {_describe(error)}")

    # -- steps -------------------------------------------------------------------

    @staticmethod
    def _parse_plain(raw: Any, listeners: bool) -> PlainMessage | None:
        """A plain group message as its row, skipping python-telegram-bot (tgstats.bot.plain).

        Only for what no handler will see: edits always, new messages while
        no plugin listens to messages (commands are never plain).
        """
        if listeners and isinstance(raw, dict) and "message" in raw:
            return None
        return plain_message(raw)

    def _parse(self, raw: Any) -> Update | str:
        """The parsed update, or why it cannot be parsed."""
        if not isinstance(raw, dict) or not isinstance(raw.get("update_id"), int):
            return "not an update object with an integer update_id"
        try:
            update = Update.de_json(raw, self._application.bot)
        except Exception as error:
            return f"cannot parse: {_describe(error)}"
        try:
            _check_bounds(update)
        except ValueError as error:
            return f"out of range: {error}"
        except Exception as error:  # python-telegram-bot lets a null id or date through
            return f"cannot parse: {_describe(error)}"
        return update

    async def _keep(self, raw: Any, reason: str) -> None:
        self.rejected += 1
        text = _dumps(raw)
        update_id = raw.get("update_id") if isinstance(raw, dict) else None
        update_id = update_id if isinstance(update_id, int) else None
        self._rejected_log(
            "warning", update_id=update_id, reason=truncate(reason), raw=truncate(text)
        )
        try:
            await self._recorder.commit(
                keep_rejected, self._recorder.store.engine, update_id, text, reason
            )
        except Stopping:
            raise
        except Exception as error:
            # Keeping it is a courtesy to the operator; never wedge on it.
            log.warning("rejected_update_not_kept", update_id=update_id, error=truncate(str(error)))

    def _dispatch(self, update: Update, recorded: Outcome) -> None:
        """Put ``update`` in its chat's lane (a press over its chat's limit is answered busy)."""
        events = self._recorder.pop_events(update.update_id)
        if not (events and self._has_event_listeners()) and not self._wants_handlers(update):
            return
        chat = update.effective_chat
        chat_id = chat.id if chat is not None else 0
        if update.callback_query is not None:
            if self._presses_per_chat.get(chat_id, 0) >= MAX_PRESSES_PER_CHAT:
                self._answer_busy(update, chat_id)
                return
            self._presses_per_chat[chat_id] = self._presses_per_chat.get(chat_id, 0) + 1
            self._presses.add(update.update_id)
        # True for a stored message only: a join's service message is not one.
        self._recorded[update.update_id] = recorded is True and not events
        if events:
            self._events[update.update_id] = events
        if not self.lanes.dispatch(chat_id, update):
            self._recorded.pop(update.update_id, None)
            self._events.pop(update.update_id, None)
            self._press_done(update)  # shed (logged as lane_full): nothing more will happen

    def _press_done(self, update: Update) -> None:
        if update.update_id not in self._presses:
            return
        self._presses.discard(update.update_id)
        chat = update.effective_chat
        chat_id = chat.id if chat is not None else 0
        left = self._presses_per_chat.get(chat_id, 1) - 1
        if left > 0:
            self._presses_per_chat[chat_id] = left
        else:
            self._presses_per_chat.pop(chat_id, None)

    def _answer_busy(self, update: Update, chat_id: int) -> None:
        """Answer a press over the chat's limit at once, and handle nothing."""
        query = update.callback_query
        assert query is not None
        self._busy_log("info", chat_id=chat_id, update_id=update.update_id)

        async def answer() -> None:
            try:
                await query.answer(text=translate(language_for(update), BUSY_TEXT))
            except Exception as error:
                log.warning("callback_answer_failed", error=truncate(str(error)))

        task = asyncio.get_running_loop().create_task(answer())
        self._busy_answers.add(task)
        task.add_done_callback(self._busy_answers.discard)

    def _wants_handlers(self, update: Update) -> bool:
        # Commands answer new messages only; edits and reactions reach plugins
        # only as events (above), when new.
        if update.edited_message or update.message_reaction or update.message_reaction_count:
            return False
        # A chat_member update goes on to the handlers: the chat's admin list
        # for /settings is refreshed from it (tgstats.bot.chat_admins).
        if update.message is not None:
            return is_command(update.message) or self._has_listeners()
        return True

    async def _handle(self, update: Update) -> None:
        """Run the handlers for one update (in its chat's lane)."""
        message = update.message
        command = message if is_command(message) else None
        try:
            if (
                command is not None
                and self._deferred.pop((command.chat_id, command.message_id), "absent") is None
            ):
                # Answered "temporarily unavailable" during the outage: that was its answer.
                await self._claim(command, wait=False)
                return
            if command is not None and not await self._claim(command):
                return
            await self._application.process_update(update)
        finally:
            self._recorded.pop(update.update_id, None)
            self._events.pop(update.update_id, None)
            self._press_done(update)

    async def _claim(self, message: Message, *, wait: bool = True) -> bool:
        """Whether this process answers the command ``message``: it won the store's claim.

        The claim is a write, so it goes through the store writer, in order
        after the command's own message.  Claimed before the answer, not after:
        a copy of the command that Telegram sends again (after a crash, or to
        another webhook worker while this one still answers) finds the claim
        and is not answered twice.  The price: a command whose process dies
        while answering it is not answered after the restart (at most once).
        During an outage the command hears "temporarily unavailable" at once
        and its claim commits when the store is back.
        """
        writer = self._recorder.writer
        engine = self._recorder.store.engine
        key = {"chat_id": message.chat_id, "message_id": message.message_id}
        try:
            claim = await writer.submit(claim_command, engine, message.chat_id, message.message_id)
            if not wait:
                return False
            if not await writer.wait_settled(claim):
                await self._reply_unavailable(message, command_name(message.text, None) or "")
                return False
            if claim.result():
                return True
        except Stopping:
            log.info("command_not_claimed", reason="stopping", **key)
            return False
        except Exception as error:
            # Not a database outage (those are retried): answering beats never answering.
            log.warning("command_claim_failed", error=truncate(str(error)), **key)
            return True
        log.info("command_already_answered", **key)
        return False


def _check_bounds(update: Update) -> None:
    """Refuse what Telegram cannot send: impossible dates, ids past 64 bits (ValueError)."""
    message = update.message or update.edited_message
    if message is None:
        return
    check_date(int(message.date.timestamp()), "message.date")
    if message.edit_date is not None:
        check_date(int(message.edit_date.timestamp()), "message.edit_date")
    check_id(message.chat.id, "message.chat.id")
    check_id(message.message_id, "message.message_id")
    if message.from_user is not None:
        check_id(message.from_user.id, "message.from.id")


def _describe(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


def _dumps(raw: Any) -> str:
    try:
        return json.dumps(raw, ensure_ascii=False, default=str)
    except (TypeError, ValueError, RecursionError):
        return reprlib.repr(raw)  # bounded in depth and length, unlike repr()
