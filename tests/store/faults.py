"""Real store faults for tests: a full file system, a read-only one, a lock held elsewhere.

Shared by tests/store and tests/e2e (loaded by path there).  Mounting needs
root (CI runs as root on this machine); without it the test is skipped with
the reason.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

__all__ = ["SqliteLock", "fill_file_system", "remount", "tmpfs"]


@contextmanager
def tmpfs(path: Path, size: str = "2m") -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``path`` for the duration of the block."""
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs at {path} (needs root): {done.stderr.strip()}")
    try:
        yield path
    finally:
        # Lazy: a bot that is still shutting down may hold a file open.
        subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)


def remount(path: Path, mode: str) -> None:
    """Remount the file system at ``path`` ``ro`` or ``rw`` (no file may be open for writing)."""
    subprocess.run(["mount", "-o", f"remount,{mode}", str(path)], check=True, capture_output=True)


def fill_file_system(directory: Path) -> Path:
    """Fill the file system of ``directory`` to the last byte; returns the filler to delete."""
    filler = directory / "filler.bin"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        chunk = 1 << 16
        while chunk:
            try:
                os.write(fd, b"\0" * chunk)
            except OSError:
                chunk //= 2  # ENOSPC: try smaller pieces until not one byte fits
    finally:
        os.close(fd)
    return filler


_LOCK_SCRIPT = """\
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
connection.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
if float(sys.argv[2]) > 0:
    time.sleep(float(sys.argv[2]))
else:
    sys.stdin.read()
connection.execute("ROLLBACK")
"""


class SqliteLock:
    """Another process holding SQLite's write lock (BEGIN IMMEDIATE) on ``db``.

    Held until :meth:`release` (or for ``seconds`` when given, then released
    by the holder itself).
    """

    def __init__(self, db: Path, seconds: float = 0.0) -> None:
        self.db = db
        self.seconds = seconds
        self.process: subprocess.Popen[str] | None = None

    def __enter__(self) -> SqliteLock:
        self.process = subprocess.Popen(
            [sys.executable, "-c", _LOCK_SCRIPT, str(self.db), str(self.seconds)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if line.strip() != "locked":
            self.process.kill()
            raise AssertionError(f"the lock holder did not get the lock: {line!r}")
        return self

    def release(self) -> None:
        if self.process is None:
            return
        if self.process.stdin is not None and not self.process.stdin.closed:
            self.process.stdin.close()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def wait(self, timeout: float) -> None:
        """Wait until a timed holder let go by itself."""
        assert self.process is not None
        self.process.wait(timeout)

    def __exit__(self, *_exc: object) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None and not pipe.closed:
                pipe.close()
