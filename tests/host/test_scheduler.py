"""The scheduler on a clock the test moves: local times per chat, missed runs once, failures
contained, reloads cancel the old code.  Runs on SQLite and PostgreSQL (the ``store`` fixture)."""

from __future__ import annotations

import asyncio
import io
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from tgstats.host.scheduler import ChatPrefs, Job, Scheduler
from tgstats.host.services import Host
from tgstats.logs import configure_logging
from tgstats.plugins import (
    ChatSettings,
    NoConfig,
    Plugin,
    Reply,
    ScheduleContext,
    TextReply,
    current_language,
    daily,
    format_number,
    per_chat,
    schedule,
    weekly,
)
from tgstats.store import Store
from tgstats.testing import fill_store, make_chat, make_message, make_user, utc

TOKYO, BERLIN, OFF = make_chat(-501, "Tokyo"), make_chat(-502, "Berlin"), make_chat(-503, "Off")
ZONES = {TOKYO.id: ZoneInfo("Asia/Tokyo"), BERLIN.id: ZoneInfo("Europe/Berlin")}


@attrs.define
class FakeClock:
    current: datetime
    slept: list[float] = attrs.field(factory=list)

    def now(self) -> datetime:
        return self.current

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        await asyncio.sleep(3600)  # only a wake() or a cancel ends it


class Digest(Plugin[NoConfig]):
    @schedule(weekly(day="mon", time="09:00"))
    def weekly_digest(self, ctx: ScheduleContext) -> TextReply:
        local = ctx.now.astimezone(ctx.zone)
        count = ctx.store.count_messages(ctx.chat_id)
        return TextReply(f"{ctx.chat_title}: {local:%a %H:%M} {count} messages")


class Flaky(Plugin[NoConfig]):
    @schedule(daily(time="12:00"))
    async def broken(self, ctx: ScheduleContext) -> TextReply:
        raise RuntimeError("job bug")

    @schedule(daily(time="12:00"))
    async def fine(self, ctx: ScheduleContext) -> TextReply:
        return TextReply("fine")


class Slow(Plugin[NoConfig]):
    @schedule(daily(time="12:00"))
    async def slow(self, ctx: ScheduleContext) -> TextReply:
        await asyncio.sleep(3600)
        return TextReply("never")


def jobs_of(name: str, cls: type[Plugin[Any]], store: Store) -> list[Job]:
    plugin = cls(NoConfig(), Host(name, store.queries))
    return [Job(name, spec, plugin) for spec in cls.schedules()]


@pytest.fixture
def chats(store: Store) -> Store:
    alice = make_user(1, "Alice")
    fill_store(store, [make_message(chat, alice, "hi") for chat in (TOKYO, BERLIN, OFF)])
    return store


def make_scheduler(
    store: Store, jobs: list[Job], clock: FakeClock, sent: list[tuple[int, str]]
) -> Scheduler:
    async def send(plugin: str, chat_id: int, reply: Reply) -> None:
        assert isinstance(reply, TextReply)
        sent.append((chat_id, reply.text))

    prefs = ChatPrefs(
        zone_of=lambda chat: ZONES.get(chat, ZoneInfo("UTC")),
        plugin_enabled=lambda plugin, chat: chat != OFF.id,
    )
    return Scheduler(store, jobs=lambda: jobs, send=send, prefs=prefs, clock=clock)


async def run_tick(scheduler: Scheduler, when: str) -> float:
    assert isinstance(scheduler.clock, FakeClock)
    scheduler.clock.current = utc(when)
    wait = await scheduler.tick()
    await scheduler.idle()
    return wait


async def test_weekly_job_fires_at_each_chats_local_time(chats: Store) -> None:
    sent: list[tuple[int, str]] = []
    clock = FakeClock(utc("2026-03-02T09:00:00Z"))  # a Monday, after both chats' 09:00
    scheduler = make_scheduler(chats, jobs_of("digest", Digest, chats), clock, sent)
    await run_tick(scheduler, "2026-03-02T09:00:00Z")  # first sight: counting starts now
    assert sent == []
    # 09:00 in Tokyo is 00:00 UTC on Monday; Berlin's 09:00 is 08:00 UTC.
    wait = await run_tick(scheduler, "2026-03-08T23:59:59Z")
    assert sent == [] and wait == 1.0
    await run_tick(scheduler, "2026-03-09T00:00:00Z")
    assert sent == [(TOKYO.id, "Tokyo: Mon 09:00 1 messages")]
    await run_tick(scheduler, "2026-03-09T00:30:00Z")  # not again
    wait = await run_tick(scheduler, "2026-03-09T07:59:00Z")
    assert len(sent) == 1 and wait == 60.0  # capped at max_wait
    await run_tick(scheduler, "2026-03-09T08:00:30Z")
    assert sent[1] == (BERLIN.id, "Berlin: Mon 09:00 1 messages")
    # The chat that turned the plugin off never gets it; the third UTC chat at 09:00 UTC.
    await run_tick(scheduler, "2026-03-09T09:00:00Z")
    assert [chat for chat, _ in sent] == [TOKYO.id, BERLIN.id]


