"""Who may use /settings: the chat's admins as Telegram reports them, cached briefly,
refreshed by chat_member updates; and the chat's own command menu."""

from __future__ import annotations

import asyncio
from typing import Any

from telegram import Bot, BotCommand, ChatMemberUpdated, Update
from tgstats.bot.chat_admins import ChatAdmins
from tgstats.bot.menu import CommandMenu

CHAT = -100900
OWNER, ADMIN, MEMBER, BOT_ADMIN = 1, 2, 3, 99


async def test_admins_come_from_telegram_and_are_cached(fake_api: Any) -> None:
    fake_api.set_admins(CHAT, {OWNER: "creator", ADMIN: "administrator"})
    async with Bot(fake_api.token, base_url=fake_api.url) as bot:
        admins = ChatAdmins(bot, frozenset({BOT_ADMIN}))
        answers = await asyncio.gather(
            *(admins.is_admin(CHAT, user) for user in (OWNER, ADMIN, MEMBER, None))
        )
        assert answers == [True, True, False, False]
        assert fake_api.call_count("getChatAdministrators") == 1  # one request for all four
        assert await admins.is_admin(CHAT, BOT_ADMIN) is True  # TGSTATS_ADMINS, no request
        assert await admins.is_admin(555, MEMBER, private=True) is True  # their own chat
        assert fake_api.call_count("getChatAdministrators") == 1


async def test_a_chat_member_update_refreshes_the_list(fake_api: Any) -> None:
    fake_api.set_admins(CHAT, {OWNER: "creator", ADMIN: "administrator"})
    async with Bot(fake_api.token, base_url=fake_api.url) as bot:
        admins = ChatAdmins(bot, frozenset())
        assert await admins.is_admin(CHAT, ADMIN)
        fake_api.member_update(CHAT, ADMIN, "administrator", "member", by=OWNER)
        update = {
            "update_id": 1,
            **fake_api.chat_member_payload(CHAT, ADMIN, "administrator", "member"),
        }
        change = Update.de_json(update, bot).chat_member
        assert isinstance(change, ChatMemberUpdated)
        admins.on_member_update(change)
        assert not await admins.is_admin(CHAT, ADMIN)
        assert fake_api.call_count("getChatAdministrators") == 2
        # A plain member's change (joined, left) keeps the cache.
        joined = {"update_id": 2, **fake_api.chat_member_payload(CHAT, MEMBER, "left", "member")}
        admins.on_member_update(Update.de_json(joined, bot).chat_member)
        assert not await admins.is_admin(CHAT, MEMBER)
        assert fake_api.call_count("getChatAdministrators") == 2


async def test_when_telegram_cannot_answer_only_bot_admins_get_in(fake_api: Any) -> None:
    fake_api.fail_next(
        "getChatAdministrators",
        400,
        {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"},
    )
    async with Bot(fake_api.token, base_url=fake_api.url) as bot:
        admins = ChatAdmins(bot, frozenset({BOT_ADMIN}))
        assert await admins.is_admin(CHAT, OWNER) is False
        assert await admins.is_admin(CHAT, BOT_ADMIN) is True


async def test_a_chat_gets_its_own_menu_and_drops_it(fake_api: Any) -> None:
    async with Bot(fake_api.token, base_url=fake_api.url) as bot:
        menu = CommandMenu(bot)
        await menu.sync([BotCommand("heatmap", "h"), BotCommand("engagement", "e")])
        assert await menu.sync_chat(CHAT, [BotCommand("heatmap", "h")]) is True
        assert fake_api.menu(f"chat:{CHAT}") == ["heatmap"]
        assert fake_api.menu() == ["heatmap", "engagement"]  # other chats: the default
        assert await menu.sync_chat(CHAT, [BotCommand("heatmap", "h")]) is False
        assert menu.chats() == [CHAT]
        assert await menu.sync_chat(CHAT, None) is True
        assert fake_api.menu(f"chat:{CHAT}") == []
        assert await menu.sync_chat(CHAT, None) is False  # nothing to drop
        assert fake_api.call_count("deleteMyCommands") == 1
        assert await menu.sync_chat(CHAT, None, force=True) is True  # a previous run's
