"""Button presses (``callback_query``): checked, routed to their owner, answered, edited in place.

A press arrives in its chat's lane like any update.  The
:class:`PressHandler` (one fixed python-telegram-bot handler beside the
router's) takes the route table snapshot of that moment, so a press finishes
with the plugin versions it started with, exactly like a command.  Then:

1. The callback data is checked (:class:`~tgstats.host.callbacks.CallbackCodec`):
   malformed, oversized, forged or signed for another chat is refused.
2. The ``(namespace, handler)`` pair is looked up in the table: a plugin's
   buttons while it is loaded (and declares that handler), the host's own
   buttons (:meth:`tgstats.bot.handlers.PluginHandlers.add_host_button`).
   A plugin that is disabled, unknown or reloaded without that handler has
   no route: refused.
3. The route's permission check runs (the same one as the command that made
   the button).
4. The handler's reply replaces the message the button is under:
   ``editMessageMedia`` for a picture, ``editMessageText`` for text.

Every press gets exactly one ``answerCallbackQuery`` (Telegram shows a
spinner until then), with a short text when something was refused or failed.
A refused press changes nothing else and is logged (``button_rejected``,
rate-limited); the message that is edited is always the one the press came
from, so a press can never touch another chat.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import attrs
from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    Message,
    Update,
)
from telegram.constants import MessageLimit
from telegram.error import BadRequest
from telegram.ext import Application, BaseHandler, ContextTypes

from tgstats.bot.language import language_for
from tgstats.bot.quiet import RateLimitedLog, truncate
from tgstats.bot.replies import first_text_chunk
from tgstats.host.blame import locate_error
from tgstats.host.callbacks import CallbackCodec
from tgstats.logs import get_logger
from tgstats.plugins import ButtonContext, Keyboard, PhotoReply, Reply, TextReply
from tgstats.plugins._i18n import DEFAULT_LANGUAGE, N_, translate
from tgstats.redaction import redact

if TYPE_CHECKING:
    from tgstats.bot.handlers import PluginHandlers
    from tgstats.host.discovery import PluginSpec
    from tgstats.store.queries import MessageQueries

__all__ = [
    "ButtonRoute",
    "Permission",
    "PressHandler",
    "build_markup",
    "handle_press",
]

log = get_logger(__name__)

# Answers Telegram shows under the message (at most 200 characters).
# English msgids, answered in the presser's language.
REFUSED = N_("This button does not work (any more). Send the command again.")
NOT_ALLOWED = N_("Sorry, this button is not for you.")
FAILED = N_("Sorry, that did not work. The bot's admins can find the details in its log.")
TOO_OLD = N_("This message is too old for its buttons. Send the command again.")
MAX_ANSWER = 200

ButtonRun = Callable[[ButtonContext], Awaitable[Reply | None]]
# May this press go ahead? (The update of the press.)  Sync or async.
Permission = Callable[[Update], bool | Awaitable[bool]]


def _everyone(_update: Update) -> bool:
    return True


@attrs.frozen
class ButtonRoute:
    """The handler of one (namespace, handler) pair: a plugin's or the host's."""

    namespace: str  # plugin name; HOST_NAMESPACE ("") for the host
    handler: str
    run: ButtonRun = attrs.field(eq=False, repr=False)
    allowed: Permission = attrs.field(default=_everyone, eq=False, repr=False)
    # The plugin's discovery record: a failure is logged at the plugin's own line.
    source: PluginSpec | None = attrs.field(default=None, eq=False, repr=False)

    @property
    def owner(self) -> str:
        return self.namespace or "host"


_rejected_log = RateLimitedLog(__name__, "button_rejected", burst=10, window=60)


def build_markup(
    codec: CallbackCodec, namespace: str, rows: Keyboard, chat_id: int
) -> InlineKeyboardMarkup | None:
    """The inline keyboard for ``rows``, signed for ``chat_id`` (ButtonDataError if too long)."""
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    item.label,
                    callback_data=codec.encode(namespace, item.handler, item.payload, chat_id),
                )
                for item in row
            ]
            for row in rows
        ]
    )


async def handle_press(
    update: Update,
    *,
    codec: CallbackCodec | None,
    routes: Mapping[tuple[str, str], ButtonRoute],
    queries: MessageQueries,
    language: str | None = None,
) -> None:
    """Check, route, run and answer one press (see the module doc). Never raises for a press.

    ``language``: what to answer in (the chat's setting or the presser's);
    None takes the presser's."""
    query = update.callback_query
    if query is None:
        return
    answer = _Answer(query)
    try:
        await _press(
            update, query, answer, codec, routes, queries, language or language_for(update)
        )
    finally:
        await answer.send()  # exactly once, whatever happened


