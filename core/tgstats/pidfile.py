"""The pid file that lets ``tgstats reload`` find a running ``tgstats run``.

The bot writes it only once its signal handlers are installed: SIGHUP's
default action is to terminate, so a reload request that arrived before the
handler would kill the bot instead of reloading it.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from tgstats.errors import TgstatsError

__all__ = ["ENV_PID_FILE", "read_pid", "remove_pid_file", "signal_bot", "write_pid_file"]

ENV_PID_FILE = "TGSTATS_PID_FILE"


def write_pid_file(path: Path) -> None:
    """Write this process's pid atomically (a reader never sees half a number)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(f"{os.getpid()}\n", encoding="ascii")
    partial.replace(path)


def remove_pid_file(path: Path) -> None:
    """Remove the pid file if it is still ours (a newer bot may have replaced it)."""
    try:
        if read_pid(path) == os.getpid():
            path.unlink()
    except (TgstatsError, OSError):
        pass


def read_pid(path: Path) -> int:
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise TgstatsError(
            f"{path}: no pid file; is the bot running with --pid-file {path} (or ${ENV_PID_FILE})?"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise TgstatsError(f"{path}: cannot read the pid file: {error}") from None
    if not text.isdigit() or int(text) <= 0:
        raise TgstatsError(f"{path}: expected a process id, found {text[:40]!r}")
    return int(text)


def signal_bot(path: Path, signum: signal.Signals = signal.SIGHUP) -> int:
    """Send ``signum`` to the bot named by the pid file; returns its pid."""
    pid = read_pid(path)
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        raise TgstatsError(f"{path}: process {pid} is not running (a stale pid file?)") from None
    except PermissionError:
        raise TgstatsError(
            f"{path}: not allowed to signal process {pid} (run as its user)"
        ) from None
    return pid
