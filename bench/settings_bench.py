"""Benchmark: what per-chat settings cost a command.

Run by hand (not part of the test suite)::

    python bench/settings_bench.py                  # 200,000 messages in a temp dir
    python bench/settings_bench.py --messages 1000000

Two questions:

1. The excluded-members filter: ``/heatmap all`` and ``/engagement all`` on
   the synthetic chat of ``analytics_bench.py`` with nobody excluded, with the
   most active member excluded, and with 20 members excluded.
2. The settings lookup every command and press makes: a cached read of the
   chat's stored settings plus the layering (``ChatSettingsService.effective``),
   and an uncached read (what every fifth second costs a busy chat).

"cpu s" is process CPU time (all threads), the number to compare when other
work shares the machine; "median s" is wall-clock time.  The load average is
printed with the table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).parent))

import analytics_bench as ab
from tgstats.store import open_store


def timed(fn: Any, repeat: int) -> tuple[float, float]:
    fn()  # warm-up
    wall, cpu = [], []
    for _ in range(repeat):
        started, cpu_started = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    return statistics.median(wall), statistics.median(cpu)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'bench.db'}")
        took = ab.generate(store, args.messages)
        print(f"{args.messages:,} messages generated in {took:.1f} s")
        queries = store.queries
        activity = queries.user_activity(ab.CHAT_ID, tz=ZoneInfo("UTC"))
        by_messages = [a.user.user_id for a in activity]
        plugins = {key: ab.load_plugin(key, queries) for key in ("heatmap", "engagement")}
        rows = []
        for label, excluded in (
            ("nobody excluded", []),
            ("top member excluded", by_messages[:1]),
            ("20 members excluded", by_messages[:20]),
        ):
            for uid in excluded:
                store.settings.exclude(ab.CHAT_ID, uid, by=None)
            counted = queries.count_messages(ab.CHAT_ID)
            for key, plugin in plugins.items():
                wall, cpu = timed(lambda p=plugin, k=key: ab.run_once(p, k, queries), args.repeat)
                rows.append((f"/{key} all", label, counted, wall, cpu))
            for uid in excluded:
                store.settings.include(ab.CHAT_ID, uid)
        print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(f"{'command':<18} {'exclusions':<22} {'counted':>9} {'median s':>9} {'cpu s':>7}")
        for command, label, counted, wall, cpu in rows:
            print(f"{command:<18} {label:<22} {counted:>9,} {wall:>9.3f} {cpu:>7.3f}")

        from tgstats.host.chat_settings import ChatSettingsService, option_key

        store.settings.set_value(ab.CHAT_ID, "timezone", "Asia/Tokyo", by=1)
        store.settings.set_value(ab.CHAT_ID, option_key("engagement_scores", "top_n"), 5, by=1)

        class _Record:  # what the manager hands the service: the loaded plugin
            name = "engagement_scores"
            instance = plugins["engagement"]
            plugin_cls = type(plugins["engagement"])
            config = None

        service = ChatSettingsService(store.settings, lambda _name: _Record())  # type: ignore[arg-type,return-value]
        n = 20_000
        started = time.perf_counter()
        for _ in range(n):
            service.effective(ab.CHAT_ID, "engagement_scores")
        cached = (time.perf_counter() - started) / n
        started = time.perf_counter()
        for _ in range(2_000):
            store.settings.forget(ab.CHAT_ID)
            store.settings.load(ab.CHAT_ID)
        uncached = (time.perf_counter() - started) / 2_000
        print(f"settings for a command, cached (load + layering): {cached * 1e6:.1f} µs")
        print(f"settings read from SQLite (cache expired):          {uncached * 1e6:.1f} µs")
        print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
