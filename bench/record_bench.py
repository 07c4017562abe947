"""Benchmark recording: throughput and latency through the full bot path.

Run by hand (not a test):

    python bench/record_bench.py                       # SQLite and PostgreSQL, 5,000 messages
    python bench/record_bench.py --messages 20000 --backends sqlite
    python bench/record_bench.py --profile             # also cProfile the bot, name the hot spots
    python bench/record_bench.py --against DIR         # ABBA against the tgstats in DIR/core

cProfile sees only the bot's main thread; to see the store writer's thread
too, sample the running bot with py-spy (``py-spy record --pid PID --gil``).

The real ``tgstats run`` runs as a subprocess (the three real plugins and the
e2e tests' ``/slow N`` plugin enabled, hot reload off) against the local Bot
API stand-in from tests/e2e, which runs in this process.

Throughput: N message updates are queued at once and the clock runs until
the database holds all N.  The path measured is the bot's own long polling
(getUpdates, pages of 100) -> the intake parses each update into
telegram.Update -> the store writer thread (consecutive messages share one
transaction) -> commit -> the offset moves past the page (tgstats.bot.polling,
intake, recorder, store.writer); plain messages need no handler, so they never
enter the chat lanes.  Each bot process runs ``--rounds`` plain bursts and as
many with ``/slow 3`` always in flight in another chat (one running, one
queued behind it), in ABBA order; the table shows the medians and their ratio.
Anchors run in this process on the same messages to show where the time goes:
parsing JSON into telegram.Update alone, and the store alone (no Telegram, no
bot) with a commit per message and with a commit per 100 messages.

Latency: a steady stream (``--latency-rate``, 200 messages/s) and one burst,
``--latency-messages`` each.  Per message: from arrival (queued in the
stand-in for getUpdates; for webhook, the POST sent) to its commit, and from
the commit to its confirmation (the stand-in sees a getUpdates offset past it;
for webhook, the HTTP 200).  The bot is not instrumented: a side thread here
asks the database every 2 ms for new rows (CommitWatch), so commit times are
late by up to that interval, which the table prints as the resolution.

The webhook rows run the same bot with ``--webhook-url`` and POST the messages
to it the way Telegram does (40 requests in flight, Telegram's default
max_connections; each answered only once committed).

Target: >= 2,000 messages/s on SQLite on a 2-core machine, within 10 % of that
with a slow command in flight.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import os
import pstats
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import sqlalchemy
from rich.console import Console
from rich.table import Table
from telegram import Bot, Update

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
sys.path.insert(0, str(ROOT))  # tests.e2e, for the e2e tests' slow-command plugin

from fake_bot_api import FakeBotApi, ThreadedFakeBotApi, WebhookSender  # noqa: E402
from tgstats.logs import configure_logging  # noqa: E402
from tgstats.store import open_store  # noqa: E402

from tests.e2e.conftest import make_distribution  # noqa: E402
from tests.e2e.test_delivery_e2e import SLOW_SOURCE  # noqa: E402

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CHATS = [-1009000000001 - i for i in range(5)]
ANCHOR_CHATS = [-1008000000001 - i for i in range(5)]  # the store-only anchor's own chats
USERS = list(range(7000001, 7000051))
WORDS = [
    "coffee",
    "release",
    "meeting",
    "tomorrow",
    "deploy",
    "review",
    "lunch",
    "bug",
    "weekend",
    "plan",
]
WARMUP = 300
# Requests in flight at once in webhook mode: Telegram's default max_connections.
WEBHOOK_CONNECTIONS = 40
# The slow command (the e2e tests' plugin: /slow N sleeps N s) runs in a chat of its own.
SLOW_CHAT = -1009100000001
SLOW_USER = 7100001
SLOW_SECONDS = 3
# A pause before each burst (the /slow bursts need it to get their commands running).
SETTLE = 0.5
# How often the commit watcher looks at the database (the latency rows' resolution).
COMMIT_POLL = 0.002

PLUGINS_YAML = """\
settings:
  hot_reload: false
  load_unlisted_plugins: false
plugins:
  heatmap_command: {enabled: true}
  word_cloud: {enabled: true}
  engagement_scores: {enabled: true}
  e2e_slow: {enabled: true}
