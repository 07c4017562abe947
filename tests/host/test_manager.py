"""PluginManager: staged reloads, selectivity, config changes, rollback."""

from __future__ import annotations

import asyncio
import os
import sys

from structlog.testing import capture_logs
from tgstats.host.manager import PluginManager


def value_of(manager: PluginManager, name: str) -> object:
    record = manager.get_plugin(name)
    assert record is not None and record.instance is not None, record
    return record.instance.value()  # type: ignore[attr-defined]


async def test_start_loads_enabled_and_reports_swap(started) -> None:
    env = started
    a, b, off = env.new_plugin("a"), env.new_plugin("b"), env.new_plugin("off")
    env.write_config({a.name: True, b.name: True, off.name: False})
    manager = env.manager()
    report = await manager.start()
    assert sorted(report.reloaded) == sorted([a.name, b.name])
    assert report.ok
    states = {
        r.name: r.state for r in manager.list_plugins() if r.name in (a.name, b.name, off.name)
    }
    assert states == {a.name: "loaded", b.name: "loaded", off.name: "disabled"}
    # One swap at start, with every loaded plugin as new.
    assert len(env.swaps) == 1
    assert {(c.name, c.old, c.new is not None) for c in env.swaps[0]} == {
        (a.name, None, True),
        (b.name, None, True),
    }


async def test_selective_reload_replaces_only_that_plugin(started) -> None:
    env = started
    a, b = env.new_plugin("a"), env.new_plugin("b")
    env.write_config({a.name: True, b.name: True})
    manager = env.manager()
    await manager.start()
    old_a, old_b = manager.get_plugin(a.name).instance, manager.get_plugin(b.name).instance
    a.write_code(value=2)
    report = await manager.reload([a.name])
    assert report.reloaded == (a.name,)
    assert value_of(manager, a.name) == 2
    assert manager.get_plugin(a.name).instance is not old_a
    assert manager.get_plugin(b.name).instance is old_b
    change = env.swaps[-1]
    assert [(c.name, c.old.instance is old_a, c.new.instance is not old_a) for c in change] == [
        (a.name, True, True)
    ]


