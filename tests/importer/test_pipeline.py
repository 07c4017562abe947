"""The import's reader process (tgstats.importer.pipeline): the same rows, aggregates
and errors as a single-process import, and no half chat or stray process when stopped."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tgstats.importer import ExportFormatError, import_export
from tgstats.store import Store, open_store
from tgstats.store.rebuild import verify

CHAT_ID = -100000000000077
MessageBuilder = Callable[..., dict[str, Any]]


def _export(count: int, text_message: MessageBuilder) -> dict[str, Any]:
    """A chat over several days, with replies, reactions, a command and a service message."""
    messages: list[dict[str, Any]] = []
    for i in range(1, count + 1):
        unix = 1714557600 + i * 3000  # about 29 messages a day: batches span days
        if i % 23 == 0:
            messages.append(
                {"id": i, "type": "service", "date_unixtime": str(unix), "action": "pin_message"}
            )
            continue
        text: Any = f"hello world number{i % 7} привет"
        extra: dict[str, Any] = {}
        if i % 5 == 0:
            extra["reply_to_message_id"] = i - 3
        if i % 4 == 0:
            extra["reactions"] = [{"type": "emoji", "count": 2, "emoji": "👍"}]
        if i % 31 == 0:
            text = [{"type": "bot_command", "text": "/stats"}, " now"]
            extra["text_entities"] = [{"type": "bot_command", "text": "/stats"}]
        messages.append(text_message(i, 1 + i % 6, text, unix, **extra))
    return {"name": "G", "type": "private_supergroup", "id": 77, "messages": messages}


def _contents(store: Store) -> list[dict[str, Any]]:
    return list(store.export(CHAT_ID))


def test_the_reader_process_stores_what_one_process_stores(
    store: Store,
    tmp_path: Path,
    write_export: Callable[..., Path],
    text_message: MessageBuilder,
) -> None:
    path = write_export(_export(400, text_message))
    other_url = f"sqlite:///{tmp_path / 'single.db'}"

    piped = import_export(path, store, batch_size=37, pipeline=True)
    with open_store(other_url) as single:
        alone = import_export(path, single, batch_size=37, pipeline=False)
        expected = _contents(single)
    again = import_export(path, store, batch_size=37, pipeline=True)

    assert (piped.messages, piped.added, piped.bytes) == (383, 383, path.stat().st_size)
    assert (alone.messages, alone.added) == (383, 383)
    assert piped.chats[0] == alone.chats[0]
    assert again.added == 0
    assert _contents(store) == expected
    with store.engine.connect() as connection:
        assert verify(connection) == []
    assert multiprocessing.active_children() == []


def test_a_malformed_message_gives_the_same_error_and_stores_nothing(
    store: Store, write_export: Callable[..., Path], text_message: MessageBuilder
) -> None:
    export = _export(120, text_message)
    export["messages"][100]["date_unixtime"] = "yesterday"
    path = write_export(export)
    errors = []
    for pipeline in (True, False):
        with pytest.raises(ExportFormatError) as caught:
            import_export(path, store, batch_size=10, pipeline=pipeline)
        errors.append(str(caught.value))

    assert errors[0] == errors[1]
    assert "message #100, id 101: 'date_unixtime': expected Unix seconds" in errors[0]
    assert errors[0].endswith("(nothing of that chat was stored)")
    assert store.queries.count_messages(CHAT_ID) == 0
    assert multiprocessing.active_children() == []


def test_truncated_json_names_the_byte_from_the_reader_process(
    store: Store, write_export: Callable[..., Path], text_message: MessageBuilder
) -> None:
    text = json.dumps(_export(200, text_message))
    path = write_export(text[: len(text) // 2])

    with pytest.raises(ExportFormatError) as caught:
        import_export(path, store, batch_size=10, pipeline=True)

    message = str(caught.value)
    assert f"near byte {path.stat().st_size:,}" in message
    assert "malformed JSON: the file ends in the middle of the JSON" in message
    assert store.queries.count_messages(CHAT_ID) == 0


def test_an_interrupt_rolls_the_chat_back_and_stops_the_reader(
    store: Store, write_export: Callable[..., Path], text_message: MessageBuilder
) -> None:
    path = write_export(_export(600, text_message))
    seen: list[int] = []

    def on_read(nbytes: int) -> None:
        seen.append(nbytes)
        if len(seen) == 3:  # some batches are written by now
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_export(path, store, batch_size=20, on_read=on_read, pipeline=True)

    assert store.queries.count_messages(CHAT_ID) == 0
    assert multiprocessing.active_children() == []
    assert _children(os.getpid()) == []


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc (Linux)")
def test_sigterm_leaves_no_reader_process_and_no_half_chat(
    tmp_path: Path, write_export: Callable[..., Path], text_message: MessageBuilder
) -> None:
    path = write_export(_export(30_000, text_message))  # ~8 MB: over MIN_PIPELINE_BYTES
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    with subprocess.Popen(
        [sys.executable, "-m", "tgstats", "import", str(path), "--db", db],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    ) as importer:
        deadline = time.monotonic() + 60
        readers: list[int] = []
        while not readers and importer.poll() is None and time.monotonic() < deadline:
            readers = _children(importer.pid)
            time.sleep(0.01)
        assert readers, "the import ended before its reader process was seen"
        importer.send_signal(signal.SIGTERM)
        assert importer.wait(timeout=30) == -signal.SIGTERM
    deadline = time.monotonic() + 10
    while Path(f"/proc/{readers[0]}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not Path(f"/proc/{readers[0]}").exists(), "the reader outlived the importer"
    with open_store(db) as store:
        assert store.queries.count_messages(CHAT_ID) == 0