"""


def make_messages(
    api: FakeBotApi, count: int, seed: int, chats: list[int] = CHATS
) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        chat = rng.choice(chats)
        user = rng.choice(USERS)
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 14)))
        out.append(api.message(chat, user, text, username=f"user{user}", title="Bench group"))
    return out


def stored(store: Any) -> int:
    return sum(store.queries.count_messages(chat) for chat in CHATS)


def wait_stored(store: Any, target: int, process: subprocess.Popen[bytes], timeout: float) -> float:
    deadline = time.monotonic() + timeout
    while True:
        if stored(store) >= target:
            return time.perf_counter()
        if process.poll() is not None:
            raise SystemExit(f"the bot exited with {process.returncode}")
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out: {stored(store)}/{target} stored")
        time.sleep(0.05)


class TimedBotApi(FakeBotApi):
    """The stand-in, noting when each update was queued and when an offset confirmed it."""

    def __init__(self) -> None:
        super().__init__()
        self.queued_at: dict[int, float] = {}  # update id -> time.monotonic() it became available
        self.offsets: list[tuple[float, int]] = []  # (time, offset), each higher than the last

    def inject(self, *payloads: dict[str, Any]) -> list[int]:
        now = time.monotonic()
        ids = super().inject(*payloads)
        self.queued_at.update(dict.fromkeys(ids, now))
        return ids

    def _take(self, offset: int, limit: int) -> list[dict[str, Any]]:
        if offset > 0 and (not self.offsets or offset > self.offsets[-1][1]):
            self.offsets.append((time.monotonic(), offset))
        return super()._take(offset, limit)

    def confirmed_at(self, update_id: int) -> float | None:
        """When a getUpdates offset first passed ``update_id`` (None: not yet)."""
        offsets = [offset for _, offset in self.offsets]
        index = bisect.bisect_right(offsets, update_id)
        return self.offsets[index][0] if index < len(offsets) else None


class CommitWatch:
    """Notes when each message of ``chats`` is first seen committed, from a side thread.

    Every COMMIT_POLL s it asks the database for the rows above each chat's
    watermark (every id up to it already seen), so it finds each message once,
    in whatever order the commits came.  The bot is not changed: a commit is
    seen at the next look, so commit times are late by up to one interval
    (:attr:`interval`, measured).
    """

    def __init__(self, url: str, chats: list[int]) -> None:
        self._engine = sqlalchemy.create_engine(url, isolation_level="AUTOCOMMIT")
        with self._engine.connect() as connection:
            tops: dict[int, int] = dict(
                connection.execute(
                    sqlalchemy.text(
                        "SELECT chat_id, MAX(message_id) FROM messages "
                        f"WHERE chat_id IN ({', '.join(map(str, chats))}) GROUP BY chat_id"
                    )
                ).all()
            )
        self._floor = {chat: tops.get(chat) or 0 for chat in chats}
        self.seen: dict[tuple[int, int], float] = {}
        self._looks = 0
        self._started = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="commit-watch", daemon=True)

    @property
    def interval(self) -> float:
        """The mean time between two looks, in seconds."""
        return (time.monotonic() - self._started) / max(self._looks, 1)

    def __enter__(self) -> CommitWatch:
        self._started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(10)
        self._engine.dispose()

    def _run(self) -> None:
        with self._engine.connect() as connection:
            while not self._stop.is_set():
                looked = time.monotonic()
                clause = " OR ".join(
                    f"(chat_id = {chat} AND message_id > {floor})"
                    for chat, floor in self._floor.items()
                )
                query = sqlalchemy.text(f"SELECT chat_id, message_id FROM messages WHERE {clause}")
                for chat, message_id in connection.execute(query):
                    self.seen.setdefault((chat, message_id), looked)
                for chat, floor in self._floor.items():
                    while (chat, floor + 1) in self.seen:
                        floor += 1
                    self._floor[chat] = floor
                self._looks += 1
                self._stop.wait(COMMIT_POLL)


@dataclass
class Mode:
    """How the bench hands updates to the bot: long polling or webhook POSTs."""

    ready: Callable[[], Any]
    deliver: Callable[[list[dict[str, Any]]], None]  # a burst (returns once handed over)
    # (messages, rate or None for a burst) -> per message (arrival, confirmation), once confirmed
    timed: Callable[[list[dict[str, Any]], float | None], list[tuple[float, float]]]
    send_slow: Callable[[], None]


def polling_mode(api: TimedBotApi) -> Mode:
    """Queue the messages for getUpdates; confirmation = an offset past them."""

    def deliver(messages: list[dict[str, Any]]) -> None:
        api.inject(*({"message": m} for m in messages))

    def timed(messages: list[dict[str, Any]], rate: float | None) -> list[tuple[float, float]]:
        ids: list[int] = []
        if rate is None:
            ids = api.inject(*({"message": m} for m in messages))
        else:
            start = time.monotonic()
            for index, message in enumerate(messages):
                time.sleep(max(0.0, start + index / rate - time.monotonic()))
                ids += api.inject({"message": message})
        api.wait_for(lambda: api.confirmed_at(ids[-1]), 120, "the stream confirmed")
        return [(api.queued_at[i], api.confirmed_at(i) or 0.0) for i in ids]

    def send_slow() -> None:
        api.send_message(SLOW_CHAT, SLOW_USER, f"/slow {SLOW_SECONDS}")

    ready = lambda: api.call_count("getUpdates") and "slow" in api.menu()  # noqa: E731
    return Mode(ready, deliver, timed, send_slow)


def webhook_mode(api: FakeBotApi, env: dict[str, str], tmp: Path) -> Mode:
    """Set ``env`` up for ``tgstats run --webhook-url``; POST like Telegram.

    Arrival = the POST sent, confirmation = its HTTP 200.
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    secret = "bench_webhook_secret"
    (tmp / "webhook-secret").write_text(secret)
    env.update(
        TGSTATS_WEBHOOK_URL="https://bench.example.org/hook",
        TGSTATS_WEBHOOK_LISTEN=f"127.0.0.1:{port}",
        TGSTATS_WEBHOOK_SECRET_FILE=str(tmp / "webhook-secret"),
    )
    sender = WebhookSender(
        [f"http://127.0.0.1:{port}/hook"], secret, connections=WEBHOOK_CONNECTIONS
    )
    ids = itertools.count(1)

    def updates(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{"update_id": next(ids), "message": m} for m in messages]

    def deliver(messages: list[dict[str, Any]]) -> None:
        sender.deliver_sync(updates(messages))

    def timed(messages: list[dict[str, Any]], rate: float | None) -> list[tuple[float, float]]:
        batch = updates(messages)
        timings = sender.deliver_sync(batch, rate=rate).timings
        return [timings[u["update_id"]] for u in batch]

    def send_slow() -> None:
        deliver([api.message(SLOW_CHAT, SLOW_USER, f"/slow {SLOW_SECONDS}")])

    ready = lambda: api.webhook is not None and "slow" in api.menu()  # noqa: E731
    return Mode(ready, deliver, timed, send_slow)


