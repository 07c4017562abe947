"""Benchmark recording: messages stored per second through the full bot path.

Run by hand (not a test):

    python bench/record_bench.py                       # SQLite and PostgreSQL, 5,000 messages
    python bench/record_bench.py --messages 20000 --backends sqlite
    python bench/record_bench.py --profile             # also cProfile the bot, name the hot spots

The real ``tgstats run`` runs as a subprocess (the three real plugins enabled,
hot reload off) against the local Bot API stand-in from tests/e2e, which runs
in this process.  Once the bot polls, N message updates are queued at once and
the clock runs until the database holds all N: the path measured is
getUpdates (long polling, batches of 100) -> JSON -> telegram.Update -> PTB
dispatch (recorder group, host and plugin groups) -> store.record_messages ->
commit, one commit per burst (see tgstats.bot.recorder).  Anchors run in this
process on the same messages to show where the time goes: parsing JSON into
telegram.Update alone, and the store alone (no Telegram, no PTB) with a commit
per message and with a commit per 100 messages.

The webhook rows run the same bot with ``--webhook-url`` and POST the messages
to it the way Telegram does (40 requests in flight, Telegram's default
max_connections; each answered only once committed).

Target: >= 2,000 messages/s on SQLite on a 2-core machine.
"""

from __future__ import annotations

import argparse
import itertools
import os
import pstats
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil
import sqlalchemy
from rich.console import Console
from rich.table import Table
from telegram import Bot, Update

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

from fake_bot_api import FakeBotApi, ThreadedFakeBotApi, WebhookSender  # noqa: E402
from tgstats.logs import configure_logging  # noqa: E402
from tgstats.store import open_store  # noqa: E402

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

