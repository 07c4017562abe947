"""Draw the reply graph: members round a ring, replies as chords, made for a phone.

A ring is a layout that needs no randomness (the same chat gives the same
picture every time) and keeps every label readable up to 30 members: members
alternate right and left by rank from the top, evenly spaced in height, so
each label has a line of its own beside its node.  A node's area grows with
the member's messages, a chord's width and colour with the replies between
the two (both ways).  Pillow draws without anti-aliasing, so the picture is
drawn twice as large and scaled down.
"""

from __future__ import annotations

import math

from PIL import Image, ImageChops, ImageDraw, ImageFont
from tgstats.plugins import UserInfo, style

from tgstats_reply_graph.graph import Graph, ring_positions

__all__ = ["render_graph"]

_SCALE = 2  # drawn this much larger, then scaled down (smooth chords and circles)


def _name(user: UserInfo) -> str:
    return f"@{user.username}" if user.username else user.display_name


def render_graph(graph: Graph, *, title: str, subtitle: str, footer: str, width: int) -> bytes:
    """PNG bytes, ``width`` px wide and a little taller (portrait, for a phone)."""
    if not graph.nodes:
        raise ValueError("nothing to draw: no members")
    big = Image.new("RGB", (width * _SCALE, width * _SCALE), style.BACKGROUND)
    _draw_graph(big, graph)
    body = big.resize((width, width), Image.Resampling.LANCZOS)
    # Keep only the rows the graph uses: a few members leave the square's
    # bottom empty, and a phone screen has no height to spare.  (A threshold,
    # not any difference: scaling leaves faint noise next to the drawing.)
    ink = ImageChops.difference(body, Image.new("RGB", body.size, style.BACKGROUND)).convert("L")
    used = ink.point(lambda v: 255 if v > 8 else 0).getbbox()
    pad = style.margin(width)
    if used is not None:
        body = body.crop((0, max(0, used[1] - pad), width, min(width, used[3] + pad)))
    footer_size = round(width * 0.03)
    lines = footer.splitlines()[:2]
    footer_height = round(footer_size * (1.5 * len(lines) + 0.8))
    height = style.header_height(width) + body.height + footer_height
    image, top = style.canvas(width, height, title=title, subtitle=subtitle)
    image.paste(body, (0, top))
    draw = ImageDraw.Draw(image)
    typeface = style.font(footer_size)
    y = top + body.height
    for line in lines:
        text = style.fit_text(draw, line, typeface, width - 2 * pad)
        draw.text((pad, y), text, style.MUTED, typeface)
        y += round(footer_size * 1.5)
    return style.png_bytes(image)


def _draw_graph(image: Image.Image, graph: Graph) -> None:
    size = image.width
    draw = ImageDraw.Draw(image)
    count = len(graph.nodes)
    label_font = style.font(round(size * (0.028 if count <= 16 else 0.024)))
    # A tall ring (the picture is portrait) with labels in its free sides.
    cx, cy = size / 2, size / 2
    rx, ry = size * 0.2, size * 0.44
    spots = ring_positions(count, cx, cy, rx, ry)
    per_side = math.ceil(count / 2)
    spacing = 2 * ry / per_side
    largest = min(size * 0.05, spacing * 0.42)
    smallest = max(size * 0.008, largest * 0.25)
    most = max(n.messages for n in graph.nodes) or 1
    radii = [smallest + (largest - smallest) * math.sqrt(n.messages / most) for n in graph.nodes]

    heaviest = max((e.replies for e in graph.edges), default=1)
    widest = max(2.0, largest * 0.6)
    for edge in graph.edges:  # fewest replies first: heavy chords end up on top
        share = edge.replies / heaviest
        colour = style.colormap_rgb(0.3 + 0.7 * share)
        line = max(1, round(1 + (widest - 1) * share))
        draw.line((*spots[edge.a], *spots[edge.b]), fill=colour, width=line)

    outline = max(2, round(size * 0.003))
    side = style.margin(size)
    for k, node in enumerate(graph.nodes):
        x, y = spots[k]
        r = radii[k]
        draw.ellipse(
            (x - r, y - r, x + r, y + r), fill=style.PRIMARY, outline="white", width=outline
        )
        gap = r + size * 0.012
        right = x >= cx
        lx = x + gap if right else x - gap
        room = (size - side - lx) if right else (lx - side)
        number = f" {style.compact_count(node.messages)}"
        name = style.fit_text(
            draw, _name(node.user), label_font, room - draw.textlength(number, font=label_font)
        )
        _label(draw, (lx, y), "lm" if right else "rm", name, number, label_font)


def _label(
    draw: ImageDraw.ImageDraw,
    xy: tuple[float, float],
    anchor: str,
    name: str,
    number: str,
    regular: ImageFont.FreeTypeFont,
) -> None:
    """``name`` in ink and the message count in muted, as one label anchored at ``xy``."""
    text = name + number
    left, top, _right, _bottom = draw.textbbox(xy, text, font=regular, anchor=anchor)
    baseline_anchor = "ls"
    _, ascent_top, _, _ = draw.textbbox((0, 0), text, font=regular, anchor=baseline_anchor)
    origin = (left, top - ascent_top)
    draw.text(origin, name, style.INK, regular, anchor=baseline_anchor)
    offset = draw.textlength(name, font=regular)
    draw.text((left + offset, origin[1]), number, style.MUTED, regular, anchor=baseline_anchor)
