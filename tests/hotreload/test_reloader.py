"""The reloader task end to end: real files saved while it runs."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest
from structlog.testing import capture_logs
from tgstats.host.manager import PluginManager
from tgstats.hotreload.reloader import Reloader

from ..plugin_env import PluginEnv, wait_until


def value_of(manager: PluginManager, name: str) -> object:
    record = manager.get_plugin(name)
    if record is None or record.instance is None:
        return None
    return record.instance.value()  # type: ignore[attr-defined]


@pytest.fixture
async def running(started: PluginEnv) -> AsyncIterator[Any]:
    """Start a manager and its reloader on the env's plugins.yaml."""
    reloaders: list[Reloader] = []

    async def run(env: PluginEnv = started) -> tuple[PluginManager, Reloader]:
        manager = env.manager()
        await manager.start()
        reloader = Reloader(manager)
        reloaders.append(reloader)
        await reloader.start()
        return manager, reloader

    yield run
    for reloader in reloaders:
        await reloader.stop()


def events(logs: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [e for e in logs if e["event"] == name]


async def test_save_reloads_with_exact_log_events(started, running) -> None:
    env = started
    a, b = env.new_plugin("a"), env.new_plugin("b")
    a.write("plugin.yaml", "greeting: hi\n")
    env.write_config({a.name: True, b.name: True})
    with capture_logs() as logs:
        manager, _reloader = await running()
        old_b = manager.get_plugin(b.name).instance
        (started_event,) = events(logs, "hot_reload_started")
        assert started_event["backend"] == "poll"
        assert started_event["interval"] == 0.05
        assert started_event["files"] == 4  # 2 x __init__.py, a's plugin.yaml, plugins.yaml
        a.write_code(value=2)
        a.write("plugin.yaml", "greeting: hey\n")
        await wait_until(lambda: value_of(manager, a.name) == 2)
        await wait_until(lambda: bool(events(logs, "plugins_reloaded")))
    (changed,) = events(logs, "plugin_files_changed")
    assert changed["count"] == 2
    assert changed["files"] == ["__init__.py", "plugin.yaml"]
    (reloading,) = events(logs, "reloading_plugins")
    assert reloading["plugins"] == [a.name]
    (done,) = events(logs, "plugins_reloaded")
    assert done["count"] == 1 and done["plugins"] == [a.name]
    assert isinstance(done["duration_ms"], float)
    loaded = [e for e in events(logs, "plugin_config_loaded") if e["plugin"] == a.name]
    # Once at start and once on reload, for each config file read.
    assert [e["path"] for e in loaded].count(str(a.pkg_dir / "plugin.yaml")) == 2
    assert manager.get_plugin(b.name).instance is old_b
    assert manager.get_plugin(a.name).instance.config.greeting == "hey"


async def test_burst_of_saves_is_one_reload(started, running) -> None:
    env = started
    a = env.new_plugin("a")
    env.write_config({a.name: True}, reload_check_interval=0.02, reload_debounce=0.3)
    manager, reloader = await running()
    swaps_before = len(env.swaps)
    for value in range(10, 20):  # auto-save: 10 saves, 30 ms apart
        a.write_code(value=value)
        await asyncio.sleep(0.03)
    await wait_until(lambda: value_of(manager, a.name) == 19)
    await asyncio.sleep(0.3)
    assert reloader.reloads == 1
    assert len(env.swaps) == swaps_before + 1


async def test_syntax_error_keeps_old_and_next_save_loads(started, running) -> None:
    env = started
    a = env.new_plugin("a", value=1)
    env.write_config({a.name: True})
    with capture_logs() as logs:
        manager, _reloader = await running()
        a.write("__init__.py", a.source(value=2) + "\nclass Broken(\n")
        await wait_until(lambda: bool(events(logs, "plugin_reload_failed")))
        assert value_of(manager, a.name) == 1
        (failed,) = events(logs, "plugin_reload_failed")
        assert failed["plugin"] == a.name
        assert failed["file"].endswith("__init__.py")
        assert isinstance(failed["line"], int)
        assert failed["error"]
        assert env.failures[-1].name == a.name
        a.write_code(value=3)
        await wait_until(lambda: value_of(manager, a.name) == 3)


async def test_plugins_yaml_edit_disables_and_reenables(started, running) -> None:
    env = started
    a, b = env.new_plugin("a"), env.new_plugin("b")
    env.write_config({a.name: True, b.name: True})
    manager, reloader = await running()
    old_b = manager.get_plugin(b.name).instance
    env.write_config({a.name: False, b.name: True})
    await wait_until(lambda: manager.get_plugin(a.name).state == "disabled")
    assert [(c.name, c.new) for c in env.swaps[-1]] == [(a.name, None)]
    assert manager.get_plugin(b.name).instance is old_b
    # A disabled plugin's files are no longer watched.
    await wait_until(lambda: all(a.pkg_dir not in p.parents for p in reloader.watcher.paths()))
    env.config.write_text("settings: [broken\n")
    await wait_until(lambda: bool(env.failures))
    assert env.failures[-1].name == "plugins.yaml"
    env.write_config({a.name: True, b.name: True})
    await wait_until(lambda: manager.get_plugin(a.name).state == "loaded")
    assert manager.get_plugin(b.name).instance is old_b


async def test_installed_and_uninstalled_while_running(started, running) -> None:
    env = started
    a = env.new_plugin("a")
    late = env.new_plugin("late", value="late", install=False)
    env.write_config({a.name: True, late.name: True})
    manager, reloader = await running()
    assert manager.get_plugin(late.name) is None
    env.install(late, pth=True)  # dist-info + a .pth only `site` would read
    await wait_until(lambda: value_of(manager, late.name) == "late")
    assert str(late.pkg_dir.parent) in sys.path  # the .pth was replayed
    # Its files are watched as soon as the round that loaded it has finished.
    await wait_until(lambda: late.init in reloader.watcher.paths())
    late.write_code(value="edited")
    await wait_until(lambda: value_of(manager, late.name) == "edited")
    env.uninstall(late)
    await wait_until(lambda: manager.get_plugin(late.name) is None)
    assert [(c.name, c.new) for c in env.swaps[-1]] == [(late.name, None)]
    assert late.package not in sys.modules


async def test_native_backend_end_to_end(started, running) -> None:
    env = started
    a = env.new_plugin("a")
    env.write_config({a.name: True}, watcher="native", reload_debounce=0.02)
    manager, reloader = await running()
    assert reloader.watcher.backend == "native"
    await asyncio.sleep(0.2)
    a.write_code(value=42)
    await wait_until(lambda: value_of(manager, a.name) == 42, timeout=3)


async def test_hot_reload_false_starts_no_watcher(started) -> None:
    env = started
    a = env.new_plugin("a")
    env.write_config({a.name: True}, hot_reload=False)
    manager = env.manager()
    await manager.start()
    reloader = Reloader(manager)
    tasks_before = set(asyncio.all_tasks())
    assert await reloader.start() is False
    assert reloader.watcher is None and not reloader.running
    assert set(asyncio.all_tasks()) == tasks_before


async def test_idle_ticks_log_nothing_at_info(started, running) -> None:
    env = started
    a = env.new_plugin("a")
    env.write_config({a.name: True}, reload_check_interval=0.01)
    with capture_logs() as logs:
        await running()
        await asyncio.sleep(0.3)  # ~30 ticks
    info = [e for e in logs if e["log_level"] in ("info", "warning", "error")]
    assert [e["event"] for e in info if e["event"] != "plugin_config_loaded"] == [
        "hot_reload_started"
    ]


async def test_native_failure_falls_back_to_polling(started, running) -> None:
    env = started
    a = env.new_plugin("a")
    env.write_config({a.name: True}, watcher="auto")
    with capture_logs() as logs:
        manager, reloader = await running()
        reloader._native_failed(OSError(28, "inotify watch limit reached"))
        await wait_until(
            lambda: reloader.watcher is not None and reloader.watcher.backend == "poll"
        )
        a.write_code(value=7)
        await wait_until(lambda: value_of(manager, a.name) == 7)
    assert events(logs, "watcher_fallback")[0]["backend"] == "poll"
    assert [e["backend"] for e in events(logs, "hot_reload_started")][-1] == "poll"


async def test_watch_patterns_change_in_plugins_yaml_applies(started, running) -> None:
    env = started
    a = env.new_plugin("a")
    notes = a.write("notes.txt", "v1\n")
    env.write_config({a.name: True})
    manager, reloader = await running()
    assert notes not in reloader.watcher.paths()
    env.write_config({a.name: True}, watch_patterns=["*.py", "*.txt"], reload_check_interval=0.03)
    await wait_until(lambda: notes in reloader.watcher.paths())
    assert reloader.watcher.interval == 0.03
    old = manager.get_plugin(a.name).instance
    notes.write_text("v2 longer\n")
    await wait_until(lambda: manager.get_plugin(a.name).instance is not old)


async def test_burst_across_a_poll_tick_is_still_one_reload(started, running) -> None:
    env = started
    a = env.new_plugin("a")
    env.write_config({a.name: True}, reload_check_interval=0.6, reload_debounce=0.15)
    manager, reloader = await running()
    a.write_code(value=2)
    await wait_until(lambda: bool(reloader._pending))  # a tick saw the first save
    a.write_code(value=3)  # within the debounce window, long before the next tick
    await wait_until(lambda: reloader.reloads == 1, timeout=0.5)
    assert value_of(manager, a.name) == 3
    await asyncio.sleep(0.7)  # the next regular tick finds nothing new
    assert reloader.reloads == 1
