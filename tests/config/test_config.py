"""plugins.yaml / plugin.yaml: parsing, typed validation, layering with origins, errors."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import attrs
import pytest
from tgstats.config import (
    DEFAULT_CONFIG_PATH,
    Origin,
    Settings,
    default_config_path,
    load_host_config,
    resolve_plugin_config,
)
from tgstats.errors import ConfigError, ConfigErrors


@attrs.frozen
class Look:
    colour: str = "red"
    size: int = 3


@attrs.frozen
class DemoConfig:
    days: int = attrs.field(default=30, validator=attrs.validators.gt(0))
    ratio: float = 0.5
    mode: Literal["fast", "slow"] = "fast"
    words: tuple[str, ...] = ("a", "b")
    limits: dict[str, int] = attrs.field(factory=lambda: {"chat": 10})
    look: Look = Look()
    font: Path | None = None
    note: str | None = None


# --------------------------------------------------------------------- host config


def test_packaged_default_matches_the_settings_defaults():
    config = load_host_config(DEFAULT_CONFIG_PATH)
    assert config.settings == Settings()
    assert {"heatmap_command", "word_cloud", "engagement_scores"} <= set(config.plugins)


def test_empty_file_means_all_defaults(write_config):
    config = load_host_config(write_config(""))
    assert config.settings == Settings()
    assert config.plugins == {}


def test_comments_only_file_means_all_defaults(write_config):
    assert load_host_config(write_config("# nothing yet\n")).settings == Settings()


def test_settings_are_parsed_and_typed(write_config):
    path = write_config(
        """\
        settings:
          hot_reload: false
          reload_check_interval: 1
          watch_patterns: ['*.py', '*.json']
          ignore_patterns: []
          watcher: native
          reload_debounce: 0.5
          load_unlisted_plugins: false
        plugins:
          a: {enabled: false}
          b:
            config: {days: 3}
          c:
        """
    )
    config = load_host_config(path)
    assert config.settings == Settings(
        hot_reload=False,
        reload_check_interval=1.0,
        watch_patterns=("*.py", "*.json"),
        ignore_patterns=(),
        watcher="native",
        reload_debounce=0.5,
        load_unlisted_plugins=False,
    )
    assert isinstance(config.settings.reload_check_interval, float)
    assert not config.is_enabled("a")
    assert config.is_enabled("b") and config.entry("b").config == {"days": 3}
    assert config.is_enabled("c") and config.entry("c").listed
    # allow-list: an unlisted plugin is off
    assert not config.is_enabled("zzz") and not config.entry("zzz").listed


def test_unlisted_plugins_load_by_default(write_config):
    config = load_host_config(write_config("plugins: {a: {enabled: false}}\n"))
    assert config.is_enabled("other")
    assert config.entry("other").listed is False
    assert config.entry("other").config == {}


def test_config_path_precedence(monkeypatch, tmp_path):
    monkeypatch.delenv("TGSTATS_PLUGINS_CONFIG", raising=False)
    assert default_config_path() == DEFAULT_CONFIG_PATH
    monkeypatch.setenv("TGSTATS_PLUGINS_CONFIG", str(tmp_path / "env.yaml"))
    assert default_config_path() == tmp_path / "env.yaml"
    assert default_config_path(tmp_path / "cli.yaml") == tmp_path / "cli.yaml"


# (yaml text, line, key, expected, found): every message must name all of them.
HOST_ERRORS = [
    pytest.param(
        "settings:\n  hot_reload: true\n  reload_check_interval: fast\n",
        3,
        "settings.reload_check_interval",
        "expected a number > 0",
        "found 'fast' (str)",
        id="not-a-number",
    ),
    pytest.param(
        "settings:\n  reload_check_interval: 0\n",
        2,
        "settings.reload_check_interval",
        "expected a number > 0",
        "found 0 (int)",
        id="interval-zero",
    ),
    pytest.param(
        "settings:\n\n  reload_debounce: -0.5\n",
        3,
        "settings.reload_debounce",
        "expected a number > 0",
        "found -0.5 (float)",
        id="debounce-negative",
    ),
    pytest.param(
        "settings:\n  reload_check_interval: true\n",
        2,
        "settings.reload_check_interval",
        "expected a number > 0",
        "found True (bool)",
        id="bool-is-not-a-number",
    ),
    pytest.param(
        "settings:\n  hot_reload: 1\n",
        2,
        "settings.hot_reload",
        "expected true or false",
        "found 1 (int)",
        id="int-is-not-a-bool",
    ),
    pytest.param(
        "settings:\n  watcher: inotify\n",
        2,
        "settings.watcher",
        "expected one of 'poll', 'native', 'auto'",
        "found 'inotify' (str)",
        id="bad-literal",
    ),
    pytest.param(
        "settings:\n  watch_patterns: '*.py'\n",
        2,
        "settings.watch_patterns",
        "expected a list of strings",
        "found '*.py' (str)",
        id="string-not-list",
    ),
    pytest.param(
        "settings:\n  watch_patterns:\n    - '*.py'\n    - 7\n",
        4,
        "settings.watch_patterns[1]",
        "expected a string",
        "found 7 (int)",
        id="bad-list-item",
    ),
    pytest.param(
        "settings:\n  reload_intervall: 2\n",
        2,
        "settings.reload_intervall",
        "did you mean 'reload_check_interval'",
        "found unknown key 'reload_intervall'",
        id="unknown-setting-did-you-mean",
    ),
    pytest.param(
        "setings:\n  hot_reload: true\n",
        1,
        "setings",
        "did you mean 'settings'",
        "found unknown key 'setings'",
        id="unknown-top-level-key",
    ),
    pytest.param(
        "settings: [1, 2]\n",
        1,
        "settings",
        "expected a mapping",
        "found a list [1, 2]",
        id="settings-not-mapping",
    ),
    pytest.param(
        "plugins:\n  heatmap_command:\n    enabled: yes please\n",
        3,
        "plugins.heatmap_command.enabled",
        "expected true or false",
        "found 'yes please' (str)",
        id="enabled-not-bool",
    ),
    pytest.param(
        "plugins:\n  heatmap_command:\n    enable: false\n",
        3,
        "plugins.heatmap_command.enable",
        "did you mean 'enabled'",
        "found unknown key 'enable'",
        id="plugin-entry-unknown-key",
    ),
    pytest.param(
        "plugins:\n  heatmap_command:\n    config: [days]\n",
        3,
        "plugins.heatmap_command.config",
        "expected a mapping",
        "found a list ['days']",
        id="plugin-config-not-mapping",
    ),
    pytest.param(
        "plugins:\n  heatmap_command: true\n",
        2,
        "plugins.heatmap_command",
        "expected a mapping with 'enabled' and 'config'",
        "found True (bool)",
        id="plugin-entry-not-mapping",
    ),
    pytest.param(
        "plugins: [heatmap_command]\n",
        1,
        "plugins",
        "expected a mapping of plugin names",
        "found a list ['heatmap_command']",
        id="plugins-not-mapping",
    ),
    pytest.param(
        "settings:\n  hot_reload: true\n  watcher: poll\n  hot_reload: false\n",
        4,
        "settings.hot_reload",
        "expected each key once per mapping",
        "found 'hot_reload' again (first on line 2)",
        id="duplicate-key",
    ),
]


@pytest.mark.parametrize(("text", "line", "key", "expected", "found"), HOST_ERRORS)
def test_host_config_errors_name_file_line_key_expected_found(
    write_config, text, line, key, expected, found
):
    path = write_config(text)
    with pytest.raises(ConfigError) as caught:
        load_host_config(path)
    error = caught.value
    message = str(error)
    assert message.startswith(f"{path}:{line}: {key}: "), message
    assert expected in message and found in message, message
    assert (error.path, error.line, error.key) == (path, line, key)


def test_example_message_from_the_issue(write_config):
    path = write_config("settings:\n  hot_reload: true\n\n\n\n\n  reload_check_interval: fast\n")
    with pytest.raises(ConfigError) as caught:
        load_host_config(path)
    assert str(caught.value) == (
        f"{path}:7: settings.reload_check_interval: expected a number > 0, found 'fast' (str)"
    )


def test_non_mapping_top_level(write_config):
    path = write_config("- settings\n- plugins\n")
    with pytest.raises(ConfigError) as caught:
        load_host_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:1: ")
    assert "expected a mapping" in message and "found a list" in message


def test_scalar_top_level(write_config):
    path = write_config("just words\n")
    with pytest.raises(ConfigError, match=r"found 'just words' \(str\)") as caught:
        load_host_config(path)
    assert caught.value.line == 1


def test_yaml_syntax_error_reports_its_line(write_config):
    path = write_config("settings:\n  hot_reload: true\n  watch_patterns: ['*.py'\nplugins: {}\n")
    with pytest.raises(ConfigError) as caught:
        load_host_config(path)
    error = caught.value
    assert error.path == path and error.line == 4
    assert "invalid YAML" in str(error) and str(error).startswith(f"{path}:4: ")


def test_tab_indentation_is_a_syntax_error_with_line(write_config):
    path = write_config("settings:\n\thot_reload: true\n")
    with pytest.raises(ConfigError, match="invalid YAML") as caught:
        load_host_config(path)
    assert caught.value.line == 2


def test_unsafe_tags_are_refused(write_config):
    path = write_config("settings: !!python/object/apply:os.system ['echo hi']\n")
    with pytest.raises(ConfigError, match="invalid YAML") as caught:
        load_host_config(path)
    assert caught.value.line == 1


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config file") as caught:
        load_host_config(tmp_path / "nope.yaml")
    assert caught.value.path == tmp_path / "nope.yaml"


def test_yaml_merge_keys_work(write_config):
    # Anchors are refused (see test_hostile_yaml); a merge of an inline mapping is fine.
    path = write_config(
        """\
        base: &base {hot_reload: false}
        """
    )
    with pytest.raises(ConfigError, match=":1: invalid YAML: YAML anchors and aliases"):
        load_host_config(path)
    path = write_config(
        """\
        settings:
          <<: {hot_reload: false, watcher: auto}
          watcher: native
        """
    )
    settings = load_host_config(path).settings
    assert settings.hot_reload is False and settings.watcher == "native"


# --------------------------------------------------------------------- plugin options


@pytest.fixture
def plugin_yaml(tmp_path: Path):
    def write(text: str) -> Path:
        folder = tmp_path / "pkg"
        folder.mkdir(exist_ok=True)
        path = folder / "plugin.yaml"
        path.write_text(text, encoding="utf-8")
        return path

    return write


def test_code_defaults_only(empty_host_config):
    resolved = resolve_plugin_config(
        "demo", DemoConfig, plugin_yaml=None, host_config=empty_host_config
    )
    assert resolved.value == DemoConfig()
    assert set(resolved.origins) == {
        "days",
        "ratio",
        "mode",
        "words",
        "limits.chat",
        "look.colour",
        "look.size",
        "font",
        "note",
    }
    assert all(o == Origin("code default") for o in resolved.origins.values())
    assert resolved.sources == (empty_host_config.path,)


def test_missing_plugin_yaml_is_fine(empty_host_config, tmp_path):
    resolved = resolve_plugin_config(
        "demo", DemoConfig, plugin_yaml=tmp_path / "absent.yaml", host_config=empty_host_config
    )
    assert resolved.value == DemoConfig()


def test_layering_code_default_then_plugin_yaml_then_plugins_yaml(plugin_yaml, write_config):
    pyaml = plugin_yaml(
        "# shipped defaults\n"
        "days: 7\n"
        "ratio: 2\n"
        "look:\n"
        "  colour: blue\n"
        "limits:\n"
        "  other: 4\n"
        "words: [x, y, z]\n"
    )
    host_path = write_config(
        """\
        plugins:
          demo:
            config:
              days: 14
              look:
                size: 9
              limits:
                chat: 1
              words: [w]
              font: fonts/a.ttf
        """
    )
    host = load_host_config(host_path)
    resolved = resolve_plugin_config("demo", DemoConfig, plugin_yaml=pyaml, host_config=host)
    assert resolved.value == DemoConfig(
        days=14,
        ratio=2.0,
        words=("w",),  # lists replace, they do not merge
        limits={"chat": 1, "other": 4},  # mappings merge key by key
        look=Look(colour="blue", size=9),  # nested attrs classes too
        font=host_path.parent / "fonts/a.ttf",  # relative to the file that set it
    )
    assert isinstance(resolved.value.ratio, float)
    o = resolved.origins
    assert o["days"] == Origin("plugins.yaml", host_path, 4)
    assert o["ratio"] == Origin("plugin.yaml", pyaml, 3)
    assert o["look.colour"] == Origin("plugin.yaml", pyaml, 5)
    assert o["look.size"] == Origin("plugins.yaml", host_path, 6)
    assert o["limits.chat"] == Origin("plugins.yaml", host_path, 8)
    assert o["limits.other"] == Origin("plugin.yaml", pyaml, 7)
    assert o["words"] == Origin("plugins.yaml", host_path, 9)
    assert o["mode"] == Origin("code default")
    assert o["note"] == Origin("code default")
    assert str(o["days"]) == f"plugins.yaml ({host_path}:4)"
    assert str(o["mode"]) == "code default"
    assert resolved.sources == (pyaml, host_path)
    assert resolved.effective()["look"] == {"colour": "blue", "size": 9}


def test_plugin_yaml_top_level_holds_options_directly(plugin_yaml, empty_host_config):
    pyaml = plugin_yaml("mode: slow\nnote: null\n")
    resolved = resolve_plugin_config(
        "demo", DemoConfig, plugin_yaml=pyaml, host_config=empty_host_config
    )
    assert resolved.value.mode == "slow" and resolved.value.note is None
    assert resolved.origins["mode"] == Origin("plugin.yaml", pyaml, 1)


PLUGIN_YAML_ERRORS = [
    pytest.param(
        "days: many\n", 1, "days", "expected an integer", "found 'many' (str)", id="wrong-type"
    ),
    pytest.param(
        "days: 2.5\n", 1, "days", "expected an integer", "found 2.5 (float)", id="float-for-int"
    ),
    pytest.param("\ndays: 0\n", 2, "days", "must be > 0", "found 0 (int)", id="validator"),
    pytest.param(
        "mode: medium\n",
        1,
        "mode",
        "expected one of 'fast', 'slow'",
        "found 'medium' (str)",
        id="bad-literal",
    ),
    pytest.param(
        "dayz: 3\n", 1, "dayz", "did you mean 'days'", "found unknown key 'dayz'", id="unknown-key"
    ),
    pytest.param(
        "look:\n  colur: x\n",
        2,
        "look.colur",
        "did you mean 'colour'",
        "found unknown key 'colur'",
        id="nested-unknown-key",
    ),
    pytest.param(
        "look:\n  size: big\n",
        2,
        "look.size",
        "expected an integer",
        "found 'big' (str)",
        id="nested-wrong-type",
    ),
    pytest.param(
        "look: 3\n",
        1,
        "look",
        "expected a mapping (Look)",
        "found 3 (int)",
        id="nested-not-mapping",
    ),
    pytest.param(
        "limits:\n  chat: x\n",
        2,
        "limits.chat",
        "expected an integer",
        "found 'x' (str)",
        id="dict-value",
    ),
    pytest.param(
        "words: [a, 1]\n", 1, "words[1]", "expected a string", "found 1 (int)", id="list-item"
    ),
    pytest.param(
        "note: 5\n", 1, "note", "expected a string or null", "found 5 (int)", id="optional"
    ),
    pytest.param(
        "days: 1\ndays: 2\n",
        2,
        "days",
        "expected each key once",
        "found 'days' again",
        id="duplicate",
    ),
]


@pytest.mark.parametrize(("text", "line", "key", "expected", "found"), PLUGIN_YAML_ERRORS)
def test_bad_plugin_yaml_value(plugin_yaml, empty_host_config, text, line, key, expected, found):
    path = plugin_yaml(text)
    with pytest.raises(ConfigError) as caught:
        resolve_plugin_config("demo", DemoConfig, plugin_yaml=path, host_config=empty_host_config)
    message = str(caught.value)
    assert message.startswith(f"{path}:{line}: {key}: "), message
    assert expected in message and found in message, message


def test_plugin_yaml_syntax_error(plugin_yaml, empty_host_config):
    path = plugin_yaml("days: [1\n")
    with pytest.raises(ConfigError, match="invalid YAML") as caught:
        resolve_plugin_config("demo", DemoConfig, plugin_yaml=path, host_config=empty_host_config)
    assert caught.value.path == path and caught.value.line == 2


def test_plugin_yaml_non_mapping(plugin_yaml, empty_host_config):
    path = plugin_yaml("- days\n")
    with pytest.raises(ConfigError, match="found a list") as caught:
        resolve_plugin_config("demo", DemoConfig, plugin_yaml=path, host_config=empty_host_config)
    assert caught.value.line == 1


def test_bad_plugins_yaml_plugin_config_value(plugin_yaml, write_config):
    host_path = write_config(
        "settings: {}\nplugins:\n  demo:\n    enabled: true\n    config:\n      ratio: lots\n"
    )
    host = load_host_config(host_path)  # plugins.yaml itself is fine: options are per plugin
    with pytest.raises(ConfigError) as caught:
        resolve_plugin_config("demo", DemoConfig, plugin_yaml=None, host_config=host)
    assert str(caught.value) == (
        f"{host_path}:6: plugins.demo.config.ratio: expected a number, found 'lots' (str)"
    )


def test_plugins_yaml_unknown_plugin_option(write_config):
    host_path = write_config("plugins:\n  demo:\n    config:\n      ration: 1\n")
    host = load_host_config(host_path)
    with pytest.raises(ConfigError) as caught:
        resolve_plugin_config("demo", DemoConfig, plugin_yaml=None, host_config=host)
    message = str(caught.value)
    assert message.startswith(f"{host_path}:4: plugins.demo.config.ration: ")
    assert "did you mean 'ratio'" in message


def test_a_bad_value_hidden_by_a_higher_layer_is_still_an_error(plugin_yaml, write_config):
    pyaml = plugin_yaml("days: soon\n")
    host = load_host_config(write_config("plugins:\n  demo:\n    config: {days: 3}\n"))
    with pytest.raises(ConfigError, match="found 'soon'") as caught:
        resolve_plugin_config("demo", DemoConfig, plugin_yaml=pyaml, host_config=host)
    assert caught.value.path == pyaml


def test_required_option_without_default(empty_host_config, plugin_yaml):
    @attrs.frozen
    class Needs:
        token: str

    with pytest.raises(ConfigError, match="missing required key 'token'"):
        resolve_plugin_config("demo", Needs, plugin_yaml=None, host_config=empty_host_config)
    resolved = resolve_plugin_config(
        "demo", Needs, plugin_yaml=plugin_yaml("token: abc\n"), host_config=empty_host_config
    )
    assert resolved.value.token == "abc"


def test_cross_field_check_in_post_init_becomes_config_error(empty_host_config, plugin_yaml):
    @attrs.frozen
    class Range:
        low: int = 0
        high: int = 10

        def __attrs_post_init__(self) -> None:
            if self.low > self.high:
                raise ValueError("low must not exceed high")

    path = plugin_yaml("low: 20\n")
    with pytest.raises(ConfigError, match="low must not exceed high") as caught:
        resolve_plugin_config("demo", Range, plugin_yaml=path, host_config=empty_host_config)
    assert caught.value.path == path


# --------------------------------------------------------------------- every problem at once


def problem_lines(error: ConfigError) -> list[str]:
    """The problem lines of str(error), without the ConfigErrors header."""
    lines = str(error).splitlines()
    assert lines[0] == f"{len(error.problems)} configuration problems:", lines
    assert lines[1:] == error.lines()
    return lines[1:]


def test_two_mistakes_in_plugins_yaml_are_both_reported(write_config):
    path = write_config("settings:\n  reload_check_interval: fast\n  watcher: fsevents\n")
    with pytest.raises(ConfigErrors) as caught:
        load_host_config(path)
    assert problem_lines(caught.value) == [
        f"{path}:2: settings.reload_check_interval: expected a number > 0, found 'fast' (str)",
        f"{path}:3: settings.watcher: expected one of 'poll', 'native', 'auto', "
        "found 'fsevents' (str)",
    ]
    # Handled as one ConfigError it is the first problem, as before.
    assert (caught.value.path, caught.value.line) == (path, 2)
    assert caught.value.key == "settings.reload_check_interval"


def test_three_mistakes_in_different_sections_in_line_order(write_config):
    path = write_config(
        "plugins:\n"
        "  heatmap_command:\n"
        "    enabled: nope\n"
        "    confg: {}\n"
        "settings:\n"
        "  watch_patterns: ['*.py', 3]\n"
        "extra: 1\n"
    )
    with pytest.raises(ConfigErrors) as caught:
        load_host_config(path)
    lines = problem_lines(caught.value)
    assert lines[0] == (
        f"{path}:3: plugins.heatmap_command.enabled: expected true or false, found 'nope' (str)"
    )
    assert lines[1] == (
        f"{path}:4: plugins.heatmap_command.confg: expected one of the keys enabled, config, "
        "found unknown key 'confg' (did you mean 'config'?)"
    )
    assert lines[2] == f"{path}:6: settings.watch_patterns[1]: expected a string, found 3 (int)"
    assert lines[3] == (
        f"{path}:7: extra: expected one of the keys settings, plugins, found unknown key 'extra'"
    )
    assert len(lines) == 4


def test_duplicate_keys_and_bad_values_are_reported_together(write_config):
    path = write_config("settings:\n  watcher: poll\n  watcher: native\n  hot_reload: 2\n")
    with pytest.raises(ConfigErrors) as caught:
        load_host_config(path)
    assert problem_lines(caught.value) == [
        f"{path}:3: settings.watcher: expected each key once per mapping, found 'watcher' "
        "again (first on line 2)",
        f"{path}:4: settings.hot_reload: expected true or false, found 2 (int)",
    ]


def test_one_mistake_is_still_a_plain_config_error(write_config):
    path = write_config("settings:\n  watcher: fsevents\n")
    with pytest.raises(ConfigError) as caught:
        load_host_config(path)
    assert not isinstance(caught.value, ConfigErrors)
    assert caught.value.lines() == [str(caught.value)]
    assert str(caught.value).startswith(f"{path}:2: settings.watcher: expected one of")


def test_every_mistake_in_a_plugin_yaml(plugin_yaml, empty_host_config):
    path = plugin_yaml(
        "days: 0\nratio: high\nmode: medium\nwords: [a, 1]\nlook:\n  size: big\n  shade: x\n"
    )
    with pytest.raises(ConfigErrors) as caught:
        resolve_plugin_config("demo", DemoConfig, plugin_yaml=path, host_config=empty_host_config)
    lines = problem_lines(caught.value)
    assert lines[:5] == [
        f"{path}:1: days: expected a valid value ('days' must be > 0: 0), found 0 (int)",
        f"{path}:2: ratio: expected a number, found 'high' (str)",
        f"{path}:3: mode: expected one of 'fast', 'slow', found 'medium' (str)",
        f"{path}:4: words[1]: expected a string, found 1 (int)",
        f"{path}:6: look.size: expected an integer, found 'big' (str)",
    ]
    assert lines[5].startswith(f"{path}:7: look.shade: expected one of the keys colour, size, ")
    assert len(lines) == 6


def test_plugin_yaml_problems_come_before_plugins_yaml_problems(plugin_yaml, write_config):
    pyaml = plugin_yaml("days: soon\n")
    host_path = write_config("plugins:\n  demo:\n    config:\n      ration: 1\n      note: 3\n")
    host = load_host_config(host_path)
    with pytest.raises(ConfigErrors) as caught:
        resolve_plugin_config("demo", DemoConfig, plugin_yaml=pyaml, host_config=host)
    assert problem_lines(caught.value) == [
        f"{pyaml}:1: days: expected an integer, found 'soon' (str)",
        f"{host_path}:4: plugins.demo.config.ration: expected one of the keys days, ratio, "
        "mode, words, limits, look, font, note, found unknown key 'ration' "
        "(did you mean 'ratio'?)",
        f"{host_path}:5: plugins.demo.config.note: expected a string or null, found 3 (int)",
    ]


def test_a_broken_plugin_yaml_does_not_hide_plugins_yaml_problems(plugin_yaml, write_config):
    pyaml = plugin_yaml("days: [1\n")
    host = load_host_config(write_config("plugins:\n  demo:\n    config: {ratio: x}\n"))
    with pytest.raises(ConfigErrors) as caught:
        resolve_plugin_config("demo", DemoConfig, plugin_yaml=pyaml, host_config=host)
    problems = caught.value.problems
    assert [(p.path, p.line) for p in problems] == [(pyaml, 2), (host.path, 3)]
    assert problems[0].message.startswith("invalid YAML")
    assert problems[1].key == "plugins.demo.config.ratio"


def test_missing_required_keys_are_all_reported(empty_host_config, plugin_yaml):
    @attrs.frozen
    class Needs:
        token: str
        chat: int
        size: int = 1

    path = plugin_yaml("size: many\n")
    with pytest.raises(ConfigErrors) as caught:
        resolve_plugin_config("demo", Needs, plugin_yaml=path, host_config=empty_host_config)
    messages = sorted(p.message for p in caught.value.problems)
    assert messages == [
        "expected an integer, found 'many' (str)",
        "missing required key 'chat': expected an integer, found nothing",
        "missing required key 'token': expected a string, found nothing",
    ]
