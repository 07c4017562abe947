"""Engagement's cached months (tgstats.store.month_cache): exact in every zone,
dropped by every write that changes them, and never stored stale by a fill
that races a writer."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy
import telegram
from tgstats.store import Store, bucketed, month_cache, open_store
from tgstats.store.rebuild import rebuild, verify
from tgstats.store.schema import SCHEMA_VERSION
from tgstats.testing import make_chat, make_message, make_reaction_count, make_user

from .old_versions import as_version

CHAT = make_chat(-1001600, "Months")
USERS = [make_user(i, f"u{i}") for i in (1, 2, 3)]
ZONES = [
    "Europe/Berlin",
    "Asia/Kathmandu",  # +05:45
    "Australia/Lord_Howe",  # a 30-minute DST shift
    "America/St_Johns",  # -03:30 / -02:30
    "Antarctica/Casey",  # turned its clocks back three hours in March 2010
    "UTC",
]
# Fourteen months around Casey's changes (October 2009, March 2010).
START = int(datetime(2009, 9, 1, tzinfo=UTC).timestamp())
SPAN = 425 * 86_400


def _history(seed: int = 3, n: int = 700) -> list[telegram.Message]:
    """Sparse messages at random minutes; every third replies to the one before."""
    rng = random.Random(seed)
    dates = sorted(START + rng.randrange(SPAN // 60) * 60 for _ in range(n))
    sent: list[telegram.Message] = []
    for i, date in enumerate(dates):
        parent = sent[-1] if i % 3 == 2 else None
        sender = USERS[rng.randrange(3)]
        sent.append(make_message(CHAT, sender, "hi", message_id=i + 1, date=date, reply_to=parent))
    return sent


def _expected(
    sent: list[telegram.Message], zone: ZoneInfo, low: float | None, high: float | None
) -> dict[int, tuple[int, int, int]]:
    """user -> (messages, active local days, replies received), counted with zoneinfo."""
    days: dict[int, set[object]] = {}
    counts: Counter[int] = Counter()
    received: Counter[int] = Counter()
    for m in sent:
        date = m.date.timestamp()
        if (low is None or date >= low) and (high is None or date < high):
            assert m.from_user is not None
            counts[m.from_user.id] += 1
            days.setdefault(m.from_user.id, set()).add(m.date.astimezone(zone).date())
            parent = m.reply_to_message
            replied_to = parent.from_user if parent is not None else None
            if replied_to is not None and replied_to.id != m.from_user.id:
                received[replied_to.id] += 1
    return {u: (counts[u], len(days.get(u, ())), received[u]) for u in {*days, *received}}


def _found(store: Store, zone: ZoneInfo, **period: Any) -> dict[int, tuple[int, int, int]]:
    activity = store.queries.user_activity(CHAT.id, tz=zone, **period)
    return {a.user.user_id: (a.messages, a.active_days, a.replies_received) for a in activity}


def _cached_rows(store: Store) -> int:
    with store.engine.connect() as connection:
        return int(
            connection.execute(sqlalchemy.text("SELECT count(*) FROM cache_member_months")).scalar()
        )


def _uncached(store: Store, zone: ZoneInfo) -> dict[int, tuple[int, int, int, int]]:
    """user -> (messages, days, reactions, replies received) by the exact query alone."""
    with store.engine.connect() as connection:
        stats = bucketed.member_activity(connection, [CHAT.id], zone, None, None)
        received = dict(bucketed.reply_counts(connection, [CHAT.id], None, None, by_sender=False))
    return {u: (*stats.get(u, (0, 0, 0)), received.get(u, 0)) for u in {*stats, *received}}


def _engagement(store: Store, zone: ZoneInfo) -> dict[int, tuple[int, int, int, int]]:
    activity = store.queries.user_activity(CHAT.id, tz=zone)
    return {
        a.user.user_id: (a.messages, a.active_days, a.reactions_received, a.replies_received)
        for a in activity
    }


def test_cached_months_give_the_exact_answer_in_every_zone(store: Store) -> None:
    sent = _history()
    store.record_messages(sent)
    for zone in map(ZoneInfo, ZONES):
        first = sent[0].date.astimezone(zone).date()
        periods: list[tuple[datetime | None, datetime | None]] = [(None, None)]
        for offset, length in ((0, 425), (20, 365), (200, 30), (95, 150)):
            since = datetime.combine(first + timedelta(days=offset), datetime.min.time(), zone)
            until = since + timedelta(days=length)
            periods += [(since, until), (since, None)]
        for since, until in periods:
            low = None if since is None else since.timestamp()
            high = None if until is None else until.timestamp()
            expected = _expected(sent, zone, low, high)
            # The first answer fills the months, the second reads them.
            assert _found(store, zone, since=since, until=until) == expected, (zone, since)
            assert _found(store, zone, since=since, until=until) == expected, (zone, since)
        assert _cached_rows(store) > 12 * 3  # a marker and three members a month
        with store.engine.connect() as connection:
            assert verify(connection) == []


def test_one_answer_fills_a_bounded_number_of_months_newest_first(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = _history()  # fourteen months
    store.record_messages(sent)
    zone = ZoneInfo("UTC")

    def filled() -> list[int]:
        with store.engine.connect() as connection:
            rows = connection.execute(
                sqlalchemy.text(
                    "SELECT month_start FROM cache_member_months WHERE user_id = 0 "
                    "ORDER BY month_start"
                )
            )
            return [int(start) for (start,) in rows]

    first, last = (int(sent[i].date.timestamp()) // 86_400 for i in (0, -1))
    months = month_cache.local_months(zone, first * 86_400, (last + 1) * 86_400)
    assert len(months) == 12
    monkeypatch.setattr(month_cache, "FILL_PER_ANSWER", 5)
    expected = _expected(sent, zone, None, None)
    for newest in (5, 10, 12):
        assert _found(store, zone) == expected
        assert filled() == [m.start for m in months[-newest:]]


def test_a_month_boundary_near_an_offset_change_is_not_split() -> None:
    """Samoa skipped 30 December 2011 (UTC-10 to UTC+14): the boundary of January
    2012 lies within two days of that change, so neither December nor January
    is a cached month; November and February are."""
    zone = ZoneInfo("Pacific/Apia")
    low = int(datetime(2011, 10, 15, tzinfo=zone).timestamp())
    high = int(datetime(2012, 3, 15, tzinfo=zone).timestamp())
    months = month_cache.local_months(zone, low, high)
    firsts = [datetime.fromtimestamp(m.start, zone).date().isoformat() for m in months]
    assert firsts == ["2011-11-01", "2012-02-01"]
    for month in months:
        assert datetime.fromtimestamp(month.start, zone).time() == datetime.min.time()
        assert datetime.fromtimestamp(month.end, zone).day == 1


def test_across_the_skipped_samoa_day_the_answer_stays_exact(store: Store) -> None:
    zone = ZoneInfo("Pacific/Apia")
    start = int(datetime(2011, 10, 20, tzinfo=UTC).timestamp())
    sent = [
        make_message(CHAT, USERS[i % 3], "hi", message_id=i + 1, date=start + i * 7 * 3600)
        for i in range(500)  # every 7 hours for about five months
    ]
    store.record_messages(sent)
    expected = _expected(sent, zone, None, None)
    assert _found(store, zone) == expected
    assert _found(store, zone) == expected
    assert _cached_rows(store) > 0


def test_a_local_day_on_both_sides_of_a_month_boundary_is_counted_once(store: Store) -> None:
    """St. John's left summer time at 00:01 on 1 November 2009, back to 23:01 on
    31 October: local midnight opening November came first, then an hour of 31
    October again.  A member writing at 23:30 before and after the change was
    active on 31 October only, on both sides of that midnight; splitting October
    from November there would count the day twice."""
    zone = ZoneInfo("America/St_Johns")
    change = int(datetime(2009, 11, 1, 2, 31, tzinfo=UTC).timestamp())
    dates = [
        change - 86_400 * 45,  # mid September
        change - 86_400 * 15,  # mid October
        change - 31 * 60,  # 31 October, 23:30 summer time (before November's midnight)
        change + 29 * 60,  # 31 October, 23:30 again, standard time (after it)
        change + 86_400 * 15,  # mid November
        change + 86_400 * 45,  # December
        change + 86_400 * 75,  # January
    ]
    sent = [
        make_message(CHAT, USERS[0], "hi", message_id=i + 1, date=d) for i, d in enumerate(dates)
    ]
    store.record_messages(sent)
    local = [datetime.fromtimestamp(d, zone) for d in dates[2:4]]
    assert [(t.month, t.day, t.hour, t.minute) for t in local] == [(10, 31, 23, 30)] * 2
    assert _expected(sent, zone, None, None) == {USERS[0].id: (7, 6, 0)}
    for _ in range(2):  # filling, then reading
        assert _found(store, zone) == {USERS[0].id: (7, 6, 0)}
    assert _cached_rows(store) > 0


def _month_message(message_id: int, user: telegram.User, text: str = "late") -> telegram.Message:
    """A message dated inside a cached month (March 2010)."""
    date = int(datetime(2010, 3, 17, 9, tzinfo=UTC).timestamp())
    return make_message(CHAT, user, text, message_id=message_id, date=date)


def _into(month: month_cache.Month, message_id: int) -> telegram.Message:
    """A message ten days into ``month``."""
    return make_message(CHAT, USERS[0], "racing", message_id=message_id, date=month.start + 864_000)


def _live(store: Store) -> None:
    store.record_messages([_month_message(10_001, USERS[0])])


def _edit_into_a_command(store: Store) -> None:
    old = next(m for m in list(store.queries.messages(CHAT.id)) if m.date.month == 3)
    user = next(u for u in USERS if u.id == old.user_id)
    edited = make_message(
        CHAT,
        user,
        "/heatmap",
        message_id=old.message_id,
        date=old.date,
        edit_date=int(old.date.timestamp()) + 60,
    )
    store.record_messages([edited])


def _reactions(store: Store) -> None:
    old = next(m for m in list(store.queries.messages(CHAT.id)) if m.date.month == 4)
    store.record_reaction_count(make_reaction_count(CHAT, old.message_id, {"👍": 4}))


def _import(store: Store) -> None:
    date = int(datetime(2010, 2, 10, 12, tzinfo=UTC).timestamp())
    with store.bulk() as batch:
        batch.add_messages(
            [
                {
                    "chat_id": CHAT.id,
                    "message_id": 20_000 + i,
                    "user_id": USERS[i % 3].id,
                    "date": date + i * 86_400,
                    "text": "imported",
                    "reply_to_message_id": 1 if i % 2 else None,
                }
                for i in range(5)
            ]
        )


def _opt_out(store: Store) -> None:
    store.opt_out(CHAT.id, USERS[1].id)


def _rebuild(store: Store) -> None:
    with store.engine.begin() as connection:
        connection.execute(sqlalchemy.text("UPDATE agg_member_days SET messages = messages + 1"))
        rebuild(connection)


WRITES: dict[str, Callable[[Store], None]] = {
    "live message": _live,
    "edit into a command": _edit_into_a_command,
    "reaction count": _reactions,
    "import": _import,
    "opt-out": _opt_out,
    "rebuild": _rebuild,
}


@pytest.mark.parametrize("write", WRITES)
def test_every_write_drops_the_months_it_changes(store: Store, write: str) -> None:
    store.record_messages(_history(n=300))
    zone = ZoneInfo("Europe/Berlin")
    _engagement(store, zone)
    assert _cached_rows(store) > 0
    WRITES[write](store)
    with store.engine.connect() as connection:
        assert verify(connection) == []
    assert _engagement(store, zone) == _uncached(store, zone)
    assert _cached_rows(store) > 0  # filled again


def test_verify_reports_a_wrong_cached_month(store: Store) -> None:
    store.record_messages(_history(n=200))
    _engagement(store, ZoneInfo("UTC"))
    with store.engine.begin() as connection:
        connection.execute(
            sqlalchemy.text(
                "UPDATE cache_member_months SET active_days = active_days + 1 WHERE user_id = 1"
            )
        )
    with store.engine.connect() as connection:
        differences = verify(connection)
    assert differences and {d.table for d in differences} == {"cache_member_months"}
    assert all(d.key[2] == 1 and d.stored != d.expected for d in differences)


def test_excluded_members_are_left_out_of_cached_months(store: Store) -> None:
    sent = _history(n=300)
    store.record_messages(sent)
    zone = ZoneInfo("Asia/Kathmandu")
    _engagement(store, zone)  # months cached with every member
    store.settings.exclude(CHAT.id, USERS[2].id, by=None)
    found = _engagement(store, zone)
    assert USERS[2].id not in found
    with store.engine.connect() as connection:
        stats = bucketed.member_activity(
            connection, [CHAT.id], zone, None, None, excluded={USERS[2].id}
        )
        received = dict(
            bucketed.reply_counts(
                connection, [CHAT.id], None, None, by_sender=False, excluded={USERS[2].id}
            )
        )
    assert {u: (n, d, r) for u, (n, d, r, _) in found.items()} == stats
    assert {u: v[3] for u, v in found.items() if v[3]} == received


def test_a_writer_waits_for_a_fill_and_then_drops_its_month(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer (another connection, as the bot's store writer is) commits into
    a month while a reader computes it: it waits for the fill's lock (SQLite's
    write lock, the chat's advisory lock on PostgreSQL), then its own
    transaction drops the month, so nothing stale is kept."""
    with open_store(store_url) as store, open_store(store_url) as writer:
        store.record_messages(_history(n=200))
        compute = month_cache._compute
        threads: list[threading.Thread] = []

        def racing(*args: Any) -> Any:
            result = compute(*args)
            if not threads:  # a message into the month just computed
                thread = threading.Thread(
                    target=writer.record_messages, args=([_into(args[3], 30_001)],)
                )
                threads.append(thread)
                thread.start()
                time.sleep(0.3)
                assert thread.is_alive()  # waiting for the fill's lock
            return result

        monkeypatch.setattr(month_cache, "_compute", racing)
        _engagement(store, ZoneInfo("UTC"))
        threads[0].join(10)
        assert not threads[0].is_alive()
        with store.engine.connect() as connection:
            assert verify(connection) == []
        monkeypatch.setattr(month_cache, "_compute", compute)
        assert _engagement(store, ZoneInfo("UTC")) == _uncached(store, ZoneInfo("UTC"))


