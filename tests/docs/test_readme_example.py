"""The README's plugin example must work exactly as printed.

The example's files are taken from README.md (each code block after an
``<!-- example-file: PATH -->`` marker), written to a temporary project, made
importable through a real ``*.dist-info`` with the example's entry point, and
then checked with the real ``tgstats`` command line and the example's own test.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
_BLOCK = re.compile(r"<!-- example-file: (?P<path>\S+) -->\s*```[a-z]*\n(?P<body>.*?)```", re.S)


def example_files() -> dict[str, str]:
    files = {m["path"]: m["body"] for m in _BLOCK.finditer(README.read_text(encoding="utf-8"))}
    assert files, "README.md has no <!-- example-file: ... --> blocks"
    return files


@pytest.fixture
def example_project(tmp_path: Path) -> Path:
    """The example written out, plus a dist-info that declares its entry point."""
    project = tmp_path / "tgstats-count"
    for rel, body in example_files().items():
        path = project / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8")
    meta = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    info = project / f"{meta['name'].replace('-', '_')}-{meta['version']}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {meta['name']}\nVersion: {meta['version']}\n",
        encoding="utf-8",
    )
    group = meta["entry-points"]["tgstats.plugins"]
    lines = ["[tgstats.plugins]", *(f"{name} = {value}" for name, value in group.items())]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return project


def _env(project: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TGSTATS_")}
    env["PYTHONPATH"] = str(project)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _tgstats() -> str:
    beside = Path(sys.executable).with_name("tgstats")
    return str(beside) if beside.exists() else (shutil.which("tgstats") or "tgstats")


def test_readme_example_is_discovered_with_its_plugin_yaml(example_project: Path) -> None:
    result = subprocess.run(
        [_tgstats(), "plugins", "show", "message_count"],
        capture_output=True,
        text=True,
        env=_env(example_project),
        cwd=example_project,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "state:         loaded" in result.stdout
    # days comes from the example's plugin.yaml, greeting from the code default.
    assert re.search(r"days\s+= 14\s+# plugin\.yaml", result.stdout), result.stdout
    assert re.search(r'greeting\s+= "Hi"\s+# code default', result.stdout), result.stdout
    assert "/count" in result.stdout or "count" in result.stdout


def test_readme_example_test_passes(example_project: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-o",
            "asyncio_mode=auto",
            "-o",
            "asyncio_default_fixture_loop_scope=function",
            "-W",
            "error",
            "tests/test_count.py",
        ],
        capture_output=True,
        text=True,
        env=_env(example_project),
        cwd=example_project,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
