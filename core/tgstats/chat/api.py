"""An in-process Bot API for ``tgstats chat``: the bot's requests answered without a network.

python-telegram-bot sends every Bot API call through a
:class:`telegram.request.BaseRequest`; this one answers them itself, so the
real :class:`~tgstats.bot.runtime.BotRuntime` (polling, intake, recorder,
lanes, router, admin commands, hot reload) runs unchanged against a local
group:

- ``getUpdates`` hands out the updates the terminal queued, long-polling on
  an event; its ``offset`` is the bot's confirmation, exactly as with
  Telegram, so :meth:`LocalBotAPI.wait_confirmed` tells the terminal that a
  line was committed to the store and handed to its chat's lane;
- ``sendMessage``, ``sendPhoto``, ``editMessageText``, ``editMessageMedia``
  and ``answerCallbackQuery`` become :class:`Outgoing` items for the terminal;
- everything else the bot calls (``getMe``, ``setMyCommands``,
  ``deleteWebhook``, ...) gets the answer Telegram would give.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Callable
from typing import Any

import attrs
from telegram.request import BaseRequest, RequestData

from tgstats.logs import get_logger

__all__ = ["BOT_USER", "Button", "LocalBotAPI", "Outgoing"]

log = get_logger(__name__)

BOT_USER: dict[str, Any] = {
    "id": 7_000_000_001,
    "is_bot": True,
    "first_name": "tgstats",
    "username": "tgstats_local_bot",
    "can_join_groups": True,
    # Privacy mode off: the bot sees every message, as a configured bot should.
    "can_read_all_group_messages": True,
    "supports_inline_queries": False,
}

MAX_KEPT = 1_000  # the bot's messages remembered for presses on their buttons
MAX_QUEUED = 10_000  # updates typed but not yet fetched; a paste of a huge file waits


@attrs.frozen
class Button:
    text: str
    callback_data: str | None


@attrs.frozen
class Outgoing:
    """Something the bot sent: a text, a photo, an edit or a callback answer."""

    kind: str  # "text" | "photo" | "edit" | "photo_edit" | "callback_answer"
    chat_id: int
    message_id: int | None
    text: str = ""
    html: bool = False  # text is Telegram HTML (a monospace reply: <pre>...</pre>)
    photo: bytes | None = None
    buttons: tuple[tuple[Button, ...], ...] = ()


class LocalBotAPI(BaseRequest):
    def __init__(self, on_outgoing: Callable[[Outgoing], None]) -> None:
        self._on_outgoing = on_outgoing
        self._pending: list[dict[str, Any]] = []
        self._arrived: asyncio.Event | None = None
        self._confirmed: asyncio.Condition | None = None
        self.offset = 0  # every update below it is committed (the bot's getUpdates offset)
        self._message_ids = itertools.count(1_000_000_000)  # far from the members' ids
        self._unknown: set[str] = set()
        self._titles: dict[int, str] = {}  # chat id -> title, as the members' updates say
        self.sent: dict[int, dict[str, Any]] = {}  # message id -> the bot's message, newest last

    # -- what the terminal uses ---------------------------------------------------

    def push(self, update: dict[str, Any]) -> None:
        """Queue one update (JSON as Telegram sends it) for the bot's next getUpdates."""
        if len(self._pending) >= MAX_QUEUED:
            raise OverflowError(f"more than {MAX_QUEUED} updates waiting for the bot")
        chat = (update.get("message") or {}).get("chat") or {}
        if isinstance(chat.get("id"), int) and chat.get("title"):
            self._titles[chat["id"]] = str(chat["title"])
        self._pending.append(update)
        self._events()[0].set()

    async def wait_confirmed(self, update_id: int) -> None:
        """Return once the bot confirmed ``update_id`` (committed and handed to its lane)."""
        condition = self._events()[1]
        async with condition:
            await condition.wait_for(lambda: self.offset > update_id)

    # -- BaseRequest ---------------------------------------------------------------

    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def initialize(self) -> None:
        self._events()

    async def shutdown(self) -> None:
        pass

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        params: dict[str, Any] = dict(request_data.parameters) if request_data else {}
        if name == "getUpdates":
            result: Any = await self._get_updates(params)
        else:
            result = self._answer(name, params, request_data)
        return 200, json.dumps({"ok": True, "result": result}).encode("utf-8")

    # -- methods -------------------------------------------------------------------

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        arrived, confirmed = self._events()
        offset = params.get("offset")
        if isinstance(offset, int) and offset > self.offset:
            # The offset is the confirmation: Telegram forgets what lies below it.
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
            async with confirmed:
                self.offset = offset
                confirmed.notify_all()
        timeout = float(params.get("timeout") or 0)
        if not self._pending and timeout > 0:
            arrived.clear()
            with contextlib.suppress(TimeoutError):  # an empty page, like Telegram's
                await asyncio.wait_for(arrived.wait(), timeout)
        limit = int(params.get("limit") or 100)
        return self._pending[:limit]

    def _answer(self, name: str, params: dict[str, Any], data: RequestData | None) -> Any:
        if name == "getMe":
            return BOT_USER
        if name == "sendMessage":
            return self._sent("text", params, text=str(params.get("text", "")))
        if name == "sendPhoto":
            return self._sent("photo", params, text=str(params.get("caption") or ""), data=data)
        if name == "editMessageText":
            return self._sent("edit", params, text=str(params.get("text", "")))
        if name == "editMessageMedia":
            media = params.get("media")
            caption = media.get("caption") if isinstance(media, dict) else None
            return self._sent("photo_edit", params, text=str(caption or ""), data=data)
        if name == "answerCallbackQuery":
            text = str(params.get("text") or "")
            if text:
                self._on_outgoing(Outgoing("callback_answer", 0, None, text))
            return True
        if name == "getMyCommands":
            return []
        if name not in self._unknown and name not in _ACCEPTED:
            self._unknown.add(name)
            log.info("local_chat_method_ignored", method=name)
        return True

    def _sent(
        self, kind: str, params: dict[str, Any], *, text: str, data: RequestData | None = None
    ) -> dict[str, Any]:
        chat_id = int(params.get("chat_id", 0))
        edited = params.get("message_id")
        if kind in ("edit", "photo_edit") and isinstance(edited, int):
            message_id = edited
        else:
            message_id = next(self._message_ids)
        photo = _photo_bytes(data) if kind in ("photo", "photo_edit") else None
        self._on_outgoing(
            Outgoing(
                kind,
                chat_id,
                message_id,
                text,
                html=params.get("parse_mode") == "HTML",
                photo=photo,
                buttons=_buttons(params.get("reply_markup")),
            )
        )
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": _chat(chat_id, self._titles.get(chat_id)),
            "from": BOT_USER,
        }
        if kind in ("photo", "photo_edit"):
            message["photo"] = [
                {
                    "file_id": f"p{message_id}",
                    "file_unique_id": f"p{message_id}",
                    "width": 1,
                    "height": 1,
                }
            ]
            if text:
                message["caption"] = text
        else:
            message["text"] = text
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        # Kept, so a press carries the message its button is under (text or picture).
        self.sent[message_id] = message
        while len(self.sent) > MAX_KEPT:
            self.sent.pop(next(iter(self.sent)))
        return message

    def _events(self) -> tuple[asyncio.Event, asyncio.Condition]:
        # Created on first use, inside the running loop.
        if self._arrived is None or self._confirmed is None:
            self._arrived = asyncio.Event()
            self._confirmed = asyncio.Condition()
        return self._arrived, self._confirmed


