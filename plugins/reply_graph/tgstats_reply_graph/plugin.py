"""``/replies``: who replies to whom, as a network picture."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import attrs
from tgstats.plugins import (
    ButtonContext,
    CommandContext,
    Period,
    PhotoReply,
    Plugin,
    PluginHost,
    TextReply,
    UserInfo,
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

from tgstats_reply_graph.graph import Graph, build_graph
from tgstats_reply_graph.render import render_graph

Context = CommandContext | ButtonContext

__all__ = ["MAX_TOP", "ReplyGraph", "ReplyGraphConfig", "ReplyGraphPlugin"]

MAX_TOP = 30  # more members than this round one circle is no longer readable on a phone


def _top(_inst: Any, attribute: attrs.Attribute[int], value: int) -> None:
    if not 2 <= value <= MAX_TOP:
        raise ValueError(f"{attribute.name}: expected 2..{MAX_TOP} members, got {value}")


def _width(_inst: Any, attribute: attrs.Attribute[int], value: int) -> None:
    if not 400 <= value <= 4096:
        raise ValueError(f"{attribute.name}: expected 400..4096 pixels, got {value}")


@attrs.frozen
class ReplyGraphConfig:
    days: int = attrs.field(default=30, validator=check_days)  # period without arguments
    timezone: str = attrs.field(default="UTC", validator=check_zone)
    chat_timezones: dict[str, str] = attrs.field(factory=dict, validator=check_chat_zones)
    top: int = attrs.field(default=12, validator=_top)  # members drawn
    width: int = attrs.field(default=1080, validator=_width)  # pixels


@attrs.frozen
class ReplyGraph:
    """The numbers behind the picture (tests check these exactly)."""

    graph: Graph
    title: str
    subtitle: str
    footer: str
    caption: str


class ReplyGraphPlugin(Plugin[ReplyGraphConfig]):
    Config = ReplyGraphConfig

    def __init__(self, config: ReplyGraphConfig, host: PluginHost) -> None:
        super().__init__(config, host)
        self.zone_for = chat_zones(config.timezone, config.chat_timezones)

    def chat_zone(self, ctx: Context) -> ZoneInfo:
        """The chat's own time zone (its admins' /settings) over the options."""
        return ctx.settings.zone(self.zone_for(ctx.chat_id))

    # Plain def: the queries and the drawing run in a worker thread.
    @command("replies", "Who replies to whom: /replies [N days | all]")
    def replies(self, ctx: CommandContext) -> TextReply | PhotoReply:
        zone = self.chat_zone(ctx)
        period = resolve_period(ctx, default_days=self.config.days, allow_user=False, zone=zone)
        if isinstance(period, TextReply):
            return period
        return self.answer(ctx, period)

    # The period buttons under the picture: redrawn in place.
    @button("period")
    def period(self, ctx: ButtonContext) -> TextReply | PhotoReply:
        period = resolve_button_period(ctx, zone=self.chat_zone(ctx))
        if isinstance(period, TextReply):
            return period
        return self.answer(ctx, period)

    def answer(self, ctx: Context, period: Period) -> TextReply | PhotoReply:
        buttons = period_buttons("period", period)
        data = self.compute(ctx, period)
        if isinstance(data, TextReply):
            # Buttons here too: a press on "7 days" must leave a way back.
            return TextReply(data.text, buttons=buttons)
        png = render_graph(
            data.graph,
            title=data.title,
            subtitle=data.subtitle,
            footer=data.footer,
            width=self.config.width,
        )
        return PhotoReply(png=png, caption=data.caption, buttons=buttons)

    def compute(self, ctx: Context, period: Period | None = None) -> ReplyGraph | TextReply:
        """The graph for ``period`` (the command's by default), or the text to answer instead."""
        if period is None:
            assert isinstance(ctx, CommandContext)
            zone = self.chat_zone(ctx)
            resolved = resolve_period(
                ctx, default_days=self.config.days, allow_user=False, zone=zone
            )
            if isinstance(resolved, TextReply):
                return resolved
            period = resolved
        members = ctx.store.member_message_counts(ctx.chat_id, since=period.since)
        pairs = ctx.store.reply_pairs(ctx.chat_id, since=period.since)
        graph = build_graph(members, pairs, self.config.top)
        if graph.replies == 0:
            return TextReply(_no_replies(period))
        return ReplyGraph(
            graph=graph,
            title=_title(ctx),
            subtitle=_subtitle(period, graph),
            footer=_footer(graph),
            caption=_caption(graph, period),
        )


def _name(user: UserInfo) -> str:
    return f"@{user.username}" if user.username else user.display_name


def _title(ctx: Context) -> str:
    if ctx.chat_title:
        return ctx.chat_title
    chat = ctx.store.chat(ctx.chat_id)
    return chat.title if chat is not None and chat.title else _("This chat")


def _replies(n: int) -> str:
    return ngettext("{n} reply", "{n} replies", n).format(n=format_number(n))


def _subtitle(period: Period, graph: Graph) -> str:
    return _("Who replies to whom · {period} · {replies}").format(
        period=period.label, replies=_replies(graph.replies)
    )


def _footer(graph: Graph) -> str:
    lines = [
        _("Top {n} by messages · circle: messages · line: replies").format(
            n=format_number(len(graph.nodes))
        )
    ]
    if graph.rest_members:
        hidden = graph.replies - graph.drawn_replies
        members = ngettext("{n} more member", "{n} more members", graph.rest_members)
        messages = ngettext("{n} msg", "{n} msgs", graph.rest_messages)
        lines.append(
            _("+ {members}: {messages}, {replies}").format(
                members=members.format(n=format_number(graph.rest_members)),
                messages=messages.format(n=format_number(graph.rest_messages)),
                replies=_replies(hidden),
            )
        )
    return "\n".join(lines)


def _caption(graph: Graph, period: Period) -> str:
    directed = []
    for edge in graph.edges:
        a, b = graph.nodes[edge.a].user, graph.nodes[edge.b].user
        if edge.a_to_b:
            directed.append((edge.a_to_b, _name(a), _name(b)))
        if edge.b_to_a:
            directed.append((edge.b_to_a, _name(b), _name(a)))
    directed.sort(key=lambda d: (-d[0], d[1], d[2]))
    top = " · ".join(f"{src} → {dst} {format_number(n)}" for n, src, dst in directed[:3])
    # Whole sentences, so a translator may reorder them.
    if period.days:
        if top:
            return _("Replies in the {period}: most often {top}").format(
                period=period.label, top=top
            )
        return _("Replies in the {period}").format(period=period.label)
    if top:
        return _("Replies, all time: most often {top}").format(top=top)
    return _("Replies, all time")


def _no_replies(period: Period) -> str:
    if period.days is None:
        return _("No member has replied to another yet, so there is no reply graph to draw.")
    return _(
        "No member has replied to another in the {period}, so there is no reply graph to draw."
    ).format(period=period.label)