async def _press(
    update: Update,
    query: CallbackQuery,
    answer: _Answer,
    codec: CallbackCodec | None,
    routes: Mapping[tuple[str, str], ButtonRoute],
    queries: MessageQueries,
    language: str,
) -> None:
    message = query.message
    user_id = query.from_user.id if query.from_user else None
    if not isinstance(message, Message):
        # An inline-mode message, or one Telegram no longer shows the bot.
        _reject(update, "no accessible message", user_id=user_id)
        answer.text = translate(language, TOO_OLD)
        return
    chat_id = message.chat.id
    decoded = codec.decode(query.data, chat_id) if codec is not None else "buttons not ready"
    if isinstance(decoded, str):
        _reject(update, decoded, chat_id=chat_id, user_id=user_id)
        answer.text = translate(language, REFUSED)
        return
    route = routes.get((decoded.namespace, decoded.handler))
    if route is None:
        _reject(
            update,
            "no such button handler (plugin disabled, unknown or reloaded without it)",
            chat_id=chat_id,
            user_id=user_id,
            plugin=decoded.namespace or "host",
            button=decoded.handler,
        )
        answer.text = translate(language, REFUSED)
        return
    if not await _allowed(route, update):
        log.info(
            "button_refused",
            plugin=route.owner,
            button=route.handler,
            chat_id=chat_id,
            user_id=user_id,
        )
        answer.text = translate(language, NOT_ALLOWED)
        return
    ctx = ButtonContext(
        button=decoded.handler,
        payload=decoded.payload,
        chat_id=chat_id,
        chat_title=message.chat.title or message.chat.full_name,
        user_id=user_id,
        message_id=message.message_id,
        now=datetime.now(UTC),
        store=queries,
        update=update,
        language=language,
    )
    try:
        reply = await route.run(ctx)
        if reply is None:
            return
        assert codec is not None
        markup = build_markup(codec, route.namespace, reply.buttons, chat_id)
    except Exception as error:
        log.exception(
            "plugin_handler_failed",
            plugin=route.owner,
            button=route.handler,
            chat_id=chat_id,
            update_id=update.update_id,
            **locate_error(error, route.source).log_fields(),
        )
        answer.text = translate(language, FAILED)
        return
    answer.text = await edit_in_place(message, reply, markup, owner=route.owner, language=language)


async def edit_in_place(
    message: Message,
    reply: Reply,
    markup: InlineKeyboardMarkup | None,
    *,
    owner: str,
    language: str = DEFAULT_LANGUAGE,
) -> str:
    """Replace ``message`` with ``reply``; the callback answer (empty when it just worked).

    A picture is replaced by a picture and text by text.  A text answer to a
    button under a picture ("no messages in the last 7 days") is shown as the
    callback answer and the picture stays; a picture answer to a button under
    text is sent as a new reply.
    """
    try:
        if isinstance(reply, PhotoReply):
            caption = redact(reply.caption)[: MessageLimit.CAPTION_LENGTH] or None
            if not message.photo:
                await message.reply_photo(photo=reply.png, caption=caption, reply_markup=markup)
                return ""
            await message.edit_media(
                InputMediaPhoto(media=reply.png, caption=caption), reply_markup=markup
            )
            return ""
        assert isinstance(reply, TextReply)
        if message.photo:
            return truncate(redact(reply.text), MAX_ANSWER)
        text, parse_mode = first_text_chunk(reply)
        await message.edit_text(text, parse_mode=parse_mode, reply_markup=markup)
        return ""
    except BadRequest as error:
        if "not modified" in str(error).lower():
            return ""  # the same period pressed again: nothing to change
        log.warning("edit_failed", plugin=owner, chat_id=message.chat.id, error=str(error))
        return translate(language, FAILED)
    except Exception as error:
        log.warning("edit_failed", plugin=owner, chat_id=message.chat.id, error=str(error))
        return translate(language, FAILED)


async def _allowed(route: ButtonRoute, update: Update) -> bool:
    try:
        verdict = route.allowed(update)
        if inspect.isawaitable(verdict):
            verdict = await verdict
        return bool(verdict)
    except Exception:
        log.exception("button_permission_failed", plugin=route.owner, button=route.handler)
        return False  # when in doubt, refuse


def _reject(update: Update, reason: str, **fields: Any) -> None:
    query = update.callback_query
    data = query.data if query is not None else None
    _rejected_log(
        "warning",
        reason=reason,
        update_id=update.update_id,
        data=truncate(repr(data), 100),
        **fields,
    )


class _Answer:
    """The one answerCallbackQuery of a press."""

    def __init__(self, query: CallbackQuery) -> None:
        self._query = query
        self.text = ""
        self._sent = False

    async def send(self) -> None:
        if self._sent:
            return
        self._sent = True
        try:
            await self._query.answer(text=self.text[:MAX_ANSWER] or None)
        except Exception as error:
            # Too late (Telegram allows a few seconds) or the network: nothing to undo.
            log.warning("callback_answer_failed", error=truncate(str(error)))


class PressHandler(BaseHandler[Update, Any, None]):
    """The one PTB handler for presses: takes the route table snapshot for each."""

    def __init__(self, handlers: PluginHandlers) -> None:
        super().__init__(self._never_called)
        self._handlers = handlers

    def check_update(self, update: object) -> object | None:
        if not (isinstance(update, Update) and update.callback_query is not None):
            return None
        return self._handlers.table  # this press keeps this snapshot to the end

    async def handle_update(
        self,
        update: Update,
        application: Application[Any, Any, Any, Any, Any, Any],
        check_result: object,
        context: ContextTypes.DEFAULT_TYPE,
    ) -> None:
        await handle_press(
            update,
            codec=self._handlers.codec,
            routes=getattr(check_result, "buttons", {}),
            queries=self._handlers.queries,
            language=await self._handlers.language_of(update),
        )

    @staticmethod
    async def _never_called(_update: object, _context: object) -> None:
        raise AssertionError("presses are dispatched in handle_update")
