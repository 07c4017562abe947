"""Typed, validated configuration: host settings and each plugin's options.

The manager, the reloader, the bot and the CLI all read their settings
through these types.

Layering of a plugin's options, lowest to highest:
  1. the attrs defaults of the plugin's ``Config`` class (origin "code default")
  2. ``plugin.yaml`` next to the plugin's code (origin "plugin.yaml")
  3. ``plugins.<name>.config`` in the operator's plugins.yaml (origin "plugins.yaml")
Mappings are merged key by key (nested attrs classes too); lists replace.

Every error is a ConfigError naming file, line, dotted key, what was expected
and what was found; unknown keys get a did-you-mean. A file is checked
completely before anything is raised: several problems come as one
ConfigErrors (see :mod:`tgstats.errors`). YAML is read with the safe loader
only.
"""

from __future__ import annotations

import os
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import attrs

from tgstats.yamlconfig import (
    Problems,
    Where,
    YamlMap,
    check_unknown_keys,
    convert,
    convert_field,
    describe_type,
    describe_value,
    instantiate,
    key_where,
    read_yaml_mapping,
    resolved_fields,
)

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "HostConfig",
    "Origin",
    "PluginEntry",
    "ResolvedConfig",
    "Settings",
    "default_config_path",
    "leaf_values",
    "load_host_config",
    "resolve_plugin_config",
]

DEFAULT_CONFIG_PATH = Path(__file__).parent / "plugins" / "plugins.yaml"
CONFIG_ENV = "TGSTATS_PLUGINS_CONFIG"

WatcherKind = Literal["poll", "native", "auto"]


def _positive(_instance: Any, attribute: attrs.Attribute, value: Any) -> None:  # type: ignore[type-arg]
    if not value > 0:
        raise ValueError(f"{attribute.name} must be > 0, got {value!r}")


@attrs.frozen
class Settings:
    """The ``settings:`` block of plugins.yaml: hot reload on/off, the poll
    interval, debounce, watch/ignore patterns and the watcher backend."""

    hot_reload: bool = True
    reload_check_interval: float = attrs.field(
        default=3.0, validator=_positive, metadata={"expected": "a number > 0"}
    )
    # *.po: an edited translation reloads its plugin like an edited .py.
    watch_patterns: tuple[str, ...] = ("*.py", "*.yaml", "*.yml", "*.po")
    ignore_patterns: tuple[str, ...] = ("README.md", "*.md", "__pycache__", "*.pyc", ".git")
    watcher: WatcherKind = "poll"
    reload_debounce: float = attrs.field(
        default=0.2, validator=_positive, metadata={"expected": "a number > 0"}
    )
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
        found = self.plugins.get(name)
        if found is not None:
            return found
        return PluginEntry(enabled=self.settings.load_unlisted_plugins, config={}, listed=False)

    def is_enabled(self, name: str) -> bool:
        return self.entry(name).enabled

    def line_of(self, name: str) -> int | None:
        """Line of ``plugins.<name>`` in the file (None if not listed)."""
        lines = getattr(self.plugins, "key_lines", None)
        return lines.get(name) if lines else None


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
    """Parse and validate plugins.yaml; raises ConfigError (ConfigErrors when
    the file has several problems: all of them)."""
    path = Path(path)
    problems = Problems()
    # A symlinked plugins.yaml must stay in the folder the operator pointed at.
    data = read_yaml_mapping(
        path, "a mapping with 'settings' and 'plugins'", problems, within=path.parent
    )
    top = Where(path, data.line, "")
    with problems.collect():
        check_unknown_keys(data, list(_TOP_KEYS), top)
    settings = Settings()
    with problems.collect():
        settings = _section(data, "settings", Settings, path)
    raw_plugins = data.get("plugins")
    plugins = YamlMap(path, data.line_of("plugins"))  # keeps each name's line
    if raw_plugins is not None:
        where = top.child("plugins", data.line_of("plugins"))
        if not isinstance(raw_plugins, Mapping):
            found = describe_value(raw_plugins)
            problems.add(
                where.error(f"expected a mapping of plugin names to entries, found {found}")
            )
            raw_plugins = {}
        for name, raw in raw_plugins.items():
            entry_where = key_where(raw_plugins, name, where)
            with problems.collect():
                plugins[name] = _plugin_entry(raw, entry_where)
                plugins.key_lines[name] = entry_where.line
    problems.raise_if_any()
    return HostConfig(path=path, settings=settings, plugins=plugins)


_TOP_KEYS = ("settings", "plugins")


