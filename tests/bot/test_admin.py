"""Host commands: admin-only /plugins and /reload, everyone's /optout and /optin."""

from __future__ import annotations

import asyncio
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest
from tgstats.bot.admin import HOST_GROUP, AdminCommands, format_failure, format_report
from tgstats.host.discovery import PluginSpec
from tgstats.host.manager import ReloadReport
from tgstats.host.records import PluginRecord

CHAT = -100700
ADMIN = 1
STRANGER = 2


def spec(name: str, version: str) -> PluginSpec:
    return PluginSpec(
        name=name,
        distribution=f"tgstats-{name}",
        version=version,
        value=f"{name}.plugin:Plugin",
        module=f"{name}.plugin",
        top_level=name,
        editable=True,
        project_dir=None,
        source_dir=Path("/src") / name,
        source_file=None,
        is_package=True,
        entry_point=EntryPoint(name, f"{name}.plugin:Plugin", "tgstats.plugins"),
    )


RECORDS = [
    PluginRecord(
        name="heatmap_command", state="loaded", enabled=True, spec=spec("heatmap", "1.2.0")
    ),
    PluginRecord(name="word_cloud", state="disabled", enabled=False, spec=spec("wc", "0.3.0")),
    PluginRecord(
        name="broken",
        state="failed",
        enabled=True,
        spec=spec("broken", "0.0.1"),
        reason="SyntaxError: invalid syntax",
        error_file="/src/broken/plugin.py",
        error_line=12,
    ),
]


class Admin:
    def __init__(self, harness: Any) -> None:
        self.reloads = 0
        self.tasks: set[asyncio.Task[Any]] = set()
        self.report = ReloadReport(
            reloaded=("heatmap_command",), unloaded=(), failed=(), duration_ms=12.3
        )
        self.commands = AdminCommands(
            admins=frozenset({ADMIN}),
            store=harness.writer,
            list_plugins=lambda: RECORDS,
            reload=self.reload,
            spawn=self.spawn,
        )
        for handler in self.commands.handlers():
            harness.application.add_handler(handler, HOST_GROUP)

    async def reload(self) -> ReloadReport:
        self.reloads += 1
        return self.report

    def spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)


@pytest.fixture
def admin(harness: Any) -> Admin:
    return Admin(harness)


@pytest.mark.parametrize("command", ["/plugins", "/reload"])
async def test_non_admin_is_refused_and_nothing_happens(
    harness: Any, admin: Admin, command: str, log_lines: Any
) -> None:
    reply = await harness.reply_to(CHAT, STRANGER, command)
    assert reply.text == f"Sorry, {command} is for the bot's admins only."
    await harness.settle()
    assert admin.reloads == 0
    assert not admin.tasks
    assert len(harness.api.sent_to(CHAT)) == 1
    assert "admin_command_refused" in log_lines.getvalue()


async def test_plugins_lists_state_and_version(harness: Any, admin: Admin) -> None:
    reply = await harness.reply_to(CHAT, ADMIN, "/plugins")
    assert reply.text.splitlines() == [
        "broken 0.0.1: failed (SyntaxError: invalid syntax)",
        "heatmap_command 1.2.0: loaded",
        "word_cloud 0.3.0: disabled",
    ]


async def test_reload_runs_and_answers_with_the_outcome(harness: Any, admin: Admin) -> None:
    reply = await harness.reply_to(CHAT, ADMIN, "/reload")
    assert admin.reloads == 1
    assert reply.text == "Reload done in 12 ms.\nReloaded: heatmap_command"


async def test_reload_failure_is_reported_with_file_and_line(harness: Any, admin: Admin) -> None:
    admin.report = ReloadReport(reloaded=(), unloaded=("x",), failed=(RECORDS[2],), duration_ms=3)
    reply = await harness.reply_to(CHAT, ADMIN, "/reload")
    assert "Reload FAILED" in reply.text
    assert "Unloaded: x" in reply.text
    assert "Failed: broken at /src/broken/plugin.py:12: SyntaxError: invalid syntax" in reply.text


async def test_optout_forgets_and_stops_recording_optin_resumes(harness: Any, admin: Admin) -> None:
    queries = harness.store.queries
    for text in ("one", "two"):
        await harness.send(CHAT, STRANGER, text)
    await harness.send(CHAT, ADMIN, "someone else")
    await harness.settle()
    assert queries.count_messages(CHAT, user_id=STRANGER) == 2

    reply = await harness.reply_to(CHAT, STRANGER, "/optout")
    assert reply.text.startswith("Done: I forgot 3 of your messages")  # the /optout too
    await harness.send(CHAT, STRANGER, "not recorded")
    await harness.settle()
    assert queries.count_messages(CHAT, user_id=STRANGER) == 0
    assert queries.count_messages(CHAT, user_id=ADMIN) == 1

    reply = await harness.reply_to(CHAT, STRANGER, "/optin")
    assert "recorded again" in reply.text
    await harness.send(CHAT, STRANGER, "recorded again")
    await harness.settle()
    assert [row.text for row in queries.messages(CHAT, user_id=STRANGER)] == ["recorded again"]


def test_failure_message_names_plugin_file_line_error() -> None:
    text = format_failure(RECORDS[2])
    assert "plugin broken" in text
    assert "File: /src/broken/plugin.py" in text
    assert "Line: 12" in text
    assert "Error: SyntaxError: invalid syntax" in text
    assert format_report(ReloadReport((), (), (), 1.0)) == "Reload done in 1 ms."
