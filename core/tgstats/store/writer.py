"""The store's write side for asyncio code: one writer thread, retries, a health flag.

Every write runs in one dedicated thread, never on the event loop: SQLite waits
for another process's lock in the calling thread, and a lost PostgreSQL
connection can take seconds to fail.  The thread takes writes in the order they
were submitted; consecutive message writes share one transaction (a commit per
message is what limits recording throughput), so callers submit one message at
a time and still get burst-sized commits.

The contract for the bot's intake (it awaits the write before it confirms the
update to Telegram):

- ``await writer.record_messages(msgs)`` returns, per message, whether a row was
  written, once the transaction holding them is **committed**.
- An outage (disk full, database read-only, locked by another process,
  connection lost: see :func:`classify`) is retried with capped exponential
  backoff (``backoff_min`` -> ``backoff_max``) for as long as it lasts; the write
  just stays pending.  :attr:`StoreWriter.available` is False meanwhile (commands
  answer "statistics are temporarily unavailable"), ``store_unavailable`` is
  logged once per outage and ``store_recovered`` when a write succeeds again.
  So an intake that awaits its write confirms nothing the store does not hold
  and drops nothing; and since :meth:`submit_messages` waits while
  ``max_pending`` messages are queued, it stops taking new updates, which keeps
  memory bounded.
- A message the database refuses as data (a data or integrity error, or an
  error turning it into a row) is not an outage: its batch is split, and the
  message alone is tried ``data_retries`` times, then handed back as rejected
  (False in the result, ``record_failed`` logged, ``on_rejected`` called) so
  one poison row cannot stall recording for ever.
- After :meth:`request_stop` a failing write is retried for ``stop_grace``
  seconds at most; then it, and every write not committed yet, raises
  :class:`StoreStopping`, so the caller does not confirm it.  A write that
  succeeds while stopping is still committed and returned normally.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Literal, TypeVar

import attrs
import sqlalchemy.exc
import telegram

from tgstats.errors import StoreError
from tgstats.logs import get_logger

__all__ = ["DATA", "OUTAGE", "StoreStopping", "StoreWriter", "classify"]

log = get_logger(__name__)

T = TypeVar("T")
DATA: Literal["data"] = "data"
OUTAGE: Literal["outage"] = "outage"

# SQLite result codes (the low byte of sqlite_errorcode) that say "this value
# or this statement", not "this database": the generic SQL error (no such
# table/column: retrying cannot help), too big, constraint, type mismatch,
# bind index.  Busy, locked, read-only, I/O error, full, can't open are outages.
_SQLITE_DATA_CODES = frozenset({1, 18, 19, 20, 25})
# PostgreSQL SQLSTATE classes of the same kind: data exception, integrity
# violation, syntax error or access rule violation -- except 42501: a role
# without write rights is an outage an admin fixes with GRANT.
_PG_DATA_CLASSES = frozenset({"22", "23", "42"})
_PG_OUTAGE_STATES = frozenset({"42501"})


class StoreStopping(StoreError):
    """The writer is stopping and this write was not committed: do not confirm it."""


def classify(error: BaseException) -> Literal["data", "outage"]:
    """Whether ``error`` is about the value written (DATA) or the database (OUTAGE).

    Outages are retried for ever; data errors a bounded number of times.  When
    unsure it says OUTAGE: retrying a bad row costs time, dropping a good one
    costs data.
    """
    if isinstance(error, sqlalchemy.exc.DataError | sqlalchemy.exc.IntegrityError):
        return DATA
    if isinstance(error, sqlalchemy.exc.DBAPIError):
        orig = error.orig
        code = getattr(orig, "sqlite_errorcode", None)
        if isinstance(code, int):
            return DATA if code & 0xFF in _SQLITE_DATA_CODES else OUTAGE
        sqlstate = getattr(orig, "sqlstate", None)
        if (
            isinstance(sqlstate, str)
            and sqlstate[:2] in _PG_DATA_CLASSES
            and sqlstate not in _PG_OUTAGE_STATES
        ):
            return DATA
        return OUTAGE
    if isinstance(error, sqlalchemy.exc.StatementError):
        return DATA  # a bind value the driver could not convert, before the database saw it
    if isinstance(error, sqlalchemy.exc.SQLAlchemyError | OSError):
        return OUTAGE  # pool timeouts, disconnections, closed connections, I/O
    return DATA  # converting the message raised: the same message raises again


class _Stopped(Exception):
    """Internal: the stop grace ran out while a write was failing."""


@attrs.define(eq=False)
class _Write:
    future: asyncio.Future[Any]
    size: int  # what it counts against max_pending
    messages: list[telegram.Message] | None = None  # batched with neighbouring message writes
    call: Callable[[], Any] | None = None  # any other write, alone in its transaction
    name: str = "record_messages"
    more_coming: bool = False  # the caller has more messages right behind this one


class StoreWriter:
    """Runs a :class:`~tgstats.store.Store`'s writes in one thread; see the module docstring."""

    def __init__(
        self,
        store: Any,
        *,
        max_pending: int = 5000,
        max_batch: int = 200,
        backoff_min: float = 0.1,
        backoff_max: float = 5.0,
        data_retries: int = 3,
        stop_grace: float = 2.0,
        linger: float = 0.05,
        on_rejected: Callable[[telegram.Message, BaseException], None] | None = None,
    ) -> None:
        self._store = store
        self.max_pending = max_pending
        self.max_batch = max_batch
        self.backoff_min = backoff_min
        self.backoff_max = backoff_max
        self.data_retries = data_retries
        self.stop_grace = stop_grace
        self.linger = linger
        self._on_rejected = on_rejected
        self._queue: collections.deque[_Write] = collections.deque()
        self._queued_messages = 0  # messages in _queue (guarded by _cond)
        self._cond = threading.Condition()
        self._wake = threading.Event()  # cuts a backoff sleep short on stop
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closing = False
        self._stop_at: float | None = None
        self._refusing = False  # stop grace ran out: every write fails at once
        # Loop side: messages submitted and not settled, and room for more.
        self._pending = 0
        self._room: asyncio.Event | None = None
        self._outage: asyncio.Event | None = None
        # Thread side, read anywhere: the health flag commands consult.
        self.available = True
        self._outage_since: float | None = None
        self.rejected = 0
        self.written = 0  # message rows written
        self._idle = asyncio.Event()
        self._idle.set()

    # -- life cycle (on the event loop) ----------------------------------------

    @property
    def running(self) -> bool:
        """Whether the writer thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the writer thread; call from the event loop that will await the writes."""
        if self._thread is not None:
            raise RuntimeError("StoreWriter.start() called twice")
        self._loop = asyncio.get_running_loop()
        self._room = asyncio.Event()
        self._room.set()
        self._outage = asyncio.Event()
        # A daemon: a driver call that never returns must not keep the process alive.
        self._thread = threading.Thread(target=self._run, name="tgstats-store-writer", daemon=True)
        self._thread.start()

    def request_stop(self) -> None:
        """From now on a failing write is retried for ``stop_grace`` seconds at most.

        Safe to call from a signal handler or any thread, more than once.
        """
        with self._cond:
            if self._stop_at is None:
                self._stop_at = time.monotonic() + self.stop_grace
            self._cond.notify_all()
        self._wake.set()

    async def stop(self, timeout: float = 10.0) -> None:
        """Write what is queued (within the stop grace), then end the thread.

        A thread still stuck in a driver call after ``timeout`` is left behind
        (it is a daemon) and its writes fail with StoreStopping.
        """
        self.request_stop()
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        thread = self._thread
        if thread is None:
            return
        deadline = time.monotonic() + timeout
        while thread.is_alive() and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        await asyncio.sleep(0)  # let the last call_soon_threadsafe resolutions run
        if thread.is_alive():
            log.warning("store_writer_stuck", seconds=timeout)
            with self._cond:
                self._refusing = True
                stuck = list(self._queue)
                self._queue.clear()
                self._queued_messages = 0
            error = StoreStopping("the store writer did not stop")
            self._finish([(write, None, error) for write in stuck])

    # -- writes (on the event loop) ---------------------------------------------

    async def submit_messages(
        self, messages: Sequence[telegram.Message], *, more_coming: bool = False
    ) -> asyncio.Future[list[bool]]:
        """Queue messages for writing; the future resolves once they are committed.

        Waits (without blocking the loop) while ``max_pending`` messages are
        queued.  ``more_coming``: the caller already holds more messages (the
        rest of a getUpdates page), so the thread waits up to ``linger``
        seconds for them and commits them together.
        """
        future: asyncio.Future[list[bool]] = await self._submit(
            len(messages), messages=list(messages), more_coming=more_coming
        )
        return future

    async def record_messages(self, messages: Sequence[telegram.Message]) -> list[bool]:
        """Store messages in order (see Store.record_messages); returns once committed."""
        return await (await self.submit_messages(messages))

    async def record_message(self, message: telegram.Message) -> bool:
        return (await self.record_messages([message]))[0]

    async def record_reaction(self, update: telegram.MessageReactionUpdated) -> bool:
        return bool(await self.call("record_reaction", update))

    async def record_reaction_count(self, update: telegram.MessageReactionCountUpdated) -> bool:
        return bool(await self.call("record_reaction_count", update))

    async def opt_out(self, chat_id: int, user_id: int) -> int:
        return int(await self.call("opt_out", chat_id, user_id))

    async def erase_member(self, user_id: int, chat_ids: Sequence[int] | None) -> Any:
        """Store.erase_member in order with the writes: their messages already queued go too."""
        return await self.call(
            "erase_member", user_id, None if chat_ids is None else list(chat_ids)
        )

    async def opt_in(self, chat_id: int | None, user_id: int) -> bool:
        return bool(await self.call("opt_in", chat_id, user_id))

    async def migrate_chat(self, old_chat_id: int, new_chat_id: int) -> None:
        await self.call("migrate_chat", old_chat_id, new_chat_id)

    async def call(self, method: str, *args: Any) -> Any:
        """Run ``store.<method>(*args)`` in the writer thread, in order with the other writes."""
        return await (await self.submit_call(method, *args))

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` (a write on this writer's store) in the writer thread, in order."""
        return await (await self.submit(fn, *args))

    async def submit(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """Queue ``fn(*args)`` like :meth:`run`; the future resolves once it committed.

        For a caller that must not wait through an outage (see :meth:`wait_settled`).
        """
        name = getattr(fn, "__name__", "call")
        future: asyncio.Future[T] = await self._submit(1, call=lambda: fn(*args), name=name)
        return future

    @property
    def store(self) -> Any:
        """The store the writes go to."""
        return self._store

    async def submit_call(self, method: str, *args: Any) -> asyncio.Future[Any]:
        bound = getattr(self._store, method)
        return await self._submit(1, call=lambda: bound(*args), name=method)

    async def wait_settled(self, future: asyncio.Future[Any]) -> bool:
        """Wait until ``future`` is done or the store is unavailable; True if done.

        For a command: its answer should include the messages before it, but
        during an outage it should hear "temporarily unavailable" at once.
        """
        if future.done() or not self.available:
            return future.done()
        assert self._outage is not None
        outage = asyncio.ensure_future(self._outage.wait())
        try:
            await asyncio.wait({future, outage}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            outage.cancel()
        return future.done()

    async def _submit(self, size: int, **fields: Any) -> asyncio.Future[Any]:
        if self._loop is None or self._room is None:
            raise RuntimeError("StoreWriter.start() was not called")
        while self._pending >= self.max_pending and not self._refusing:
            self._room.clear()
            await self._room.wait()
        if self._refusing:
            raise StoreStopping("the store is stopping; this write was not committed")
        future = self._loop.create_future()
        self._pending += size
        self._idle.clear()
        write = _Write(future, size, **fields)
        with self._cond:
            idle = not self._queue
            self._queue.append(write)
            if write.messages is not None:
                self._queued_messages += size
            # Waking the thread for every message of a burst only to have it
            # linger again costs a thread switch each: wake it when it may be
            # idle, when the burst ends, or when a batch is full.
            if idle or not write.more_coming or self._queued_messages >= self.max_batch:
                self._cond.notify()
        return future

    def _finish(self, results: list[tuple[_Write, Any, BaseException | None]]) -> None:
        """On the loop: settle writes (one call per batch, not a callback per message)."""
        for write, value, error in results:
            self._pending -= write.size
            future = write.future
            if future.done():
                continue  # cancelled by its caller
            if error is not None:
                future.set_exception(error)
                # Nobody may await a queued message's write; the writer has
                # logged the failure once, so no "never retrieved" line per message.
                future.exception()
            else:
                future.set_result(value)
        if self._room is not None and self._pending < self.max_pending:
            self._room.set()
        if self._pending <= 0:
            self._idle.set()

    async def drain(self) -> None:
        """Wait until every write submitted so far is settled (committed or failed)."""
        await self._idle.wait()

    # -- the writer thread ------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closing:
                    self._cond.wait()
                if not self._queue:
                    return
                self._linger()
                batch = self._take()
            try:
                if self._refusing:
                    raise _Stopped
                if batch[0].call is not None:
                    self._run_call(batch[0])
                else:
                    self._run_messages(batch)
            except _Stopped:
                self._refuse(batch)
            except BaseException as error:  # never let the thread die with writes pending
                log.exception("store_writer_failed")
                self._call_on_loop(self._finish, [(write, None, error) for write in batch])

    def _linger(self) -> None:
        """While the caller says more messages are right behind, wait for them
        (up to ``linger``): one commit for a burst instead of one per message."""
        deadline = time.monotonic() + self.linger
        while (
            self._queue[-1].more_coming
            and self._queued_messages < self.max_batch
            and not self._closing
            and self._stop_at is None
        ):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            self._cond.wait(remaining)

    def _take(self) -> list[_Write]:
        first = self._queue.popleft()
        if first.messages is None:
            return [first]
        batch, count = [first], first.size
        while self._queue:
            following = self._queue[0]
            if following.messages is None or count + following.size > self.max_batch:
                break
            batch.append(self._queue.popleft())
            count += following.size
        self._queued_messages -= count
        return batch

    def _run_call(self, write: _Write) -> None:
        assert write.call is not None
        ok, value = self._with_retries(write.call, self.data_retries, write.name)
        result = (write, value, None) if ok else (write, None, value)
        self._call_on_loop(self._finish, [result])

    def _run_messages(self, batch: list[_Write]) -> None:
        messages = [m for write in batch for m in write.messages or ()]
        ok, value = self._with_retries(lambda: self._store.record_messages(messages), 1, "batch")
        if not ok:
            # A value the database refuses: find it by writing one message at a time.
            value = [self._one_message(message) for message in messages]
        results: list[tuple[_Write, Any, BaseException | None]] = []
        start = 0
        for write in batch:
            results.append((write, [bool(w) for w in value[start : start + write.size]], None))
            start += write.size
        self.written += sum(map(bool, value))
        self._call_on_loop(self._finish, results)  # one wake-up of the loop per batch

    def _one_message(self, message: telegram.Message) -> bool:
        ok, value = self._with_retries(
            lambda: self._store.record_messages([message])[0], self.data_retries, "message"
        )
        if ok:
            return bool(value)
        self.rejected += 1
        log.error(
            "record_failed",
            chat_id=message.chat_id,
            message_id=message.message_id,
            attempts=self.data_retries,
            error=_one_line(value),
        )
        if self._on_rejected is not None:
            try:
                self._on_rejected(message, value)
            except Exception:
                log.exception("record_rejected_hook_failed", message_id=message.message_id)
        return False

    def _with_retries(
        self, attempt: Callable[[], T], data_attempts: int, what: str
    ) -> tuple[bool, Any]:
        """(True, result) once ``attempt`` succeeds; (False, error) after
        ``data_attempts`` data errors; raises _Stopped when the stop grace is over."""
        delay = self.backoff_min
        data_errors = 0
        while True:
            try:
                value = attempt()
            except Exception as error:
                if classify(error) == DATA:
                    data_errors += 1
                    if data_errors >= data_attempts:
                        return False, error
                    log.warning("store_write_refused", write=what, error=_one_line(error))
                else:
                    self._mark_unavailable(error)
                if self._stop_expired():
                    raise _Stopped from error
                self._sleep(delay)
                delay = min(delay * 2, self.backoff_max)
                continue
            self._mark_available()
            return True, value

    def _stop_expired(self) -> bool:
        return self._stop_at is not None and time.monotonic() >= self._stop_at

    def _sleep(self, delay: float) -> None:
        if self._stop_at is not None:
            delay = max(0.0, min(delay, self._stop_at - time.monotonic()))
        # request_stop() cuts the current sleep short; later ones are bounded
        # by the grace's end anyway, so the flag is not left set (no spinning).
        self._wake.wait(delay)
        self._wake.clear()

    def _mark_unavailable(self, error: BaseException) -> None:
        if not self.available:
            return
        self._outage_since = time.monotonic()
        log.error("store_unavailable", error=_one_line(error), retry_max_seconds=self.backoff_max)
        self.available = False  # after the log line: whoever sees the flag finds the reason
        self._call_on_loop(self._outage_changed, True)

    def _mark_available(self) -> None:
        if self.available:
            return
        since = self._outage_since or time.monotonic()
        log.info("store_recovered", seconds=round(time.monotonic() - since, 1))
        self.available = True
        self._call_on_loop(self._outage_changed, False)

    def _outage_changed(self, down: bool) -> None:
        assert self._outage is not None
        if down:
            self._outage.set()
        else:
            self._outage.clear()

    def _refuse(self, batch: list[_Write]) -> None:
        """The stop grace ran out: this batch and everything queued is not committed."""
        with self._cond:
            self._refusing = True
            left = batch + list(self._queue)
            self._queue.clear()
            self._queued_messages = 0
        log.warning("store_stopping_uncommitted", writes=len(left))
        error = StoreStopping("stopped before this was committed")
        self._call_on_loop(self._finish, [(write, None, error) for write in left])

    def _call_on_loop(self, fn: Callable[..., Any], *args: Any) -> None:
        assert self._loop is not None
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting any more
            self._loop.call_soon_threadsafe(fn, *args)


def _one_line(error: BaseException) -> str:
    orig = getattr(error, "orig", None) or error
    text = str(orig).strip().splitlines()
    return f"{type(orig).__name__}: {text[0] if text else ''}"[:300]
