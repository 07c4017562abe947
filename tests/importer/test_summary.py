"""The import summary names the real reason a chat was skipped."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tgstats.importer import import_export
from tgstats.importer.summary import skipped_lines
from tgstats.store import Store

DATA = Path(__file__).parent / "data"


def _account(text_message: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    return {
        "chats": {
            "list": [
                {"name": "Group", "type": "private_group", "id": 11,
                 "messages": [text_message(1, 1, "hi", 1714557600)]},
                {"name": "Bob", "type": "personal_chat", "id": 12,
                 "messages": [text_message(1, 12, "private", 1714557600)]},
                {"name": "Future", "type": "secret_chat", "id": 13,
                 "messages": [text_message(1, 1, "new kind", 1714557600)]},
            ]
        }
    }  # fmt: skip


def test_a_private_chat_is_named_as_the_reason(
    store: Store, write_export: Callable[..., Path], text_message: Callable[..., dict[str, Any]]
) -> None:
    report = import_export(write_export(_account(text_message)), store)

    assert [(c.chat_id, c.reason) for c in report.skipped] == [
        (12, "private"),
        (13, "unknown type"),
    ]
    assert skipped_lines(report) == [
        "Skipped 1 private chat (a private chat is imported only when picked with --chat-id ID)",
        "Skipped 1 chat of a type this version does not know ('secret_chat')",
    ]


def test_chat_id_is_named_only_when_it_was_the_reason(
    store: Store, write_export: Callable[..., Path], text_message: Callable[..., dict[str, Any]]
) -> None:
    report = import_export(write_export(_account(text_message)), store, chat_id=12)

    assert [c.chat_id for c in report.chats] == [12]
    assert skipped_lines(report) == [
        "Skipped 2 other chats (not the one --chat-id picked)",
    ]


def test_the_cli_prints_what_was_skipped_and_why(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    done = subprocess.run(
        [sys.executable, "-m", "tgstats", "import", str(DATA / "unsupported.json"), "--db", db],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == (
        "Unsupported Media Group (chat id -1000000001111): 2 messages, 2 new, 1 service message "
        "and 2 unsupported records (media Telegram Desktop could not export) skipped, 2 senders"
    )
    assert "Skipped" not in done.stdout


def test_the_cli_imports_left_chats(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    done = subprocess.run(
        [sys.executable, "-m", "tgstats", "import", str(DATA / "left_chats.json"), "--db", db],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert "Imported 6 new messages of 6 from 3 chat(s)" in done.stdout
    assert "Old Club (chat id -1000000006002): 3 messages, 3 new" in done.stdout
