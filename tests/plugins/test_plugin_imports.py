"""The shipped plugins use the SDK only: their code and their tests import no other tgstats.

The imports are read with ``ast`` from every ``.py`` file of each plugin
distribution under plugins/ (its package and its tests).  Allowed: the
standard library and third-party modules, the plugin's own package (absolute
or relative), ``tgstats.plugins`` and ``tgstats.testing``.  ``importlib`` or
``__import__`` calls with a literal module name count as imports too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"
SHIPPED = [
    "activity",
    "digest",
    "engagement",
    "heatmap",
    "profile",
    "reply_graph",
    "word_cloud",
]
ALLOWED_TGSTATS = {"tgstats.plugins", "tgstats.testing"}
SKIP_DIRS = {"build", "dist", "__pycache__"}


def imported_modules(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, dotted module name) of every absolute import in ``tree``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "tgstats":
                # `from tgstats import plugins` imports tgstats.plugins.
                for alias in node.names:
                    yield node.lineno, f"tgstats.{alias.name}"
            else:
                yield node.lineno, node.module
        elif (
            isinstance(node, ast.Call)
            and _is_dynamic_import(node.func)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.lineno, node.args[0].value


def _is_dynamic_import(func: ast.expr) -> bool:
    if isinstance(func, ast.Name):
        return func.id in {"__import__", "import_module"}
    return isinstance(func, ast.Attribute) and func.attr == "import_module"


def forbidden(module: str) -> bool:
    top = module.partition(".")[0]
    return top == "tgstats" and module not in ALLOWED_TGSTATS


def python_files(project: Path) -> list[Path]:
    return sorted(
        path
        for path in project.rglob("*.py")
        if not SKIP_DIRS.intersection(path.relative_to(project).parts)
        and not any(part.endswith(".egg-info") for part in path.parts)
    )


def test_every_shipped_plugin_is_scanned() -> None:
    assert sorted(p.name for p in PLUGINS.iterdir() if (p / "pyproject.toml").is_file()) == SHIPPED


@pytest.mark.parametrize("plugin", SHIPPED)
def test_plugin_imports_only_the_sdk(plugin: str) -> None:
    project = PLUGINS / plugin
    files = python_files(project)
    # Both halves are scanned: the package and its tests (else the test proves nothing).
    assert any(f.parts[len(project.parts)] == "tests" for f in files), files
    assert any(f.parts[len(project.parts)].startswith("tgstats_") for f in files), files
    wrong = [
        f"{path.relative_to(PLUGINS.parent)}:{line}: imports {module}"
        for path in files
        for line, module in imported_modules(ast.parse(path.read_bytes(), filename=str(path)))
        if forbidden(module)
    ]
    assert not wrong, "only tgstats.plugins and tgstats.testing are allowed:\n" + "\n".join(wrong)


@pytest.mark.parametrize(
    ("source", "bad"),
    [
        ("import tgstats.store", ["tgstats.store"]),
        ("from tgstats.store.queries import MessageRow", ["tgstats.store.queries"]),
        ("from tgstats import logs, plugins", ["tgstats.logs"]),
        ("from tgstats.plugins._periods import Period", ["tgstats.plugins._periods"]),
        ("import tgstats", ["tgstats"]),
        ("importlib.import_module('tgstats.host.invoke')", ["tgstats.host.invoke"]),
        ("from tgstats.plugins import Plugin\nfrom tgstats.testing import utc", []),
        ("import tgstats_heatmap.render\nfrom . import render\nimport numpy", []),
    ],
)
def test_the_scan_tells_sdk_from_host_imports(source: str, bad: list[str]) -> None:
    found = [module for _, module in imported_modules(ast.parse(source)) if forbidden(module)]
    assert found == bad
