"""``/digest`` and the weekly post: a week of the chat in one picture and a few lines.

The post is off by default; a chat's admins switch it on and choose its day
and local time with ``/settings`` (``weekly_digest.enabled``, ``.day``,
``.time``).  The schedule is a :func:`per_chat` rule, so the host's scheduler
keeps its guarantees per chat: a missed week is posted once, a restart or a
second webhook worker never posts twice.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import stopwordsiso
from tgstats.plugins import (
    CommandContext,
    PhotoReply,
    Plugin,
    PluginHost,
    ScheduleContext,
    TextReply,
    Weekly,
    _,
    check_zone,
    command,
    per_chat,
    schedule,
    weekly,
)

from tgstats_digest import text
from tgstats_digest.numbers import Digest, Window, compute, so_far_window, week_before_window
from tgstats_digest.render import DigestPicture, render_digest

__all__ = ["DigestConfig", "DigestPlugin", "chat_rule", "sexagesimal_time"]


def _day(_inst: Any, attribute: attrs.Attribute[str], value: str) -> None:
    weekly(day=value, time="00:00")  # raises ValueError naming the allowed days


def sexagesimal_time(value: Any) -> Any:
    """``18:30`` typed in /settings or YAML arrives as 1110: YAML 1.1 reads base-60
    numbers (PyYAML does; ``09:30`` stays text only because of its leading zero).
    Turn such a number back into the time it was written as; anything else is
    left for the validator to judge."""
    if isinstance(value, bool) or not isinstance(value, int):
        return value
    if 0 <= value < 24 * 60:  # H:MM
        return f"{value // 60:02d}:{value % 60:02d}"
    if 3600 <= value < 86_400:  # H:MM:SS
        return f"{value // 3600:02d}:{value // 60 % 60:02d}:{value % 60:02d}"
    return value


def _time(_inst: Any, attribute: Any, value: Any) -> None:
    weekly(day="mon", time=value)  # raises ValueError naming the format


def _top(_inst: Any, attribute: attrs.Attribute[int], value: int) -> None:
    if not isinstance(value, int) or not 1 <= value <= 10:
        raise ValueError(f"{attribute.name}: expected 1..10, got {value!r}")


def _width(_inst: Any, attribute: attrs.Attribute[int], value: int) -> None:
    if not isinstance(value, int) or not 400 <= value <= 4096:
        raise ValueError(f"{attribute.name}: expected 400..4096 pixels, got {value!r}")


def _languages(_inst: Any, attribute: attrs.Attribute[list[str]], value: list[str]) -> None:
    unknown = [code for code in value if not stopwordsiso.has_lang(code)]
    if unknown:
        raise ValueError(f"{attribute.name}: no stop-word list for {', '.join(map(repr, unknown))}")


def _enabled(_inst: Any, attribute: attrs.Attribute[bool], value: bool) -> None:
    if not isinstance(value, bool):
        raise ValueError(f"{attribute.name}: expected true or false, got {value!r}")


@attrs.frozen
class DigestConfig:
    enabled: bool = attrs.field(default=False, validator=_enabled)
    day: str = attrs.field(default="mon", validator=_day)
    # str | int: the config loader type-checks before the converter runs, and
    # "18:30" comes out of YAML as 1110 (see sexagesimal_time); a str once built.
    time: str | int = attrs.field(default="09:00", converter=sexagesimal_time, validator=_time)
    timezone: str = attrs.field(default="UTC", validator=check_zone)
    top_members: int = attrs.field(default=5, validator=_top)
    top_words: int = attrs.field(default=5, validator=_top)
    stopword_languages: list[str] = attrs.field(factory=lambda: ["en"], validator=_languages)
    width: int = attrs.field(default=1080, validator=_width)


def chat_rule(config: DigestConfig) -> Weekly | None:
    """The chat's weekly rule, or None where its admins have not switched the post on."""
    return weekly(day=config.day, time=str(config.time)) if config.enabled else None


class DigestPlugin(Plugin[DigestConfig]):
    Config = DigestConfig
    # What a chat's admins may set for their chat with /settings.
    chat_options = ("enabled", "day", "time")

    def __init__(self, config: DigestConfig, host: PluginHost) -> None:
        super().__init__(config, host)
        self.stopwords = frozenset(stopwordsiso.stopwords(config.stopword_languages))

    # Plain def: the queries and the drawing run in a worker thread.
    @command("digest", "This week so far: messages, members, busiest times, top words")
    def digest(self, ctx: CommandContext) -> TextReply | PhotoReply:
        zone = ctx.settings.zone(ZoneInfo(self.config.timezone))
        window = so_far_window(ctx.now, zone)
        return self.answer(ctx.store, ctx.chat_id, ctx.chat_title, window, zone, so_far=True)

    @schedule(per_chat(chat_rule))
    def weekly_post(self, ctx: ScheduleContext) -> TextReply | PhotoReply | None:
        window = week_before_window(ctx.scheduled, ctx.zone)
        reply = self.answer(ctx.store, ctx.chat_id, ctx.chat_title, window, ctx.zone, so_far=False)
        # A quiet week is not worth a post nobody asked for.
        return None if isinstance(reply, TextReply) else reply

    def numbers(self, store: Any, chat_id: int, window: Window, zone: ZoneInfo) -> Digest | None:
        return compute(
            store,
            chat_id,
            window,
            zone,
            top_members=self.config.top_members,
            top_words=self.config.top_words,
            stopwords=self.stopwords,
        )

    def answer(
        self,
        store: Any,
        chat_id: int,
        chat_title: str | None,
        window: Window,
        zone: ZoneInfo,
        *,
        so_far: bool,
    ) -> TextReply | PhotoReply:
        digest = self.numbers(store, chat_id, window, zone)
        if digest is None:
            return TextReply(text.empty_text(so_far))
        title = chat_title or _stored_title(store, chat_id)
        picture = DigestPicture(
            title=title,
            subtitle=f"{text.period_text(window.first_day, window.days, so_far)} · {zone.key}",
            headline=text.messages_text(digest.messages),
            change=text.change_text(digest.messages, digest.previous),
            # Always Monday..Sunday (or the 7 days of the post): the days to
            # come stay empty, so a Tuesday digest does not draw two fat bars.
            day_labels=[text.weekday_label(window.first_day + timedelta(days=i)) for i in range(7)],
            day_counts=[count for _day, count in digest.day_counts]
            + [0] * (7 - len(digest.day_counts)),
            hour_counts=digest.hour_counts,
            members=[(m.user.display_name, m.messages) for m in digest.top_members],
            words=digest.top_words,
            footer=_footer(digest),
        )
        png = render_digest(picture, width=self.config.width)
        return PhotoReply(png=png, caption=text.caption(digest, title, so_far))


def _stored_title(store: Any, chat_id: int) -> str:
    chat = store.chat(chat_id)
    return chat.title if chat is not None and chat.title else _("This chat")


def _footer(digest: Digest) -> list[str]:
    lines = [
        f"{text.members_active_text(digest.active_members)} · "
        f"{text.new_members_text(digest.new_members)}"
    ]
    if digest.top_message is not None:
        quote = " ".join(digest.top_message.text.split()) or _("(no text)")
        lines.append(f"{text.most_reacted_text(digest.top_message.reaction_count)} {quote}")
    return lines
