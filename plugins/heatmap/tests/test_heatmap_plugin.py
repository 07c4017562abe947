"""/heatmap: exact counts per local weekday and hour, the PNG, the replies via invoke_command."""

from __future__ import annotations

import io
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from PIL import Image
from tgstats.plugins import ChatSettings, ConfigError, PhotoReply, TextReply
from tgstats.testing import fill_store, make_chat, make_message, make_user
from tgstats_heatmap.plugin import Heatmap
from tgstats_heatmap.render import compact_count, peak_cell, render_heatmap

ALICE = make_user(1, "Alice", username="alice")
BOB = make_user(2, "Bob", username="bob")

# Around Europe/Berlin's DST changes of 2026 (29 March 01:00 UTC: +1 -> +2;
# 25 October 01:00 UTC: +2 -> +1), both Sundays.
DST_MESSAGES = [
    ("2026-03-28T23:30:00Z", ALICE),  # Sat 23:30 UTC = Sun 00:30 CET (day boundary)
    ("2026-03-29T00:30:00Z", ALICE),  # Sun 01:30 CET
    ("2026-03-29T01:30:00Z", BOB),  # Sun 03:30 CEST (02:xx does not exist that night)
    ("2026-03-29T22:30:00Z", ALICE),  # Sun 22:30 UTC = Mon 00:30 CEST
    ("2026-10-25T00:30:00Z", BOB),  # Sun 02:30 CEST
    ("2026-10-25T01:30:00Z", ALICE),  # Sun 02:30 CET: the repeated hour counts twice
]


@pytest.fixture
def chat():
    """The group the commands run in (overrides tgstats' default chat)."""
    return make_chat(-100500, "Night owls")


def cells(matrix: list[list[int]]) -> dict[tuple[int, int], int]:
    return {(d, h): n for d, row in enumerate(matrix) for h, n in enumerate(row) if n}


@pytest.fixture
def dst_chat(store, chat):
    fill_store(store, [make_message(chat, user, "hi", date=date) for date, user in DST_MESSAGES])
    return chat


async def test_counts_follow_berlin_time_across_both_dst_changes(
    make_plugin, make_context, dst_chat
):
    plugin = make_plugin(timezone="Europe/Berlin")
    data = plugin.compute(make_context("all"))
    assert isinstance(data, Heatmap)
    assert cells(data.matrix) == {(6, 0): 1, (6, 1): 1, (6, 3): 1, (0, 0): 1, (6, 2): 2}
    assert data.total == 6
    assert data.title == "Night owls"
    assert data.subtitle == "All time · 6 messages · hours in Europe/Berlin"
    assert data.caption == "Busiest hour (outlined): Sun 02:00–03:00 (2 messages, Europe/Berlin)"


async def test_same_messages_in_utc_fall_in_other_cells(make_plugin, make_context, dst_chat):
    data = make_plugin().compute(make_context("all"))
    assert cells(data.matrix) == {(5, 23): 1, (6, 0): 2, (6, 1): 2, (6, 22): 1}


async def test_per_chat_zone_overrides_the_default(make_plugin, make_context, store, dst_chat):
    other = make_chat(-100600, "Mumbai")
    # 18:45 UTC on Monday is 00:15 on Tuesday in India (+05:30).
    fill_store(store, [make_message(other, BOB, "namaste", date="2026-03-02T18:45:00Z")])
    plugin = make_plugin(timezone="Europe/Berlin", chat_timezones={str(other.id): "Asia/Kolkata"})
    assert cells(plugin.compute(make_context("all", chat_id=other.id)).matrix) == {(1, 0): 1}
    assert cells(plugin.compute(make_context("all")).matrix)[(6, 2)] == 2


async def test_the_chats_own_settings_win_over_the_options(
    make_plugin, make_context, store, dst_chat
):
    # What /settings timezone Asia/Tokyo, period and colormap hand the plugin.
    plugin = make_plugin(timezone="Europe/Berlin", chat_timezones={str(dst_chat.id): "UTC"})
    tokyo = ChatSettings(chat_id=dst_chat.id, timezone=ZoneInfo("Asia/Tokyo"))
    data = plugin.compute(make_context("all", settings=tokyo))
    # Each message 9 hours after its UTC cell (Sat 23:30 UTC = Sun 08:30 in Tokyo).
    assert cells(data.matrix) == {(6, 8): 1, (6, 9): 2, (6, 10): 2, (0, 7): 1}
    assert data.caption.endswith("(2 messages, Asia/Tokyo)")
    # The chat's default period (7 days before "now", 1 November): nothing in it.
    week = ChatSettings(chat_id=dst_chat.id, default_days=7)
    assert isinstance(plugin.compute(make_context(settings=week)), TextReply)
    whole = ChatSettings(chat_id=dst_chat.id, default_days=None)  # "all"
    assert plugin.compute(make_context(settings=whole)).total == 6


