"""The terminal side of ``tgstats chat``: read lines, hand them to the session, print.

On a terminal, lines come from :func:`input` with readline's editing and a
history file; otherwise (``tgstats chat < script.txt``, a pipe) one line is
one message, each echoed as ``Name> line`` and followed by the bot's reply
block, so a transcript reads like the chat.  Lines are read in a daemon
thread: the bot's event loop never blocks on the keyboard, and Ctrl-C (the
bot's own SIGINT handling) or Ctrl-D ends the chat.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from tgstats.chat import LOCAL_COMMANDS
from tgstats.chat.session import MAX_LINE, ChatSession
from tgstats.errors import TgstatsError

__all__ = ["LineReader", "run_terminal"]

HISTORY_LINES = 1000


class LineReader:
    """One line at a time from ``stream`` (``input()`` with a prompt on a terminal)."""

    def __init__(self, stream: TextIO, *, interactive: bool) -> None:
        self._stream = stream
        self.interactive = interactive

    async def read(self, prompt: str) -> str | None:
        """The next line without its newline, or None at the end of the input."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[str | None] = loop.create_future()

        def work() -> None:
            try:
                if self.interactive:
                    line: str | None = input(prompt)
                else:
                    line = _bounded_line(self._stream)
            except EOFError:
                line = None
            except BaseException as error:  # surface it in the loop, do not die silently
                loop.call_soon_threadsafe(_set_exception, future, error)
                return
            loop.call_soon_threadsafe(_set_result, future, line)

        # A daemon thread: a read still blocked when the chat ends must not hold the exit.
        threading.Thread(target=work, name="tgstats-chat-input", daemon=True).start()
        return await future


class LineTooLong(ValueError):
    """A line longer than any message may be; it was read to its end and dropped."""


def _bounded_line(stream: TextIO) -> str | None:
    """One line of at most MAX_LINE characters, or LineTooLong (memory stays bounded)."""
    raw = stream.readline(MAX_LINE + 2)  # room for the line break
    if not raw:
        return None
    if raw.endswith("\n") or len(raw) <= MAX_LINE:
        return raw.rstrip("\r\n")
    length = len(raw)
    while raw and not raw.endswith("\n"):  # skip the rest of it, a chunk at a time
        raw = stream.readline(64 * 1024)
        length += len(raw)
    raise LineTooLong(f"a message has at most {MAX_LINE} characters, this line has {length:,}")


def _set_result(future: asyncio.Future[str | None], value: str | None) -> None:
    if not future.done():
        future.set_result(value)


def _set_exception(future: asyncio.Future[str | None], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)


def _setup_readline(history: Path) -> Callable[[], None]:
    """Line editing and a history file; returns what saves the history."""
    try:
        import readline
    except ImportError:  # Windows without pyreadline: plain input() still works
        return lambda: None
    with contextlib.suppress(OSError):
        readline.read_history_file(history)
    readline.set_history_length(HISTORY_LINES)

    def save() -> None:
        with contextlib.suppress(OSError):
            readline.write_history_file(history)

    return save


async def run_terminal(
    session: ChatSession, reader: LineReader, out: Callable[[str], None], banner: list[str]
) -> int:
    """Serve lines until the input ends, ``/quit`` or the bot stops; the exit status."""
    save_history = (
        _setup_readline(session.options.out_dir / "history")
        if reader.interactive
        else (lambda: None)
    )
    for line in banner:
        out(line)
    try:
        while True:
            reading = asyncio.ensure_future(reader.read(f"{session.member}> "))
            await asyncio.wait({reading, session.finished}, return_when=asyncio.FIRST_COMPLETED)
            if not reading.done():  # Ctrl-C: the bot stopped cleanly while we waited
                reading.cancel()
                out("")
                break
            try:
                read = reading.result()
            except LineTooLong as error:
                out(f"? {error}")
                continue
            if read is None:
                break
            text = read.strip()
            if not text:
                continue
            if not reader.interactive:
                out(f"{session.member}> {text}")
            if text in LOCAL_COMMANDS[2:]:  # /quit, /exit
                break
            try:
                for reply in await _handle(session, text):
                    out(reply)
            except ValueError as error:
                out(f"? {error}")
    except TgstatsError as error:
        out(f"! {error}")
        return 1
    finally:
        save_history()
    return 0


async def _handle(session: ChatSession, text: str) -> list[str]:
    word, _, rest = text.partition(" ")
    if word == "/as":
        if not rest.strip():
            raise ValueError("usage: /as NAME")
        name = await session.switch_member(rest)
        return [f"(you are now {name})"]
    if word == "/press":
        try:
            number = int(rest.strip())
        except ValueError:
            raise ValueError("usage: /press N (the number shown before a button)") from None
        return await session.press(number)
    return await session.say(text)


def write_line(stream: Any) -> Callable[[str], None]:
    def out(line: str) -> None:
        print(line, file=stream, flush=True)

    return out
