"""What a watcher looks at: plugin source trees, single files, install metadata.

The plugin manager builds a :class:`WatchTargets` from the enabled plugins and
the settings (``PluginManager.watch_targets()``); every watcher backend takes
one and the reloader maps a changed path back to what it affects.
"""

from __future__ import annotations

import os
from pathlib import Path

import attrs

from tgstats.host.importing import METADATA_SUFFIXES
from tgstats.hotreload import patterns

__all__ = ["WatchTargets", "meta_entries"]


@attrs.frozen
class WatchTargets:
    """Everything a watcher looks at.

    ``roots``: plugin source directories, scanned recursively and filtered by
    the patterns; ``files``: single files watched whatever the patterns say
    (the operator's plugins.yaml); ``meta_dirs``: directories on ``sys.path``
    of which only the ``*.dist-info``, ``*.egg-info`` and ``*.pth`` entries
    matter (installs and uninstalls).
    """

    roots: tuple[Path, ...] = ()
    files: tuple[Path, ...] = ()
    meta_dirs: tuple[Path, ...] = ()
    watch_patterns: tuple[str, ...] = ("*.py", "*.yaml", "*.yml")
    ignore_patterns: tuple[str, ...] = ()

    def is_watched(self, root: Path, path: Path) -> bool:
        """``path`` (under ``root``) should trigger a reload."""
        return patterns.is_watched(path, root, self.watch_patterns, self.ignore_patterns)

    def list_dir(self, root: Path, directory: str) -> tuple[list[str], list[str]]:
        """One listing of ``directory`` (under ``root``, itself not pruned):
        (unpruned subdirectories, watched files), as path strings."""
        return patterns.list_dir(directory, self.watch_patterns, self.ignore_patterns)

    def watched_files(self) -> list[Path]:
        """The watched files under the roots (sorted), then the single files that exist."""
        found = [
            Path(f)
            for root in self.roots
            for f in patterns.iter_watched(root, self.watch_patterns, self.ignore_patterns)
        ]
        return sorted(found) + [f for f in self.files if f.exists()]


def meta_entries(directory: Path | str) -> frozenset[str]:
    """The install-metadata entries of one ``sys.path`` directory."""
    try:
        return frozenset(n for n in os.listdir(directory) if n.endswith(METADATA_SUFFIXES))
    except OSError:
        return frozenset()
