"""The live bookkeeping of one plugin: what ``plugins list``, ``/plugins`` and reload read."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import attrs

if TYPE_CHECKING:
    from tgstats.config import ResolvedConfig
    from tgstats.errors import DuplicatePluginError
    from tgstats.host.discovery import PluginSpec
    from tgstats.plugins import Plugin

__all__ = ["PluginRecord", "PluginState"]

PluginState = Literal["loaded", "disabled", "failed"]


@attrs.define
class PluginRecord:
    name: str
    state: PluginState
    enabled: bool
    spec: PluginSpec | None = None  # None only for a name offered by two distributions
    reason: str | None = None  # why it failed (one line)
    error_file: str | None = None
    error_line: int | None = None
    problems: tuple[str, ...] = ()  # an invalid config: every `path:line: key: ...` line
    plugin_cls: type[Plugin[Any]] | None = None
    config: ResolvedConfig | None = None
    instance: Plugin[Any] | None = None
    loaded_at: datetime | None = None

    @classmethod
    def failed(
        cls,
        name: str,
        spec: PluginSpec | None,
        reason: str,
        *,
        file: str | None = None,
        line: int | None = None,
        problems: tuple[str, ...] = (),
    ) -> PluginRecord:
        """An enabled plugin that could not be loaded, and why."""
        return cls(
            name=name,
            state="failed",
            enabled=True,
            spec=spec,
            reason=reason,
            error_file=file,
            error_line=line,
            problems=problems,
        )

    @classmethod
    def disabled(cls, name: str, spec: PluginSpec) -> PluginRecord:
        """An installed plugin that plugins.yaml turns off."""
        return cls(name=name, state="disabled", enabled=False, spec=spec)

    @classmethod
    def duplicate(cls, error: DuplicatePluginError, *, enabled: bool) -> PluginRecord:
        """A name offered by two distributions: neither is loaded."""
        return cls(name=error.plugin, state="failed", enabled=enabled, reason=error.message)

    def to_dict(self) -> dict[str, Any]:
        spec = self.spec
        return {
            "name": self.name,
            "distribution": spec.distribution if spec else None,
            "version": spec.version if spec else None,
            "entry_point": spec.value if spec else None,
            "enabled": self.enabled,
            "state": self.state,
            "reason": self.reason,
            "error_file": self.error_file,
            "error_line": self.error_line,
            "problems": list(self.problems),
            "editable": spec.editable if spec else None,
            "source_dir": str(spec.source_dir) if spec and spec.source_dir else None,
        }
