"""`tgstats demo` logs a raising command with the plugin's own file:line and source line."""

from __future__ import annotations

import subprocess
from pathlib import Path

from ..chat.plugin_project import add_dist_info, clean_env, new_plugin, tgstats_cli


def test_a_raising_command_is_logged_at_the_plugins_line(tmp_path: Path) -> None:
    project = add_dist_info(new_plugin(tmp_path, "boom"))
    source = project / "tgstats_boom" / "plugin.py"
    text = source.read_text().replace(
        "        return TextReply(", "        {}['missing']\n        return TextReply("
    )
    source.write_text(text)
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "['missing']" in row)
    config = tmp_path / "plugins.yaml"
    config.write_text("settings:\n  load_unlisted_plugins: false\nplugins:\n  boom: {}\n")
    result = subprocess.run(
        [*tgstats_cli(), "demo", "--out", "out", "--plugins-config", str(config)],
        cwd=tmp_path,
        env=clean_env(project),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    logged = next(row for row in result.stderr.splitlines() if "demo_command_failed" in row)
    assert "plugin=boom command=boom" in logged, logged
    assert f"file={source} line={line}" in logged, logged
    assert "source={}['missing'] " in logged, logged
    assert "error=\"KeyError: 'missing'\"" in logged, logged
