"""`tgstats plugins check`: every config problem at once, and setup()/shutdown()
run as the bot runs them (issue 8), through the real console script."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from tgstats.store import ChatInfo, open_store

from ..plugin_env import SHIPPED_PLUGINS

ALLOW_LIST = "settings:\n  load_unlisted_plugins: false\n"

# A plugin whose setup/shutdown behaviour is chosen by its config; it writes
# what it saw into the marker file, so the test can tell that each hook ran.
HOOKS_PLUGIN = """\
from __future__ import annotations

import asyncio
import time
from pathlib import Path

import attrs

from tgstats.plugins import Plugin, TextReply, command


@attrs.frozen
class Config:
    marker: str = ""
    setup: str = "ok"
    shutdown: str = "ok"


class FakePlugin(Plugin[Config]):
    Config = Config

    async def setup(self) -> None:
        marker = Path(self.config.marker)
        chat = self.host.store.chat(42)
        marker.write_text(f"setup chat={chat.title if chat else None}\\n")
        if self.config.setup == "raise":
            raise RuntimeError("cannot reach the weather service")
        if self.config.setup == "hang":
            await asyncio.sleep(3600)
        if self.config.setup == "block":
            time.sleep(3600)

    async def shutdown(self) -> None:
        with open(self.config.marker, "a") as marker:
            marker.write("shutdown\\n")
        if self.config.shutdown == "raise":
            raise ValueError("flush failed")

    @command("hooks", "a fake command")
    def hooks(self, ctx):
        return TextReply("hi")
