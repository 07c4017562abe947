"""What a watcher looks at: the watched files of the targets, install metadata entries."""

from __future__ import annotations

from pathlib import Path

from tgstats.hotreload.targets import WatchTargets, meta_entries

from .trees import rel, targets_for


def test_watched_files_are_the_roots_files_sorted_then_existing_single_files(
    tree: Path, tmp_path: Path
) -> None:
    config, missing = tmp_path / "plugins.yaml", tmp_path / "absent.yaml"
    config.write_text("settings: {}\n")
    files = targets_for(tree, files=(config, missing)).watched_files()
    assert files[-1] == config and missing not in files
    assert rel(tree, files[:-1]) == ["__init__.py", "core.py", "plugin.yaml", "sub/deep.py"]


def test_is_watched_applies_the_targets_patterns(tree: Path) -> None:
    targets = WatchTargets(roots=(tree,), watch_patterns=("*.md",))
    assert targets.is_watched(tree, tree / "README.md")
    assert not targets.is_watched(tree, tree / "core.py")


def test_meta_entries_are_only_install_metadata(tmp_path: Path) -> None:
    (tmp_path / "a-1.0.dist-info").mkdir()
    (tmp_path / "b.egg-info").mkdir()
    (tmp_path / "c.pth").write_text("")
    (tmp_path / "module.py").write_text("")
    assert meta_entries(tmp_path) == {"a-1.0.dist-info", "b.egg-info", "c.pth"}
    assert meta_entries(tmp_path / "gone") == frozenset()
