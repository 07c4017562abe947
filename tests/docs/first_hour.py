"""The README's first three commands ("Writing a plugin") and its chat transcript, as printed.

:func:`run_first_hour` runs them in a folder with a given ``bin`` directory
first on PATH: the fast test uses this environment (with the plugin made
importable through its dist-info instead of pip), the slow one the fresh venv
of ``test_readme_example_in_a_fresh_venv``, with the real ``pip install -e``.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"
_COMMANDS = re.compile(r"<!-- first-hour-commands -->\s*```bash\n(?P<body>.*?)```", re.S)
_TRANSCRIPT = re.compile(r"<!-- first-hour-transcript -->\s*```\n(?P<body>.*?)```", re.S)
_TYPED = re.compile(r"^[^\s>][^>]*> (?P<line>.*)$")
BANNER_LINES = 4  # what `tgstats chat` prints before the first message


def first_hour_commands() -> list[list[str]]:
    found = _COMMANDS.search(README.read_text(encoding="utf-8"))
    assert found, "README.md has no <!-- first-hour-commands --> block"
    return [shlex.split(line, comments=True) for line in found["body"].splitlines() if line]


def first_hour_transcript() -> tuple[str, list[str]]:
    """(the script the member types, the transcript the README shows)."""
    found = _TRANSCRIPT.search(README.read_text(encoding="utf-8"))
    assert found, "README.md has no <!-- first-hour-transcript --> block"
    shown = found["body"].rstrip("\n").splitlines()
    typed = [m["line"] for m in map(_TYPED.match, shown) if m]
    return "".join(f"{line}\n" for line in typed), shown


def run_first_hour(
    workdir: Path, env: dict[str, str], *, pip: bool, after_new: object = None
) -> list[str]:
    """Run the README's commands in ``workdir``; the chat's transcript (banner dropped).

    Without ``pip`` the install step is skipped and ``after_new(project)`` is
    called instead (the fast test makes the plugin importable itself)."""
    script, _ = first_hour_transcript()
    transcript: list[str] = []
    for argv in first_hour_commands():
        if argv[0] == "pip":
            if pip:
                _check(subprocess.run(argv, cwd=workdir, env=env, **_OPTS))
            elif callable(after_new):
                after_new(workdir / argv[-1])
            continue
        stdin = script if argv[:2] == ["tgstats", "chat"] else None
        result = subprocess.run(argv, cwd=workdir, env=env, input=stdin, **_OPTS)
        _check(result)
        if stdin is not None:
            transcript = result.stdout.splitlines()[BANNER_LINES:]
    return transcript


_OPTS: dict[str, object] = {"capture_output": True, "text": True, "timeout": 300, "check": False}


def _check(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, (result.args, result.stdout, result.stderr)


def path_with(bindir: Path, env: dict[str, str]) -> dict[str, str]:
    return {**env, "PATH": f"{bindir}{os.pathsep}{env.get('PATH', '')}"}
