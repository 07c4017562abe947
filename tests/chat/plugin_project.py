"""A plugin made by `tgstats new-plugin`, importable without pip: its dist-info beside it.

The fast tests put the project on PYTHONPATH with a real ``*.dist-info`` that
declares its entry point (what pip would write), so discovery, loading and
hot reload see an installed plugin; the slow test does the real pip install.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def tgstats_cli() -> list[str]:
    beside = Path(sys.executable).with_name("tgstats")
    return [str(beside) if beside.exists() else (shutil.which("tgstats") or "tgstats")]


def new_plugin(where: Path, name: str = "hello", *extra: str) -> Path:
    """Run the real `tgstats new-plugin` in ``where``; the project folder."""
    result = subprocess.run(
        [*tgstats_cli(), "new-plugin", name, "--dir", name, *extra],
        cwd=where,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=clean_env(),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return where / name


def add_dist_info(project: Path) -> Path:
    """What `pip install` would leave for discovery: METADATA and entry_points.txt."""
    meta = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    info = project / f"{meta['name'].replace('-', '_')}-{meta['version']}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {meta['name']}\nVersion: {meta['version']}\n",
        encoding="utf-8",
    )
    group = meta["entry-points"]["tgstats.plugins"]
    lines = ["[tgstats.plugins]", *(f"{key} = {value}" for key, value in group.items())]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return project


def clean_env(*paths: Path) -> dict[str, str]:
    dropped = ("TGSTATS_", "PYTEST_", "PYTHONPATH", "PYTHONHOME")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["MPLBACKEND"] = "Agg"
    if paths:
        env["PYTHONPATH"] = os.pathsep.join(str(p) for p in paths)
    return env