def _section(data: YamlMap, key: str, cls: type, path: Path) -> Any:
    raw = data.get(key)
    if raw is None:
        return cls()
    return convert(raw, cls, Where(path, data.line_of(key), key))


def _plugin_entry(raw: Any, where: Where) -> PluginEntry:
    if raw is None:  # `name:` with nothing under it: listed, enabled, no options
        return PluginEntry(enabled=True, config=YamlMap(where.path, where.line))
    if not isinstance(raw, Mapping):
        raise where.error(
            f"expected a mapping with 'enabled' and 'config', found {describe_value(raw)}"
        )
    problems = Problems()
    with problems.collect():
        check_unknown_keys(raw, ["enabled", "config"], where)
    enabled = True
    if "enabled" in raw:
        with problems.collect():
            enabled = convert(raw["enabled"], bool, key_where(raw, "enabled", where))
    config = raw.get("config")
    config_where = (
        key_where(raw, "config", where) if "config" in raw else where.child("config", None)
    )
    if config is None:
        config = YamlMap(where.path, config_where.line)
    elif not isinstance(config, Mapping):
        problems.add(
            config_where.error(
                f"expected a mapping of the plugin's options, found {describe_value(config)}"
            )
        )
    problems.raise_if_any()
    return PluginEntry(enabled=enabled, config=config)


# --------------------------------------------------------------------------- plugin options


@attrs.frozen
class _Layer:
    """One source of a plugin's options: its origin, its mapping, and where it sits."""

    origin: Origin
    data: Any  # a mapping, or (below the top) the leaf value found at this key
    where: Where


def resolve_plugin_config(
    plugin_name: str,
    config_cls: type,
    *,
    plugin_yaml: Path | None,
    host_config: HostConfig,
) -> ResolvedConfig:
    """Layer code defaults < plugin.yaml < plugins.yaml and validate; raises
    ConfigError (ConfigErrors with every problem of both files when several)."""
    if not attrs.has(config_cls):
        raise TypeError(
            f"plugin {plugin_name!r}: Config must be an attrs class, got {config_cls!r}"
        )
    layers: list[_Layer] = []
    sources: list[Path] = []
    problems = Problems()
    if plugin_yaml is not None and plugin_yaml.is_file():
        sources.append(plugin_yaml)
        # An unreadable plugin.yaml is left out, so plugins.yaml is still checked.
        with problems.collect():
            data = read_yaml_mapping(
                plugin_yaml,
                "a mapping of the plugin's options",
                problems,
                within=plugin_yaml.parent,  # the plugin's own folder
            )
            where = Where(plugin_yaml, 1, "")
            layers.append(_Layer(Origin("plugin.yaml", plugin_yaml), data, where))
    entry = host_config.entry(plugin_name)
    sources.append(host_config.path)
    if entry.config:
        line = getattr(entry.config, "line", None)
        where = Where(host_config.path, line, f"plugins.{plugin_name}.config")
        layers.append(_Layer(Origin("plugins.yaml", host_config.path), entry.config, where))
    explicit: dict[str, Origin] = {}
    root = layers[-1].where if layers else Where(None, None, "")
    with problems.collect():
        value = _resolve_attrs(config_cls, None, layers, "", explicit, root)
    problems.raise_if_any(file_order=sources)  # plugin.yaml, then plugins.yaml
    return ResolvedConfig(
        value=value, origins=_leaf_origins(value, explicit), sources=tuple(sources)
    )


def _origin_at(layer: _Layer, where: Where) -> Origin:
    return attrs.evolve(layer.origin, line=where.line)


def _resolve_attrs(
    cls: type,
    base: Any,
    layers: list[_Layer],
    prefix: str,
    explicit: dict[str, Origin],
    where: Where,
) -> Any:
    """Build ``cls`` from ``layers`` (lowest first) merged key by key over ``base``.

    Every field is resolved even after one failed, so all problems of all
    layers are raised together."""
    fields = [f for f in resolved_fields(cls) if f.init]
    aliases = [f.alias for f in fields]
    problems = Problems()
    for layer in layers:
        with problems.collect():
            check_unknown_keys(layer.data, aliases, layer.where)
    values: dict[str, Any] = {}
    wheres: dict[str, Where] = {}
    for field in fields:
        with problems.collect():
            _resolve_field(field, base, layers, prefix, explicit, where, values, wheres)
    return instantiate(cls, values, wheres, where, problems=problems)


