"""The lines ``tgstats import`` prints: per chat what was stored, skipped and updated."""

from __future__ import annotations

from collections import Counter

from tgstats.importer.runner import NOT_SELECTED, PRIVATE, UNKNOWN_TYPE, ChatResult, ImportReport

__all__ = ["chat_line", "skipped_lines"]

# Record type -> how the summary names it.
_RECORD_NAMES = {
    "service": ("service message", "service messages"),
    "unsupported": (
        "unsupported record (media Telegram Desktop could not export)",
        "unsupported records (media Telegram Desktop could not export)",
    ),
}


def _plural(count: int, one: str, many: str) -> str:
    return f"{count:,} {one if count == 1 else many}"


def chat_line(chat: ChatResult) -> str:
    parts = [f"{chat.messages:,} messages", f"{chat.added:,} new"]
    skipped = [
        _plural(count, *_RECORD_NAMES.get(kind, (f"{kind!r} record", f"{kind!r} records")))
        for kind, count in sorted(chat.skipped.items())
        if count
    ]
    parts.append(f"{' and '.join(skipped)} skipped" if skipped else "nothing skipped")
    parts.append(f"{chat.senders:,} senders")
    if chat.updated_edits or chat.updated_reactions:
        parts.append(
            f"updated {_plural(chat.updated_edits, 'edit', 'edits')} and "
            f"{_plural(chat.updated_reactions, 'reaction count', 'reaction counts')}"
        )
    if chat.topics:
        parts.append(_plural(chat.topics, "forum topic", "forum topics"))
    if chat.foreign_replies:
        parts.append(
            _plural(chat.foreign_replies, "reply", "replies") + " to another chat not linked"
        )
    if chat.migrated_from:
        parts.append(f"migrated from group {chat.migrated_from!r}")
    if chat.left:
        parts.append("a group the account has left")
    return f"{chat.title or chat.chat_id} (chat id {chat.chat_id}): {', '.join(parts)}"


def skipped_lines(report: ImportReport) -> list[str]:
    """One line per reason chats were skipped, naming the real reason."""
    reasons = Counter(chat.reason for chat in report.skipped)
    lines = []
    if reasons[PRIVATE]:
        lines.append(
            f"Skipped {_plural(reasons[PRIVATE], 'private chat', 'private chats')} "
            "(a private chat is imported only when picked with --chat-id ID)"
        )
    if reasons[NOT_SELECTED]:
        lines.append(
            f"Skipped {_plural(reasons[NOT_SELECTED], 'other chat', 'other chats')} "
            "(not the one --chat-id picked)"
        )
    if reasons[UNKNOWN_TYPE]:
        types = ", ".join(
            sorted({repr(c.type) for c in report.skipped if c.reason == UNKNOWN_TYPE})
        )
        lines.append(
            f"Skipped {_plural(reasons[UNKNOWN_TYPE], 'chat', 'chats')} of a type this "
            f"version does not know ({types})"
        )
    return lines
