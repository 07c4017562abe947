"""Typed, validated configuration: host settings and each plugin's options.

CONTRACT (implementation owned by the plugin-host work; signatures are fixed
because the manager, the reloader, the bot and the CLI all use them).

Layering of a plugin's options, lowest to highest:
  1. the attrs defaults of the plugin's ``Config`` class (origin "code default")
  2. ``plugin.yaml`` next to the plugin's code (origin "plugin.yaml")
  3. ``plugins.<name>.config`` in the operator's plugins.yaml (origin "plugins.yaml")
Mappings are merged key by key (nested attrs classes too); lists replace.

Every error is a ConfigError naming file, line, dotted key, what was expected
and what was found; unknown keys get a did-you-mean. YAML is read with the
safe loader only.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import attrs

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "PLUGIN_YAML",
    "HostConfig",
    "Origin",
    "PluginEntry",
    "ResolvedConfig",
    "Settings",
    "default_config_path",
    "load_host_config",
    "resolve_plugin_config",
]

DEFAULT_CONFIG_PATH = Path(__file__).parent / "plugins" / "plugins.yaml"
PLUGIN_YAML = "plugin.yaml"
CONFIG_ENV = "TGSTATS_PLUGINS_CONFIG"

WatcherKind = Literal["poll", "native", "auto"]


@attrs.frozen
class Settings:
    """The ``settings:`` block of plugins.yaml (see the hot-reload guide)."""

    hot_reload: bool = True
    reload_check_interval: float = 3.0
    watch_patterns: tuple[str, ...] = ("*.py", "*.yaml", "*.yml")
    ignore_patterns: tuple[str, ...] = ("README.md", "*.md", "__pycache__", "*.pyc", ".git")
    watcher: WatcherKind = "poll"
    reload_debounce: float = 0.2
    load_unlisted_plugins: bool = True


@attrs.frozen
class Origin:
    """Where an effective config value came from."""

    kind: Literal["code default", "plugin.yaml", "plugins.yaml"]
    path: Path | None = None
    line: int | None = None

    def __str__(self) -> str:
        if self.path is None:
            return self.kind
        return (
            f"{self.kind} ({self.path}:{self.line})" if self.line else f"{self.kind} ({self.path})"
        )


@attrs.frozen
class PluginEntry:
    """One ``plugins.<name>`` entry; ``listed`` is False for plugins the file omits."""

    enabled: bool = True
    config: Mapping[str, Any] = attrs.field(factory=dict)
    listed: bool = True


@attrs.frozen
class HostConfig:
    """A parsed plugins.yaml."""

    path: Path
    settings: Settings
    plugins: Mapping[str, PluginEntry]

    def entry(self, name: str) -> PluginEntry:
        """The entry for ``name``; unlisted plugins follow ``load_unlisted_plugins``."""
        raise NotImplementedError

    def is_enabled(self, name: str) -> bool:
        return self.entry(name).enabled


@attrs.frozen
class ResolvedConfig:
    """A plugin's validated Config instance plus the origin of every value."""

    value: Any
    origins: Mapping[str, Origin]  # dotted key -> origin
    sources: tuple[Path, ...] = ()  # config files that were read (plugin.yaml, plugins.yaml)

    def effective(self) -> dict[str, Any]:
        return attrs.asdict(self.value, recurse=True)


def default_config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """``--plugins-config`` > ``$TGSTATS_PLUGINS_CONFIG`` > the packaged default."""
    if explicit:
        return Path(explicit)
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    return DEFAULT_CONFIG_PATH


def load_host_config(path: Path) -> HostConfig:
    """Parse and validate plugins.yaml; raises ConfigError."""
    raise NotImplementedError


def resolve_plugin_config(
    plugin_name: str,
    config_cls: type,
    *,
    plugin_yaml: Path | None,
    host_config: HostConfig,
) -> ResolvedConfig:
    """Layer code defaults < plugin.yaml < plugins.yaml and validate; raises ConfigError."""
    raise NotImplementedError