"""


def line_of(source: str, text: str) -> int:
    return next(n for n, line in enumerate(source.splitlines(), 1) if text in line)


@pytest.fixture
def hooks_plugin(make_dist, site_dir, unique_name):
    """Install a HOOKS_PLUGIN distribution; returns (name, path of its plugin.py)."""

    def make() -> tuple[str, Path]:
        pkg = unique_name("fakeplug")
        make_dist(
            pkg.replace("_", "-"),
            entry_points={pkg: f"{pkg}.plugin:FakePlugin"},
            files={f"{pkg}/__init__.py": "", f"{pkg}/plugin.py": HOOKS_PLUGIN},
        )
        return pkg, (site_dir / pkg / "plugin.py").resolve()

    return make


def entry(name: str, marker: Path, **options: str) -> str:
    config = "".join(f"      {key}: {value}\n" for key, value in options.items())
    return f"  {name}:\n    config:\n      marker: '{marker}'\n{config}"


def check(run_tgstats, site_dir, config: Path, *extra: str, tmpdir: Path | None = None):
    env = {"TMPDIR": str(tmpdir)} if tmpdir is not None else None
    return run_tgstats(
        "plugins", "check", "--plugins-config", str(config), *extra, pythonpath=site_dir, env=env
    )


# ----------------------------------------------------------------- config problems


def test_two_mistakes_in_plugins_yaml_are_both_reported(run_tgstats, write_config):
    config = write_config(
        """\
        settings:
          reload_check_interval: fast
          watcher: poll
          reload_debounce: -1
        """
    )
    result = run_tgstats("plugins", "check", "--plugins-config", str(config))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "2 problem(s):",
        f"{config}:2: settings.reload_check_interval: expected a number > 0, found 'fast' (str)",
        f"{config}:4: settings.reload_debounce: expected a number > 0, found -1 (int)",
    ]
    assert result.stdout == ""


def test_three_mistakes_in_plugins_yaml_each_on_its_own_line(run_tgstats, write_config):
    config = write_config(
        """\
        settings:
          hot_reload: yes please
          reload_intervall: 3
        plugins:
          heatmap_command:
            enabled: 1
        """
    )
    result = run_tgstats("plugins", "check", "--plugins-config", str(config))
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[0] == "3 problem(s):"
    assert lines[1] == (
        f"{config}:2: settings.hot_reload: expected true or false, found 'yes please' (str)"
    )
    assert lines[2].startswith(
        f"{config}:3: settings.reload_intervall: expected one of the keys hot_reload, "
    )
    # Unknown keys keep their did-you-mean.
    assert lines[2].endswith(
        "found unknown key 'reload_intervall' (did you mean 'reload_check_interval'?)"
    )
    assert lines[3] == (
        f"{config}:6: plugins.heatmap_command.enabled: expected true or false, found 1 (int)"
    )
    assert len(lines) == 4
    assert "(plugins.yaml" not in result.stderr and f"({config}" not in result.stderr


def test_every_mistake_in_a_plugin_yaml_is_reported(run_tgstats, fake_with_yaml, site_dir, only):
    name, plugin_yaml = fake_with_yaml("days: soon\ntitle: 7\ncolour: red\n")
    config = only(name)
    result = run_tgstats("plugins", "check", "--plugins-config", str(config), pythonpath=site_dir)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "3 problem(s):",
        f"{plugin_yaml}:1: days: expected an integer, found 'soon' (str)",
        f"{plugin_yaml}:2: title: expected a string, found 7 (int)",
        f"{plugin_yaml}:3: colour: expected one of the keys days, title, found unknown key "
        "'colour'",
    ]


def test_plugin_yaml_and_plugins_yaml_problems_of_one_plugin_together(
    run_tgstats, fake_with_yaml, site_dir, only
):
    name, plugin_yaml = fake_with_yaml("days: soon\ntitle: 7\n")
    config = only(body=f"  {name}:\n    config:\n      days: []\n      titel: x\n")
    result = run_tgstats("plugins", "check", "--plugins-config", str(config), pythonpath=site_dir)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "4 problem(s):",
        f"{plugin_yaml}:1: days: expected an integer, found 'soon' (str)",
        f"{plugin_yaml}:2: title: expected a string, found 7 (int)",
        f"{config}:6: plugins.{name}.config.days: expected an integer, found a list []",
        f"{config}:7: plugins.{name}.config.titel: expected one of the keys days, title, "
        "found unknown key 'titel' (did you mean 'title'?)",
    ]


@pytest.fixture
def fake_with_yaml(make_dist, site_dir, unique_name, plugin_source):
    """A fake plugin (days: int, title: str) shipping ``plugin.yaml`` with the given text."""

    def make(plugin_yaml: str) -> tuple[str, Path]:
        pkg = unique_name("fakeplug")
        make_dist(
            pkg.replace("_", "-"),
            entry_points={pkg: f"{pkg}.plugin:FakePlugin"},
            files={
                f"{pkg}/__init__.py": "",
                f"{pkg}/plugin.py": plugin_source,
                f"{pkg}/plugin.yaml": plugin_yaml,
            },
        )
        return pkg, (site_dir / pkg / "plugin.yaml").resolve()

    return make


@pytest.fixture
def only(write_config):
    def write(*names: str, body: str = "") -> Path:
        entries = "".join(f"  {n}: {{}}\n" for n in names)
        return write_config(ALLOW_LIST + "plugins:\n" + entries + body)

    return write


def test_a_file_full_of_mistakes_is_capped(run_tgstats, write_config):
    plugins = "".join(f"  p{n}: {n}\n" for n in range(60))
    config = write_config(f"plugins:\n{plugins}")
    result = run_tgstats("plugins", "check", "--plugins-config", str(config))
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[0] == "51 problem(s):"  # 50 problems and the line saying how many more
    assert lines[1] == (
        f"{config}:2: plugins.p0: expected a mapping with 'enabled' and 'config', found 0 (int)"
    )
    assert lines[50].startswith(f"{config}:51: plugins.p49: ")
    assert lines[51] == "... and 10 more"
    assert len(lines) == 52


# ----------------------------------------------------------------- setup / shutdown


def test_setup_that_raises_is_reported_with_its_line_and_exit_1(
    run_tgstats, hooks_plugin, site_dir, write_config, tmp_path
):
    bad, bad_py = hooks_plugin()
    good, _ = hooks_plugin()
    config = write_config(
        ALLOW_LIST
        + "plugins:\n"
        + entry(bad, tmp_path / "bad.txt", setup="raise")
        + entry(good, tmp_path / "good.txt")
    )
    result = check(run_tgstats, site_dir, config)
    assert result.returncode == 1, result.stderr
    line = line_of(HOOKS_PLUGIN, "raise RuntimeError")
    assert result.stderr.splitlines() == [
        "1 problem(s):",
        f"{bad}: setup raised RuntimeError: cannot reach the weather service ({bad_py}:{line})",
    ]
    assert "OK" not in result.stdout and "Traceback" not in result.stderr
    # Its setup really ran; shutdown runs only for the plugin whose setup succeeded.
    assert (tmp_path / "bad.txt").read_text() == "setup chat=None\n"
    assert (tmp_path / "good.txt").read_text() == "setup chat=None\nshutdown\n"


def test_setup_that_succeeds_is_shut_down_and_check_says_ok(
    run_tgstats, hooks_plugin, site_dir, write_config, tmp_path
):
    name, _ = hooks_plugin()
    config = write_config(ALLOW_LIST + "plugins:\n" + entry(name, tmp_path / "marker.txt"))
    result = check(run_tgstats, site_dir, config)
    assert result.returncode == 0, result.stderr
    # The shipped plugins are installed too, and not on the allow-list.
    assert result.stdout == (
        f"OK: 1 plugin(s) loaded, set up and shut down, {SHIPPED_PLUGINS} disabled; "
        f"{config} is valid\n"
    )
    assert (tmp_path / "marker.txt").read_text() == "setup chat=None\nshutdown\n"


def test_default_store_is_thrown_away(run_tgstats, hooks_plugin, site_dir, write_config, tmp_path):
    name, _ = hooks_plugin()
    config = write_config(ALLOW_LIST + "plugins:\n" + entry(name, tmp_path / "marker.txt"))
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    env_db = tmp_path / "from-env.db"
    result = run_tgstats(
        "plugins",
        "check",
        "--plugins-config",
        str(config),
        pythonpath=site_dir,
        env={"TMPDIR": str(scratch), "TGSTATS_DB": f"sqlite:///{env_db}"},
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "marker.txt").read_text() == "setup chat=None\nshutdown\n"
    assert list(scratch.iterdir()) == []  # the temporary store is gone
    assert not env_db.exists()  # $TGSTATS_DB is not what check runs against
    assert not list(tmp_path.glob("*.db"))  # nor a tgstats.db in the working directory


def test_db_option_uses_that_store(run_tgstats, hooks_plugin, site_dir, write_config, tmp_path):
    db = tmp_path / "bot.db"
    store = open_store(f"sqlite:///{db}")
    with store.bulk() as batch:
        batch.upsert_chat(ChatInfo(chat_id=42, title="Cyclists", type="supergroup"))
    store.close()
    name, _ = hooks_plugin()
    config = write_config(ALLOW_LIST + "plugins:\n" + entry(name, tmp_path / "marker.txt"))
    result = check(run_tgstats, site_dir, config, "--db", f"sqlite:///{db}")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "marker.txt").read_text() == "setup chat=Cyclists\nshutdown\n"
    assert db.exists()  # a given store is the operator's: kept


def test_unreachable_db_is_a_one_line_error(run_tgstats, only):
    result = run_tgstats(
        "plugins",
        "check",
        "--plugins-config",
        str(only()),
        "--db",
        "postgresql+psycopg://nobody@127.0.0.1:9/none",
    )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("tgstats: error: ")
    assert "127.0.0.1" in result.stderr


def test_shutdown_that_raises_is_a_problem(
    run_tgstats, hooks_plugin, site_dir, write_config, tmp_path
):
    name, plugin_py = hooks_plugin()
    config = write_config(
        ALLOW_LIST + "plugins:\n" + entry(name, tmp_path / "marker.txt", shutdown="raise")
    )
    result = check(run_tgstats, site_dir, config)
    assert result.returncode == 1
    line = line_of(HOOKS_PLUGIN, "raise ValueError")
    assert result.stderr.splitlines() == [
        "1 problem(s):",
        f"{name}: shutdown raised ValueError: flush failed ({plugin_py}:{line})",
    ]


def test_setup_that_hangs_is_cancelled_after_the_timeout(
    run_tgstats, hooks_plugin, site_dir, write_config, tmp_path
):
    slow, slow_py = hooks_plugin()
    good, _ = hooks_plugin()
    config = write_config(
        ALLOW_LIST
        + "plugins:\n"
        + entry(slow, tmp_path / "slow.txt", setup="hang")
        + entry(good, tmp_path / "good.txt")
    )
    result = check(run_tgstats, site_dir, config, "--timeout", "0.5")
    assert result.returncode == 1
    line = line_of(HOOKS_PLUGIN, "await asyncio.sleep(3600)")  # where it was waiting
    assert result.stderr.splitlines() == [
        "1 problem(s):",
        f"{slow}: setup() did not finish within 0.5 s ({slow_py}:{line})",
    ]
    assert (tmp_path / "slow.txt").read_text() == "setup chat=None\n"  # no shutdown
    assert (tmp_path / "good.txt").read_text() == "setup chat=None\nshutdown\n"


def test_setup_that_blocks_the_event_loop_ends_the_check(
    run_tgstats, hooks_plugin, site_dir, write_config, tmp_path
):
    name, plugin_py = hooks_plugin()
    config = write_config(
        ALLOW_LIST + "plugins:\n" + entry(name, tmp_path / "marker.txt", setup="block")
    )
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    result = check(run_tgstats, site_dir, config, "--timeout", "0.5", tmpdir=scratch)
    assert result.returncode == 1
    err = result.stderr
    assert err.startswith(
        f"tgstats: error: still setting up plugin {name!r} (or importing the next one) "
        "after 2 s: a plugin blocks the event loop"
    )
    line = line_of(HOOKS_PLUGIN, "time.sleep(3600)")
    assert f'File "{plugin_py}", line {line} in setup' in err  # the stack shows where
    assert list(scratch.iterdir()) == []  # the throw-away store is removed even so


def test_timeout_must_be_positive(run_tgstats, only):
    result = run_tgstats("plugins", "check", "--plugins-config", str(only()), "--timeout", "0")
    assert result.returncode == 2
    assert "expected a number of seconds > 0, found '0'" in result.stderr


def test_plugins_printing_in_setup_do_not_reach_stdout(
    run_tgstats, make_dist, site_dir, unique_name, write_config
):
    pkg = unique_name("fakeplug")
    source = HOOKS_PLUGIN.replace(
        "        marker = Path(self.config.marker)\n",
        "        print('hello from setup')\n        marker = Path(self.config.marker)\n",
    )
    make_dist(
        pkg.replace("_", "-"),
        entry_points={pkg: f"{pkg}.plugin:FakePlugin"},
        files={f"{pkg}/__init__.py": "", f"{pkg}/plugin.py": textwrap.dedent(source)},
    )
    config = write_config(ALLOW_LIST + "plugins:\n" + entry(pkg, site_dir / "m.txt"))
    result = check(run_tgstats, site_dir, config)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK: ") and "hello from setup" in result.stderr
