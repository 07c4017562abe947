"""Runs the plugins' scheduled jobs in every chat, at local times, from the current code.

Why not python-telegram-bot's JobQueue (APScheduler): a job here is "this
method, in every chat the bot is in, at 09:00 in *that chat's* zone", chats
come and go, zones change, a reload replaces the method, and the last run
must survive restarts in our own store.  APScheduler would need a job per
chat kept in sync with all of that plus a second persistence layer, and its
clock is hard to drive from a test.  This is one small loop instead:

- :meth:`Scheduler.tick` looks at every (plugin, job, chat) once: a job is
  due when the latest scheduled instant (in the chat's zone) is after its
  last run.  However many instants were missed while the bot was down, that
  is one run: the last run becomes "now".  The run is claimed in the store
  (compare-and-set on the last run) before it starts, so several webhook
  workers on one database post it once, and a run the bot dies in is not
  repeated.  A (job, chat) pair seen for the first time only records "now",
  so installing a plugin does not fire every job at once.
- The loop sleeps until the earliest next instant (at most ``max_wait``, so
  new chats and zone changes are picked up), or until :meth:`wake` (a
  reload).  The clock is injectable; tests call :meth:`tick` with a clock
  they move by hand.
- Each run is a task; a job that raises is logged with the plugin's name
  (``scheduled_job_failed``) and the others go on.  :meth:`cancel_plugin`
  cancels a plugin's running jobs when it is unloaded or replaced; the next
  tick uses the new code.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar
from zoneinfo import ZoneInfo

import attrs

from tgstats.host.invoke import invoke_job
from tgstats.logs import get_logger
from tgstats.plugins import ChatSettings, PerChat, Plugin, Reply, ScheduleContext, ScheduleSpec
from tgstats.plugins._schedule import Rule
from tgstats.store import schedules
from tgstats.store.queries import MessageQueries

__all__ = ["ChatPrefs", "Clock", "Job", "Scheduler", "SystemClock"]

log = get_logger(__name__)

_UTC = ZoneInfo("UTC")


class Clock(Protocol):
    def now(self) -> datetime: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def _utc_zone(_chat_id: int) -> ZoneInfo:
    return _UTC


def _always(_plugin: str, _chat_id: int) -> bool:
    return True


def _no_settings(_plugin: str, _chat_id: int) -> ChatSettings | None:
    return None


@attrs.frozen
class ChatPrefs:
    """Per-chat answers the scheduler needs: the chat's zone, whether a plugin is on there.

    Either function may return its answer or an awaitable of it (the
    per-chat settings service answers from the event loop); a zone of None
    means UTC.  ``settings_of(plugin, chat_id)`` is what the job gets as
    ``ctx.settings`` (its ``config`` decides a :class:`PerChat` rule); None
    means the plugin's own config.  The defaults (UTC, every plugin on, no
    chat settings) stand where no per-chat settings are wired in.
    """

    zone_of: Callable[[int], ZoneInfo | Awaitable[ZoneInfo | None] | None] = _utc_zone
    plugin_enabled: Callable[[str, int], bool | Awaitable[bool]] = _always
    settings_of: Callable[[str, int], ChatSettings | Awaitable[ChatSettings | None] | None] = (
        _no_settings
    )

    async def zone(self, chat_id: int) -> ZoneInfo:
        return await _answer(self.zone_of(chat_id)) or _UTC

    async def enabled(self, plugin: str, chat_id: int) -> bool:
        return bool(await _answer(self.plugin_enabled(plugin, chat_id)))

    async def settings(self, plugin: str, chat_id: int) -> ChatSettings:
        return await _answer(self.settings_of(plugin, chat_id)) or ChatSettings(chat_id=chat_id)


T = TypeVar("T")


async def _answer(value: T | Awaitable[T]) -> T:
    if inspect.isawaitable(value):
        return await value
    return value


@attrs.frozen
class Job:
    """One scheduled method of one loaded plugin instance."""

    plugin: str
    spec: ScheduleSpec
    instance: Plugin[Any] = attrs.field(eq=False, repr=False)


Write = Callable[..., Awaitable[Any]]


async def _to_thread(function: Callable[..., Any], *args: Any) -> Any:
    return await asyncio.to_thread(function, *args)


class Scheduler:
    def __init__(
        self,
        store: Any,
        *,
        jobs: Callable[[], Iterable[Job]],
        send: Callable[[str, int, Reply], Awaitable[None]],
        bot_id: Callable[[], int | None] = lambda: None,
        prefs: ChatPrefs | None = None,
        clock: Clock | None = None,
        write: Write = _to_thread,
        max_wait: float = 60.0,
        max_parallel: int = 4,
    ) -> None:
        self._engine = store.engine
        self._queries: MessageQueries = store.queries
        self._jobs = jobs
        self._send = send
        self._bot_id = bot_id
        self.prefs = prefs or ChatPrefs()
        self.clock = clock or SystemClock()
        self._write = write
        self.max_wait = max_wait
        self._slots = asyncio.Semaphore(max_parallel)
        self._running: dict[tuple[str, str, int], asyncio.Task[None]] = {}
        self._woken = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self.runs = 0

    # -- the loop ----------------------------------------------------------------

    def start(self) -> None:
        self._loop_task = asyncio.create_task(self._loop(), name="tgstats-scheduler")

    async def stop(self) -> None:
        tasks = [t for t in (self._loop_task, *self._running.values()) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._loop_task = None

    def wake(self) -> None:
        """Look again now (plugins were reloaded, a chat changed)."""
        self._woken.set()

    def cancel_plugin(self, plugin: str) -> None:
        """Cancel ``plugin``'s running jobs (it is unloaded or replaced by a reload)."""
        for key, task in list(self._running.items()):
            if key[0] == plugin:
                task.cancel()
        self.wake()

    async def _loop(self) -> None:
        while True:
            try:
                delay = await self.tick()
            except Exception:
                log.exception("scheduler_tick_failed")  # the store is down: try again later
                delay = self.max_wait
            self._woken.clear()
            sleeper = asyncio.ensure_future(self.clock.sleep(delay))
            waker = asyncio.ensure_future(self._woken.wait())
            try:
                await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (sleeper, waker):
                    task.cancel()

    # -- one look at every job ---------------------------------------------------

    async def tick(self) -> float:
        """Start every due run; return the seconds until the next scheduled instant."""
        now = self.clock.now()
        jobs = list(self._jobs())
        if not jobs:
            return self.max_wait
        chats = await asyncio.to_thread(schedules.active_chats, self._engine, self._bot_id())
        last = await asyncio.to_thread(schedules.last_runs, self._engine)
        stamp = int(now.timestamp())
        wait = self.max_wait
        for job in jobs:
            for chat_id, title in chats:
                if not await self.prefs.enabled(job.plugin, chat_id):
                    continue
                zone = await self.prefs.zone(chat_id)
                settings = await self.prefs.settings(job.plugin, chat_id)
                rule = self._rule(job, chat_id, settings)
                if rule is None:
                    continue  # a per-chat job this chat has not switched on
                wait = min(wait, (rule.next(now, zone) - now).total_seconds())
                key = (job.plugin, job.spec.method, chat_id)
                if key in self._running:
                    continue
                if key not in last:
                    # First sight: start counting from now (no run for instants before).
                    await self._write(schedules.start_counting, self._engine, *key, stamp)
                    continue
                scheduled = rule.previous(now, zone)
                if last[key] >= scheduled.timestamp():
                    continue
                # Claimed before it runs: with several workers on one database
                # only one posts it, and a run the bot dies in is not repeated.
                if not await self._write(schedules.claim_run, self._engine, *key, last[key], stamp):
                    continue
                ctx = ScheduleContext(
                    job=job.spec.method,
                    chat_id=chat_id,
                    chat_title=title,
                    now=now,
                    scheduled=scheduled,
                    zone=zone,
                    store=self._queries,
                    settings=settings,
                )
                task = asyncio.create_task(self._run(job, ctx))
                self._running[key] = task
                task.add_done_callback(functools.partial(self._finished, key))
        return max(0.0, wait)

    def _rule(self, job: Job, chat_id: int, settings: ChatSettings) -> Rule | None:
        """The job's rule in ``chat_id``: fixed, or what the chat's options make of a PerChat."""
        rule = job.spec.rule
        if not isinstance(rule, PerChat):
            return rule
        config = settings.config if settings.config is not None else job.instance.config
        try:
            return rule.resolve(config)
        except Exception:
            # One chat's odd options (or a plugin bug) must not stop the others' jobs.
            log.exception(
                "schedule_rule_failed", plugin=job.plugin, job=job.spec.method, chat_id=chat_id
            )
            return None

    def _finished(self, key: tuple[str, str, int], _task: asyncio.Task[None]) -> None:
        self._running.pop(key, None)

    async def _run(self, job: Job, ctx: ScheduleContext) -> None:
        fields = {"plugin": job.plugin, "job": job.spec.method, "chat_id": ctx.chat_id}
        async with self._slots:
            try:
                reply = await invoke_job(job.instance, job.spec, ctx)
                if reply is not None:
                    await self._send(job.plugin, ctx.chat_id, reply)
            except asyncio.CancelledError:
                log.info("scheduled_job_cancelled", **fields)
                raise
            except Exception:
                # Its run was claimed: a broken job is not retried on every tick.
                log.exception("scheduled_job_failed", **fields)
            else:
                log.info("scheduled_job_ran", scheduled=ctx.scheduled.isoformat(), **fields)
            self.runs += 1

    async def idle(self) -> None:
        """Wait for the runs started so far (tests)."""
        while self._running:
            await asyncio.gather(*list(self._running.values()), return_exceptions=True)
