"""Word counts split in the database (store/digest_queries.py) and the chats' usernames,
exact numbers on SQLite and PostgreSQL."""

from __future__ import annotations

from telegram import Chat, MessageEntity, User
from tgstats.plugins import WordCount
from tgstats.store import Store
from tgstats.store.digest_queries import MAX_WORDS
from tgstats.testing import fill_store, make_message, make_user, utc

CHAT = Chat(-100720, "supergroup", title="Words group", username="words_group")
ALICE = make_user(1, "Alice", username="alice")
BOB = make_user(2, "Bob", username="bob")


def words(store: Store, **kwargs: object) -> list[tuple[str, int]]:
    return [(w.word, w.count) for w in store.queries.top_words(CHAT.id, **kwargs)]  # type: ignore[arg-type]


def test_words_are_split_on_punctuation_counted_and_ranked(store: Store) -> None:
    fill_store(
        store,
        [
            make_message(CHAT, ALICE, "Coffee, coffee! Hike?", date="2026-03-02 10:00"),
            make_message(CHAT, BOB, "coffee (hike)\nhike; tea", date="2026-03-03 10:00"),
            make_message(CHAT, BOB, "an ox is ok", date="2026-03-03 11:00"),  # all too short
            # Outside the period, a command and a bot's message: not counted.
            make_message(CHAT, ALICE, "coffee coffee", date="2026-02-01 10:00"),
            make_message(
                CHAT,
                ALICE,
                "/digest coffee",
                date="2026-03-03 12:00",
                entities=[MessageEntity("bot_command", 0, 7)],
            ),
        ],
    )
    since, until = utc("2026-03-01"), utc("2026-03-08")
    assert words(store, since=since, until=until) == [
        ("coffee", 3),
        ("hike", 3),
        ("tea", 1),
    ]
    assert words(store, since=since, until=until, limit=1) == [("coffee", 3)]
    assert words(store, since=since, until=until, min_length=2) == [
        ("coffee", 3),
        ("hike", 3),
        ("an", 1),
        ("is", 1),
        ("ok", 1),
        ("ox", 1),
        ("tea", 1),
    ]
    assert words(store, since=utc("2026-04-01")) == []
    assert words(store, limit=0) == []


def test_a_huge_limit_is_capped(store: Store) -> None:
    # Letters only: the store keeps no token with a digit.
    text = " ".join(
        "w" + "".join("abcdefghij"[int(d)] for d in f"{i:04d}") for i in range(MAX_WORDS + 50)
    )
    fill_store(store, [make_message(CHAT, ALICE, text, date="2026-03-02 10:00")])
    found = store.queries.top_words(CHAT.id, limit=10**9)
    assert len(found) == MAX_WORDS
    assert found[0] == WordCount("waaaa", 1)


def test_excluded_senders_words_are_left_out(store: Store) -> None:
    fill_store(
        store,
        [
            make_message(CHAT, ALICE, "secret plans", date="2026-03-02 10:00"),
            make_message(CHAT, BOB, "open plans", date="2026-03-02 11:00"),
        ],
    )
    store.queries._excluded = lambda _chat: frozenset({ALICE.id})
    assert words(store) == [("open", 1), ("plans", 1)]


def test_the_chat_username_is_kept_and_cleared(store: Store) -> None:
    fill_store(store, [make_message(CHAT, ALICE, "hello", date="2026-03-02 10:00")])
    info = store.queries.chat(CHAT.id)
    assert info is not None and info.username == "words_group" and info.title == "Words group"
    private = Chat(CHAT.id, "supergroup", title="Words group")
    fill_store(store, [make_message(private, ALICE, "again", date="2026-03-02 11:00")])
    info = store.queries.chat(CHAT.id)
    assert info is not None and info.username is None


def test_a_bots_words_are_not_counted(store: Store) -> None:
    bot = User(99, "Helper", is_bot=True)
    fill_store(store, [make_message(CHAT, bot, "beepboop", date="2026-03-02 10:00")])
    assert words(store) == []


def test_words_are_the_word_clouds_words_without_emoji(store: Store) -> None:
    # The counts come from the aggregates kept on write: inner apostrophes stay,
    # links, mentions and digit tokens go, and emoji (words there) are left out.
    fill_store(
        store,
        [
            make_message(
                CHAT,
                ALICE,
                "Don't don't 👨‍👩‍👧 👨‍👩‍👧 https://example.com/coffee @coffee mp3 café",
                date="2026-03-02 10:00",
            )
        ],
    )
    assert words(store) == [("don't", 2), ("café", 1)]
