"""``/wordcloud``: what does the chat talk about? Its most used words as a PNG."""

from __future__ import annotations

import asyncio
import heapq
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any, Literal

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
    format_number,
    get_logger,
    ngettext,
    period_buttons,
    resolve_button_period,
    resolve_period,
)

from tgstats_word_cloud.fonts import BUNDLED_FONT, FontFinder, font_codepoints, script_of
from tgstats_word_cloud.forms import CANDIDATES_PER_WORD, merge_forms
from tgstats_word_cloud.languages import (
    SCRIPT_WORDS,
    detect_languages,
    load_identifier,
    with_scripts,
)
from tgstats_word_cloud.render import display_form, render_cloud
from tgstats_word_cloud.tokenize import load_stop_words

__all__ = ["AUTO", "Cloud", "WordCloudConfig", "WordCloudPlugin", "pick_words"]

AUTO = "auto"  # stop_word_languages: detect them from the chat's messages
# Texts read to detect the chat's languages (the newest of the period).  Detection
# is about a quarter of /wordcloud's time at 3,000, but 1,000 was tried and lost
# the demo's Spanish (a language in ~2 % of its texts): a language must be seen
# a few times to be trusted (languages.chat_languages), so the sample stays large.
SAMPLE = 3000

log = get_logger(__name__)


def _in_range(low: int, high: int) -> Any:
    def check(_inst: Any, attribute: attrs.Attribute[int], value: int) -> None:
        if not low <= value <= high:
            raise ValueError(f"{attribute.name}: expected {low}..{high}, got {value}")

    return check


def _check_languages(_inst: Any, _attribute: Any, value: str | tuple[str, ...]) -> None:
    if value != AUTO:
        load_stop_words(value)  # raises ValueError naming the unknown language


def _check_font(_inst: Any, attribute: attrs.Attribute[str | None], value: str | None) -> None:
    if value is None:
        return
    if not Path(value).is_file():
        raise ValueError(f"{attribute.name}: no font file at {value!r}")
    if not font_codepoints(value):
        raise ValueError(f"{attribute.name}: {value!r} is not a readable TrueType/OpenType font")


def _check_colormap(_inst: Any, attribute: attrs.Attribute[str], value: str) -> None:
    if value not in matplotlib.colormaps:
        raise ValueError(f"{attribute.name}: unknown matplotlib colormap {value!r}")


def _check_colour(_inst: Any, attribute: attrs.Attribute[str], value: str) -> None:
    from PIL import ImageColor

    try:
        ImageColor.getrgb(value)
    except ValueError:
        raise ValueError(
            f"{attribute.name}: expected a colour like 'white' or '#202020', got {value!r}"
        ) from None


@attrs.frozen
class WordCloudConfig:
    days: int = attrs.field(default=30, validator=check_days)
    max_words: int = attrs.field(default=100, validator=_in_range(1, 1000))
    min_word_length: int = attrs.field(default=3, validator=_in_range(1, 40))
    # "auto": the languages the period's own messages are written in; or a
    # list of ISO 639-1 codes of the stopwords-iso lists to apply.
    stop_word_languages: Literal["auto"] | tuple[str, ...] = attrs.field(
        default=AUTO, validator=_check_languages
    )
    stop_words: tuple[str, ...] = ()  # extra words to leave out
    # Words to keep although a stop-word list has them (stopwords-iso's English
    # list is broad: it contains e.g. "world" and "home").
    keep_words: tuple[str, ...] = ()
    emoji: Literal["drop", "words"] = "drop"
    # Count the forms of a word as one (photo and photos), shown as its commonest form.
    merge_forms: bool = True
    # Zone whose calendar days make up "the last N days".
    timezone: str = attrs.field(default="UTC", validator=check_zone)
    chat_timezones: dict[str, str] = attrs.field(factory=dict, validator=check_chat_zones)
    # A font file used before any other for the words it covers.
    font_path: str | None = attrs.field(default=None, validator=_check_font)
    # Square, for a phone (about 400 px wide there).
    width: int = attrs.field(default=1080, validator=_in_range(100, 4096))  # pixels
    height: int = attrs.field(default=1080, validator=_in_range(100, 4096))
    background: str = attrs.field(default="white", validator=_check_colour)
    colormap: str = attrs.field(default="viridis", validator=_check_colormap)


# The stop-word languages worked out for a chat, member and period are kept
# this long, at most this many: detecting them reads and classifies the
# period's newest texts (about 0.15 s of a 0.35 s answer on a 1M-message
# chat) and ranks its top words for their scripts, and a chat's languages do
# not change from one button press to the next.
LANGUAGES_KEPT = 15 * 60
_LANGUAGE_ENTRIES = 256
_LanguageKey = tuple[int, int | None, Any, Any]


