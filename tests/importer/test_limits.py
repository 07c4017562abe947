"""Nesting, string and message size limits: refused early, at the right byte, in little memory."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from tgstats.importer import ExportFormatError, import_export
from tgstats.importer.limits import (
    MAX_DEPTH,
    MAX_MESSAGE_BYTES,
    MAX_STRING_BYTES,
    LimitExceeded,
    StructureGuard,
)
from tgstats.store import Store

HEAD = b'{"name": "G", "type": "private_group", "id": 5, "messages": ['


def _message(text: str, message_id: int = 1) -> bytes:
    return json.dumps(
        {"id": message_id, "type": "message", "date_unixtime": "1714557600",
         "from": "A", "from_id": "user1", "text": text}
    ).encode()  # fmt: skip


def test_100000_nested_arrays_fail_fast_in_little_memory(tmp_path: Path) -> None:
    # One message nested 100,000 deep: without the limit ijson needs gigabytes.
    depth = 100_000
    path = tmp_path / "nested.json"
    path.write_bytes(HEAD + b"[" * depth + b"]" * depth + b"]}")
    db = f"sqlite:///{tmp_path / 'n.db'}"
    child = textwrap.dedent(
        f"""
        import resource, sys, time
        from tgstats.importer import ExportFormatError, import_export
        from tgstats.logs import configure_logging
        from tgstats.store import open_store
        configure_logging(level="WARNING")
        store = open_store("{db}")
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        try:
            import_export("{path}", store)
        except ExportFormatError as error:
            print(error)
        grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
        print(f"{{grown}} {{time.perf_counter() - started:.3f}}")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", child], capture_output=True, text=True, timeout=60, check=True
    )
    message, numbers = done.stdout.strip().splitlines()
    grown_kib, seconds = numbers.split()
    # The 65th level opens at byte len(HEAD) + 62 (the messages array is level 2).
    offset = len(HEAD) + MAX_DEPTH - 2
    assert message == (
        # Found while looking for the chat's header, so no chat is named yet.
        f"{path}: at byte {offset:,}: JSON nested deeper than 64 levels "
        "(Telegram Desktop writes fewer than 10); refusing the file"
    )
    assert int(grown_kib) < 20 * 1024  # peak RSS grew by less than 20 MiB
    assert float(seconds) < 5


def test_depth_at_the_limit_is_fine_one_more_is_not(store: Store, tmp_path: Path) -> None:
    ok = tmp_path / "ok.json"
    # A message object (level 3) whose text list nests down to level 64 exactly.
    inner = MAX_DEPTH - 4
    ok.write_bytes(
        HEAD + b'{"id": 1, "type": "message", "date_unixtime": "1714557600", "from_id": "user1",'
        b' "text": "x", "deep": ' + b"[" * (inner + 1) + b"]" * (inner + 1) + b"}]}"
    )
    report = import_export(ok, store)
    assert report.chats[0].added == 1

    deep = tmp_path / "deep.json"
    deep.write_bytes(ok.read_bytes().replace(b"[" * (inner + 1), b"[" * (inner + 2)).replace(
        b"]" * (inner + 1), b"]" * (inner + 2)))  # fmt: skip
    with pytest.raises(ExportFormatError, match="nested deeper than 64 levels") as caught:
        import_export(deep, store)
    start = deep.read_bytes().index(b"[[")
    assert f"at byte {start + inner + 1:,}" in str(caught.value)


@pytest.mark.parametrize("megabytes", [3, 12])
def test_a_huge_string_is_refused_at_the_limit_in_linear_time(
    store: Store, tmp_path: Path, megabytes: int
) -> None:
    path = tmp_path / "big.json"
    body = _message("a" * (megabytes << 20))
    path.write_bytes(HEAD + body + b"]}")
    quote = len(HEAD) + body.index(b'"aaa')

    started = time.perf_counter()
    with pytest.raises(ExportFormatError) as caught:
        import_export(path, store)
    seconds = time.perf_counter() - started

    # Refused one byte past the limit, whatever the length: reading stops there.
    assert f"at byte {quote + 1 + MAX_STRING_BYTES:,}" in str(caught.value)
    assert "a string longer than 1,048,576 bytes" in str(caught.value)
    assert seconds < 3  # ijson alone: 4 s for 4 MB, 70 s for 16 MB (quadratic)


