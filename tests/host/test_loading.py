"""prepare_plugin / inspect_plugins: one broken plugin never stops the others."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from tgstats.config import Origin, load_host_config
from tgstats.errors import PluginLoadError
from tgstats.host.discovery import discover_plugins
from tgstats.host.loading import error_location, inspect_plugins, prepare_plugin
from tgstats.logs import configure_logging


@pytest.fixture
def fake_plugin(make_dist, site_dir, unique_name, plugin_source):
    """Install a fake plugin distribution; returns (plugin name, package dir)."""

    def make(
        module_text: str | None = None,
        *,
        attr: str = "FakePlugin",
        plugin_yaml: str | None = None,
        dist: str | None = None,
    ) -> tuple[str, Path]:
        pkg = unique_name("fakeplug")
        files = {f"{pkg}/__init__.py": "", f"{pkg}/plugin.py": module_text or plugin_source}
        if plugin_yaml is not None:
            files[f"{pkg}/plugin.yaml"] = plugin_yaml
        make_dist(
            dist or pkg.replace("_", "-"), entry_points={pkg: f"{pkg}.plugin:{attr}"}, files=files
        )
        return pkg, site_dir / pkg

    return make


def _records(host_config):
    return {r.name: r for r in inspect_plugins(host_config, discover_plugins())}


def test_good_plugin_is_loaded_with_config_origins(fake_plugin, write_config):
    name, pkg = fake_plugin(plugin_yaml="days: 5\n")
    host_path = write_config(f"plugins:\n  {name}:\n    config:\n      title: hi\n")
    record = _records(load_host_config(host_path))[name]
    assert record.state == "loaded" and record.enabled and record.reason is None
    assert record.plugin_cls is not None and record.plugin_cls.__name__ == "FakePlugin"
    assert record.config.value.days == 5 and record.config.value.title == "hi"
    assert record.config.origins["days"] == Origin("plugin.yaml", (pkg / "plugin.yaml"), 1)
    assert record.config.origins["title"] == Origin("plugins.yaml", host_path, 4)
    assert record.to_dict()["state"] == "loaded"


def test_disabled_plugin_is_not_imported(fake_plugin, write_config):
    name, _ = fake_plugin("raise RuntimeError('must not be imported')\n")
    host = load_host_config(write_config(f"plugins:\n  {name}:\n    enabled: false\n"))
    record = _records(host)[name]
    assert record.state == "disabled" and not record.enabled and record.reason is None


def test_allow_list_disables_unlisted(fake_plugin, write_config):
    name, _ = fake_plugin()
    host = load_host_config(write_config("settings:\n  load_unlisted_plugins: false\n"))
    assert _records(host)[name].state == "disabled"


def test_missing_module_fails_with_reason(make_dist, unique_name, empty_host_config):
    name = unique_name("fakeplug")
    make_dist("fake-gone", entry_points={name: "fakeplug_not_installed_anywhere.plugin:P"})
    record = _records(empty_host_config)[name]
    assert record.state == "failed"
    assert "fakeplug_not_installed_anywhere" in record.reason and "not found" in record.reason


def test_module_raising_on_import_points_at_the_line(fake_plugin, empty_host_config):
    name, pkg = fake_plugin("import os\n\nraise RuntimeError('database is down')\n")
    record = _records(empty_host_config)[name]
    assert record.state == "failed"
    assert "RuntimeError: database is down" in record.reason
    assert Path(record.error_file) == (pkg / "plugin.py").resolve() and record.error_line == 3


def test_error_deep_inside_the_plugin_reports_the_deepest_plugin_frame(
    fake_plugin, empty_host_config, site_dir
):
    name, pkg = fake_plugin("from .helper import boom\n\nboom()\n")
    (pkg / "helper.py").write_text("def boom():\n    return {}['missing']\n", encoding="utf-8")
    record = _records(empty_host_config)[name]
    assert record.state == "failed" and "KeyError" in record.reason
    assert Path(record.error_file) == (pkg / "helper.py").resolve() and record.error_line == 2


def test_syntax_error_reports_file_and_line(fake_plugin, empty_host_config):
    name, pkg = fake_plugin("x = 1\ndef broken(:\n    pass\n")
    record = _records(empty_host_config)[name]
    assert record.state == "failed" and "syntax error" in record.reason
    assert Path(record.error_file).resolve() == (pkg / "plugin.py").resolve()
    assert record.error_line == 2


def test_object_that_is_not_a_plugin(fake_plugin, empty_host_config):
    name, _ = fake_plugin("class NotAPlugin:\n    pass\n", attr="NotAPlugin")
    record = _records(empty_host_config)[name]
    assert record.state == "failed"
    assert "class NotAPlugin" in record.reason
    assert "expected a subclass of tgstats.plugins.Plugin" in record.reason


def test_object_that_is_not_a_class(fake_plugin, empty_host_config):
    name, _ = fake_plugin("thing = 42\n", attr="thing")
    record = _records(empty_host_config)[name]
    assert record.state == "failed" and "is int" in record.reason


def test_missing_attribute(fake_plugin, empty_host_config):
    name, _ = fake_plugin(attr="Nope")
    record = _records(empty_host_config)[name]
    assert record.state == "failed" and "Nope" in record.reason


def test_config_not_attrs(fake_plugin, empty_host_config):
    source = (
        "from tgstats.plugins import Plugin\n\n"
        "class FakePlugin(Plugin):\n    class Config:\n        days = 3\n"
    )
    name, _ = fake_plugin(source)
    record = _records(empty_host_config)[name]
    assert record.state == "failed" and "must be an attrs class" in record.reason


def test_bad_plugin_yaml_value_fails_with_yaml_location(fake_plugin, empty_host_config):
    name, pkg = fake_plugin(plugin_yaml="title: ok\ndays: lots\n")
    record = _records(empty_host_config)[name]
    assert record.state == "failed"
    assert record.reason == "invalid config: days: expected an integer, found 'lots' (str)"
    assert record.error_file == str(pkg / "plugin.yaml") and record.error_line == 2


def test_bad_plugins_yaml_value_fails_with_its_location(fake_plugin, write_config):
    name, _ = fake_plugin()
    host_path = write_config(f"plugins:\n  {name}:\n    config:\n      days: [1]\n")
    record = _records(load_host_config(host_path))[name]
    assert record.state == "failed"
    assert f"plugins.{name}.config.days: expected an integer" in record.reason
    assert record.error_file == str(host_path) and record.error_line == 4


def test_every_config_problem_is_kept_and_the_reason_stays_one_line(fake_plugin, write_config):
    name, pkg = fake_plugin(plugin_yaml="title: 4\ndays: lots\n")
    host_path = write_config(f"plugins:\n  {name}:\n    config:\n      dayz: 1\n")
    record = _records(load_host_config(host_path))[name]
    assert record.state == "failed"
    assert record.reason == "invalid config: title: expected a string, found 4 (int) (and 2 more)"
    assert record.error_file == str(pkg / "plugin.yaml") and record.error_line == 1
    assert record.problems == (
        f"{pkg / 'plugin.yaml'}:1: title: expected a string, found 4 (int)",
        f"{pkg / 'plugin.yaml'}:2: days: expected an integer, found 'lots' (str)",
        f"{host_path}:4: plugins.{name}.config.dayz: expected one of the keys days, title, "
        "found unknown key 'dayz' (did you mean 'days'?)",
    )
    assert record.to_dict()["problems"] == list(record.problems)
    with pytest.raises(PluginLoadError) as caught:
        prepare_plugin(record.spec, load_host_config(host_path))
    assert caught.value.problems == record.problems


def test_duplicate_becomes_failed_record_without_spec(
    make_dist, unique_name, plugin_source, empty_host_config
):
    name, one, two = (unique_name("fakeplug") for _ in range(3))
    for dist, pkg in (("fake-dup-one", one), ("fake-dup-two", two)):
        make_dist(
            dist,
            entry_points={name: f"{pkg}.plugin:FakePlugin"},
            files={f"{pkg}/__init__.py": "", f"{pkg}/plugin.py": plugin_source},
        )
    record = _records(empty_host_config)[name]
    assert record.state == "failed" and record.spec is None
    assert "fake-dup-one" in record.reason and "fake-dup-two" in record.reason
    assert record.to_dict()["distribution"] is None


def test_failures_do_not_stop_others_and_are_logged(fake_plugin, empty_host_config):
    bad, _ = fake_plugin("raise ImportError('no numpy here')\n")
    good, _ = fake_plugin()
    stream = io.StringIO()
    configure_logging(stream=stream)
    records = inspect_plugins(empty_host_config, discover_plugins())
    names = [r.name for r in records]
    assert names == sorted(names)
    by_name = {r.name: r for r in records}
    assert by_name[bad].state == "failed" and by_name[good].state == "loaded"
    # the real plugins still load beside the broken fake one
    assert by_name["heatmap_command"].state == "loaded"
    log = stream.getvalue()
    assert f"plugin_load_failed plugin={bad} reason=" in log and "no numpy here" in log


def test_prepare_plugin_raises_plugin_load_error(fake_plugin, empty_host_config):
    name, pkg = fake_plugin("raise ValueError('bad')\n")
    spec = discover_plugins().plugins[name]
    with pytest.raises(PluginLoadError) as caught:
        prepare_plugin(spec, empty_host_config)
    assert caught.value.plugin == name
    assert (Path(caught.value.file), caught.value.line) == ((pkg / "plugin.py").resolve(), 1)
    assert error_location(caught.value, spec) == (caught.value.file, 1)


def test_error_location_without_plugin_frames(fake_plugin):
    name, _ = fake_plugin()
    spec = discover_plugins().plugins[name]
    try:
        raise KeyError("host side")
    except KeyError as error:
        assert error_location(error, spec) == (None, None)
