"""``/activity``: how busy is the chat over time, and compared with before?"""

from __future__ import annotations

import bisect
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import attrs
from tgstats.plugins import (
    N_,
    ActivityBucket,
    ActivityTotals,
    BucketUnit,
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
    period_start,
    resolve_button_period,
    resolve_period,
)

from tgstats_activity.render import ActivityPicture, MemberFlow, render_activity

Context = CommandContext | ButtonContext

__all__ = ["Activity", "ActivityConfig", "ActivityPlugin", "bucket_unit", "change_text"]


def _width(_inst: Any, attribute: attrs.Attribute[int], value: int) -> None:
    if not 400 <= value <= 4096:
        raise ValueError(f"{attribute.name}: expected 400..4096 pixels, got {value}")


@attrs.frozen
class ActivityConfig:
    days: int = attrs.field(default=30, validator=check_days)  # period without arguments
    timezone: str = attrs.field(default="UTC", validator=check_zone)
    # Per-chat time zones, e.g. {"-1001234567890": "Europe/Berlin"} (quoted ids).
    chat_timezones: dict[str, str] = attrs.field(factory=dict, validator=check_chat_zones)
    # Spans up to daily_up_to days get a bar per day, up to weekly_up_to a bar
    # per week, longer ones a bar per month: 30-100 bars fit a phone's width.
    daily_up_to: int = attrs.field(default=92, validator=check_days)
    weekly_up_to: int = attrs.field(default=730, validator=check_days)
    width: int = attrs.field(default=1080, validator=_width)  # pixels

    def __attrs_post_init__(self) -> None:
        if self.weekly_up_to < self.daily_up_to:
            raise ValueError(
                f"weekly_up_to: expected at least daily_up_to ({self.daily_up_to}), "
                f"got {self.weekly_up_to}"
            )


@attrs.frozen
class Activity:
    """The numbers behind the picture (tests check these exactly)."""

    unit: BucketUnit
    buckets: list[ActivityBucket]
    totals: ActivityTotals
    previous: ActivityTotals | None  # the period of the same length just before; None for "all"
    flow: list[MemberFlow] | None
    show_members: bool  # the active-members panel: not for one member
    title: str
    subtitle: str
    headline: str  # "1,234 messages"
    change: str  # "▲ +12 % vs the 30 days before"; empty for all time
    caption: str


