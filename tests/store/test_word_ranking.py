"""The word ranking in SQL (tgstats.store.word_ranking) against the plain counts.

``word_counts`` is checked against the texts elsewhere (test_bucketed); here
every ranking and total must equal what Python makes of those counts, for
periods with partial days at both edges (a UTC+5:45 zone), one member, an
excluded member, every filter, emoji and the words SQL cannot tell from
emoji (letters at U+2000 and above), and limits that cut through ties.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from tgstats.store import Store, word_periods, word_ranking
from tgstats.store.word_periods import MEMBER_COMPLEMENT, MOST_SPANS, word_plan
from tgstats.store.word_ranking import WordFilter, _emoji_ranges, _union
from tgstats.store.words import count_words
from tgstats.testing import fill_store, make_chat, make_message, make_user

CHAT = make_chat(-1001500, "Ranking")
USERS = [make_user(i, f"u{i}") for i in (1, 2, 3)]
START = int(datetime(2026, 3, 1, 3, 7).timestamp()) // 60 * 60
ZONE = ZoneInfo("Asia/Kathmandu")  # local midnight is 18:15 UTC
# Plain words, words that tie, letters past U+2000 (CJK, Hangul, a Glagolitic
# word), emoji of each kind (keycap, (c), flag, ZWJ family, skin tone) and
# words whose order differs between code points and a locale's collation.
VOCABULARY = [
    "coffee",
    "tea",
    "hike",
    "an",
    "ox",
    "the",
    "and",
    "café",
    "cafe",
    "zebra",
    "élan",
    "яблоко",
    "ёж",
    "word-play",
    "don't",
    "東京",
    "한국어",
    "ⰰⰱⰲ",
    "1️⃣",
    "#️⃣",
    "©️",
    "🇺🇦",
    "👨‍👩‍👧",
    "👍🏽",
    "🔥",
    "ℹ️",
]
STOP = frozenset({"the", "and", "an", "東京"})


@pytest.fixture
def filled(store: Store) -> Store:
    rng = random.Random(5)
    weights = [1 / (i + 1) for i in range(len(VOCABULARY))]
    messages = []
    for i in range(420):  # 35 days, one message every two hours
        words = rng.choices(VOCABULARY, weights, k=rng.randint(1, 6))
        sender = USERS[rng.choice((0, 0, 1, 2))]
        date = START + i * 7200 + rng.randint(0, 3000)
        messages.append(make_message(CHAT, sender, " ".join(words), message_id=i + 1, date=date))
    fill_store(store, messages)
    return store


def _periods() -> list[tuple[datetime | None, datetime | None]]:
    first = datetime.fromtimestamp(START, ZONE).date()
    periods: list[tuple[datetime | None, datetime | None]] = [(None, None)]
    for offset in (0, 3, 11, 17, 30):
        since = datetime.combine(first + timedelta(days=offset), datetime.min.time(), ZONE)
        periods += [(since, None), (since, since + timedelta(days=2, hours=5))]
        periods.append((since, since + timedelta(days=20)))
    return periods


FILTERS = [
    WordFilter(),
    WordFilter(min_length=3, leave_out=STOP),
    WordFilter(min_length=4, max_length=6, emoji=True),
    WordFilter(min_length=1, leave_out=STOP | {"coffee"}, emoji=True),
]


def _expected(counts: dict[str, int], keep: WordFilter, limit: int) -> tuple[list, int]:
    kept = Counter({w: n for w, n in counts.items() if keep.keeps(w)})
    ranked = sorted(kept.items(), key=lambda item: (-item[1], item[0]))
    return ranked[:limit], sum(kept.values())


def test_rankings_and_totals_equal_the_plain_counts(filled: Store) -> None:
    q = filled.queries
    checked = 0
    for excluded in (frozenset(), frozenset({USERS[1].id})):
        q._excluded = lambda _chat, excluded=excluded: excluded  # type: ignore[method-assign]
        for since, until in _periods():
            for user_id in (None, USERS[0].id):
                counts = q.word_counts(CHAT.id, since=since, until=until, user_id=user_id)
                for keep in FILTERS:
                    args = dict(since=since, until=until, user_id=user_id, **keep._asdict())
                    for limit in (0, 1, 3, 7, 100):
                        # The total is summed apart (limit 0) or along the ranking.
                        top, total = _expected(counts, keep, limit)
                        found = q.word_ranking(CHAT.id, limit=limit, **args)
                        where = (excluded, since, until, user_id, keep, limit)
                        assert [(w.word, w.count) for w in found.words] == top, where
                        assert found.total == total, where
                    plain = q.top_words(CHAT.id, limit=3, **args)
                    assert [(w.word, w.count) for w in plain] == _expected(counts, keep, 3)[0]
                    checked += 1
    assert checked == 2 * len(_periods()) * 2 * len(FILTERS)


def test_words_sql_cannot_tell_from_emoji_are_kept_or_dropped_as_python_does(
    filled: Store,
) -> None:
    q = filled.queries
    letters = {w.word for w in q.top_words(CHAT.id, min_length=1, limit=1000)}
    with_emoji = {w.word for w in q.top_words(CHAT.id, min_length=1, emoji=True, limit=1000)}
    assert {"東京", "한국어", "ⰰⰱⰲ", "яблоко", "élan"} <= letters
    assert letters.isdisjoint({"1️⃣", "#️⃣", "©️", "🇺🇦", "👨‍👩‍👧", "👍🏽", "🔥", "ℹ️"})
    assert with_emoji - letters == {"1️⃣", "#️⃣", "©️", "🇺🇦", "👨‍👩‍👧", "👍🏽", "🔥", "ℹ️"}
    # Emoji are kept whatever their length (a flag is two characters, a family five).
    assert {"🇺🇦", "👨‍👩‍👧"} <= {
        w.word for w in q.top_words(CHAT.id, min_length=3, emoji=True, limit=1000)
    }


def test_a_long_stop_word_list_is_one_bound_value(filled: Store) -> None:
    """40,000 words to leave out: more than SQLite's 32,766 bound values if
    each were a parameter, and each part of a period's union repeats them."""
    huge = frozenset(
        f"x{i:05d}".translate(str.maketrans("0123456789", "abcdefghij")) for i in range(40_000)
    ) | {"coffee"}
    q = filled.queries
    since = datetime.combine(
        datetime.fromtimestamp(START, ZONE).date() + timedelta(days=11), datetime.min.time(), ZONE
    )
    counts = q.word_counts(CHAT.id, since=since)
    keep = WordFilter(leave_out=huge)
    top, total = _expected(counts, keep, 5)
    assert [
        (w.word, w.count)
        for w in q.top_words(CHAT.id, since=since, leave_out=huge, min_length=1, limit=5)
    ] == top
    assert q.word_ranking(CHAT.id, since=since, leave_out=huge, min_length=1).total == total
    assert "coffee" not in dict(top)