class WordCloudPlugin(Plugin[WordCloudConfig]):
    Config = WordCloudConfig
    # What a chat's admins may set for their chat (/settings word_cloud.max_words 50).
    chat_options = ("max_words", "colormap")

    def __init__(self, config: WordCloudConfig, host: PluginHost) -> None:
        super().__init__(config, host)
        self._stop_word_cache: dict[tuple[str, ...], frozenset[str]] = {}
        # (chat, member, since, until) -> (when detected, languages); handlers
        # run in worker threads, hence the lock.
        self._detected: dict[_LanguageKey, tuple[float, tuple[str, ...]]] = {}
        self._detected_lock = threading.Lock()
        self.fonts = FontFinder(config.font_path)
        self.zone_for = chat_zones(config.timezone, config.chat_timezones)

    async def setup(self) -> None:
        if self.config.stop_word_languages == AUTO:
            # Load the language model now, in a thread, not on the first /wordcloud.
            await asyncio.to_thread(load_identifier)

    def _stop_words(self, languages: tuple[str, ...]) -> frozenset[str]:
        # Kept per instance (a chat's languages rarely change): building the
        # lists costs milliseconds, and a cache on the class would keep old
        # instances alive across reloads.
        cached = self._stop_word_cache.get(languages)
        if cached is None:
            config = self.config
            cached = load_stop_words(languages, config.stop_words, keep=config.keep_words)
            self._stop_word_cache[languages] = cached
        return cached

    def _languages(
        self, ctx: CommandContext | ButtonContext, period: Period, user_id: int | None
    ) -> tuple[str, ...]:
        """The languages whose stop words go ("auto"): those of the period's
        newest texts, and one for each script its top words are written in
        that they miss; worked out at most every LANGUAGES_KEPT seconds per
        chat, member and period."""
        key = (ctx.chat_id, user_id, period.since, period.until)
        now = time.monotonic()
        with self._detected_lock:
            found = self._detected.get(key)
        if found is not None and now - found[0] < LANGUAGES_KEPT:
            return found[1]
        sample = ctx.store.sample_texts(
            ctx.chat_id, since=period.since, until=period.until, user_id=user_id, limit=SAMPLE
        )
        top = ctx.store.top_words(
            ctx.chat_id,
            since=period.since,
            until=period.until,
            user_id=user_id,
            limit=SCRIPT_WORDS,
            **self._lengths(),
        )
        languages = with_scripts(detect_languages(sample), Counter({w.word: w.count for w in top}))
        with self._detected_lock:
            self._detected.pop(key, None)
            self._detected[key] = (now, languages)
            while len(self._detected) > _LANGUAGE_ENTRIES:  # the oldest entry goes
                del self._detected[next(iter(self._detected))]
        return languages

    def _lengths(self) -> dict[str, Any]:
        """The words the cloud may draw, as the store's word queries take them
        (the store keeps no word longer than 40 characters)."""
        return {"min_length": self.config.min_word_length, "emoji": self.config.emoji == "words"}

    # Plain def: reading texts and drawing run in a worker thread.
    @command("wordcloud", "The chat's most used words: /wordcloud [N days | all] [@user]")
    def wordcloud(self, ctx: CommandContext) -> TextReply | PhotoReply:
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
        cloud = self.compute(ctx, period)
        if isinstance(cloud, TextReply):
            return cloud
        png = render_cloud(
            cloud.frequencies,
            cloud.fonts,
            title=cloud.title,
            subtitle=cloud.subtitle,
            title_font=self.fonts.font_for(cloud.title) or str(BUNDLED_FONT),
            width=self.config.width,
            height=self.config.height,
            background=self.config.background,
            colormap=self.chat_config(ctx).colormap,
        )
        buttons = period_buttons("view", cloud.period, viewer=ctx.user_id, who_toggle=True)
        return PhotoReply(png=png, caption=cloud.caption, buttons=buttons)

    def compute(
        self, ctx: CommandContext | ButtonContext, period: Period | None = None
    ) -> Cloud | TextReply:
        """The words to draw with their fonts, or the text to answer instead."""
        config = self.chat_config(ctx)
        if period is None:
            # The chat's own time zone and default period (ctx.settings) win over these options.
            assert isinstance(ctx, CommandContext)
            zone = self.zone_for(ctx.chat_id)
            resolved = resolve_period(ctx, default_days=config.days, zone=zone)
            if isinstance(resolved, TextReply):
                return resolved
            period = resolved
        user_id = period.user.user_id if period.user else None
        fixed = config.stop_word_languages
        languages = fixed if isinstance(fixed, tuple) else self._languages(ctx, period, user_id)
        # Words were counted as the messages were stored; the database ranks
        # them, so the cost follows the period's distinct words in SQL and the
        # few thousand drawn or merged here, not the chat's whole vocabulary.
        ranking = ctx.store.word_ranking(
            ctx.chat_id,
            since=period.since,
            until=period.until,
            user_id=user_id,
            leave_out=self._stop_words(languages),
            limit=config.max_words * CANDIDATES_PER_WORD,
            **self._lengths(),
        )
        counts = Counter({w.word: w.count for w in ranking.words})
        total = ranking.total
        if config.merge_forms:
            counts = merge_forms(counts, languages, keep=config.max_words)
        frequencies, fonts = pick_words(counts, self.fonts, config.max_words)
        if not frequencies:
            return TextReply(_nothing(period, bool(counts)))
        title = _title(ctx, period)
        words = ngettext("{n} word", "{n} words", total).format(n=format_number(total))
        label = period.label
        subtitle = _("{period} · {words}").format(period=label[:1].upper() + label[1:], words=words)
        return Cloud(
            frequencies=frequencies,
            fonts=fonts,
            title=title,
            subtitle=subtitle,
            caption=_("{title} — {period} — {words} counted").format(
                title=title, period=label, words=words
            ),
            languages=languages,
            period=period,
        )


