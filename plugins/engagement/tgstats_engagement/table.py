"""The ranking as a fixed-width table that stays aligned in Telegram's monospace block."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from tgstats_engagement.score import Ranked

__all__ = ["display_width", "format_table", "truncate"]

_HEADERS = (
    ("Msgs", "messages"),
    ("Repl", "replies_received"),
    ("Reac", "reactions_received"),
    ("Days", "active_days"),
)


def _char_width(char: str) -> int:
    if unicodedata.combining(char) or unicodedata.category(char) in {"Cf", "Mn", "Me"}:
        return 0  # joiners, variation selectors, accents
    return 2 if unicodedata.east_asian_width(char) in {"W", "F"} else 1


def display_width(text: str) -> int:
    """Columns ``text`` takes in a monospace font (CJK and most emoji take two)."""
    return sum(_char_width(c) for c in text)


def truncate(text: str, width: int) -> str:
    """``text`` cut to ``width`` columns, ending in '…' when cut."""
    text = " ".join(text.split())  # newlines or tabs in a name would break the table
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


def _pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


def format_table(ranked: Sequence[Ranked], *, name_width: int, applicable: set[str]) -> list[str]:
    """Header and one line per member; components not applicable show as '-'."""
    rows = []
    for entry in ranked:
        a = entry.activity
        name = a.user.display_name or (
            f"@{a.user.username}" if a.user.username else str(a.user.user_id)
        )
        values = [f"{getattr(a, field):,}" if field in applicable else "-" for _, field in _HEADERS]
        rows.append((str(entry.rank), truncate(name, name_width), f"{entry.score:.1f}", *values))
    headers = ("#", "Member", "Score", *(h for h, _ in _HEADERS))
    widths = [
        max([display_width(h)] + [display_width(r[i]) for r in rows]) for i, h in enumerate(headers)
    ]
    lines = []
    for row in (headers, *rows):
        cells = []
        for i, cell in enumerate(row):
            if i == 1:
                cells.append(_pad(cell, widths[i]))
            else:
                cells.append(" " * (widths[i] - display_width(cell)) + cell)
        lines.append("  ".join(cells).rstrip())
    return lines