def _letters(i: int) -> str:
    return "w" + "".join("abcdefghij"[int(d)] for d in f"{i:04d}")


def test_a_word_the_edge_hours_lift_over_the_cut_is_ranked(store: Store) -> None:
    """300 words, so the SQL rows stop well before the vocabulary ends: a word
    rare in the whole days but frequent in the partial UTC day at the
    period's start must still be ranked where its total puts it."""
    day = 86_400
    since = datetime(2026, 3, 10, tzinfo=ZONE)  # 2026-03-09 18:15 UTC
    base = int(since.timestamp())
    texts: list[tuple[int, str]] = []  # (date, text)
    for d in range(1, 9):  # whole UTC days inside the period
        for i in range(300):
            uses = max(1, 40 - i // 8)  # w0000 .. w0007 40 times a day, w0296 .. w0299 3
            texts.append((base + d * day + i * 60, " ".join([_letters(i)] * uses)))
    # The edge hours (18:15 to midnight UTC): w0299 500 more times, w0298 250.
    texts.append((base + 60, " ".join([_letters(299)] * 500)))
    texts.append((base + 120, " ".join([_letters(298)] * 250)))
    # Twenty days before: the period is then neither all the history nor most of it.
    texts.append((base - 20 * day, "before"))
    fill_store(
        store,
        [
            make_message(CHAT, USERS[n % 3], text, message_id=n + 1, date=date)
            for n, (date, text) in enumerate(texts)
        ],
    )
    q = store.queries
    counts = q.word_counts(CHAT.id, since=since)
    assert counts[_letters(299)] == 24 + 500 and counts[_letters(0)] == 320
    with store.engine.connect() as connection:
        plan = word_plan(connection, [CHAT.id], base, None)
    assert plan.edges == [(base, base + 20_700, 1)]  # 18:15 to midnight from the texts
    for limit in (1, 2, 5, 10, 40, 120):
        top, _total = _expected(counts, WordFilter(), limit)
        got = [(w.word, w.count) for w in q.top_words(CHAT.id, since=since, limit=limit)]
        assert got == top, limit
    assert [w.word for w in q.top_words(CHAT.id, since=since, limit=1)] == [_letters(299)]
    # w0298's 274 come after w0299 and the 48 words used 35 to 40 times a day.
    ranks = [w.word for w in q.top_words(CHAT.id, since=since, limit=120)]
    assert ranks.index(_letters(298)) == 1 + 48
    assert q.word_ranking(CHAT.id, since=since).total == sum(counts.values())


@pytest.mark.postgres
def test_ties_are_in_code_point_order_under_a_locale_collation(pg_store_url: str) -> None:
    """A PostgreSQL database made with a locale (en_US and the like) sorts
    "élan" before "zebra"; Python, SQLite and the ranking put "zebra" first."""
    import sqlalchemy
    from tgstats.store import open_store

    with open_store(pg_store_url) as store:
        with store.engine.begin() as connection:
            for table in ("agg_chat_words", "agg_word_spans", "agg_words"):
                connection.execute(
                    sqlalchemy.text(
                        f'ALTER TABLE {table} ALTER COLUMN word TYPE varchar COLLATE "en-US-x-icu"'
                    )
                )
        fill_store(store, [make_message(CHAT, USERS[0], "élan zebra apple 🔥 東京", date=START)])
        with store.engine.connect() as connection:
            assert connection.execute(
                sqlalchemy.text("SELECT word FROM agg_chat_words ORDER BY word")
            ).scalars().all() == ["🔥", "apple", "élan", "zebra", "東京"]
            # Only the words past U+2000 are read whole into Python; a locale's
            # order would have put every word there (U+2000 is a space to it).
            plan = word_plan(connection, [CHAT.id], None, None)
            rows = _union(plan, *_emoji_ranges(connection))
            found = connection.execute(sqlalchemy.select(rows.c.word)).scalars()
            assert sorted(found) == ["東京", "🔥"]
        assert [w.word for w in store.queries.top_words(CHAT.id, min_length=1, limit=4)] == [
            "apple",
            "zebra",
            "élan",
            "東京",
        ]


def test_a_period_of_spans_ranks_without_parallel_workers_until_its_transaction_ends(
    pg_store_url: str,
) -> None:
    """On PostgreSQL a ranking that reads spans only turns parallel workers
    off for its own transaction; one that orders an all-time table keeps
    them, and the next transaction on the same connection has them again."""
    import sqlalchemy
    from tgstats.store import open_store

    day = 86_400
    words = [_letters(i) for i in range(30)]
    messages = [
        make_message(CHAT, USERS[0], " ".join(words[: 1 + n % 30]), message_id=n + 1, date=d)
        for n, d in enumerate(range(START, START + 80 * day, day // 2))
    ]
    show = sqlalchemy.text("SHOW max_parallel_workers_per_gather")
    with open_store(pg_store_url) as store:
        fill_store(store, messages)
        with store.engine.connect() as connection:
            default = connection.execute(show).scalar_one()
        assert default != "0"
        end = START + 80 * day
        for since, reads_spans in ((end - 40 * day, True), (None, False)):
            with store.engine.connect() as connection:
                plan = word_plan(connection, [CHAT.id], since, None)
                assert plan.lists
                assert all(listed.span is not None for listed in plan.lists) == reads_spans
                ranked = word_ranking.rank(
                    connection, [CHAT.id], since, None, None, (), WordFilter(), 5, total=True
                )
                assert len(ranked.words) == 5
                during = connection.execute(show).scalar_one()
                assert during == ("0" if reads_spans else default), since
                connection.commit()  # a plain SET would outlive it
                assert connection.execute(show).scalar_one() == default


def test_ties_at_the_cut_are_ranked_in_code_point_order(store: Store) -> None:
    """200 words used equally and a cut inside them: the rows past the first
    ones asked for are read until the ties are settled."""
    words = [_letters(i) for i in range(200)]
    rng = random.Random(3)
    rng.shuffle(words)
    fill_store(
        store,
        [
            make_message(CHAT, USERS[0], " ".join(words), message_id=1, date=START),
            make_message(CHAT, USERS[1], "top top", message_id=2, date=START + 60),
        ],
    )
    found = [(w.word, w.count) for w in store.queries.top_words(CHAT.id, limit=10)]
    assert found == [("top", 2)] + [(_letters(i), 1) for i in range(9)]


def test_words_the_hours_before_the_period_take_down_are_read_past(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Most of the history is all of it less the part before the period (here
    past any number of spans), and that part's partial UTC day comes from the
    texts.  90 words used three
    times, twice in those hours, rank first in SQL (3) but have 1 in the
    period; 10 words used twice in the period rank below them in SQL: the
    ranking must read on until it finds them."""
    day = 86_400
    first = int(datetime(2026, 3, 1, tzinfo=ZONE).timestamp()) // day * day  # a UTC midnight
    # 03:15 UTC: nearer the midnight before, so the part before the period
    # takes the whole day and the hours from midnight come back as texts.
    since = datetime.fromtimestamp(first + 5 * day + 3 * 3600 + 900, ZONE)
    words = [_letters(i) for i in range(100)]
    texts = [(first, "start")]
    for w in words[:90]:
        texts += [(first + 5 * day + 3600, w), (first + 5 * day + 7200, w)]  # before the period
        texts.append((first + 9 * day, w))
    for w in words[90:]:
        texts += [(first + 9 * day, w), (first + 10 * day, w)]
    texts.append((first + 20 * day, "end"))
    monkeypatch.setattr(word_periods, "MOST_SPANS", 0)
    fill_store(
        store,
        [
            make_message(CHAT, USERS[n % 3], text, message_id=n + 1, date=date)
            for n, (date, text) in enumerate(texts)
        ],
    )
    with store.engine.connect() as connection:
        plan = word_plan(connection, [CHAT.id], int(since.timestamp()), None)
    assert [sign for *_, sign in plan.edges] == [-1]  # all less the part before
    found = store.queries.top_words(CHAT.id, since=since, limit=10)
    assert [(w.word, w.count) for w in found] == [(w, 2) for w in words[90:]]


def test_a_long_period_reads_its_spans_up_to_the_most_and_all_less_before_past_it(
    store: Store,
) -> None:
    """Over a history of 1,300 days, a period of 900 days (most of it, under
    MOST_SPANS spans) reads the heads of its spans; one of 1,100 days is all
    time less the part before.  Both rank and count as the plain counts do."""
    day = 86_400
    vocabulary = [_letters(i) for i in range(40)]
    rng = random.Random(5)
    messages = [
        make_message(
            CHAT,
            USERS[n % 3],
            " ".join(rng.choices(vocabulary, k=4)),
            message_id=n + 1,
            date=START + n * 10 * day,
        )
        for n in range(131)
    ]
    fill_store(store, messages)
    end = START + 1_300 * day
    assert MOST_SPANS * 16 < 1_100
    for days, spans in ((900, True), (1_100, False)):
        since = end - days * day
        with store.engine.connect() as connection:
            plan = word_plan(connection, [CHAT.id], since, None)
        assert plan.lists and all((listed.span is not None) == spans for listed in plan.lists)
        counts = store.queries.word_counts(CHAT.id, since=datetime.fromtimestamp(since, ZONE))
        found = store.queries.word_ranking(
            CHAT.id, since=datetime.fromtimestamp(since, ZONE), min_length=1, limit=10
        )
        top, total = _expected(counts, WordFilter(), 10)
        assert [(w.word, w.count) for w in found.words] == top
        assert found.total == total


def test_a_quiet_members_small_spans_are_added_up_or_taken_from_all_time(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A member who writes a few words a span has spans too small for a floor
    above 0: reading their heads would read every row, so a period adds its
    rows up in SQL.  A member's period ending now over 60 % of the history or
    more (MEMBER_COMPLEMENT) is all their words less those before it, busy
    or quiet.  Over less than that but most of the history the ranking takes
    the complement where the heads would read the spans' tails (a floor of
    at most _SHALLOW uses: the busy member's here, 200 words a day) or every
    row (the quiet member's), and the heads otherwise (the busy member's
    with _SHALLOW at 0).  All rank and count as the plain counts do."""
    day = 86_400
    rng = random.Random(7)
    vocabulary = [_letters(i) for i in range(400)]
    messages = []
    weights = [1 / (i + 1) for i in range(len(vocabulary))]
    for n in range(40 * 16):  # 640 days: 40 spans
        date = START + n * day + rng.randint(0, 3_000)
        # USERS[0] writes 200 words a day, their spans' 100th words used a
        # few times each; USERS[1] one short message every fourth day.
        busy = " ".join(rng.choices(vocabulary, weights, k=200))
        messages.append(make_message(CHAT, USERS[0], busy, message_id=2 * n + 1, date=date))
        if n % 4 == 0:
            quiet = " ".join(rng.choices(vocabulary[:60], k=3))
            messages.append(make_message(CHAT, USERS[1], quiet, message_id=2 * n + 2, date=date))
    fill_store(store, messages)

    taken: list[str] = []
    for name in ("_heads", "_ordered", "_top_rows"):
        real = getattr(word_ranking, name)

        def recorded(*args: object, real: object = real, name: str = name, **kwargs: object):
            taken.append(name)
            return real(*args, **kwargs)  # type: ignore[operator]

        monkeypatch.setattr(word_ranking, name, recorded)
    end = datetime.fromtimestamp(START + 640 * day, ZONE)
    q = store.queries
    # 60 % of the 640 days: a period of 350 days reads spans, one of 420 all time.
    assert 350 < MEMBER_COMPLEMENT / (1 + MEMBER_COMPLEMENT) * 640 < 420
    cases = [
        # (member, days, the plan's lists, what ranks it)
        (USERS[1].id, 200, "spans", {"_ordered"}),  # spans added up in SQL
        # Under 60 % of the history: the spans' heads would read every row,
        # so the ranking takes all time less the 290 days before.
        (USERS[1].id, 350, "spans or all time", {"_top_rows"}),
        (USERS[1].id, 600, "all time", {"_top_rows"}),  # less the 40 days before
        (USERS[0].id, 200, "spans", {"_heads"}),
        (USERS[0].id, 350, "spans or all time", {"_heads", "_top_rows"}),
        (USERS[0].id, 420, "all time", {"_top_rows"}),
        (USERS[0].id, 600, "all time", {"_top_rows"}),
    ]
    assert word_ranking._SHALLOW > 0
    for (user_id, days, lists, ranked_by), shallow in itertools.product(
        cases, (0, word_ranking._SHALLOW)
    ):
        monkeypatch.setattr(word_ranking, "_SHALLOW", shallow)
        if len(ranked_by) > 1:  # the heads' floors are 1 to 4
            ranked_by = {"_heads"} if shallow == 0 else {"_top_rows"}
        since = end - timedelta(days=days)
        with store.engine.connect() as connection:
            plan = word_plan(connection, [CHAT.id], int(since.timestamp()), None, user_id)
        assert plan.lists, (user_id, days)
        spans = {listed.span is not None for listed in plan.lists}
        assert spans == {lists != "all time"}, (user_id, days)
        assert (plan.complement is not None) == (lists == "spans or all time"), (user_id, days)
        counts = q.word_counts(CHAT.id, since=since, user_id=user_id)
        for limit in (5, 40):
            taken.clear()
            found = q.word_ranking(CHAT.id, since=since, user_id=user_id, min_length=1, limit=limit)
            top, total = _expected(counts, WordFilter(), limit)
            where = (user_id, days, limit, shallow)
            assert [(w.word, w.count) for w in found.words] == top, where
            assert found.total == total, where
            assert set(taken) & {"_heads", "_ordered", "_top_rows"} == ranked_by, (where, taken)


def test_a_members_long_period_across_a_migrated_group_counts_both_chats(store: Store) -> None:
    """A member's period ending now over most of the history is all their
    words less the part before, in every chat of the family: a group's 100
    days and, after it became a supergroup, 200 more.  The ranking equals the
    words of the member's texts in the period, split as the store splits them."""
    day = 86_400
    group = make_chat(-4501, "Old", type="group")
    rng = random.Random(11)
    vocabulary = [_letters(i) for i in range(120)]
    weights = [1 / (i + 1) for i in range(len(vocabulary))]
    sent: list[tuple[int, int, str]] = []  # (date, sender, text)
    messages = []
    for n in range(300):
        chat = group if n < 100 else CHAT
        for k, user in enumerate(USERS[:2]):
            text = " ".join(rng.choices(vocabulary, weights, k=12 if k == 0 else 3))
            date = START + n * day + 600 * k + rng.randint(0, 3_000)
            messages.append(make_message(chat, user, text, message_id=2 * n + k + 1, date=date))
            sent.append((date, user.id, text))
        if n == 99:
            fill_store(store, messages)
            store.migrate_chat(group.id, CHAT.id)
            messages = []
    fill_store(store, messages)
    end = START + 300 * day
    for user in USERS[:2]:
        for days in (200, 290):
            since = end - days * day
            with store.engine.connect() as connection:
                plan = word_plan(connection, [CHAT.id, group.id], since, None, user.id)
            assert plan.lists and {listed.span for listed in plan.lists} == {None}
            assert len(plan.lists) == 2  # the member's all time in each chat
            texts = [text for date, sender, text in sent if sender == user.id and date >= since]
            expected = Counter(count_words(texts))
            found = store.queries.word_ranking(
                CHAT.id,
                since=datetime.fromtimestamp(since, ZONE),
                user_id=user.id,
                min_length=1,
                limit=25,
            )
            top, total = _expected(expected, WordFilter(), 25)
            assert [(w.word, w.count) for w in found.words] == top, (user.id, days)
            assert found.total == total, (user.id, days)


@pytest.mark.parametrize(
    ("most_spans", "per_statement", "bits"),
    [
        (MOST_SPANS, 3, word_ranking._BITS),
        (MOST_SPANS, word_ranking._LISTS_PER_STATEMENT, 2),
        (0, word_ranking._LISTS_PER_STATEMENT, word_ranking._BITS),
    ],
    ids=["spans-3-to-a-statement", "spans-2-to-a-bit-column", "all-less-before"],
)
def test_rankings_from_the_heads_of_many_spans_equal_the_plain_counts(
    store: Store, monkeypatch: pytest.MonkeyPatch, most_spans: int, per_statement: int, bits: int
) -> None:
    """Five months in which each 16-day span has its own favourite words, so
    a word is near the top of some spans and far down (or absent) in others:
    the threshold ranking must read past the first rows, bound the words each
    list has not reached, and sum the doubtful ones exactly, for long periods,
    the whole history less the part before, a member and an excluded member,
    with limits well below each span's vocabulary."""
    rng = random.Random(11)
    vocabulary = [_letters(i) for i in range(150)]
    messages = []
    for day in range(160):
        span = day // 16
        # This span's favourites first, then a common, flatter tail.
        hot = vocabulary[span * 17 % 130 : span * 17 % 130 + 20]
        weights = [0.6] * len(hot) + [(i + 1) ** -0.5 for i in range(len(vocabulary))]
        for k in range(40):
            words = rng.choices(hot + vocabulary, weights, k=rng.randint(2, 6))
            sender = USERS[rng.choice((0, 0, 1, 2))]
            date = START + day * 86_400 + k * 2_000 + rng.randint(0, 1_500)
            messages.append(
                make_message(CHAT, sender, " ".join(words), message_id=len(messages) + 1, date=date)
            )
    fill_store(store, messages)
    # The periods ending now over most of the history read their spans, or
    # (past 0 spans) all of it less the part before; the spans' heads are
    # read a few lists to a statement, added up across the statements, or
    # with which lists read a word spread over several columns.
    monkeypatch.setattr(word_periods, "MOST_SPANS", most_spans)
    monkeypatch.setattr(word_ranking, "_LISTS_PER_STATEMENT", per_statement)
    monkeypatch.setattr(word_ranking, "_BITS", bits)

    reads: list[int | None] = []
    heads = word_ranking._heads

    def recorded(*args: object, **kwargs: object) -> object:
        reads.append(kwargs.get("above"))  # type: ignore[arg-type]
        return heads(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(word_ranking, "_heads", recorded)
    sought: list[int] = []  # per batch of exact sums: the lists that missed some word
    unread = word_ranking._unread

    def counted(*args: object) -> list[object]:
        selects = unread(*args)  # type: ignore[arg-type]
        sought.append(len(selects))
        return selects

    monkeypatch.setattr(word_ranking, "_unread", counted)
    q = store.queries
    assert sum(q.word_counts(CHAT.id).values()) > 20_000
    keeps = [
        WordFilter(min_length=1, leave_out=frozenset(vocabulary[:5])),
        # Only rare words kept: the cut is far below the lists' depths.
        WordFilter(min_length=1, leave_out=frozenset(vocabulary[:120])),
    ]
    start = datetime.fromtimestamp(START, ZONE)
    periods = [
        (start + timedelta(days=d, hours=h), None if u is None else start + timedelta(days=u))
        for d, h, u in ((3, 5, None), (40, 20, None), (60, 0, 150), (17, 13, 120), (130, 2, None))
    ]
    for excluded in (frozenset(), frozenset({USERS[1].id})):
        q._excluded = lambda _chat, excluded=excluded: excluded  # type: ignore[method-assign]
        for since, until in periods:
            for user_id in (None, USERS[0].id):
                counts = q.word_counts(CHAT.id, since=since, until=until, user_id=user_id)
                for keep, limit in itertools.product(keeps, (1, 4, 15, 40)):
                    args = dict(since=since, until=until, user_id=user_id, **keep._asdict())
                    top, total = _expected(counts, keep, limit)
                    found = q.word_ranking(CHAT.id, limit=limit, **args)
                    where = (excluded, since, until, user_id, len(keep.leave_out), limit)
                    assert [(w.word, w.count) for w in found.words] == top, where
                    assert found.total == total, where
    # The lists were read down to a floor, not whole, and words read in
    # some of the summed lists were sought in the others.
    assert any(above for above in reads), reads
    assert any(sought), sought


def test_a_total_leaving_out_most_of_the_vocabulary_measures_the_rows(
    filled: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past a few thousand words of the wrong length (here past 2), the total
    takes them off by measuring the period's rows, not word by word."""
    monkeypatch.setattr(word_ranking, "_BY_KEY", 2)
    q = filled.queries
    keep = WordFilter(min_length=4, max_length=6, leave_out=STOP)
    for since, until in _periods():
        for user_id in (None, USERS[0].id):
            counts = q.word_counts(CHAT.id, since=since, until=until, user_id=user_id)
            args = dict(since=since, until=until, user_id=user_id, **keep._asdict())
            found = q.word_ranking(CHAT.id, limit=5, **args)
            assert (
                [(w.word, w.count) for w in found.words],
                found.total,
            ) == _expected(counts, keep, 5), (since, until, user_id)
    with filled.engine.connect() as connection:
        assert word_ranking._wrong_length(connection, [CHAT.id], keep) is None
