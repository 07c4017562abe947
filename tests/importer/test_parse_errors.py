"""Parse errors read as text, at the right byte; what is wrong is said plainly."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tgstats.importer import ExportFormatError, import_export
from tgstats.store import Store

DATA = Path(__file__).parent / "data"


def test_a_file_with_a_utf8_byte_order_mark_imports(store: Store) -> None:
    path = DATA / "bom.json"
    assert path.read_bytes()[:3] == b"\xef\xbb\xbf"

    report = import_export(path, store)

    assert [m.text for m in store.queries.messages(-4242)] == ["with a BOM", "still fine"]
    assert report.bytes == path.stat().st_size  # the mark counts as read


def test_an_error_after_a_byte_order_mark_names_the_right_byte(store: Store) -> None:
    path = DATA / "bom_broken.json"
    data = path.read_bytes()

    with pytest.raises(ExportFormatError) as caught:
        import_export(path, store)

    message = str(caught.value)
    offset = data.index(b",,") + 2  # just past the second comma (offsets count the mark)
    assert message.startswith(f"{path}: at byte {offset:,}, chat 'BOM Group' (id 4242)")
    assert "malformed JSON: parse error: invalid object key (must be a string)" in message
    assert "65,536" not in message


def test_invalid_utf8_is_reported_as_text(store: Store) -> None:
    path = DATA / "bad_utf8.json"
    data = path.read_bytes()

    with pytest.raises(ExportFormatError) as caught:
        import_export(path, store)

    message = str(caught.value)
    offset = data.index(b"\xe9") + 2  # past the string's closing quote
    assert message.startswith(f"{path}: at byte {offset:,}, chat 'Latin-1' (id 4343)")
    assert "malformed JSON: lexical error: invalid bytes in UTF8 string." in message
    assert '"text": "caf\ufffd"' in message
    assert "b'" not in message and "\\x" not in message


def test_a_utf16_file_gets_a_clear_error(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "utf16.json"
    path.write_bytes((DATA / "bom.json").read_text(encoding="utf-8-sig").encode("utf-16"))

    with pytest.raises(ExportFormatError) as caught:
        import_export(path, store)

    assert str(caught.value).startswith(f"{path}: at byte 0: the file is UTF-16 encoded")


def test_from_id_zero_says_what_is_wrong(
    store: Store, write_export: Callable[..., Path], text_message: Callable[..., dict[str, Any]]
) -> None:
    bad = text_message(2, 1, "zero", 1714557660)
    bad["from_id"] = 0
    messages = [text_message(1, 1, "fine", 1714557600), bad]
    path = write_export({"name": "G", "type": "private_group", "id": 3, "messages": messages})

    with pytest.raises(ExportFormatError) as caught:
        import_export(path, store)

    assert str(caught.value).endswith(
        "message #1, id 2: 'from_id': 0 is not a Telegram id (user and chat ids are positive "
        "numbers, or strings like 'user123' in newer exports) (nothing of that chat was stored)"
    )
    assert "expected a string like 'user123'" not in str(caught.value)


def test_an_unknown_chat_type_names_the_file(
    store: Store, write_export: Callable[..., Path]
) -> None:
    path = write_export({"name": "S", "id": 5, "type": "secret_chat", "messages": []})

    with pytest.raises(ExportFormatError) as caught:
        import_export(path, store)

    message = str(caught.value)
    assert message.startswith(f"{path}: near byte ")
    assert "chat 'S' (id 5): unknown chat type 'secret_chat'; expected one of " in message
