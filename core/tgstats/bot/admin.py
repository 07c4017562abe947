"""The host's own commands: /plugins and /reload (admins); /optout, /optin, /forgetme (everyone).

Admins are the Telegram user ids in ``TGSTATS_ADMINS``; anyone else asking
for an admin command gets a refusal and nothing else happens.

/reload does not reload inside its own update: the reload runs as a task and
answers when it is done, so the update that asked is not held open for the
whole reload (nor, while the swap takes the update lock, deadlocked on it).

/optout erases the member in that chat, /forgetme (sent to the bot
privately) in every chat, through ``Store.erase_member`` and then every
plugin's ``forget_member`` hook.  In a private chat /optout and /optin mean
every chat: there is no "this chat" to record there.  /forgetme in a group
only says to send it privately: its answer, counting the member's messages in
their other groups, is not for this group to read.

These are routes of the one router (:mod:`tgstats.bot.handlers`); the host
claims their names before any plugin (:mod:`tgstats.host.router`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

from telegram import Message, Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from tgstats.bot.language import language_for
from tgstats.host.records import ConfigProblem, PluginRecord, ReloadFailure
from tgstats.logs import get_logger
from tgstats.plugins._i18n import N_, translate, translate_plural
from tgstats.redaction import redact

if TYPE_CHECKING:
    from tgstats.bot.handlers import RouteCallback
    from tgstats.host.manager import ReloadReport

__all__ = [
    "AdminCommands",
    "format_failure",
    "format_plugins",
    "format_recovery",
    "format_report",
]

log = get_logger(__name__)

Spawn = Callable[[Coroutine[Any, Any, Any]], Any]
# (chat_id or None for every chat, user_id) -> names of the plugins that failed to forget
Forget = Callable[[int | None, int], Awaitable[list[str]]]


async def _no_plugins(_chat_id: int | None, _user_id: int) -> list[str]:
    return []


def format_plugins(records: list[PluginRecord], config_problem: ConfigProblem | None = None) -> str:
    """One line per plugin, ``NAME VERSION: STATUS`` (see PluginRecord.status),
    after a line for plugins.yaml when its last reload failed."""
    lines = []
    if config_problem is not None:
        lines.append(f"configuration {config_problem.name}: {config_problem.status()}")
    for record in sorted(records, key=lambda r: r.name):
        version = record.spec.version if record.spec else "?"
        lines.append(f"{record.name} {version}: {record.status()}")
    if not records:
        lines.append("No plugins installed.")
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
    problem = report.config_problem
    if problem is not None:
        lines.append(f"Failed: the configuration {problem.name}: {problem.text}")
        lines.append("The previous configuration keeps serving.")
    for record in report.failed:
        lines.append(f"Failed: {record.name} at {_where(record)}: {record.reason}")
        lines += _more_problems(record)
    if report.failed:
        lines.append("The previous version of each failed plugin keeps serving.")
    return "\n".join(lines)


def format_failure(record: PluginRecord | ConfigProblem) -> str:
    """The admins' direct message when an automatic reload failed."""
    if isinstance(record, ConfigProblem):
        return (
            f"Automatic reload of the configuration {record.name} failed: {record.text}\n"
            "The previous configuration keeps serving."
        )
    failure = record.reload_failure
    reason: str | None
    if failure is not None:
        outcome = "the previous version keeps serving"
        file, line, reason = failure.file, failure.line, failure.reason
    else:
        outcome = "it is not loaded"
        file, line, reason = record.error_file, record.error_line, record.reason
    return (
        f"Automatic reload of plugin {record.name} failed; {outcome}.\n"
        f"File: {file or 'unknown'}\n"
        f"Line: {line if line is not None else 'unknown'}\n"
        f"Error: {reason}"
    ) + "".join(f"\n{line}" for line in _more_problems(failure or record))


def _more_problems(record: PluginRecord | ReloadFailure) -> list[str]:
    """An invalid config with several problems: every one, a line each."""
    return list(record.problems) if len(record.problems) > 1 else []


def format_recovery(record: PluginRecord | ConfigProblem) -> str:
    """The admins' direct message when what had failed loads cleanly again."""
    if isinstance(record, ConfigProblem):
        return f"The configuration {record.name} loads cleanly again and is in use."
    version = f" {record.spec.version}" if record.spec else ""
    return f"Plugin {record.name}{version} reloaded cleanly; the new version is serving."


