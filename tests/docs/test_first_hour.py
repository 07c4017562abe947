"""The README's "Writing a plugin" opening works as printed: new-plugin, then chat.

This is the fast check (this environment, the plugin made importable through
its dist-info); ``test_readme_example_in_a_fresh_venv`` runs the same steps
with the real ``pip install -e`` in a fresh venv.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..chat.plugin_project import add_dist_info, clean_env
from .first_hour import first_hour_commands, first_hour_transcript, path_with, run_first_hour


def test_the_readme_starts_with_new_plugin_and_chat() -> None:
    commands = first_hour_commands()
    assert [argv[:2] for argv in commands] == [
        ["tgstats", "new-plugin"],
        ["pip", "install"],
        ["tgstats", "chat"],
    ]
    script, shown = first_hour_transcript()
    assert script.splitlines()[:2] == ["hi", "/hello"] and len(shown) > len(script.splitlines())


def test_the_readme_steps_give_the_printed_transcript(tmp_path: Path) -> None:
    project = tmp_path / "plugins" / "hello"
    env = path_with(Path(sys.executable).parent, clean_env(project))
    transcript = run_first_hour(tmp_path, env, pip=False, after_new=add_dist_info)
    assert transcript == first_hour_transcript()[1]
