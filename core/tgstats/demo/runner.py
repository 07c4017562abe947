"""``tgstats demo``: sample history -> SQLite -> every plugin command -> files.

The commands run exactly as in the bot: the real :class:`PluginManager` loads
the installed plugins (with the host the bot uses) and each command goes
through :func:`tgstats.host.invoke.invoke_command`; only the transport differs
(replies become files instead of Telegram messages).  ``now`` is the history's
fixed anchor, so "last 30 days" means the same days on every run.
"""

from __future__ import annotations

import asyncio
import json
import os
import struct
import time
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import attrs

from tgstats.demo.history import ANCHOR, DEFAULT_SEED, DemoHistory, build_history
from tgstats.host.blame import locate_error
from tgstats.host.invoke import invoke_command
from tgstats.host.manager import PluginManager
from tgstats.host.services import make_host_factory
from tgstats.logs import get_logger
from tgstats.plugins import CommandContext, PhotoReply, TextReply
from tgstats.store import Store, open_store

__all__ = ["DB_NAME", "CommandResult", "DemoResult", "build_store", "run_demo"]

DB_NAME = "demo.db"
MANIFEST = ".tgstats-demo.json"  # files the previous run wrote, removed on the next

log = get_logger(__name__)


@attrs.frozen
class CommandResult:
    """One command's outcome: a written file, or why there is none."""

    plugin: str
    command: str
    file: Path | None = None
    summary: str = ""
    error: str | None = None
    seconds: float = 0.0


@attrs.frozen
class DemoResult:
    out_dir: Path
    db_path: Path
    history: DemoHistory
    commands: tuple[CommandResult, ...]
    failed_plugins: tuple[tuple[str, str], ...]  # (plugin, reason): could not load
    disabled_plugins: tuple[str, ...]
    seconds: float

    @property
    def files(self) -> list[Path]:
        return [c.file for c in self.commands if c.file is not None]

    @property
    def ok(self) -> bool:
        """Every enabled plugin loaded and every command produced a file."""
        return (
            bool(self.files)
            and not self.failed_plugins
            and all(c.error is None for c in self.commands)
        )


def build_store(db_path: Path, seed: int = DEFAULT_SEED) -> tuple[Store, DemoHistory]:
    """A fresh SQLite store at ``db_path`` holding the sample history (rebuilt each time)."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    history = build_history(seed)
    store = open_store(f"sqlite:///{db_path}")
    with store.bulk() as batch:
        batch.upsert_chat(history.chat)
        batch.upsert_users(list(history.users))
        batch.add_messages(list(history.messages))
    return store, history


def run_demo(
    out_dir: Path, *, config_path: Path, seed: int = DEFAULT_SEED, now: datetime = ANCHOR
) -> DemoResult:
    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    _remove_previous_outputs(out_dir)
    db_path = out_dir / DB_NAME
    store, history = build_store(db_path, seed)
    try:
        commands, failed, disabled = asyncio.run(
            _run_plugins(store, history, out_dir, config_path=config_path, now=now)
        )
    finally:
        store.close()
    result = DemoResult(
        out_dir=out_dir,
        db_path=db_path,
        history=history,
        commands=tuple(commands),
        failed_plugins=tuple(failed),
        disabled_plugins=tuple(disabled),
        seconds=time.perf_counter() - started,
    )
    _write_manifest(out_dir, result.files)
    return result


async def _run_plugins(
    store: Store, history: DemoHistory, out_dir: Path, *, config_path: Path, now: datetime
) -> tuple[list[CommandResult], list[tuple[str, str]], list[str]]:
    manager = PluginManager(config_path=config_path, host_factory=make_host_factory(store.queries))
    await manager.start()
    results: list[CommandResult] = []
    failed: list[tuple[str, str]] = []
    disabled: list[str] = []
    # Commands about "me" (the member card's /me) need a sender: the demo's
    # most active member sends every command.
    sender = next(
        (
            m.user.user_id
            for m in store.queries.member_message_counts(history.chat.chat_id)
            if not m.user.is_channel
        ),
        None,
    )
    try:
        for record in manager.list_plugins():
            if record.state == "disabled":
                disabled.append(record.name)
                continue
            if record.state != "loaded" or record.instance is None:
                failed.append((record.name, record.reason or "could not be loaded"))
                continue
            plugin = record.instance
            for spec in plugin.commands():
                ctx = CommandContext(
                    command=spec.name,
                    args=(),
                    chat_id=history.chat.chat_id,
                    chat_title=history.chat.title,
                    user_id=sender,
                    now=now,
                    store=store.queries,
                )
                began = time.perf_counter()
                try:
                    reply = await invoke_command(plugin, spec, ctx)
                except Exception as error:  # one failing command must not stop the others
                    # The plugin's own file:line and source line, as the bot logs it.
                    log.warning(
                        "demo_command_failed",
                        plugin=record.name,
                        command=spec.name,
                        **locate_error(error, record.spec).log_fields(),
                    )
                    results.append(
                        CommandResult(
                            record.name,
                            spec.name,
                            error=f"{type(error).__name__}: {error}",
                            seconds=time.perf_counter() - began,
                        )
                    )
                    continue
                saved = _save(record.name, spec.name, reply, out_dir)
                results.append(attrs.evolve(saved, seconds=time.perf_counter() - began))
    finally:
        await manager.stop()
    return results, failed, disabled


def _save(plugin: str, command: str, reply: object, out_dir: Path) -> CommandResult:
    if isinstance(reply, PhotoReply):
        path = out_dir / f"{command}.png"
        _write_atomically(path, reply.png)
        return CommandResult(plugin, command, path, describe_png(reply.png))
    if isinstance(reply, TextReply):
        path = out_dir / f"{command}.txt"
        text = reply.text if reply.text.endswith("\n") else reply.text + "\n"
        _write_atomically(path, text.encode("utf-8"))
        return CommandResult(plugin, command, path, describe_text(reply.text))
    return CommandResult(plugin, command, error="replied with nothing")


def describe_png(png: bytes) -> str:
    """``"1200x800 PNG, 93 KiB"`` from the IHDR chunk (no image library needed)."""
    if png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        return f"not a PNG ({len(png):,} bytes)"
    width, height = struct.unpack(">II", png[16:24])
    return f"{width}x{height} PNG, {_size(len(png))}"


def describe_text(text: str) -> str:
    lines = text.strip("\n").splitlines() or [""]
    first = lines[0].strip()
    if len(first) > 60:
        first = first[:57] + "..."
    count = len(lines)
    return f"{first!r} ({count} line{'s' if count != 1 else ''})"


def _size(nbytes: int) -> str:
    return f"{nbytes / 1024:,.0f} KiB" if nbytes >= 1024 else f"{nbytes} bytes"


def _write_atomically(path: Path, data: bytes) -> None:
    # A viewer that has the old file open never sees a half-written one.
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _remove_previous_outputs(out_dir: Path) -> None:
    """Delete what the last run wrote (and only that), so re-running leaves no stale files."""
    manifest = out_dir / MANIFEST
    try:
        names = json.loads(manifest.read_text(encoding="utf-8")).get("files", [])
    except (OSError, ValueError, AttributeError):
        return
    for name in names:
        if isinstance(name, str) and "/" not in name and name not in ("", ".", ".."):
            (out_dir / name).unlink(missing_ok=True)


def _write_manifest(out_dir: Path, files: Iterable[Path]) -> None:
    names = sorted(path.name for path in files)
    (out_dir / MANIFEST).write_text(json.dumps({"files": names}, indent=1) + "\n", encoding="utf-8")
