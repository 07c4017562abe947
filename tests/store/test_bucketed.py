"""Statistics from the aggregates are exact in every zone (tgstats.store.bucketed).

Messages every 7 minutes 30 seconds around DST changes are checked against
a plain Python count with zoneinfo, in zones with whole-hour, half-hour and
45-minute offsets and a 30-minute DST shift, for whole history and for
periods starting at a local midnight (what the plugins ask).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy
from tgstats.store import Store, word_periods
from tgstats.testing import fill_store, make_chat, make_message, make_user

CHAT = make_chat(-1001400, "Zones")
USERS = [make_user(i, f"u{i}") for i in (1, 2, 3)]
# 2026-03-28 .. 2026-04-06: Europe and Lord Howe change their clocks in it.
START = int(datetime(2026, 3, 28, tzinfo=UTC).timestamp())
DATES = [START + i * 450 for i in range(0, 9 * 192, 5)]  # odd steps: every minute of the hour
ZONES = ["Europe/Berlin", "Asia/Kathmandu", "Australia/Lord_Howe", "America/St_Johns", "UTC"]


@pytest.fixture
def filled(store: Store) -> Store:
    messages = []
    for i, date in enumerate(DATES):
        parent = messages[-1] if i % 3 == 0 and messages else None
        messages.append(
            make_message(
                CHAT,
                USERS[i % 3],
                f"word{'' if i % 2 else 's'} here",
                message_id=i + 1,
                date=date,
                reply_to=parent,
            )
        )
    fill_store(store, messages)
    return store


def _expected(
    zone: ZoneInfo, since: int | None
) -> tuple[list[list[int]], Counter[int], dict[int, int]]:
    grid = [[0] * 24 for _ in range(7)]
    per_user: Counter[int] = Counter()
    days: dict[int, set[object]] = {}
    for i, date in enumerate(DATES):
        if since is not None and date < since:
            continue
        local = datetime.fromtimestamp(date, UTC).astimezone(zone)
        grid[local.weekday()][local.hour] += 1
        user = USERS[i % 3].id
        per_user[user] += 1
        days.setdefault(user, set()).add(local.date())
    return grid, per_user, {u: len(d) for u, d in days.items()}


def test_grid_members_and_days_are_exact_in_every_zone(filled: Store) -> None:
    for zone in map(ZoneInfo, ZONES):
        last = datetime.fromtimestamp(DATES[-1], UTC).astimezone(zone)
        midnight = datetime.combine(last.date() - timedelta(days=3), datetime.min.time(), zone)
        for since in (None, midnight):
            grid, per_user, days = _expected(
                zone, None if since is None else int(since.timestamp())
            )
            assert filled.queries.counts_by_weekday_hour(CHAT.id, tz=zone, since=since) == grid
            activity = filled.queries.user_activity(CHAT.id, tz=zone, since=since)
            assert {a.user.user_id: a.messages for a in activity} == dict(per_user), zone
            assert {a.user.user_id: a.active_days for a in activity} == days, zone


def test_words_at_the_edges_of_a_period_come_from_the_texts(filled: Store) -> None:
    zone = ZoneInfo("Asia/Kathmandu")  # local midnight is 18:15 UTC
    since = datetime(2026, 4, 1, tzinfo=zone)
    until = datetime(2026, 4, 3, tzinfo=zone)
    expected: Counter[str] = Counter()
    first: Counter[str] = Counter()  # USERS[0]'s
    for i, date in enumerate(DATES):
        if since.timestamp() <= date < until.timestamp():
            words = ["word" if i % 2 else "words", "here"]
            expected.update(words)
            if i % 3 == 0:
                first.update(words)
    assert filled.queries.word_counts(CHAT.id, since=since, until=until) == dict(expected)
    one = filled.queries.word_counts(CHAT.id, since=since, until=until, user_id=USERS[0].id)
    assert one == dict(first)
    # Within one UTC day: texts only.
    short = filled.queries.word_counts(CHAT.id, since=since, until=since + timedelta(hours=2))
    assert sum(short.values()) == 2 * len(
        [d for d in DATES if since.timestamp() <= d < since.timestamp() + 7200]
    )


def test_long_periods_add_whole_spans_days_and_edge_texts(store: Store) -> None:
    """60 days of messages: 16-day spans, leftover days and edge hours all add up."""
    dates = [START + i * 21_600 + (i % 7) * 60 for i in range(240)]
    fill_store(
        store,
        [
            make_message(
                CHAT, USERS[i % 2], f"w{chr(97 + i % 5)}x common", message_id=i + 1, date=d
            )
            for i, d in enumerate(dates)
        ],
    )
    zone = ZoneInfo("Asia/Kathmandu")
    until = datetime(2026, 5, 21, tzinfo=zone)
    periods = [
        (None, None),
        (datetime(2026, 4, 10, tzinfo=zone), None),
        (datetime(2026, 4, 10, tzinfo=zone), until),
        (None, until),
    ]
    for since, end in periods:
        low = -1 if since is None else since.timestamp()
        high = 2**40 if end is None else end.timestamp()
        expected: Counter[str] = Counter()
        for i, date in enumerate(dates):
            if low <= date < high:
                expected.update([f"w{chr(97 + i % 5)}x", "common"])
        got = store.queries.word_counts(CHAT.id, since=since, until=end)
        assert got == dict(expected), (since, end)
        mine = store.queries.word_counts(CHAT.id, since=since, until=end, user_id=USERS[0].id)
        assert mine["common"] == len(
            [i for i, d in enumerate(dates) if i % 2 == 0 and low <= d < high]
        )


def test_periods_starting_and_ending_on_any_day_of_a_span_count_exactly(store: Store) -> None:
    """The spans at a period's edges are taken whole and the days outside the
    period subtracted, or the days inside added, whichever reads fewer days:
    every start and end day across two spans must give the texts' count."""
    day = 86_400
    dates = [START + i * 7_200 + (i % 5) * 60 for i in range(12 * 40)]  # 40 days
    words = [f"w{chr(97 + i % 7)}x s{chr(97 + i // 12 % 3)}x" for i in range(len(dates))]
    fill_store(
        store,
        [
            make_message(CHAT, USERS[i % 3], text, message_id=i + 1, date=d)
            for i, (d, text) in enumerate(zip(dates, words, strict=True))
        ],
    )
    zone = ZoneInfo("UTC")

    def check(user_id: int | None, left_out: int | None = None) -> None:
        for start_day in range(0, 34, 3):
            since = datetime.fromtimestamp(START + start_day * day, zone)
            for length in (None, 5, 17, 26):
                until = None if length is None else since + timedelta(days=length)
                high = 2**40 if until is None else until.timestamp()
                expected: Counter[str] = Counter()
                for i, (date, text) in enumerate(zip(dates, words, strict=True)):
                    sender = USERS[i % 3].id
                    inside = since.timestamp() <= date < high and sender != left_out
                    if inside and user_id in (None, sender):
                        expected.update(text.split())
                got = store.queries.word_counts(CHAT.id, since=since, until=until, user_id=user_id)
                assert got == dict(expected), (user_id, left_out, start_day, length)

    check(None)
    check(USERS[0].id)  # the member's own spans (agg_member_word_spans) and days
    # An excluded member's spans come off the chat's; their own period is empty.
    store.settings.exclude(CHAT.id, USERS[1].id, by=None)
    check(None, left_out=USERS[1].id)
    check(USERS[0].id, left_out=USERS[1].id)
    assert store.queries.word_counts(CHAT.id, since=datetime.fromtimestamp(START, zone)) != {}
    assert (
        store.queries.word_counts(
            CHAT.id, since=datetime.fromtimestamp(START, zone), user_id=USERS[1].id
        )
        == {}
    )


