"""``/engagement``: who keeps the chat alive? Members ranked by an engagement score."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import attrs
from tgstats.plugins import (
    ButtonContext,
    CommandContext,
    Period,
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
    format_number,
    ngettext,
    period_buttons,
    resolve_button_period,
    resolve_period,
)

from tgstats_engagement.ranking import explanation, format_ranking
from tgstats_engagement.score import Weights, applicable, rank

__all__ = ["EngagementConfig", "EngagementPlugin"]


def _in_range(low: int, high: int) -> Any:
    def check(_inst: Any, attribute: attrs.Attribute[int], value: int) -> None:
        if not low <= value <= high:
            raise ValueError(f"{attribute.name}: expected {low}..{high}, got {value}")

    return check


@attrs.frozen
class EngagementConfig:
    days: int = attrs.field(default=30, validator=check_days)
    top_n: int = attrs.field(default=15, validator=_in_range(1, 50))
    weights: Weights = attrs.field(factory=Weights)
    # Zone whose calendar days count as "active days".
    timezone: str = attrs.field(default="UTC", validator=check_zone)
    chat_timezones: dict[str, str] = attrs.field(factory=dict, validator=check_chat_zones)
    name_width: int = attrs.field(default=16, validator=_in_range(4, 40))
    # Posts made as a channel (or by an anonymous admin) count as messages of
    # the chat, but a channel is not a member: kept out of the ranking unless true.
    include_channels: bool = False


class EngagementPlugin(Plugin[EngagementConfig]):
    Config = EngagementConfig
    # What a chat's admins may set for their chat (/settings engagement_scores.top_n 10).
    chat_options = ("top_n", "include_channels")

    def __init__(self, config: EngagementConfig, host: PluginHost) -> None:
        super().__init__(config, host)
        self.zone_for = chat_zones(config.timezone, config.chat_timezones)

    def zone_in(self, ctx: CommandContext | ButtonContext) -> ZoneInfo:
        """The chat's own time zone (set by its admins), else this plugin's option."""
        return ctx.settings.zone(self.zone_for(ctx.chat_id))

    # Plain def: the queries run in a worker thread.
    @command("engagement", "Members ranked by engagement: /engagement [N days | all]")
    def engagement(self, ctx: CommandContext) -> TextReply:
        zone = self.zone_in(ctx)
        period = resolve_period(ctx, default_days=self.config.days, allow_user=False, zone=zone)
        if isinstance(period, TextReply):
            return period
        return self.answer(ctx, period)

    # The period buttons under the ranking: the text is replaced in place.
    @button("period")
    def period(self, ctx: ButtonContext) -> TextReply:
        period = resolve_button_period(ctx, zone=self.zone_in(ctx))
        if isinstance(period, TextReply):
            return period
        return self.answer(ctx, period)

    def answer(self, ctx: CommandContext | ButtonContext, period: Period) -> TextReply:
        """The ranking for ``period``, with the period buttons under it."""
        config = self.chat_config(ctx)
        zone = self.zone_in(ctx)
        buttons = period_buttons("period", period)
        activities = ctx.store.user_activity(
            ctx.chat_id, tz=zone, since=period.since, until=period.until
        )
        if not config.include_channels:
            activities = [a for a in activities if not a.user.is_channel]
        # Members who only received replies have no messages of their own in the period.
        if not any(a.messages for a in activities):
            if period.days is None:
                text = _("No messages yet, so there is nobody to rank.")
            else:
                text = _("No messages in the {period}, so there is nobody to rank.")
            # Buttons here too: a press on "7 days" must leave a way back.
            return TextReply(text.format(period=period.label), buttons=buttons)
        weights = config.weights
        ranked = rank(activities, weights)
        counted = applicable(activities, weights)
        shown = ranked[: config.top_n]
        lines = [_title(ctx, period, len(ranked)), ""]
        lines += format_ranking(shown, name_width=config.name_width, applicable=counted)
        if len(ranked) > len(shown):
            more = len(ranked) - len(shown)
            lines.append(ngettext("… and {n} more", "… and {n} more", more).format(n=more))
        lines += ["", explanation(weights, counted)]
        return TextReply("\n".join(lines), buttons=buttons)


def _title(ctx: CommandContext | ButtonContext, period: Period, members: int) -> str:
    title = ctx.chat_title
    if not title:
        chat = ctx.store.chat(ctx.chat_id)
        title = chat.title if chat is not None and chat.title else _("this chat")
    members_text = ngettext("{n} member", "{n} members", members).format(n=format_number(members))
    return _("Engagement in {title}, {period} ({members})").format(
        title=title, period=period.label, members=members_text
    )
