"""Benchmark: the analytics commands on a big chat in SQLite (and PostgreSQL), per period.

Run by hand (not part of the test suite)::

    python bench/analytics_bench.py                 # 1M messages in a temp dir
    python bench/analytics_bench.py --messages 200000 --keep bench.db
    python bench/analytics_bench.py --db bench.db   # reuse a database built before
    python bench/analytics_bench.py --db bench.db --only activity --only replies \
        --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/tgstats_bench
        # the same chat in PostgreSQL too (built there on first use; the
        # database must exist and should hold nothing else)

The chat is synthetic but shaped like a real one: a few hundred members with
Zipf-distributed activity, a daily rhythm, two years of history, English and
Russian words drawn from a Zipf law over an open vocabulary (it grows with
the history, as a real chat's does: see draw_tokens) with URLs, mentions and emoji
mixed in, ~15 % replies, some reactions and 3 % stickers (no text, their emoji
drawn from a Zipf list: what the member card's favourite stickers read).  Each command runs through
``invoke_command`` (the bot's path) with the plugin's shipped config: one
warm-up run of each, then ``--repeat`` rounds that run every command in turn
(so a drift in the machine's load falls on all of them alike) and the median
of each command's runs, then one run under
tracemalloc for the peak of Python-allocated memory (numpy and Pillow buffers
included); the process's peak RSS is printed at the end.

The "cpu s" column (process CPU time, all threads) is the number to compare
when other work shares the machine; "median s" is wall-clock time.

Targets (issue #12, for a 10M-message chat): /heatmap and /engagement <= 0.25 s,
/wordcloud <= 0.8 s, for every period and member; /activity all, /replies all < 1 s,
/me all (the most active member's card) < 1 s, the weekly digest post (issue #14) < 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import psutil
from tgstats.config import DEFAULT_CONFIG_PATH, load_host_config, resolve_plugin_config
from tgstats.host.services import Host
from tgstats.plugins import ScheduleContext
from tgstats.plugins._api import CommandContext, PhotoReply, Plugin
from tgstats.store import open_store
from tgstats.store.queries import ChatInfo, UserInfo
from tgstats.testing import run_command, run_job

CHAT_ID = -1001000000001
START = int(datetime(2024, 11, 1, tzinfo=UTC).timestamp())
END = int(datetime(2026, 11, 1, tzinfo=UTC).timestamp())
NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)

EN = [
    "deploy",
    "release",
    "python",
    "telegram",
    "meeting",
    "tomorrow",
    "coffee",
    "pizza",
    "weekend",
    "server",
    "database",
    "question",
    "answer",
    "thanks",
    "great",
    "awesome",
    "problem",
    "fixed",
    "broken",
    "build",
    "test",
    "docker",
    "kubernetes",
    "laptop",
    "keyboard",
    "music",
    "movie",
    "football",
    "holiday",
    "weather",
    "morning",
    "evening",
    "project",
    "deadline",
    "review",
    "merge",
    "branch",
    "commit",
    "issue",
    "feature",
    "design",
]
RU = [
    "привет",
    "спасибо",
    "отлично",
    "завтра",
    "встреча",
    "кофе",
    "пицца",
    "выходные",
    "сервер",
    "вопрос",
    "ответ",
    "проблема",
    "исправил",
    "сломалось",
    "сборка",
    "тест",
    "ноутбук",
    "музыка",
    "фильм",
    "футбол",
    "погода",
    "утро",
    "вечер",
    "проект",
    "дедлайн",
    "ревью",
    "ветка",
    "коммит",
    "задача",
    "дизайн",
    "работа",
    "дом",
    "город",
]
NOISE = ["https://example.com/page", "@alice", "/stats", "42", "😂", "👍", "ok", "lol", "да"]
STICKER_EMOJI = ["😂", "👍", "❤️", "🔥", "😭", "🤔", "😎", "🙏", "🎉", "😡", "🥰", "💀"]

TARGETS = {
    "heatmap": 0.25,
    "engagement": 0.25,
    "wordcloud": 0.8,
    "activity": 1.0,
    "replies": 1.0,
    "me": 1.0,
    "digest": 1.0,
}
PLUGINS = {
    "heatmap": ("heatmap_command", "tgstats_heatmap.plugin", "HeatmapPlugin"),
    "engagement": ("engagement_scores", "tgstats_engagement.plugin", "EngagementPlugin"),
    "wordcloud": ("word_cloud", "tgstats_word_cloud.plugin", "WordCloudPlugin"),
    "activity": ("activity", "tgstats_activity.plugin", "ActivityPlugin"),
    "replies": ("reply_graph", "tgstats_reply_graph.plugin", "ReplyGraphPlugin"),
    # The member card of member 1, the chat's most active (the Zipf head): the worst case.
    "me": ("member_profile", "tgstats_profile.plugin", "ProfilePlugin"),
    "digest": ("weekly_digest", "tgstats_digest.plugin", "DigestPlugin"),
}


def vocabulary(rng: np.random.Generator) -> list[str]:
    """~20k words: real ones first (most frequent), then made-up inflections."""
    words = EN + RU + NOISE
    letters_en = list("abcdefghijklmnopqrstuvwxyz")
    letters_ru = list("абвгдежзиклмнопрстуфхцчшэюя")
    for i in range(20_000):
        letters = letters_en if i % 2 else letters_ru
        words.append("".join(rng.choice(letters, size=int(rng.integers(4, 10)))))
    return words


def rare_word(rank: int) -> str:
    """The made-up word of a Zipf rank past the vocabulary list: one per rank,
    Latin or Cyrillic letters by parity, at least four of them (no digits:
    the store would drop them)."""
    letters = "abcdefghijklmnopqrstuvwxyz" if rank % 2 else "абвгдежзиклмнопрстуфхцчшэюя"
    base = len(letters)
    out = []
    while rank or len(out) < 4:
        rank, digit = divmod(rank, base)
        out.append(letters[digit])
    return "".join(out)


def draw_tokens(
    rng: np.random.Generator, words: np.ndarray, count: int, vocabulary: str
) -> np.ndarray:
    """``count`` words drawn by a Zipf law (exponent 1.3) over the word ranks.

    "open": ranks past the list are made-up words, so the chat's vocabulary
    keeps growing with its history as a real chat's does (Heaps' law):
    45,000 distinct words at 100k messages, 268,000 at 1M, 1.57 million at
    10M, 4 % of the words written.  "closed": ranks wrap around the list of
    about 20,000 words (what the bench did before 2026-12-05), so every
    16 days use almost the whole vocabulary and the all-time table stays
    small: it flatters `/wordcloud all` and penalises periods."""
    picks = rng.zipf(1.3, size=count) - 1
    if vocabulary == "closed":
        return words[picks % len(words)]  # type: ignore[no-any-return]
    tokens = words[np.minimum(picks, len(words) - 1)]
    rare = np.flatnonzero(picks >= len(words))
    made: dict[int, str] = {}
    for i in rare:
        rank = int(picks[i])
        word = made.get(rank)
        if word is None:
            word = made[rank] = rare_word(rank)
        tokens[i] = word
    return tokens  # type: ignore[no-any-return]


def generate(store: Any, n: int, seed: int = 7, vocabulary_kind: str = "open") -> float:
    """Fill the store with ``n`` messages in one chat; returns seconds taken."""
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    users = 300
    words = np.array(vocabulary(rng), dtype=object)
    sender = (rng.zipf(1.6, size=n) - 1) % users + 1  # a few very active members
    # A daily rhythm: more messages in the evening (UTC+3 chat).
    day = rng.integers(0, (END - START) // 86400, size=n)
    hour = (rng.normal(17, 4, size=n).astype(int)) % 24
    second = rng.integers(0, 3600, size=n)
    dates = np.sort(START + day * 86400 + hour * 3600 + second)
    lengths = rng.integers(1, 15, size=n)
    tokens = draw_tokens(rng, words, int(lengths.sum()), vocabulary_kind)
    offsets = np.concatenate(([0], np.cumsum(lengths)))
    is_reply = rng.random(n) < 0.15
    reply_back = rng.integers(1, 50, size=n)
    reactions = np.where(rng.random(n) < 0.1, rng.integers(1, 6, size=n), 0)
    is_sticker = rng.random(n) < 0.03
    emoji = (rng.zipf(1.5, size=n) - 1) % len(STICKER_EMOJI)

    with store.bulk() as batch:
        batch.upsert_chat(ChatInfo(chat_id=CHAT_ID, title="Benchmark chat", type="supergroup"))
        batch.upsert_users(
            UserInfo(user_id=u, username=f"user{u}", display_name=f"Member {u}")
            for u in range(1, users + 1)
        )
        chunk = 50_000
        for start in range(0, n, chunk):
            rows = []
            for i in range(start, min(start + chunk, n)):
                message_id = i + 1
                reply_to = message_id - int(reply_back[i])
                sticker = bool(is_sticker[i])
                rows.append(
                    {
                        "chat_id": CHAT_ID,
                        "message_id": message_id,
                        "thread_id": None,
                        "user_id": int(sender[i]),
                        "date": int(dates[i]),
                        "text": "" if sticker else " ".join(tokens[offsets[i] : offsets[i + 1]]),
                        "reply_to_message_id": reply_to if is_reply[i] and reply_to > 0 else None,
                        "media_kind": "sticker" if sticker else None,
                        "edit_date": None,
                        "reaction_count": int(reactions[i]),
                        "sticker_emoji": STICKER_EMOJI[emoji[i]] if sticker else None,
                    }
                )
            batch.add_messages(rows)
    return time.perf_counter() - started


# `all`, 30 and 365 days, and one member (the most active: 44 % of the chat)
# over each and most of the history; a quieter member (the second: 14 %)
# over all and most of the history; only the heatmap and the word cloud
# take a member.
PERIODS: list[tuple[str, ...]] = [
    ("all",),
    ("30",),
    ("365",),
    ("600",),  # most of the two years
    ("all", "@user1"),
    ("30", "@user1"),
    ("365", "@user1"),
    ("600", "@user1"),
    ("all", "@user2"),
    ("600", "@user2"),
]
MEMBER_COMMANDS = {"heatmap", "wordcloud"}
DIGEST_RUN: list[tuple[str, ...]] = [("post",)]


def measure_all(queries: Any, args: argparse.Namespace) -> list[dict[str, Any]]:
    runs = [
        (key, period)
        for key in args.only or PLUGINS
        # The digest has one answer: last week's post (no period, no member).
        for period in (DIGEST_RUN if key == "digest" else PERIODS)
        if key in MEMBER_COMMANDS or not any(word.startswith("@") for word in period)
    ]
    return measure(runs, queries, args.repeat)


def load_plugin(key: str, queries: Any) -> Plugin[Any]:
    import importlib

    name, module_name, class_name = PLUGINS[key]
    module = importlib.import_module(module_name)
    plugin_class = getattr(module, class_name)
    resolved = resolve_plugin_config(
        name,
        plugin_class.Config,
        plugin_yaml=Path(module.__file__).parent / "plugin.yaml",
        host_config=load_host_config(DEFAULT_CONFIG_PATH),
    )
    return plugin_class(resolved.value, Host(name, queries))  # type: ignore[no-any-return]


def run_once(plugin: Plugin[Any], command: str, queries: Any, args: tuple[str, ...]) -> Any:
    if command == "digest":
        # The weekly post, built as the scheduler would at NOW: the 7 whole
        # days before it against the 7 before those.
        job = ScheduleContext(
            job="weekly_post",
            chat_id=CHAT_ID,
            chat_title="Benchmark chat",
            now=NOW,
            scheduled=NOW,
            zone=ZoneInfo("UTC"),
            store=queries,
        )
        return asyncio.run(run_job(plugin, job))
    ctx = CommandContext(
        command=command,
        args=args,
        chat_id=CHAT_ID,
        chat_title="Benchmark chat",
        user_id=1,
        now=NOW,
        store=queries,
    )
    return asyncio.run(run_command(plugin, ctx))


def measure(
    runs: list[tuple[str, tuple[str, ...]]], queries: Any, repeat: int
) -> list[dict[str, Any]]:
    """Each command once cold, then ``repeat`` rounds of every command in
    turn: the machine's load and the page cache drift over a minute, and
    rounds let the drift fall on every command alike, so the commands can
    be compared with each other (``all`` against its periods)."""
    plugins = {key: load_plugin(key, queries) for key in {key for key, _args in runs}}
    cold: list[float] = []
    replies: list[Any] = []
    for key, args in runs:
        started = time.perf_counter()
        replies.append(run_once(plugins[key], key, queries, args))
        cold.append(time.perf_counter() - started)
    times: list[list[float]] = [[] for _ in runs]
    cpu: list[list[float]] = [[] for _ in runs]
    for _ in range(repeat):
        for i, (key, args) in enumerate(runs):
            started, cpu_started = time.perf_counter(), time.process_time()
            replies[i] = run_once(plugins[key], key, queries, args)
            times[i].append(time.perf_counter() - started)
            cpu[i].append(time.process_time() - cpu_started)
    results = []
    for i, (key, args) in enumerate(runs):
        tracemalloc.start()
        run_once(plugins[key], key, queries, args)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        reply = replies[i]
        size = len(reply.png) if isinstance(reply, PhotoReply) else len(reply.text)
        results.append(
            {
                "backend": queries._engine.dialect.name,
                "command": "digest post" if key == "digest" else f"/{key} {' '.join(args)}",
                "cold": cold[i],
                "median": statistics.median(times[i]) if times[i] else cold[i],
                "best": min(times[i], default=cold[i]),
                "cpu": statistics.median(cpu[i]) if cpu[i] else 0.0,
                "peak_mb": peak / 1e6,
                "target": TARGETS[key],
                "reply": f"{type(reply).__name__} {size:,} B",
            }
        )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, help="reuse this SQLite file (built if missing)")
    parser.add_argument("--keep", type=Path, help="build into this file and keep it")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=sorted(PLUGINS), action="append")
    parser.add_argument("--pg-url", help="also measure on this PostgreSQL database")
    parser.add_argument(
        "--vocabulary",
        choices=("open", "closed"),
        default="open",
        help="when building: words past a list of 20,000 made up (open, as real chats) "
        "or wrapped around it (closed, the bench before 2026-12-05)",
    )
    args = parser.parse_args(argv)

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or args.keep or Path(tmp) / "bench.db"
        store = open_store(f"sqlite:///{path}")
        try:
            if store.queries.chat(CHAT_ID) is None:
                seconds = generate(store, args.messages, vocabulary_kind=args.vocabulary)
                print(f"built {args.messages:,} messages in {seconds:.1f} s -> {store.url}")
            total = store.queries.count_messages(CHAT_ID)
            print(f"chat {CHAT_ID}: {total:,} messages, SQLite {path.stat().st_size / 1e6:.0f} MB")
            results += measure_all(store.queries, args)
        finally:
            store.close()
    if args.pg_url:
        store = open_store(args.pg_url)
        try:
            if store.queries.count_messages(CHAT_ID) == 0:
                seconds = generate(store, args.messages, vocabulary_kind=args.vocabulary)
                with store.engine.connect() as connection:
                    # Plans for the new table sizes, and the visibility map an
                    # index-only scan needs (autovacuum's work on a live store).
                    connection = connection.execution_options(isolation_level="AUTOCOMMIT")
                    connection.exec_driver_sql("VACUUM ANALYZE")
                print(f"built {args.messages:,} messages in {seconds:.1f} s -> PostgreSQL")
            total = store.queries.count_messages(CHAT_ID)
            print(f"chat {CHAT_ID}: {total:,} messages, PostgreSQL")
            results += measure_all(store.queries, args)
        finally:
            store.close()

    header = (
        "backend",
        "command",
        "cold s",
        "median s",
        "best s",
        "cpu s",
        "target s",
        "ok",
        "peak MB",
        "reply",
    )
    rows = [
        (
            r["backend"],
            r["command"],
            f"{r['cold']:.2f}",
            f"{r['median']:.2f}",
            f"{r['best']:.2f}",
            f"{r['cpu']:.2f}",
            f"< {r['target']:g}",
            "yes" if r["median"] < r["target"] else "NO",
            f"{r['peak_mb']:.1f}",
            r["reply"],
        )
        for r in results
    ]
    widths = [max(len(str(row[i])) for row in (header, *rows)) for i in range(len(header))]
    for row in (header, tuple("-" * w for w in widths), *rows):
        print("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)))
    rss = psutil.Process().memory_info().rss / 1e6
    load = ", ".join(f"{x:.1f}" for x in psutil.getloadavg())
    print(f"process RSS at the end: {rss:.0f} MB (peak MB column: tracemalloc, one run)")
    print(f"load average {load} on {psutil.cpu_count()} CPUs; cpu s: process CPU, all threads")
    return 0 if all(r["median"] < r["target"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