SPARSE_ZONES = [
    "Europe/Berlin",
    "America/Santiago",  # DST ends at local midnight: 24:00 becomes 23:00
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "Pacific/Kiritimati",  # UTC+14: a UTC day is mostly the next local day
    "America/Adak",  # UTC-10/-9
    "UTC",
]


def test_active_days_from_day_rows_are_exact_for_sparse_members(store: Store) -> None:
    """Few messages per member and day, at random minutes over 80 days around
    the March and April DST changes (both hemispheres): the local days a member
    was active, and the replies they received, must match a count with zoneinfo
    whatever the zone and period."""
    import random

    rng = random.Random(12)
    start = int(datetime(2026, 2, 20, tzinfo=UTC).timestamp())
    dates = sorted(start + rng.randrange(80 * 86_400 // 60) * 60 for _ in range(400))
    senders = [USERS[rng.randrange(3)] for _ in dates]
    sent: list[object] = []
    for i, (date, sender) in enumerate(zip(dates, senders, strict=True)):
        # Every third message replies to the one before it.
        parent = sent[-1] if i % 3 == 2 else None
        sent.append(make_message(CHAT, sender, "hi", message_id=i + 1, date=date, reply_to=parent))
    fill_store(store, sent)
    for zone in map(ZoneInfo, SPARSE_ZONES):
        first = datetime.fromtimestamp(dates[0], UTC).astimezone(zone).date()
        periods = [(None, None)]
        for offset, length in ((9, 40), (30, 3), (41, 1), (0, 80)):
            since = datetime.combine(first + timedelta(days=offset), datetime.min.time(), zone)
            until = datetime.combine(
                first + timedelta(days=offset + length), datetime.min.time(), zone
            )
            periods.append((since, until))
        for since, until in periods:
            low = None if since is None else since.timestamp()
            high = None if until is None else until.timestamp()
            days: dict[int, set[object]] = {}
            counts: Counter[int] = Counter()
            received: Counter[int] = Counter()
            for i, (date, sender) in enumerate(zip(dates, senders, strict=True)):
                if (low is None or date >= low) and (high is None or date < high):
                    days.setdefault(sender.id, set()).add(
                        datetime.fromtimestamp(date, UTC).astimezone(zone).date()
                    )
                    counts[sender.id] += 1
                    if i % 3 == 2 and senders[i - 1] != sender:
                        received[senders[i - 1].id] += 1
            activity = store.queries.user_activity(CHAT.id, tz=zone, since=since, until=until)
            found = {
                a.user.user_id: (a.messages, a.active_days, a.replies_received) for a in activity
            }
            expected = {
                u: (counts[u], len(days.get(u, ())), received[u]) for u in {*days, *received}
            }
            assert found == expected, (zone, since, until)


def test_a_day_whose_local_date_goes_back_is_read_bucket_by_bucket(store: Store) -> None:
    """Antarctica/Casey went from UTC+11 to UTC+8 at 2010-03-04 15:00 UTC: local
    02:00 on 5 March became 23:00 on 4 March.  A member writing at 11:00, 14:00
    and 15:30 UTC that day was active on 4 March, then 5 March, then 4 March
    again: the day's first and last bucket alone would miss 5 March."""
    zone = ZoneInfo("Antarctica/Casey")
    day = int(datetime(2010, 3, 4, tzinfo=UTC).timestamp())
    dates = [day + 11 * 3600, day + 14 * 3600, day + 15 * 3600 + 1800, day + 30 * 86_400]
    fill_store(
        store,
        [make_message(CHAT, USERS[0], "hi", message_id=i + 1, date=d) for i, d in enumerate(dates)],
    )
    local = {datetime.fromtimestamp(d, UTC).astimezone(zone).date() for d in dates}
    assert len(local) == 3  # 4 March, 5 March, 3 April
    [activity] = store.queries.user_activity(CHAT.id, tz=zone)
    assert (activity.messages, activity.active_days) == (4, 3)


def test_a_period_longer_than_the_history_reads_the_all_time_words(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`/wordcloud 3650` in a young chat costs what `/wordcloud all` costs: a
    bound outside the stored messages is dropped.  Shown by a marked all-time
    row, which only a read of agg_chat_words can return."""
    fill_store(
        store,
        [
            make_message(CHAT, USERS[0], "alpha beta", message_id=i + 1, date=START + i * 3600)
            for i in range(48)
        ],
    )
    with store.engine.begin() as connection:
        connection.execute(
            sqlalchemy.text("UPDATE agg_chat_words SET count = 1000 WHERE word = 'alpha'")
        )
    long_ago = datetime.fromtimestamp(START - 86_400 * 3650, UTC)
    assert store.queries.word_counts(CHAT.id, since=long_ago)["alpha"] == 1000
    until = datetime.fromtimestamp(START + 86_400 * 30, UTC)  # after the last message
    assert store.queries.word_counts(CHAT.id, since=long_ago, until=until)["alpha"] == 1000
    # Most of the history, in a chat this young: read from its spans and
    # days, which the marked row is not in (the true count).
    since = datetime.fromtimestamp(START + 3600, UTC)
    assert store.queries.word_counts(CHAT.id, since=since, until=until)["alpha"] == 47
    # Past MOST_SPANS spans: all of it less the hour before the period.
    monkeypatch.setattr(word_periods, "MOST_SPANS", 0)
    assert store.queries.word_counts(CHAT.id, since=since, until=until)["alpha"] == 999
    # The last 8 hours are summed from the texts and days: the true count.
    since = datetime.fromtimestamp(START + 40 * 3600, UTC)
    assert store.queries.word_counts(CHAT.id, since=since, until=until)["alpha"] == 8
