"""Draw the member card: one portrait picture for a phone, in the shared style.

Pillow only (no matplotlib figure: the card is tiles, a small grid and
lists).  Every size is a fraction of the width, so the card drawn 1080 px
wide reads on a phone at about 400 px.  The canvas is drawn taller than
needed and cut below the last section.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PIL import ImageDraw
from tgstats.plugins import ReplyPartner, _, style

from tgstats_profile import texts
from tgstats_profile.card import Card, Tile

__all__ = ["drawable", "render_card"]

_TILE_FILL = (247, 247, 247)
# Code points that only shape an emoji (variation selector, zero-width joiner, skin tones).
_SHAPING = {0xFE0F, 0x200D} | set(range(0x1F3FB, 0x1F400))


@lru_cache(maxsize=1)
def _covered() -> frozenset[int]:
    """The code points DejaVu Sans (the style's font) can draw."""
    import matplotlib
    from fontTools.ttLib import TTFont

    path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    with TTFont(str(path), lazy=True) as font:
        return frozenset(font.getBestCmap())


def drawable(emoji: str) -> bool:
    """Whether the picture's font has a glyph for ``emoji`` (colour emoji fonts are not
    on every machine; the caption shows the rest)."""
    covered = _covered()
    return all(ord(c) in covered for c in emoji if ord(c) not in _SHAPING)


def render_card(card: Card, *, width: int = style.WIDTH) -> bytes:
    """PNG bytes, ``width`` px wide."""
    unit = width / 1080
    image, y = style.canvas(width, round(width * 2.4), title=card.title, subtitle=card.subtitle)
    draw = ImageDraw.Draw(image)
    side = style.margin(width)
    gap = round(18 * unit)
    y = _tiles(draw, card.tiles, side, y, width - 2 * side, gap, unit)
    y += round(34 * unit)
    y = _section(draw, _(texts.PEAK_HOURS), side, y, unit)
    y = _hours(draw, card.hours, side, y, width - 2 * side, unit)
    y += round(34 * unit)
    y = _section(draw, _(texts.TOP_WORDS), side, y, unit)
    y = _chips(draw, card.words, side, y, width - 2 * side, unit)
    y += round(34 * unit)
    y = _section(draw, _(texts.EMOJI), side, y, unit)
    y = _emoji(draw, card.emoji, side, y, width - 2 * side, unit)
    y += round(34 * unit)
    if card.stickers.top:  # no section for a member without (known) sticker emoji
        stickers = [(s.emoji, s.count) for s in card.stickers.top]
        y = _section(draw, _(texts.STICKERS), side, y, unit)
        y = _emoji(draw, stickers, side, y, width - 2 * side, unit, times=True)
        y += round(34 * unit)
    column = (width - 2 * side - gap) // 2
    bottom = y
    for i, (label, partners) in enumerate(
        (
            (_(texts.REPLIES_TO), card.partners.replies_to),
            (_(texts.REPLIED_BY), card.partners.replied_by),
        )
    ):
        x = side + i * (column + gap)
        yy = _section(draw, label, x, y, unit)
        bottom = max(bottom, _partners(draw, partners, x, yy, column, unit))
    height = bottom + side
    return style.png_bytes(image.crop((0, 0, width, height)))


def _section(draw: ImageDraw.ImageDraw, label: str, x: int, y: int, unit: float) -> int:
    typeface = style.font(round(34 * unit), bold=True)
    draw.text((x, y), label, style.INK, typeface)
    return y + round(typeface.size * 1.45)


def _tiles(
    draw: ImageDraw.ImageDraw,
    tiles: list[Tile],
    x0: int,
    y0: int,
    room: int,
    gap: int,
    unit: float,
) -> int:
    label_font = style.font(round(28 * unit))
    value_font = style.font(round(50 * unit), bold=True)
    note_font = style.font(round(26 * unit))
    pad = round(20 * unit)
    column = (room - gap) // 2
    height = (
        pad * 2
        + round(label_font.size * 1.3)
        + round(value_font.size * 1.2)
        + round(note_font.size)
    )
    y = y0
    for row in range(0, len(tiles), 2):
        for i, tile in enumerate(tiles[row : row + 2]):
            x = x0 + i * (column + gap)
            draw.rounded_rectangle(
                (x, y, x + column, y + height), radius=round(16 * unit), fill=_TILE_FILL
            )
            inner = column - 2 * pad
            ty = y + pad
            draw.text(
                (x + pad, ty),
                style.fit_text(draw, tile.label, label_font, inner),
                style.MUTED,
                label_font,
            )
            ty += round(label_font.size * 1.3)
            draw.text(
                (x + pad, ty),
                style.fit_text(draw, tile.value, value_font, inner),
                style.ACCENT,
                value_font,
            )
            ty += round(value_font.size * 1.2)
            if tile.note:
                draw.text(
                    (x + pad, ty),
                    style.fit_text(draw, tile.note, note_font, inner),
                    style.MUTED,
                    note_font,
                )
        y += height + gap
    return y - gap


def _hours(
    draw: ImageDraw.ImageDraw, grid: list[list[int]], x0: int, y0: int, room: int, unit: float
) -> int:
    """A 7 x 24 grid, weekdays down, hours across, coloured like the heatmap."""
    label_font = style.font(round(24 * unit))
    left = round(70 * unit)
    cell_w = (room - left) / 24
    cell_h = round(36 * unit)
    peak = max((max(row) for row in grid), default=0)
    weekdays = texts.weekdays()
    for day, row in enumerate(grid):
        y = y0 + day * cell_h
        draw.text(
            (x0, y + (cell_h - label_font.size) // 2 - 2),
            weekdays[day],
            style.MUTED,
            label_font,
        )
        for hour, n in enumerate(row):
            x = x0 + left + hour * cell_w
            fill = style.colormap_rgb(0.12 + 0.88 * n / peak) if n and peak else style.PANEL
            draw.rectangle((x + 1, y + 1, x + cell_w - 1, y + cell_h - 1), fill=fill)
    y = y0 + 7 * cell_h + round(6 * unit)
    for hour in (0, 6, 12, 18):
        x = x0 + left + hour * cell_w
        draw.text((x + 1, y), f"{hour:02d}", style.MUTED, label_font)
    draw.text(
        (x0 + room - draw.textlength("24", font=label_font), y), "24", style.MUTED, label_font
    )
    return y + round(label_font.size * 1.3)


def _chips(
    draw: ImageDraw.ImageDraw,
    items: list[tuple[str, int]],
    x0: int,
    y0: int,
    room: int,
    unit: float,
    *,
    times: bool = False,
) -> int:
    """``word 12`` chips (``😂 ×12`` with ``times``), flowing into lines."""
    word_font = style.font(round(32 * unit), bold=True)
    count_font = style.font(round(26 * unit))
    if not items:
        draw.text((x0, y0), _(texts.NONE), style.MUTED, count_font)
        return y0 + round(count_font.size * 1.4)
    pad, gap = round(14 * unit), round(12 * unit)
    height = round(word_font.size * 1.5)
    x, y = x0, y0
    for word, n in items:
        label = style.fit_text(draw, word, word_font, room // 2)
        count = f" ×{n:,}" if times else f" {n:,}"
        w = draw.textlength(label, font=word_font) + draw.textlength(count, font=count_font)
        w = round(w) + 2 * pad
        if x > x0 and x + w > x0 + room:
            x, y = x0, y + height + gap
        draw.rounded_rectangle((x, y, x + w, y + height), radius=height // 2, fill=_TILE_FILL)
        ty = y + (height - word_font.size) // 2 - round(2 * unit)
        draw.text((x + pad, ty), label, style.INK, word_font)
        cx = x + pad + draw.textlength(label, font=word_font)
        draw.text((cx, ty + word_font.size - count_font.size), count, style.MUTED, count_font)
        x += w + gap
    return y + height


def _emoji(
    draw: ImageDraw.ImageDraw,
    items: list[tuple[str, int]],
    x0: int,
    y0: int,
    room: int,
    unit: float,
    *,
    times: bool = False,
) -> int:
    shown = [(e, n) for e, n in items if drawable(e)]
    note_font = style.font(round(26 * unit))
    y = y0
    if shown:
        y = _chips(draw, shown, x0, y0, room, unit, times=times)
        y += round(10 * unit)
    if len(shown) < len(items) or not items:
        note = _(texts.MORE_IN_CAPTION) if items else _(texts.NONE)
        draw.text((x0, y), note, style.MUTED, note_font)
        y += round(note_font.size * 1.4)
    return y


def _partners(
    draw: ImageDraw.ImageDraw,
    partners: list[ReplyPartner],
    x0: int,
    y0: int,
    room: int,
    unit: float,
) -> int:
    name_font = style.font(round(30 * unit))
    count_font = style.font(round(30 * unit), bold=True)
    line = round(name_font.size * 1.45)
    if not partners:
        draw.text((x0, y0), _(texts.NONE), style.MUTED, name_font)
        return y0 + line
    y = y0
    for partner in partners:
        count = f"{partner.replies:,}"
        count_w = draw.textlength(count, font=count_font)
        name = style.fit_text(draw, texts.name(partner.user), name_font, room - count_w - 12 * unit)
        draw.text((x0, y), name, style.INK, name_font)
        draw.text((x0 + room - count_w, y), count, style.PRIMARY, count_font)
        y += line
    return y
