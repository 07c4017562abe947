"""Benchmark the watched-file rules (tgstats.hotreload.patterns) on synthetic plugin trees.

Run by hand (not a test):

    python bench/patterns_bench.py                   # 100, 1k and 10k files
    python bench/patterns_bench.py --sizes 50000

For each tree size it measures, with the default settings of plugins.yaml:

* ``watched_files``: one full scan of the tree (what the poll watcher's
  snapshot and ``tgstats plugins show`` do), pruning ``__pycache__``/``.git``;
* ``is_watched``: the per-path rule the native watcher's event filter calls,
  over every file of the tree;
* a naive baseline: ``os.walk`` + ``fnmatch`` on every name without pruning,
  to show what the compiled matcher and pruning buy.

A third of the files sit in ``__pycache__`` and ``.git`` folders (as in a
real checkout after a few runs), a few are README/markdown/underscore files.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table
from tgstats.config import Settings
from tgstats.hotreload.patterns import is_watched, watched_files


def build_tree(root: Path, files: int) -> None:
    per_dir = 20
    for i in range(files):
        group = i // per_dir
        kind = i % 6
        if kind in (0, 1):  # a third: bytecode and VCS objects, pruned folders
            folder = root / f"pkg{group % 50}" / ("__pycache__" if kind == 0 else ".git")
            name = f"m{i}.cpython-311.pyc" if kind == 0 else f"obj{i}"
        else:
            folder = root / f"pkg{group % 50}" / f"sub{group}"
            name = ("README.md", f"_p{i}.py", f"m{i}.py", f"c{i}.yaml")[kind - 2]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(b"")


def naive(root: Path, settings: Settings) -> list[str]:
    out = []
    for folder, _dirs, names in os.walk(root):
        parts = Path(folder).relative_to(root).parts
        if any(fnmatch.fnmatch(p, pat) for p in parts for pat in settings.ignore_patterns):
            continue
        for name in names:
            if name.startswith("_") and name != "__init__.py":
                continue
            if any(fnmatch.fnmatch(name, pat) for pat in settings.ignore_patterns):
                continue
            if any(fnmatch.fnmatch(name, pat) for pat in settings.watch_patterns):
                out.append(os.path.join(folder, name))
    return out


def best_of(runs: int, func) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    settings = Settings()
    table = Table(title=f"watched-file rules (best of {args.runs} runs)")
    for column in (
        "files",
        "watched",
        "watched_files",
        "is_watched (all)",
        "per path",
        "naive walk+fnmatch",
    ):
        table.add_column(column, justify="right")
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            build_tree(root, size)
            every = [Path(f, n) for f, _, names in os.walk(root) for n in names]
            found = watched_files(root, settings)
            assert sorted(naive(root, settings)) == [str(p) for p in found]
            scan = best_of(args.runs, lambda r=root: watched_files(r, settings))
            rule = best_of(
                args.runs,
                lambda r=root, e=every: [
                    is_watched(p, r, settings.watch_patterns, settings.ignore_patterns) for p in e
                ],
            )
            slow = best_of(args.runs, lambda r=root: naive(r, settings))
            table.add_row(
                f"{len(every):,}",
                f"{len(found):,}",
                f"{scan * 1000:.1f} ms",
                f"{rule * 1000:.1f} ms",
                f"{rule / len(every) * 1e6:.2f} µs",
                f"{slow * 1000:.1f} ms",
            )
    Console().print(table)


if __name__ == "__main__":
    main()
