"""Fuzzing the update path: forged update JSON never crashes the intake, and the bot keeps going.

Each input is an HTTP body as the webhook receives it (or a getUpdates entry
as polling hands it over): the webhook's own body parser, then the real
:class:`UpdateIntake` of a real python-telegram-bot Application with its
recorder, store writer, SQLite store, lanes and router, talking to the Bot API
stand-in.  Hypothesis forges updates with hostile values in every field, made
large (texts of 200,000 characters, a thousand entities, reply chains hundreds
deep, nesting past Python's recursion limit); the committed corpus
(``corpus/updates``) runs first, every time.

An input passes when the body is refused (over 1 MB, or "not a JSON update")
or ``submit_batch`` returns (the update stored, kept as rejected, or ignored),
within MAX_SECONDS and the memory bounds, and an ordinary message sent right
after it is still stored.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tgstats.bot.webhook import MAX_BODY, _parse_update
from tgstats.store.rejected import list_rejected

from ..bot.conftest import fake_api, harness, store  # the real update path, on SQLite
from .test_fuzz_import import bounded_memory, with_corpus

__all__ = ["fake_api", "harness", "store"]  # fixtures, used by name

pytestmark = pytest.mark.fuzz

# No per-example deadline: on a shared machine a slow example is not a bug.  A
# hang is (MAX_SECONDS), and the example count bounds the whole run.
MAX_SECONDS = 20.0
FUZZ = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,  # one bot for all examples, on purpose
    ],
    database=None,
)

CHAT = -1009000
_probe_ids = itertools.count(1_000_000)

_SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False),
    st.text(max_size=20),
)
_INT = st.one_of(
    st.integers(min_value=1, max_value=2**31),
    st.integers(min_value=-(2**80), max_value=2**80),
    _SCALAR,
)
_DATE = st.one_of(
    st.integers(min_value=1_500_000_000, max_value=1_760_000_000),
    st.integers(min_value=-(2**70), max_value=2**70),
    _SCALAR,
)
_CHAT = st.fixed_dictionaries(
    {
        "id": st.one_of(st.just(CHAT), st.just(42), _INT),
        "type": st.sampled_from(["supergroup", "group", "private", "channel", "x"]),
    },
    optional={"title": _SCALAR, "first_name": _SCALAR, "is_forum": _SCALAR},
)
_USER = st.fixed_dictionaries(
    {"id": st.one_of(st.just(42), _INT), "is_bot": st.booleans(), "first_name": _SCALAR},
    optional={"username": _SCALAR, "last_name": _SCALAR},
)
_TEXT = st.one_of(
    st.text(max_size=50),
    st.sampled_from(["/heatmap", "/wordcloud 9999", "/optout", "/forgetme", "/optin", "/x@bot"]),
    st.builds(
        lambda n, c: c * n,
        st.sampled_from([5_000, 200_000]),
        st.sampled_from(["a", "\x00", "\ud800", "🙂"]),
    ),
)
_ENTITY = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["bot_command", "text_link", "bold", "mention", "x"]),
        "offset": _INT,
        "length": _INT,
    },
    optional={"url": _SCALAR, "user": _USER},
)


@st.composite
def messages(draw: st.DrawFn) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": draw(_INT),
        "date": draw(_DATE),
        "chat": draw(_CHAT),
        "text": draw(_TEXT),
    }
    if draw(st.booleans()):
        message["from"] = draw(_USER)
    if draw(st.booleans()):
        message["sender_chat"] = draw(_CHAT)
    if draw(st.booleans()):
        entities = draw(st.lists(_ENTITY, max_size=3))
        message["entities"] = entities * draw(st.sampled_from([1, 1000]))
    extra = draw(
        st.dictionaries(
            st.sampled_from(
                [
                    "edit_date",
                    "caption",
                    "photo",
                    "sticker",
                    "migrate_to_chat_id",
                    "migrate_from_chat_id",
                    "new_chat_members",
                    "message_thread_id",
                    "is_topic_message",
                    "forward_origin",
                ]
            ),
            _SCALAR,
            max_size=3,
        )
    )
    message.update(extra)
    depth = draw(st.sampled_from([0, 0, 1, 50, 300]))
    if depth > 1 and isinstance(message["text"], str):
        message["text"] = message["text"][:100]  # or the body is past the webhook's 1 MB
    for _ in range(depth):  # a reply to a reply to a reply ...
        message = {**message, "reply_to_message": dict(message)}
    return message


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    """A webhook body: a forged update, sometimes nested or broken past JSON's limits."""
    kind = draw(
        st.sampled_from(
            ["message", "edited_message", "channel_post", "message_reaction", "something_new"]
        )
    )
    update: dict[str, Any] = {"update_id": draw(st.one_of(st.integers(1, 2**40), _SCALAR))}
    if kind == "message_reaction":
        update[kind] = {
            "chat": draw(_CHAT),
            "message_id": draw(_INT),
            "date": draw(_DATE),
            "old_reaction": [],
            "new_reaction": [{"type": "emoji", "emoji": "👍"}] * draw(st.sampled_from([1, 5000])),
        }
    else:
        update[kind] = draw(messages())
    body = json.dumps(update).encode()
    shape = draw(st.sampled_from(["plain", "plain", "deep", "cut"]))
    if shape == "deep":  # nesting far past what json and PTB recurse through
        depth = draw(st.sampled_from([100, 5_000, 200_000]))
        body = body[:-1] + b', "x": ' + b"[" * depth + b"]" * depth + b"}"
    elif shape == "cut":
        body = body[: draw(st.integers(min_value=0, max_value=len(body)))]
    return body


async def submit_and_keep_going(harness: Any, body: bytes) -> None:
    started = time.monotonic()
    # The webhook's checks: over MAX_BODY is a 413, and None from its parser a 400.
    data = _parse_update(body) if len(body) <= MAX_BODY else None
    if data is not None:
        with bounded_memory():
            await harness.intake.submit_batch([data])
    assert time.monotonic() - started < MAX_SECONDS, "one update held the intake"
    # The bot is not wedged: an ordinary message after it is stored.
    probe_id = next(_probe_ids)
    probe = harness.api.message(CHAT, 7, "still recording", message_id=probe_id)
    await harness.intake.submit_batch([{"update_id": probe_id, "message": probe}])
    stored = {row.message_id for row in harness.store.queries.messages(CHAT, user_id=7)}
    assert probe_id in stored


@FUZZ
@with_corpus("updates")
@given(bodies())
async def test_forged_updates(harness: Any, body: bytes) -> None:
    await submit_and_keep_going(harness, body)


async def test_a_rejected_update_is_kept_for_the_operator(harness: Any) -> None:
    """The fuzz's outcomes are real: an impossible date is kept as rejected, raw JSON and all."""
    forged = harness.api.message(CHAT, 8, "from the year 5138", message_id=5)
    forged["date"] = 99_999_999_999
    await harness.intake.submit_batch([{"update_id": 77, "message": forged}])
    (kept,) = list_rejected(harness.store.engine)
    assert kept.update_id == 77 and "out of range" in kept.reason and "year 5138" in kept.raw
