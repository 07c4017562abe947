"""The Bot API stand-in keeps Telegram's getUpdates semantics (the e2e tests rely on them)."""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

import aiohttp
from aiohttp import web

from .conftest import fake_bot_api


async def call(session: aiohttp.ClientSession, api: Any, method: str, **params: Any) -> Any:
    async with session.post(f"{api.url}{api.token}/{method}", json=params) as response:
        return response.status, await response.json()


async def test_get_updates_offset_limit_timeout_and_allowed_updates() -> None:
    api = fake_bot_api.FakeBotApi()
    await api.start()
    try:
        async with aiohttp.ClientSession() as session:
            ids = api.inject(*({"message": api.message(-1, 1, f"m{i}")} for i in range(5)))
            _, body = await call(session, api, "getUpdates", limit=2)
            assert [u["update_id"] for u in body["result"]] == ids[:2]
            # Without a higher offset nothing is confirmed: the same updates come back.
            _, body = await call(session, api, "getUpdates", limit=2)
            assert [u["update_id"] for u in body["result"]] == ids[:2]
            _, body = await call(session, api, "getUpdates", offset=ids[2])
            assert [u["update_id"] for u in body["result"]] == ids[2:]
            _, body = await call(session, api, "getUpdates", offset=ids[-1] + 1, timeout=0)
            assert body["result"] == []

            # Long polling: the request is held until an update arrives.
            started = time.monotonic()
            poll = asyncio.create_task(
                call(session, api, "getUpdates", offset=ids[-1] + 1, timeout=5)
            )
            await asyncio.sleep(0.3)
            assert not poll.done()
            late = api.inject({"edited_message": api.message(-1, 1, "edit", edit_date=1)})
            _, body = await poll
            assert [u["update_id"] for u in body["result"]] == late
            assert 0.25 < time.monotonic() - started < 4

            # Reaction counts only when asked for; unasked types are dropped.
            reaction = {
                "chat": {"id": -1, "type": "supergroup"},
                "message_id": 1,
                "date": 1,
                "reactions": [],
            }
            skipped = api.inject({"message_reaction_count": reaction})
            _, body = await call(session, api, "getUpdates", offset=late[0] + 1)
            assert body["result"] == []
            wanted = api.inject({"message_reaction_count": reaction})
            _, body = await call(
                session,
                api,
                "getUpdates",
                offset=skipped[0],
                allowed_updates=["message_reaction_count"],
            )
            assert [u["update_id"] for u in body["result"]] == wanted
    finally:
        await api.stop()


async def test_unknown_method_and_bad_token_are_telegram_errors() -> None:
    api = fake_bot_api.FakeBotApi()
    await api.start()
    try:
        async with aiohttp.ClientSession() as session:
            status, body = await call(session, api, "sendDice", chat_id=1)
            assert status == 404
            assert body == {
                "ok": False,
                "error_code": 404,
                "description": "Not Found: method not found",
            }
            async with session.post(f"{api.url}1:wrong/getMe") as response:
                assert response.status == 401
                assert (await response.json())["description"] == "Unauthorized"
            status, body = await call(session, api, "sendMessage", chat_id=1, text=" ")
            assert status == 400 and "text is empty" in body["description"]
            status, body = await call(
                session, api, "setMyCommands", commands=[{"command": "Bad!", "description": "x"}]
            )
            assert status == 400 and "BOT_COMMAND_INVALID" in body["description"]
    finally:
        await api.stop()


async def test_webhook_sender_paces_a_stream_and_times_each_update() -> None:
    """With ``rate`` the updates are spread out; ``timings`` is (first POST, its 2xx) per update."""
    refused: set[int] = set()

    async def hook(request: web.Request) -> web.Response:
        update_id = (await request.json())["update_id"]
        if update_id == 3 and update_id not in refused:
            refused.add(update_id)  # once: the sender must try again
            return web.Response(status=500)
        await asyncio.sleep(0.01)
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    sender = fake_bot_api.WebhookSender(
        [f"http://127.0.0.1:{port}/hook"], None, connections=4, retry_delay=0.05
    )
    try:
        started = time.monotonic()
        delivery = await sender.deliver([{"update_id": i} for i in range(1, 6)], rate=20)
    finally:
        await runner.cleanup()

    assert sorted(delivery.timings) == [1, 2, 3, 4, 5]
    assert delivery.count(500) == 1 and delivery.count(200) == 5
    first_posts = [delivery.timings[i][0] for i in range(1, 6)]
    assert first_posts[0] - started < 0.03
    assert all(later - earlier >= 0.045 for earlier, later in itertools.pairwise(first_posts))
    assert all(answered - posted >= 0.01 for posted, answered in delivery.timings.values())
    posted, answered = delivery.timings[3]
    assert answered - posted >= 0.06  # the 500, the retry delay, then the 200
