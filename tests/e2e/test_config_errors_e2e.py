"""`tgstats run` with a broken plugins.yaml: every problem, one line each, then exit 1."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import bot_env, fake_bot_api, run_tgstats

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


def test_bot_start_lists_every_plugins_yaml_problem_and_exits_1(tmp_path: Path) -> None:
    config = tmp_path / "plugins.yaml"
    config.write_text(
        "settings:\n"
        "  reload_check_interval: fast\n"
        "  watcher: fsevents\n"
        "plugins:\n"
        "  heatmap_command:\n"
        "    enabled: maybe\n"
    )
    (tmp_path / "site").mkdir()
    with fake_bot_api.ThreadedFakeBotApi() as api:
        done = run_tgstats(bot_env(api, tmp_path), "run")
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "tgstats: error: 3 configuration problems:",
        f"{config}:2: settings.reload_check_interval: expected a number > 0, found 'fast' (str)",
        f"{config}:3: settings.watcher: expected one of 'poll', 'native', 'auto', "
        "found 'fsevents' (str)",
        f"{config}:6: plugins.heatmap_command.enabled: expected true or false, found 'maybe' (str)",
    ]
    assert api.call_count("getUpdates") == 0  # it never started serving
