"""/replies: exact nodes and edges, the top-N cut, the period in the chat's zone, the picture."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from tgstats.plugins import ConfigError, MemberCount, PhotoReply, ReplyPair, TextReply, UserInfo
from tgstats.testing import fill_store, make_channel, make_chat, make_message, make_user
from tgstats_reply_graph.graph import Edge, build_graph, ring_positions
from tgstats_reply_graph.plugin import ReplyGraph
from tgstats_reply_graph.render import render_graph

ALICE = make_user(1, "Alice", username="alice")
BOB = make_user(2, "Bob", username="bob")
CAROL = make_user(3, "Carol")
DAVE = make_user(4, "Dave", username="dave")
NEWS = make_channel(-100555, "News")
NOW = "2026-11-01T12:00:00Z"


@pytest.fixture
def chat():
    return make_chat(-100810, "Climbing crew")


@pytest.fixture
def history(store, chat):
    """Alice 4 messages, Bob 2, Carol 1, Dave 1, the channel 1; replies between them."""

    def msg(user, when, reply_to=None):
        return make_message(chat, user, "x", date=when, reply_to=reply_to)

    a0 = msg(ALICE, "2026-10-10T10:00:00Z")
    a1 = msg(ALICE, "2026-10-20T10:00:00Z")
    b1 = msg(BOB, "2026-10-20T11:00:00Z", reply_to=a1)  # Bob -> Alice
    a2 = msg(ALICE, "2026-10-20T12:00:00Z", reply_to=b1)  # Alice -> Bob
    c1 = msg(CAROL, "2026-10-21T10:00:00Z", reply_to=a1)  # Carol -> Alice
    b2 = msg(BOB, "2026-10-21T11:00:00Z", reply_to=a2)  # Bob -> Alice
    n1 = msg(NEWS, "2026-10-21T12:00:00Z", reply_to=a1)  # a channel: left out
    a3 = msg(ALICE, "2026-10-21T13:00:00Z", reply_to=a2)  # a self-reply: left out
    # Berlin 18 Oct 00:30, UTC 17 Oct 22:30: inside "15 days" only in Berlin.
    d1 = msg(DAVE, "2026-10-17T22:30:00Z", reply_to=a0)  # Dave -> Alice
    fill_store(store, [a0, a1, b1, a2, c1, b2, n1, a3, d1])
    return chat


def edges(data: ReplyGraph) -> list[tuple[str, str, int, int]]:
    nodes = data.graph.nodes
    return [
        (nodes[e.a].user.display_name, nodes[e.b].user.display_name, e.a_to_b, e.b_to_a)
        for e in data.graph.edges
    ]


async def test_all_time_nodes_and_edges(make_plugin, make_context, history):
    data = make_plugin().compute(make_context("all", now=NOW))
    assert isinstance(data, ReplyGraph)
    graph = data.graph
    assert [(n.user.display_name, n.messages) for n in graph.nodes] == [
        ("Alice", 4),
        ("Bob", 2),
        ("Carol", 1),
        ("Dave", 1),
    ]
    # Fewest replies first (the drawing order); both directions kept apart.
    assert edges(data) == [
        ("Alice", "Carol", 0, 1),
        ("Alice", "Dave", 0, 1),
        ("Alice", "Bob", 1, 2),
    ]
    assert (graph.replies, graph.drawn_replies, graph.rest_members) == (5, 5, 0)
    assert data.subtitle == "Who replies to whom · all time · 5 replies"
    assert data.title == "Climbing crew"
    assert data.caption == (
        "Replies, all time: most often @bob → @alice 2 · @alice → @bob 1 · @dave → @alice 1"
    )


async def test_top_n_keeps_the_busiest_and_counts_the_rest(make_plugin, make_context, history):
    data = make_plugin(top=2).compute(make_context("all", now=NOW))
    assert [n.user.display_name for n in data.graph.nodes] == ["Alice", "Bob"]
    assert edges(data) == [("Alice", "Bob", 1, 2)]
    assert (data.graph.rest_members, data.graph.rest_messages) == (2, 2)
    assert [n.messages for n in data.graph.nodes] == [4, 2]
    assert data.footer.splitlines()[1] == "+ 2 more members: 2 msgs, 2 replies"


async def test_the_period_starts_at_midnight_in_the_chats_zone(make_plugin, make_context, history):
    # 15 days back from Sunday 1 November: from 18 October, midnight.
    berlin = make_plugin(timezone="Europe/Berlin").compute(make_context("15", now=NOW))
    utc = make_plugin().compute(make_context("15", now=NOW))
    assert [n.user.display_name for n in berlin.graph.nodes] == ["Alice", "Bob", "Carol", "Dave"]
    assert berlin.graph.replies == 5
    assert utc.graph.replies == 4  # Dave's reply was 17 October in UTC
    assert [n.user.display_name for n in utc.graph.nodes] == ["Alice", "Bob", "Carol"]
    assert utc.subtitle == "Who replies to whom · last 15 days · 4 replies"


async def test_text_answers(make_plugin, command_reply, store, chat, history):
    plugin = make_plugin()
    empty = await command_reply(plugin, "3", now=NOW)
    assert empty.text == (
        "No member has replied to another in the last 3 days, so there is no reply graph to draw."
    )
    assert [b.label for b in empty.buttons[0]] == ["7 days", "30 days", "1 year", "All"]
    assert await command_reply(plugin, "@alice", now=NOW) == TextReply(
        "Usage: /replies [N days | all]"
    )
    lonely = make_chat(-100811, "Quiet")
    fill_store(store, [make_message(lonely, ALICE, "anyone?", date="2026-10-30T10:00:00Z")])
    reply = await command_reply(plugin, "all", now=NOW, chat_id=lonely.id)
    assert reply.text == "No member has replied to another yet, so there is no reply graph to draw."


async def test_period_buttons_redraw_in_place(make_plugin, command_reply, press, history):
    plugin = make_plugin()
    first = await command_reply(plugin, now=NOW)
    assert isinstance(first, PhotoReply)
    assert [b.label for b in first.buttons[0]] == ["7 days", "• 30 days", "1 year", "All"]
    everything = await press(plugin, first, "All", now=NOW)
    assert everything.png == (await command_reply(plugin, "all", now=NOW)).png
    assert everything.caption == (await command_reply(plugin, "all", now=NOW)).caption
    week = await press(plugin, everything, "7 days", now=NOW)
    assert week.text.startswith("No member has replied to another in the last 7 days")
    assert week.buttons[0][0].label == "• 7 days"


async def test_the_picture(make_plugin, command_reply, history):
    plugin = make_plugin()
    reply = await command_reply(plugin, "all", now=NOW)
    assert isinstance(reply, PhotoReply)
    with Image.open(io.BytesIO(reply.png)) as image:
        assert image.format == "PNG" and image.width == 1080
        assert 700 <= image.height <= 1400
        colours = {c for _, c in image.convert("RGB").getcolors(1 << 20)}
        assert (227, 74, 51) in colours  # the nodes, in the shared primary colour
    assert (await command_reply(plugin, "all", now=NOW)).png == reply.png  # deterministic


def member(uid: int, messages: int, *, channel: bool = False) -> MemberCount:
    return MemberCount(UserInfo(uid, f"user{uid}", f"Member {uid}", is_channel=channel), messages)


def test_build_graph_without_a_database() -> None:
    members = [member(1, 50), member(2, 50), member(3, 10), member(9, 99, channel=True)]
    pairs = [
        ReplyPair(1, 2, 4),
        ReplyPair(2, 1, 6),
        ReplyPair(3, 1, 2),
        ReplyPair(9, 1, 7),  # from the channel: out
        ReplyPair(2, 8, 1),  # to someone with no message in the period
    ]
    graph = build_graph(members, pairs, top=2)
    assert [n.user.user_id for n in graph.nodes] == [1, 2]  # ties by user id
    assert graph.edges == [Edge(0, 1, 4, 6)]
    assert (graph.replies, graph.drawn_replies) == (13, 10)
    assert (graph.rest_members, graph.rest_messages) == (2, 10)  # member 3 and user 8


def test_thirty_members_stay_readable() -> None:
    members = [member(i, 1000 - 30 * i) for i in range(1, 41)]
    pairs = [ReplyPair(i, j, (i * j) % 7 + 1) for i in range(1, 41) for j in range(1, 41) if i != j]
    graph = build_graph(members, pairs, top=30)
    assert len(graph.nodes) == 30 and graph.rest_members == 10
    png = render_graph(graph, title="Big chat", subtitle="s", footer="a\nb", width=1080)
    with Image.open(io.BytesIO(png)) as image:
        assert image.width == 1080 and image.height < 1500
    # Ranks alternate right and left, each side evenly spaced in height.
    spots = ring_positions(5, 100, 100, 50, 90)
    assert [(round(x), round(y)) for x, y in spots] == [
        (137, 40),
        (57, 55),
        (150, 100),
        (57, 145),
        (137, 160),
    ]


def test_config_is_checked(make_plugin) -> None:
    with pytest.raises(ConfigError, match=r"top: expected 2\.\.30 members, got 31"):
        make_plugin(top=31)
    with pytest.raises(ConfigError, match=r"width: expected 400\.\.4096 pixels"):
        make_plugin(width=5000)


async def test_russian(make_plugin, command_reply, history, tmp_path):
    plugin = make_plugin(top=2)
    reply = await command_reply(plugin, "all", now=NOW, language="ru")
    assert isinstance(reply, PhotoReply)
    (tmp_path / "replies-ru.png").write_bytes(reply.png)
    assert reply.caption == ("Ответы за всё время, чаще всего: @bob → @alice 2 · @alice → @bob 1")
    assert [b.label for b in reply.buttons[0]] == ["7 дней", "30 дней", "1 год", "• Всё"]
    empty = await command_reply(plugin, "3", now=NOW, language="ru")
    assert empty.text == (
        "За последние 3 дня никто никому не ответил, поэтому граф ответов не построить."
    )
