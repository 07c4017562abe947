"""The pid file behind `tgstats reload`: atomic writes, strict reads, removed by its owner only."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from tgstats.errors import TgstatsError
from tgstats.pidfile import read_pid, remove_pid_file, signal_bot, write_pid_file


def test_write_read_remove(tmp_path: Path) -> None:
    path = tmp_path / "run" / "tgstats.pid"
    write_pid_file(path)
    assert read_pid(path) == os.getpid()
    assert not path.with_name("tgstats.pid.tmp").exists()
    remove_pid_file(path)
    assert not path.exists()


def test_a_pid_file_of_another_process_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "tgstats.pid"
    path.write_text("1\n")
    remove_pid_file(path)
    assert path.read_text() == "1\n"


@pytest.mark.parametrize("content", ["", "abc", "-5", "12 34"])
def test_garbage_is_named(tmp_path: Path, content: str) -> None:
    path = tmp_path / "tgstats.pid"
    path.write_text(content)
    with pytest.raises(TgstatsError, match=r"tgstats\.pid: expected a process id, found"):
        read_pid(path)


def test_missing_and_stale_pid_files(tmp_path: Path) -> None:
    with pytest.raises(TgstatsError, match="no pid file"):
        signal_bot(tmp_path / "none.pid")
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    stale = tmp_path / "stale.pid"
    stale.write_text(finished.stdout)
    with pytest.raises(TgstatsError, match="is not running"):
        signal_bot(stale, signal.SIGHUP)


def test_signal_reaches_the_process(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        path = tmp_path / "child.pid"
        path.write_text(f"{child.pid}\n")
        assert signal_bot(path, signal.SIGHUP) == child.pid
        assert child.wait(10) == -signal.SIGHUP  # default action: it really got SIGHUP
    finally:
        if child.poll() is None:
            child.kill()
