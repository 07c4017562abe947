"""The native backend (OS notifications through watchfiles), where the platform has one."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from tgstats.hotreload.backends import native_available
from tgstats.hotreload.native import NativeWatcher

from ..plugin_env import wait_until
from .trees import targets_for


@pytest.mark.skipif(not native_available(), reason="no OS notification backend here")
async def test_native_backend_detects_a_save(tree: Path, tmp_path: Path) -> None:
    config = tmp_path / "plugins.yaml"
    config.write_text("a: 1\n")
    seen: list[set[Path]] = []
    watcher = NativeWatcher(targets_for(tree, files=(config,)), interval=1.0)
    assert watcher.backend == "native"
    watcher.start(seen.append)
    try:
        await asyncio.sleep(0.2)  # let inotify register its watches
        (tree / "sub" / "deep.py").write_text("x = 'native'\n")
        await wait_until(lambda: any(tree / "sub" / "deep.py" in b for b in seen), timeout=3)
        (tree / "__pycache__" / "junk.py").write_text("1")
        (tree / "notes.md").write_text("1")
        config.write_text("a: 2\n")
        await wait_until(lambda: any(config in b for b in seen), timeout=3)
        everything = set().union(*seen)
        assert tree / "notes.md" not in everything
        assert tree / "__pycache__" / "junk.py" not in everything
    finally:
        await watcher.stop()


@pytest.mark.skipif(not native_available(), reason="no OS notification backend here")
async def test_native_failure_is_reported(tree: Path) -> None:
    failures: list[BaseException] = []
    watcher = NativeWatcher(targets_for(tree), interval=1.0)
    watcher.start(lambda _paths: None, failures.append)
    # The OS watch is set up when the task first runs: pull the folder away first.
    for path in sorted(tree.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    tree.rmdir()
    try:
        await wait_until(lambda: bool(failures), timeout=3)
        assert isinstance(failures[0], OSError)
    finally:
        await watcher.stop()