async def test_missed_runs_run_once_after_a_restart(chats: Store) -> None:
    sent: list[tuple[int, str]] = []
    clock = FakeClock(utc("2026-03-02T06:00:00Z"))
    jobs = jobs_of("digest", Digest, chats)
    await run_tick(make_scheduler(chats, jobs, clock, sent), "2026-03-02T06:00:00Z")
    # The bot was down for three weeks: a new scheduler (a restart) on the same store.
    restarted = make_scheduler(chats, jobs_of("digest", Digest, chats), clock, sent)
    await run_tick(restarted, "2026-03-25T12:00:00Z")
    assert sorted(chat for chat, _ in sent) == sorted([TOKYO.id, BERLIN.id])
    await run_tick(restarted, "2026-03-25T13:00:00Z")
    assert len(sent) == 2  # once each, not once per missed Monday


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging(stream=stream)
    yield stream
    configure_logging(stream=sys.stderr)


async def test_a_failing_job_is_logged_with_the_plugin_and_others_run(
    chats: Store, log_lines: io.StringIO
) -> None:
    sent: list[tuple[int, str]] = []
    clock = FakeClock(utc("2026-03-02T06:00:00Z"))
    scheduler = make_scheduler(chats, jobs_of("flaky", Flaky, chats), clock, sent)
    await run_tick(scheduler, "2026-03-02T06:00:00Z")
    await run_tick(scheduler, "2026-03-02T12:00:00Z")
    assert sent == [(BERLIN.id, "fine")]  # 12:00 in Berlin is 11:00 UTC; Tokyo's was 03:00
    failures = [
        line for line in log_lines.getvalue().splitlines() if "scheduled_job_failed" in line
    ]
    assert len(failures) == 1 and "plugin=flaky" in failures[0] and "job=broken" in failures[0]
    # Marked as run: the broken job is not retried on every tick.
    before = scheduler.runs
    await run_tick(scheduler, "2026-03-02T12:00:10Z")
    assert scheduler.runs == before


async def test_unloading_cancels_running_jobs_and_the_new_code_runs(chats: Store) -> None:
    sent: list[tuple[int, str]] = []
    clock = FakeClock(utc("2026-03-02T06:00:00Z"))
    jobs = jobs_of("slow", Slow, chats)
    scheduler = make_scheduler(chats, jobs, clock, sent)
    await scheduler.tick()
    clock.current = utc("2026-03-02T12:00:00Z")
    await scheduler.tick()
    assert len(scheduler._running) == 1  # Berlin's 12:00 (Tokyo's was before counting began)
    scheduler.cancel_plugin("slow")
    await asyncio.sleep(0)
    await scheduler.idle()
    assert scheduler._running == {} and sent == []

    class Fast(Plugin[NoConfig]):  # the reloaded version: same job name
        @schedule(daily(time="12:00"))
        async def slow(self, ctx: ScheduleContext) -> TextReply:
            return TextReply("new code")

    jobs[:] = jobs_of("slow", Fast, chats)
    await scheduler.tick()
    await scheduler.idle()
    assert sent == []  # the cancelled run was claimed: not repeated ...
    clock.current = utc("2026-03-03T12:00:00Z")
    await scheduler.tick()
    await scheduler.idle()
    # ... the next ones (Tokyo's 03:00 UTC, Berlin's 11:00 UTC) are the new code's.
    assert sorted(sent) == sorted([(TOKYO.id, "new code"), (BERLIN.id, "new code")])


async def test_two_workers_on_one_store_post_a_run_once(chats: Store) -> None:
    sent: list[tuple[int, str]] = []
    clock = FakeClock(utc("2026-03-02T06:00:00Z"))
    workers = [make_scheduler(chats, jobs_of("flaky", Flaky, chats), clock, sent) for _ in "ab"]
    for worker in workers:
        await run_tick(worker, "2026-03-02T06:00:00Z")
    clock.current = utc("2026-03-02T12:00:00Z")
    await asyncio.gather(*(worker.tick() for worker in workers))
    for worker in workers:
        await worker.idle()
    assert sent == [(BERLIN.id, "fine")]


