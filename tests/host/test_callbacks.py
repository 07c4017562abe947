"""Callback data: namespaced, signed for one chat, within 64 bytes; hostile data refused fast."""

from __future__ import annotations

import time
from typing import Any

import pytest
from tgstats.host.callbacks import (
    MAX_CALLBACK_BYTES,
    ButtonDataError,
    CallbackCodec,
    Decoded,
    payload_room,
)
from tgstats.host.invoke import check_buttons
from tgstats.plugins import Button, ButtonContext, NoConfig, Plugin, TextReply, button

KEY = bytes(range(32))
CHAT = -1001234567890


def test_round_trip_keeps_namespace_handler_and_payload() -> None:
    codec = CallbackCodec(KEY)
    data = codec.encode("heatmap_command", "view", "365:-1001234567890|x", CHAT)
    assert len(data.encode()) <= MAX_CALLBACK_BYTES
    assert data.startswith("heatmap_command|view|365:-1001234567890|x|")
    assert codec.decode(data, CHAT) == Decoded("heatmap_command", "view", "365:-1001234567890|x")
    host = codec.encode("", "tz", "Europe/Berlin", CHAT)
    assert codec.decode(host, CHAT) == Decoded("", "tz", "Europe/Berlin")


def test_the_same_key_gives_the_same_data_across_restarts() -> None:
    before = CallbackCodec(KEY).encode("p", "view", "7:all", CHAT)
    assert CallbackCodec(bytes(KEY)).decode(before, CHAT) == Decoded("p", "view", "7:all")
    assert isinstance(CallbackCodec(bytes(32)).decode(before, CHAT), str)  # another key


@pytest.mark.parametrize(
    "tamper",
    [
        lambda d: d.replace("7:all", "1:all"),  # payload changed
        lambda d: d.replace("view", "vie2"),  # handler changed
        lambda d: "q" + d[1:],  # namespace changed
        lambda d: d[:-1] + ("A" if d[-1] != "A" else "B"),  # signature changed
        lambda d: d.rsplit("|", 1)[0],  # signature dropped
        lambda d: d + "|",
        lambda d: "",
        lambda d: "|||",
        lambda d: "x" * 64,
        lambda d: "é" * 33,  # 66 bytes
        lambda d: "\udcff" * 10,  # lone surrogates
        lambda d: None,
        lambda d: 12345,
    ],
)
def test_forged_malformed_and_foreign_data_is_refused(tamper: Any) -> None:
    codec = CallbackCodec(KEY)
    data = codec.encode("p", "view", "7:all", CHAT)
    assert isinstance(codec.decode(tamper(data), CHAT), str)


def test_data_signed_for_one_chat_is_refused_in_another() -> None:
    codec = CallbackCodec(KEY)
    data = codec.encode("p", "view", "7:all", CHAT)
    assert codec.decode(data, CHAT + 1) == "bad signature (forged, altered or from another chat)"


def test_huge_data_is_refused_in_constant_time() -> None:
    codec = CallbackCodec(KEY)
    huge = "a|b|" + "c" * 10_000_000 + "|" + "d" * 11
    started = time.perf_counter()
    assert codec.decode(huge, CHAT) == "callback data over 64 bytes"
    assert time.perf_counter() - started < 0.5


def test_too_long_data_is_an_error_naming_the_plugin_and_the_room() -> None:
    codec = CallbackCodec(KEY)
    room = payload_room("heatmap_command", "view")
    codec.encode("heatmap_command", "view", "x" * room, CHAT)  # exactly fits
    with pytest.raises(ButtonDataError) as caught:
        codec.encode("heatmap_command", "view", "x" * (room + 1), CHAT)
    assert caught.value.plugin == "heatmap_command"
    assert f"at most {room} bytes" in str(caught.value)
    with pytest.raises(ButtonDataError, match="may not contain"):
        codec.encode("a|b", "view", "", CHAT)


class Buttoned(Plugin[NoConfig]):
    @button("view")
    def view(self, ctx: ButtonContext) -> TextReply:
        return TextReply("x")


def test_check_buttons_at_reply_time() -> None:
    ok = TextReply("x", buttons=[[Button("7 days", "view", "7:all")]])
    check_buttons("a_plugin", Buttoned, ok)
    unknown = TextReply("x", buttons=[[Button("Go", "nope")]])
    with pytest.raises(ButtonDataError, match="'nope', which the plugin does not declare"):
        check_buttons("a_plugin", Buttoned, unknown)
    long_name = "a_plugin_with_a_rather_long_entry_point_name"
    too_long = TextReply("x", buttons=[[Button("7 days", "view", "7:all:" + "9" * 20)]])
    with pytest.raises(ButtonDataError) as caught:
        check_buttons(long_name, Buttoned, too_long)
    assert caught.value.plugin == long_name and "64-byte" in str(caught.value)
    with pytest.raises(ButtonDataError, match="rows of buttons"):
        check_buttons("a_plugin", Buttoned, TextReply("x", buttons=[[Button("a", "view")]] * 9))


@pytest.mark.parametrize(
    ("label", "handler"),
    [("", "view"), ("x" * 65, "view"), ("ok", "View"), ("ok", "a|b"), ("ok", "x" * 17)],
)
def test_bad_buttons_are_refused_when_made(label: str, handler: str) -> None:
    with pytest.raises(ValueError, match="button"):
        Button(label, handler)


def test_a_keyboard_holds_only_buttons() -> None:
    with pytest.raises(TypeError, match="expected Button"):
        TextReply("x", buttons=[["not a button"]])  # type: ignore[list-item]
    assert TextReply("x", buttons=[[], [Button("a", "view")]]).buttons == ((Button("a", "view"),),)
