"""One root exception for everything tgstats reports to a human.

Each error carries enough context (file, line, key, plugin) that its message
alone tells an operator what to fix; the CLI prints ``str(error)`` without a
traceback unless ``--debug`` is given.
"""

from __future__ import annotations

from pathlib import Path


class TgstatsError(Exception):
    """Root of every error tgstats raises on purpose."""


class ConfigError(TgstatsError):
    """A configuration value is missing, unknown or of the wrong type/shape.

    ``str()`` renders as ``path:line: key: expected X, found Y`` so the message
    can be pasted straight into an editor's "go to" prompt.
    """

    def __init__(
        self,
        message: str,
        *,
        path: Path | str | None = None,
        line: int | None = None,
        key: str | None = None,
    ) -> None:
        self.path = Path(path) if path is not None else None
        self.line = line
        self.key = key
        self.message = message
        super().__init__(self.render())

    def render(self) -> str:
        where = ""
        if self.path is not None:
            where = str(self.path)
            if self.line is not None:
                where += f":{self.line}"
            where += ": "
        key = f"{self.key}: " if self.key else ""
        return f"{where}{key}{self.message}"


class PluginError(TgstatsError):
    """Something went wrong with one plugin; carries the plugin's name."""

    def __init__(self, plugin: str, message: str) -> None:
        self.plugin = plugin
        self.message = message
        super().__init__(f"plugin {plugin!r}: {message}")


class DuplicatePluginError(PluginError):
    """Two installed distributions offer the same plugin name."""

    def __init__(self, plugin: str, distributions: list[str]) -> None:
        self.distributions = distributions
        names = " and ".join(sorted(distributions))
        super().__init__(
            plugin,
            f"offered by more than one distribution ({names}); "
            "uninstall one of them or rename its entry point",
        )


class PluginLoadError(PluginError):
    """A plugin could not be imported, configured or set up.

    ``file`` and ``line`` point at the failing source line when known (a
    SyntaxError, the deepest traceback frame inside the plugin, or the YAML
    line of a bad config value).
    """

    def __init__(
        self,
        plugin: str,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
    ) -> None:
        self.file = file
        self.line = line
        super().__init__(plugin, message)


class StoreError(TgstatsError):
    """The message store is unreachable or its schema is not what we expect."""
