"""Benchmark: tgstats side by side with telegram-stats-bot (the "anchor" of issue #12).

Run by hand (not part of the test suite).  The anchor (PyPI ``telegram-stats-bot``)
pins an older python-telegram-bot, so it lives in a venv of its own, made once::

    python -m venv /work/venv-anchor-theirs
    /work/venv-anchor-theirs/bin/pip install telegram-stats-bot 'SQLAlchemy<2.1'
    psql -h 127.0.0.1 -U postgres -c 'create database anchor_ours' \\
        -c 'create database anchor_theirs'
    python bench/anchor_bench.py --anchor-python /work/venv-anchor-theirs/bin/python
    python bench/anchor_bench.py --anchor-python ... --messages 50000 \\
        --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/smoke_ours \\
        --anchor-url postgresql://postgres@127.0.0.1:5432/smoke_theirs   # a smoke run

Nothing of the anchor is copied here: bench/anchor_driver.py, run by the
anchor's Python, imports its package and answers ``/stats counts``, ``week`` and
``words`` through its own parser and ``StatsRunner`` (query, pandas, PNG).

The chat is analytics_bench.py's (``generate()``, seed 7: 300 members, two
years, ~15 % replies, Zipf words), written to our store on PostgreSQL; the
same rows (ids, dates, senders, texts, replies) are then copied with COPY
into the anchor's own schema (its ``init_dbs`` DDL: ``messages_utc`` with the
generated ``tsvector`` column and its GIN index, ``user_names``).  Both
databases are VACUUM ANALYZEd once after loading.

Each round runs every pair (ours, then theirs; the order flips each round),
after one warm-up of each: the median of ``--repeat`` rounds is reported.
Wall time is the call as the bot makes it; "cpu" is the bot process's CPU
plus the PostgreSQL server's CPU for it (the backends connected to that
side's database, read from /proc, and the postmaster's reaped children: the
parallel query workers, which exit after each query).  Another job's
PostgreSQL children exiting inside a window would be counted too.

Targets (issue #12, 1M messages on PostgreSQL): /heatmap and /wordcloud take at
most half the time of the anchor's /stats week and /stats words; /engagement is
no slower than its /stats counts.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
import psycopg
from analytics_bench import CHAT_ID, generate, load_plugin, run_once
from tgstats.plugins._api import PhotoReply
from tgstats.store import open_store

HERE = Path(__file__).resolve().parent
# What anchor_driver.py imports from the anchor (log_storage pulls in SQLAlchemy-Utils).
ANCHOR_MODULES = (
    "telegram_stats_bot.db",
    "telegram_stats_bot.log_storage",
    "telegram_stats_bot.stats",
)
DRIVER = HERE / "anchor_driver.py"

# (ours, args) -> theirs /stats line, the ratio target, what each computes.
PAIRS: list[tuple[str, str, float, str, str]] = [
    (
        "heatmap",
        "week",
        0.5,
        "weekday x hour grid from the 15-minute activity_buckets table, drawn with "
        "matplotlib (6x10 in at 180 dpi, annotated cells)",
        "date_trunc('hour') GROUP BY over every row of messages_utc, pandas asfreq "
        "+ groupby, seaborn heatmap at 200 dpi",
    ),
    (
        "wordcloud",
        "words",
        0.5,
        "top words from the word_spans/word_days counts kept as messages are "
        "stored, stop words, form merging, a 1080x1080 word-cloud PNG",
        "ts_stat() over every row's stored tsvector (english stemming), top 20 "
        "lexemes >= 4 chars, a text table (no picture)",
    ),
    (
        "engagement",
        "counts",
        1.0,
        "per-member score (messages, replies and reactions received, active "
        "days) from the bucket tables, a text ranking",
        "COUNT(*) GROUP BY from_user over every row, joined to names in pandas, a text table",
    ),
]

ANCHOR_COLUMNS = (
    "message_id, date, from_user, forward_from_message_id, forward_from, "
    "forward_from_chat, caption, text, sticker_set_name, new_chat_title, "
    "reply_to_message, file_id, type"
)
# Our rows as the anchor's logger would have stored them (parse_message):
# a sticker has no text and type 'sticker', any message with text is 'text'.
CONVERT = f"""
    SELECT message_id, to_timestamp(date), user_id, NULL, NULL, NULL, NULL,
           CASE WHEN text = '' THEN NULL ELSE text END, NULL, NULL,
           reply_to_message_id, NULL,
           CASE WHEN text <> '' THEN 'text' ELSE coalesce(media_kind, 'text') END
    FROM messages WHERE chat_id = {CHAT_ID} ORDER BY message_id
