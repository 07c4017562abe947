"""Benchmark: the event queries on a big chat in SQLite, and recording reactions.

Run by hand (not part of the test suite)::

    python bench/events_bench.py                       # 1M messages, 100k joins/leaves
    python bench/events_bench.py --messages 200000 --events 20000

The chat: ``--messages`` messages over two years from 500 members, a fifth of
them with 1-5 reactions from other members (each reaction a row in
``reactions``, as ``message_reaction`` updates leave them), and ``--events``
joins and leaves.  Rows are written in bulk with SQL (the recorder's per-update
path is timed separately, on ``--record`` reaction updates).  Each query: one
warm-up, then the median of ``--repeat`` runs, wall clock and process CPU.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import telegram
from sqlalchemy import insert
from tgstats.store import open_store
from tgstats.store.schema import chats, member_events, messages, reactions, users

CHAT_ID = -1001000000002
START = int(datetime(2024, 11, 1, tzinfo=UTC).timestamp())
END = int(datetime(2026, 11, 1, tzinfo=UTC).timestamp())
EMOJI = ["👍", "❤", "🔥", "😂", "🎉"]


def build(store: Any, n_messages: int, n_events: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    members = list(range(1, 501))
    with store.engine.begin() as connection:
        connection.execute(
            insert(chats), [{"chat_id": CHAT_ID, "title": "Bench", "type": "supergroup"}]
        )
        connection.execute(
            insert(users),
            [{"user_id": u, "username": f"u{u}", "display_name": f"User {u}"} for u in members],
        )
        step = (END - START) // n_messages
        batch: list[dict[str, Any]] = []
        rows: list[dict[str, Any]] = []
        for i in range(n_messages):
            reactors = rng.sample(members, rng.randint(1, 5)) if rng.random() < 0.2 else []
            date = START + i * step
            batch.append(
                {
                    "chat_id": CHAT_ID,
                    "message_id": i + 1,
                    "user_id": rng.choice(members),
                    "date": date,
                    "text": "hello",
                    "reaction_count": len(reactors),
                }
            )
            rows += [
                {
                    "chat_id": CHAT_ID,
                    "message_id": i + 1,
                    "user_id": r,
                    "emojis": rng.choice(EMOJI),
                    "count": 1,
                    "date": date + 60,
                }
                for r in reactors
            ]
            if len(batch) >= 20_000:
                connection.execute(insert(messages), batch)
                connection.execute(insert(reactions), rows)
                batch, rows = [], []
        if batch:
            connection.execute(insert(messages), batch)
        if rows:
            connection.execute(insert(reactions), rows)
        events = [
            {
                "chat_id": CHAT_ID,
                "user_id": 10_000 + i,
                "kind": "join" if i % 3 else "leave",
                "date": START + i * ((END - START) // max(n_events, 1)),
                "source": "chat_member",
            }
            for i in range(n_events)
        ]
        if events:
            connection.execute(insert(member_events), events)


def timed(run: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    result = run()  # warm-up
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = run()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), result


def record_reactions(store: Any, count: int) -> float:
    """Seconds per message_reaction update through the store's write path."""
    chat = telegram.Chat(CHAT_ID, "supergroup", title="Bench")
    started = time.perf_counter()
    for i in range(count):
        update = telegram.MessageReactionUpdated(
            chat=chat,
            message_id=i + 1,
            date=datetime.fromtimestamp(END, UTC),
            old_reaction=(),
            new_reaction=(telegram.ReactionTypeEmoji("👍"),),
            user=telegram.User(900_000 + i, "R", False),
        )
        store.record_reaction(update)
    return (time.perf_counter() - started) / count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--record", type=int, default=2_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'events.db'}")
        started = time.perf_counter()
        build(store, args.messages, args.events)
        with store.engine.connect() as connection:
            n_reactions = connection.exec_driver_sql("SELECT count(*) FROM reactions").scalar()
        print(
            f"built {args.messages:,} messages, {n_reactions:,} reactions, "
            f"{args.events:,} joins/leaves in {time.perf_counter() - started:.1f} s"
        )
        queries = store.queries
        berlin = ZoneInfo("Europe/Berlin")
        cases: list[tuple[str, Callable[[], Any]]] = [
            (
                "member_changes (Europe/Berlin, all)",
                lambda: queries.member_changes(CHAT_ID, tz=berlin),
            ),
            ("top_reacted_messages (all, 10)", lambda: queries.top_reacted_messages(CHAT_ID)),
            (
                "top_reacted_messages (last 30 days)",
                lambda: queries.top_reacted_messages(
                    CHAT_ID, since=datetime.fromtimestamp(END - 30 * 86_400, UTC)
                ),
            ),
            ("reactions_by_member (all)", lambda: queries.reactions_by_member(CHAT_ID)),
        ]
        print(f"{'query':<40} {'median s':>9} {'cpu s':>7}  rows")
        for name, run in cases:
            wall, cpu, result = timed(run, args.repeat)
            print(f"{name:<40} {wall:>9.3f} {cpu:>7.3f}  {len(result)}")
        per = record_reactions(store, args.record)
        print(f"recording a message_reaction update (one transaction each): {per * 1000:.2f} ms")
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