async def test_same_second_same_size_edit_loads_new_code(started, monkeypatch) -> None:
    # Bytecode writing on, as on a deployed bot (this machine's environment
    # sets PYTHONDONTWRITEBYTECODE, which would hide the stale-.pyc problem).
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    env = started
    a = env.new_plugin("a", value=1)
    env.write_config({a.name: True})
    manager = env.manager()
    await manager.start()
    before = os.stat(a.init)
    a.write_code(value=2)  # same length as value=1
    os.utime(a.init, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = os.stat(a.init)
    assert (after.st_mtime_ns, after.st_size) == (before.st_mtime_ns, before.st_size)
    await manager.reload([a.name])
    assert value_of(manager, a.name) == 2
    # No bytecode is written for plugin modules at all.
    assert not (a.pkg_dir / "__pycache__").exists()


async def test_submodule_edit_and_host_modules_untouched(started) -> None:
    env = started
    a = env.new_plugin("a")
    a.write("helper.py", "X = 'one'\n")
    a.write(
        "__init__.py",
        a.source(value=0).replace("VALUE = 0", "from .helper import X as VALUE"),
    )
    env.write_config({a.name: True})
    manager = env.manager()
    await manager.start()
    assert value_of(manager, a.name) == "one"
    host_module = sys.modules["tgstats.plugins._api"]
    yaml_module = sys.modules["yaml"]
    a.write("helper.py", "X = 'two'\n")
    await manager.reload([a.name])
    assert value_of(manager, a.name) == "two"
    assert sys.modules["tgstats.plugins._api"] is host_module
    assert sys.modules["yaml"] is yaml_module


async def test_syntax_error_rolls_back_and_next_save_loads(started) -> None:
    env = started
    a = env.new_plugin("a", value=1)
    env.write_config({a.name: True})
    manager = env.manager()
    await manager.start()
    old = manager.get_plugin(a.name).instance
    old_module = sys.modules[a.package]
    a.write_code(value=2)
    with a.init.open("a") as f:
        f.write("\ndef broken(:\n")
    report = await manager.reload([a.name])
    assert not report.ok
    (failure,) = report.failed
    assert failure.name == a.name
    assert failure.error_file is not None and failure.error_file.endswith("__init__.py")
    assert failure.error_line == a.init.read_text().count("\n")
    # The old version keeps serving, with its modules back in place.
    assert manager.get_plugin(a.name).instance is old
    assert manager.get_plugin(a.name).state == "loaded"
    assert sys.modules[a.package] is old_module
    assert value_of(manager, a.name) == 1
    assert env.failures and env.failures[-1].name == a.name
    # The next good save loads.
    a.write_code(value=3)
    report = await manager.reload([a.name])
    assert report.ok and value_of(manager, a.name) == 3


async def test_bad_plugin_yaml_rolls_back_with_file_and_line(started) -> None:
    env = started
    a = env.new_plugin("a")
    a.write("plugin.yaml", "greeting: hi\n")
    env.write_config({a.name: True})
    manager = env.manager()
    await manager.start()
    old = manager.get_plugin(a.name).instance
    assert old.config.greeting == "hi"
    a.write("plugin.yaml", "# comment\ngreeting: [not, a, string]\n")
    report = await manager.reload([a.name])
    (failure,) = report.failed
    assert failure.error_file is not None and failure.error_file.endswith("plugin.yaml")
    assert failure.error_line == 2
    assert manager.get_plugin(a.name).instance is old
    a.write("plugin.yaml", "greeting: hey\n")
    report = await manager.reload([a.name])
    assert report.ok
    assert manager.get_plugin(a.name).instance.config.greeting == "hey"


async def test_exception_in_setup_rolls_back(started) -> None:
    env = started
    a = env.new_plugin("a")
    env.write_config({a.name: True})
    manager = env.manager()
    await manager.start()
    old = manager.get_plugin(a.name).instance
    a.write_code(value=2, setup="raise RuntimeError('no database')")
    report = await manager.reload([a.name])
    (failure,) = report.failed
    assert "no database" in failure.reason
    assert failure.error_file.endswith("__init__.py")
    assert manager.get_plugin(a.name).instance is old
    assert value_of(manager, a.name) == 1


async def test_failed_at_start_is_a_record_and_loads_once_fixed(started) -> None:
    env = started
    a, b = env.new_plugin("a"), env.new_plugin("b")
    a.write("__init__.py", "this is not python\n")
    env.write_config({a.name: True, b.name: True})
    manager = env.manager()
    report = await manager.start()
    assert [r.name for r in report.failed] == [a.name]
    assert manager.get_plugin(a.name).state == "failed"
    assert manager.get_plugin(b.name).state == "loaded"
    a.write_code(value=5)
    report = await manager.reload([a.name])
    assert report.reloaded == (a.name,)
    assert value_of(manager, a.name) == 5
    assert [(c.name, c.old) for c in env.swaps[-1]] == [(a.name, None)]


async def test_config_change_touches_only_changed_plugin(started) -> None:
    env = started
    a, b = env.new_plugin("a"), env.new_plugin("b")
    env.write_config({a.name: True, b.name: True})
    manager = env.manager()
    await manager.start()
    old_a, old_b = manager.get_plugin(a.name).instance, manager.get_plugin(b.name).instance
    env.write_config({a.name: {"enabled": True, "config": {"greeting": "salut"}}, b.name: True})
    report = await manager.reload([], config_changed=True)
    assert report.reloaded == (a.name,)
    assert manager.get_plugin(a.name).instance.config.greeting == "salut"
    assert manager.get_plugin(a.name).instance is not old_a
    assert manager.get_plugin(b.name).instance is old_b
    # Only a settings change: nobody is touched.
    env.write_config(
        {a.name: {"enabled": True, "config": {"greeting": "salut"}}, b.name: True},
        reload_check_interval=0.5,
    )
    report = await manager.reload([], config_changed=True)
    assert report.reloaded == () and report.unloaded == ()
    assert manager.host_config.settings.reload_check_interval == 0.5


async def test_disabling_unloads_and_swap_gets_none(started) -> None:
    env = started
    a, b = env.new_plugin("a"), env.new_plugin("b")
    env.write_config({a.name: True, b.name: True})
    manager = env.manager()
    await manager.start()
    shut: list[str] = []
    instance = manager.get_plugin(a.name).instance

    async def shutdown() -> None:
        shut.append(a.name)

    instance.shutdown = shutdown
    env.write_config({a.name: False, b.name: True})
    report = await manager.reload([], config_changed=True)
    assert report.unloaded == (a.name,)
    assert [(c.name, c.new) for c in env.swaps[-1]] == [(a.name, None)]
    assert env.swaps[-1][0].old.instance is instance
    assert shut == [a.name]
    assert manager.get_plugin(a.name).state == "disabled"
    assert a.package not in sys.modules
    # Enabling it again loads it.
    env.write_config({a.name: True, b.name: True})
    report = await manager.reload([], config_changed=True)
    assert report.reloaded == (a.name,)


async def test_invalid_plugins_yaml_keeps_previous_config(started) -> None:
    env = started
    a = env.new_plugin("a")
    env.write_config({a.name: True})
    manager = env.manager()
    await manager.start()
    previous = manager.host_config
    old = manager.get_plugin(a.name).instance
    env.config.write_text("settings:\n  reload_check_interval: -3\nplugins: {}\n")
    report = await manager.reload([], config_changed=True)
    (failure,) = report.failed
    assert failure.name == "plugins.yaml"
    assert failure.error_file == str(env.config) and failure.error_line == 2
    assert manager.host_config is previous
    assert manager.get_plugin(a.name).instance is old
    assert env.failures[-1].name == "plugins.yaml"


async def test_reload_with_several_plugins_yaml_mistakes_reports_them_all(started) -> None:
    env = started
    a = env.new_plugin("a")
    env.write_config({a.name: True})
    manager = env.manager()
    await manager.start()
    old = manager.get_plugin(a.name).instance
    env.config.write_text("settings:\n  reload_check_interval: -3\n  watcher: x\nplugins: {}\n")
    with capture_logs() as logs:
        report = await manager.reload([], config_changed=True)
    (failure,) = report.failed
    lines = [
        f"{env.config}:2: settings.reload_check_interval: expected a number > 0, found -3 (int)",
        f"{env.config}:3: settings.watcher: expected one of 'poll', 'native', 'auto', "
        "found 'x' (str)",
    ]
    assert failure.problems == tuple(lines)
    assert failure.reason.endswith("(and 1 more)")
    (event,) = [e for e in logs if e["event"] == "plugin_reload_failed"]
    assert event["problems"] == lines and event["line"] == 2
    assert env.failures[-1].problems == tuple(lines)  # what the admins are told
    assert manager.get_plugin(a.name).instance is old


async def test_reload_with_several_plugin_yaml_mistakes_reports_them_all(started) -> None:
    env = started
    a = env.new_plugin("a")
    env.write_config({a.name: True})
    manager = env.manager()
    await manager.start()
    old = manager.get_plugin(a.name).instance
    plugin_yaml = a.write("plugin.yaml", "greeting: 3\ngreting: hi\n")
    with capture_logs() as logs:
        report = await manager.reload([a.name])
    (failure,) = report.failed
    lines = (
        f"{plugin_yaml.resolve()}:1: greeting: expected a string, found 3 (int)",
        f"{plugin_yaml.resolve()}:2: greting: expected one of the keys greeting, found "
        "unknown key 'greting' (did you mean 'greeting'?)",
    )
    assert failure.problems == lines
    assert (failure.error_file, failure.error_line) == (str(plugin_yaml.resolve()), 1)
    (event,) = [e for e in logs if e["event"] == "plugin_reload_failed"]
    assert event["problems"] == list(lines)
    assert manager.get_plugin(a.name).instance is old  # the old version keeps serving


async def test_hook_timeout_fails_a_hanging_setup_at_its_line(started) -> None:
    env = started
    slow, quick = env.new_plugin("slow"), env.new_plugin("quick")
    slow.write_code(setup="import asyncio; await asyncio.sleep(3600)")
    env.write_config({slow.name: True, quick.name: True})
    manager = env.manager(hook_timeout=0.2)
    report = await manager.start()
    assert report.reloaded == (quick.name,)
    record = manager.get_plugin(slow.name)
    assert record.state == "failed"
    assert record.reason == "setup() did not finish within 0.2 s"
    assert record.error_file == str(slow.init.resolve())
    assert "asyncio.sleep(3600)" in slow.init.read_text().splitlines()[record.error_line - 1]


async def test_stop_returns_the_plugins_whose_shutdown_failed(started) -> None:
    env = started
    bad, good = env.new_plugin("bad"), env.new_plugin("good")
    bad.write("__init__.py", bad.source() + "\n    async def shutdown(self):\n        1 / 0\n")
    env.write_config({bad.name: True, good.name: True})
    manager = env.manager()
    await manager.start()
    (failed,) = await manager.stop()
    assert failed.name == bad.name and failed.state == "failed"
    assert failed.reason == "shutdown raised ZeroDivisionError: division by zero"
    lines = bad.init.read_text().splitlines()
    assert failed.error_file == str(bad.init.resolve())
    assert lines[failed.error_line - 1].strip() == "1 / 0"


async def test_reloads_are_serialised(started) -> None:
    env = started
    a = env.new_plugin("a")
    env.write_config({a.name: True})
    manager = env.manager()
    await manager.start()
    a.write_code(value=2)
    reports = await asyncio.gather(*(manager.reload([a.name]) for _ in range(5)))
    assert all(r.ok for r in reports)
    assert value_of(manager, a.name) == 2
    assert len(env.swaps) == 1 + 5


async def test_host_tasks_cancelled_on_reload_and_stop(started) -> None:
    env = started
    a = env.new_plugin("a")
    a.write_code(setup="self.task = self.host.create_task(__import__('asyncio').sleep(3600))")
    env.write_config({a.name: True})
    manager = env.manager()
    await manager.start()
    first = manager.get_plugin(a.name).instance.task
    await manager.reload([a.name])
    assert first.cancelled()
    second = manager.get_plugin(a.name).instance.task
    assert not second.done()
    await manager.stop()
    assert second.cancelled()


async def test_manual_reload_all_runs_every_plugin(started) -> None:
    env = started
    a, b = env.new_plugin("a"), env.new_plugin("b")
    env.write_config({a.name: True, b.name: True})
    manager = env.manager()
    await manager.start()
    report = await manager.reload_all()
    assert sorted(report.reloaded) == sorted([a.name, b.name])
