"""PluginRecord.status: exactly one of four conditions; a config problem is no plugin."""

from __future__ import annotations

from tgstats.host.records import ConfigProblem, PluginRecord, ReloadFailure


def test_each_state_reads_as_one_of_four() -> None:
    loaded = PluginRecord(name="a", state="loaded", enabled=True)
    assert loaded.status() == "loaded"
    loaded.reload_failure = ReloadFailure("syntax error: invalid syntax", "/src/a.py", 3)
    assert loaded.status() == (
        "loaded; the last reload failed: /src/a.py:3 syntax error: invalid syntax "
        "(serving the previous version)"
    )
    loaded.reload_failure = ReloadFailure("setup raised OSError", None, None)
    assert loaded.status().startswith("loaded; the last reload failed: unknown file setup")
    assert PluginRecord(name="b", state="disabled", enabled=False).status() == "disabled"
    failed = PluginRecord.failed("c", None, "command /x of plugin 'c' is already taken by the host")
    assert failed.status() == "failed: command /x of plugin 'c' is already taken by the host"
    assert failed.to_dict()["last_reload_failure"] is None


def test_a_config_problem_is_named_after_its_file() -> None:
    problem = ConfigProblem(path="/etc/tgstats/plugins.yaml", line=4, text="/etc/x:4: bad")
    assert problem.name == "plugins.yaml"
    assert problem.status() == (
        "the last reload failed: /etc/x:4: bad (serving the previous configuration)"
    )
