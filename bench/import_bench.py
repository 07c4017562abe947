"""Benchmark `tgstats import`: messages/s and peak memory on synthetic exports.

Run by hand (not a test):

    python bench/import_bench.py                     # 100k and 1M messages, SQLite
    python bench/import_bench.py --sizes 2000000     # other sizes
    python bench/import_bench.py --pipeline off      # parse and write in one process
    python bench/import_bench.py --db postgresql+psycopg://postgres@127.0.0.1:5432/test

Each export is written to a temporary file shaped like Telegram Desktop's
result.json (text strings and entity lists, replies, edits, reactions, media,
service messages, a channel sender), then imported in a fresh child process so
its peak RSS is the import's alone.  Constant memory shows as a peak RSS that
does not grow with the file size.  A second import of the same file measures
the re-import (everything already stored).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

WORDS = [
    "hello",
    "world",
    "meeting",
    "tomorrow",
    "coffee",
    "release",
    "bug",
    "fix",
    "deploy",
    "weekend",
    "photo",
    "party",
    "привет",
    "как",
    "дела",
    "завтра",
    "встреча",
    "отлично",
    "спасибо",
    "хорошо",
    "работа",
    "hallo",
    "danke",
    "morgen",
    "gut",
    "wochenende",
]
MEDIA = [
    {"photo": "photos/p.jpg", "width": 1280, "height": 720},
    {"file": "stickers/s.webp", "media_type": "sticker", "sticker_emoji": "😂"},
    {"file": "voice_messages/v.ogg", "media_type": "voice_message", "duration_seconds": 3},
    {"file": "video_files/v.mp4", "media_type": "video_file", "mime_type": "video/mp4"},
    {"file": "files/doc.pdf", "mime_type": "application/pdf"},
]


def write_export(path: Path, count: int, seed: int = 7) -> None:
    """A single-chat export with ``count`` messages (2% of them service messages)."""
    rnd = random.Random(seed)
    start = 1_600_000_000
    with path.open("w", encoding="utf-8") as out:
        out.write('{\n "name": "Bench group",\n "type": "private_supergroup",\n')
        out.write(' "id": 1234567890,\n "messages": [\n')
        for i in range(1, count + 1):
            unix = start + i * 20
            if i % 50 == 0:
                msg: dict[str, object] = {
                    "id": i,
                    "type": "service",
                    "date": "2020-09-13T12:26:40",
                    "date_unixtime": str(unix),
                    "actor": "Alice",
                    "actor_id": "user1000",
                    "action": "pin_message",
                    "message_id": i - 1,
                    "text": "",
                    "text_entities": [],
                }
            else:
                user = rnd.randrange(200)
                words = " ".join(rnd.choices(WORDS, k=rnd.randint(2, 14)))
                text: object = words
                if i % 9 == 0:
                    text = [words, {"type": "link", "text": "https://example.org/x"}, " !"]
                msg = {
                    "id": i,
                    "type": "message",
                    "date": "2020-09-13T12:26:40",
                    "date_unixtime": str(unix),
                    "from": f"Member {user}",
                    "from_id": "channel777" if user == 0 else f"user{10_000 + user}",
                    "text": text,
                    "text_entities": [{"type": "plain", "text": words}],
                }
                if i % 6 == 0:
                    msg["reply_to_message_id"] = i - rnd.randint(1, 30)
                if i % 13 == 0:
                    msg["edited"] = "2020-09-13T12:30:00"
                    msg["edited_unixtime"] = str(unix + 60)
                if i % 8 == 0:
                    reacted = rnd.randint(1, 5)
                    msg["reactions"] = [{"type": "emoji", "count": reacted, "emoji": "👍"}]
                if i % 17 == 0:
                    msg.update(rnd.choice(MEDIA))
            out.write((",\n  " if i > 1 else "  ") + json.dumps(msg, ensure_ascii=False))
        out.write("\n ]\n}\n")


def child(path: str, db: str, pipeline: str) -> None:
    """Import once and print a JSON line with the numbers (runs in a fresh process)."""
    from tgstats.importer import import_export
    from tgstats.logs import configure_logging
    from tgstats.store import open_store

    configure_logging(level="WARNING")
    spent = _time_aggregates()
    store = open_store(db)
    before = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = before.ru_utime + before.ru_stime
    started = time.perf_counter()
    report = import_export(path, store, pipeline={"auto": None, "on": True, "off": False}[pipeline])
    seconds = time.perf_counter() - started
    store.close()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    # The reader process, if any (joined by now): its CPU time counts too.
    reader = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak_kib = usage.ru_maxrss  # KiB on Linux
    print(
        json.dumps(
            {
                "messages": report.messages,
                "added": report.added,
                "seconds": seconds,
                "peak_mib": peak_kib / 1024,
                "reader_peak_mib": reader.ru_maxrss / 1024,
                # CPU time is steadier than wall time on a shared machine.
                "cpu_seconds": usage.ru_utime + usage.ru_stime - cpu_before,
                "reader_cpu_seconds": reader.ru_utime + reader.ru_stime,
                "aggregates_s": spent[0],
            }
        )
    )


def _time_aggregates() -> list[float]:
    """Wrap the aggregate upkeep of the bulk writer in CPU-time counters.

    Returns a one-element list that accumulates the seconds spent keeping
    the aggregates (finding which rows are new, the deltas, their upserts).
    """
    import tgstats.importer.produce as produce
    import tgstats.store.bulk as bulk
    from tgstats.store.aggregates import Delta

    spent = [0.0]

    def timed(function: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            # perf_counter: process_time costs about a millisecond a call on some VMs.
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - started

        return wrapper

    bulk.changed = timed(bulk.changed)  # type: ignore[attr-defined]
    bulk.read_ids = timed(bulk.read_ids)  # type: ignore[attr-defined]
    bulk.apply_rows = timed(bulk.apply_rows)  # type: ignore[attr-defined]
    bulk.added_replies = timed(bulk.added_replies)  # type: ignore[attr-defined]
    Delta.apply = timed(Delta.apply)  # type: ignore[method-assign]
    # The reader's share (each batch's activity and word rows): counted here only
    # when it runs in this process (--pipeline off), not in a reader process.
    produce.count_rows = timed(produce.count_rows)  # type: ignore[attr-defined]
    return spent


def run_child(path: Path, db: str, pipeline: str) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, __file__, "--child", str(path), db, pipeline],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--db", default=None, help="database URL (default: a temp SQLite file)")
    parser.add_argument(
        "--pipeline",
        choices=("auto", "on", "off"),
        default="auto",
        help="read the file in a second process: auto (big files, 2+ CPUs), on or off",
    )
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    console = Console(width=max(Console().width, 120))
    table = Table(title="tgstats import (Telegram Desktop JSON, single chat)")
    columns = (
        "messages",
        "file",
        "run",
        "stored",
        "seconds",
        "messages/s",
        "CPU s (writer+reader)",
        "messages/CPU s",
        "aggregates s (writer)",
        "peak RSS writer / reader",
    )
    for column in columns:
        table.add_column(column, justify="right")
    with tempfile.TemporaryDirectory(prefix="tgstats-import-bench-") as tmp:
        for size in args.sizes:
            export = Path(tmp) / f"result-{size}.json"
            with console.status(f"writing a {size:,}-message export"):
                write_export(export, size)
            db = args.db or f"sqlite:///{Path(tmp) / f'bench-{size}.db'}"
            for run in ("first", "re-import"):
                with console.status(f"importing {size:,} messages ({run})"):
                    numbers = run_child(export, db, args.pipeline)
                cpu = numbers["cpu_seconds"] + numbers["reader_cpu_seconds"]
                table.add_row(
                    f"{size:,}",
                    f"{export.stat().st_size / 2**20:,.0f} MiB",
                    run,
                    f"{int(numbers['added']):,}",
                    f"{numbers['seconds']:.1f}",
                    f"{numbers['messages'] / numbers['seconds']:,.0f}",
                    f"{cpu:.1f} ({numbers['cpu_seconds']:.1f}+{numbers['reader_cpu_seconds']:.1f})",
                    f"{numbers['messages'] / cpu:,.0f}",
                    f"{numbers['aggregates_s']:.1f} s",
                    f"{numbers['peak_mib']:.0f} / {numbers['reader_peak_mib']:.0f} MiB",
                )
            export.unlink()
    console.print(table)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    console.print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load}, "
        f"pipeline {args.pipeline}; target >= 50,000 messages/s with the aggregates"
    )


if __name__ == "__main__":
    main()
