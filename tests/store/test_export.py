"""Export: JSON-ready rows, and the real `tgstats export` command as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tgstats.store import Store
from tgstats.testing import fill_store, make_channel, make_chat, make_message, make_user

GROUP = make_chat(-100901, "Export group")
OTHER = make_chat(-100902, "Other group")
ALICE = make_user(5, "Alice", username="alice")


def fill(store: Store) -> None:
    first = make_message(GROUP, ALICE, "Grüße 👋", message_id=2, date="2026-01-02T03:04:05Z")
    fill_store(
        store,
        [
            first,
            make_message(
                GROUP,
                make_channel(-100999, "Chan"),
                media="photo",
                caption="pic",
                message_id=1,
                date="2026-01-02T03:04:06Z",
                reply_to=first,
                thread_id=9,
                edit_date="2026-01-02T04:00:00Z",
            ),
            make_message(OTHER, ALICE, "elsewhere", message_id=1, date="2025-12-31T00:00:00Z"),
            # make_message's sticker carries the emoji 😀, as Telegram sends it.
            make_message(GROUP, ALICE, media="sticker", message_id=3, date="2026-01-03T00:00:00Z"),
        ],
    )


def test_export_rows(store: Store) -> None:
    fill(store)
    rows = list(store.export())
    # Ordered by chat id (ascending: -100902 first), then date, then message id.
    assert [(r["chat_id"], r["message_id"]) for r in rows] == [
        (OTHER.id, 1),
        (GROUP.id, 2),
        (GROUP.id, 1),
        (GROUP.id, 3),
    ]
    _, first, second, sticker = rows
    assert first == {
        "chat_id": GROUP.id,
        "message_id": 2,
        "user_id": 5,
        "date": "2026-01-02T03:04:05Z",
        "text": "Grüße 👋",
        "thread_id": None,
        "reply_to_message_id": None,
        "media_kind": None,
        "sticker_emoji": None,
        "edit_date": None,
        "reaction_count": 0,
        "username": "alice",
        "display_name": "Alice",
        "sender_is_channel": False,
    }
    assert second["user_id"] == -100999
    assert second["sender_is_channel"] is True
    assert (second["media_kind"], second["thread_id"], second["reply_to_message_id"]) == (
        "photo",
        9,
        2,
    )
    assert second["edit_date"] == "2026-01-02T04:00:00Z"
    assert (sticker["media_kind"], sticker["sticker_emoji"], sticker["text"]) == (
        "sticker",
        "😀",
        "",
    )
    assert [r["text"] for r in store.export(OTHER.id)] == ["elsewhere"]
    assert list(store.export(-1)) == []


def run_export(*args: str, env_db: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "TGSTATS_DB"}
    if env_db is not None:
        env["TGSTATS_DB"] = env_db
    return subprocess.run(
        [sys.executable, "-m", "tgstats", "export", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=60,
        check=False,
    )


def test_tgstats_export_command(store: Store, store_url: str) -> None:
    fill(store)
    done = run_export("--db", store_url)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 4
    parsed = [json.loads(line) for line in lines]
    assert parsed == list(store.export())
    assert parsed[1]["text"] == "Grüße 👋"

    # --chat-id and the TGSTATS_DB environment variable.
    done = run_export("--chat-id", str(OTHER.id), env_db=store_url)
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["text"] for line in done.stdout.splitlines()] == ["elsewhere"]


def test_tgstats_export_unreachable_database() -> None:
    done = run_export("--db", "postgresql+psycopg://me:hunter2pw@127.0.0.1:1/x")
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("tgstats: error: cannot open the message store at ")
    assert "hunter2pw" not in done.stderr


def test_tgstats_export_refuses_a_database_that_does_not_exist(tmp_path) -> None:  # type: ignore[no-untyped-def]
    missing = tmp_path / "nope.db"
    done = run_export("--db", f"sqlite:///{missing}")
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.strip() == (
        f"tgstats: error: {missing}: no such database (nothing was recorded or imported "
        "there); pass --db or set TGSTATS_DB to the store to export"
    )
    assert list(tmp_path.iterdir()) == []  # nothing created, not even -wal/-shm


def test_tgstats_export_refuses_a_chat_the_store_does_not_have(
    store: Store, store_url: str
) -> None:
    fill(store)
    done = run_export("--db", store_url, "--chat-id", "-100123")
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("tgstats: error: no chat with id -100123 in the message store at ")
