"""``/heatmap``: when does the chat talk? Messages per weekday and hour as a PNG."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import matplotlib
from tgstats.plugins import (
    ButtonContext,
    CommandContext,
    Period,
    PhotoReply,
    Plugin,
    PluginHost,
    TextReply,
    _,
    button,
    chat_zones,
    check_chat_zones,
    check_days,
    check_zone,
    command,
    format_date,
    format_number,
    ngettext,
    period_buttons,
    resolve_button_period,
    resolve_period,
)

from tgstats_heatmap.render import peak_cell, render_heatmap

# A Monday: its week gives the weekday names in the reply's language.
_MONDAY = date(2024, 1, 1)

__all__ = ["Heatmap", "HeatmapConfig", "HeatmapPlugin"]

_MAX_PIXELS = 4096  # Telegram recompresses photos above ~2560 px anyway


def _check_colormap(_inst: Any, attribute: attrs.Attribute[str], value: str) -> None:
    if value not in matplotlib.colormaps:
        raise ValueError(
            f"{attribute.name}: unknown matplotlib colormap {value!r} "
            "(e.g. 'YlOrRd', 'viridis', 'magma', 'Blues')"
        )


def _positive(_inst: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value > 0:
        raise ValueError(f"{attribute.name}: expected a positive number, got {value}")


@attrs.frozen
class HeatmapConfig:
    days: int = attrs.field(default=30, validator=check_days)  # period without arguments
    timezone: str = attrs.field(default="UTC", validator=check_zone)
    # Per-chat time zones, e.g. {"-1001234567890": "Europe/Berlin"} (quoted ids).
    chat_timezones: dict[str, str] = attrs.field(factory=dict, validator=check_chat_zones)
    # Portrait, for a phone: pixels = inches x dpi (1080 x 1800 by default).
    width: float = attrs.field(default=6.0, validator=_positive)  # inches
    height: float = attrs.field(default=10.0, validator=_positive)  # inches
    dpi: int = attrs.field(default=180, validator=_positive)
    colormap: str = attrs.field(default="YlOrRd", validator=_check_colormap)
    annotate: bool = True  # numbers in the cells when they fit

    def __attrs_post_init__(self) -> None:
        for name, inches in (("width", self.width), ("height", self.height)):
            if inches * self.dpi > _MAX_PIXELS:
                raise ValueError(
                    f"{name}: {inches} in x dpi {self.dpi} = {inches * self.dpi:.0f} px; "
                    f"expected at most {_MAX_PIXELS} px"
                )


class HeatmapPlugin(Plugin[HeatmapConfig]):
    Config = HeatmapConfig
    # What a chat's admins may set for their chat (/settings heatmap_command.colormap Blues).
    chat_options = ("colormap", "annotate")

    def __init__(self, config: HeatmapConfig, host: PluginHost) -> None:
        super().__init__(config, host)
        self.zone_for = chat_zones(config.timezone, config.chat_timezones)

    # Plain def: the query and the rendering run in a worker thread.
    @command("heatmap", "Activity by weekday and hour: /heatmap [N days | all] [@user]")
    def heatmap(self, ctx: CommandContext) -> TextReply | PhotoReply:
        return self.answer(ctx)

    # The period and "me / everyone" buttons under the picture: redrawn in place.
    @button("view")
    def view(self, ctx: ButtonContext) -> TextReply | PhotoReply:
        period = resolve_button_period(ctx, zone=self.zone_for(ctx.chat_id))
        if isinstance(period, TextReply):
            return period
        return self.answer(ctx, period)

    def answer(
        self, ctx: CommandContext | ButtonContext, period: Period | None = None
    ) -> TextReply | PhotoReply:
        """The picture (with its buttons) for ``period``, by default the command's arguments'."""
        data = self.compute(ctx, period)
        if isinstance(data, TextReply):
            return data
        png = render_heatmap(
            data.matrix,
            title=data.title,
            subtitle=data.subtitle,
            width=round(self.config.width * self.config.dpi),
            height=round(self.config.height * self.config.dpi),
            colormap=self.chat_config(ctx).colormap,
            annotate=self.chat_config(ctx).annotate,
            weekdays=weekday_names(),
            # TRANSLATORS: the heading of the totals column and row; keep it short.
            total_label=_("All"),
        )
        buttons = period_buttons("view", data.period, viewer=ctx.user_id, who_toggle=True)
        return PhotoReply(png=png, caption=data.caption, buttons=buttons)

    def compute(
        self, ctx: CommandContext | ButtonContext, period: Period | None = None
    ) -> Heatmap | TextReply:
        """The numbers behind the picture, or the text to answer instead."""
        # The chat's own time zone (set by its admins) wins over the options.
        zone = ctx.settings.zone(self.zone_for(ctx.chat_id))
        if period is None:
            assert isinstance(ctx, CommandContext)
            resolved = resolve_period(ctx, default_days=self.config.days, zone=zone)
            if isinstance(resolved, TextReply):
                return resolved
            period = resolved
        user_id = period.user.user_id if period.user else None
        matrix = ctx.store.counts_by_weekday_hour(
            ctx.chat_id, tz=zone, since=period.since, until=period.until, user_id=user_id
        )
        total = sum(sum(row) for row in matrix)
        if total == 0:
            return TextReply(_no_messages(period))
        return Heatmap(
            matrix=matrix,
            total=total,
            zone=zone,
            title=_title(ctx, period),
            subtitle=_subtitle(period, total, zone.key),
            caption=_busiest(matrix, zone.key),
            period=period,
        )


@attrs.frozen
class Heatmap:
    matrix: list[list[int]]  # [weekday Monday=0][hour], local time
    total: int
    zone: ZoneInfo
    title: str
    subtitle: str
    caption: str
    period: Period


def _chat_title(ctx: CommandContext | ButtonContext) -> str:
    if ctx.chat_title:
        return ctx.chat_title
    chat = ctx.store.chat(ctx.chat_id)
    return chat.title if chat is not None and chat.title else _("This chat")


def _title(ctx: CommandContext | ButtonContext, period: Period) -> str:
    who = f" — {period.user_label}" if period.user_label else ""
    return f"{_chat_title(ctx)}{who}"


def weekday_names() -> list[str]:
    """Monday..Sunday, abbreviated, in the reply's language (Babel's CLDR names)."""
    return [format_date(_MONDAY + timedelta(days=i), "EEE") for i in range(7)]


def _messages(n: int) -> str:
    return ngettext("{n} message", "{n} messages", n).format(n=format_number(n))


def _subtitle(period: Period, total: int, zone_name: str) -> str:
    return _("{period} · {messages} · hours in {zone}").format(
        period=_capitalized(period.label), messages=_messages(total), zone=zone_name
    )


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


def _no_messages(period: Period) -> str:
    if period.user_label:
        if period.days is None:
            text = _("No messages from {who} yet, so there is no heatmap to draw.")
        else:
            text = _("No messages from {who} in the {period}, so there is no heatmap to draw.")
    elif period.days is None:
        text = _("No messages yet, so there is no heatmap to draw.")
    else:
        text = _("No messages in the {period}, so there is no heatmap to draw.")
    return text.format(who=period.user_label, period=period.label)


def _busiest(matrix: list[list[int]], zone_name: str) -> str:
    count, day, hour = peak_cell(matrix)
    return _("Busiest hour (outlined): {day} {start}–{end} ({messages}, {zone})").format(
        day=weekday_names()[day],
        start=f"{hour:02d}:00",
        end=f"{(hour + 1) % 24:02d}:00",
        messages=_messages(count),
        zone=zone_name,
    )