def test_months_are_cached_while_other_chats_are_recorded(store_url: str) -> None:
    """A bot records other chats all the time: every commit anywhere moves
    SQLite's snapshot, so a fill must not depend on an unchanged one."""
    other = make_chat(-1001601, "Busy")
    stop = threading.Event()
    with open_store(store_url) as store, open_store(store_url) as writer:
        store.record_messages(_history(n=300))

        def record_other_chat() -> None:
            for i in range(1, 100_000):
                if stop.is_set():
                    return
                writer.record_messages([make_message(other, USERS[0], "busy", message_id=i)])
                time.sleep(0.002)

        thread = threading.Thread(target=record_other_chat)
        thread.start()
        try:
            time.sleep(0.1)
            expected = _uncached(store, ZoneInfo("UTC"))
            assert _engagement(store, ZoneInfo("UTC")) == expected
            assert _cached_rows(store) > 0
        finally:
            stop.set()
            thread.join(10)
        with store.engine.connect() as connection:
            assert verify(connection, [CHAT.id]) == []


@pytest.mark.postgres
def test_a_long_import_makes_engagement_skip_the_fill_not_wait_postgresql(
    pg_store_url: str,
) -> None:
    with open_store(pg_store_url) as store:
        store.record_messages(_history(n=200))
        expected = _uncached(store, ZoneInfo("UTC"))
        with store.bulk() as batch:  # holds the chat's writer lock until it ends
            batch.add_messages(
                [{"chat_id": CHAT.id, "message_id": 40_000, "user_id": 1, "date": START}]
            )
            started = time.monotonic()
            assert _engagement(store, ZoneInfo("UTC")) == expected
            assert time.monotonic() - started < 5
            assert _cached_rows(store) == 0
        assert _engagement(store, ZoneInfo("UTC")) == _uncached(store, ZoneInfo("UTC"))
        assert _cached_rows(store) > 0


