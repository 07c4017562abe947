"""Choosing and building the backend named by ``settings.watcher``."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from tgstats import hotreload
from tgstats.hotreload.backends import create_watcher, native_available

from .trees import targets_for


def test_auto_prefers_native_where_available(tree: Path) -> None:
    watcher = create_watcher("auto", targets_for(tree), interval=1.0)
    assert watcher.backend == ("native" if native_available() else "poll")
    with pytest.raises(ValueError, match="expected poll, native or auto"):
        create_watcher("inotify", targets_for(tree), interval=1.0)  # type: ignore[arg-type]


def test_poll_never_imports_watchfiles(tree: Path) -> None:
    # A fresh interpreter: this one imported watchfiles for the native tests.
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from tgstats.hotreload.backends import create_watcher\n"
        "from tgstats.hotreload.reloader import Reloader\n"
        "from tgstats.hotreload.targets import WatchTargets\n"
        f"w = create_watcher('poll', WatchTargets(roots=(Path({str(tree)!r}),)), interval=1.0)\n"
        "assert w.backend == 'poll', w.backend\n"
        "assert 'watchfiles' not in sys.modules, 'watchfiles imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def _hotreload_modules(source: Path) -> set[str]:
    """The ``tgstats.hotreload`` modules that ``source`` imports, anywhere in its code."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(), str(source))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for parts in (name.split(".") for name in names):
            if parts[:2] == ["tgstats", "hotreload"] and len(parts) > 2:
                found.add(".".join(parts[:3]))
    return found


@pytest.mark.parametrize("backend", ["poll", "native"])
def test_backends_import_only_targets_and_the_interface(backend: str) -> None:
    # The factory imports the backends; a backend importing it back is the cycle.
    source = Path(hotreload.__file__).parent / f"{backend}.py"
    allowed = {"tgstats.hotreload.targets", "tgstats.hotreload.watcher"}
    assert _hotreload_modules(source) <= allowed, _hotreload_modules(source) - allowed