# Calls that need nothing but a "true": the menu, the webhook, chat actions.
_ACCEPTED = frozenset(
    {
        "setMyCommands",
        "deleteMyCommands",
        "deleteWebhook",
        "setWebhook",
        "sendChatAction",
        "setChatMenuButton",
        "close",
        "logOut",
    }
)


def _chat(chat_id: int, title: str | None) -> dict[str, Any]:
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": "admin"}
    return {"id": chat_id, "type": "supergroup", "title": title or "Local chat"}


def _photo_bytes(data: RequestData | None) -> bytes | None:
    if data is None:
        return None
    for _filename, content, *_ in data.multipart_data.values():
        if isinstance(content, bytes):
            return content
        read = getattr(content, "read", None)
        if read is not None:
            value = read()
            return value if isinstance(value, bytes) else None
    return None


def _buttons(markup: Any) -> tuple[tuple[Button, ...], ...]:
    """An inline keyboard's rows (reply_markup arrives as a dict or as its JSON text)."""
    if isinstance(markup, str):
        try:
            markup = json.loads(markup)
        except ValueError:
            return ()
    if not isinstance(markup, dict):
        return ()
    rows = markup.get("inline_keyboard")
    if not isinstance(rows, list):
        return ()
    return tuple(
        tuple(
            Button(str(b.get("text", "")), b.get("callback_data"))
            for b in row
            if isinstance(b, dict)
        )
        for row in rows
        if isinstance(row, list)
    )
