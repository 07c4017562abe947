"""What ``tgstats demo`` prints: where the files are and one line per file."""

from __future__ import annotations

import os
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from tgstats.demo.runner import DemoResult

__all__ = ["print_report"]

_LANGUAGES = {"en": "English", "ru": "Russian", "de": "German", "es": "Spanish"}


def print_report(result: DemoResult, console: Console | None = None) -> None:
    if console is None:
        console = Console(highlight=False)
        if not console.is_terminal:
            # Piped or captured: one line per entry rather than wrapping at 80 columns.
            console = Console(highlight=False, width=160)
    history = result.history
    from tgstats.demo.history import MEMBERS

    languages = []
    for member in MEMBERS:
        name = _LANGUAGES.get(member.language, member.language)
        if name not in languages:
            languages.append(name)
    console.print(
        Text.assemble(
            "Sample group ",
            (f"{history.chat.title}", "bold"),
            f": {len(history.messages):,} messages from {len(history.users)} members, "
            f"{history.start:%d %b %Y} to {history.end:%d %b %Y}, in {', '.join(languages)}",
        )
    )
    console.print(f"Database: {_show(result.db_path)}")
    console.print(
        f"Ran {len(result.commands)} plugin commands as of {history.end:%Y-%m-%d %H:%M} UTC "
        f"(whole demo: {result.seconds:.1f} s):"
    )
    table = Table(box=None, show_header=False, padding=(0, 2, 0, 2))
    table.add_column("command", style="bold cyan", no_wrap=True)
    table.add_column("file", style="green", no_wrap=True)
    table.add_column("summary")
    table.add_column("time", style="dim", justify="right")
    for command in result.commands:
        if command.file is not None:
            table.add_row(
                f"/{command.command}",
                command.file.name,
                command.summary,
                f"{command.seconds:.1f} s",
            )
        else:
            table.add_row(
                f"/{command.command}",
                Text("failed", style="bold red"),
                f"{command.plugin}: {command.error}",
            )
    for plugin, reason in result.failed_plugins:
        table.add_row(Text(plugin, style="bold red"), Text("not loaded", style="bold red"), reason)
    console.print(table)
    if result.disabled_plugins:
        console.print(f"Disabled in the config (skipped): {', '.join(result.disabled_plugins)}")
    if result.files:
        console.print(Text.assemble("Files are in ", (_show(result.out_dir), "bold"), os.sep))
    else:
        console.print(Text("No plugin produced anything.", style="bold red"))


def _show(path: Path) -> str:
    # Relative when under the working directory (short and clickable), else absolute.
    absolute = path.resolve()
    try:
        return str(absolute.relative_to(Path.cwd()))
    except ValueError:
        return str(absolute)
