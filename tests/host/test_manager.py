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
    # Reported as the configuration file it is, not as a plugin.
    assert report.failed == () and not report.ok
    problem = report.config_problem
    assert problem is not None and problem is manager.config_problem
    assert problem.name == "plugins.yaml"
    assert problem.path == str(env.config) and problem.line == 2
    assert problem.text.startswith(f"{env.config}:2: settings.reload_check_interval: ")
    assert manager.get_plugin("plugins.yaml") is None
    assert manager.host_config is previous
    assert manager.get_plugin(a.name).instance is old
    assert env.failures[-1] is problem
    # Fixed: the problem is gone and the admins hear so.
    env.write_config({a.name: True})
    report = await manager.reload([], config_changed=True)
    assert report.ok and manager.config_problem is None
    assert env.recoveries[-1] is problem


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
    problem = report.config_problem
    assert problem is not None and report.failed == ()
    lines = [
        f"{env.config}:2: settings.reload_check_interval: expected a number > 0, found -3 (int)",
        f"{env.config}:3: settings.watcher: expected one of 'poll', 'native', 'auto', "
        "found 'x' (str)",
    ]
    assert problem.text.splitlines()[1:] == lines
    (event,) = [e for e in logs if e["event"] == "config_reload_failed"]
    assert event["problems"] == lines and event["line"] == 2
    assert env.failures[-1] is problem  # what the admins are told
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


# -- commands: one owner each -------------------------------------------------


def decorator_line(plugin) -> int:
    lines = plugin.init.read_text().splitlines()
    return next(n for n, text in enumerate(lines, 1) if text.lstrip().startswith("@command("))


async def test_two_plugins_declaring_one_command_the_first_by_name_keeps_it(started) -> None:
    env = started
    # beta's setup would raise: the clash is found before setup runs.
    alpha = env.new_plugin("alpha", command="count")
    beta = env.new_plugin("beta", command="count")
    beta.write_code(setup="raise RuntimeError('setup ran')", command="count")
    env.write_config({alpha.name: True, beta.name: True})
    manager = env.manager()
    report = await manager.start()
    assert report.reloaded == (alpha.name,)
    (failure,) = report.failed
    assert failure.name == beta.name
    assert failure.reason == (
        f"command /count of plugin {beta.name!r} is already taken by plugin {alpha.name!r}"
    )
    assert failure.error_file == str(beta.init) and failure.error_line == decorator_line(beta)
    record = manager.get_plugin(beta.name)
    assert record.state == "failed" and record.instance is None
    assert record.status() == f"failed: {failure.reason}"
    assert manager.claims().owners["count"] == alpha.name
    assert [c.name for c in env.swaps[0]] == [alpha.name]


async def test_a_plugin_declaring_a_host_command_fails(started) -> None:
    env = started
    thief = env.new_plugin("thief", command="optout")
    env.write_config({thief.name: True})
    manager = env.manager()
    report = await manager.start()
    assert [r.reason for r in report.failed] == [
        f"command /optout of plugin {thief.name!r} is already taken by the host"
    ]
    assert manager.get_plugin(thief.name).state == "failed"
    assert manager.claims().owners["optout"] is None


async def test_renaming_a_command_frees_it_for_the_refused_plugin(started) -> None:
    env = started
    alpha = env.new_plugin("alpha", command="count")
    beta = env.new_plugin("beta", command="count", value="beta")
    env.write_config({alpha.name: True, beta.name: True})
    manager = env.manager()
    await manager.start()
    assert manager.get_plugin(beta.name).state == "failed"
    alpha.write_code(command="tally")
    report = await manager.reload([alpha.name])
    # beta was not edited: it is retried in the same call, right after the swap.
    assert report.reloaded == (alpha.name, beta.name) and report.ok
    assert value_of(manager, beta.name) == "beta"
    owners = manager.claims().owners
    assert owners["tally"] == alpha.name and owners["count"] == beta.name
    assert [r.name for r in env.recoveries] == [beta.name]
    assert env.failures == []


async def test_unloading_the_owner_frees_its_commands(started) -> None:
    env = started
    alpha = env.new_plugin("alpha", command="count")
    beta = env.new_plugin("beta", command="count", value="beta")
    env.write_config({alpha.name: True, beta.name: True})
    manager = env.manager()
    await manager.start()
    env.write_config({alpha.name: False, beta.name: True})
    report = await manager.reload([], config_changed=True)
    assert report.unloaded == (alpha.name,) and report.reloaded == (beta.name,)
    assert manager.claims().owners["count"] == beta.name


async def test_a_reload_taking_a_served_command_keeps_the_old_version(started) -> None:
    env = started
    alpha = env.new_plugin("alpha", command="count")
    beta = env.new_plugin("beta", command="stats")
    env.write_config({alpha.name: True, beta.name: True})
    manager = env.manager()
    await manager.start()
    old_beta = manager.get_plugin(beta.name).instance
    beta.write_code(value=2, command="count")
    report = await manager.reload([beta.name])
    (failure,) = report.failed
    reason = f"command /count of plugin {beta.name!r} is already taken by plugin {alpha.name!r}"
    assert failure.reason == reason
    record = manager.get_plugin(beta.name)
    assert record.instance is old_beta and value_of(manager, beta.name) == 1
    assert record.status() == (
        f"loaded; the last reload failed: {beta.init}:{decorator_line(beta)} {reason} "
        "(serving the previous version)"
    )
    assert manager.claims().owners["stats"] == beta.name
    assert env.failures[-1].name == beta.name
    # Once alpha lets go of /count, beta's new version takes it: no edit of beta needed.
    alpha.write_code(command="tally")
    report = await manager.reload([alpha.name])
    assert report.reloaded == (alpha.name, beta.name)
    assert value_of(manager, beta.name) == 2
    assert manager.get_plugin(beta.name).reload_failure is None
    assert manager.claims().is_free("stats")
    assert [r.name for r in env.recoveries] == [beta.name]


async def test_a_failed_reload_shows_until_the_next_clean_one(started) -> None:
    env = started
    a = env.new_plugin("a")
    env.write_config({a.name: True})
    manager = env.manager()
    await manager.start()
    assert manager.get_plugin(a.name).status() == "loaded"
    a.write("__init__.py", a.source(value=2) + "\ndef broken(:\n")
    await manager.reload([a.name])
    record = manager.get_plugin(a.name)
    failure = record.reload_failure
    assert failure is not None and failure.file == str(a.init)
    assert failure.line == a.init.read_text().count("\n")
    assert record.status() == (
        f"loaded; the last reload failed: {a.init}:{failure.line} {failure.reason} "
        "(serving the previous version)"
    )
    assert record.to_dict()["last_reload_failure"]["line"] == failure.line
    assert env.recoveries == []
    a.write_code(value=3)
    await manager.reload([a.name])
    record = manager.get_plugin(a.name)
    assert record.status() == "loaded" and value_of(manager, a.name) == 3
    assert env.recoveries == [record]
    # A clean reload of a plugin that was fine tells nobody anything.
    a.write_code(value=4)
    await manager.reload([a.name])
    assert len(env.recoveries) == 1