def _resolve_field(
    field: Any,
    base: Any,
    layers: list[_Layer],
    prefix: str,
    explicit: dict[str, Origin],
    where: Where,
    values: dict[str, Any],
    wheres: dict[str, Where],
) -> None:
    """Resolve one field of :func:`_resolve_attrs` into ``values``/``wheres``;
    raises the problems of every layer that sets it."""
    key = f"{prefix}.{field.alias}" if prefix else field.alias
    found = [
        _Layer(
            layer.origin,
            layer.data[field.alias],
            key_where(layer.data, field.alias, layer.where),
        )
        for layer in layers
        if field.alias in layer.data
    ]
    default = getattr(base, field.name) if base is not None else _default_of(field)
    if not found:
        if base is not None:
            values[field.alias] = default
        elif field.default is attrs.NOTHING:
            raise where.error(
                f"missing required key {field.alias!r}: expected "
                f"{describe_type(field.type)}, found nothing"
            )
        return
    # Only the uninterrupted run of mappings at the top merges; a scalar
    # (e.g. null for an Optional section) replaces everything below it.
    run = _top_mapping_run(found)
    target = _mergeable(field.type)
    top = found[-1]
    problems = Problems()
    for shadowed in found[: len(found) - len(run)] if run and target is not None else found[:-1]:
        # Overridden values must still be valid: a bad plugin.yaml is a bug
        # even while plugins.yaml happens to hide it.
        with problems.collect():
            convert_field(field, shadowed.data, shadowed.where)
    with problems.collect():
        _resolve_top(field, key, default, found, run, target, explicit, values, problems)
        wheres[field.alias] = top.where
    problems.raise_if_any()


def _resolve_top(
    field: Any,
    key: str,
    default: Any,
    found: list[_Layer],
    run: list[_Layer],
    target: Any,
    explicit: dict[str, Origin],
    values: dict[str, Any],
    problems: Problems,
) -> None:
    """The effective value of one field from the layers that set it."""
    top = found[-1]
    if run and target is not None and attrs.has(target):
        sub_base = default if len(run) == len(found) and attrs.has(type(default)) else None
        values[field.alias] = _resolve_attrs(target, sub_base, run, key, explicit, top.where)
    elif run and target is not None:
        merged = dict(default) if len(run) == len(found) and isinstance(default, Mapping) else {}
        for layer in run:
            part: Mapping[str, Any] = {}
            with problems.collect():
                part = convert_field(field, layer.data, layer.where)
            for sub_key in part:
                explicit[f"{key}.{sub_key}"] = _origin_at(
                    layer, key_where(layer.data, sub_key, layer.where)
                )
            merged.update(part)
        values[field.alias] = merged
        if not merged:  # an empty mapping is itself the leaf shown by `plugins show`
            explicit[key] = _origin_at(top, top.where)
    else:
        values[field.alias] = convert_field(field, top.data, top.where)
        explicit[key] = _origin_at(top, top.where)


def _top_mapping_run(found: list[_Layer]) -> list[_Layer]:
    run: list[_Layer] = []
    for layer in reversed(found):
        if not isinstance(layer.data, Mapping):
            break
        run.insert(0, layer)
    return run


def _mergeable(tp: Any) -> Any:
    """The attrs class or dict type a field merges key by key, or None (replace)."""
    args = typing.get_args(tp)
    if typing.get_origin(tp) is typing.Union or type(tp).__name__ == "UnionType":
        non_null = [a for a in args if a is not type(None)]
        return _mergeable(non_null[0]) if len(non_null) == 1 else None
    if attrs.has(tp):
        return tp
    if typing.get_origin(tp) in (dict, Mapping) or tp in (dict, Mapping):
        return tp
    return None


def _default_of(field: Any) -> Any:
    default = field.default
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        return None if default.takes_self else default.factory()
    return None if default is attrs.NOTHING else default


def _leaf_origins(value: Any, explicit: dict[str, Origin]) -> dict[str, Origin]:
    """Origin of every dotted leaf of the effective config (default: code default)."""
    origins: dict[str, Origin] = {}
    for key in leaf_values(attrs.asdict(value, recurse=True)):
        origin = None
        probe = key
        while probe:
            if probe in explicit:
                origin = explicit[probe]
                break
            probe = probe.rpartition(".")[0]
        origins[key] = origin or Origin("code default")
    return origins


def leaf_values(data: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted key -> value of every leaf of nested mappings (an empty mapping
    is a leaf): the keys of :attr:`ResolvedConfig.origins`."""
    if isinstance(data, Mapping) and data:
        out: dict[str, Any] = {}
        for key, item in data.items():
            out.update(leaf_values(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: data} if prefix else {}
