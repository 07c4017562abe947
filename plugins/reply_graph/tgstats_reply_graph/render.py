"""Draw the reply graph: members round a circle, replies as chords, made for a phone.

A circle is the layout that needs no randomness (the same chat gives the same
picture every time) and keeps every label readable up to 30 members: the
busiest member sits at 12 o'clock and the others follow clockwise by
messages.  A node's area grows with the member's messages, a chord's width
and colour with the replies between the two (both ways).  Pillow draws
without anti-aliasing, so the picture is drawn twice as large and scaled
down.
"""

from __future__ import annotations

import math

from PIL import Image, ImageChops, ImageDraw, ImageFont
from tgstats.plugins import UserInfo, style

from tgstats_reply_graph.graph import Graph, circle_positions

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
    label_size = round(size * (0.026 if count <= 16 else 0.022))
    label_font = style.font(label_size)
    bold_font = style.font(label_size, bold=True)
    # Room for labels on both sides: the widest label decides the circle's size.
    label_room = min(
        size * 0.26, max(_label_width(draw, graph, label_font, bold_font), size * 0.12)
    )
    radius = size / 2 - label_room - size * 0.05
    cx = cy = size / 2
    spots = circle_positions(count, cx, cy, radius)
    spacing = 2 * math.pi * radius / count if count > 1 else radius
    largest = min(size * 0.06, spacing * 0.42)
    smallest = max(size * 0.008, largest * 0.25)
    most = max(n.messages for n in graph.nodes) or 1
    radii = [smallest + (largest - smallest) * math.sqrt(n.messages / most) for n in graph.nodes]

    heaviest = max((e.replies for e in graph.edges), default=1)
    widest = max(2.0, largest * 0.9)
    for edge in graph.edges:  # fewest replies first: heavy chords end up on top
        share = edge.replies / heaviest
        colour = style.colormap_rgb(0.3 + 0.7 * share)
        line = max(1, round(1 + (widest - 1) * share))
        draw.line((*spots[edge.a], *spots[edge.b]), fill=colour, width=line)

    for k, node in enumerate(graph.nodes):
        x, y = spots[k]
        r = radii[k]
        outline = max(2, round(size * 0.003))
        draw.ellipse(
            (x - r, y - r, x + r, y + r), fill=style.PRIMARY, outline="white", width=outline
        )
        angle = math.atan2(y - cy, x - cx)
        gap = r + size * 0.012
        lx, ly = x + gap * math.cos(angle), y + gap * math.sin(angle)
        anchor = _anchor(angle)
        text = style.fit_text(draw, _name(node.user), label_font, label_room * 0.95)
        number = f" {style.compact_count(node.messages)}"
        _label(draw, (lx, ly), anchor, text, number, label_font, bold_font)


def _label_width(
    draw: ImageDraw.ImageDraw,
    graph: Graph,
    regular: ImageFont.FreeTypeFont,
    bold: ImageFont.FreeTypeFont,
) -> float:
    return max(
        draw.textlength(_name(n.user) + f" {style.compact_count(n.messages)}", font=regular)
        for n in graph.nodes
    )


def _anchor(angle: float) -> str:
    """Text anchor that puts a label outside the circle at ``angle`` (radians, y down)."""
    cos, sin = math.cos(angle), math.sin(angle)
    if abs(cos) < 0.3:
        return "md" if sin < 0 else "ma"
    return "lm" if cos > 0 else "rm"


def _label(
    draw: ImageDraw.ImageDraw,
    xy: tuple[float, float],
    anchor: str,
    name: str,
    number: str,
    regular: ImageFont.FreeTypeFont,
    bold: ImageFont.FreeTypeFont,
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
