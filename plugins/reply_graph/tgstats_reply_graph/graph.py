"""From the store's counts to the graph that is drawn: nodes, edges and what is left out.

Pure functions over aggregated rows (members with their message counts,
reply pairs with theirs), so every number can be checked without a picture.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import attrs
from tgstats.plugins import MemberCount, ReplyPair, UserInfo

__all__ = ["Edge", "Graph", "Node", "build_graph", "ring_positions"]


@attrs.frozen
class Node:
    user: UserInfo
    messages: int


@attrs.frozen
class Edge:
    """Replies between two drawn members, both ways (a before b in the node order)."""

    a: int  # index into Graph.nodes
    b: int
    a_to_b: int  # replies a wrote to b's messages
    b_to_a: int

    @property
    def replies(self) -> int:
        return self.a_to_b + self.b_to_a


@attrs.frozen
class Graph:
    nodes: list[Node]  # most messages first (ties: user id): the drawing order
    edges: list[Edge]  # fewest replies first, so the heaviest are drawn on top
    replies: int  # all replies between members in the period (drawn or not)
    drawn_replies: int  # those between two drawn members
    rest_members: int  # members beyond the top N (with messages or replies)
    rest_messages: int  # their messages


def build_graph(members: Sequence[MemberCount], pairs: Sequence[ReplyPair], top: int) -> Graph:
    """The top ``top`` members by messages and the replies among them.

    Channels are not members (they stay out of rankings): their messages
    and the replies to and from them are left out.
    """
    people = [m for m in members if not m.user.is_channel]
    people.sort(key=lambda m: (-m.messages, m.user.user_id))
    channel_ids = {m.user.user_id for m in members if m.user.is_channel}
    pairs = [
        p for p in pairs if p.from_user_id not in channel_ids and p.to_user_id not in channel_ids
    ]
    drawn = people[:top]
    index = {m.user.user_id: i for i, m in enumerate(drawn)}
    both: dict[tuple[int, int], list[int]] = {}
    for pair in pairs:
        i, j = index.get(pair.from_user_id), index.get(pair.to_user_id)
        if i is None or j is None or i == j:
            continue
        key = (min(i, j), max(i, j))
        counts = both.setdefault(key, [0, 0])
        counts[0 if i < j else 1] += pair.count
    edges = [Edge(a, b, ab, ba) for (a, b), (ab, ba) in both.items()]
    edges.sort(key=lambda e: (e.replies, e.a, e.b))
    # Someone replied to with no message of their own in the period is a member too.
    counted = {m.user.user_id for m in people}
    only_replied_to = {p.to_user_id for p in pairs} - counted
    return Graph(
        nodes=[Node(m.user, m.messages) for m in drawn],
        edges=edges,
        replies=sum(p.count for p in pairs),
        drawn_replies=sum(e.replies for e in edges),
        rest_members=len(people) - len(drawn) + len(only_replied_to),
        rest_messages=sum(m.messages for m in people[top:]),
    )


def ring_positions(
    count: int, cx: float, cy: float, rx: float, ry: float
) -> list[tuple[float, float]]:
    """``count`` points on an ellipse: ranks 0, 2, 4... down its right side, 1, 3, 5... down
    its left, evenly spaced in height (each label gets its own line); the same every time."""
    sides = (list(range(0, count, 2)), list(range(1, count, 2)))
    spots: list[tuple[float, float]] = [(0.0, 0.0)] * count
    for sign, ranks in zip((1, -1), sides, strict=True):
        for k, rank in enumerate(ranks):
            dy = -ry + (k + 0.5) * 2 * ry / len(ranks)
            dx = rx * math.sqrt(max(0.0, 1 - (dy / ry) ** 2))
            spots[rank] = (cx + sign * dx, cy + dy)
    return spots
