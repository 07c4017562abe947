"""The ranking as a short list that reads well in a phone's chat bubble.

A fixed-width table needs about 50 columns, more than a phone shows, and its
headers had to be abbreviated to fit; two lines per member (name and score,
then the numbers spelled out) wrap gracefully at any width instead.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence

from tgstats_engagement.score import COMPONENTS, Ranked, Weights

__all__ = ["display_width", "explanation", "format_ranking", "truncate"]

# Component -> (singular, plural) as a member's line spells it.
_NOUNS = {
    "messages": ("message", "messages"),
    "replies_received": ("reply received", "replies received"),
    "reactions_received": ("reaction", "reactions"),
    "active_days": ("active day", "active days"),
}
_LEGEND = {
    "messages": "messages",
    "replies_received": "replies received",
    "reactions_received": "reactions received",
    "active_days": "active days",
}


def _char_width(char: str) -> int:
    if unicodedata.combining(char) or unicodedata.category(char) in {"Cf", "Mn", "Me"}:
        return 0  # joiners, variation selectors, accents
    return 2 if unicodedata.east_asian_width(char) in {"W", "F"} else 1


def display_width(text: str) -> int:
    """Columns ``text`` takes (CJK and most emoji take two), the measure of a name's length."""
    return sum(_char_width(c) for c in text)


def truncate(text: str, width: int) -> str:
    """``text`` cut to ``width`` columns, ending in '…' when cut."""
    text = " ".join(text.split())  # newlines or tabs in a name would break the list
    if display_width(text) <= width:
        return text
    out, used = [], 0
    for char in text:
        w = _char_width(char)
        if used + w > width - 1:
            break
        out.append(char)
        used += w
    return "".join(out).rstrip() + "…"


def count(n: int, singular: str, plural: str) -> str:
    """``1 message``, ``2 messages``, ``1,234 messages``."""
    return f"{n:,} {singular if n == 1 else plural}"


def format_ranking(
    ranked: Sequence[Ranked], *, name_width: int, applicable: Mapping[str, int]
) -> list[str]:
    """Two lines per member: rank, name and score; then what the score is made of.

    Components that don't count in this chat (no reaction data, say) are
    left out of the second line rather than shown as zeros.
    """
    lines = []
    for entry in ranked:
        a = entry.activity
        name = a.user.display_name or (
            f"@{a.user.username}" if a.user.username else str(a.user.user_id)
        )
        lines.append(f"{entry.rank}. {truncate(name, name_width)} — {entry.score:.1f}")
        parts = [
            count(getattr(a, name), *_NOUNS[name]) for name in COMPONENTS if name in applicable
        ]
        lines.append("    " + ", ".join(parts))
    return lines


def explanation(weights: Weights, applicable: Mapping[str, int]) -> str:
    """One line that tells an admin what the score means."""
    parts = []
    for name in COMPONENTS:
        if name in applicable:
            weight = getattr(weights, name)
            parts.append(_LEGEND[name] + ("" if weight == 1 else f" ×{weight:g}"))
    text = "Score: 100 is the chat's most engaged member, counting " + ", ".join(parts) + "."
    if "reactions_received" not in applicable:
        text += " No reactions are known yet."
    return text
