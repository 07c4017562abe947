"""Draw the activity chart: bars over time, made for a phone.

One picture, portrait, in the shared look (``tgstats.plugins.style``): the
header (chat, period, totals), a headline with the comparison to the period
before, then stacked panels sharing one time axis: messages per bucket,
active members per bucket (not for a single member) and, when the store
records them, joins and leaves.  matplotlib's object API draws the panels
(thread-safe with the Agg canvas); Pillow draws the header and headline.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any, cast

import attrs
import matplotlib.dates as mdates
from matplotlib import rc_context
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter
from PIL import Image, ImageDraw
from tgstats.plugins import N_, ActivityBucket, _, format_date, style

__all__ = ["ActivityPicture", "MemberFlow", "render_activity"]


@attrs.frozen
class MemberFlow:
    """Joins and leaves in one bucket (a seam: drawn once the store records them)."""

    joins: int
    leaves: int


@attrs.frozen
class ActivityPicture:
    title: str
    subtitle: str
    headline: str  # "1,234 messages"
    unit: str  # day | week | month
    buckets: Sequence[ActivityBucket]
    change: str = ""  # "▲ +12 % vs the 30 days before (1,100)", empty for all time
    show_members: bool = True
    flow: Sequence[MemberFlow] | None = None


_PANEL_HEIGHT = 0.30  # of the width, per panel
_TOP = 0.06  # of the width: room for the first panel's title
_BOTTOM = 0.07  # of the width: room for the date labels


def render_activity(picture: ActivityPicture, *, width: int = style.WIDTH) -> bytes:
    """PNG bytes, ``width`` px wide; height grows with the number of panels."""
    if not picture.buckets:
        raise ValueError("nothing to draw: no buckets")
    panels = 1 + picture.show_members + (picture.flow is not None)
    body_height = round(width * (_PANEL_HEIGHT * panels + _TOP + _BOTTOM))
    header = style.header_height(width)
    headline_size = round(width * 0.04)
    top = header + round(headline_size * 1.7)
    image, y = style.canvas(
        width, top + body_height, title=picture.title, subtitle=picture.subtitle
    )
    draw = ImageDraw.Draw(image)
    side = style.margin(width)
    headline_font = style.font(headline_size, bold=True)
    draw.text((side, y), picture.headline, style.INK, headline_font)
    if picture.change:
        # The comparison beside the total, smaller: the total is the news.
        change_font = style.font(round(width * 0.03))
        x = side + draw.textlength(picture.headline + "  ", font=headline_font)
        room = width - side - x
        draw.text(
            (x, y + headline_font.size - change_font.size),
            style.fit_text(draw, picture.change, change_font, room),
            style.ACCENT,
            change_font,
        )
    chart = _chart(picture, width, body_height)
    image.paste(chart, (0, top))
    return style.png_bytes(image)


# Whole titles per bar size, so each language can inflect them.
_MESSAGES_PER = {
    "day": N_("Messages per day"),
    "week": N_("Messages per week"),
    "month": N_("Messages per month"),
}
_MEMBERS_PER = {
    "day": N_("Active members per day"),
    "week": N_("Active members per week"),
    "month": N_("Active members per month"),
}
_FLOW_PER = {
    "day": N_("Joined (up) and left (down) per day"),
    "week": N_("Joined (up) and left (down) per week"),
    "month": N_("Joined (up) and left (down) per month"),
}


def _chart(picture: ActivityPicture, width: int, height: int) -> Image.Image:
    dpi = style.figure_dpi(width)
    starts = [_day(b.start) for b in picture.buckets]
    widths = [(b.end - b.start).days * 0.8 for b in picture.buckets]
    panels: list[tuple[str, list[int], str]] = [
        (_(_MESSAGES_PER[picture.unit]), [b.messages for b in picture.buckets], "primary"),
    ]
    if picture.show_members:
        panels.append(
            (
                _(_MEMBERS_PER[picture.unit]),
                [b.active_members for b in picture.buckets],
                "secondary",
            )
        )
    # (matplotlib types rc keys as literals; the style's are checked at run time.)
    with rc_context(cast(Any, style.matplotlib_rc(width))):
        figure = Figure(figsize=(width / dpi, height / dpi), dpi=dpi)
        rows = len(panels) + (picture.flow is not None)
        axes = figure.subplots(rows, 1, sharex=True)
        axes_list = list(axes) if rows > 1 else [axes]
        for ax, (label, values, colour) in zip(axes_list, panels, strict=False):
            fill = style.PRIMARY if colour == "primary" else style.SECONDARY
            ax.bar(starts, values, width=widths, align="edge", color=style.hex_colour(fill))
            ax.set_title(label)
            ax.set_ylim(0, max(1, max(values)) * 1.18)
            _label_peak(ax, starts, widths, values)
            ax.yaxis.get_major_locator().set_params(integer=True)
            ax.yaxis.set_major_formatter(FuncFormatter(_compact))
        if picture.flow is not None:
            ax = axes_list[-1]
            joins = [f.joins for f in picture.flow]
            leaves = [-f.leaves for f in picture.flow]
            ax.bar(
                starts, joins, width=widths, align="edge", color=style.hex_colour(style.SECONDARY)
            )
            ax.bar(starts, leaves, width=widths, align="edge", color=style.hex_colour(style.MUTED))
            ax.axhline(0, color=style.hex_colour(style.MUTED), linewidth=0.6)
            ax.set_title(_(_FLOW_PER[picture.unit]))
            ax.yaxis.get_major_locator().set_params(integer=True)
        locator = mdates.AutoDateLocator(minticks=3, maxticks=7)
        axes_list[-1].xaxis.set_major_locator(locator)
        # Concise ticks (a year at January, a month name on the 1st, else the
        # day) in the reply's language: matplotlib's own formatters speak only
        # English.  No offset label in the corner: the subtitle says the period.
        axes_list[-1].xaxis.set_major_formatter(FuncFormatter(_date_tick))
        first, last = picture.buckets[0].start, picture.buckets[-1].end
        axes_list[-1].set_xlim(_day(first), _day(last))
        # Margins in pixels of the width, whatever the number of panels.
        figure.subplots_adjust(
            left=0.1,
            right=0.97,
            top=1 - _TOP * width / height,
            bottom=_BOTTOM * width / height,
            hspace=0.42,
        )
        return style.figure_image(figure)


def _label_peak(ax: object, starts: list[datetime], widths: list[float], values: list[int]) -> None:
    """The highest bar's number above it: the one value a reader looks for first."""
    peak = max(values)
    if peak <= 0:
        return
    i = values.index(peak)
    x = mdates.date2num(starts[i]) + widths[i] / 2
    ax.annotate(  # type: ignore[attr-defined]
        f"{peak:,}",
        (x, peak),
        xytext=(0, 2),
        textcoords="offset points",
        ha="center",
        va="bottom",
        fontsize=8.5,
        fontweight="bold",
        color=style.hex_colour(style.INK),
    )


def _compact(value: float, _position: object) -> str:
    return style.compact_count(int(value)) if value >= 0 else f"−{style.compact_count(int(-value))}"


def _date_tick(value: float, _position: object) -> str:
    day = mdates.num2date(value).date()
    if day.day == 1:
        return format_date(day, "y") if day.month == 1 else format_date(day, "LLL")
    return format_date(day, "d")


def _day(day: date) -> datetime:
    return datetime.combine(day, time(0))
