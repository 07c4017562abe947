"""The sample history: deterministic, and shaped like the group the README promises."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections import Counter
from datetime import timedelta

import pytest
from tgstats.demo.history import ANCHOR, DEFAULT_SEED, MEMBERS, DemoHistory, build_history

# Pinned: a change here means the demo's pictures change for every user. Update it
# only on purpose (and glance at the new pictures).
# Changed on purpose with the stickers' emoji (schema version 5): every other
# field of every row is what it was (the emoji come from a generator of their own).
EXPECTED_DIGEST = "a5bbdbe4f963a36e40000575670f19d2c69c2849f4f5e89f033263d9a6db064c"

DIGEST_SNIPPET = (
    "import hashlib;from tgstats.demo.history import build_history;"
    "print(hashlib.sha256(repr(build_history().messages).encode()).hexdigest())"
)


def _digest(history: DemoHistory) -> str:
    return hashlib.sha256(repr(history.messages).encode()).hexdigest()


@pytest.fixture(scope="module")
def history() -> DemoHistory:
    return build_history()


def _by_name(history: DemoHistory, name: str) -> list:  # type: ignore[type-arg]
    [user] = [u for u in history.users if u.display_name == name]
    return [m for m in history.messages if m.user_id == user.user_id]


def test_same_seed_same_rows_in_any_process(history: DemoHistory) -> None:
    assert _digest(build_history(DEFAULT_SEED)) == _digest(history) == EXPECTED_DIGEST
    assert _digest(build_history(DEFAULT_SEED + 1)) != EXPECTED_DIGEST
    # String hashing differs per process; the history must not depend on it.
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    other = subprocess.run(
        [sys.executable, "-c", DIGEST_SNIPPET], capture_output=True, text=True, env=env, check=True
    )
    assert other.stdout.strip() == EXPECTED_DIGEST


def test_size_span_and_ids(history: DemoHistory) -> None:
    messages = history.messages
    assert 10_000 <= len(messages) <= 30_000
    assert history.end == ANCHOR
    assert all(history.start <= m.date < ANCHOR for m in messages)
    assert (messages[-1].date - messages[0].date) > timedelta(days=100)  # ~3.5 months
    months = {(m.date.year, m.date.month) for m in messages}
    assert len(months) >= 4
    assert [m.message_id for m in messages] == list(range(1, len(messages) + 1))
    assert [m.date for m in messages] == sorted(m.date for m in messages)
    assert {m.chat_id for m in messages} == {history.chat.chat_id}


def test_members_have_their_habits(history: DemoHistory) -> None:
    assert len(history.users) == len(MEMBERS) >= 6
    night = _by_name(history, "Maks Sokolov")
    assert sum(m.date.hour >= 21 or m.date.hour < 4 for m in night) / len(night) > 0.7
    office = _by_name(history, "Emma Clarke")
    assert sum(m.date.weekday() < 5 for m in office) / len(office) > 0.9
    assert sum(8 <= m.date.hour <= 17 for m in office) / len(office) > 0.8
    weekend = _by_name(history, "Lukas Becker")
    assert sum(m.date.weekday() >= 5 for m in weekend) / len(weekend) > 0.8
    lurker = _by_name(history, "Sofía Ruiz")
    assert 0 < len(lurker) < 0.01 * len(history.messages)
    channel = _by_name(history, "Trail News")
    assert {(m.date.hour, m.date.minute, m.date.second) for m in channel} == {(7, 0, 5), (18, 0, 5)}
    assert [u.is_channel for u in history.users if u.display_name == "Trail News"] == [True]
    assert all("https://" in m.text for m in channel)


def test_languages_replies_reactions_media(history: DemoHistory) -> None:
    texts = [m.text for m in history.messages]
    cyrillic = sum(any("а" <= ch <= "я" for ch in t) for t in texts)
    assert cyrillic / len(texts) > 0.3  # Russian
    assert sum("Wochenende" in t or "Gipfel" in t for t in texts) > 100  # German
    assert sum("fotos" in t or "ruta" in t or "montaña" in t for t in texts) > 0  # Spanish
    assert sum(" the " in f" {t} " for t in texts) > 1000  # English

    by_id = {m.message_id: m for m in history.messages}
    replies = [m for m in history.messages if m.reply_to_message_id is not None]
    assert 0.1 < len(replies) / len(history.messages) < 0.5
    for reply in replies:
        target = by_id[reply.reply_to_message_id]  # type: ignore[index]
        assert target.message_id < reply.message_id
        assert target.user_id != reply.user_id

    assert sum(m.reaction_count > 0 for m in history.messages) > 0.2 * len(history.messages)
    kinds = Counter(m.media_kind for m in history.messages if m.media_kind)
    assert set(kinds) == {"photo", "sticker", "voice", "animation", "video"}
    assert sum(m.edit_date is not None for m in history.messages) > 100


def test_stickers_carry_emoji_each_member_their_own_favourite(history: DemoHistory) -> None:
    stickers = [m for m in history.messages if m.media_kind == "sticker"]
    assert len(stickers) == 171
    assert all(m.sticker_emoji for m in stickers)
    assert not any(m.sticker_emoji for m in history.messages if m.media_kind != "sticker")
    maks = Counter(m.sticker_emoji for m in _by_name(history, "Maks Sokolov") if m.sticker_emoji)
    assert maks.most_common(2) == [("❤️", 19), ("👍", 8)]
    anna = Counter(m.sticker_emoji for m in _by_name(history, "Anna Petrova") if m.sticker_emoji)
    assert anna.most_common(1) == [("🔥", 17)]