class SlowCommands:
    """Keeps a /slow 3 in flight in SLOW_CHAT all along: one running, one queued behind it.

    The chat's lane runs its commands one at a time, so with two outstanding
    the next starts the moment the previous one answers.
    """

    def __init__(self, api: FakeBotApi, send: Callable[[], None]) -> None:
        self._api = api
        self._send = send
        self._before = len(api.sent_to(SLOW_CHAT))  # answers to earlier rounds' commands
        self.sent = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="slow-commands", daemon=True)

    def answered(self) -> int:
        return len(self._api.sent_to(SLOW_CHAT)) - self._before

    def __enter__(self) -> SlowCommands:
        self._thread.start()
        # The first one stored and running (it is handled right after its commit).
        self._api.wait_for(lambda: self.sent >= 2, 30, "two /slow sent")
        time.sleep(SETTLE)
        if self.answered() >= self.sent:
            raise SystemExit("the /slow commands are not in flight")
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(30)
        self._api.wait_for(
            lambda: self.answered() >= self.sent, 4 * SLOW_SECONDS + 30, "every /slow answered"
        )
        texts = {m.text for m in self._api.sent_to(SLOW_CHAT)[self._before :]}
        if texts != {f"slept {SLOW_SECONDS}"}:
            raise SystemExit(f"unexpected /slow answers: {sorted(texts)}")

    def _run(self) -> None:
        while not self._stop.is_set():
            if self.sent - self.answered() < 2:
                self._send()
                self.sent += 1
            else:
                self._stop.wait(0.02)


@dataclass
class Latency:
    label: str
    count: int
    to_commit: list[float]  # seconds, per message
    to_confirm: list[float]
    resolution: float  # the commit watcher's mean interval, seconds


