"""Drives telegram-stats-bot's statistics for bench/anchor_bench.py (run with *its* Python).

This file is ours; it imports the anchor bot (PyPI ``telegram-stats-bot``,
installed in a separate venv because it pins an older python-telegram-bot)
and runs its ``/stats`` subcommands the way its ``print_stats`` handler does:
the same argument parser, the same ``StatsRunner`` on the same engine
(``PostgresStore``), the same function call that queries PostgreSQL, builds
the pandas frame and renders the PNG.  Only the Telegram send is left out.

Usage (by anchor_bench.py, not by hand)::

    python anchor_driver.py --db URL init    # the anchor's own DDL (db.init_dbs)
    python anchor_driver.py --db URL serve   # then one JSON line per command on stdin

In ``serve`` mode the first line printed is ``{"ready": ...}`` or ``{"error": ...}``;
then each input line (a /stats argument string such as ``week``) gets one JSON
line back: wall and process CPU seconds of the call, reply text length and PNG size.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path
from typing import Any


def emit(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


def engine_url(url: str) -> str:
    # What the anchor's main does: psycopg 3 through SQLAlchemy.
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def run(stats: Any, get_parser: Any, line: str) -> tuple[str | None, Any]:
    """One ``/stats <line>`` as the anchor's print_stats handles it (no Telegram)."""
    ns = get_parser(stats).parse_args(shlex.split(line))
    args = vars(ns)
    func = args.pop("func")
    # print_stats: a -user id maps to (id, @name); -me is dropped when no user is asked.
    if args.get("user"):
        uid = args["user"]
        args["user"] = uid, stats.users[uid][0]
    args.pop("me", None)
    return func(**args)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", required=True, help="PostgreSQL URL of the anchor's database")
    parser.add_argument("--save-dir", type=Path, help="write each PNG here (last run wins)")
    parser.add_argument("mode", choices=["init", "serve"])
    args = parser.parse_args()
    try:
        import telegram_stats_bot
        from telegram_stats_bot.db import init_dbs
        from telegram_stats_bot.log_storage import PostgresStore
        from telegram_stats_bot.stats import StatsRunner, get_parser
    except ImportError as exc:
        emit({"error": f"{sys.executable} cannot import telegram_stats_bot: {exc}"})
        return 2

    url = engine_url(args.db)
    if args.mode == "init":
        from sqlalchemy import create_engine

        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as con:
            init_dbs(con)
        engine.dispose()
        emit({"ok": True})
        return 0

    # As its main: PostgresStore (creates the tables if missing), StatsRunner
    # (reads the user names once), both kept for the process's life.
    store = PostgresStore(url)
    stats = StatsRunner(store.engine, tz="Etc/UTC")
    emit(
        {
            "ready": True,
            "version": getattr(telegram_stats_bot, "__version__", "?"),
            "users": len(stats.users),
            "python": sys.version.split()[0],
        }
    )
    for raw in sys.stdin:
        line = raw.strip()
        if not line:
            continue
        started, cpu_started = time.perf_counter(), time.process_time()
        try:
            text, image = run(stats, get_parser, line)
        except Exception as exc:  # reported to the bench, which stops with it
            emit({"error": f"/stats {line}: {type(exc).__name__}: {exc}"})
            continue
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        png = image.getvalue() if image is not None else b""
        if png and args.save_dir:
            args.save_dir.mkdir(parents=True, exist_ok=True)
            (args.save_dir / f"anchor-{line.split()[0]}.png").write_bytes(png)
        emit(
            {
                "command": line,
                "wall": wall,
                "cpu": cpu,
                "text_chars": len(text or ""),
                "png_bytes": len(png),
                "text": text or "",
            }
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
