"""No leaks: old instances, modules and hosts are collectable after reloads."""

from __future__ import annotations

import gc
import sys
import weakref

import psutil


async def test_repeated_reloads_free_old_versions(started) -> None:
    env = started
    a = env.new_plugin("a")
    a.write("helper.py", "DATA = list(range(1000))\n")
    a.write_code(setup="self.task = self.host.create_task(__import__('asyncio').sleep(3600))")
    env.write_config({a.name: True})
    manager = env.manager()
    await manager.start()
    env.swaps.clear()  # the test's own record of swaps would keep old records alive

    first = manager.get_plugin(a.name)
    refs = [
        weakref.ref(first.instance),
        weakref.ref(first.plugin_cls),
        weakref.ref(first.plugin_cls.Config),  # held by typing's cache unless cleared
        weakref.ref(sys.modules[a.package]),
        weakref.ref(first.instance.host),
    ]
    del first
    process = psutil.Process()

    async def cycle(count: int) -> None:
        for _ in range(count):
            report = await manager.reload([a.name])
            assert report.ok
            env.swaps.clear()

    await cycle(20)  # warm-up: caches (linecache, typing) reach their steady size
    gc.collect()
    rss_before = process.memory_info().rss
    await cycle(200)
    gc.collect()
    rss_after = process.memory_info().rss

    assert [ref() for ref in refs] == [None] * len(refs)
    growth_mb = (rss_after - rss_before) / 2**20
    assert growth_mb < 15, f"RSS grew {growth_mb:.1f} MB over 200 reloads"
    # Exactly one live task: the current instance's.
    assert len(manager._hosts[a.name].tasks) == 1