@attrs.frozen
class Cloud:
    frequencies: dict[str, int]  # display form -> count, most frequent first
    fonts: dict[str, str]  # display form -> font file
    title: str  # the chat (and member) the cloud is of
    subtitle: str  # the period and how many words were counted
    caption: str
    languages: tuple[str, ...]  # whose stop words were left out
    period: Period


def pick_words(
    counts: Counter[str], finder: FontFinder, max_words: int
) -> tuple[dict[str, int], dict[str, str]]:
    """The ``max_words`` most frequent drawable words (display form -> count, -> font).

    Words no installed font covers are skipped, with one warning naming
    their scripts, so they are never drawn as boxes.
    """
    frequencies: dict[str, int] = {}
    fonts: dict[str, str] = {}
    missing: Counter[str] = Counter()
    examples: list[str] = []
    # Look a bounded way past max_words: enough to refill after skipped words.
    # Ties broken alphabetically so the same data always gives the same cloud.
    ranked = heapq.nsmallest(max_words * 4, counts.items(), key=lambda item: (-item[1], item[0]))
    for word, n in ranked:
        if len(frequencies) >= max_words:
            break
        shown = display_form(word)
        font = finder.font_for(shown)
        if font is None:
            missing[script_of(word)] += 1
            if len(examples) < 5:
                examples.append(word)
            continue
        frequencies[shown] = frequencies.get(shown, 0) + n
        fonts[shown] = font
    if missing:
        log.warning(
            "wordcloud_words_without_font",
            words=sum(missing.values()),
            scripts=",".join(sorted(missing)),
            examples=" ".join(examples),
            hint="install a covering font (see the word_cloud README) or set font_path",
        )
    return frequencies, fonts


def _title(ctx: CommandContext | ButtonContext, period: Period) -> str:
    title = ctx.chat_title
    if not title:
        chat = ctx.store.chat(ctx.chat_id)
        title = chat.title if chat is not None and chat.title else _("This chat")
    who = f" — {period.user_label}" if period.user_label else ""
    return f"{title}{who}"


def _nothing(period: Period, had_words: bool) -> str:
    # Whole sentences, so a translator can order them freely.
    if had_words:
        if period.user_label and period.days is None:
            text = _("None of the words from {who} yet can be drawn with the fonts installed.")
        elif period.user_label:
            text = _(
                "None of the words from {who} in the {period} can be drawn with the fonts "
                "installed."
            )
        elif period.days is None:
            text = _("None of the words yet can be drawn with the fonts installed.")
        else:
            text = _("None of the words in the {period} can be drawn with the fonts installed.")
    elif period.user_label and period.days is None:
        text = _("No words from {who} yet to draw a word cloud from.")
    elif period.user_label:
        text = _("No words from {who} in the {period} to draw a word cloud from.")
    elif period.days is None:
        text = _("No words yet to draw a word cloud from.")
    else:
        text = _("No words in the {period} to draw a word cloud from.")
    return text.format(who=period.user_label, period=period.label)