PLUGINS_YAML = """\
settings:
  hot_reload: false
  load_unlisted_plugins: false
plugins:
  heatmap_command: {enabled: true}
  word_cloud: {enabled: true}
  engagement_scores: {enabled: true}
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


def run_bot(
    url: str, count: int, tmp: Path, profile: Path | None, *, webhook: bool = False
) -> tuple[float, float]:
    """(messages per wall-clock second, messages per bot-CPU second) through the running bot.

    The second figure is what one idle core would sustain: on a busy machine
    the bot gets only a share of a core, which the wall-clock rate hides.
    With ``webhook`` the bot serves a webhook instead of polling and the
    messages are POSTed to it like Telegram does (WEBHOOK_CONNECTIONS at once,
    each answered once committed); the clock stops when all are stored.
    """
    (tmp / "plugins.yaml").write_text(PLUGINS_YAML)
    with ThreadedFakeBotApi() as api:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TGSTATS_")}
        env.update(
            TGSTATS_TOKEN=api.token,
            TGSTATS_API_URL=api.url,
            TGSTATS_DB=url,
            TGSTATS_PLUGINS_CONFIG=str(tmp / "plugins.yaml"),
            TGSTATS_LOG_FILE=str(tmp / "bot.log"),
            MPLBACKEND="Agg",
        )
        deliver, ready = webhook_mode(api, env, tmp) if webhook else polling_mode(api)
        command = [sys.executable, "-m", "tgstats", "run"]
        if profile is not None:
            command = [sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "tgstats", "run"]
        with (tmp / "console.log").open("wb") as sink:
            process = subprocess.Popen(command, env=env, cwd=tmp, stdout=sink, stderr=sink)
        try:
            api.wait_for(lambda: ready() or process.poll() is not None, 60)
            store = open_store(url)
            try:
                base = stored(store)
                deliver(make_messages(api, WARMUP, 1))
                wait_stored(store, base + WARMUP, process, 60)
                messages = make_messages(api, count, 2)
                bot_cpu = psutil.Process(process.pid)
                cpu_before = sum(bot_cpu.cpu_times()[:2])
                started = time.perf_counter()
                deliver(messages)
                finished = wait_stored(store, base + WARMUP + count, process, 300)
                cpu_used = sum(bot_cpu.cpu_times()[:2]) - cpu_before
            finally:
                store.close()
        finally:
            process.send_signal(signal.SIGTERM)
            code = process.wait(60)
            if code != 0:
                print((tmp / "console.log").read_text()[-3000:])
                raise SystemExit(f"the bot exited with {code}")
    return count / (finished - started), count / cpu_used


def polling_mode(api: FakeBotApi) -> tuple[Any, Any]:
    """(deliver, ready) for :func:`run_bot`: queue the messages for getUpdates."""

    def deliver(messages: list[dict[str, Any]]) -> None:
        api.inject(*({"message": m} for m in messages))

    return deliver, lambda: api.call_count("getUpdates")


def webhook_mode(api: FakeBotApi, env: dict[str, str], tmp: Path) -> tuple[Any, Any]:
    """Set ``env`` up for ``tgstats run --webhook-url``; (deliver, ready) for :func:`run_bot`."""
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

    def deliver(messages: list[dict[str, Any]]) -> None:
        sender.deliver_sync({"update_id": next(ids), "message": m} for m in messages)

    return deliver, lambda: api.webhook is not None


def parse_only(count: int) -> float:
    """Anchor: JSON dicts -> telegram.Update, what PTB does per update."""
    api = FakeBotApi()
    payloads = [{"update_id": i, "message": m} for i, m in enumerate(make_messages(api, count, 3))]
    bot = Bot(api.token)
    started = time.perf_counter()
    for payload in payloads:
        Update.de_json(payload, bot)
    return count / (time.perf_counter() - started)


def store_only(url: str, count: int, batch: int = 1) -> float:
    """Anchor: the store alone, ``batch`` messages per transaction.

    batch=1 is a commit per message (what the bot did before it batched);
    batch=100 is one getUpdates page per commit (what the recorder does in a burst).
    """
    api = FakeBotApi()
    bot = Bot(api.token)
    updates = [
        Update.de_json({"update_id": i, "message": m}, bot)
        for i, m in enumerate(make_messages(api, count, 4, ANCHOR_CHATS))
    ]
    store = open_store(url)
    try:
        started = time.perf_counter()
        for start in range(0, len(updates), batch):
            store.record_messages([u.message for u in updates[start : start + batch]])
        return count / (time.perf_counter() - started)
    finally:
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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default=os.environ.get("TGSTATS_TEST_PG_URL", PG_URL))
    parser.add_argument("--profile", action="store_true", help="cProfile the bot (SQLite run)")
    args = parser.parse_args()
    configure_logging(level="WARNING")
    console = Console()
    table = Table(
        title=f"Recording throughput, {args.messages:,} messages ({os.cpu_count()} cores)"
    )
    for column in ("backend", "path", "messages/s", "per CPU-second"):
        table.add_column(column, justify="left" if column in ("backend", "path") else "right")
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
                bot_dir = tmp / backend
                bot_dir.mkdir()
                rate, per_cpu = run_bot(url, args.messages, bot_dir, None)
                table.add_row(
                    backend,
                    "full bot (getUpdates -> PTB -> store)",
                    f"{rate:,.0f}",
                    f"{per_cpu:,.0f}",
                )
                # A fresh database: the stand-in numbers messages from 1 again.
                if drop is None:
                    url = f"sqlite:///{tmp / 'bench-webhook.db'}"
                else:
                    drop()
                    url, drop = fresh_pg_database(args.pg_url)
                (bot_dir / "webhook").mkdir()
                rate, per_cpu = run_bot(url, args.messages, bot_dir / "webhook", None, webhook=True)
                table.add_row(
                    backend,
                    f"full bot, webhook ({WEBHOOK_CONNECTIONS} POSTs at once -> PTB -> store)",
                    f"{rate:,.0f}",
                    f"{per_cpu:,.0f}",
                )
                if args.profile and backend == "sqlite":
                    prof_dir = tmp / "profile"
                    prof_dir.mkdir()
                    profiled, _ = run_bot(
                        f"sqlite:///{prof_dir / 'p.db'}",
                        args.messages,
                        prof_dir,
                        prof_dir / "bot.prof",
                    )
                    table.add_row(backend, "full bot under cProfile", f"{profiled:,.0f}", "")
                    print_profile(prof_dir / "bot.prof", console)
            finally:
                if drop is not None:
                    drop()
    console.print(table)
    load = os.getloadavg()
    console.print(
        f"load average during the run: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} "
        f"on {os.cpu_count()} cores (anything near or above the core count slows every figure)"
    )


if __name__ == "__main__":
    main()
