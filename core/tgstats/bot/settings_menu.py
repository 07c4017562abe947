"""The inline ``/settings`` menu: the same settings as the text form, a tap each.

``/settings`` without arguments answers with the chat's settings and a
keyboard on the host's button namespace (:meth:`PluginHandlers.add_host_button`):
the default period (7 days, 30 days, 1 year, all, or back to the default),
one switch per plugin, and, when the chat set one, a button that puts the
time zone back to the default (a zone is typed: ``/settings timezone NAME``).
A press runs exactly what the text form would (:meth:`SettingsCommand.apply`)
and the message is edited in place with the new state.

Only the chat's admins may press (the same check as the command); the host
signs the buttons' data, and a payload is still checked here word by word, so
nothing but these few actions can come through.  Labels and notices are in
the press's language (``ButtonContext.language``: the chat's, else the
presser's); plugin names and values stay as they are.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from telegram import Update
from telegram.constants import ChatType

from tgstats.host.callbacks import HOST_NAMESPACE, payload_room
from tgstats.host.chat_settings import SettingError
from tgstats.logs import get_logger
from tgstats.plugins import Button, ButtonContext, TextReply
from tgstats.plugins._i18n import DEFAULT_LANGUAGE, N_, translate

if TYPE_CHECKING:
    from tgstats.bot.chat_admins import ChatAdmins
    from tgstats.bot.settings_command import SettingsCommand

__all__ = ["HANDLER", "SettingsMenu"]

log = get_logger(__name__)

HANDLER = "settings"
PERIODS: tuple[tuple[str, str], ...] = (
    ("7", N_("7 days")),
    ("30", N_("30 days")),
    ("365", N_("1 year")),
    ("all", N_("All")),
    ("default", N_("Default")),
)
_CURRENT = "• "
_PAYLOAD = re.compile(r"(period|plugin|timezone):([a-z0-9_.\-]{1,40})")
MAX_TEXT = 4096  # Telegram's limit for a message


class SettingsMenu:
    def __init__(self, command: SettingsCommand, admins: ChatAdmins) -> None:
        self._command = command
        self._admins = admins

    async def allowed(self, update: Update) -> bool:
        """The presser administers the chat (as for the command)."""
        chat, user = update.effective_chat, update.effective_user
        if chat is None:
            return False
        return await self._admins.is_admin(
            chat.id, user.id if user else None, private=chat.type == ChatType.PRIVATE
        )

    async def view(
        self, chat_id: int, notice: str = "", *, language: str = DEFAULT_LANGUAGE
    ) -> TextReply:
        """The chat's settings and the keyboard that changes them, in ``language``."""
        listing = await self._command.listing(chat_id, language)
        text = f"{notice}\n\n{listing}" if notice else listing
        return TextReply(text[:MAX_TEXT], buttons=await self.rows(chat_id, language))

    async def rows(self, chat_id: int, language: str = DEFAULT_LANGUAGE) -> list[list[Button]]:
        service = self._command.service
        stored = await service.load(chat_id)
        period = stored.values.get("period")
        current = str(period.value) if period is not None else "default"
        rows = [
            [
                Button(
                    f"{_CURRENT if value == current else ''}{translate(language, label)}",
                    HANDLER,
                    f"period:{value}",
                )
                for value, label in PERIODS
            ]
        ]
        switches = []
        room = payload_room(HOST_NAMESPACE, HANDLER)
        for record in sorted(self._command.plugins(), key=lambda r: r.name):
            payload = f"plugin:{record.name}"
            if record.instance is None or len(payload.encode()) > room:
                continue  # long names: the text form still switches them
            on = service.is_enabled(chat_id, record.name, stored)
            switches.append(Button(f"{'✅' if on else '❌'} {record.name}", HANDLER, payload))
        rows += [switches[i : i + 2] for i in range(0, len(switches), 2)]
        if "timezone" in stored.values:
            label = translate(language, N_("Time zone: back to default"))
            rows.append([Button(label, HANDLER, "timezone:default")])
        return rows[:8]  # Telegram shows at most this many rows comfortably (host limit)

    async def press(self, ctx: ButtonContext) -> TextReply | None:
        match = _PAYLOAD.fullmatch(ctx.payload)
        if match is None:
            log.warning("settings_press_refused", chat_id=ctx.chat_id, payload=ctx.payload[:64])
            return None
        kind, value = match.groups()
        if kind == "period":
            args: tuple[str, ...] = ("period", value)
        elif kind == "timezone":
            args = ("timezone", "default")
        else:
            on = self._command.service.is_enabled(
                ctx.chat_id, value, await self._command.service.load(ctx.chat_id)
            )
            args = ("disable" if on else "enable", value)
        # ctx.language is already the chat's language, else the presser's: passed as
        # the member's code it resolves the same way after the change.
        try:
            outcome = await self._command.apply_and_sync(
                ctx.chat_id, ctx.user_id, args, user_language=ctx.language
            )
            notice = outcome.text
        except SettingError as error:
            notice = error.text(ctx.language)
        return await self.view(ctx.chat_id, notice, language=ctx.language)

    def register(self, handlers: Any) -> None:
        """Route the menu's presses (host namespace) on ``handlers`` (a PluginHandlers)."""
        handlers.add_host_button(HANDLER, self.press, allowed=self.allowed)
