"""The ranking as a short list that reads well in a phone's chat bubble.

A fixed-width table needs about 50 columns, more than a phone shows, and its
headers had to be abbreviated to fit; two lines per member (name and score,
then the numbers spelled out) wrap gracefully at any width instead.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence

from tgstats.plugins import N_, _, format_number, ngettext

from tgstats_engagement.score import COMPONENTS, Ranked, Weights

__all__ = ["display_width", "explanation", "format_ranking", "spelled", "truncate"]

_LEGEND = {
    "messages": N_("messages"),
    "replies_received": N_("replies received"),
    "reactions_received": N_("reactions received"),
    "active_days": N_("active days"),
}


def spelled(name: str, n: int) -> str:
    """A component as a member's line spells it: ``3 replies received``, ``1 active day``."""
    # Literal ngettext calls, one per component, so the extractor sees every form.
    if name == "messages":
        text = ngettext("{n} message", "{n} messages", n)
    elif name == "replies_received":
        text = ngettext("{n} reply received", "{n} replies received", n)
    elif name == "reactions_received":
        text = ngettext("{n} reaction", "{n} reactions", n)
    else:
        text = ngettext("{n} active day", "{n} active days", n)
    return text.format(n=format_number(n))


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
        score = format_number(entry.score, decimals=1)
        lines.append(f"{entry.rank}. {truncate(name, name_width)} — {score}")
        parts = [spelled(name, getattr(a, name)) for name in COMPONENTS if name in applicable]
        lines.append("    " + ", ".join(parts))
    return lines


def explanation(weights: Weights, applicable: Mapping[str, int]) -> str:
    """One line that tells an admin what the score means."""
    parts = []
    for name in COMPONENTS:
        if name in applicable:
            weight = getattr(weights, name)
            factor = "" if weight == 1 else f" ×{format_number(weight)}"
            parts.append(_(_LEGEND[name]) + factor)
    text = _("Score: 100 is the chat's most engaged member, counting {parts}.").format(
        parts=", ".join(parts)
    )
    if "reactions_received" not in applicable:
        text += " " + _("No reactions are known yet.")
    return text
