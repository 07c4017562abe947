"""Save -> new answer in `tgstats chat`, with the native watcher.

A plugin made by `tgstats new-plugin` (importable through its dist-info, as
pip would leave it) is served by a real `tgstats chat` process driven through
a pipe.  Each trial rewrites the plugin's reply string (write to a temporary
file, then rename, as editors save), waits for the chat's ``* reloaded`` line,
types ``/hello`` and waits for the reply carrying the new string.  The
debounce (``reload_debounce``, 10 ms here) is part of every save -> reload
time on purpose; the table shows the time without it too.

Run: ``python bench/chat_reload_bench.py [--trials N]``.
"""

from __future__ import annotations

import argparse
import os
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from pathlib import Path

import psutil

DEBOUNCE = 0.01
CONFIG = f"""\
settings:
  hot_reload: true
  watcher: native
  reload_debounce: {DEBOUNCE}
"""
TARGET_MS = 100.0


def tgstats() -> str:
    beside = Path(sys.executable).with_name("tgstats")
    return str(beside) if beside.exists() else (shutil.which("tgstats") or "tgstats")


def make_plugin(root: Path) -> Path:
    subprocess.run(
        [tgstats(), "new-plugin", "hello", "--dir", "hello"],
        cwd=root,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    project = root / "hello"
    meta = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    info = project / "tgstats_hello-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {meta['name']}\nVersion: 0.1.0\n")
    entry = meta["entry-points"]["tgstats.plugins"]["hello"]
    (info / "entry_points.txt").write_text(f"[tgstats.plugins]\nhello = {entry}\n")
    return project


class Chat:
    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [tgstats(), "chat", "--plugins-config", "plugins.yaml"],
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self.lines: queue.Queue[tuple[float, str]] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put((time.perf_counter(), line.rstrip("\n")))

    def send(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def wait_for(self, start: str, timeout: float = 30.0) -> float:
        """When the first line starting with ``start`` arrived."""
        deadline = time.monotonic() + timeout
        while True:
            at, line = self.lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            if line.startswith(start):
                return at

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def save(path: Path, text: str) -> None:
    tmp = path.with_name(".plugin.py.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        project = make_plugin(root)
        (root / "plugins.yaml").write_text(CONFIG)
        env = {**os.environ, "PYTHONPATH": str(project), "PYTHONDONTWRITEBYTECODE": "1"}
        env.pop("TGSTATS_PLUGINS_CONFIG", None)
        chat = Chat(root, env)
        chat.wait_for("/as NAME")
        source = project / "tgstats_hello" / "plugin.py"
        original = source.read_text()
        chat.send("/hello")
        chat.wait_for("bot: Hello!")
        process = psutil.Process(chat.proc.pid)
        reloads, answers, totals = [], [], []
        cpu_before = process.cpu_times()
        for trial in range(args.trials):
            time.sleep(0.3)  # apart, so each save is its own reload
            word = f"version {trial}"
            saved = time.perf_counter()
            save(source, original.replace("so far", word))
            reloaded = chat.wait_for("* reloaded hello")
            chat.send("/hello")
            answered = chat.wait_for(f"bot: Hello! {trial + 2} messages in this chat {word}.")
            reloads.append(reloaded - saved)
            answers.append(answered - reloaded)
            totals.append(answered - saved)
        cpu_after = process.cpu_times()
        chat.close()
    load = os.getloadavg()
    cpu_ms = (
        (cpu_after.user + cpu_after.system - cpu_before.user - cpu_before.system)
        * 1000
        / args.trials
    )

    def ms(values: list[float]) -> str:
        return (
            f"{statistics.median(values) * 1000:7.1f} ms median, max {max(values) * 1000:7.1f} ms"
        )

    net = [t - DEBOUNCE for t in totals]
    print(f"save -> new answer in `tgstats chat`, native watcher, {args.trials} saves")
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, {os.cpu_count()} cores")
    print()
    print("| step | result |")
    print("| --- | --- |")
    print(f"| save -> `* reloaded` printed (debounce {DEBOUNCE * 1000:.0f} ms) | {ms(reloads)} |")
    print(f"| `/hello` typed -> new answer printed | {ms(answers)} |")
    print(f"| **save -> new answer** | {ms(totals)} |")
    verdict = "met" if statistics.median(net) * 1000 < TARGET_MS else "MISSED"
    print(f"| the same without the debounce | {ms(net)} (target < {TARGET_MS:.0f} ms: {verdict}) |")
    print(f"| chat process CPU per save + answer | {cpu_ms:.1f} ms |")


if __name__ == "__main__":
    main()
