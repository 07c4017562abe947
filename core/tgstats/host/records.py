"""The live bookkeeping of one plugin: what ``plugins list``, ``/plugins`` and reload read.

Each plugin is in exactly one of four conditions (:meth:`PluginRecord.status`):
``loaded``; loaded while its last reload failed (the previous version serves);
``disabled``; ``failed`` (nothing of it runs).  A bad ``plugins.yaml`` is not
a plugin: it is a :class:`ConfigProblem`.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, Literal

import attrs

if TYPE_CHECKING:
    from tgstats.config import ResolvedConfig
    from tgstats.errors import DuplicatePluginError
    from tgstats.host.discovery import PluginSpec
    from tgstats.plugins import Plugin

__all__ = ["ConfigProblem", "PluginRecord", "PluginState", "ReloadFailure"]

PluginState = Literal["loaded", "disabled", "failed"]


def _location(file: str | None, line: int | None) -> str:
    if not file:
        return "unknown file"
    return f"{file}:{line}" if line is not None else file


@attrs.frozen
class ReloadFailure:
    """Why the newest version of a plugin could not replace the serving one."""

    reason: str
    file: str | None = None
    line: int | None = None
    problems: tuple[str, ...] = ()  # an invalid config: every `path:line: key: ...` line

    @property
    def where(self) -> str:
        return _location(self.file, self.line)


@attrs.frozen
class ConfigProblem:
    """The operator's plugins.yaml could not be re-read; the previous config serves.

    ``text`` is the error as rendered for an editor (``PATH:LINE: KEY: ...``,
    one line per problem).
    """

    path: str
    line: int | None
    text: str

    @property
    def name(self) -> str:
        """The file's name, as the admins know it (``plugins.yaml``)."""
        return PurePath(self.path).name

    def status(self) -> str:
        return f"the last reload failed: {self.text} (serving the previous configuration)"


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
    # Set on the serving record while its newest version fails to load.
    reload_failure: ReloadFailure | None = None

    def status(self) -> str:
        """``loaded``, ``loaded; the last reload failed: ...``, ``disabled`` or ``failed: ...``."""
        if self.state == "loaded" and self.reload_failure is not None:
            failure = self.reload_failure
            return (
                f"loaded; the last reload failed: {failure.where} {failure.reason} "
                "(serving the previous version)"
            )
        if self.state == "failed":
            return f"failed: {self.reason or 'unknown reason'}"
        return self.state

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
            "last_reload_failure": attrs.asdict(self.reload_failure)
            if self.reload_failure
            else None,
        }
