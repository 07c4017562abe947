"""Import-system plumbing for reloads: purge/restore a plugin's modules,
never trust bytecode for plugin code, and replay ``.pth`` files of new installs.

Why each piece exists:

- ``ep.load()`` returns whatever is cached in ``sys.modules``; a reload must
  first remove the plugin's own modules (its top-level package and every
  submodule) and put them back untouched if the new version fails.
- CPython trusts a ``.pyc`` whose recorded source mtime (whole seconds) and
  size match: an edit within the same second that keeps the size would run
  stale bytecode.  :class:`SourceOnlyFinder` sits first on ``sys.meta_path``
  and hands plugin modules a loader that always compiles from source and
  never writes a ``.pyc``.
- A new editable install adds a ``.pth`` file that ``site`` only reads at
  interpreter start; :class:`PthReplayer` processes the ones it has not seen.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
from collections.abc import Iterable, Sequence
from importlib.abc import MetaPathFinder
from importlib.machinery import ModuleSpec, SourceFileLoader
from pathlib import Path
from types import CodeType, ModuleType

from tgstats.logs import get_logger

__all__ = [
    "METADATA_SUFFIXES",
    "PROTECTED_PACKAGES",
    "PthReplayer",
    "SourceOnlyFinder",
    "SourceOnlyLoader",
    "metadata_dirs",
    "purge_modules",
    "restore_modules",
]

log = get_logger(__name__)

# Never purged, whatever a plugin's entry point claims as its top level.
PROTECTED_PACKAGES = frozenset({"tgstats", "__main__", "builtins", "sys", "importlib", "site"})

METADATA_SUFFIXES = (".dist-info", ".egg-info", ".pth")


def _owned(name: str, top_level: str) -> bool:
    return name == top_level or name.startswith(top_level + ".")


def _check_top_level(top_level: str) -> None:
    if not top_level or "." in top_level:
        raise ValueError(f"expected a top-level package name, found {top_level!r}")
    if top_level in PROTECTED_PACKAGES or top_level in sys.stdlib_module_names:
        raise ValueError(f"refusing to purge {top_level!r}: it is not a plugin's own package")


def purge_modules(top_level: str) -> dict[str, ModuleType]:
    """Remove ``top_level`` and its submodules from ``sys.modules``; return them.

    Only the plugin's own package goes: third-party libraries it imported
    (matplotlib costs seconds to import again) stay cached.
    """
    _check_top_level(top_level)
    removed = {name: mod for name, mod in list(sys.modules.items()) if _owned(name, top_level)}
    for name in removed:
        del sys.modules[name]
    return removed


def restore_modules(top_level: str, saved: dict[str, ModuleType]) -> None:
    """Undo a failed import: drop whatever the attempt imported, put ``saved`` back."""
    _check_top_level(top_level)
    for name in [n for n in sys.modules if _owned(n, top_level)]:
        del sys.modules[name]
    sys.modules.update(saved)
    # A parent package keeps its submodules as attributes; the failed attempt
    # never touched the old parent objects, so they still point at old children.


class SourceOnlyLoader(SourceFileLoader):
    """A source loader that neither reads nor writes bytecode caches."""

    def get_code(self, fullname: str) -> CodeType:
        path = self.get_filename(fullname)
        source = self.get_data(path)
        return self.source_to_code(source, path)


class SourceOnlyFinder(MetaPathFinder):
    """First on ``sys.meta_path``; for managed packages only, asks the other
    finders (setuptools' editable finders, PathFinder) for the spec and swaps
    in :class:`SourceOnlyLoader`.  Other modules are not looked at."""

    def __init__(self, packages: Iterable[str] = ()) -> None:
        self.packages: set[str] = set(packages)
        self._busy = threading.local()

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: ModuleType | None = None,
    ) -> ModuleSpec | None:
        if fullname.partition(".")[0] not in self.packages or getattr(self._busy, "on", False):
            return None
        self._busy.on = True
        try:
            spec = self._delegate(fullname, path, target)
        finally:
            self._busy.on = False
        if spec is not None and type(spec.loader) is SourceFileLoader and spec.origin:
            spec.loader = SourceOnlyLoader(fullname, spec.origin)
        return spec

    def _delegate(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None
    ) -> ModuleSpec | None:
        for finder in list(sys.meta_path):
            if finder is self:
                continue
            find_spec = getattr(finder, "find_spec", None)
            if find_spec is None:
                continue
            spec = find_spec(fullname, path, target)
            if spec is not None:
                return spec
        return None

    def install(self) -> None:
        if self not in sys.meta_path:
            sys.meta_path.insert(0, self)

    def uninstall(self) -> None:
        while self in sys.meta_path:
            sys.meta_path.remove(self)


def metadata_dirs() -> list[Path]:
    """Existing directories on ``sys.path`` (site-packages and friends): where
    installs add ``*.dist-info``, ``*.egg-info`` and ``*.pth`` entries."""
    seen: dict[str, Path] = {}
    for entry in sys.path:
        path = Path(entry or os.getcwd())
        key = os.path.normcase(os.path.abspath(path))
        if key not in seen and path.is_dir():
            seen[key] = path
    return list(seen.values())


def _pth_files(directory: Path) -> list[Path]:
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    return sorted(directory / n for n in names if n.endswith(".pth"))


class PthReplayer:
    """Process ``.pth`` files that appeared after start-up, the way ``site`` would.

    Files present when the replayer is created count as processed (``site``
    read them at start).  A path line is appended to ``sys.path`` if it
    exists; an ``import`` line is executed (setuptools' editable finders
    install themselves that way).
    """

    def __init__(self, dirs: Iterable[Path] | None = None) -> None:
        self._seen: set[Path] = set()
        for directory in metadata_dirs() if dirs is None else dirs:
            self._seen.update(_pth_files(directory))

    def replay(self, dirs: Iterable[Path] | None = None) -> list[Path]:
        processed = []
        for directory in metadata_dirs() if dirs is None else dirs:
            for pth in _pth_files(directory):
                if pth in self._seen:
                    continue
                self._seen.add(pth)
                self._process(directory, pth)
                processed.append(pth)
        if processed:
            importlib.invalidate_caches()
        return processed

    def _process(self, sitedir: Path, pth: Path) -> None:
        try:
            lines = pth.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            log.warning("pth_replay_failed", path=str(pth), error=str(exc))
            return
        for number, line in enumerate(lines, start=1):
            if not line.strip() or line.startswith("#"):
                continue
            try:
                if line.startswith(("import ", "import\t")):
                    exec(line, {})  # what site.addpackage does
                    continue
                directory = os.path.abspath(os.path.join(sitedir, line.rstrip()))
                if os.path.exists(directory) and directory not in sys.path:
                    sys.path.append(directory)
            except Exception as exc:
                log.warning("pth_replay_failed", path=str(pth), line=number, error=repr(exc))
                return
        log.info("pth_replayed", path=str(pth))
