"""`tgstats chat` as a plugin author uses it: a real process, a plugin made by `new-plugin`.

The chat runs the real bot runtime against its in-process Bot API; these
tests drive the ``tgstats chat`` process through a pipe, read what it prints,
and edit the plugin's files on disk in between.  No fixed sleeps: each step
waits for the line the chat prints (the reply, ``* reloaded``, ``! ...``).
"""

from __future__ import annotations

import queue
import re
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .plugin_project import add_dist_info, clean_env, new_plugin, tgstats_cli

STEP_TIMEOUT = 30.0  # seconds one step may take on a loaded 2-core machine


@pytest.fixture
def hello(tmp_path: Path) -> Path:
    """A fresh `tgstats new-plugin hello`, importable through its dist-info."""
    return add_dist_info(new_plugin(tmp_path))


class ChatProcess:
    """`tgstats chat` with stdin and stdout as pipes; stdout read by a thread."""

    def __init__(self, cwd: Path, env: dict[str, str], *args: str) -> None:
        self.proc = subprocess.Popen(
            [*tgstats_cli(), "chat", *args],
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        self._pumping = threading.Thread(target=self._pump, daemon=True)
        self._pumping.start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def send(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def expect(self, pattern: str) -> re.Match[str]:
        """The first line from now on matching ``pattern`` (a regex)."""
        deadline = time.monotonic() + STEP_TIMEOUT
        while True:
            left = deadline - time.monotonic()
            try:
                line = self.lines.get(timeout=max(left, 0.01))
            except queue.Empty:
                raise AssertionError(f"no line matching {pattern!r}; saw {self.seen}") from None
            if line is None:
                stderr = self.proc.stderr.read() if self.proc.stderr else ""
                raise AssertionError(f"chat ended before {pattern!r}; saw {self.seen}\n{stderr}")
            self.seen.append(line)
            found = re.search(pattern, line)
            if found:
                return found

    def close(self) -> int:
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            self.proc.stdin.close()
        try:
            return self.proc.wait(timeout=STEP_TIMEOUT)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self._pumping.join(timeout=STEP_TIMEOUT)
            for stream in (self.proc.stdout, self.proc.stderr):
                if stream is not None:
                    stream.close()


@pytest.fixture
def chat(hello: Path) -> Iterator[ChatProcess]:
    process = ChatProcess(hello.parent, clean_env(hello), "--as", "Alice")
    yield process
    process.close()


def test_a_script_is_answered_and_every_line_is_stored(hello: Path) -> None:
    script = "hi all\n/hello\n/as Bob\nhello Alice\n/hello\n/plugins\n"
    result = subprocess.run(
        [*tgstats_cli(), "chat", "--as", "Alice", "--title", "Book club"],
        input=script,
        cwd=hello.parent,
        env=clean_env(hello),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout.splitlines()
    assert out[0] == 'tgstats chat: "Book club" (chat -1001), you are Alice (an admin)'
    assert "hello (/hello)" in out[1]
    # One reply block per command, right after its echoed line.
    transcript = "\n".join(out[4:])
    assert transcript.startswith(
        "Alice> hi all\n"
        "Alice> /hello\n"
        "bot: Hello! 2 messages in this chat so far.\n"
        "Alice> /as Bob\n"
        "(you are now Bob)\n"
        "Bob> hello Alice\n"
        "Bob> /hello\n"
        "bot: Hello! 4 messages in this chat so far.\n"
        "Bob> /plugins\n"
    ), transcript
    assert re.search(r"^     hello 0\.1\.0: loaded$", transcript, re.M), transcript
    # The host's recorder stored every message, once, under the two members.
    db = sqlite3.connect(hello.parent / "tgstats-chat" / "chat.db")
    try:
        rows = db.execute(
            "select u.display_name, m.text from messages m join users u using (user_id) "
            "where m.chat_id = -1001 order by m.message_id"
        ).fetchall()
        title = db.execute("select title from chats where chat_id = -1001").fetchone()
    finally:
        db.close()
    assert rows == [
        ("Alice", "hi all"),
        ("Alice", "/hello"),
        ("Bob", "hello Alice"),
        ("Bob", "/hello"),
        ("Bob", "/plugins"),
    ]
    assert title == ("Book club",)


def test_a_second_session_continues_the_same_chat(hello: Path) -> None:
    def run(script: str) -> str:
        result = subprocess.run(
            [*tgstats_cli(), "chat", "--as", "Alice"],
            input=script,
            cwd=hello.parent,
            env=clean_env(hello),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    run("one\ntwo\n")
    # New message ids continue after the stored ones: nothing is overwritten.
    assert "bot: Hello! 3 messages in this chat so far." in run("/hello\n")


def test_saved_edits_answer_at_once_and_a_broken_save_keeps_the_old_version(
    hello: Path, chat: ChatProcess
) -> None:
    source = hello / "tgstats_hello" / "plugin.py"
    chat.expect(r"^/as NAME switches member")  # the banner's last line: the bot is up
    chat.send("/hello")
    chat.expect(r"^bot: Hello! 1 messages in this chat so far\.$")

    source.write_text(source.read_text().replace("so far", "until now"))
    chat.expect(r"^\* reloaded hello \(")
    chat.send("/hello")
    chat.expect(r"^bot: Hello! 2 messages in this chat until now\.$")

    good = source.read_text()
    broken = good.replace("return TextReply(", "return TextReply((")
    source.write_text(broken)
    line = next(n for n, text in enumerate(broken.splitlines(), 1) if "TextReply((" in text)
    failed = chat.expect(r"^! hello: reload failed at (\S+):(\d+): (.*)$")
    assert Path(failed[1]).resolve() == source.resolve()
    # CPython reports an unclosed bracket at the line where it opens.
    assert int(failed[2]) == line, (failed[0], line)
    assert "syntax error" in failed[3]
    chat.expect(r"^! hello: the previous version keeps answering$")
    chat.send("/hello")
    chat.expect(r"^bot: Hello! 3 messages in this chat until now\.$")

    # A command that raises: the group sees the apology, the chat the plugin's line.
    raising = good.replace(
        "        total = ctx.store.count_messages(ctx.chat_id)\n",
        "        total = ctx.store.count_messages(ctx.chat_id)\n        total = total // 0\n",
    )
    source.write_text(raising)
    chat.expect(r"^\* reloaded hello \(")
    chat.send("/hello")
    raised = chat.expect(r"^! hello /hello raised ZeroDivisionError: .* at (\S+):(\d+)$")
    line = next(n for n, text in enumerate(raising.splitlines(), 1) if "// 0" in text)
    assert (Path(raised[1]).resolve(), int(raised[2])) == (source.resolve(), line)
    chat.expect(r"^!     total = total // 0$")
    chat.expect(r"^bot: Sorry, /hello failed\. The bot's admins can find the details in its log\.$")
    assert chat.close() == 0

    # The log records the same: plugin, command, the plugin's file:line and source line.
    log = (hello.parent / "tgstats-chat" / "tgstats.log").read_text(encoding="utf-8")
    failure = next(text for text in log.splitlines() if "plugin_handler_failed" in text)
    assert "plugin=hello" in failure and "command=hello" in failure, failure
    assert f"file={raised[1]}" in failure and f"line={line}" in failure, failure
    assert "source='total = total // 0'" in failure, failure


def test_hostile_scripts_get_a_reason_and_the_chat_goes_on(hello: Path) -> None:
    script = (
        b"x" * 1_000_000  # a megabyte without a line break: dropped, not stored
        + b"\nbad \xff\xfe bytes\n/press 99999999999999999999\n/as 123\n/press x\n/hello\n"
    )
    result = subprocess.run(
        [*tgstats_cli(), "chat"],
        input=script,
        cwd=hello.parent,
        env=clean_env(hello),
        capture_output=True,
        timeout=120,
        check=False,
    )
    out = result.stdout.decode("utf-8").splitlines()
    assert result.returncode == 0, [*out, result.stderr.decode()]
    assert out[4:] == [
        "? a message has at most 4096 characters, this line has 1,000,001",
        "You> bad \ufffd\ufffd bytes",
        "You> /press 99999999999999999999",
        "? no button 99999999999999999999: the bot has shown no buttons",
        "You> /as 123",
        "? member name '123': expected 1-64 letters, digits, spaces, . ' -, starting with a letter",
        "You> /press x",
        "? usage: /press N (the number shown before a button)",
        "You> /hello",
        "bot: Hello! 2 messages in this chat so far.",
    ]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--as", "<b>"], "tgstats: error: --as: member name '<b>'"),
        (["--title", "t" * 129], "tgstats: error: --title: expected 1-128 characters, found 129"),
        (["--demo", "--db", "sqlite://"], "tgstats: error: --demo builds its own store"),
    ],
)
def test_bad_options_are_one_line(tmp_path: Path, args: list[str], error: str) -> None:
    result = subprocess.run(
        [*tgstats_cli(), "chat", *args],
        input="",
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.startswith(error), result.stderr
    assert result.stdout == ""


def test_demo_starts_from_the_sample_group(tmp_path: Path) -> None:
    config = tmp_path / "plugins.yaml"
    config.write_text(
        "settings:\n  load_unlisted_plugins: false\nplugins:\n  engagement_scores: {}\n"
    )
    result = subprocess.run(
        [*tgstats_cli(), "chat", "--demo", "--as", "Max", "--plugins-config", str(config)],
        input="/engagement all\n",
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout.splitlines()
    assert out[0].startswith('tgstats chat: "Hiking & Coffee Club" (chat -100')
    assert out[5].startswith("bot: Engagement in Hiking & Coffee Club, all time (7 members)"), (
        out
    )  # the channel is not ranked


def test_a_raising_button_shows_the_plugins_line(hello: Path) -> None:
    source = hello / "tgstats_hello" / "plugin.py"
    source.write_text(
        "from __future__ import annotations\n"
        "\n"
        "from tgstats.plugins import (\n"
        "    Button, ButtonContext, CommandContext, NoConfig, Plugin, TextReply, button, command\n"
        ")\n"
        "\n"
        "\n"
        "class HelloPlugin(Plugin[NoConfig]):\n"
        "    Config = NoConfig\n"
        "\n"
        '    @command("hello", "Buttons")\n'
        "    def hello(self, ctx: CommandContext) -> TextReply:\n"
        '        return TextReply("pick", buttons=[[Button("Boom", "boom", "x")]])\n'
        "\n"
        '    @button("boom")\n'
        "    def boom(self, ctx: ButtonContext) -> TextReply:\n"
        '        raise RuntimeError(f"pressed {ctx.payload}")\n'
    )
    (hello / "tgstats_hello" / "plugin.yaml").write_text("{}\n")
    result = subprocess.run(
        [*tgstats_cli(), "chat"],
        input="/hello\n/press 1\n",
        cwd=hello.parent,
        env=clean_env(hello),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout.splitlines()[4:]
    assert out[:4] == ["You> /hello", "bot: pick", "  [1] Boom", "  (press one with /press N)"]
    assert out[4] == "You> /press 1"
    assert out[5] == f"! hello button boom raised RuntimeError: pressed x at {source}:17", out
    assert out[6] == '!     raise RuntimeError(f"pressed {ctx.payload}")'
    assert out[7].startswith("bot (popup): "), out
