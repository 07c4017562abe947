"""Fixtures for the plugin-host tests: real fake distributions on sys.path."""

from __future__ import annotations

import importlib
import itertools
import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tgstats.config import HostConfig, load_host_config

_counter = itertools.count()

MakeDist = Callable[..., Path]


def _unique(prefix: str) -> str:
    return f"{prefix}_{next(_counter)}"


@pytest.fixture
def unique_name() -> Callable[[str], str]:
    """Names no other test in this process used (sys.modules keeps old imports)."""
    return _unique


@pytest.fixture
def site_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh folder on sys.path (like site-packages); fake packages are purged after."""
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    before = set(sys.modules)
    yield site
    for name in set(sys.modules) - before:
        module = sys.modules.get(name)
        file = getattr(module, "__file__", None) or ""
        if file.startswith(str(tmp_path)) or name.startswith("fakeplug"):
            del sys.modules[name]
    importlib.invalidate_caches()


@pytest.fixture
def make_dist(site_dir: Path) -> MakeDist:
    """Write a real ``*.dist-info`` into ``site_dir``; returns the dist-info folder.

    ``entry_points`` maps plugin name -> entry-point value; ``files`` maps a
    path relative to ``site_dir`` (or absolute) -> file text; ``editable_root``
    writes a PEP 610 direct_url.json marking an editable install of that folder.
    """

    def make(
        dist: str,
        *,
        version: str = "1.0",
        entry_points: dict[str, str] | None = None,
        files: dict[str, str] | None = None,
        editable_root: Path | None = None,
    ) -> Path:
        info = site_dir / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n", encoding="utf-8"
        )
        lines = ["[tgstats.plugins]"]
        lines += [f"{name} = {value}" for name, value in (entry_points or {}).items()]
        (info / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        if editable_root is not None:
            direct = {"url": editable_root.as_uri(), "dir_info": {"editable": True}}
            (info / "direct_url.json").write_text(json.dumps(direct), encoding="utf-8")
        for rel, text in (files or {}).items():
            path = Path(rel) if Path(rel).is_absolute() else site_dir / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text), encoding="utf-8")
        importlib.invalidate_caches()
        return info

    return make


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[[str], Path]:
    """Write a plugins.yaml with ``text`` (dedented) and return its path."""

    def write(text: str, name: str = "plugins.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


@pytest.fixture
def empty_host_config(write_config: Callable[[str], Path]) -> HostConfig:
    return load_host_config(write_config(""))


@pytest.fixture
def plugin_source() -> str:
    """Source of a small valid plugin module (class ``FakePlugin``)."""
    return PLUGIN_MODULE


PLUGIN_MODULE = """\
from __future__ import annotations

import attrs

from tgstats.plugins import Plugin, TextReply, command


@attrs.frozen
class Config:
    days: int = 30
    title: str = "hello"


class FakePlugin(Plugin[Config]):
    Config = Config

    @command("fake", "a fake command")
    def fake(self, ctx):
        return TextReply(self.config.title)
"""


def _tgstats_executable() -> str:
    # The console script of the interpreter running the tests (tox's venv or
    # the global one), not whatever `tgstats` comes first on PATH.
    beside = Path(sys.executable).with_name("tgstats")
    if beside.exists():
        return str(beside)
    found = shutil.which("tgstats")
    if found is None:
        pytest.fail("the tgstats console script is not installed (pip install -e .)")
    return found


@pytest.fixture
def run_tgstats(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the real ``tgstats`` console script; ``pythonpath`` adds fake distributions."""

    def run(
        *args: str, pythonpath: Path | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("TGSTATS_")}
        full_env["PYTHONDONTWRITEBYTECODE"] = "1"
        if pythonpath is not None:
            full_env["PYTHONPATH"] = str(pythonpath)
        full_env.update(env or {})
        return subprocess.run(
            [_tgstats_executable(), *args],
            capture_output=True,
            text=True,
            env=full_env,
            cwd=tmp_path,
            timeout=90,
            check=False,
        )

    return run