"""
OUR_FINGERPRINT = f"""
    SELECT count(*), coalesce(sum(message_id), 0), coalesce(sum(reply_to_message_id), 0),
           coalesce(sum(user_id), 0), coalesce(sum(date), 0),
           coalesce(sum(length(text)), 0)
    FROM messages WHERE chat_id = {CHAT_ID}
"""
THEIR_FINGERPRINT = """
    SELECT count(*), coalesce(sum(message_id), 0), coalesce(sum(reply_to_message), 0),
           coalesce(sum(from_user), 0), coalesce(sum(extract(epoch FROM date))::bigint, 0),
           coalesce(sum(length(text)), 0)
    FROM messages_utc
"""


def fail(message: str) -> SystemExit:
    print(f"anchor_bench: {message}", file=sys.stderr)
    return SystemExit(2)


def libpq_url(url: str) -> str:
    """The psycopg (libpq) form of a SQLAlchemy PostgreSQL URL."""
    for prefix in ("postgresql+psycopg://", "postgresql+psycopg2://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    return url


def connect(url: str) -> psycopg.Connection[Any]:
    """An autocommit connection, or a clear error when the database is missing."""
    try:
        return psycopg.connect(libpq_url(url), autocommit=True)
    except psycopg.OperationalError as exc:
        name = url.rsplit("/", 1)[-1].split("?")[0]
        if "does not exist" in str(exc):
            raise fail(
                f"database {name!r} does not exist; create it first, e.g.\n"
                f"    psql -h 127.0.0.1 -U postgres -c 'create database {name}'"
            ) from None
        raise fail(f"cannot connect to {url}: {exc}") from None


def database_name(url: str) -> str:
    with connect(url) as con:
        row = con.execute("SELECT current_database()").fetchone()
    assert row is not None
    return str(row[0])


# --- PostgreSQL server CPU, per database, from /proc ---------------------------

TICK = os.sysconf("SC_CLK_TCK")


def _stat_ticks(pid: int) -> tuple[int, int, int] | None:
    """(ppid, utime+stime, cutime+cstime) of a process, or None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])


class ServerCpu:
    """CPU seconds PostgreSQL spends for one database's connections.

    The backends are found by their process title ("postgres: 15/main: USER DB
    HOST(PORT) STATE"); parallel workers exit after each query, so their time
    shows as the postmaster's reaped-children time.
    """

    def __init__(self, database: str) -> None:
        self.database = database

    def _backends(self) -> list[int]:
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except (OSError, UnicodeDecodeError):
                continue
            words = title.split()
            if len(words) >= 4 and words[0] == "postgres:" and words[3] == self.database:
                pids.append(int(entry.name))
        return pids

    def snapshot(self) -> dict[int, int] | None:
        """{pid: ticks} of this database's backends, with -1 for the postmaster's
        reaped children; None when no backend is visible (PostgreSQL elsewhere)."""
        ticks: dict[int, int] = {}
        postmaster = None
        for pid in self._backends():
            stat = _stat_ticks(pid)
            if stat is not None:
                postmaster, ticks[pid] = stat[0], stat[1]
        if postmaster is None:
            return None
        stat = _stat_ticks(postmaster)
        ticks[-1] = stat[2] if stat else 0
        return ticks

    @staticmethod
    def seconds(before: dict[int, int] | None, after: dict[int, int] | None) -> float:
        if before is None or after is None:
            return float("nan")
        return sum(t - before.get(pid, 0) for pid, t in after.items()) / TICK


# --- the two sides --------------------------------------------------------------


class Ours:
    def __init__(self, url: str, messages: int, save_dir: Path | None, vocabulary: str) -> None:
        connect(url).close()
        self.store = open_store(url)
        self.save_dir = save_dir
        queries = self.store.queries
        total = queries.count_messages(CHAT_ID)
        if total == 0:
            print(f"ours: generating {messages:,} messages (analytics_bench.generate, seed 7) ...")
            seconds = generate(self.store, messages, vocabulary_kind=vocabulary)
            with self.store.engine.connect() as connection:
                connection = connection.execution_options(isolation_level="AUTOCOMMIT")
                connection.exec_driver_sql("VACUUM ANALYZE")
            print(f"ours: built in {seconds:.0f} s, VACUUM ANALYZE done")
            total = queries.count_messages(CHAT_ID)
        elif total != messages:
            raise fail(
                f"{self.store.url} already holds {total:,} messages, not --messages "
                f"{messages:,}: use another database or drop and re-create this one"
            )
        self.total = total
        self.database = database_name(url)
        self.cpu = ServerCpu(self.database)
        self.plugins = {key: load_plugin(key, queries) for key, *_ in PAIRS}

    def run(self, key: str) -> dict[str, Any]:
        plugin = self.plugins[key]
        before = self.cpu.snapshot()
        started, cpu_started = time.perf_counter(), time.process_time()
        reply = run_once(plugin, key, self.store.queries, ("all",))
        wall = time.perf_counter() - started
        client = time.process_time() - cpu_started
        server = ServerCpu.seconds(before, self.cpu.snapshot())
        if isinstance(reply, PhotoReply):
            size = f"PNG {len(reply.png):,} B"
            if self.save_dir:
                self.save_dir.mkdir(parents=True, exist_ok=True)
                (self.save_dir / f"ours-{key}.png").write_bytes(reply.png)
        else:
            size = f"text {len(reply.text):,} chars"
        return {"wall": wall, "client": client, "server": server, "reply": size}

    def close(self) -> None:
        self.store.close()


