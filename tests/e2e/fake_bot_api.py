"""A local stand-in for the Telegram Bot API, for end-to-end tests and benchmarks.

It speaks the real wire protocol (``POST /bot<token>/<method>``, form,
multipart or JSON parameters, ``{"ok": ..., "result": ...}`` answers) so the
bot under test runs unmodified python-telegram-bot code against it.
``getUpdates`` implements real long polling with Telegram's offset semantics:
an update stays queued, and is delivered again by every ``getUpdates``, until
one is called with an ``offset`` greater than its id (that call confirms it);
``limit`` caps the batch, ``timeout`` holds the request open until an update
arrives, ``allowed_updates`` is remembered like Telegram does.
:attr:`FakeBotApi.deliveries` counts how often each update id was handed out,
so a test can see redeliveries after a crash.

The test side is a Python API: :meth:`FakeBotApi.inject` (with the
``message``/``command``/``edit`` builders) queues updates, and
:meth:`FakeBotApi.inject_raw` queues JSON text as is (malformed updates); :attr:`sent`,
:meth:`menu` and :attr:`calls` show what the bot did.  It runs either in the
caller's event loop (:meth:`FakeBotApi.start`) or in a background thread
(:class:`ThreadedFakeBotApi`, for synchronous tests driving a subprocess).
All state is guarded by a threading lock, so both sides may touch it.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from aiohttp import web

__all__ = ["DEFAULT_TOKEN", "FakeBotApi", "SentMessage", "ThreadedFakeBotApi", "WebhookSender"]

DEFAULT_TOKEN = "123456789:AAFakeTokenForTestsOnly-0123456789ab"

# Parameters that are plain strings on the wire; everything else PTB sends
# JSON-encoded (numbers, booleans, objects, lists).
_STRING_PARAMS = {
    "text",
    "caption",
    "parse_mode",
    "language_code",
    "url",
    "secret_token",
    "photo",
    "action",
    "callback_query_id",
    "inline_message_id",
}
# Telegram's default when allowed_updates was never set.
_NOT_DEFAULT_UPDATES = {"chat_member", "message_reaction", "message_reaction_count"}
_ADMIN_RIGHTS = [
    "can_be_edited",
    "is_anonymous",
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
]
_TAG = re.compile(r"<[^>]+>")


@dataclass
class SentMessage:
    method: str  # "sendMessage" or "sendPhoto"
    chat_id: int
    message_id: int
    text: str = ""  # as sent (may contain HTML)
    parse_mode: str | None = None
    photo: bytes | None = None
    caption: str = ""
    reply_to_message_id: int | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def plain(self) -> str:
        """The text as a user sees it (HTML tags stripped, entities decoded)."""
        body = self.text or self.caption
        if self.parse_mode and self.parse_mode.upper() == "HTML":
            return html.unescape(_TAG.sub("", body))
        return body

    @property
    def buttons(self) -> list[list[dict[str, Any]]]:
        """The inline keyboard under the message now (rows of {"text", "callback_data"})."""
        markup = self.params.get("reply_markup") or {}
        return markup.get("inline_keyboard", []) if isinstance(markup, dict) else []

    def button_data(self, label: str) -> str:
        """The callback data of the button labelled ``label`` ("• " current mark ignored)."""
        for row in self.buttons:
            for item in row:
                if label in (item["text"], item["text"].removeprefix("• ")):
                    return str(item["callback_data"])
        labels = [item["text"] for row in self.buttons for item in row]
        raise LookupError(f"no button {label!r} under message {self.message_id}: {labels}")


@dataclass
class Edit:
    """One successful editMessageText / editMessageMedia, as the bot sent it."""

    method: str
    chat_id: int
    message_id: int
    params: dict[str, Any]
    photo: bytes | None = None


@dataclass
class CallbackAnswer:
    callback_query_id: str
    text: str
    show_alert: bool


class ApiError(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


class FakeBotApi:
    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_id: int | None = None,
        username: str = "tgstats_test_bot",
        can_read_all_group_messages: bool = True,
    ) -> None:
        self.token = token
        self.bot_user = {
            "id": bot_id or int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": "tgstats test",
            "username": username,
            "can_join_groups": True,
            "can_read_all_group_messages": can_read_all_group_messages,
            "supports_inline_queries": False,
        }
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.sent: list[SentMessage] = []
        self.unreachable_chats: set[int] = (
            set()
        )  # sendMessage -> 403, like a user who never /start-ed
        self._lock = threading.Lock()
        self._pending: list[dict[str, Any]] = []
        self.deliveries: dict[int, int] = {}  # update id -> times handed out by getUpdates
        self.confirmed = 0  # updates forgotten because an offset passed them
        # method -> canned answers given (and consumed) before the real one: see fail_next
        self.faults: dict[str, list[web.Response]] = {}
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._sent_ids = itertools.count(1_000_000)
        self._allowed: set[str] | None = None
        self._commands: dict[str, list[dict[str, str]]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wakeup: asyncio.Event | None = None
        self._runner: web.AppRunner | None = None
        self._closing = False
        self.url = ""
        self.webhook: dict[str, Any] | None = None  # the last setWebhook's parameters
        # chat id -> {user id: "creator" | "administrator"}; getChatAdministrators and
        # getChatMember answer from it (everyone else is a plain "member").
        self.chat_admins: dict[int, dict[int, str]] = {}
        self.edits: list[Edit] = []  # successful edits, in order
        self.answers: list[CallbackAnswer] = []  # answerCallbackQuery calls, in order
        self._queries: dict[str, int] = {}  # callback query id -> times answered
        self._query_ids = itertools.count(1)

    # -- server ------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("*", "/file/bot{token}/{path:.*}", self._file)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on ``host`` (a free port by default); returns the PTB base URL."""
        self._loop = asyncio.get_running_loop()
        self._wakeup = asyncio.Event()
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        sockets = site._server.sockets  # type: ignore[union-attr]
        actual_port = sockets[0].getsockname()[1]
        self.url = f"http://{host}:{actual_port}/bot"
        return self.url

    async def stop(self) -> None:
        self._closing = True
        if self._wakeup is not None:
            self._wakeup.set()  # release held long polls so shutdown does not wait them out
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- injecting updates ---------------------------------------------------------

    def next_message_id(self, chat_id: int) -> int:
        with self._lock:
            counter = self._message_ids.setdefault(chat_id, itertools.count(1))
            return next(counter)

    def inject(self, *payloads: dict[str, Any]) -> list[int]:
        """Queue updates (``{"message": {...}}`` etc.); returns their update ids."""
        ids = []
        with self._lock:
            for payload in payloads:
                update_id = next(self._update_ids)
                self._pending.append({"update_id": update_id, **payload})
                ids.append(update_id)
        self._wake()
        return ids

    def inject_raw(self, *texts: str) -> list[int]:
        """Queue updates given as JSON text, parsed but not checked (``update_id`` added if absent).

        For updates python-telegram-bot cannot parse: ``'{"message": "hello"}'``.
        """
        ids = []
        with self._lock:
            for text in texts:
                update = json.loads(text)
                if "update_id" not in update:
                    update = {"update_id": next(self._update_ids), **update}
                self._pending.append(update)
                ids.append(update["update_id"])
        self._wake()
        return ids

    def fail_next(self, method: str, status: int, body: str | dict[str, Any]) -> None:
        """Answer the next call of ``method`` with ``status`` and ``body`` (HTML text or JSON)."""
        if isinstance(body, dict):
            response = web.json_response(body, status=status)
        else:
            response = web.Response(text=body, status=status, content_type="text/html")
        with self._lock:
            self.faults.setdefault(method, []).append(response)

    def redelivered(self) -> int:
        """How many update ids were handed out more than once."""
        with self._lock:
            return sum(1 for count in self.deliveries.values() if count > 1)

    def message(
        self,
        chat_id: int,
        user_id: int,
        text: str,
        *,
        message_id: int | None = None,
        chat_type: str = "supergroup",
        title: str | None = None,
        first_name: str | None = None,
        username: str | None = None,
        reply_to: dict[str, Any] | None = None,
        date: int | None = None,
        edit_date: int | None = None,
        language_code: str | None = None,
    ) -> dict[str, Any]:
        """A ``message`` object as Telegram sends it (commands get their entity).

        ``language_code`` is the sender's app language, as Telegram reports it."""
        chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            chat["first_name"] = first_name or f"User {user_id}"
        else:
            chat["title"] = title or f"Chat {chat_id}"
        message: dict[str, Any] = {
            "message_id": message_id if message_id is not None else self.next_message_id(chat_id),
            "date": date if date is not None else int(time.time()),
            "chat": chat,
            "from": {
                "id": user_id,
                "is_bot": False,
                "first_name": first_name or f"User {user_id}",
                **({"username": username} if username else {}),
                **({"language_code": language_code} if language_code else {}),
            },
            "text": text,
        }
        if text.startswith("/"):
            length = len(text.split()[0])
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        if edit_date is not None:
            message["edit_date"] = edit_date
        return message

    def send_message(self, chat_id: int, user_id: int, text: str, **kwargs: Any) -> dict[str, Any]:
        """Inject one new message; returns the message object."""
        message = self.message(chat_id, user_id, text, **kwargs)
        self.inject({"message": message})
        return message

    def set_admins(self, chat_id: int, admins: dict[int, str]) -> None:
        """Who administers ``chat_id`` from now on (user id -> creator/administrator)."""
        with self._lock:
            self.chat_admins[chat_id] = dict(admins)

    @staticmethod
    def chat_member_payload(
        chat_id: int, user_id: int, old: str, new: str, *, by: int | None = None
    ) -> dict[str, Any]:
        """A ``chat_member`` update's payload: ``user_id``'s status ``old`` -> ``new``."""
        return {
            "chat_member": {
                "chat": {"id": chat_id, "type": "supergroup", "title": f"Chat {chat_id}"},
                "from": _user(by if by is not None else user_id),
                "date": int(time.time()),
                "old_chat_member": _member(user_id, old),
                "new_chat_member": _member(user_id, new),
            }
        }

    def member_update(
        self, chat_id: int, user_id: int, old: str, new: str, *, by: int | None = None
    ) -> list[int]:
        """Inject a ``chat_member`` update (``old`` -> ``new`` status) and apply it here."""
        with self._lock:
            admins = self.chat_admins.setdefault(chat_id, {})
            if new in ("creator", "administrator"):
                admins[user_id] = new
            else:
                admins.pop(user_id, None)
        return self.inject(self.chat_member_payload(chat_id, user_id, old, new, by=by))

    def edit_message(self, message: dict[str, Any], new_text: str) -> dict[str, Any]:
        edited = {**message, "text": new_text, "edit_date": int(time.time())}
        self.inject({"edited_message": edited})
        return edited

    def chat_member(
        self,
        chat_id: int,
        user_id: int,
        *,
        old: str = "left",
        new: str = "member",
        date: int | None = None,
        first_name: str | None = None,
    ) -> list[int]:
        """Inject a ``chat_member`` update: ``user_id``'s status went from ``old`` to ``new``."""
        user = {"id": user_id, "is_bot": False, "first_name": first_name or f"User {user_id}"}

        def member(status: str) -> dict[str, Any]:
            # The fields Telegram always sends with these statuses.
            extra: dict[str, Any] = {}
            if status == "kicked":
                extra = {"until_date": 0}
            elif status == "creator":
                extra = {"is_anonymous": False}
            elif status == "administrator":
                extra = dict.fromkeys(_ADMIN_RIGHTS, False)
            return {"status": status, "user": user, **extra}

        return self.inject(
            {
                "chat_member": {
                    "chat": {"id": chat_id, "type": "supergroup", "title": f"Chat {chat_id}"},
                    "from": user,
                    "date": date if date is not None else int(time.time()),
                    "old_chat_member": member(old),
                    "new_chat_member": member(new),
                }
            }
        )

    def member_joined_message(
        self, chat_id: int, user_id: int, *, date: int | None = None
    ) -> list[int]:
        """Inject the service message Telegram sends when ``user_id`` joins."""
        message = self.message(chat_id, user_id, "", date=date)
        del message["text"]
        message["new_chat_members"] = [message["from"]]
        return self.inject({"message": message})

    def reaction_count(
        self, chat_id: int, message_id: int, counts: dict[str, int], *, date: int | None = None
    ) -> list[int]:
        """Inject a ``message_reaction_count`` update (anonymous totals per emoji)."""
        return self.inject(
            {
                "message_reaction_count": {
                    "chat": {"id": chat_id, "type": "supergroup", "title": f"Chat {chat_id}"},
                    "message_id": message_id,
                    "date": date if date is not None else int(time.time()),
                    "reactions": [
                        {"type": {"type": "emoji", "emoji": emoji}, "total_count": n}
                        for emoji, n in counts.items()
                    ],
                }
            }
        )

    def reaction(
        self,
        chat_id: int,
        message_id: int,
        user_id: int,
        *,
        old: tuple[str, ...] = (),
        new: tuple[str, ...] = (),
        date: int | None = None,
    ) -> list[int]:
        """Inject a ``message_reaction`` update: one member's reactions changed."""
        return self.inject(
            {
                "message_reaction": {
                    "chat": {"id": chat_id, "type": "supergroup", "title": f"Chat {chat_id}"},
                    "message_id": message_id,
                    "user": {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"},
                    "date": date if date is not None else int(time.time()),
                    "old_reaction": [{"type": "emoji", "emoji": e} for e in old],
                    "new_reaction": [{"type": "emoji", "emoji": e} for e in new],
                }
            }
        )

    def callback_query(
        self,
        sent: SentMessage,
        user_id: int,
        data: str | None,
        *,
        chat_id: int | None = None,
        first_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> dict[str, Any]:
        """A ``callback_query`` update body: ``user_id`` pressed a button with ``data``
        under the bot's message ``sent`` (as it is now, edits included).  ``chat_id``
        other than the message's makes a forged press that claims another chat."""
        query_id = str(next(self._query_ids))
        with self._lock:
            self._queries[query_id] = 0
        message = self._message_object(sent)
        if chat_id is not None:
            message["chat"] = {"id": chat_id, "type": "supergroup", "title": f"Chat {chat_id}"}
        query: dict[str, Any] = {
            "id": query_id,
            "from": {
                "id": user_id,
                "is_bot": False,
                "first_name": first_name or f"User {user_id}",
                **({"username": username} if username else {}),
                **({"language_code": language_code} if language_code else {}),
            },
            "chat_instance": f"ci{message['chat']['id']}",
            "message": message,
        }
        if data is not None:
            query["data"] = data
        return {"callback_query": query}

    def press(self, sent: SentMessage, user_id: int, label: str, **kwargs: Any) -> str:
        """Inject a press of the button ``label`` under ``sent``; returns the query id."""
        update = self.callback_query(sent, user_id, sent.button_data(label), **kwargs)
        self.inject(update)
        return str(update["callback_query"]["id"])

    def answer_for(self, query_id: str) -> CallbackAnswer | None:
        with self._lock:
            return next((a for a in self.answers if a.callback_query_id == query_id), None)

    def wait_for_answer(self, query_id: str, timeout: float = 20.0) -> CallbackAnswer:
        return self.wait_for(
            lambda: self.answer_for(query_id), timeout, f"an answer to callback query {query_id}"
        )

    def message_now(self, chat_id: int, message_id: int) -> SentMessage:
        """The bot's message as it is now (after edits)."""
        with self._lock:
            return next(m for m in self.sent if m.chat_id == chat_id and m.message_id == message_id)

    # -- reading what the bot did ------------------------------------------------------

    def menu(self, scope: str = "default", language_code: str = "") -> list[str]:
        """Command names currently in the bot's menu (setMyCommands); ``scope`` is a
        scope type, or ``chat:ID`` for a chat's own menu (BotCommandScopeChat)."""
        with self._lock:
            return [c["command"] for c in self._commands.get(f"{scope}:{language_code}", [])]

    def sent_to(self, chat_id: int) -> list[SentMessage]:
        with self._lock:
            return [m for m in self.sent if m.chat_id == chat_id]

    def pending_count(self) -> int:
        with self._lock:
            return len(self._pending)

    def call_count(self, method: str) -> int:
        with self._lock:
            return sum(1 for name, _ in self.calls if name == method)

    def wait_for(
        self, predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition"
    ) -> Any:
        """Poll ``predicate`` from a synchronous caller until truthy (then return it)."""
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
            time.sleep(0.02)

    async def wait_until(
        self, predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition"
    ) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
            await asyncio.sleep(0.01)

    def reply_after(self, chat_id: int, after: int) -> SentMessage | None:
        """The first message sent to ``chat_id`` after ``after`` messages were sent there."""
        sent = self.sent_to(chat_id)
        return sent[after] if len(sent) > after else None

    def wait_for_reply(self, chat_id: int, after: int, timeout: float = 10.0) -> SentMessage:
        """Wait (synchronously) for :meth:`reply_after`."""
        return self.wait_for(
            lambda: self.reply_after(chat_id, after), timeout, f"a reply in chat {chat_id}"
        )

    # -- HTTP side ---------------------------------------------------------------

    def _wake(self) -> None:
        if self._loop is not None and self._wakeup is not None:
            self._loop.call_soon_threadsafe(self._wakeup.set)

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(ApiError(401, "Unauthorized"))
        method = request.match_info["method"]
        try:
            params = await _read_params(request)
        except ApiError as error:
            return _error(error)
        with self._lock:
            self.calls.append((method, params))
            fault = self.faults[method].pop(0) if self.faults.get(method) else None
        if fault is not None:
            return fault
        handler = getattr(self, f"_m_{method.lower()}", None)
        if handler is None:
            return _error(ApiError(404, "Not Found: method not found"))
        try:
            result = handler(params)
            if asyncio.iscoroutine(result):
                result = await result
        except ApiError as error:
            return _error(error)
        return web.json_response({"ok": True, "result": result})

    async def _file(self, _request: web.Request) -> web.Response:
        return _error(ApiError(404, "Not Found: file not found"))

    def _m_getme(self, _params: dict[str, Any]) -> dict[str, Any]:
        return self.bot_user

    def _m_setwebhook(self, params: dict[str, Any]) -> bool:
        # Remembered for the tests (what the bot registered); delivery to the
        # webhook is driven by the test, with WebhookSender below.
        url = params.get("url") or ""
        if not url:
            raise ApiError(400, "Bad Request: bad webhook: URL must be provided")
        with self._lock:
            self.webhook = {k: v for k, v in params.items() if not isinstance(v, bytes)}
        return True

    def _m_deletewebhook(self, params: dict[str, Any]) -> bool:
        with self._lock:
            self.webhook = None
        if params.get("drop_pending_updates"):
            with self._lock:
                self._pending.clear()
        return True

    def _m_getwebhookinfo(self, _params: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": (self.webhook or {}).get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": self.pending_count(),
        }

    def _m_close(self, _params: dict[str, Any]) -> bool:
        return True

    def _m_logout(self, _params: dict[str, Any]) -> bool:
        return True

    def _m_sendchataction(self, _params: dict[str, Any]) -> bool:
        return True

    async def _m_getupdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook is not None:  # as Telegram: one way of receiving updates at a time
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = float(params.get("timeout") or 0)
        if "allowed_updates" in params and params["allowed_updates"] is not None:
            allowed = params["allowed_updates"]
            with self._lock:
                self._allowed = set(allowed) if allowed else None
        deadline = time.monotonic() + timeout
        assert self._wakeup is not None
        while True:
            batch = self._take(offset, limit)
            remaining = deadline - time.monotonic()
            if batch or remaining <= 0 or self._closing:
                return batch
            self._wakeup.clear()
            batch = self._take(offset, limit)
            if batch:
                return batch
            try:
                await asyncio.wait_for(self._wakeup.wait(), remaining)
            except TimeoutError:
                return []

    def _take(self, offset: int, limit: int) -> list[dict[str, Any]]:
        with self._lock:
            if offset > 0:  # confirm (forget) everything before offset
                before = len(self._pending)
                self._pending = [u for u in self._pending if u["update_id"] >= offset]
                self.confirmed += before - len(self._pending)
            elif offset < 0:
                self._pending = self._pending[offset:]
            allowed = self._allowed
            kept, batch = [], []
            for update in self._pending:
                kind = next((key for key in update if key != "update_id"), "")
                if (kind not in allowed) if allowed is not None else (kind in _NOT_DEFAULT_UPDATES):
                    continue  # Telegram never delivers updates the bot did not ask for
                kept.append(update)
            self._pending = kept
            batch = kept[:limit]
            for update in batch:
                self.deliveries[update["update_id"]] = (
                    self.deliveries.get(update["update_id"], 0) + 1
                )
            return [json.loads(json.dumps(u)) for u in batch]

    def _m_setmycommands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        for command in commands:
            name = command.get("command", "")
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(command.get("description", "")) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        with self._lock:
            self._commands[self._scope_key(params)] = [
                {"command": c["command"], "description": c["description"]} for c in commands
            ]
        return True

    def _m_getmycommands(self, params: dict[str, Any]) -> list[dict[str, str]]:
        with self._lock:
            return list(self._commands.get(self._scope_key(params), []))

    def _m_deletemycommands(self, params: dict[str, Any]) -> bool:
        with self._lock:
            self._commands.pop(self._scope_key(params), None)
        return True

    @staticmethod
    def _scope_key(params: dict[str, Any]) -> str:
        scope = params.get("scope") or {"type": "default"}
        kind = scope.get("type", "default")
        if kind in ("chat", "chat_administrators", "chat_member"):
            if "chat_id" not in scope:
                raise ApiError(400, "Bad Request: chat_id is empty")
            kind = f"{kind}:{int(scope['chat_id'])}"
            if scope["type"] == "chat_member":
                kind += f":{int(scope['user_id'])}"
        return f"{kind}:{params.get('language_code') or ''}"

    def _m_getchatadministrators(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        chat_id = _chat_id(params)
        if chat_id > 0:
            raise ApiError(400, "Bad Request: there are no administrators in the private chat")
        with self._lock:
            admins = dict(self.chat_admins.get(chat_id, {}))
        return [_member(user_id, status) for user_id, status in sorted(admins.items())]

    def _m_getchatmember(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = _chat_id(params)
        try:
            user_id = int(params["user_id"])
        except (KeyError, TypeError, ValueError):
            raise ApiError(400, "Bad Request: user_id is empty") from None
        with self._lock:
            status = self.chat_admins.get(chat_id, {}).get(user_id, "member")
        return _member(user_id, status)

    def _m_sendmessage(self, params: dict[str, Any]) -> dict[str, Any]:
        text = params.get("text") or ""
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        return self._record_sent("sendMessage", params, text=text)

    def _m_sendphoto(self, params: dict[str, Any]) -> dict[str, Any]:
        photo = params.get("photo")
        if not isinstance(photo, bytes) or not photo:
            raise ApiError(400, "Bad Request: there is no photo in the request")
        caption = params.get("caption") or ""
        if len(caption) > 1024:
            raise ApiError(400, "Bad Request: message caption is too long")
        return self._record_sent("sendPhoto", params, photo=photo, caption=caption)

    def _m_answercallbackquery(self, params: dict[str, Any]) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        text = str(params.get("text") or "")
        if len(text) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        with self._lock:
            if query_id not in self._queries:
                raise ApiError(
                    400,
                    "Bad Request: query is too old and response timeout expired "
                    "or query ID is invalid",
                )
            self._queries[query_id] += 1
            if self._queries[query_id] > 1:
                raise ApiError(400, "Bad Request: QUERY_ID_INVALID (answered already)")
            self.answers.append(CallbackAnswer(query_id, text, bool(params.get("show_alert"))))
        return True

    def _editable(self, params: dict[str, Any]) -> SentMessage:
        if params.get("inline_message_id"):
            raise ApiError(400, "Bad Request: MESSAGE_ID_INVALID")
        try:
            chat_id, message_id = int(params["chat_id"]), int(params["message_id"])
        except (KeyError, TypeError, ValueError):
            raise ApiError(400, "Bad Request: chat_id and message_id are required") from None
        for sent in self.sent:
            if sent.chat_id == chat_id and sent.message_id == message_id:
                return sent
        raise ApiError(400, "Bad Request: message to edit not found")

    def _m_editmessagetext(self, params: dict[str, Any]) -> dict[str, Any]:
        text = params.get("text") or ""
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        markup = params.get("reply_markup")
        with self._lock:
            sent = self._editable(params)
            if sent.method != "sendMessage":
                raise ApiError(400, "Bad Request: there is no text in the message to edit")
            if sent.text == text and sent.params.get("reply_markup") == markup:
                raise ApiError(
                    400,
                    "Bad Request: message is not modified: specified new message content "
                    "and reply markup are exactly the same as a current content and reply "
                    "markup of the message",
                )
            sent.text, sent.parse_mode = text, params.get("parse_mode")
            sent.params["reply_markup"] = markup
            self.edits.append(Edit("editMessageText", sent.chat_id, sent.message_id, params))
        return self._message_object(sent)

    def _m_editmessagemedia(self, params: dict[str, Any]) -> dict[str, Any]:
        media = params.get("media")
        if not isinstance(media, dict) or media.get("type") != "photo":
            raise ApiError(400, "Bad Request: can't parse InputMedia: expected a photo")
        photo = media.get("media")
        if isinstance(photo, str) and photo.startswith("attach://"):
            photo = params.get(photo[len("attach://") :])
        if not isinstance(photo, bytes) or not photo:
            raise ApiError(400, "Bad Request: there is no photo in the request")
        caption = media.get("caption") or ""
        markup = params.get("reply_markup")
        with self._lock:
            sent = self._editable(params)
            if sent.method != "sendPhoto":
                raise ApiError(400, "Bad Request: message can't be edited into a photo")
            sent.photo, sent.caption = photo, caption
            sent.params["reply_markup"] = markup
            clean = {k: v for k, v in params.items() if not isinstance(v, bytes)}
            self.edits.append(
                Edit("editMessageMedia", sent.chat_id, sent.message_id, clean, photo=photo)
            )
        return self._message_object(sent)

    def _message_object(self, sent: SentMessage) -> dict[str, Any]:
        """``sent`` as Telegram shows it now (what an edit returns, what a press carries)."""
        chat_type = "private" if sent.chat_id > 0 else "supergroup"
        chat: dict[str, Any] = {"id": sent.chat_id, "type": chat_type}
        chat["title" if chat_type != "private" else "first_name"] = f"Chat {sent.chat_id}"
        message: dict[str, Any] = {
            "message_id": sent.message_id,
            "date": int(time.time()),
            "chat": chat,
            "from": {
                k: v
                for k, v in self.bot_user.items()
                if k in ("id", "is_bot", "first_name", "username")
            },
        }
        if sent.method == "sendPhoto":
            message["photo"] = [
                {
                    "file_id": f"photo{sent.message_id}",
                    "file_unique_id": f"u{sent.message_id}",
                    "width": 800,
                    "height": 600,
                }
            ]
            if sent.caption:
                message["caption"] = sent.caption
        else:
            message["text"] = sent.plain
        if sent.params.get("reply_markup"):
            message["reply_markup"] = sent.params["reply_markup"]
        return message

    def _record_sent(self, method: str, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        try:
            chat_id = int(params["chat_id"])
        except (KeyError, TypeError, ValueError):
            raise ApiError(400, "Bad Request: chat_id is empty") from None
        if chat_id in self.unreachable_chats:
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        reply = params.get("reply_parameters") or {}
        reply_to = reply.get("message_id") if isinstance(reply, dict) else None
        reply_to = reply_to or params.get("reply_to_message_id")
        message_id = next(self._sent_ids)
        sent = SentMessage(
            method=method,
            chat_id=chat_id,
            message_id=message_id,
            parse_mode=params.get("parse_mode"),
            reply_to_message_id=int(reply_to) if reply_to else None,
            params={k: v for k, v in params.items() if not isinstance(v, bytes)},
            **content,
        )
        with self._lock:
            self.sent.append(sent)
        result: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
            "from": {
                k: v
                for k, v in self.bot_user.items()
                if k in ("id", "is_bot", "first_name", "username")
            },
        }
        if method == "sendPhoto":
            result["photo"] = [
                {
                    "file_id": f"photo{message_id}",
                    "file_unique_id": f"u{message_id}",
                    "width": 800,
                    "height": 600,
                }
            ]
            if sent.caption:
                result["caption"] = sent.caption
        else:
            result["text"] = sent.plain
        return result


def _chat_id(params: dict[str, Any]) -> int:
    try:
        return int(params["chat_id"])
    except (KeyError, TypeError, ValueError):
        raise ApiError(400, "Bad Request: chat_id is empty") from None


def _user(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"}


def _member(user_id: int, status: str) -> dict[str, Any]:
    """A ChatMember object as Telegram sends it, for the statuses tests use."""
    member: dict[str, Any] = {"status": status, "user": _user(user_id)}
    if status == "creator":
        member["is_anonymous"] = False
    elif status == "administrator":
        member.update(
            dict.fromkeys(
                [
                    "can_be_edited",
                    "is_anonymous",
                    "can_post_stories",
                    "can_edit_stories",
                    "can_delete_stories",
                    "can_promote_members",
                ],
                False,
            )
        )
        member.update(
            dict.fromkeys(
                [
                    "can_manage_chat",
                    "can_delete_messages",
                    "can_manage_video_chats",
                    "can_restrict_members",
                    "can_change_info",
                    "can_invite_users",
                ],
                True,
            )
        )
    elif status == "kicked":
        member["until_date"] = 0
    return member


def _error(error: ApiError) -> web.Response:
    return web.json_response(
        {"ok": False, "error_code": error.code, "description": error.description},
        status=error.code,
    )


async def _read_params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    if request.method != "POST" or not request.can_read_body:
        return {k: _decode(k, v) for k, v in params.items()}
    if request.content_type == "application/json":
        body = await request.json()
        params.update(body or {})
        return params
    body = await request.read()
    if request.content_type == "multipart/form-data":
        params.update(_parse_multipart(body, request.headers["Content-Type"]))
    else:
        for key, value in parse_qsl(body.decode("utf-8"), keep_blank_values=True):
            params[key] = _decode(key, value)
    # PTB sends an attached file as "attach://<name>": resolve it.
    for key, value in list(params.items()):
        if isinstance(value, str) and value.startswith("attach://"):
            params[key] = params.get(value[len("attach://") :], value)
    return params


_DISPOSITION_PARAM = re.compile(r';\s*(name|filename)="([^"]*)"')


def _parse_multipart(body: bytes, content_type: str) -> dict[str, Any]:
    """multipart/form-data -> params (file parts as bytes).

    Parsed by hand rather than with ``request.post()``: aiohttp's streaming
    multipart reader emits a DeprecationWarning on some chunk boundaries,
    which the test suite's ``filterwarnings = error`` turns into a 500.
    """
    boundary = re.search(r'boundary="?([^";]+)"?', content_type)
    if boundary is None:
        raise ApiError(400, "Bad Request: multipart body without a boundary")
    params: dict[str, Any] = {}
    for part in body.split(b"--" + boundary.group(1).encode())[1:-1]:
        head, _, data = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        data = data.removesuffix(b"\r\n")
        headers = head.decode("utf-8", "replace")
        fields = dict(_DISPOSITION_PARAM.findall(headers))
        name = fields.get("name")
        if name is None:
            continue
        if "filename" in fields or "application/octet-stream" in headers.lower():
            params[name] = data
        else:
            params[name] = _decode(name, data.decode("utf-8"))
    return params


def _decode(key: str, value: str) -> Any:
    if key in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


class ThreadedFakeBotApi:
    """Run a :class:`FakeBotApi` in a background thread (for synchronous tests)."""

    def __init__(self, api: FakeBotApi | None = None) -> None:
        self.api = api or FakeBotApi()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="fake-bot-api", daemon=True
        )

    def __enter__(self) -> FakeBotApi:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.api.start(), self._loop).result(timeout=10)
        return self.api

    def __exit__(self, *_exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.api.stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()


def texts(messages: Iterable[SentMessage]) -> list[str]:
    return [m.plain for m in messages]


# -- webhook delivery ------------------------------------------------------------------


@dataclass
class Delivery:
    """What :meth:`WebhookSender.deliver` saw: every POST's status, per URL."""

    statuses: list[tuple[str, int]] = field(default_factory=list)  # (url, status or 0)
    # update_id -> (time.monotonic() of its first POST, of its 2xx answer)
    timings: dict[int, tuple[float, float]] = field(default_factory=dict)

    def count(self, status: int) -> int:
        return sum(1 for _, code in self.statuses if code == status)

    def by_url(self, status: int = 200) -> dict[str, int]:
        counts: dict[str, int] = {}
        for url, code in self.statuses:
            if code == status:
                counts[url] = counts.get(url, 0) + 1
        return counts


class WebhookSender:
    """Posts updates to webhook URLs the way Telegram does.

    A JSON body with ``X-Telegram-Bot-Api-Secret-Token`` (when ``secret`` is
    given), ``connections`` persistent keep-alive connections at once, and an
    update that did not get a 2xx (or no answer) is sent again after
    ``retry_delay``, to the next URL: with several URLs this is a round-robin
    load balancer in front of N workers that fails over to another worker.

    It speaks HTTP/1.1 over plain asyncio streams rather than through an HTTP
    client library: the benchmark runs it on the same cores as the bot, and a
    full client would cost more CPU per request than the bot's server does.
    """

    def __init__(
        self,
        urls: list[str],
        secret: str | None,
        *,
        connections: int = 8,
        retry_delay: float = 0.1,
        attempts: int = 100,
        timeout: float = 30.0,
    ) -> None:
        self.urls = urls
        self.secret = secret
        self.connections = connections
        self.retry_delay = retry_delay
        self.attempts = attempts
        self.timeout = timeout
        self._next = itertools.count()
        self.accepted = 0  # 2xx answers so far (readable from another thread)

    async def deliver(
        self, updates: Iterable[dict[str, Any]], *, rate: float | None = None
    ) -> Delivery:
        """Send every update until it got a 2xx (or ``attempts`` ran out: TimeoutError).

        With ``rate`` (updates per second) update *i* is sent no earlier than
        *i*/``rate`` s after the start: a steady stream instead of a burst.
        """
        delivery = Delivery()
        queue = list(enumerate(updates))
        queue.reverse()  # pop() from the end: the first update goes first
        start = time.monotonic()

        async def worker() -> None:
            connections = {url: _Connection(url) for url in self.urls}
            try:
                while queue:
                    index, update = queue.pop()
                    if rate is not None:
                        await asyncio.sleep(start + index / rate - time.monotonic())
                    body = json.dumps(update).encode()
                    sent = time.monotonic()
                    for _ in range(self.attempts):
                        url = self.urls[next(self._next) % len(self.urls)]
                        status = await connections[url].post(body, self.secret, self.timeout)
                        delivery.statuses.append((url, status))
                        if 200 <= status < 300:
                            self.accepted += 1
                            delivery.timings[update.get("update_id", index)] = (
                                sent,
                                time.monotonic(),
                            )
                            break
                        await asyncio.sleep(self.retry_delay)
                    else:
                        raise TimeoutError(f"update {update.get('update_id')} was never accepted")
            finally:
                for connection in connections.values():
                    connection.close()

        await asyncio.gather(*(worker() for _ in range(self.connections)))
        return delivery

    def deliver_sync(
        self, updates: Iterable[dict[str, Any]], *, rate: float | None = None
    ) -> Delivery:
        """:meth:`deliver` from a synchronous test (its own event loop)."""
        return asyncio.run(self.deliver(list(updates), rate=rate))


class _Connection:
    """One keep-alive HTTP/1.1 connection to a webhook URL (reopened after any failure)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.path = parts.path or "/"
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def post(self, body: bytes, secret: str | None, timeout: float) -> int:
        """The answer's status, or 0 when the connection failed or timed out."""
        try:
            return await asyncio.wait_for(self._post(body, secret), timeout)
        except (OSError, EOFError, ValueError, IndexError, TimeoutError):
            self.close()
            return 0

    async def _post(self, body: bytes, secret: str | None) -> int:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        assert self._reader is not None
        head = (
            f"POST {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        )
        if secret is not None:
            head += f"X-Telegram-Bot-Api-Secret-Token: {secret}\r\n"
        self._writer.write(head.encode() + b"\r\n" + body)
        await self._writer.drain()
        status_line = await self._reader.readline()
        if not status_line:
            raise EOFError("connection closed before the answer")
        status = int(status_line.split()[1])
        length, close = 0, False
        while (line := await self._reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection":
                close = value.strip().lower() == b"close"
        if length:
            await self._reader.readexactly(length)
        if close:
            self.close()
        return status

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None