def test_a_version_5_store_gets_the_cache_table(store_url: str) -> None:
    with open_store(store_url) as store:
        store.record_messages(_history(n=100))
        expected = _uncached(store, ZoneInfo("UTC"))
    as_version(store_url, 5)
    with open_store(store_url) as store:
        with store.engine.connect() as connection:
            version = connection.execute(
                sqlalchemy.text("SELECT version FROM tgstats_schema_version")
            ).scalar_one()
        assert version == SCHEMA_VERSION == 9
        assert _cached_rows(store) == 0  # it fills itself on first use
        assert _engagement(store, ZoneInfo("UTC")) == expected
        assert _cached_rows(store) > 0


@pytest.mark.postgres
def test_a_read_only_database_answers_without_caching_postgresql(pg_store_url: str) -> None:
    """A replica or a read-only role: the months cannot be stored, the answer is
    still exact and nothing fails."""
    with open_store(pg_store_url) as store:
        store.record_messages(_history(n=200))
        expected = _uncached(store, ZoneInfo("UTC"))

        @sqlalchemy.event.listens_for(store.engine, "connect")
        def read_only(dbapi_connection: Any, _record: Any) -> None:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SET default_transaction_read_only TO on")
            dbapi_connection.commit()

        store.engine.dispose()  # new connections, read-only from the start
        assert _engagement(store, ZoneInfo("UTC")) == expected
        sqlalchemy.event.remove(store.engine, "connect", read_only)
        store.engine.dispose()
        assert _cached_rows(store) == 0