async def test_period_and_user_arguments(make_plugin, make_context, store, chat):
    fill_store(
        store,
        [
            make_message(chat, ALICE, "old", date="2026-09-01T10:00:00Z"),
            make_message(chat, ALICE, "new", date="2026-10-30T10:00:00Z"),  # Friday
            make_message(chat, BOB, "new", date="2026-10-31T11:00:00Z"),  # Saturday
        ],
    )
    plugin = make_plugin()
    assert make_plugin().compute(make_context()).total == 2  # default 30 days before NOW
    assert plugin.compute(make_context("all")).total == 3
    for args in (("7d",), ("7", "days"), ("7", "day")):
        assert plugin.compute(make_context(*args)).total == 2
    by_bob = plugin.compute(make_context("all", "@Bob"))
    assert cells(by_bob.matrix) == {(5, 11): 1}
    assert by_bob.title == "Night owls — @bob"
    assert by_bob.subtitle == "All time · 1 message · hours in UTC"
    assert by_bob.caption == "Busiest hour (outlined): Sat 11:00–12:00 (1 message, UTC)"


async def test_reply_is_a_png_of_the_configured_size(make_plugin, command_reply, dst_chat):
    reply = await command_reply(make_plugin(), "all")
    assert isinstance(reply, PhotoReply)
    image = Image.open(io.BytesIO(reply.png))
    # plugin.yaml: 6 x 10 in at 180 dpi, portrait for a phone.
    assert (image.format, image.size) == ("PNG", (1080, 1800))
    reply = await command_reply(
        make_plugin(width=6.4, height=3.2, dpi=50, colormap="viridis"), "all"
    )
    assert Image.open(io.BytesIO(reply.png)).size == (320, 160)


async def test_text_replies_instead_of_pictures(make_plugin, command_reply, dst_chat):
    plugin = make_plugin()
    assert await command_reply(plugin, "banana") == TextReply(
        "Usage: /heatmap [N days | all] [@user]"
    )
    assert await command_reply(plugin, "3", "weeks") == TextReply(
        "Usage: /heatmap [N days | all] [@user]"
    )
    assert await command_reply(plugin, "@nobody") == TextReply(
        "I have no messages from @nobody in this chat."
    )
    # Everything in the fixture is older than 7 days before NOW.
    assert await command_reply(plugin, "7") == TextReply(
        "No messages in the last 7 days, so there is no heatmap to draw."
    )
    assert await command_reply(plugin, "all", chat_id=-1) == TextReply(
        "No messages yet, so there is no heatmap to draw."
    )


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({"timezone": "Mars/Olympus"}, "Mars/Olympus"),
        ({"chat_timezones": {"-100": "Europe/Atlantis"}}, "chat_timezones.-100"),
        ({"chat_timezones": {"general": "UTC"}}, "chat ids"),
        ({"colormap": "rainbowz"}, "rainbowz"),
        ({"width": 100.0}, "4096"),
        ({"days": 0}, "days"),
    ],
)
def test_bad_config_is_refused_with_the_key(make_plugin, overrides, needle):
    with pytest.raises(ConfigError, match=needle):
        make_plugin(**overrides)


def test_render_annotates_only_when_cells_are_readable():
    matrix = [[(d * 24 + h) * 7 for h in range(24)] for d in range(7)]
    big = dict(title="t", subtitle="s", width=1080, height=1800, colormap="magma")
    # Rows of about 64 px: numbers are drawn.
    assert render_heatmap(matrix, **big) != render_heatmap(matrix, annotate=False, **big)
    small = dict(title="t", subtitle="s", width=240, height=300, colormap="magma")
    assert render_heatmap(matrix, **small) == render_heatmap(matrix, annotate=False, **small)
    with pytest.raises(ValueError, match="7x24"):
        render_heatmap([[1] * 24], **small)


def test_zeros_are_written_as_zeros():
    # Only Monday 00:00 has messages: every other cell still gets its "0".
    lonely = [[0] * 24 for _ in range(7)]
    lonely[0][0] = 5
    size = dict(title="t", subtitle="s", width=1080, height=1800, colormap="YlOrRd")
    with_numbers = Image.open(io.BytesIO(render_heatmap(lonely, **size))).convert("L")
    without = Image.open(io.BytesIO(render_heatmap(lonely, annotate=False, **size))).convert("L")
    diff = np.asarray(with_numbers, dtype=int) != np.asarray(without, dtype=int)
    # Tuesday to Sunday (Monday holds the 5, the last column the hour totals):
    # margin 38 px, cells (1080 - 76) / 8.9 = 112.8 px wide after a 0.9-cell label column.
    weekdays = diff[:, 140 + 113 : 140 + 7 * 113]
    rows_with_ink = np.count_nonzero(weekdays.any(axis=1))
    # Each of the 24 hour rows gets a number about 25 px tall; the weekday totals
    # alone (one row) would give about 25.
    assert rows_with_ink > 24 * 20


def test_the_peak_is_the_earliest_of_the_busiest_cells():
    matrix = [[0] * 24 for _ in range(7)]
    matrix[2][5] = matrix[1][7] = matrix[1][9] = 4
    assert peak_cell(matrix) == (4, 1, 7)


@pytest.mark.parametrize(
    ("n", "text"), [(0, "0"), (999, "999"), (1234, "1.2k"), (56789, "56k"), (1_250_000, "1.2M")]
)
def test_compact_count(n, text):
    assert compact_count(n) == text
