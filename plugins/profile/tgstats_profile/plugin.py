"""``/me`` and ``/whois``: one member's card, a single picture made for a phone."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import attrs
from tgstats.plugins import (
    ButtonContext,
    CommandContext,
    Period,
    PeriodUsageError,
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
    parse_period_args,
    period_buttons,
    period_start,
    resolve_button_period,
)

from tgstats_profile import texts
from tgstats_profile.card import Card, build_card
from tgstats_profile.render import render_card

Context = CommandContext | ButtonContext

__all__ = ["ProfileConfig", "ProfilePlugin"]


def _days(instance: Any, attribute: attrs.Attribute[int | None], value: int | None) -> None:
    if value is not None:
        check_days(instance, attribute, value)  # type: ignore[arg-type]


def _width(_inst: Any, attribute: attrs.Attribute[int], value: int) -> None:
    if not 400 <= value <= 4096:
        raise ValueError(f"{attribute.name}: expected 400..4096 pixels, got {value}")


def _sample(_inst: Any, attribute: attrs.Attribute[int], value: int) -> None:
    if not 0 <= value <= 50_000:
        raise ValueError(f"{attribute.name}: expected 0..50000 texts, got {value}")


def _languages(_inst: Any, attribute: attrs.Attribute[list[str]], value: list[str]) -> None:
    if len(value) > 60 or not all(isinstance(v, str) and 2 <= len(v) <= 3 for v in value):
        raise ValueError(
            f"{attribute.name}: expected a list of up to 60 language codes like 'en', got {value!r}"
        )


@attrs.frozen
class ProfileConfig:
    days: int | None = attrs.field(default=None, validator=_days)  # None: all history
    timezone: str = attrs.field(default="UTC", validator=check_zone)
    chat_timezones: dict[str, str] = attrs.field(factory=dict, validator=check_chat_zones)
    text_sample: int = attrs.field(default=5000, validator=_sample)
    stop_word_languages: list[str] = attrs.field(
        factory=lambda: ["en", "ru", "de", "es", "fr", "it", "pt", "uk"], validator=_languages
    )
    width: int = attrs.field(default=1080, validator=_width)  # pixels


class ProfilePlugin(Plugin[ProfileConfig]):
    Config = ProfileConfig

    def __init__(self, config: ProfileConfig, host: PluginHost) -> None:
        super().__init__(config, host)
        self.zone_for = chat_zones(config.timezone, config.chat_timezones)

    def chat_zone(self, ctx: Context) -> ZoneInfo:
        """The chat's own time zone (its admins' /settings) over the options."""
        return ctx.settings.zone(self.zone_for(ctx.chat_id))

    # Plain def: the queries and the drawing run in a worker thread.
    @command("me", "Your member card: /me [N days | all]")
    def me(self, ctx: CommandContext) -> TextReply | PhotoReply:
        days = self.requested_days(ctx, allow_user=False)
        if isinstance(days, TextReply):
            return days
        if ctx.user_id is None:
            return TextReply(_(texts.NO_SENDER))
        return self.card_for(ctx, days, user_id=ctx.user_id, username=None, myself=True)

    @command("whois", "A member's card: /whois @user [N days | all], or in reply to them")
    def whois(self, ctx: CommandContext) -> TextReply | PhotoReply:
        try:
            request = parse_period_args(
                ctx.args,
                command=ctx.command,
                default_days=ctx.settings.days(self.config.days),
                allow_user=True,
            )
        except PeriodUsageError as error:
            # The host's usage line (in the reply's language) names /whois's
            # plain form; this command's own usage says more.
            plain = _plain_usage(ctx.command)
            if str(error) == plain:
                return TextReply(_(texts.WHOIS_USAGE))
            return TextReply(str(error).replace(plain, _(texts.WHOIS_USAGE)))
        if request.username is not None:
            return self.card_for(ctx, request.days, user_id=None, username=request.username)
        target = _replied_to(ctx)
        if target is None:
            return TextReply(_(texts.WHOIS_USAGE))
        return self.card_for(ctx, request.days, user_id=target, username=None)

    # The period buttons under the card: redrawn in place, still that member's.
    @button("card")
    def period(self, ctx: ButtonContext) -> TextReply | PhotoReply:
        period = resolve_button_period(ctx, zone=self.chat_zone(ctx))
        if isinstance(period, TextReply):
            return period
        if period.user is None:
            return TextReply(_(texts.STALE))
        return self.answer(ctx, period)

    def requested_days(self, ctx: CommandContext, *, allow_user: bool) -> int | TextReply | None:
        try:
            request = parse_period_args(
                ctx.args,
                command=ctx.command,
                default_days=ctx.settings.days(self.config.days),
                allow_user=allow_user,
            )
        except PeriodUsageError as error:
            return TextReply(str(error))
        return request.days

    def card_for(
        self,
        ctx: CommandContext,
        days: int | None,
        *,
        user_id: int | None,
        username: str | None,
        myself: bool = False,
    ) -> TextReply | PhotoReply:
        """Look the member up (opted out? excluded? unknown?) and answer with their card."""
        store = ctx.store
        opted = store.opted_out_member(ctx.chat_id, user_id=user_id, username=username)
        if opted is not None:
            return TextReply(_(texts.YOU_OPTED_OUT) if myself else texts.opted_out(opted))
        if username is not None:
            user = store.find_user(ctx.chat_id, username)
        else:
            assert user_id is not None
            user = store.member(ctx.chat_id, user_id)
        if user is None:
            if myself:
                return TextReply(_(texts.NO_MESSAGES_FROM_YOU))
            return TextReply(texts.unknown_member(username))
        if user.user_id in ctx.settings.excluded_user_ids:
            return TextReply(texts.excluded(user))
        zone = self.chat_zone(ctx)
        since = None if days is None else period_start(ctx.now, days, zone)
        return self.answer(ctx, Period(since=since, until=None, days=days, user=user))

    def answer(self, ctx: Context, period: Period) -> TextReply | PhotoReply:
        buttons = period_buttons("card", period)
        card = self.compute(ctx, period)
        if isinstance(card, TextReply):
            # Buttons here too: a press on "7 days" must leave a way back.
            return TextReply(card.text, buttons=buttons)
        png = render_card(card, width=self.config.width)
        return PhotoReply(png=png, caption=card.caption, buttons=buttons)

    def compute(self, ctx: Context, period: Period) -> Card | TextReply:
        """The numbers and words of the card (tests check these exactly), or the text."""
        assert period.user is not None
        return build_card(
            ctx.store,
            chat_id=ctx.chat_id,
            chat_title=_chat_title(ctx),
            user=period.user,
            period=period,
            zone=self.chat_zone(ctx),
            text_sample=self.config.text_sample,
            languages=tuple(self.config.stop_word_languages),
        )


def _replied_to(ctx: CommandContext) -> int | None:
    """The sender of the message ``/whois`` replies to (a channel posting as itself too)."""
    message = ctx.update.effective_message if ctx.update is not None else None
    parent = message.reply_to_message if message is not None else None
    if parent is None:
        return None
    # In a forum topic every message "replies" to the topic's first message.
    if (
        message is not None
        and message.is_topic_message
        and (parent.message_id == message.message_thread_id)
    ):
        return None
    if parent.sender_chat is not None:
        return parent.sender_chat.id
    return parent.from_user.id if parent.from_user is not None else None


def _chat_title(ctx: Context) -> str:
    if ctx.chat_title:
        return ctx.chat_title
    chat = ctx.store.chat(ctx.chat_id)
    return chat.title if chat is not None and chat.title else _("This chat")


def _plain_usage(command: str) -> str:
    """The host's usage line for ``command`` in the current language (from a word it refuses)."""
    try:
        parse_period_args(["?"], command=command, default_days=None, allow_user=True)
    except PeriodUsageError as error:
        return str(error)
    return ""  # "?" is never a period or a member