class AdminCommands:
    def __init__(
        self,
        *,
        admins: frozenset[int],
        store: Any,
        list_plugins: Callable[[], list[PluginRecord]],
        reload: Callable[[], Awaitable[ReloadReport]],
        spawn: Spawn,
        config_problem: Callable[[], ConfigProblem | None] = lambda: None,
        forget: Forget = _no_plugins,
    ) -> None:
        self.admins = admins
        self._forget = forget
        self._store = store
        self._list_plugins = list_plugins
        self._config_problem = config_problem
        self._reload = reload
        self._spawn = spawn

    def routes(self) -> dict[str, RouteCallback]:
        """The host's commands, for the router (new messages only, like every command)."""
        return {
            "optout": self.optout,
            "optin": self.optin,
            "forgetme": self.forgetme,
            "plugins": self.plugins,
            "reload": self.reload,
        }

    def is_admin(self, update: Update) -> bool:
        user = update.effective_user
        return user is not None and user.id in self.admins

    async def _refuse(self, update: Update, command: str) -> bool:
        if self.is_admin(update):
            return False
        user = update.effective_user
        log.warning("admin_command_refused", command=command, user_id=user.id if user else None)
        if update.effective_message is not None:
            text = N_("Sorry, /{command} is for the bot's admins only.")
            await update.effective_message.reply_text(
                translate(language_for(update), text).format(command=command)
            )
        return True

    async def plugins(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        if await self._refuse(update, "plugins"):
            return
        assert update.effective_message is not None
        text = format_plugins(self._list_plugins(), self._config_problem())
        await update.effective_message.reply_text(redact(text))

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
            await message.reply_text(redact(text))  # an error may quote a request URL
        except Exception as error:
            log.warning("reply_failed", command="reload", error=str(error))

    async def optout(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        language = language_for(update)
        if message.chat.type == ChatType.PRIVATE:
            await self._forget_everywhere(message, user.id, language)
            return
        erased = await self._store.erase_member(user.id, [message.chat_id])  # the store writer
        failed = await self._forget(message.chat_id, user.id)
        log.info(
            "user_opted_out", chat_id=message.chat_id, user_id=user.id, deleted=erased.messages
        )
        text = translate_plural(
            language,
            "Done: I forgot {n} of your messages in this chat and will not record new ones. "
            "Send /optin to be counted again.",
            "Done: I forgot {n} of your messages in this chat and will not record new ones. "
            "Send /optin to be counted again.",
            erased.messages,
        )
        await message.reply_text(text.format(n=erased.messages) + _failed_note(language, failed))

    async def forgetme(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        language = language_for(update)
        if message.chat.type != ChatType.PRIVATE:
            text = N_(
                "To be forgotten in every chat, send /forgetme to me in a private chat. "
                "/optout here forgets you in this chat only."
            )
            await message.reply_text(translate(language, text))
            return
        await self._forget_everywhere(message, user.id, language)

    async def _forget_everywhere(self, message: Message, user_id: int, language: str) -> None:
        erased = await self._store.erase_member(user_id, None)
        failed = await self._forget(None, user_id)
        log.info(
            "user_forgotten", user_id=user_id, chats=len(erased.chats), deleted=erased.messages
        )
        messages = translate_plural(
            language,
            "Done: I forgot {n} of your messages",
            "Done: I forgot {n} of your messages",
            erased.messages,
        ).format(n=erased.messages)
        chats = translate_plural(
            language,
            "in {n} chat, and your name, and will not record you there again.",
            "in {n} chats, and your name, and will not record you there again.",
            len(erased.chats),
        ).format(n=len(erased.chats))
        hint = translate(
            language,
            "Send /optin here to be recorded again everywhere from now on, or /optin in one group.",
        )
        await message.reply_text(f"{messages} {chats} {hint}" + _failed_note(language, failed))

    async def optin(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        if message.chat.type == ChatType.PRIVATE:
            await self._store.opt_in(None, user.id)
            log.info("user_opted_in", chat_id=None, user_id=user.id)
            text = N_("Done: your new messages in every group will be recorded again.")
            await message.reply_text(translate(language_for(update), text))
            return
        await self._store.opt_in(message.chat_id, user.id)
        log.info("user_opted_in", chat_id=message.chat_id, user_id=user.id)
        text = N_("Done: your new messages in this chat will be recorded again.")
        await message.reply_text(translate(language_for(update), text))


def _failed_note(language: str, failed: list[str]) -> str:
    if not failed:
        return ""
    note = translate_plural(
        language,
        "The plugin {names} could not forget you yet; send the command again later.",
        "The plugins {names} could not forget you yet; send the command again later.",
        len(failed),
    )
    return "\n" + note.format(names=", ".join(failed))