@dataclass
class BotResult:
    # Per round: (messages/s, messages per bot-CPU second)
    plain: list[tuple[float, float]] = field(default_factory=list)
    slow: list[tuple[float, float]] = field(default_factory=list)
    slow_answered: int = 0
    latencies: list[Latency] = field(default_factory=list)


def medians(rounds: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(r[0] for r in rounds), statistics.median(r[1] for r in rounds)


def burst(
    mode: Mode,
    store: Any,
    messages: list[dict[str, Any]],
    process: subprocess.Popen[bytes],
) -> tuple[float, float]:
    """(messages per wall-clock second, per bot-CPU second) for one burst of ``messages``.

    The second figure is what one idle core would sustain: on a busy machine
    the bot gets only a share of a core, which the wall-clock rate hides.
    """
    target = stored(store) + len(messages)
    bot_cpu = psutil.Process(process.pid)
    cpu_before = sum(bot_cpu.cpu_times()[:2])
    started = time.perf_counter()
    mode.deliver(messages)
    finished = wait_stored(store, target, process, 300)
    cpu_used = sum(bot_cpu.cpu_times()[:2]) - cpu_before
    return len(messages) / (finished - started), len(messages) / cpu_used


def latency(
    mode: Mode,
    url: str,
    store: Any,
    messages: list[dict[str, Any]],
    rate: float | None,
    process: subprocess.Popen[bytes],
    label: str,
) -> Latency:
    """Arrival -> commit -> confirmation of each of ``messages``, sent at ``rate`` (or at once)."""
    target = stored(store) + len(messages)
    with CommitWatch(url, CHATS) as watch:
        times = mode.timed(messages, rate)
        wait_stored(store, target, process, 120)
        api_wait = time.monotonic() + 5
        keys = [(m["chat"]["id"], m["message_id"]) for m in messages]
        while any(key not in watch.seen for key in keys) and time.monotonic() < api_wait:
            time.sleep(0.01)
        resolution = watch.interval
    to_commit, to_confirm = [], []
    for key, (arrived, confirmed) in zip(keys, times, strict=True):
        committed = watch.seen[key]
        to_commit.append(committed - arrived)
        to_confirm.append(confirmed - committed)
    return Latency(label, len(messages), to_commit, to_confirm, resolution)


def run_bot(
    url: str,
    count: int,
    tmp: Path,
    profile: Path | None,
    *,
    webhook: bool = False,
    full: bool = True,
    rounds: int = 4,
    latency_rate: float = 200.0,
    latency_count: int = 1000,
    src: Path | None = None,
) -> BotResult:
    """Start the bot and measure it: ``rounds`` bursts of ``count`` messages; with ``full``,
    each plain burst is paired with one with /slow 3 in flight in another chat
    (in ABBA order, so a drift of the machine's load hits both alike), then the
    latency of a steady stream at ``latency_rate`` and of one burst.

    With ``webhook`` the bot serves a webhook instead of polling and the
    messages are POSTed to it like Telegram does (WEBHOOK_CONNECTIONS at once,
    each answered once committed); a burst's clock stops when all are stored.
    ``src``: run the ``tgstats`` package found in ``src/core`` instead of this
    checkout's (the plugins stay the installed ones).
    """
    (tmp / "plugins.yaml").write_text(PLUGINS_YAML)
    make_distribution(tmp / "site", "tgstats_e2e_slow", "e2e_slow", "SlowPlugin", SLOW_SOURCE)
    with ThreadedFakeBotApi(TimedBotApi()) as api:
        assert isinstance(api, TimedBotApi)
        env = {k: v for k, v in os.environ.items() if not k.startswith("TGSTATS_")}
        env.update(
            TGSTATS_TOKEN=api.token,
            TGSTATS_API_URL=api.url,
            TGSTATS_DB=url,
            TGSTATS_PLUGINS_CONFIG=str(tmp / "plugins.yaml"),
            TGSTATS_LOG_FILE=str(tmp / "bot.log"),
            PYTHONPATH=os.pathsep.join(
                [*([str(src / "core")] if src is not None else []), str(tmp / "site")]
            ),
            MPLBACKEND="Agg",
        )
        mode = webhook_mode(api, env, tmp) if webhook else polling_mode(api)
        command = [sys.executable, "-m", "tgstats", "run"]
        if profile is not None:
            command = [sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "tgstats", "run"]
        with (tmp / "console.log").open("wb") as sink:
            process = subprocess.Popen(command, env=env, cwd=tmp, stdout=sink, stderr=sink)
        try:
            api.wait_for(lambda: mode.ready() or process.poll() is not None, 60)
            store = open_store(url)
            try:
                base = stored(store)
                mode.deliver(make_messages(api, WARMUP, 1))
                wait_stored(store, base + WARMUP, process, 60)
                result = BotResult()
                for round_ in range(rounds):
                    # ABBA: plain first in even rounds, /slow first in odd ones.
                    for with_slow in (False, True) if round_ % 2 == 0 else (True, False):
                        messages = make_messages(api, count, 2 + 10 * round_ + with_slow)
                        if not with_slow:
                            time.sleep(SETTLE)
                            result.plain.append(burst(mode, store, messages, process))
                        elif full:
                            with SlowCommands(api, mode.send_slow) as slow:
                                result.slow.append(burst(mode, store, messages, process))
                            result.slow_answered += slow.answered()
                if full:
                    result.latencies.append(
                        latency(
                            mode,
                            url,
                            store,
                            make_messages(api, latency_count, 6),
                            latency_rate,
                            process,
                            f"steady {latency_rate:,.0f}/s",
                        )
                    )
                    result.latencies.append(
                        latency(
                            mode,
                            url,
                            store,
                            make_messages(api, latency_count, 7),
                            None,
                            process,
                            f"burst of {latency_count:,}",
                        )
                    )
            finally:
                store.close()
        finally:
            process.send_signal(signal.SIGTERM)
            code = process.wait(60)
            if code != 0:
                print((tmp / "console.log").read_text()[-3000:])
                raise SystemExit(f"the bot exited with {code}")
    return result


def compare(
    against: Path,
    count: int,
    tmp: Path,
    rounds: int,
    pg_url: str,
    backends: list[str],
    console: Console,
) -> None:
    """This checkout's bot against the one in ``against`` (e.g. an export of main), ABBA.

    Per backend and path, four bot processes run one after another: other,
    this, this, other; each does ``rounds`` plain bursts of ``count``.  A
    drift of the machine's load hits both sides alike, so the ratio of their
    medians is the comparison (the absolute figures move with the load).
    """
    table = Table(title=f"This checkout vs {against} (ABBA processes, {rounds} bursts each)")
    for column in (
        "backend",
        "path",
        "other msg/s",
        "this msg/s",
        "ratio",
        "other /CPU-s",
        "this /CPU-s",
        "ratio CPU",
    ):
        table.add_column(column, justify="left" if column in ("backend", "path") else "right")
    runs = itertools.count()
    for backend in backends:
        for path in ("polling", "webhook"):
            results: dict[str, list[tuple[float, float]]] = {"other": [], "this": []}
            for side in ("other", "this", "this", "other"):
                run_dir = tmp / f"compare-{next(runs)}"
                run_dir.mkdir()
                drop = None
                if backend == "sqlite":
                    url = f"sqlite:///{run_dir / 'bench.db'}"
                else:
                    url, drop = fresh_pg_database(pg_url)
                try:
                    result = run_bot(
                        url,
                        count,
                        run_dir,
                        None,
                        webhook=path == "webhook",
                        full=False,
                        rounds=rounds,
                        src=against if side == "other" else None,
                    )
                finally:
                    if drop is not None:
                        drop()
                results[side] += result.plain
                load = os.getloadavg()[0]
                console.print(
                    f"{backend} {path} {side}: "
                    + ", ".join(f"{rate:,.0f} ({cpu:,.0f}/CPU-s)" for rate, cpu in result.plain)
                    + f"  load {load:.1f}"
                )
            other, this = medians(results["other"]), medians(results["this"])
            table.add_row(
                backend,
                path,
                f"{other[0]:,.0f}",
                f"{this[0]:,.0f}",
                f"{this[0] / other[0]:.2f}x",
                f"{other[1]:,.0f}",
                f"{this[1]:,.0f}",
                f"{this[1] / other[1]:.2f}x",
            )
    console.print(table)
    load = os.getloadavg()
    console.print(f"load average at the end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")


def parse_only(count: int) -> float:
    """Anchor: JSON dicts -> telegram.Update, what PTB does per update."""
    api = FakeBotApi()
    payloads = [{"update_id": i, "message": m} for i, m in enumerate(make_messages(api, count, 3))]
    bot = Bot(api.token)
    started = time.perf_counter()
    for payload in payloads:
        Update.de_json(payload, bot)
    return count / (time.perf_counter() - started)


def _time_aggregates() -> tuple[list[float], Any]:
    """Count the time the recorder spends on the aggregates (until ``undo()``)."""
    import tgstats.store.database as database
    from tgstats.store.aggregates import Delta

    spent = [0.0]
    saved = (database.changed, database.read_rows, Delta.apply)

    def timed(function: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            # perf_counter: process_time costs about a millisecond a call on some VMs.
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - started

        return wrapper

    database.changed = timed(database.changed)  # type: ignore[attr-defined]
    database.read_rows = timed(database.read_rows)  # type: ignore[attr-defined]
    Delta.apply = timed(Delta.apply)  # type: ignore[method-assign]

    def undo() -> None:
        database.changed, database.read_rows, Delta.apply = saved  # type: ignore[attr-defined,method-assign]

    return spent, undo


AGGREGATE_SHARE: dict[int, float] = {}  # batch -> share of the store's time, last run


def store_only(url: str, count: int, batch: int = 1) -> float:
    """Anchor: the store alone, ``batch`` messages per transaction.

    batch=1 is a commit per message (what the bot did before it batched);
    batch=100 is one getUpdates page per commit (what the recorder does in a burst).
    The share of its time spent keeping the aggregates goes to AGGREGATE_SHARE.
    """
    api = FakeBotApi()
    bot = Bot(api.token)
    updates = [
        Update.de_json({"update_id": i, "message": m}, bot)
        for i, m in enumerate(make_messages(api, count, 4, ANCHOR_CHATS))
    ]
    store = open_store(url)
    spent, undo = _time_aggregates()
    try:
        started = time.perf_counter()
        for start in range(0, len(updates), batch):
            store.record_messages([u.message for u in updates[start : start + batch]])
        elapsed = time.perf_counter() - started
        AGGREGATE_SHARE[batch] = spent[0] / elapsed
        return count / elapsed
    finally:
        undo()
        store.close()


def fresh_pg_database(url: str) -> tuple[str, Any]:
    """A throwaway database beside ``url``'s, so the bench never touches test data."""
    name = f"tgstats_record_bench_{os.getpid()}"
    admin = sqlalchemy.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    bench_url = sqlalchemy.make_url(url).set(database=name).render_as_string(hide_password=False)

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return bench_url, drop


def print_profile(path: Path, console: Console) -> None:
    stats = pstats.Stats(str(path))
    stats.sort_stats("tottime")
    total = stats.total_tt  # type: ignore[attr-defined]
    table = Table(title="Bot process, top functions by own time (cProfile)")
    for column in ("own s", "own %", "calls", "function"):
        table.add_column(column, justify="right" if column != "function" else "left")
    rows = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)[:18]  # type: ignore[attr-defined]
    for (filename, line, func), (_cc, calls, tottime, _cum, _callers) in rows:
        short = "/".join(Path(filename).parts[-2:])
        table.add_row(
            f"{tottime:.2f}", f"{100 * tottime / total:.0f}", str(calls), f"{short}:{line} {func}"
        )
    console.print(table)
    # Cumulative time of the stages of one update, to name the bottleneck.
    stages = {
        "Recorder.record (store: SQLAlchemy + driver + commit)": ("recorder.py", "record"),
        "Update.de_json (JSON -> telegram objects)": ("_update.py", "de_json"),
        "Application.process_update (all handler groups)": ("_application.py", "process_update"),
        "Bot.get_updates (HTTP long poll + JSON)": ("_bot.py", "get_updates"),
    }
    cumulative = Table(title="Bot process, cumulative time per stage")
    cumulative.add_column("stage")
    cumulative.add_column("cum s", justify="right")
    cumulative.add_column("% of all", justify="right")
    for label, (file_end, func_name) in stages.items():
        seconds = max(
            (
                cum
                for (f, _l, fn), (_c, _n, _t, cum, _r) in stats.stats.items()  # type: ignore[attr-defined]
                if f.endswith(file_end) and fn == func_name
            ),
            default=0.0,
        )
        cumulative.add_row(label, f"{seconds:.2f}", f"{100 * seconds / total:.0f}")
    console.print(cumulative)
    groups = {
        "sqlalchemy": 0.0,
        "sqlite3/psycopg (driver)": 0.0,
        "telegram (PTB)": 0.0,
        "asyncio/selectors": 0.0,
        "httpx/httpcore/h11": 0.0,
        "json": 0.0,
    }
    for (filename, _line, func), (_cc, _calls, tottime, _cum, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if "sqlalchemy" in filename:
            groups["sqlalchemy"] += tottime
        elif "sqlite3" in func or "psycopg" in filename or "sqlite3" in filename:
            groups["sqlite3/psycopg (driver)"] += tottime
        elif "/telegram/" in filename:
            groups["telegram (PTB)"] += tottime
        elif "asyncio" in filename or "selectors" in filename or "select" in func:
            groups["asyncio/selectors"] += tottime
        elif any(lib in filename for lib in ("httpx", "httpcore", "h11")):
            groups["httpx/httpcore/h11"] += tottime
        elif "json" in filename or "json" in func:
            groups["json"] += tottime
    summary = Table(title="Own time by library")
    summary.add_column("library")
    summary.add_column("own %", justify="right")
    for name, seconds in sorted(groups.items(), key=lambda item: -item[1]):
        summary.add_row(name, f"{100 * seconds / total:.0f}")
    console.print(summary)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f}"


def percentile(values: list[float], pct: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def add_bot_rows(
    table: Table, latencies: Table, backend: str, path: str, result: BotResult
) -> None:
    """The full-bot rows of one bot process: its bursts, then its latency rows."""
    label = (
        "full bot (getUpdates -> intake -> store writer -> commit)"
        if path == "polling"
        else f"full bot, webhook ({WEBHOOK_CONNECTIONS} POSTs at once -> intake -> store)"
    )
    rate, per_cpu = medians(result.plain)
    table.add_row(backend, label, f"{rate:,.0f}", f"{per_cpu:,.0f}", "")
    if result.slow:
        slow_rate, slow_cpu = medians(result.slow)
        table.add_row(
            backend,
            f"  same, /slow {SLOW_SECONDS} in flight in another chat",
            f"{slow_rate:,.0f}",
            f"{slow_cpu:,.0f}",
            f"{slow_rate / rate:.0%} (CPU {slow_cpu / per_cpu:.0%})",
        )
    for row in result.latencies:
        latencies.add_row(
            backend,
            path,
            row.label,
            ms(percentile(row.to_commit, 50)),
            ms(percentile(row.to_commit, 99)),
            ms(percentile(row.to_confirm, 50)),
            ms(percentile(row.to_confirm, 99)),
            ms(row.resolution),
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default=os.environ.get("TGSTATS_TEST_PG_URL", PG_URL))
    parser.add_argument("--profile", action="store_true", help="cProfile the bot (SQLite run)")
    parser.add_argument(
        "--rounds", type=int, default=4, help="plain and /slow bursts per bot (ABBA order)"
    )
    parser.add_argument(
        "--latency-rate", type=float, default=200.0, help="messages/s of the steady stream"
    )
    parser.add_argument(
        "--latency-messages", type=int, default=1000, help="messages per latency row"
    )
    parser.add_argument(
        "--against",
        type=Path,
        metavar="DIR",
        help="only compare with the tgstats in DIR/core (e.g. `git archive main core | tar -x "
        "-C DIR`), in ABBA order, --rounds plain bursts per process",
    )
    args = parser.parse_args()
    configure_logging(level="WARNING")
    console = Console() if sys.stdout.isatty() else Console(width=150)
    if args.against is not None:
        with tempfile.TemporaryDirectory(prefix="tgstats-record-compare-") as tmp_text:
            compare(
                args.against.resolve(),
                args.messages,
                Path(tmp_text),
                args.rounds,
                args.pg_url,
                args.backends.split(","),
                console,
            )
        return
    table = Table(
        title=f"Recording throughput, {args.messages:,} messages ({os.cpu_count()} cores)"
    )
    for column in ("backend", "path", "messages/s", "per CPU-second", "vs plain"):
        table.add_column(column, justify="left" if column in ("backend", "path") else "right")
    latencies = Table(
        title=f"Recording latency, {args.latency_messages:,} messages per row, ms "
        "(arrival = queued for getUpdates / webhook POST sent; "
        "confirmation = an offset past it / the HTTP 200)"
    )
    for column in (
        "backend",
        "path",
        "load",
        "arrival->commit p50",
        "p99",
        "commit->confirm p50",
        "p99",
        "resolution",
    ):
        latencies.add_column(
            column, justify="left" if column in ("backend", "path", "load") else "right"
        )
    slow_notes: list[str] = []
    parsed = parse_only(args.messages)
    table.add_row("-", "JSON -> telegram.Update only", f"{parsed:,.0f}", "")
    with tempfile.TemporaryDirectory(prefix="tgstats-record-bench-") as tmp_text:
        tmp = Path(tmp_text)
        for backend in args.backends.split(","):
            drop = None
            if backend == "sqlite":
                url = f"sqlite:///{tmp / 'bench.db'}"
                store_url = f"sqlite:///{tmp / 'anchor.db'}"
            elif backend == "postgresql":
                try:
                    url, drop = fresh_pg_database(args.pg_url)
                    store_url = url
                except Exception as error:
                    console.print(f"[yellow]PostgreSQL skipped: {error}")
                    continue
            else:
                raise SystemExit(f"unknown backend {backend!r}: expected sqlite or postgresql")
            try:
                table.add_row(
                    backend,
                    "store only, commit per message",
                    f"{store_only(store_url, args.messages):,.0f}",
                )
                if drop is None:  # the anchor db must start empty for the second run
                    store_url = f"sqlite:///{tmp / 'anchor100.db'}"
                else:
                    drop()
                    url, drop = fresh_pg_database(args.pg_url)
                    store_url = url
                table.add_row(
                    backend,
                    "store only, commit per 100",
                    f"{store_only(store_url, args.messages, batch=100):,.0f}",
                )
                table.add_row(
                    backend,
                    "  of that time: keeping the aggregates",
                    f"{AGGREGATE_SHARE[100]:.0%}",
                )
                bot_dir = tmp / backend
                bot_dir.mkdir()
                result = run_bot(
                    url,
                    args.messages,
                    bot_dir,
                    None,
                    rounds=args.rounds,
                    latency_rate=args.latency_rate,
                    latency_count=args.latency_messages,
                )
                add_bot_rows(table, latencies, backend, "polling", result)
                slow_notes.append(f"{backend} polling {result.slow_answered}")
                # A fresh database: the stand-in numbers messages from 1 again.
                if drop is None:
                    url = f"sqlite:///{tmp / 'bench-webhook.db'}"
                else:
                    drop()
                    url, drop = fresh_pg_database(args.pg_url)
                (bot_dir / "webhook").mkdir()
                result = run_bot(
                    url,
                    args.messages,
                    bot_dir / "webhook",
                    None,
                    webhook=True,
                    rounds=args.rounds,
                    latency_rate=args.latency_rate,
                    latency_count=args.latency_messages,
                )
                add_bot_rows(table, latencies, backend, "webhook", result)
                slow_notes.append(f"{backend} webhook {result.slow_answered}")
                if args.profile and backend == "sqlite":
                    prof_dir = tmp / "profile"
                    prof_dir.mkdir()
                    profiled = run_bot(
                        f"sqlite:///{prof_dir / 'p.db'}",
                        args.messages,
                        prof_dir,
                        prof_dir / "bot.prof",
                        full=False,
                        rounds=1,
                    ).plain[0][0]
                    table.add_row(backend, "full bot under cProfile", f"{profiled:,.0f}", "")
                    print_profile(prof_dir / "bot.prof", console)
            finally:
                if drop is not None:
                    drop()
    console.print(table)
    console.print(
        f"Full-bot rows: the median of {args.rounds} bursts per bot process. 'vs plain': "
        f"bursts with /slow {SLOW_SECONDS} always in flight in another chat (one running, "
        "one queued behind it), in ABBA order with the plain ones in the same process; "
        f"/slow answered meanwhile: {', '.join(slow_notes)}."
    )
    console.print(latencies)
    console.print(
        "Commit times are seen by a side thread asking the database every "
        f"{COMMIT_POLL * 1000:g} ms for new rows ('resolution': the measured mean interval), "
        "so arrival->commit reads up to one interval long and commit->confirm as much short. "
        f"The steady stream spreads the messages evenly; the burst queues them at once "
        f"(for webhook: {WEBHOOK_CONNECTIONS} POSTs in flight), so its latency includes the queue."
    )
    load = os.getloadavg()
    console.print(
        f"load average during the run: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} "
        f"on {os.cpu_count()} cores (anything near or above the core count slows every figure)"
    )


if __name__ == "__main__":
    main()