def test_a_string_just_under_the_limit_imports_whole(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "long.json"
    text = "é" * ((MAX_STRING_BYTES - 10) // 2)  # 2 bytes each in UTF-8
    path.write_bytes(HEAD + _message(text).replace(b"\\u00e9", "é".encode()) + b"]}")

    import_export(path, store)

    [row] = store.queries.messages(-5)
    assert row.text == text


def test_one_message_larger_than_the_limit_is_refused(store: Store, tmp_path: Path) -> None:
    # Many strings, each short enough: the message as a whole is too big.
    piece = "b" * 100_000
    parts = json.dumps([piece] * (MAX_MESSAGE_BYTES // 100_000 + 5))
    path = tmp_path / "huge_message.json"
    path.write_bytes(
        HEAD + _message("small") + b", " + _message("x", 2)[:-1] + b', "poll": ' +
        parts.encode() + b"}]}"
    )  # fmt: skip

    with pytest.raises(ExportFormatError, match="one message larger than 8,388,608 bytes") as c:
        import_export(path, store)
    assert "after message #0, id 1" in str(c.value)
    assert store.queries.count_messages(-5) == 0


def test_guard_ignores_brackets_and_escaped_quotes_inside_strings() -> None:
    guard = StructureGuard(max_depth=3)
    data = b'{"a": "[[[[\\"[[[[\\\\", "b": [{"c": "{{{{"}]}'
    for size in (1, 2, 5, len(data)):
        guard.reset()
        for start in range(0, len(data), size):
            guard.check(data[start : start + size], start)
        assert (guard.depth, guard.in_string) == (0, False)
    with pytest.raises(LimitExceeded) as caught:
        StructureGuard(max_depth=2).check(data, 0)
    assert caught.value.offset == data.index(b"{", 1)  # the third level


def test_fast_and_exact_counting_agree_on_random_json() -> None:
    # The chunked fast path must find the same depth, string state and first crossing as
    # the byte-by-byte walk, for any chunk size, brackets and escapes inside strings included.
    rnd = random.Random(11)
    strings = ['a"b\\"[{', "x\\\\", '\\\\\\"]]', "plain", "[]{}", "é{"]

    def value(depth: int) -> object:
        roll = rnd.random()
        if depth > 7 or roll < 0.3:
            return rnd.choice(strings) if rnd.random() < 0.5 else rnd.randint(0, 9)
        if roll < 0.65:
            return [value(depth + 1) for _ in range(rnd.randint(0, 4))]
        return {f"k{i}{{": value(depth + 1) for i in range(rnd.randint(0, 4))}

    for trial in range(150):
        data = json.dumps({"messages": [value(3) for _ in range(4)]}).encode()
        limits = {"max_depth": 8, "max_string": 12 if trial % 2 else 10**6}
        exact = StructureGuard(**limits)
        try:
            exact._walk(data, 0)
            expected: object = (exact.depth, exact.in_string)
        except LimitExceeded as error:
            expected = error.offset
        for size in (1, 3, 7, 64):
            guard = StructureGuard(**limits)
            try:
                for start in range(0, len(data), size):
                    guard.check(data[start : start + size], start)
                got: object = (guard.depth, guard.in_string)
            except LimitExceeded as error:
                got = error.offset
            assert got == expected, (trial, size)


def test_a_full_account_export_is_guarded_too(store: Store, tmp_path: Path) -> None:
    chat = HEAD.replace(b'{"name"', b'{"chats": {"list": [{"name"')
    path = tmp_path / "account.json"
    # A long first message, so that the deep one is read while importing the chat.
    first = _message("f" * 70_000)
    path.write_bytes(chat + first + b", [" + b"[" * 100 + b"]" * 101 + b"]}]}}")

    with pytest.raises(ExportFormatError) as caught:
        import_export(path, store)

    # Level 6 is the second message; the 65th level is 59 brackets further.
    offset = len(chat) + len(first) + 2 + 59
    # Found while the parser reads ahead for the chat's first message.
    assert str(caught.value) == (
        f"{path}: at byte {offset:,}, chat 'G' (id 5): JSON nested deeper than 64 levels "
        "(Telegram Desktop writes fewer than 10); refusing the file (nothing of that chat "
        "was stored)"
    )
    assert store.queries.count_messages(-5) == 0
