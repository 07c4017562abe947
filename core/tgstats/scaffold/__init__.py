"""``tgstats new-plugin``: a ready plugin distribution, written from the templates beside this file.

The templates are package data (``templates/*.tmpl``, :class:`string.Template`
placeholders), so what a new plugin looks like is read and edited as files,
not as string literals.  Before anything is written the name and the command
are checked by the host's own rules (``tgstats.plugins.command`` for the
command, :func:`tgstats.host.discovery.check_plugin_name` for the name) and
against what is installed: a plugin name or a command someone already has is
refused, since the bot would refuse the new plugin for it.  Existing files are
never overwritten.
"""

from __future__ import annotations

import importlib.metadata
import keyword
from collections.abc import Mapping
from importlib.resources import files
from pathlib import Path
from string import Template

import attrs

from tgstats.chat import LOCAL_COMMANDS
from tgstats.errors import TgstatsError
from tgstats.host.discovery import PluginSpec, check_plugin_name

__all__ = ["NewPlugin", "ScaffoldError", "check_free", "plan", "write"]


class ScaffoldError(TgstatsError):
    """The plugin cannot be created as asked (a bad or taken name, a file in the way)."""


@attrs.frozen
class NewPlugin:
    """What one new plugin is called, everywhere it needs a name."""

    name: str  # entry-point (plugin) name
    command: str
    directory: Path

    @property
    def package(self) -> str:
        return f"tgstats_{self.name}"

    @property
    def distribution(self) -> str:
        return f"tgstats-{self.name.replace('_', '-')}"

    @property
    def method(self) -> str:
        """The command's method: the command's name, unless Python reserves it (``/import``)."""
        return f"{self.command}_" if keyword.iskeyword(self.command) else self.command

    @property
    def class_name(self) -> str:
        return "".join(part.capitalize() for part in self.name.split("_") if part) + "Plugin"

    def files(self) -> dict[Path, str]:
        """Each file to write (relative to ``directory``) -> its template."""
        package = Path(self.package)
        return {
            Path("pyproject.toml"): "pyproject.toml.tmpl",
            Path("README.md"): "README.md.tmpl",
            package / "__init__.py": "init.py.tmpl",
            package / "plugin.py": "plugin.py.tmpl",
            package / "plugin.yaml": "plugin.yaml.tmpl",
            Path("tests") / f"test_{self.name}.py": "test_plugin.py.tmpl",
        }


def plan(name: str, command: str | None, directory: Path | None) -> NewPlugin:
    """Check ``name`` and ``command`` by the host's rules (ScaffoldError naming the problem)."""
    try:
        check_plugin_name(name)
    except ValueError as error:
        raise ScaffoldError(str(error)) from None
    command = name if command is None else command.removeprefix("/")
    try:
        from tgstats.plugins import command as command_rule

        command_rule(command, "a description")  # the decorator's own check of the name
    except ValueError as error:
        raise ScaffoldError(str(error)) from None
    if f"/{command}" in LOCAL_COMMANDS:
        raise ScaffoldError(f"command /{command} is reserved by `tgstats chat`; choose another")
    return NewPlugin(name, command, directory if directory is not None else Path("plugins") / name)


def check_free(new: NewPlugin) -> None:
    """A plugin name, distribution or command already installed is an error."""
    from tgstats.host.discovery import discover_plugins
    from tgstats.host.router import HOST_COMMANDS

    importlib.invalidate_caches()
    found = discover_plugins()
    if new.name in found.plugins or new.name in found.duplicates:
        spec = found.plugins.get(new.name)
        by = f" (distribution {spec.distribution})" if spec is not None else ""
        raise ScaffoldError(f"a plugin named {new.name!r} is already installed{by}")
    try:
        importlib.metadata.distribution(new.distribution)
    except importlib.metadata.PackageNotFoundError:
        pass
    else:
        raise ScaffoldError(f"a distribution named {new.distribution!r} is already installed")
    if new.command in HOST_COMMANDS:
        raise ScaffoldError(f"command /{new.command} is taken by the host")
    owner = _installed_commands(found.plugins).get(new.command)
    if owner is not None:
        raise ScaffoldError(f"command /{new.command} is taken by plugin {owner!r}")


def _installed_commands(specs: Mapping[str, PluginSpec]) -> dict[str, str]:
    """command -> plugin, for every installed plugin that imports (the others own nothing)."""
    from tgstats.plugins import Plugin

    owners: dict[str, str] = {}
    for name, spec in sorted(specs.items()):
        try:
            plugin_cls = spec.entry_point.load()
        except Exception:  # a plugin that cannot import serves no command
            continue
        if not (isinstance(plugin_cls, type) and issubclass(plugin_cls, Plugin)):
            continue
        for command in plugin_cls.commands():
            owners.setdefault(command.name, name)
    return owners


def render(new: NewPlugin) -> dict[Path, str]:
    """Each file's path (under ``new.directory``) and text."""
    values = {
        "name": new.name,
        "command": new.command,
        "package": new.package,
        "distribution": new.distribution,
        "class_name": new.class_name,
        "method": new.method,
    }
    templates = files(__package__).joinpath("templates")
    return {
        new.directory / rel: Template(templates.joinpath(tmpl).read_text("utf-8")).substitute(
            values
        )
        for rel, tmpl in new.files().items()
    }


def write(new: NewPlugin) -> list[Path]:
    """Write every file, or none if any already exists; return the paths written."""
    rendered = render(new)
    existing = [path for path in rendered if path.exists() or path.is_symlink()]
    if existing:
        shown = ", ".join(str(path) for path in existing)
        raise ScaffoldError(f"refusing to overwrite existing files: {shown}")
    if new.directory.exists() and not new.directory.is_dir():
        raise ScaffoldError(f"{new.directory} exists and is not a folder")
    written = []
    for path, text in rendered.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as out:  # "x": never clobber a file made meanwhile
            out.write(text)
        written.append(path)
    return written
