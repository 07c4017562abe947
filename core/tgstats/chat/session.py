"""One local group chat: the real bot runtime, fed by the terminal, answering into it.

A :class:`ChatSession` starts :class:`~tgstats.bot.runtime.BotRuntime` (the
very object ``tgstats run`` uses) on a python-telegram-bot Application whose
Bot API is :class:`~tgstats.chat.api.LocalBotAPI`.  Each line becomes a real
update JSON, is fetched by the bot's own long-polling loop, parsed, recorded,
routed and answered exactly as a Telegram update would be.  :meth:`say`
returns once the bot has confirmed the update and everything it started
(its command, a /reload answering later) is done, with what the bot sent.

Every member is an admin here (:class:`EveryMember`), so /plugins and /reload
work; reload failures and plugin errors come from the log events the bot
writes anyway (:class:`~tgstats.chat.notices.NoticeTap`), so the chat shows
what an operator would read in ``logs/tgstats.log``.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import re
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
from telegram.ext import ApplicationBuilder

from tgstats.bot.app import TgstatsApplication
from tgstats.bot.runtime import BotRuntime
from tgstats.bot.settings import BotSettings
from tgstats.chat.api import BOT_USER, Button, LocalBotAPI, Outgoing
from tgstats.chat.notices import NoticeTap
from tgstats.errors import TgstatsError

__all__ = ["ChatOptions", "ChatSession", "EveryMember", "check_member_name"]

TOKEN = "7000000001:local-chat-no-network"  # never sent anywhere: the Bot API is in-process
MAX_LINE = 4096  # Telegram's limit for one message's text
_NAME = re.compile(r"[^\W\d_][\w .'-]{0,63}")


def check_member_name(name: str) -> str:
    """``name`` with its spaces tidied, or ValueError saying what a member name may be."""
    tidy = " ".join(name.split())
    if not _NAME.fullmatch(tidy):
        raise ValueError(
            f"member name {name[:80]!r}: expected 1-64 letters, digits, spaces, . ' -, "
            "starting with a letter"
        )
    return tidy


class EveryMember(frozenset[int]):
    """The admin set of a local chat: everyone is in it, nobody is listed.

    ``user_id in admins`` is True for every member, so /plugins and /reload
    work; iterating it gives nobody, so the bot sends no private messages
    about reloads (the chat prints them from the log instead)."""

    def __contains__(self, item: object) -> bool:
        return isinstance(item, int)


@attrs.frozen
class ChatOptions:
    db_url: str
    plugins_config: Path
    out_dir: Path  # pictures and the log go here
    chat_id: int = -1001
    title: str = "Local chat"
    member: str = "You"


@attrs.define
class Reply:
    """What the bot sent while one line was handled, in order."""

    lines: list[str] = attrs.field(factory=list)


class ChatSession:
    def __init__(self, options: ChatOptions, *, show: Callable[[str], None]) -> None:
        """``show`` prints a line the bot produced outside any typed line (a reload)."""
        self.options = options
        self._show = show
        self.api = LocalBotAPI(self._on_outgoing)
        self.runtime: BotRuntime | None = None
        self._task: asyncio.Task[int] | None = None
        self._update_ids = iter(range(1, 1 << 62))
        self._next_message_id = 1
        self._member = (0, "")
        self._members: dict[str, int] = {}
        self._collecting: list[str] | None = None
        self._buttons: list[tuple[int, Button]] = []  # (message id, button), as last numbered
        self._pictures = 0
        self._command = "reply"
        self.notices = NoticeTap(self._notice)

    # -- life cycle ----------------------------------------------------------------

    async def start(self) -> None:
        options = self.options
        settings = BotSettings(
            token=TOKEN,
            api_url="http://127.0.0.1:9/bot",  # unused: every request is answered in-process
            db_url=options.db_url,
            plugins_config=options.plugins_config,
            admins=EveryMember(),
            log_file=options.out_dir / "tgstats.log",
        )
        self.runtime = runtime = BotRuntime(
            settings, poll_timeout=30, application_factory=self._application
        )
        self.notices.install()
        self._task = asyncio.create_task(runtime.run(), name="tgstats-chat-bot")
        ready = asyncio.create_task(runtime.ready.wait())
        await asyncio.wait({self._task, ready}, return_when=asyncio.FIRST_COMPLETED)
        if self._task.done():
            ready.cancel()
            self.notices.remove()
            self._task.result()  # the start-up error (TgstatsError: one line)
            raise TgstatsError("the bot stopped while starting")
        self._next_message_id = await asyncio.to_thread(self._last_message_id) + 1
        await self.switch_member(options.member)

    @property
    def finished(self) -> asyncio.Task[int]:
        """The bot's task: done once the bot stopped (Ctrl-C is its SIGINT: a clean stop)."""
        assert self._task is not None
        return self._task

    async def stop(self) -> None:
        if self.runtime is not None and self._task is not None:
            self.runtime.request_stop("chat ended")
            with contextlib.suppress(Exception):
                await self._task
        self.notices.remove()

    def _application(self, settings: BotSettings) -> TgstatsApplication:
        application = (
            ApplicationBuilder()
            .application_class(TgstatsApplication)
            .token(settings.token)
            .request(self.api)
            .get_updates_request(self.api)
            .updater(None)
            .build()
        )
        assert isinstance(application, TgstatsApplication)
        return application

    # -- members -------------------------------------------------------------------

    @property
    def member(self) -> str:
        return self._member[1]

    async def switch_member(self, name: str) -> str:
        name = check_member_name(name)
        user_id = self._members.get(name)
        if user_id is None:
            user_id = await asyncio.to_thread(self._user_id_for, name)
            self._members[name] = user_id
        self._member = (user_id, name)
        return name

    def _user_id_for(self, name: str) -> int:
        """The id this name had in the store (a demo member, an earlier session), else a
        stable one from the name, so statistics follow a member across sessions."""
        from sqlalchemy import select

        from tgstats.store.schema import users

        assert self.runtime is not None
        with self.runtime.store.engine.connect() as conn:
            found = conn.execute(
                select(users.c.user_id)
                .where(users.c.display_name == name, users.c.is_channel.is_(False))
                .order_by(users.c.user_id)
                .limit(1)
            ).scalar()
        if found is not None and found > 0:
            return int(found)
        return 1_000_000 + zlib.crc32(name.casefold().encode("utf-8")) % 1_000_000_000

    def _last_message_id(self) -> int:
        """The chat's highest message id, so new lines never overwrite stored messages."""
        from sqlalchemy import func, select

        from tgstats.store.schema import messages

        assert self.runtime is not None
        with self.runtime.store.engine.connect() as conn:
            found = conn.execute(
                select(func.max(messages.c.message_id)).where(
                    messages.c.chat_id == self.options.chat_id
                )
            ).scalar()
        return int(found or 0)

    # -- lines ---------------------------------------------------------------------

    async def say(self, text: str) -> list[str]:
        """Send ``text`` as the current member's message; what the bot answered."""
        if len(text) > MAX_LINE:
            raise ValueError(f"a message has at most {MAX_LINE} characters, this has {len(text)}")
        user_id, name = self._member
        message_id = self._next_message_id
        self._next_message_id += 1
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": self.options.chat_id, "type": "supergroup", "title": self.options.title},
            "from": {"id": user_id, "is_bot": False, "first_name": name},
            "text": text,
        }
        command = re.match(r"/([A-Za-z0-9_]+)(@\w+)?", text)
        if command:
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": command.end()}]
            self._command = command.group(1).lower()
        return await self._send({"message": message})

    async def press(self, number: int) -> list[str]:
        """Press button ``number`` (as last listed): a callback query through the bot."""
        if not 1 <= number <= len(self._buttons):
            shown = len(self._buttons)
            raise ValueError(
                f"no button {number}: "
                + (f"choose 1-{shown}" if shown else "the bot has shown no buttons")
            )
        message_id, button = self._buttons[number - 1]
        if button.callback_data is None:
            raise ValueError(f"button {number} ({button.text!r}) is a link, not a button")
        user_id, name = self._member
        query = {
            "id": str(next(self._update_ids)),
            "from": {"id": user_id, "is_bot": False, "first_name": name},
            "chat_instance": str(self.options.chat_id),
            "data": button.callback_data,
            "message": self.api.sent.get(message_id)
            or {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": {"id": self.options.chat_id, "type": "supergroup"},
                "from": BOT_USER,
                "text": button.text,
            },
        }
        return await self._send({"callback_query": query})

    async def _send(self, update: dict[str, Any]) -> list[str]:
        assert self.runtime is not None
        update_id = next(self._update_ids)
        out: list[str] = []
        self._collecting = out
        try:
            self.api.push({"update_id": update_id, **update})
            await self._until(self.api.wait_confirmed(update_id))
            await self._until(self.runtime.settled())
        finally:
            self._collecting = None
        return out

    async def _until(self, step: Any) -> None:
        """Await ``step`` unless the bot stops first (then say why)."""
        assert self._task is not None
        waiting = asyncio.ensure_future(step)
        await asyncio.wait({waiting, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if not waiting.done():
            waiting.cancel()
            raise TgstatsError("the bot stopped")
        waiting.result()

    # -- what the bot sends --------------------------------------------------------

    def _on_outgoing(self, item: Outgoing) -> None:
        lines = self._render(item)
        if self._collecting is not None:
            self._collecting.extend(lines)
        else:
            for line in lines:
                self._show(line)

    def _notice(self, line: str) -> None:
        if self._collecting is not None:
            self._collecting.append(line)
        else:
            self._show(line)

    def _render(self, item: Outgoing) -> list[str]:
        text = _plain(item.text) if item.html else item.text
        if item.kind == "photo" and item.photo is not None:
            path = self._save_picture(item.photo)
            lines = [f"bot: [picture] {path}" + (f"  {text}" if text else "")]
        elif item.kind == "photo_edit" and item.photo is not None:
            path = self._save_picture(item.photo)
            lines = [f"bot (edited): [picture] {path}" + (f"  {text}" if text else "")]
        elif item.kind == "edit":
            body = text.splitlines() or [""]
            lines = [f"bot (edited): {body[0]}", *(f"     {line}" for line in body[1:])]
        elif item.kind == "callback_answer":
            lines = [f"bot (popup): {text}"]
        else:
            body = text.splitlines() or [""]
            lines = [f"bot: {body[0]}", *(f"     {line}" for line in body[1:])]
        if item.buttons:
            self._buttons = []
            for row in item.buttons:
                for button in row:
                    self._buttons.append((item.message_id or 0, button))
                    lines.append(f"  [{len(self._buttons)}] {button.text}")
            lines.append("  (press one with /press N)")
        return lines

    def _save_picture(self, png: bytes) -> Path:
        folder = self.options.out_dir / "pictures"
        folder.mkdir(parents=True, exist_ok=True)
        # The next free number: nothing an earlier session wrote is overwritten.
        while True:
            self._pictures += 1
            path = folder / f"{self._command}-{self._pictures}.png"
            try:
                with path.open("xb") as out:
                    out.write(png)
            except FileExistsError:
                continue
            return path


def _plain(text: str) -> str:
    """Telegram HTML as the terminal shows it: <pre> blocks as plain text."""
    return html.unescape(re.sub(r"</?(pre|code|b|i|u|s)>", "", text))
