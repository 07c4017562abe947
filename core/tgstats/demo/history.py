"""A deterministic, realistic sample group history for ``tgstats demo``.

Sixteen weeks of a friendly multilingual group ending at :data:`ANCHOR`: eight
senders with distinct habits (a night owl, an office worker, a weekend chatter,
a lurker, a channel that posts like clockwork, ...), writing English, Russian,
German and a little Spanish, replying to each other and collecting reactions,
with some photos, stickers and voice notes.  Everything comes from one seeded
``random.Random`` and ordered lists (never sets or dicts keyed by ``str``
hashes), so the same seed gives byte-identical rows on every machine.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import attrs

from tgstats.store.queries import ChatInfo, MessageRow, UserInfo

__all__ = ["ANCHOR", "DEFAULT_SEED", "DEMO_CHAT", "DemoHistory", "Member", "build_history"]

# The moment the demo's history ends and its commands run ("now"): fixed, so
# "last 30 days" covers the same messages on every run.
ANCHOR = datetime(2026, 3, 31, 21, 0, tzinfo=UTC)
WEEKS = 16
DEFAULT_SEED = 2026
DEMO_CHAT = ChatInfo(chat_id=-1009000000001, title="Hiking & Coffee Club", type="supergroup")


@attrs.frozen
class Member:
    """One sender and their habits."""

    user: UserInfo
    language: str  # "en", "ru", "de", "es"
    hours: tuple[float, ...]  # relative activity per UTC hour (24 values)
    weekday_rate: float  # mean messages per weekday
    weekend_rate: float  # mean messages per Saturday/Sunday
    reply_share: float  # fraction of messages that reply to someone
    popularity: float  # mean reactions their messages get
    media_share: float
    clockwork: tuple[int, ...] = ()  # exact posting hours (the channel)


def _hours(*peaks: tuple[int, int, float], base: float = 0.02) -> tuple[float, ...]:
    """24 weights: ``base`` everywhere plus ``weight`` on hours ``start..end`` (wrapping)."""
    weights = [base] * 24
    for start, end, weight in peaks:
        hour = start
        while True:
            weights[hour] += weight
            if hour == end:
                break
            hour = (hour + 1) % 24
    return tuple(weights)


def _user(user_id: int, name: str, username: str | None, *, channel: bool = False) -> UserInfo:
    return UserInfo(user_id=user_id, username=username, display_name=name, is_channel=channel)


MEMBERS: tuple[Member, ...] = (
    Member(  # the night owl
        _user(7001, "Maks Sokolov", "maks_owl"), "ru",
        _hours((21, 23, 1.0), (0, 3, 1.4), (12, 14, 0.2)), 34, 40, 0.35, 1.2, 0.05,
    ),
    Member(  # office hours, lunch spike, quiet weekends
        _user(7002, "Emma Clarke", "emma_c"), "en",
        _hours((8, 17, 0.7), (12, 13, 1.2)), 38, 3, 0.30, 2.4, 0.04,
    ),
    Member(  # lives for the weekend
        _user(7003, "Lukas Becker", "lukas_b"), "de",
        _hours((10, 20, 0.8)), 3, 60, 0.25, 1.5, 0.10,
    ),
    Member(  # the lurker: a message now and then
        _user(7004, "Sofía Ruiz", "sofia_r"), "es",
        _hours((18, 22, 0.8)), 0.3, 0.6, 0.60, 3.0, 0.0,
    ),
    Member(  # evening regular who answers everyone
        _user(7005, "Anna Petrova", "anna_p"), "ru",
        _hours((17, 22, 1.0), (7, 8, 0.3)), 26, 22, 0.55, 1.6, 0.06,
    ),
    Member(  # early bird
        _user(7006, "Jake Miller", "jake_m"), "en",
        _hours((5, 9, 1.0), (19, 21, 0.3)), 19, 14, 0.30, 1.0, 0.03,
    ),
    Member(  # joined late in the period (see _JOINED), chatty when around
        _user(7007, "Nina Weber", None), "de",
        _hours((11, 15, 0.6), (19, 23, 0.6)), 14, 19, 0.40, 1.1, 0.05,
    ),
    Member(  # a channel re-posting a digest at fixed hours, like a bot
        _user(-1009000000777, "Trail News", "trailnews", channel=True), "en",
        _hours(), 2, 2, 0.0, 0.4, 0.0, clockwork=(7, 18),
    ),
)  # fmt: skip

_JOINED = {7007: 70}  # user id -> first active day (days after the start)

# Words by kind per language, so sentences read naturally and the word cloud
# has a vocabulary with a few clear favourites (weights come from rnd.choices).
_WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "place": ("trail", "summit", "lake", "forest", "ridge", "waterfall", "valley", "hut"),
        "gear": ("boots", "backpack", "tent", "map", "camera", "headlamp", "poles", "jacket"),
        "drink": ("coffee", "espresso", "tea", "cocoa"),
        "weather": ("rain", "snow", "sunshine", "wind", "fog", "weather"),
        "day": ("Saturday", "Sunday", "weekend", "weekend"),
    },
    "ru": {
        "place": ("тропе", "вершине", "озере", "лесу", "перевале", "водопаде", "долине"),
        "gear": ("рюкзак", "ботинки", "палатку", "карту", "фотоаппарат", "фонарик", "куртку"),
        "drink": ("кофе", "чай", "какао"),
        "weather": ("дождь", "снег", "солнце", "ветер", "туман"),
        "day": ("субботу", "воскресенье", "выходные"),
    },
    "de": {
        "place": ("Gipfel", "See", "Wald", "Grat", "Wasserfall", "Tal", "Hütte"),
        "gear": ("Stiefel", "Rucksack", "Zelt", "Karte", "Kamera", "Stirnlampe", "Jacke"),
        "drink": ("Kaffee", "Tee", "Kakao"),
        "weather": ("Regen", "Schnee", "Sonne", "Wind", "Nebel"),
        "day": ("Samstag", "Sonntag", "Wochenende"),
    },
    "es": {
        "place": ("ruta", "montaña", "cascada", "laguna"),
        "gear": ("mochila", "cámara", "botas"),
        "drink": ("café", "té"),
        "weather": ("lluvia", "sol", "nieve"),
        "day": ("sábado", "domingo"),
    },
}

_TEMPLATES: dict[str, tuple[str, ...]] = {
    "en": (
        "anyone up for the {place} this {day}?",
        "the view from the {place} was amazing",
        "just made a fresh {drink}, best way to start the day",
        "forecast says {weather} on {day}, still going to the {place}?",
        "I forgot my {gear} again 🙈",
        "great photos! which {place} was that?",
        "who has spare {gear}? mine broke on the {place}",
        "count me in for the {place} on {day}",
        "plan: meet at the {place} at 8, bring {drink}",
        "lol that {weather} story",
        "thanks everyone for yesterday, what a {place} 🙌",
        "is the {place} still closed because of the {weather}?",
        "new {gear} arrived, testing it on {day}",
        "need {drink} before the meeting",
        "sunrise at the {place} tomorrow, who's in?",
        "uploaded the {place} photos to the album",
        "{weather} again... {drink} and a movie instead",
        "my {gear} finally dried out",
    ),
    "ru": (
        "кто на {place} в {day}?",
        "вчера на {place} было отлично, спасибо всем",
        "сварил {drink}, теперь не усну 😅",
        "обещают {weather} в {day}, идём?",
        "опять забыл {gear} дома",
        "давайте в {day} на {place}",
        "фотки с прогулки по {place} уже скинул",
        "не сплю, пью {drink} и смотрю маршрут",
        "согласна, на {place} было лучше прошлого раза",
        "кто-нибудь возьмёт лишний {gear}?",
        "ночью {weather}, утром пойдём",
        "на {place} сейчас красиво",
        "кто видел мой {gear}?",
        "{drink} на {place} — лучшее, что было за неделю",
        "маршрут к {place} скинула в чат",
    ),
    "de": (
        "wer kommt am {day} mit zum {place}?",
        "der Blick vom {place} war traumhaft",
        "neue {gear} gekauft 🥾",
        "am {day} soll es {weather} geben",
        "Treffpunkt am {place} um neun, {drink} gibt es unterwegs",
        "super Tour, danke fürs Organisieren",
        "bringe die {gear} mit",
        "endlich {day}! ab zum {place}",
        "Fotos vom {place} sind online",
        "heute {weather}, morgen {place}",
        "erstmal {drink}",
    ),
    "es": (
        "qué bonita la {place} 😍",
        "me apunto a la próxima {place}",
        "¿alguien tiene {gear} de sobra?",
        "gracias por las fotos, qué {weather}",
    ),
}
_DIGEST = (
    "Trail report: {place} conditions updated https://trailnews.example/{n}",
    "Weekend outlook: {weather} expected, {place} open https://trailnews.example/{n}",
    "Gear tip of the day: waterproof {gear} https://trailnews.example/{n}",
)
_EXTRAS = ("", "", "", "", " 👍", " 😂", " ☕", " 🏔️", " !", " @anna_p", " @maks_owl")
_MEDIA = (("photo", 0.5), ("sticker", 0.25), ("voice", 0.1), ("animation", 0.1), ("video", 0.05))
# The emoji of the stickers members send; each member favours the list from a
# different place (Zipf weights), so their cards differ.  Some are outside the
# card's font on purpose (the caption shows those).
_STICKER_EMOJI = ("😂", "❤️", "👍", "😎", "☕", "🔥", "😭", "☀")


@attrs.frozen
class DemoHistory:
    chat: ChatInfo
    users: tuple[UserInfo, ...]
    messages: tuple[MessageRow, ...]
    start: datetime
    end: datetime


def build_history(seed: int = DEFAULT_SEED, *, anchor: datetime = ANCHOR) -> DemoHistory:
    """The sample history; identical for identical ``seed`` and ``anchor``."""
    rnd = random.Random(seed)
    start = (anchor - timedelta(weeks=WEEKS)).replace(hour=0, minute=0, second=0)
    stamps: list[tuple[datetime, int]] = []  # (when, member index), then sorted
    for day in range((anchor - start).days + 1):
        midnight = start + timedelta(days=day)
        weekend = midnight.weekday() >= 5
        for index, member in enumerate(MEMBERS):
            if day < _JOINED.get(member.user.user_id, 0):
                continue
            for when in _day_times(rnd, member, midnight, weekend):
                if when < anchor:
                    stamps.append((when, index))
    stamps.sort()
    messages: list[MessageRow] = []
    for message_id, (when, index) in enumerate(stamps, start=1):
        messages.append(_message(rnd, MEMBERS[index], message_id, when, messages))
    return DemoHistory(
        chat=DEMO_CHAT,
        users=tuple(member.user for member in MEMBERS),
        messages=tuple(messages),
        start=start,
        end=anchor,
    )


def _day_times(
    rnd: random.Random, member: Member, midnight: datetime, weekend: bool
) -> list[datetime]:
    if member.clockwork:
        # Posts at the same minute every day (and skips a day now and then).
        return [
            midnight + timedelta(hours=hour, minutes=0, seconds=5)
            for hour in member.clockwork
            if rnd.random() < 0.93
        ]
    rate = member.weekend_rate if weekend else member.weekday_rate
    # Busy and quiet days: a gamma-distributed daily mood around the mean rate.
    count = _poisson(rnd, rate * rnd.gammavariate(2.0, 0.5))
    hours = rnd.choices(range(24), weights=member.hours, k=count)
    return [midnight + timedelta(hours=hour, seconds=rnd.randrange(3600)) for hour in sorted(hours)]


def _poisson(rnd: random.Random, mean: float) -> int:
    # Knuth's method is fine for the small means used here and stays deterministic.
    if mean <= 0:
        return 0
    if mean > 60:
        return max(0, round(rnd.gauss(mean, mean**0.5)))
    limit, product, count = pow(2.718281828459045, -mean), rnd.random(), 0
    while product > limit:
        product *= rnd.random()
        count += 1
    return count


def _message(
    rnd: random.Random,
    member: Member,
    message_id: int,
    when: datetime,
    earlier: Sequence[MessageRow],
) -> MessageRow:
    lang = member.language
    media = None
    if member.clockwork:
        text = _fill(rnd, rnd.choice(_DIGEST), "en").replace("{n}", str(message_id))
    else:
        text = _sentence(rnd, lang)
        if rnd.random() < member.media_share:
            media = rnd.choices([k for k, _ in _MEDIA], weights=[w for _, w in _MEDIA])[0]
            text = "" if media in ("sticker", "voice", "animation") or rnd.random() < 0.5 else text
    reply_to = None
    if earlier and rnd.random() < member.reply_share:
        # Reply to one of the last few messages by someone else.
        for candidate in reversed(earlier[-12:]):
            if candidate.user_id != member.user.user_id and rnd.random() < 0.45:
                reply_to = candidate.message_id
                break
    reactions = _poisson(rnd, member.popularity) if rnd.random() < 0.45 else 0
    edited = when + timedelta(seconds=rnd.randrange(20, 600)) if rnd.random() < 0.03 else None
    emoji = _sticker_emoji(member, message_id) if media == "sticker" else None
    return MessageRow(
        chat_id=DEMO_CHAT.chat_id,
        message_id=message_id,
        thread_id=None,
        user_id=member.user.user_id,
        date=when,
        text=text,
        reply_to_message_id=reply_to,
        media_kind=media,
        edit_date=edited,
        reaction_count=reactions,
        sticker_emoji=emoji,
    )


def _sticker_emoji(member: Member, message_id: int) -> str:
    """A sticker's emoji from a generator of its own (seeded by the message), so the
    history's main random stream, and every other row, is what it was without it."""
    start = member.user.user_id % len(_STICKER_EMOJI)
    ordered = _STICKER_EMOJI[start:] + _STICKER_EMOJI[:start]
    weights = [1 / (rank + 1) for rank in range(len(ordered))]
    return random.Random(message_id).choices(ordered, weights=weights)[0]


def _sentence(rnd: random.Random, lang: str) -> str:
    templates = _TEMPLATES[lang]
    first = rnd.randrange(len(templates))
    text = _fill(rnd, templates[first], lang)
    if rnd.random() < 0.15:  # a second thought in the same message
        second = (first + 1 + rnd.randrange(len(templates) - 1)) % len(templates)
        text += " " + _fill(rnd, templates[second], lang)
    return text + rnd.choice(_EXTRAS)


def _fill(rnd: random.Random, template: str, lang: str) -> str:
    words = _WORDS[lang]
    for kind in ("place", "gear", "drink", "weather", "day"):
        slot = "{" + kind + "}"
        while slot in template:
            choices = words[kind]
            # Zipf-like weights: every group has its favourite trail and drink.
            word = rnd.choices(choices, weights=_ZIPF[: len(choices)])[0]
            template = template.replace(slot, word, 1)
    return template


_ZIPF = tuple(1 / (rank + 1) for rank in range(16))