async def test_the_loop_sleeps_until_the_next_run_and_wakes_on_reload(chats: Store) -> None:
    sent: list[tuple[int, str]] = []
    clock = FakeClock(utc("2026-03-02T10:59:30Z"))
    jobs: list[Job] = []
    scheduler = make_scheduler(chats, jobs, clock, sent)
    scheduler.start()
    try:
        await until(lambda: len(clock.slept) == 1)
        assert clock.slept == [60.0]  # nothing to run
        jobs.extend(jobs_of("flaky", Flaky, chats))
        scheduler.wake()
        await until(lambda: len(clock.slept) == 2)
        assert clock.slept[-1] == 30.0  # Berlin's 12:00 is 11:00 UTC
    finally:
        await scheduler.stop()


async def until(condition: Any, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.01)


def test_rules_in_local_time_across_dst() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    rule = daily(time="02:30")  # does not exist on 29 March 2026 in Berlin
    before = utc("2026-03-29T00:00:00Z")
    nxt = rule.next(before, berlin)
    assert nxt.astimezone(berlin).strftime("%H:%M %Z") == "03:30 CEST" and nxt > before
    assert rule.previous(nxt + timedelta(seconds=1), berlin) == nxt
    monday = weekly(day="Monday", time="09:00:15")
    when = monday.next(utc("2026-03-04T00:00:00Z"), berlin)
    assert when.astimezone(berlin).strftime("%a %H:%M:%S") == "Mon 09:00:15"
    assert monday.previous(when, berlin) == when


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: daily(time="25:00"), "expected 'HH:MM'"),
        (lambda: daily(time="9am"), "expected 'HH:MM'"),
        (lambda: weekly(day="someday", time="09:00"), "expected one of mon"),
        (lambda: schedule("daily")(lambda self, ctx: None), "expected daily"),  # type: ignore[arg-type]
    ],
)
def test_bad_schedules_are_refused_when_declared(make: Any, message: str) -> None:
    with pytest.raises((ValueError, TypeError), match=message):
        make()


async def test_prefs_may_answer_from_the_event_loop(chats: Store) -> None:
    # As the per-chat settings service does: awaitables, and None for "no zone set" (UTC).
    async def zone_of(chat_id: int) -> ZoneInfo | None:
        return ZONES.get(chat_id)

    async def enabled(plugin: str, chat_id: int) -> bool:
        return chat_id == OFF.id  # only the third chat, in UTC

    sent: list[tuple[int, str]] = []

    async def send(plugin: str, chat_id: int, reply: Reply) -> None:
        assert isinstance(reply, TextReply)
        sent.append((chat_id, reply.text))

    clock = FakeClock(utc("2026-03-02T06:00:00Z"))
    scheduler = Scheduler(
        chats,
        jobs=lambda: jobs_of("flaky", Flaky, chats),
        send=send,
        prefs=ChatPrefs(zone_of=zone_of, plugin_enabled=enabled),
        clock=clock,
    )
    await run_tick(scheduler, "2026-03-02T06:00:00Z")
    await run_tick(scheduler, "2026-03-02T11:30:00Z")
    assert sent == []  # Berlin's noon has passed, but the plugin is off there
    await run_tick(scheduler, "2026-03-02T12:00:00Z")
    assert sent == [(OFF.id, "fine")]


@attrs.frozen
class ChatChoice:
    enabled: bool = False
    day: str = "mon"
    time: str = "09:00"


class PerChatDigest(Plugin[ChatChoice]):
    Config = ChatChoice
    chat_options = ("enabled", "day", "time")

    @schedule(per_chat(lambda c: weekly(day=c.day, time=c.time) if c.enabled else None))
    def post(self, ctx: ScheduleContext) -> TextReply:
        choice = self.chat_config(ctx)
        return TextReply(f"{choice.day} {choice.time} {ctx.scheduled:%Y-%m-%d %H:%M}")


def per_chat_scheduler(
    store: Store, choices: dict[int, ChatChoice], clock: FakeClock, sent: list[tuple[int, str]]
) -> Scheduler:
    plugin = PerChatDigest(ChatChoice(), Host("digest", store.queries))
    jobs = [Job("digest", spec, plugin) for spec in PerChatDigest.schedules()]

    async def send(plugin: str, chat_id: int, reply: Reply) -> None:
        assert isinstance(reply, TextReply)
        sent.append((chat_id, reply.text))

    def settings_of(plugin: str, chat_id: int) -> ChatSettings | None:
        choice = choices.get(chat_id)
        return None if choice is None else ChatSettings(chat_id=chat_id, config=choice)

    prefs = ChatPrefs(
        zone_of=lambda chat: ZONES.get(chat, ZoneInfo("UTC")), settings_of=settings_of
    )
    return Scheduler(store, jobs=lambda: jobs, send=send, prefs=prefs, clock=clock)


