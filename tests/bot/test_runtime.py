"""BotRuntime in-process: start-up checks, SIGHUP reload, clean stop."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from tgstats.bot.runtime import BotRuntime
from tgstats.bot.settings import BotSettings
from tgstats.errors import TgstatsError

from .conftest import fake_bot_api

HOST_MENU = ["optout", "optin", "forgetme", "settings", "plugins", "reload"]


def settings_for(
    api_url: str, tmp_path: Path, token: str = fake_bot_api.DEFAULT_TOKEN
) -> BotSettings:
    config = tmp_path / "plugins.yaml"
    # No plugins: this is about the runtime, and it keeps the test fast.
    config.write_text("settings:\n  hot_reload: false\n  load_unlisted_plugins: false\n")
    return BotSettings(
        token=token,
        api_url=api_url,
        db_url=f"sqlite:///{tmp_path / 'runtime.db'}",
        plugins_config=config,
        admins=frozenset({1}),
        log_file=tmp_path / "tgstats.log",
    )


async def test_privacy_warning_sighup_reload_and_clean_stop(tmp_path: Path, log_lines: Any) -> None:
    api = fake_bot_api.FakeBotApi(can_read_all_group_messages=False)
    await api.start()
    try:
        runtime = BotRuntime(settings_for(api.url, tmp_path), poll_timeout=1)
        running = asyncio.create_task(runtime.run())
        await api.wait_until(lambda: running.done() or api.call_count("getUpdates"), 10, "polling")
        assert not running.done(), running.result()
        logged = log_lines.getvalue()
        assert "privacy_mode_on" in logged and "/setprivacy" in logged
        assert api.menu() == HOST_MENU

        os.kill(os.getpid(), signal.SIGHUP)
        await api.wait_until(
            lambda: "manual_reload_done source=SIGHUP" in log_lines.getvalue(), 10, "SIGHUP reload"
        )
        api.send_message(-100, 5, "recorded before the stop")
        await api.wait_until(lambda: api.pending_count() == 0, 10, "fetched")
        runtime.request_stop("test")
        assert await asyncio.wait_for(running, 20) == 0
        assert log_lines.getvalue().rstrip().splitlines()[-1].split("] ", 1)[1] == "stopped"
        from tgstats.store import open_store

        with open_store(runtime.settings.db_url) as store:
            assert store.queries.count_messages(-100) == 1
    finally:
        await api.stop()


async def test_rejected_token_is_one_line(tmp_path: Path) -> None:
    api = fake_bot_api.FakeBotApi()
    await api.start()
    try:
        runtime = BotRuntime(settings_for(api.url, tmp_path, token="1:wrong"))
        with pytest.raises(TgstatsError, match="rejected the bot token"):
            await runtime.run()
    finally:
        await api.stop()


async def test_unreachable_api_is_one_line(tmp_path: Path) -> None:
    runtime = BotRuntime(settings_for("http://127.0.0.1:9/bot", tmp_path))
    with pytest.raises(
        TgstatsError, match=r"cannot reach the Bot API at http://127.0.0.1:9/bot"
    ) as error:
        await runtime.run()
    assert fake_bot_api.DEFAULT_TOKEN not in str(error.value)
