"""Draw the digest: one portrait picture for a phone, in the shared look.

The header (chat, week), the total with the change against the week before,
two bar charts (messages per day, messages per local hour; the busiest bar in
the accent colour) drawn with matplotlib's object API (thread-safe with the
Agg canvas), then two short ranked lists side by side, most active members
and top words, and one line for new members and the most reacted message,
drawn with Pillow.
"""

from __future__ import annotations

from typing import Any, cast

import attrs
from matplotlib import rc_context
from matplotlib.figure import Figure
from PIL import ImageDraw
from tgstats.plugins import _, style

__all__ = ["DigestPicture", "render_digest"]


@attrs.frozen
class DigestPicture:
    title: str
    subtitle: str
    headline: str  # "1,234 messages"
    change: str  # "▲ +12 % vs the week before"
    day_labels: list[str]  # "Mon" ...
    day_counts: list[int]
    hour_counts: list[int]  # 24
    members: list[tuple[str, int]]
    words: list[tuple[str, int]]
    footer: list[str]  # "3 new members", "Most reacted: 12 reactions"


_CHART = 0.62  # of the width: both charts
_ROW = 0.052  # of the width: one list row


def render_digest(picture: DigestPicture, *, width: int = style.WIDTH) -> bytes:
    """PNG bytes, ``width`` px wide."""
    if not picture.day_counts:
        raise ValueError("nothing to draw: no days")
    side = style.margin(width)
    headline_size = round(width * 0.045)
    rows = max(len(picture.members), len(picture.words), 1)
    row = round(width * _ROW)
    chart_height = round(width * _CHART)
    lists_height = round(row * (rows + 1.6))
    footer_height = round(row * (len(picture.footer) + 0.6))
    top = style.header_height(width) + round(headline_size * 1.8)
    height = top + chart_height + lists_height + footer_height
    image, y = style.canvas(width, height, title=picture.title, subtitle=picture.subtitle)
    draw = ImageDraw.Draw(image)
    headline_font = style.font(headline_size, bold=True)
    draw.text((side, y), picture.headline, style.INK, headline_font)
    change_font = style.font(round(width * 0.032))
    x = side + draw.textlength(picture.headline + "  ", font=headline_font)
    draw.text(
        (x, y + headline_font.size - change_font.size),
        style.fit_text(draw, picture.change, change_font, width - side - x),
        style.ACCENT,
        change_font,
    )
    image.paste(_charts(picture, width, chart_height), (0, top))
    y = top + chart_height + round(row * 0.3)
    half = (width - 3 * side) // 2
    _ranked(draw, _("Most active"), picture.members, side, y, half, row)
    _ranked(draw, _("Top words"), picture.words, 2 * side + half, y, half, row)
    y += lists_height
    text_font = style.font(round(width * 0.033))
    for line in picture.footer:
        draw.text(
            (side, y), style.fit_text(draw, line, text_font, width - 2 * side), style.INK, text_font
        )
        y += row
    return style.png_bytes(image)


def _ranked(
    draw: ImageDraw.ImageDraw,
    heading: str,
    items: list[tuple[str, int]],
    x: int,
    y: int,
    room: int,
    row: int,
) -> None:
    """A heading and up to N "name  count" rows with a bar behind each, longest first."""
    width_px = draw.im.size[0]
    heading_font = style.font(round(width_px * 0.034), bold=True)
    name_font = style.font(round(width_px * 0.032))
    draw.text((x, y), heading, style.MUTED, heading_font)
    if not items:
        draw.text((x, y + row), "—", style.MUTED, name_font)
        return
    peak = max(count for _label, count in items) or 1
    for i, (name, count) in enumerate(items):
        top = y + row * (i + 1)
        bar = round(room * count / peak)
        draw.rectangle((x, top + 2, x + bar, top + row - 6), fill=style.PANEL)
        number = f"{count:,}"
        number_width = draw.textlength(number, font=name_font)
        label = style.fit_text(draw, name, name_font, room - number_width - row // 2)
        draw.text((x + 6, top + 4), label, style.INK, name_font)
        draw.text((x + room - number_width - 4, top + 4), number, style.ACCENT, name_font)


def _colours(values: list[int]) -> list[str]:
    peak = values.index(max(values)) if any(values) else -1
    return [
        style.hex_colour(style.ACCENT if i == peak else style.PRIMARY) for i in range(len(values))
    ]


def _charts(picture: DigestPicture, width: int, height: int) -> Any:
    dpi = style.figure_dpi(width)
    with rc_context(cast(Any, style.matplotlib_rc(width))):
        figure = Figure(figsize=(width / dpi, height / dpi), dpi=dpi)
        days_ax, hours_ax = figure.subplots(2, 1)
        days = list(range(len(picture.day_counts)))
        days_ax.bar(days, picture.day_counts, color=_colours(picture.day_counts), width=0.7)
        days_ax.set_xticks(days, picture.day_labels)
        days_ax.set_title(_("Messages per day"))
        hours = list(range(24))
        hours_ax.bar(hours, picture.hour_counts, color=_colours(picture.hour_counts), width=0.8)
        hours_ax.set_xticks([0, 6, 12, 18, 23], ["00", "06", "12", "18", "23"])
        hours_ax.set_xlim(-0.6, 23.6)
        hours_ax.set_title(_("Messages per hour of the day"))
        for ax, values in ((days_ax, picture.day_counts), (hours_ax, picture.hour_counts)):
            ax.set_axisbelow(True)  # grid lines behind the bars, not through them
            ax.set_ylim(0, max(1, max(values)) * 1.2)
            ax.yaxis.get_major_locator().set_params(integer=True)
            peak = max(values)
            if peak > 0:
                i = values.index(peak)
                ax.annotate(
                    f"{peak:,}",
                    (i, peak),
                    xytext=(0, 2),
                    textcoords="offset points",
                    ha="center",
                    va="bottom",
                    fontsize=8.5,
                    fontweight="bold",
                    color=style.hex_colour(style.INK),
                )
        figure.subplots_adjust(left=0.1, right=0.97, top=0.92, bottom=0.07, hspace=0.5)
        return style.figure_image(figure)
