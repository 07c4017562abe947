"""Fuzzing the export reader: any file gives an import report or one clear error, in bounded memory.

Every input goes through the real importer (``import_export``: the size
guard, ijson, the converter, the bulk writes) into a real SQLite store.
Hypothesis builds exports shaped like Telegram Desktop's with hostile values
in every field, then makes them large (thousands of messages, strings past
the 1 MiB limit, nesting thousands deep), cuts them short or flips bytes; the
committed corpus (``corpus/exports``) runs first, every time.

An input passes when the import returns a report or raises
:class:`ExportFormatError`; anything else, an example slower than
MAX_SECONDS, or a Python heap peak or RSS growth past the bounds fails the run.
"""

from __future__ import annotations

import json
import resource
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from tgstats.importer import import_export
from tgstats.importer.convert import ExportFormatError
from tgstats.store import Store, open_store

pytestmark = pytest.mark.fuzz

CORPUS = Path(__file__).parent / "corpus"
HEAP_LIMIT = 64 << 20  # bytes of Python heap at the peak of one import
RSS_GROWTH_LIMIT = 150 << 10  # KiB the process may grow over one example

# No per-example deadline: on a shared machine a slow example is not a bug.  A
# hang is (MAX_SECONDS), and the example count bounds the whole run.
MAX_SECONDS = 20.0
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,  # nothing written next to the checkout
)


def with_corpus(kind: str) -> Callable[[Any], Any]:
    """Run every committed corpus file of ``kind`` as an explicit example."""

    def decorate(test: Any) -> Any:
        for path in sorted((CORPUS / kind).iterdir(), reverse=True):
            test = example(path.read_bytes())(test)
        return test

    return decorate


# -- what a hostile export is made of ------------------------------------------------

_ANY_SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
)
_GOOD_IDS = st.integers(min_value=1, max_value=10**12)
# Mostly plausible, so the reader gets past the header and into the messages.
_IDS = st.one_of(
    _GOOD_IDS, _GOOD_IDS, st.integers(min_value=-(2**70), max_value=2**70), _ANY_SCALAR
)
_GOOD_DATES = st.integers(min_value=1_400_000_000, max_value=1_760_000_000).map(str)
_DATES = st.one_of(
    _GOOD_DATES,
    _GOOD_DATES,
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.sampled_from(["", "x", "1e9", "99999999999999", "-0", " 1714564800"]),
    _ANY_SCALAR,
)
_FROM_IDS = st.one_of(
    st.sampled_from(["user", "channel", "chat", ""]).flatmap(
        lambda prefix: st.integers(min_value=-(10**30), max_value=10**30).map(
            lambda n: f"{prefix}{n}"
        )
    ),
    _ANY_SCALAR,
)
_ENTITY = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["plain", "bold", "link", "text_link", "mention", "x"]),
        "text": st.text(max_size=20),
    },
    optional={"href": _ANY_SCALAR},
)
_TEXT = st.one_of(
    st.text(max_size=200),
    st.lists(st.one_of(st.text(max_size=20), _ENTITY, _ANY_SCALAR), max_size=6),
    _ANY_SCALAR,
)
_MESSAGE = st.fixed_dictionaries(
    {
        "id": _IDS,
        "type": st.sampled_from(["message", "message", "service", "unsupported", "x"]),
        "date_unixtime": _DATES,
    },
    optional={
        "date": st.one_of(st.just("2024-05-01T12:00:00"), _ANY_SCALAR),
        "edited_unixtime": _DATES,
        "from": _ANY_SCALAR,
        "from_id": _FROM_IDS,
        "actor_id": _FROM_IDS,
        "text": _TEXT,
        "text_entities": st.lists(_ENTITY, max_size=4),
        "reply_to_message_id": _IDS,
        "reply_to_peer_id": _FROM_IDS,
        "media_type": st.sampled_from(["sticker", "voice_message", "x", ""]),
        "photo": _ANY_SCALAR,
        "action": st.sampled_from(["migrate_from_group", "topic_created", "x"]),
        "reactions": st.lists(
            st.fixed_dictionaries({}, optional={"count": _IDS, "type": _ANY_SCALAR}), max_size=3
        ),
    },
)
_CHAT = st.fixed_dictionaries(
    {
        "name": st.one_of(st.text(max_size=30), _ANY_SCALAR),
        "type": st.sampled_from(
            ["private_supergroup", "public_supergroup", "private_group", "personal_chat", "x"]
        ),
        "id": st.one_of(_GOOD_IDS, _GOOD_IDS, _GOOD_IDS, _IDS),
        "messages": st.lists(_MESSAGE, max_size=12),
    }
)


