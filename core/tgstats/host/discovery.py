"""Find installed plugins through entry points, without importing them.

Each ``tgstats.plugins`` entry point becomes a :class:`PluginSpec` with its
distribution, version and, for an editable install, the source directory the
reloader watches.
"""

from __future__ import annotations

import importlib.util
import json
import re
from importlib.metadata import Distribution, EntryPoint, entry_points
from pathlib import Path
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

import attrs

from tgstats.errors import DuplicatePluginError
from tgstats.logs import get_logger

__all__ = [
    "ENTRY_POINT_GROUP",
    "Discovery",
    "PluginSpec",
    "check_plugin_name",
    "discover_plugins",
    "spec_for",
]

log = get_logger(__name__)

ENTRY_POINT_GROUP = "tgstats.plugins"

# A plugin name is a key of plugins.yaml, a log field and (for new plugins)
# part of a package name: lowercase letters, digits and _, starting with a letter.
_PLUGIN_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")


def check_plugin_name(name: str) -> str:
    """``name`` if it is a good plugin name, else ValueError saying what is expected."""
    if not _PLUGIN_NAME.fullmatch(name):
        raise ValueError(
            f"plugin name {name!r}: expected 1-32 lowercase letters, digits or _, "
            "starting with a letter"
        )
    return name


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
    """Every plugin offered under ``group``, without importing any plugin code.

    The caller is expected to have called ``importlib.invalidate_caches()``
    after installing something new (importlib.metadata caches directory
    listings).  A name offered by two distributions lands in ``duplicates``
    only, so that no ``sys.path`` order silently picks one.
    """
    by_name: dict[str, list[PluginSpec]] = {}
    # entry_points() already keeps only the first of several copies of one
    # distribution on sys.path; different distributions all come through.
    for ep in entry_points(group=group):
        spec = spec_for(ep)
        same = by_name.setdefault(spec.name, [])
        if not any(other.distribution == spec.distribution for other in same):
            same.append(spec)
    plugins: dict[str, PluginSpec] = {}
    duplicates: dict[str, DuplicatePluginError] = {}
    for name in sorted(by_name):
        specs = by_name[name]
        if len(specs) == 1:
            plugins[name] = specs[0]
        else:
            error = DuplicatePluginError(name, [s.distribution for s in specs])
            duplicates[name] = error
            log.error("plugin_duplicate", plugin=name, distributions=error.distributions)
    return Discovery(plugins=plugins, duplicates=duplicates)


def spec_for(ep: EntryPoint) -> PluginSpec:
    """The bookkeeping record of one entry point (no plugin code is imported)."""
    dist = ep.dist
    module = ep.module
    top_level = module.partition(".")[0]
    editable, project_dir = _direct_url(dist)
    source_dir, source_file, is_package = _locate(top_level)
    return PluginSpec(
        name=ep.name,
        distribution=_dist_name(dist),
        version=dist.version if dist is not None else "unknown",
        value=ep.value,
        module=module,
        top_level=top_level,
        editable=editable,
        project_dir=project_dir,
        source_dir=source_dir,
        source_file=source_file,
        is_package=is_package,
        entry_point=ep,
    )


def _dist_name(dist: Distribution | None) -> str:
    if dist is None:
        return "unknown"
    return dist.metadata["Name"] or getattr(dist, "name", None) or "unknown"


def _direct_url(dist: Distribution | None) -> tuple[bool, Path | None]:
    """(editable, project root) from PEP 610 ``direct_url.json``, when present."""
    if dist is None:
        return False, None
    try:
        raw = dist.read_text("direct_url.json")
        data = json.loads(raw) if raw else None
    except (OSError, ValueError):
        return False, None
    if not isinstance(data, dict):
        return False, None
    dir_info = data.get("dir_info")
    editable = bool(isinstance(dir_info, dict) and dir_info.get("editable"))
    url = data.get("url")
    project_dir = None
    if editable and isinstance(url, str) and url.startswith("file:"):
        parsed = urlparse(url)
        project_dir = Path(url2pathname(unquote(parsed.path))).resolve()
    return editable, project_dir


def _locate(top_level: str) -> tuple[Path | None, Path | None, bool]:
    """(source dir, origin file, is package) of a top-level module, not importing it.

    ``find_spec`` on a *top-level* name imports nothing (a dotted name would
    import its parents), and consults the meta-path finders that setuptools
    editable installs register, so it sees the real source folder.
    """
    try:
        spec = importlib.util.find_spec(top_level)
    except (ImportError, ValueError):  # ValueError: a module in sys.modules without __spec__
        return None, None, False
    if spec is None:
        return None, None, False
    origin = Path(spec.origin).resolve() if spec.origin and spec.has_location else None
    locations = list(spec.submodule_search_locations or [])
    if spec.submodule_search_locations is not None:
        source_dir = Path(locations[0]).resolve() if locations else None
        if source_dir is None and origin is not None:
            source_dir = origin.parent
        return source_dir, origin, True
    return (origin.parent if origin else None), origin, False
