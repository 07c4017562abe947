"""Host commands: admin-only /plugins and /reload, everyone's /optout and /optin."""

from __future__ import annotations

import asyncio
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest
from tgstats.bot.admin import AdminCommands, format_failure, format_recovery, format_report
from tgstats.host.discovery import PluginSpec
from tgstats.host.manager import ReloadReport
from tgstats.host.records import ConfigProblem, PluginRecord, ReloadFailure

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
    PluginRecord(
        name="probe",
        state="loaded",
        enabled=True,
        spec=spec("probe", "0.1.0"),
        reload_failure=ReloadFailure(
            "syntax error: invalid syntax", file="/src/probe/__init__.py", line=7
        ),
    ),
]

CONFIG_PROBLEM = ConfigProblem(
    path="/etc/tgstats/plugins.yaml",
    line=2,
    text="/etc/tgstats/plugins.yaml:2: settings.reload_check_interval: "
    "expected a number > 0, found -3 (int)",
)


class Admin:
    def __init__(self, harness: Any) -> None:
        self.reloads = 0
        self.tasks: set[asyncio.Task[Any]] = set()
        self.config_problem: ConfigProblem | None = None
        self.report = ReloadReport(
            reloaded=("heatmap_command",), unloaded=(), failed=(), duration_ms=12.3
        )
        self.commands = AdminCommands(
            admins=frozenset({ADMIN}),
            store=harness.writer,
            list_plugins=lambda: RECORDS,
            reload=self.reload,
            spawn=self.spawn,
            config_problem=lambda: self.config_problem,
        )
        harness.handlers.set_host_commands(self.commands.routes())

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
        "broken 0.0.1: failed: SyntaxError: invalid syntax",
        "heatmap_command 1.2.0: loaded",
        "probe 0.1.0: loaded; the last reload failed: /src/probe/__init__.py:7 "
        "syntax error: invalid syntax (serving the previous version)",
        "word_cloud 0.3.0: disabled",
    ]


async def test_plugins_shows_a_bad_plugins_yaml_as_the_config_it_is(
    harness: Any, admin: Admin
) -> None:
    admin.config_problem = CONFIG_PROBLEM
    lines = (await harness.reply_to(CHAT, ADMIN, "/plugins")).text.splitlines()
    assert lines[0] == (
        "configuration plugins.yaml: the last reload failed: /etc/tgstats/plugins.yaml:2: "
        "settings.reload_check_interval: expected a number > 0, found -3 (int) "
        "(serving the previous configuration)"
    )
    assert len(lines) == 1 + len(RECORDS)
    assert not any(line.startswith("plugins.yaml") for line in lines)


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
    assert "it is not loaded" in text  # nothing of it served before either
    # A plugin whose older version serves: that is said, with the new failure.
    serving = format_failure(RECORDS[3])
    assert serving.splitlines() == [
        "Automatic reload of plugin probe failed; the previous version keeps serving.",
        "File: /src/probe/__init__.py",
        "Line: 7",
        "Error: syntax error: invalid syntax",
    ]
    assert format_report(ReloadReport((), (), (), 1.0)) == "Reload done in 1 ms."


def test_failure_message_and_reload_report_carry_every_config_problem() -> None:
    problems = (
        "/srv/probe/plugin.yaml:2: greeting: expected a string, found 3 (int)",
        "/srv/probe/plugin.yaml:5: colour: unknown key (expected one of greeting)",
    )
    record = PluginRecord.failed(
        "probe",
        None,
        "invalid config: expected a string, found 3 (int) (and 1 more)",
        file="/srv/probe/plugin.yaml",
        line=2,
        problems=problems,
    )
    assert format_failure(record).splitlines()[-2:] == list(problems)
    report = format_report(ReloadReport((), (), (record,), 1.0)).splitlines()
    assert report[2:4] == list(problems)
    # A single problem is the Error line already: not repeated.
    single = PluginRecord.failed("p", None, "x", problems=problems[:1])
    assert problems[0] not in format_failure(single)


def test_config_failure_message_names_the_file_not_a_plugin() -> None:
    text = format_failure(CONFIG_PROBLEM)
    assert text.splitlines() == [
        "Automatic reload of the configuration plugins.yaml failed: "
        "/etc/tgstats/plugins.yaml:2: settings.reload_check_interval: "
        "expected a number > 0, found -3 (int)",
        "The previous configuration keeps serving.",
    ]
    assert "plugin plugins.yaml" not in text
    report = format_report(ReloadReport((), (), (), 2.0, config_problem=CONFIG_PROBLEM))
    assert report.splitlines() == [
        "Reload FAILED in 2 ms.",
        f"Failed: the configuration plugins.yaml: {CONFIG_PROBLEM.text}",
        "The previous configuration keeps serving.",
    ]


def test_recovery_messages_are_short() -> None:
    assert format_recovery(RECORDS[3]) == (
        "Plugin probe 0.1.0 reloaded cleanly; the new version is serving."
    )
    assert format_recovery(CONFIG_PROBLEM) == (
        "The configuration plugins.yaml loads cleanly again and is in use."
    )
