"""Find installed plugins through entry points, without importing them.

CONTRACT (implementation owned by the plugin-host work).
"""

from __future__ import annotations

from importlib.metadata import EntryPoint
from pathlib import Path

import attrs

from tgstats.errors import DuplicatePluginError

__all__ = ["ENTRY_POINT_GROUP", "Discovery", "PluginSpec", "discover_plugins"]

ENTRY_POINT_GROUP = "tgstats.plugins"


@attrs.frozen
class PluginSpec:
    """Bookkeeping for one discovered plugin (a stevedore-style record)."""

    name: str  # entry-point name == plugin name
    distribution: str
    version: str
    value: str  # entry-point value, "package.module:Class"
    module: str  # "package.module"
    top_level: str  # "package": the only modules a reload purges
    editable: bool  # from direct_url.json dir_info.editable
    project_dir: Path | None  # editable project root from direct_url.json
    source_dir: Path | None  # package dir (or a single module's folder), symlinks resolved
    source_file: Path | None  # the top-level module/package __init__ origin
    is_package: bool
    entry_point: EntryPoint = attrs.field(eq=False, repr=False)

    @property
    def plugin_yaml(self) -> Path | None:
        return self.source_dir / "plugin.yaml" if self.source_dir else None


@attrs.frozen
class Discovery:
    plugins: dict[str, PluginSpec]
    duplicates: dict[str, DuplicatePluginError]


def discover_plugins(group: str = ENTRY_POINT_GROUP) -> Discovery:
    raise NotImplementedError