async def test_a_per_chat_rule_fires_at_each_chats_own_day_and_time_once(chats: Store) -> None:
    # Tokyo: Mondays 09:00 Tokyo time; Berlin: Fridays 18:30 Berlin time; OFF
    # never switched it on (the plugin's own config: enabled false).
    choices = {
        TOKYO.id: ChatChoice(enabled=True, day="mon", time="09:00"),
        BERLIN.id: ChatChoice(enabled=True, day="fri", time="18:30"),
    }
    sent: list[tuple[int, str]] = []
    clock = FakeClock(utc("2026-03-01T12:00:00Z"))  # Sunday
    scheduler = per_chat_scheduler(chats, choices, clock, sent)
    await run_tick(scheduler, "2026-03-01T12:00:00Z")  # first sight: counting starts
    assert sent == []
    # Monday 00:00 UTC = 09:00 Tokyo: only Tokyo.
    await run_tick(scheduler, "2026-03-02T00:00:00Z")
    assert sent == [(TOKYO.id, "mon 09:00 2026-03-02 00:00")]
    await run_tick(scheduler, "2026-03-02T00:00:30Z")  # the same instant again: nothing
    # Friday 17:30 UTC = 18:30 Berlin (CET, +1).
    await run_tick(scheduler, "2026-03-06T17:29:59Z")
    assert len(sent) == 1
    await run_tick(scheduler, "2026-03-06T17:30:00Z")
    assert sent[-1] == (BERLIN.id, "fri 18:30 2026-03-06 17:30")
    # Berlin switches to Saturday 08:00; the bot was down over Monday and
    # Saturday: each chat posts once when it is back, OFF never.
    choices[BERLIN.id] = ChatChoice(enabled=True, day="sat", time="08:00")
    await run_tick(scheduler, "2026-03-10T12:00:00Z")
    assert sorted(sent[2:]) == [
        (BERLIN.id, "sat 08:00 2026-03-07 07:00"),
        (TOKYO.id, "mon 09:00 2026-03-09 00:00"),
    ]
    await run_tick(scheduler, "2026-03-10T12:00:01Z")
    assert len(sent) == 4
    assert all(chat != OFF.id for chat, _ in sent)


async def test_a_per_chat_rule_that_raises_skips_that_chat_only(chats: Store) -> None:
    class Odd(PerChatDigest):
        @schedule(per_chat(lambda c: weekly(day=c.day, time=c.time)))
        def post(self, ctx: ScheduleContext) -> TextReply:
            return TextReply("posted")

    choices = {
        TOKYO.id: ChatChoice(enabled=True, day="noday"),  # weekly() raises ValueError
        BERLIN.id: ChatChoice(enabled=True, day="mon", time="09:00"),
    }
    sent: list[tuple[int, str]] = []
    clock = FakeClock(utc("2026-03-01T12:00:00Z"))
    plugin = Odd(ChatChoice(), Host("digest", chats.queries))
    scheduler = per_chat_scheduler(chats, choices, clock, sent)
    scheduler._jobs = lambda: [Job("digest", spec, plugin) for spec in Odd.schedules()]
    await run_tick(scheduler, "2026-03-01T12:00:00Z")
    await run_tick(scheduler, "2026-03-02T08:00:00Z")  # Monday 09:00 Berlin
    assert sent == [(BERLIN.id, "posted")]


class Speaker(Plugin[NoConfig]):
    @schedule(daily(time="12:00"))
    def speak(self, ctx: ScheduleContext) -> TextReply:
        # The language the host set for this run, and a number formatted in it.
        return TextReply(f"{current_language()} {format_number(12345)}")


async def test_a_job_speaks_its_chats_language_and_english_when_none_is_set(
    chats: Store,
) -> None:
    plugin = Speaker(NoConfig(), Host("speaker", chats.queries))
    jobs = [Job("speaker", spec, plugin) for spec in Speaker.schedules()]
    sent: list[tuple[int, str]] = []

    async def send(plugin: str, chat_id: int, reply: Reply) -> None:
        assert isinstance(reply, TextReply)
        sent.append((chat_id, reply.text))

    # Tokyo chose Russian, Berlin chose a language nobody translated, OFF chose none.
    languages = {TOKYO.id: "ru", BERLIN.id: "xx"}
    prefs = ChatPrefs(
        settings_of=lambda plugin, chat_id: ChatSettings(
            chat_id=chat_id, language=languages.get(chat_id)
        )
    )
    clock = FakeClock(utc("2026-03-01T11:00:00Z"))
    scheduler = Scheduler(chats, jobs=lambda: jobs, send=send, prefs=prefs, clock=clock)
    await run_tick(scheduler, "2026-03-01T11:00:00Z")  # first sight: counting starts
    await run_tick(scheduler, "2026-03-01T12:00:00Z")
    assert sorted(sent) == sorted(
        [(TOKYO.id, "ru 12\xa0345"), (BERLIN.id, "en 12,345"), (OFF.id, "en 12,345")]
    )
