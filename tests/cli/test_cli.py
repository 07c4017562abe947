"""`tgstats plugins list|show|check` through the real console script."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ..plugin_env import SHIPPED_PLUGINS

REPO = Path(__file__).resolve().parents[2]
REAL = {
    "heatmap_command": "heatmap",
    "word_cloud": "word_cloud",
    "engagement_scores": "engagement",
}


@pytest.fixture
def fake(make_dist, site_dir, unique_name, plugin_source):
    """Install a fake plugin into ``site_dir`` (use it as the subprocess PYTHONPATH)."""

    def make(source: str | None = None, plugin_yaml: str | None = None) -> tuple[str, Path]:
        pkg = unique_name("fakeplug")
        files = {
            f"{pkg}/__init__.py": "",
            f"{pkg}/plugin.py": source or plugin_source,
            f"{pkg}/README.md": "not watched",
            f"{pkg}/_scratch.py": "not watched",
            f"{pkg}/__pycache__/stale.py": "not watched",
        }
        if plugin_yaml is not None:
            files[f"{pkg}/plugin.yaml"] = plugin_yaml
        make_dist(
            pkg.replace("_", "-"), entry_points={pkg: f"{pkg}.plugin:FakePlugin"}, files=files
        )
        return pkg, site_dir / pkg

    return make


ALLOW_LIST = "settings:\n  load_unlisted_plugins: false\n"


@pytest.fixture
def only(write_config):
    """A plugins.yaml loading only the given fake plugins (the real ones would
    import matplotlib & co. in every subprocess: seconds per test)."""

    def write(*names: str, body: str = "") -> Path:
        entries = "".join(f"  {n}: {{}}\n" for n in names)
        return write_config(ALLOW_LIST + "plugins:\n" + entries + body)

    return write


def test_list_json_shows_the_three_real_plugins_loaded_from_this_repo(run_tgstats):
    result = run_tgstats("plugins", "list", "--json")
    assert result.returncode == 0, result.stderr
    records = {r["name"]: r for r in json.loads(result.stdout)}  # stdout is pure JSON
    for name, folder in REAL.items():
        record = records[name]
        assert record["state"] == "loaded", record
        assert record["enabled"] is True and record["editable"] is True
        assert Path(record["source_dir"]).is_relative_to(REPO / "plugins" / folder)
        assert record["distribution"] == f"tgstats-{folder.replace('_', '-')}"


def test_list_plain_text_is_an_aligned_table(run_tgstats):
    result = run_tgstats("plugins", "list")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "NAME",
        "DISTRIBUTION",
        "VERSION",
        "ENABLED",
        "STATE",
        "EDITABLE",
        "SOURCE",
    ]
    version_col = lines[0].index("VERSION")
    for name in REAL:
        row = next(line for line in lines if line.startswith(name + " "))
        assert row[version_col:].startswith("0.") or row[version_col].isdigit()
        assert " loaded " in row and str(REPO / "plugins") in row
    assert "\x1b[" not in result.stdout  # no colour codes when not on a terminal


def test_list_reports_a_broken_plugin_and_keeps_json_pure(run_tgstats, fake, site_dir):
    name, pkg = fake("print('chatty import')\n\nraise RuntimeError('kaboom')\n")
    result = run_tgstats("plugins", "list", "--json", pythonpath=site_dir)
    assert result.returncode == 0, result.stderr
    records = {r["name"]: r for r in json.loads(result.stdout)}
    broken = records[name]
    assert broken["state"] == "failed" and "RuntimeError: kaboom" in broken["reason"]
    assert broken["error_file"] == str((pkg / "plugin.py").resolve())
    assert broken["error_line"] == 3
    assert all(records[n]["state"] == "loaded" for n in REAL)  # the others still load
    assert f"plugin_load_failed plugin={name}" in result.stderr
    assert "chatty import" in result.stderr  # a plugin's print went to stderr


def test_list_plain_shows_failure_reason_with_location(run_tgstats, fake, site_dir, only):
    name, pkg = fake("x = (\n")
    config = only(name)
    result = run_tgstats("plugins", "list", "--plugins-config", str(config), pythonpath=site_dir)
    row = next(line for line in result.stdout.splitlines() if line.startswith(name))
    assert "failed: syntax error" in row and f"{(pkg / 'plugin.py').resolve()}:1" in row


def test_disabled_plugin_via_plugins_config_and_env(run_tgstats, fake, site_dir, write_config):
    name, _ = fake()
    config = write_config(f"{ALLOW_LIST}plugins:\n  {name}:\n    enabled: false\n")
    for args, env in (
        (("--plugins-config", str(config)), None),
        ((), {"TGSTATS_PLUGINS_CONFIG": str(config)}),
    ):
        result = run_tgstats("plugins", "list", "--json", *args, pythonpath=site_dir, env=env)
        assert result.returncode == 0, result.stderr
        record = next(r for r in json.loads(result.stdout) if r["name"] == name)
        assert record["state"] == "disabled" and record["enabled"] is False


def test_plugins_config_before_the_action(run_tgstats, fake, site_dir, write_config):
    name, _ = fake()
    config = write_config(f"{ALLOW_LIST}plugins:\n  {name}:\n    enabled: false\n")
    result = run_tgstats(
        "plugins", "--plugins-config", str(config), "list", "--json", pythonpath=site_dir
    )
    record = next(r for r in json.loads(result.stdout) if r["name"] == name)
    assert record["state"] == "disabled"


def test_show_prints_every_value_with_its_origin_and_the_watched_files(
    run_tgstats, fake, site_dir, write_config
):
    name, pkg = fake(plugin_yaml="# defaults\ndays: 5\n")
    config = write_config(f"plugins:\n  {name}:\n    config:\n      title: hi\n{ALLOW_LIST}")
    result = run_tgstats(
        "plugins", "show", name, "--plugins-config", str(config), pythonpath=site_dir
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    lines = {line.split("=")[0].strip(): line for line in out.splitlines() if " = " in line}
    assert "5" in lines["days"] and f"# plugin.yaml ({pkg / 'plugin.yaml'}:2)" in lines["days"]
    assert '"hi"' in lines["title"] and f"# plugins.yaml ({config}:4)" in lines["title"]
    watched = out.split("watched files")[1]
    assert str((pkg / "plugin.py").resolve()) in watched
    assert str((pkg / "plugin.yaml").resolve()) in watched
    assert str((pkg / "__init__.py").resolve()) in watched
    assert str(config) in watched
    assert "README.md" not in watched and "_scratch" not in watched
    assert "__pycache__" not in watched


def test_show_json(run_tgstats, fake, site_dir, only):
    source = (
        "import attrs\nfrom tgstats.plugins import Plugin\n\n"
        "@attrs.frozen\nclass Config:\n    days: int = 30\n    title: str = 'x'\n\n"
        "class FakePlugin(Plugin):\n    Config = Config\n"
    )
    name, pkg = fake(source, plugin_yaml="days: 9\n")
    config = only(name)
    result = run_tgstats(
        "plugins", "show", name, "--json", "--plugins-config", str(config), pythonpath=site_dir
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["config"]["days"] == {
        "value": 9,
        "origin": f"plugin.yaml ({(pkg / 'plugin.yaml').resolve()}:1)",
    }
    assert data["config"]["title"] == {"value": "x", "origin": "code default"}
    assert str((pkg / "plugin.py").resolve()) in data["watched_files"]


def test_show_unknown_plugin_suggests_a_name(run_tgstats, only):
    result = run_tgstats("plugins", "show", "heatmap_comand", "--plugins-config", str(only()))
    assert result.returncode == 1
    assert "did you mean 'heatmap_command'" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_check_passes_on_the_default_config(run_tgstats):
    result = run_tgstats("plugins", "check")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK: ") and len(result.stdout.splitlines()) == 1
    # Every shipped plugin is set up against an empty store and shut down.
    assert f"{SHIPPED_PLUGINS} plugin(s) loaded, set up and shut down" in result.stdout


def test_check_lists_every_problem_and_exits_1(run_tgstats, fake, site_dir, write_config):
    broken, pkg = fake("import os\nraise ImportError('no such lib')\n")
    bad_config, bad_pkg = fake(plugin_yaml="days: soon\n")
    config = write_config(
        f"{ALLOW_LIST}plugins:\n  {broken}: {{}}\n  {bad_config}: {{}}\n  word_clod:\n"
    )
    result = run_tgstats("plugins", "check", "--plugins-config", str(config), pythonpath=site_dir)
    assert result.returncode == 1
    err = result.stderr
    assert f"{broken}: importing {broken}.plugin raised ImportError: no such lib " in err
    assert f"({(pkg / 'plugin.py').resolve()}:2)" in err
    # A config problem is reported location first (issue 8), like every config problem.
    plugin_yaml = (bad_pkg / "plugin.yaml").resolve()
    assert f"\n{plugin_yaml}:1: days: expected an integer, found 'soon' (str)\n" in err
    assert "word_clod: listed in plugins.yaml but no installed plugin" in err
    assert "did you mean 'word_cloud'" in err and f"({config}:6)" in err
    assert "3 problem(s)" in err and "OK" not in result.stdout
    assert "Traceback" not in err


def test_check_reports_a_command_clash_and_exits_1(
    run_tgstats, fake, site_dir, only, plugin_source
):
    one, _ = fake()  # both declare /fake: the first by name keeps it
    two, _ = fake()
    thief, _ = fake(plugin_source.replace('@command("fake"', '@command("optout"'))
    first, second = sorted([one, two])
    config = only(one, two, thief)
    result = run_tgstats("plugins", "check", "--plugins-config", str(config), pythonpath=site_dir)
    assert result.returncode == 1
    err = result.stderr
    assert (
        f"{second}: command /fake of plugin {second!r} is already taken by plugin {first!r}"
    ) in err
    assert f"{thief}: command /optout of plugin {thief!r} is already taken by the host" in err
    assert "2 problem(s)" in err and "OK" not in result.stdout
    # `plugins list` shows the same truth.
    listed = run_tgstats(
        "plugins", "list", "--json", "--plugins-config", str(config), pythonpath=site_dir
    )
    states = {r["name"]: r["state"] for r in json.loads(listed.stdout) if r["enabled"]}
    assert states == {first: "loaded", second: "failed", thief: "failed"}


def test_check_reports_an_invalid_plugins_yaml(run_tgstats, write_config):
    config = write_config("settings:\n  watcher: fsevents\n")
    result = run_tgstats("plugins", "check", "--plugins-config", str(config))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "1 problem(s):",
        f"{config}:2: settings.watcher: expected one of 'poll', 'native', 'auto', "
        "found 'fsevents' (str)",
    ]


def test_config_error_goes_to_stderr_without_traceback(run_tgstats, write_config):
    config = write_config("settings:\n  reload_check_interval: fast\n")
    result = run_tgstats("plugins", "list", "--json", "--plugins-config", str(config))
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip() == (
        f"tgstats: error: {config}:2: settings.reload_check_interval: "
        "expected a number > 0, found 'fast' (str)"
    )


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_shows_the_traceback(run_tgstats, write_config, where):
    config = write_config("settings:\n  reload_check_interval: fast\n")
    args = ["plugins", "list", "--plugins-config", str(config)]
    args = ["--debug", *args] if where == "before" else [*args, "--debug"]
    result = run_tgstats(*args)
    assert result.returncode == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert "ConfigError" in result.stderr


def test_internal_error_is_one_line_unless_debug(run_tgstats, fake, site_dir, only):
    # A plugin that breaks the host at import time stands in for a host bug.
    source = (
        "import tgstats.cli.plugins as cmd\n"
        "from tgstats.plugins import Plugin\n\n"
        "def boom(*args):\n    raise RuntimeError('host bug')\n\n"
        "cmd.watched_files = boom\n\n"
        "class FakePlugin(Plugin):\n    pass\n"
    )
    name, _ = fake(source)
    config = ("--plugins-config", str(only(name)))
    result = run_tgstats("plugins", "show", name, *config, pythonpath=site_dir)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "tgstats: internal error: RuntimeError: host bug (run with --debug for the traceback)"
    )
    assert "Traceback" not in result.stderr
    result = run_tgstats("plugins", "show", name, "--debug", *config, pythonpath=site_dir)
    assert result.returncode == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert "RuntimeError: host bug" in result.stderr


def test_plugins_without_action_prints_usage(run_tgstats):
    result = run_tgstats("plugins")
    assert result.returncode == 2
    assert "list" in result.stderr and "check" in result.stderr


def test_top_level_help_lists_every_subcommand(run_tgstats):
    # `tgstats plugins` registers only its own subcommand (fast start-up);
    # the bare help must still show them all.
    result = run_tgstats("--help")
    assert result.returncode == 0
    for name in ("run", "demo", "import", "export", "plugins"):
        assert f"\n    {name} " in result.stdout
