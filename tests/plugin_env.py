"""Throwaway plugin distributions for the manager, reload and bot tests.

Each test gets its own site directory (on ``sys.path``) holding fake
``*.dist-info`` folders (METADATA, entry_points.txt, direct_url.json), and a
source tree with real plugin packages, so discovery, imports and reloads are
the real thing.  Package names are unique per test: ``sys.modules`` is
process-wide.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import sys
import textwrap
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
import yaml
from tgstats.host.manager import PluginChange, PluginManager
from tgstats.host.records import ConfigProblem, PluginRecord
from tgstats.host.services import make_host_factory

_counter = itertools.count()

PLUGIN_TEMPLATE = """\
from __future__ import annotations

import attrs

from tgstats.plugins import Plugin, TextReply, command

VALUE = {value!r}


@attrs.frozen
class Config:
    greeting: str = "hello"


class {cls}(Plugin[Config]):
    Config = Config

    async def setup(self) -> None:
        {setup}

    def value(self) -> object:
        return VALUE

    @command("{command}", "answer with the value")
    def answer(self, ctx):
        return TextReply(str(VALUE))
"""


@attrs.define
class FakePlugin:
    name: str  # entry-point name
    package: str  # top-level package
    dist: str
    pkg_dir: Path
    dist_info: Path

    @property
    def init(self) -> Path:
        return self.pkg_dir / "__init__.py"

    def write(self, relpath: str, text: str) -> Path:
        path = self.pkg_dir / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def source(self, value: object = 1, setup: str = "pass", command: str | None = None) -> str:
        """The plugin's code; by default its one command has a name unique to it."""
        name = command or f"c{self.package[-8:]}"
        return PLUGIN_TEMPLATE.format(value=value, cls="P", setup=setup, command=name)

    def write_code(
        self, value: object = 1, setup: str = "pass", command: str | None = None
    ) -> Path:
        return self.write("__init__.py", self.source(value, setup, command))


@attrs.define
class PluginEnv:
    """A site dir, a source dir and a plugins.yaml, all under tmp_path."""

    root: Path
    site: Path
    src: Path
    config: Path
    swaps: list[list[PluginChange]] = attrs.field(factory=list)
    failures: list[PluginRecord | ConfigProblem] = attrs.field(factory=list)
    recoveries: list[PluginRecord | ConfigProblem] = attrs.field(factory=list)
    managers: list[PluginManager] = attrs.field(factory=list)
    packages: list[str] = attrs.field(factory=list)

    def new_plugin(
        self,
        label: str = "p",
        *,
        value: object = 1,
        install: bool = True,
        pth: bool = False,
        command: str | None = None,
    ) -> FakePlugin:
        n = next(_counter)
        package = f"tgs_rl_{label}_{os.getpid()}_{n}"
        name = f"{label}_{n}"
        dist = f"tgstats-rl-{label}-{n}"
        project = self.src / dist
        plugin = FakePlugin(
            name=name,
            package=package,
            dist=dist,
            pkg_dir=project / package,
            dist_info=self.site / f"{dist.replace('-', '_')}-0.1.dist-info",
        )
        plugin.pkg_dir.mkdir(parents=True)
        plugin.write_code(value, command=command)
        self.packages.append(package)
        if install:
            self.install(plugin, pth=pth)
        return plugin

    def install(self, plugin: FakePlugin, *, pth: bool = False) -> None:
        project = plugin.pkg_dir.parent
        if pth:
            # What a real editable install adds: a .pth path line, read by site
            # at start-up only (the manager must replay it).
            (self.site / f"__editable__.{plugin.dist}.pth").write_text(f"{project}\n")
        elif str(project) not in sys.path:
            sys.path.insert(0, str(project))
        info = plugin.dist_info
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {plugin.dist}\nVersion: 0.1\n"
        )
        (info / "entry_points.txt").write_text(
            f"[tgstats.plugins]\n{plugin.name} = {plugin.package}:P\n"
        )
        (info / "direct_url.json").write_text(
            json.dumps({"url": project.as_uri(), "dir_info": {"editable": True}})
        )

    def uninstall(self, plugin: FakePlugin) -> None:
        for path in sorted(plugin.dist_info.iterdir()):
            path.unlink()
        plugin.dist_info.rmdir()

    def write_config(self, plugins: dict[str, Any], **settings: Any) -> None:
        base = {
            "hot_reload": True,
            "reload_check_interval": 0.05,
            "reload_debounce": 0.05,
            "watcher": "poll",
            # Only the throwaway plugins: the real ones are being rewritten.
            "load_unlisted_plugins": False,
        }
        base.update(settings)
        entries = {
            name: (spec if isinstance(spec, dict) else {"enabled": bool(spec), "config": {}})
            for name, spec in plugins.items()
        }
        self.config.write_text(yaml.safe_dump({"settings": base, "plugins": entries}))

    def manager(self, **kwargs: Any) -> PluginManager:
        async def on_swap(changes: list[PluginChange]) -> None:
            self.swaps.append(changes)

        async def on_failure(record: PluginRecord | ConfigProblem) -> None:
            self.failures.append(record)

        async def on_recovery(record: PluginRecord | ConfigProblem) -> None:
            self.recoveries.append(record)

        manager = PluginManager(
            config_path=self.config,
            host_factory=make_host_factory(None),
            on_swap=kwargs.pop("on_swap", on_swap),
            on_failure=kwargs.pop("on_failure", on_failure),
            on_recovery=kwargs.pop("on_recovery", on_recovery),
            **kwargs,  # e.g. hook_timeout
        )
        self.managers.append(manager)
        return manager


@pytest.fixture
def plugin_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PluginEnv]:
    site = tmp_path / "site"
    src = tmp_path / "src"
    site.mkdir()
    src.mkdir()
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))
    env = PluginEnv(root=tmp_path, site=site, src=src, config=tmp_path / "plugins.yaml")
    yield env
    for name in [m for m in sys.modules if m.startswith(tuple(env.packages))]:
        del sys.modules[name]


@pytest.fixture
async def started(plugin_env: PluginEnv) -> Any:
    """Stops every manager the test made (even when the test failed)."""
    yield plugin_env
    for manager in plugin_env.managers:
        await manager.stop()


async def wait_until(
    predicate: Callable[[], bool | Awaitable[bool]], timeout: float = 5.0, step: float = 0.01
) -> None:
    """Poll ``predicate`` until it holds; fail with a clear message after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(step)


def dedent(text: str) -> str:
    return textwrap.dedent(text)


# The plugin distributions this repository ships (plugins/<dir>), all installed
# by tox and the Quick start: what `plugins check` sets up by default.
SHIPPED_PLUGINS = len(
    list((Path(__file__).resolve().parents[1] / "plugins").glob("*/pyproject.toml"))
)
