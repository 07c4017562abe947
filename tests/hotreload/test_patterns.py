"""Watched-file rules: the documented examples, on real files."""

from __future__ import annotations

from pathlib import Path

import pytest
from tgstats.config import Settings
from tgstats.hotreload.patterns import (
    is_ignored_dir,
    is_ignored_name,
    is_watched,
    is_watched_name,
    watched_files,
)

DEFAULT = Settings()
WATCH, IGNORE = DEFAULT.watch_patterns, DEFAULT.ignore_patterns


# The rules' examples with the default config (relative to the plugins root).
WATCH_EXAMPLES = [
    ("engagement/engagements.py", True),
    ("engagement/plugin.yaml", True),
    ("heatmap/service.py", True),
    ("plugins.yaml", True),
    ("heatmap/README.md", False),
    ("heatmap/NOTES.md", False),
    ("engagement/__pycache__/engagements.cpython-311.pyc", False),
    ("engagement/__pycache__/stale.py", False),  # the folder is ignored whole
    ("engagement/_private.py", False),  # any file starting with _
    ("engagement/_config.yaml", False),
    ("engagement/__init__.py", True),  # except package entry files
    ("engagement/__main__.py", False),
    ("engagement/.git/config.yml", False),
    ("engagement/sub/deep/x.yml", True),
    ("engagement/data.json", False),  # not in watch_patterns
    ("engagement/engagements.pyc", False),
    ("engagement/engagements.py~", False),
]


@pytest.mark.parametrize(("rel", "expected"), WATCH_EXAMPLES)
def test_watch_rule_examples(tmp_path, rel, expected):
    assert is_watched(tmp_path / rel, tmp_path, WATCH, IGNORE) is expected


CUSTOM_EXAMPLES = [
    # "Watch All Files": '*' still loses to ignore patterns and the _ rule
    (("*",), IGNORE, "p/anything.bin", True),
    (("*",), IGNORE, "p/README.md", False),
    (("*",), IGNORE, "p/_hidden", False),
    # "Watch Specific Types"
    (("*.py", "*.json", "*.txt", "config.*"), IGNORE, "p/config.toml", True),
    (("*.py", "*.json", "*.txt", "config.*"), IGNORE, "p/data.json", True),
    (("*.py", "*.json", "*.txt", "config.*"), IGNORE, "p/plugin.yaml", False),
    # "Ignore Additional Patterns"
    (WATCH, (*IGNORE, "test_*.py", "*.bak", ".vscode"), "p/test_render.py", False),
    (WATCH, (*IGNORE, "test_*.py", "*.bak", ".vscode"), "p/render.py", True),
    (WATCH, (*IGNORE, "test_*.py", "*.bak", ".vscode"), "p/.vscode/settings.py", False),
    (("*.py", "*.bak"), ("*.bak",), "p/x.bak", False),  # ignore wins over watch
    # nothing watched / nothing ignored
    ((), IGNORE, "p/x.py", False),
    (WATCH, (), "p/__pycache__/x.py", True),
]


@pytest.mark.parametrize(("watch", "ignore", "rel", "expected"), CUSTOM_EXAMPLES)
def test_customisation_examples(tmp_path, watch, ignore, rel, expected):
    assert is_watched(tmp_path / rel, tmp_path, watch, ignore) is expected


def test_the_root_folder_name_itself_is_never_ignored(tmp_path):
    root = tmp_path / "__pycache__"  # odd, but the operator chose it
    assert is_watched(root / "x.py", root, WATCH, IGNORE)
    assert not is_ignored_dir(root, root, IGNORE)
    assert is_ignored_dir(root / "a" / ".git" / "b", root, IGNORE)
    assert not is_ignored_dir(root / "a" / "b", root, IGNORE)


def test_underscore_folders_are_scanned(tmp_path):
    assert is_watched(tmp_path / "_impl" / "core.py", tmp_path, WATCH, IGNORE)


def test_path_outside_root_is_judged_by_name(tmp_path):
    assert is_watched(tmp_path / "plugins.yaml", tmp_path / "elsewhere", WATCH, IGNORE)
    assert not is_watched(tmp_path / "README.md", tmp_path / "elsewhere", WATCH, IGNORE)


def test_string_paths_and_trailing_separator(tmp_path):
    assert is_watched(str(tmp_path / "a" / "b.py"), str(tmp_path) + "/", WATCH, IGNORE)
    assert not is_watched(str(tmp_path / ".git" / "b.py"), str(tmp_path), WATCH, IGNORE)


def test_name_helpers():
    assert is_ignored_name("__pycache__", IGNORE)
    assert not is_ignored_name("pkg", IGNORE)
    assert is_watched_name("__init__.py", WATCH, IGNORE)
    assert not is_watched_name("_x.py", WATCH, IGNORE)


def _touch(root: Path, *rels: str) -> None:
    for rel in rels:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x", encoding="utf-8")


def test_watched_files_walks_real_tree_and_prunes(tmp_path):
    _touch(
        tmp_path,
        "__init__.py",
        "plugin.py",
        "plugin.yaml",
        "README.md",
        "_scratch.py",
        "__pycache__/plugin.cpython-311.pyc",
        "__pycache__/weird.py",
        ".git/hooks/pre-commit.py",
        "render/__init__.py",
        "render/fonts.yml",
        "render/font.ttf",
        "_impl/core.py",
    )
    found = watched_files(tmp_path, DEFAULT)
    assert found == sorted(
        tmp_path / rel
        for rel in (
            "__init__.py",
            "plugin.py",
            "plugin.yaml",
            "render/__init__.py",
            "render/fonts.yml",
            "_impl/core.py",
        )
    )
    # Every listed file agrees with the single-path rule, and vice versa.
    every = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert sorted(p for p in every if is_watched(p, tmp_path, WATCH, IGNORE)) == found


def test_watched_files_does_not_follow_folder_symlinks(tmp_path):
    _touch(tmp_path, "pkg/a.py", "outside/b.py")
    (tmp_path / "pkg" / "loop").symlink_to(tmp_path / "pkg", target_is_directory=True)
    (tmp_path / "pkg" / "link.py").symlink_to(tmp_path / "outside" / "b.py")
    found = watched_files(tmp_path / "pkg", DEFAULT)
    assert found == [tmp_path / "pkg" / "a.py", tmp_path / "pkg" / "link.py"]


def test_watched_files_of_missing_root_is_empty(tmp_path):
    assert watched_files(tmp_path / "gone", DEFAULT) == []


def test_pattern_change_takes_effect(tmp_path):
    _touch(tmp_path, "a.py", "b.json")
    custom = Settings(watch_patterns=("*.json",))
    assert watched_files(tmp_path, custom) == [tmp_path / "b.json"]
    assert watched_files(tmp_path, DEFAULT) == [tmp_path / "a.py"]
