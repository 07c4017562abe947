"""What statistics count: what people wrote, not commands or bots.

Every message is stored (a reply may point at a command, an export must be
complete), but a bot command or a bot's own message is marked not counted, so
asking for ``/heatmap`` does not lift the asker in ``/engagement``.  Service
messages (joins, pins) are not stored at all.  Imported history is marked by
the same rule (``tgstats.importer``), so counts before and after the bot
joined mean the same thing.
"""

from __future__ import annotations

import telegram
from telegram.constants import MessageEntityType

__all__ = ["counts_as_chat", "is_command_text"]


def is_command_text(text: str, first_entity: tuple[str, int] | None) -> bool:
    """A bot command: the text's first entity is a ``bot_command`` at offset 0, for any bot.

    ``first_entity`` is (type, offset) of the first entity, if any.
    """
    return (
        first_entity is not None
        and first_entity == (MessageEntityType.BOT_COMMAND, 0)
        and text.startswith("/")
    )


def counts_as_chat(message: telegram.Message) -> bool:
    """Whether statistics count ``message`` (see the module docstring)."""
    if message.sender_chat is None and message.from_user is not None and message.from_user.is_bot:
        return False
    entities = message.entities or message.caption_entities
    first = (str(entities[0].type), entities[0].offset) if entities else None
    return not is_command_text(message.text or message.caption or "", first)
