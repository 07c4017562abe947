"""Shared by the watcher tests: a small plugin tree with files to watch and to ignore."""

from __future__ import annotations

from pathlib import Path

import pytest
from tgstats.hotreload.targets import WatchTargets

__all__ = ["IGNORE", "rel", "targets_for", "tree"]

IGNORE = ("README.md", "*.md", "__pycache__", "*.pyc", ".git")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "pkg"
    (root / "sub").mkdir(parents=True)
    (root / "__pycache__").mkdir()
    (root / ".git").mkdir()
    for rel in ["__init__.py", "core.py", "plugin.yaml", "sub/deep.py", "README.md"]:
        (root / rel).write_text("x = 1\n")
    (root / "_private.py").write_text("x = 1\n")
    (root / "__pycache__" / "core.py").write_text("x = 1\n")
    (root / ".git" / "config.yaml").write_text("x: 1\n")
    return root


def targets_for(root: Path, **kw: object) -> WatchTargets:
    return WatchTargets(roots=(root,), ignore_patterns=IGNORE, **kw)  # type: ignore[arg-type]


def rel(root: Path, paths: set[Path] | list[Path]) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in paths)