class ActivityPlugin(Plugin[ActivityConfig]):
    Config = ActivityConfig

    def __init__(self, config: ActivityConfig, host: PluginHost) -> None:
        super().__init__(config, host)
        self.zone_for = chat_zones(config.timezone, config.chat_timezones)

    def chat_zone(self, ctx: Context) -> ZoneInfo:
        """The chat's own time zone (its admins' /settings) over the options."""
        return ctx.settings.zone(self.zone_for(ctx.chat_id))

    # Plain def: the queries and the drawing run in a worker thread.
    @command("activity", "Messages over time: /activity [N days | all] [@user]")
    def activity(self, ctx: CommandContext) -> TextReply | PhotoReply:
        period = resolve_period(ctx, default_days=self.config.days, zone=self.chat_zone(ctx))
        if isinstance(period, TextReply):
            return period
        return self.answer(ctx, period)

    # The period and "me / everyone" buttons under the chart: redrawn in place.
    @button("view")
    def view(self, ctx: ButtonContext) -> TextReply | PhotoReply:
        period = resolve_button_period(ctx, zone=self.chat_zone(ctx))
        if isinstance(period, TextReply):
            return period
        return self.answer(ctx, period)

    def answer(self, ctx: Context, period: Period) -> TextReply | PhotoReply:
        """The chart for ``period`` with the buttons under it (under the text when empty)."""
        buttons = period_buttons("view", period, viewer=ctx.user_id, who_toggle=True)
        data = self.compute(ctx, period)
        if isinstance(data, TextReply):
            # Buttons here too: a press on "7 days" must leave a way back.
            return TextReply(data.text, buttons=buttons)
        png = render_activity(
            ActivityPicture(
                title=data.title,
                subtitle=data.subtitle,
                headline=data.headline,
                change=data.change,
                unit=data.unit,
                buckets=data.buckets,
                show_members=data.show_members,
                flow=data.flow,
            ),
            width=self.config.width,
        )
        return PhotoReply(png=png, caption=data.caption, buttons=buttons)

    def compute(self, ctx: Context, period: Period | None = None) -> Activity | TextReply:
        """The numbers behind the picture (the command's period by default), or the text."""
        zone = self.chat_zone(ctx)
        if period is None:
            assert isinstance(ctx, CommandContext)
            resolved = resolve_period(ctx, default_days=self.config.days, zone=zone)
            if isinstance(resolved, TextReply):
                return resolved
            period = resolved
        user_id = period.user.user_id if period.user else None
        store = ctx.store
        totals = store.activity_totals(ctx.chat_id, since=period.since, user_id=user_id)
        if totals.messages == 0 or totals.first is None:
            return TextReply(_no_messages(period))
        today = ctx.now.astimezone(zone).date()
        first = (period.since or totals.first).astimezone(zone).date()
        unit = bucket_unit((today - first).days + 1, self.config)
        # Buckets up to the end of today (a message a moment after `now` is today's too).
        until = datetime.combine(today + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
        buckets = store.activity_timeline(
            ctx.chat_id, tz=zone, unit=unit, since=period.since, until=until, user_id=user_id
        )
        if not any(b.messages for b in buckets):  # only messages dated after today
            return TextReply(_no_messages(period))
        previous = None
        if period.days is not None and period.since is not None:
            previous = store.activity_totals(
                ctx.chat_id,
                since=period_start(ctx.now, 2 * period.days, zone),
                until=period.since,
                user_id=user_id,
            )
        headline = _messages(totals.messages)
        change = _change(totals, previous, period)
        return Activity(
            unit=unit,
            buckets=buckets,
            totals=totals,
            previous=previous,
            flow=self.member_flow(ctx, buckets, zone) if user_id is None else None,
            show_members=period.user is None,
            title=_title(ctx, period),
            subtitle=_subtitle(period, totals, unit, zone),
            headline=headline,
            change=change,
            caption=_caption(buckets, unit, headline, change, previous, totals, period),
        )

    def member_flow(
        self, ctx: Context, buckets: list[ActivityBucket], zone: ZoneInfo
    ) -> list[MemberFlow] | None:
        """Joins and leaves per bucket, or None when the period has none recorded."""
        if not buckets:
            return None
        since = datetime.combine(buckets[0].start, time(0), tzinfo=zone)
        until = datetime.combine(buckets[-1].end, time(0), tzinfo=zone)
        # The store counts per local day (a few rows at most per day); they are
        # summed into the chart's buckets here.
        days = ctx.store.member_changes(ctx.chat_id, tz=zone, since=since, until=until)
        if not days:
            return None
        flow = [[0, 0] for _ in buckets]
        starts = [bucket.start for bucket in buckets]
        for day in days:
            index = bisect.bisect_right(starts, day.day) - 1
            if 0 <= index < len(buckets) and day.day < buckets[index].end:
                flow[index][0] += day.joins
                flow[index][1] += day.leaves
        return [MemberFlow(joins=joins, leaves=leaves) for joins, leaves in flow]


def bucket_unit(span_days: int, config: ActivityConfig) -> BucketUnit:
    """A bar per day for short spans, per week for longer ones, per month beyond that."""
    if span_days <= config.daily_up_to:
        return "day"
    if span_days <= config.weekly_up_to:
        return "week"
    return "month"


def change_text(current: int, previous: int) -> str:
    """``+12 %``, ``−5 %``, ``±0 %``; ``new`` when there was nothing before."""
    if previous == 0:
        return "new"
    percent = round((current - previous) * 100 / previous)
    if percent == 0:
        return "±0 %"
    return f"+{percent} %" if percent > 0 else f"−{-percent} %"


def _chat_title(ctx: Context) -> str:
    if ctx.chat_title:
        return ctx.chat_title
    chat = ctx.store.chat(ctx.chat_id)
    return chat.title if chat is not None and chat.title else _("This chat")


def _title(ctx: Context, period: Period) -> str:
    who = f" — {period.user_label}" if period.user_label else ""
    return f"{_chat_title(ctx)}{who}"


def _messages(n: int) -> str:
    return ngettext("{n} message", "{n} messages", n).format(n=format_number(n))


# Whole phrases per bar size: the words around a unit change with it in other
# languages (gender, case), so none is glued from a unit name.
_UNITS_IN_ZONE = {
    "day": N_("days in {zone}"),
    "week": N_("weeks in {zone}"),
    "month": N_("months in {zone}"),
}
_BUSIEST = {
    "day": N_("Busiest day: {name} ({messages})"),
    "week": N_("Busiest week: {name} ({messages})"),
    "month": N_("Busiest month: {name} ({messages})"),
}


def _wrote(unit: str, members: int, most: int) -> str:
    if unit == "day":
        text = ngettext(
            "{n} member wrote in this period; at most {most} in one day",
            "{n} members wrote in this period; at most {most} in one day",
            members,
        )
    elif unit == "week":
        text = ngettext(
            "{n} member wrote in this period; at most {most} in one week",
            "{n} members wrote in this period; at most {most} in one week",
            members,
        )
    else:
        text = ngettext(
            "{n} member wrote in this period; at most {most} in one month",
            "{n} members wrote in this period; at most {most} in one month",
            members,
        )
    return text.format(n=format_number(members), most=format_number(most))


def _subtitle(period: Period, totals: ActivityTotals, unit: str, zone: ZoneInfo) -> str:
    parts = [period.label.capitalize()]
    if period.user is None:
        active = ngettext("{n} member active", "{n} members active", totals.active_members)
        parts.append(active.format(n=format_number(totals.active_members)))
    parts.append(_(_UNITS_IN_ZONE[unit]).format(zone=zone.key))
    return " · ".join(parts)


def _change(totals: ActivityTotals, previous: ActivityTotals | None, period: Period) -> str:
    if previous is None:
        return ""
    change = change_text(totals.messages, previous.messages)
    days = period.days or 0
    if change == "new":
        if days == 1:
            return _("none in the day before")
        return ngettext("none in the {n} day before", "none in the {n} days before", days).format(
            n=format_number(days)
        )
    if change != "±0 %":
        change = f"{'▲' if totals.messages > previous.messages else '▼'} {change}"
    if days == 1:
        return _("{change} vs the day before").format(change=change)
    return ngettext(
        "{change} vs the {n} day before", "{change} vs the {n} days before", days
    ).format(change=change, n=format_number(days))


def _with_change(headline: str, change: str, previous: ActivityTotals | None) -> str:
    if not change or previous is None:
        return headline
    return f"{headline}, {change.lstrip('▲▼ ')} ({format_number(previous.messages)})"


def _bucket_name(bucket: ActivityBucket, unit: str) -> str:
    if unit == "day":
        return format_date(bucket.start, "EEE dd MMM y")
    if unit == "week":
        return _("week of {date}").format(date=format_date(bucket.start, "dd MMM y"))
    # LLLL: the month's name as it stands alone ("март 2026", not "марта").
    return format_date(bucket.start, "LLLL y")


def _caption(
    buckets: list[ActivityBucket],
    unit: str,
    headline: str,
    change: str,
    previous: ActivityTotals | None,
    totals: ActivityTotals,
    period: Period,
) -> str:
    busiest = max(buckets, key=lambda b: (b.messages, -b.start.toordinal()))
    lines = [
        _with_change(headline, change, previous),
        _(_BUSIEST[unit]).format(
            name=_bucket_name(busiest, unit), messages=_messages(busiest.messages)
        ),
    ]
    if period.user is None:
        most = max(b.active_members for b in buckets)
        lines.append(_wrote(unit, totals.active_members, most))
    return "\n".join(lines)


def _no_messages(period: Period) -> str:
    if period.user_label:
        if period.days is None:
            text = _("No messages from {who} yet, so there is no activity chart to draw.")
        else:
            text = _(
                "No messages from {who} in the {period}, so there is no activity chart to draw."
            )
    elif period.days is None:
        text = _("No messages yet, so there is no activity chart to draw.")
    else:
        text = _("No messages in the {period}, so there is no activity chart to draw.")
    return text.format(who=period.user_label, period=period.label)
