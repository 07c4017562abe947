"""Benchmark Store.erase_member: how long /optout and /forgetme hold the store writer.

Run by hand (not a test):

    python bench/erase_bench.py                          # 1M messages, SQLite
    python bench/erase_bench.py --messages 200000 --db postgresql+psycopg://postgres@127.0.0.1:5432/test

Fills a store with N messages spread over 20 chats and 200 members (through
the importer's bulk API), then times erasing one member from one chat
(/optout) and from every chat (/forgetme).  Erasure runs in the bot's writer
thread, so its time is how long recording waits.  Prints wall-clock and CPU
time of this process (PostgreSQL's work is in the server, so on PostgreSQL
only wall-clock counts) and the load average, since the machine may be shared.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from pathlib import Path

from tgstats.store import open_store

CHATS = [-1001000000000 - n for n in range(20)]
MEMBERS = list(range(10_000, 10_200))


def fill(url: str, total: int) -> None:
    rng = random.Random(7)
    with open_store(url) as store:
        start = 1_700_000_000
        for first in range(0, total, 50_000):
            rows = [
                {
                    "chat_id": rng.choice(CHATS),
                    "message_id": n,
                    "user_id": rng.choice(MEMBERS),
                    "date": start + n * 30,
                    "text": "hello world",
                }
                for n in range(first, min(total, first + 50_000))
            ]
            with store.bulk() as batch:
                batch.add_messages(rows)


def timed(label: str, call: object) -> None:
    wall, cpu = time.perf_counter(), time.process_time()
    result = call()  # type: ignore[operator]
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    rows = result.messages
    print(f"{label:<34} {wall * 1000:8.1f} ms wall {cpu * 1000:8.1f} ms CPU  {rows:>6} rows")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--db", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.db or f"sqlite:///{Path(folder) / 'erase.db'}"
        fill(url, args.messages)
        print(f"{args.messages:,} messages in {len(CHATS)} chats from {len(MEMBERS)} members")
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        with open_store(url) as store:
            timed(
                "/optout (one member, one chat)", lambda: store.erase_member(MEMBERS[0], [CHATS[0]])
            )
            timed(
                "/forgetme (one member, every chat)", lambda: store.erase_member(MEMBERS[1], None)
            )
            timed("/forgetme again (nothing left)", lambda: store.erase_member(MEMBERS[1], None))
        print(f"load average after:  {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