class Theirs:
    """The anchor's bot, driven in its own Python by anchor_driver.py."""

    def __init__(self, python: Path, url: str, ours_url: str, save_dir: Path | None) -> None:
        if not python.exists():
            raise fail(f"--anchor-python {python} does not exist")
        self.python = python
        self.url = url
        self.database = database_name(url)
        self.cpu = ServerCpu(self.database)
        self._check_import()
        self._load_if_needed(ours_url)
        extra = ["--save-dir", str(save_dir)] if save_dir else []
        self.process = subprocess.Popen(
            [str(python), str(DRIVER), "--db", url, *extra, "serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "MPLBACKEND": "Agg"},
        )
        ready = self._read()
        if "error" in ready:
            raise fail(ready["error"])
        self.version = ready["version"]
        self.python_version = ready["python"]

    def _check_import(self) -> None:
        probe = subprocess.run(
            [str(self.python), "-c", f"import {', '.join(ANCHOR_MODULES)}"],
            capture_output=True,
            text=True,
        )
        if probe.returncode != 0:
            last = (probe.stderr.strip().splitlines() or ["?"])[-1]
            hint = (
                "\n(SQLAlchemy-Utils 0.41 breaks on SQLAlchemy 2.1: VENV/bin/pip install "
                "'SQLAlchemy<2.1')"
                if "ScalarAttributeImpl" in last
                else ""
            )
            raise fail(
                f"{self.python} cannot import telegram_stats_bot ({last}); make its venv:\n"
                "    python -m venv VENV && "
                "VENV/bin/pip install telegram-stats-bot 'SQLAlchemy<2.1'"
                f"{hint}"
            )

    def _driver(self, mode: str) -> None:
        done = subprocess.run(
            [str(self.python), str(DRIVER), "--db", self.url, mode],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise fail(f"anchor_driver.py {mode} failed:\n{done.stdout}{done.stderr}")

    def _load_if_needed(self, ours_url: str) -> None:
        """Copy our generated chat into the anchor's schema unless it already holds it."""
        self._driver("init")  # its DDL: tables, generated tsvector column, indexes
        with connect(ours_url) as src, connect(self.url) as dst:
            want = src.execute(OUR_FINGERPRINT).fetchone()
            have = dst.execute(THEIR_FINGERPRINT).fetchone()
            assert want is not None and have is not None  # aggregates: one row
            if want == have:
                print(f"theirs: {self.database} already holds the same {have[0]:,} rows")
                return
            print(f"theirs: copying {want[0]:,} rows into {self.database} ...")
            started = time.perf_counter()
            dst.execute("TRUNCATE messages_utc, user_names, user_events")
            # COPY into bare tables, then the anchor's own DDL builds its indexes again.
            indexes = [
                name
                for (name,) in dst.execute(
                    "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' "
                    "AND tablename IN ('messages_utc', 'user_names')"
                )
            ]
            for name in indexes:
                dst.execute(f'DROP INDEX "{name}"')
            with (
                src.cursor().copy(f"COPY ({CONVERT}) TO STDOUT") as out,
                dst.cursor().copy(f"COPY messages_utc ({ANCHOR_COLUMNS}) FROM STDIN") as into,
            ):
                for block in out:
                    into.write(block)
            # Its update_usernames job stores user.name (@username) and full_name.
            with (
                src.cursor().copy(
                    "COPY (SELECT user_id, now(), '@' || username, display_name FROM users "
                    "ORDER BY user_id) TO STDOUT"
                ) as out,
                dst.cursor().copy(
                    "COPY user_names (user_id, date, username, display_name) FROM STDIN"
                ) as into,
            ):
                for block in out:
                    into.write(block)
            self._driver("init")
            dst.execute("VACUUM ANALYZE messages_utc")
            dst.execute("VACUUM ANALYZE user_names")
            have = dst.execute(THEIR_FINGERPRINT).fetchone()
            if want != have:
                raise fail(f"copy mismatch: ours {want}, theirs {have}")
            print(
                f"theirs: copied, indexed and analyzed in {time.perf_counter() - started:.0f} s "
                f"({len(indexes)} indexes rebuilt)"
            )

    def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            code = self.process.wait()
            raise fail(f"anchor driver exited ({code}) without an answer")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def run(self, line: str) -> dict[str, Any]:
        assert self.process.stdin is not None
        before = self.cpu.snapshot()
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        answer = self._read()
        server = ServerCpu.seconds(before, self.cpu.snapshot())
        if "error" in answer:
            raise fail(answer["error"])
        size = (
            f"PNG {answer['png_bytes']:,} B"
            if answer["png_bytes"]
            else f"text {answer['text_chars']:,} chars"
        )
        return {"wall": answer["wall"], "client": answer["cpu"], "server": server, "reply": size}

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait(timeout=30)


# --- the run --------------------------------------------------------------------


def stamp() -> str:
    load = ", ".join(f"{x:.2f}" for x in psutil.getloadavg())
    return f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC, load {load}"


def total_cpu(run: dict[str, Any]) -> float:
    return float(run["client"] + run["server"])


def median_of(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--anchor-python",
        type=Path,
        required=True,
        help="python of a venv with telegram-stats-bot installed",
    )
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument(
        "--pg-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/anchor_ours",
        help="our store (built here on first use; must exist, should hold nothing else)",
    )
    parser.add_argument(
        "--anchor-url",
        default="postgresql://postgres@127.0.0.1:5432/anchor_theirs",
        help="the anchor's database (filled from ours on first use; must exist)",
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--save-dir", type=Path, help="write each side's PNGs here")
    parser.add_argument(
        "--vocabulary",
        choices=("open", "closed"),
        default="open",
        help="the chat's words when building (analytics_bench.draw_tokens)",
    )
    args = parser.parse_args(argv)

    ours = Ours(args.pg_url, args.messages, args.save_dir, args.vocabulary)
    theirs = Theirs(args.anchor_python, args.anchor_url, args.pg_url, args.save_dir)
    print(
        f"chat: {ours.total:,} messages; ours {ours.database}, theirs {theirs.database} "
        f"(telegram-stats-bot {theirs.version}, Python {theirs.python_version})"
    )
    results: dict[str, dict[str, list[dict[str, Any]]]] = {
        key: {"ours": [], "theirs": []} for key, *_ in PAIRS
    }
    try:
        print(f"warm-up: {stamp()}")
        for key, line, *_ in PAIRS:
            ours.run(key)
            theirs.run(line)
        for round_ in range(args.repeat):
            print(f"round {round_ + 1}/{args.repeat}: {stamp()}")
            for key, line, *_ in PAIRS:
                sides = [("ours", key), ("theirs", line)]
                for side, command in sides if round_ % 2 == 0 else sides[::-1]:
                    run = ours.run(command) if side == "ours" else theirs.run(command)
                    results[key][side].append(run)
                    print(
                        f"  {side:6} {command:10} wall {run['wall']:7.3f} s  cpu "
                        f"{run['client']:6.2f} + pg {run['server']:5.2f} s  {run['reply']}"
                    )
        print(f"done: {stamp()}")
    finally:
        theirs.close()
        ours.close()

    header = (
        "ours",
        "theirs",
        "ours wall s",
        "ours cpu s",
        "theirs wall s",
        "theirs cpu s",
        "ratio wall",
        "ratio cpu",
        "target",
        "ok",
    )
    rows, passed = [], True
    for key, line, target, _, _ in PAIRS:
        o, t = results[key]["ours"], results[key]["theirs"]
        ow, tw = median_of(o, "wall"), median_of(t, "wall")
        oc = statistics.median(total_cpu(r) for r in o)
        tc = statistics.median(total_cpu(r) for r in t)
        ok = ow / tw <= target
        passed &= ok
        rows.append(
            (
                f"/{key} all",
                f"/stats {line}",
                f"{ow:.3f}",
                f"{oc:.2f}",
                f"{tw:.3f}",
                f"{tc:.2f}",
                f"{ow / tw:.2f}",
                f"{oc / tc:.2f}",
                f"<= {target:g}",
                "yes" if ok else "NO",
            )
        )
    widths = [max(len(str(row[i])) for row in (header, *rows)) for i in range(len(header))]
    print()
    for row in (header, tuple("-" * w for w in widths), *rows):
        print("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)))
    print(
        f"\nmedian of {args.repeat} interleaved rounds after a warm-up; cpu = bot process "
        "+ PostgreSQL server (backends of its database, parallel workers); "
        "ok: wall ratio <= target"
    )
    for key, line, _, what_ours, what_theirs in PAIRS:
        print(f"  /{key}: {what_ours}\n  /stats {line}: {what_theirs}")
    print(f"{psutil.cpu_count()} CPUs; {stamp()}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