@st.composite
def exports(draw: st.DrawFn) -> bytes:
    """An export, often made large, and sometimes broken on purpose."""
    chat = draw(_CHAT)
    # Amplify: the same messages many times over (ids repeat, which must be fine too).
    copies = draw(st.sampled_from([1, 1, 10, 500, 4000]))
    chat["messages"] = chat["messages"] * copies
    shape = draw(st.sampled_from(["single", "account", "big_string", "deep", "cut", "flip"]))
    if shape == "account":
        doc: Any = {"chats": {"list": [chat, draw(_CHAT)]}, "left_chats": {"list": []}}
    else:
        doc = chat
    data = json.dumps(doc, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")
    if shape == "big_string":  # past the 1 MiB string limit, or just under it
        size = draw(st.sampled_from([(1 << 20) - 64, (1 << 20) + 1, 3 << 20]))
        data = data.replace(b'"messages": [', b'"pad": "' + b"a" * size + b'", "messages": [', 1)
    elif shape == "deep":  # nesting past the 64-level limit, in a message or around the file
        depth = draw(st.sampled_from([63, 65, 5_000, 200_000]))
        data = data.replace(b'"messages": [', b'"messages": [' + b"[" * depth, 1)
    elif shape == "cut":
        data = data[: draw(st.integers(min_value=0, max_value=len(data)))]
    elif shape == "flip":
        for _ in range(draw(st.integers(min_value=1, max_value=8))):
            at = draw(st.integers(min_value=0, max_value=max(0, len(data) - 1)))
            data = data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1 :]
    return data


# -- running one ---------------------------------------------------------------------


@contextmanager
def bounded_memory() -> Iterator[None]:
    """Fail if the block's Python heap peak or the process's RSS growth passes the bounds."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    try:
        yield
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < HEAP_LIMIT, f"Python heap peaked at {peak / 2**20:.1f} MiB"
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown < RSS_GROWTH_LIMIT, f"RSS grew {grown / 1024:.0f} MiB"


@pytest.fixture(scope="module")
def fuzz_store() -> Iterator[Store]:
    """One SQLite store for every example (a fresh one each would cost most of the time)."""
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(f"sqlite:///{folder}/fuzz.db")
        yield store
        store.close()


def run_import(store: Store, data: bytes) -> None:
    started = time.monotonic()
    try:
        _import_one(store, data)
    finally:
        assert time.monotonic() - started < MAX_SECONDS, "one import took too long"


def _import_one(store: Store, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "result.json"
        path.write_bytes(data)
        with bounded_memory():
            try:
                report = import_export(path, store)
            except ExportFormatError as error:
                text = str(error)
                assert text.startswith(str(path)), text  # names the file
                assert len(text) < 2_000, text[:300]  # quotes values only in part
                return
        assert report.added <= report.messages


@FUZZ
@with_corpus("exports")
@given(exports())
def test_hostile_exports(fuzz_store: Store, data: bytes) -> None:
    run_import(fuzz_store, data)


@FUZZ
@given(st.binary(max_size=3000))
def test_raw_bytes(fuzz_store: Store, data: bytes) -> None:
    run_import(fuzz_store, data)
