"""End-to-end fixtures: the Bot API stand-in in a thread, the real bot as a subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from . import fake_bot_api  # the Bot API stand-in, shared with tests/bot and bench/

ADMIN = 1001
PROBE_PLUGIN = "e2e_probe"
PROBE_PACKAGE = "tgstats_e2e_probe"


def probe_source(answer: str) -> str:
    return textwrap.dedent(
        f'''\
        """A throwaway plugin the end-to-end test edits while the bot runs."""

        from tgstats.plugins import CommandContext, NoConfig, Plugin, TextReply, command


        class ProbePlugin(Plugin[NoConfig]):
            @command("probe", "End-to-end probe")
            async def probe(self, ctx: CommandContext) -> TextReply:
                return TextReply({answer!r})
        '''
    )


def make_probe_distribution(site: Path) -> Path:
    """A plugin distribution in ``site`` (a package plus its .dist-info); returns plugin.py."""
    return make_distribution(
        site, PROBE_PACKAGE, PROBE_PLUGIN, "ProbePlugin", probe_source("probe v1")
    )


def make_distribution(site: Path, package: str, plugin: str, cls: str, source: str) -> Path:
    """Install plugin ``plugin`` (class ``cls`` in ``package/plugin.py``) into ``site``."""
    directory = site / package
    directory.mkdir(parents=True)
    (directory / "__init__.py").write_text("")
    plugin_py = directory / "plugin.py"
    plugin_py.write_text(source)
    dist = package.replace("_", "-")
    info = site / f"{package}-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text(
        f"[tgstats.plugins]\n{plugin} = {package}.plugin:{cls}\n"
    )
    (info / "top_level.txt").write_text(f"{package}\n")
    (info / "RECORD").write_text("")
    return plugin_py


def plugins_yaml(*, disabled: tuple[str, ...] = ()) -> str:
    names = [
        "heatmap_command",
        "word_cloud",
        "engagement_scores",
        "activity",
        "reply_graph",
        "member_profile",
        PROBE_PLUGIN,
    ]
    lines = [
        "settings:",
        "  hot_reload: true",
        "  reload_check_interval: 0.2",
        "  reload_debounce: 0.1",
        "  watcher: poll",
        # An allow-list: other test areas pip-install throwaway plugins into
        # this same environment, and they must not show up in our menu.
        "  load_unlisted_plugins: false",
        "plugins:",
    ]
    for name in names:
        lines += [f"  {name}:", f"    enabled: {'false' if name in disabled else 'true'}"]
    return "\n".join(lines) + "\n"


@attrs.define
class RunningBot:
    api: Any
    process: subprocess.Popen[bytes]
    env: dict[str, str]
    tmp: Path
    plugin_py: Path
    config: Path
    log_file: Path
    output: Path

    def log(self) -> str:
        return self.log_file.read_text(encoding="utf-8") if self.log_file.exists() else ""

    def console(self) -> str:
        return self.output.read_text(encoding="utf-8", errors="replace")

    def ask(
        self, chat_id: int, user_id: int, text: str, timeout: float = 20.0, **message: Any
    ) -> Any:
        """Send ``text`` and return the bot's next message in ``chat_id``.

        ``message``: more of the message (``language_code="ru"``, say)."""
        before = len(self.api.sent_to(chat_id))
        self.api.send_message(chat_id, user_id, text, **message)
        try:
            return self.api.wait_for_reply(chat_id, before, timeout)
        except TimeoutError:
            self.check_alive()
            raise

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise AssertionError(f"bot exited with {self.process.returncode}:\n{self.console()}")

    def export(self, *args: str) -> list[dict[str, Any]]:
        done = run_tgstats(self.env, "export", *args)
        assert done.returncode == 0, done.stderr
        return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def run_tgstats(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m tgstats ARGS`` to completion, output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "tgstats", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def launch_bot(
    env: dict[str, str],
    cwd: Path,
    output: Path,
    *args: str,
    umask: int = -1,
    append: bool = False,
) -> subprocess.Popen[bytes]:
    """Start the real ``python -m tgstats run ARGS``, its console going to ``output``."""
    with output.open("ab" if append else "wb") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "tgstats", "run", *args],
            env=env,
            cwd=cwd,
            stdout=sink,
            stderr=subprocess.STDOUT,
            umask=umask,
        )


def stop_bot(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM a bot still running and wait for it (killed after 30 s)."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def without_tgstats_env() -> dict[str, str]:
    """This process's environment minus every TGSTATS_* setting."""
    return {key: value for key, value in os.environ.items() if not key.startswith("TGSTATS_")}


def bot_env(api: Any, tmp: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("TGSTATS_") and key != "PYTHONPATH"
    }
    env.update(
        TGSTATS_TOKEN=api.token,
        TGSTATS_API_URL=api.url,
        TGSTATS_DB=f"sqlite:///{tmp / 'e2e.db'}",
        TGSTATS_PLUGINS_CONFIG=str(tmp / "plugins.yaml"),
        TGSTATS_ADMINS=str(ADMIN),
        TGSTATS_LOG_FILE=str(tmp / "logs" / "tgstats.log"),
        TGSTATS_PID_FILE=str(tmp / "tgstats.pid"),
        PYTHONPATH=str(tmp / "site"),
        MPLBACKEND="Agg",
    )
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningBot]:
    tmp = tmp_path_factory.mktemp("e2e")
    plugin_py = make_probe_distribution(tmp / "site")
    config = tmp / "plugins.yaml"
    config.write_text(plugins_yaml())
    with fake_bot_api.ThreadedFakeBotApi() as api:
        env = bot_env(api, tmp)
        output = tmp / "console.log"
        # A permissive umask: the bot must still keep its files private.
        process = launch_bot(env, tmp, output, umask=0o022)
        running = RunningBot(
            api, process, env, tmp, plugin_py, config, tmp / "logs" / "tgstats.log", output
        )
        try:
            api.wait_for(
                lambda: (
                    running.check_alive()
                    or ("probe" in api.menu() and api.call_count("getUpdates"))
                ),
                60,
                "the bot to start polling",
            )
            yield running
        finally:
            stop_bot(process)
