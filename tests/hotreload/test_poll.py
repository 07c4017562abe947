"""The poll backend: what counts as a change, which files are watched, ticks on the loop."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import attrs
from tgstats.hotreload.poll import PollSnapshot, PollWatcher
from tgstats.hotreload.targets import WatchTargets

from ..plugin_env import wait_until
from .trees import IGNORE, rel, targets_for


def test_watched_files_follow_patterns_and_prune_ignored_dirs(tree: Path) -> None:
    snap = PollSnapshot(targets_for(tree))
    assert rel(tree, snap.paths()) == ["__init__.py", "core.py", "plugin.yaml", "sub/deep.py"]
    assert not any("__pycache__" in d or ".git" in d for d in snap.dirs)
    assert snap.tick() == set()


def test_modified_new_and_deleted_files(tree: Path) -> None:
    snap = PollSnapshot(targets_for(tree))
    (tree / "core.py").write_text("x = 22\n")
    (tree / "new.py").write_text("y = 1\n")
    (tree / "sub" / "deep.py").unlink()
    assert rel(tree, snap.tick()) == ["core.py", "new.py", "sub/deep.py"]
    assert snap.tick() == set()
    assert "sub/deep.py" not in rel(tree, snap.paths())


def test_restore_with_older_mtime_is_a_change(tree: Path) -> None:
    target = tree / "core.py"
    snap = PollSnapshot(targets_for(tree))
    st = target.stat()
    target.write_text("x = 2\n")  # same size
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns - 3_600 * 10**9))  # an hour older
    assert rel(tree, snap.tick()) == ["core.py"]


def test_atomic_rename_save_is_a_change(tree: Path) -> None:
    target = tree / "core.py"
    snap = PollSnapshot(targets_for(tree))
    st = target.stat()
    temp = tree / ".core.py.swp"
    temp.write_text("x = 3\n")
    os.utime(temp, ns=(st.st_atime_ns, st.st_mtime_ns))  # even the same mtime and size
    os.replace(temp, target)
    assert rel(tree, snap.tick()) == ["core.py"]


def test_ignored_files_and_dirs_never_report(tree: Path) -> None:
    snap = PollSnapshot(targets_for(tree))
    (tree / "__pycache__" / "x.py").write_text("1")
    (tree / ".git" / "HEAD.py").write_text("1")
    (tree / "NOTES.md").write_text("1")
    (tree / "_scratch.py").write_text("1")
    (tree / "data.json").write_text("1")
    (tree / "README.md").write_text("changed")
    assert snap.tick() == set()


def test_new_directory_and_deleted_directory(tree: Path) -> None:
    snap = PollSnapshot(targets_for(tree))
    (tree / "fresh" / "inner").mkdir(parents=True)
    (tree / "fresh" / "inner" / "mod.py").write_text("1")
    assert rel(tree, snap.tick()) == ["fresh/inner/mod.py"]
    for path in sorted((tree / "fresh").rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    (tree / "fresh").rmdir()
    assert rel(tree, snap.tick()) == ["fresh/inner/mod.py"]
    assert not any("fresh" in d for d in snap.dirs)


def test_single_file_missing_then_created(tmp_path: Path) -> None:
    config = tmp_path / "plugins.yaml"
    snap = PollSnapshot(WatchTargets(files=(config,)))
    assert snap.tick() == set()
    config.write_text("settings: {}\n")
    assert snap.tick() == {config}
    config.unlink()
    assert snap.tick() == {config}


def test_metadata_entries_of_sys_path_dirs(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    snap = PollSnapshot(WatchTargets(meta_dirs=(site,)))
    (site / "x-1.0.dist-info").mkdir()
    (site / "x.pth").write_text("")
    (site / "unrelated.txt").write_text("")
    assert snap.tick() == {site / "x-1.0.dist-info", site / "x.pth"}
    (site / "x.pth").unlink()
    assert snap.tick() == {site / "x.pth"}


@attrs.frozen
class CountingTargets(WatchTargets):
    listed: list[str] = attrs.field(factory=list, eq=False)

    def list_dir(self, root: Path, directory: str) -> tuple[list[str], list[str]]:
        self.listed.append(directory)
        return super().list_dir(root, directory)


def test_tick_stats_known_files_and_lists_only_changed_dirs(tree: Path) -> None:
    targets = CountingTargets(roots=(tree,), ignore_patterns=IGNORE)
    snap = PollSnapshot(targets)
    targets.listed.clear()
    (tree / "core.py").write_text("changed = True\n")  # no directory change
    snap.tick()
    assert targets.listed == []
    (tree / "sub" / "added.py").write_text("1")
    assert rel(tree, snap.tick()) == ["sub/added.py"]
    assert targets.listed == [str(tree / "sub")]


async def test_poll_watcher_reports_on_the_loop(tree: Path) -> None:
    seen: list[set[Path]] = []
    watcher = PollWatcher(targets_for(tree), interval=0.02)
    watcher.start(seen.append)
    try:
        await asyncio.sleep(0.05)
        (tree / "core.py").write_text("x = 'poll'\n")
        await wait_until(lambda: bool(seen))
        assert rel(tree, set().union(*seen)) == ["core.py"]
        # Retargeting (new roots after a reload) keeps reporting.
        other = tree.parent / "other"
        other.mkdir()
        await watcher.retarget(WatchTargets(roots=(tree, other), ignore_patterns=IGNORE))
        seen.clear()
        (other / "mod.py").write_text("1")
        await wait_until(lambda: any(other / "mod.py" in batch for batch in seen))
    finally:
        await watcher.stop()


async def test_retarget_keeps_changes_made_since_the_last_tick(tree: Path, tmp_path: Path) -> None:
    seen: list[set[Path]] = []
    watcher = PollWatcher(targets_for(tree), interval=3600)  # no tick runs by itself
    watcher.start(seen.append)
    try:
        # Edits made while a reload round ran, before the watcher was retargeted.
        (tree / "core.py").write_text("x = 'changed'\n")
        (tree / "added.py").write_text("1")
        (tree / "sub" / "deep.py").unlink()
        other = tmp_path / "other"  # a plugin that round loaded: its files are not changes
        other.mkdir()
        (other / "mod.py").write_text("1")
        await watcher.retarget(WatchTargets(roots=(tree, other), ignore_patterns=IGNORE))
        changed = set().union(*seen) | watcher.snapshot.tick()
        assert sorted(p.relative_to(tmp_path).as_posix() for p in changed) == [
            "pkg/added.py",
            "pkg/core.py",
            "pkg/sub/deep.py",
        ]
    finally:
        await watcher.stop()
