"""One root exception for everything tgstats reports to a human.

Each error carries enough context (file, line, key, plugin) that its message
alone tells an operator what to fix; the CLI prints ``str(error)`` without a
traceback unless ``--debug`` is given.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path


class TgstatsError(Exception):
    """Root of every error tgstats raises on purpose."""


class ConfigError(TgstatsError):
    """A configuration value is missing, unknown or of the wrong type/shape.

    ``str()`` renders as ``path:line: key: expected X, found Y`` so the message
    can be pasted straight into an editor's "go to" prompt.  A file with
    several problems raises a :class:`ConfigErrors` (a subclass) instead;
    ``problems`` and ``lines()`` work the same on both, so a caller reporting
    every problem needs no isinstance check.
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

    @property
    def problems(self) -> tuple[ConfigError, ...]:
        """Every single problem this error stands for: just itself here."""
        return (self,)

    def lines(self, limit: int | None = None) -> list[str]:
        """One ``path:line: key: message`` line per problem (capped, see ConfigErrors)."""
        return problem_lines(self.problems, MAX_PROBLEMS_SHOWN if limit is None else limit)


MAX_PROBLEMS_SHOWN = 50  # a file full of mistakes should not bury the terminal


class ConfigErrors(ConfigError):
    """Every problem found in one pass over a configuration (at least two).

    Code that handles one ConfigError keeps working: path, line, key and
    message are those of the first problem.  ``problems`` holds them all,
    grouped by file (the files of ``file_order`` first, in that order, then
    the others as first seen) and sorted by line within a file, so the list
    reads top to bottom like the files.  ``str()``
    is a header line, then one ``path:line: key: message`` line per problem
    (at most MAX_PROBLEMS_SHOWN, then ``... and N more``).
    """

    def __init__(self, problems: Iterable[ConfigError], *, file_order: Sequence[Path] = ()) -> None:
        self._problems = _ordered(problems, file_order)
        if not self._problems:
            raise ValueError("ConfigErrors needs at least one problem")
        first = self._problems[0]
        super().__init__(first.message, path=first.path, line=first.line, key=first.key)

    @property
    def problems(self) -> tuple[ConfigError, ...]:
        return self._problems

    def render(self) -> str:
        count = len(self._problems)
        return "\n".join([f"{count} configuration problems:", *self.lines()])


def problem_lines(problems: Sequence[ConfigError], limit: int = MAX_PROBLEMS_SHOWN) -> list[str]:
    """One rendered line per problem, capped at ``limit`` plus a ``... and N more`` line."""
    shown = [problem.render() for problem in problems[:limit]]
    if len(problems) > limit:
        shown.append(f"... and {len(problems) - limit} more")
    return shown


def _ordered(
    problems: Iterable[ConfigError], file_order: Sequence[Path]
) -> tuple[ConfigError, ...]:
    """Flattened, without repeats, by file then line."""
    flat: dict[tuple[str, int, str, str], ConfigError] = {}
    files: dict[str, int] = {str(path): index for index, path in enumerate(file_order)}
    for error in problems:
        for problem in error.problems:
            path = str(problem.path) if problem.path is not None else ""
            files.setdefault(path, len(files))
            flat.setdefault((path, problem.line or 0, problem.key or "", problem.message), problem)
    order = sorted(flat.items(), key=lambda item: (files[item[0][0]], item[0][1]))
    return tuple(problem for _, problem in order)


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
    line of a bad config value).  ``problems`` is, for an invalid config,
    every problem as a ``path:line: key: message`` line.
    """

    def __init__(
        self,
        plugin: str,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        problems: Sequence[str] = (),
    ) -> None:
        self.file = file
        self.line = line
        self.problems = tuple(problems)
        super().__init__(plugin, message)


class StoreError(TgstatsError):
    """The message store is unreachable or its schema is not what we expect."""
