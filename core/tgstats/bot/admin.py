"""The host's own commands: /plugins and /reload (admins), /optout and /optin (everyone).

Admins are the Telegram user ids in ``TGSTATS_ADMINS``; anyone else asking
for an admin command gets a refusal and nothing else happens.

/reload does not reload inside its own update: the swap waits for the update
lock that the running update holds, so the reload runs as a task and answers
when it is done (updates arriving meanwhile wait and are processed after it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

from telegram import BotCommand, Message, Update
from telegram.ext import CommandHandler, ContextTypes, filters

from tgstats.logs import get_logger

if TYPE_CHECKING:
    from tgstats.host.manager import ReloadReport
    from tgstats.host.records import PluginRecord

__all__ = [
    "HOST_COMMANDS",
    "HOST_GROUP",
    "AdminCommands",
    "format_failure",
    "format_plugins",
    "format_report",
]

log = get_logger(__name__)

HOST_GROUP = -50  # after the recorder, before every plugin

HOST_COMMANDS = [
    BotCommand("optout", "Forget my messages in this chat and stop recording me"),
    BotCommand("optin", "Record my messages in this chat again"),
    BotCommand("plugins", "List the plugins and their state (bot admins)"),
    BotCommand("reload", "Reload the plugins now (bot admins)"),
]

Spawn = Callable[[Coroutine[Any, Any, Any]], Any]


def format_plugins(records: list[PluginRecord]) -> str:
    if not records:
        return "No plugins installed."
    lines = []
    for record in sorted(records, key=lambda r: r.name):
        version = record.spec.version if record.spec else "?"
        line = f"{record.name} {version}: {record.state}"
        if record.reason:
            line += f" ({record.reason})"
        lines.append(line)
    return "\n".join(lines)


def _where(record: PluginRecord) -> str:
    if record.error_file and record.error_line:
        return f"{record.error_file}:{record.error_line}"
    return record.error_file or "unknown file"


def format_report(report: ReloadReport) -> str:
    lines = [f"Reload {'done' if report.ok else 'FAILED'} in {report.duration_ms:.0f} ms."]
    if report.reloaded:
        lines.append("Reloaded: " + ", ".join(report.reloaded))
    if report.unloaded:
        lines.append("Unloaded: " + ", ".join(report.unloaded))
    for record in report.failed:
        lines.append(f"Failed: {record.name} at {_where(record)}: {record.reason}")
    if report.failed:
        lines.append("The previous version of each failed plugin keeps serving.")
    return "\n".join(lines)


def format_failure(record: PluginRecord) -> str:
    return (
        f"Automatic reload of plugin {record.name} failed; the previous version keeps serving.\n"
        f"File: {record.error_file or 'unknown'}\n"
        f"Line: {record.error_line if record.error_line is not None else 'unknown'}\n"
        f"Error: {record.reason}"
    )


class AdminCommands:
    def __init__(
        self,
        *,
        admins: frozenset[int],
        store: Any,
        list_plugins: Callable[[], list[PluginRecord]],
        reload: Callable[[], Awaitable[ReloadReport]],
        spawn: Spawn,
    ) -> None:
        self.admins = admins
        self._store = store
        self._list_plugins = list_plugins
        self._reload = reload
        self._spawn = spawn

    def handlers(self) -> list[CommandHandler[Any, Any]]:
        only_new = filters.UpdateType.MESSAGE
        return [
            CommandHandler("plugins", self.plugins, filters=only_new),
            CommandHandler("reload", self.reload, filters=only_new),
            CommandHandler("optout", self.optout, filters=only_new),
            CommandHandler("optin", self.optin, filters=only_new),
        ]

    def is_admin(self, update: Update) -> bool:
        user = update.effective_user
        return user is not None and user.id in self.admins

    async def _refuse(self, update: Update, command: str) -> bool:
        if self.is_admin(update):
            return False
        user = update.effective_user
        log.warning("admin_command_refused", command=command, user_id=user.id if user else None)
        if update.effective_message is not None:
            await update.effective_message.reply_text(
                f"Sorry, /{command} is for the bot's admins only."
            )
        return True

    async def plugins(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        if await self._refuse(update, "plugins"):
            return
        assert update.effective_message is not None
        await update.effective_message.reply_text(format_plugins(self._list_plugins()))

    async def reload(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        if await self._refuse(update, "reload"):
            return
        message = update.effective_message
        assert message is not None
        log.info("manual_reload_requested", source="command", user_id=update.effective_user.id)  # type: ignore[union-attr]
        self._spawn(self._reload_and_answer(message))

    async def _reload_and_answer(self, message: Message) -> None:
        try:
            report = await self._reload()
            text = format_report(report)
        except Exception as error:
            log.exception("manual_reload_failed")
            text = f"Reload FAILED: {error}"
        try:
            await message.reply_text(text)
        except Exception as error:
            log.warning("reply_failed", command="reload", error=str(error))

    async def optout(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        deleted = await self._store.opt_out(message.chat_id, user.id)  # the store writer
        log.info("user_opted_out", chat_id=message.chat_id, user_id=user.id, deleted=deleted)
        await message.reply_text(
            f"Done: I forgot {deleted} of your messages in this chat and will not record "
            "new ones. Send /optin to be counted again."
        )

    async def optin(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        await self._store.opt_in(message.chat_id, user.id)
        log.info("user_opted_in", chat_id=message.chat_id, user_id=user.id)
        await message.reply_text("Done: your new messages in this chat will be recorded again.")
