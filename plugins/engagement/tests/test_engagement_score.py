"""The score formula and the table layout on fixed numbers."""

from __future__ import annotations

import math

import pytest
from tgstats.plugins import UserActivity, UserInfo
from tgstats_engagement.ranking import display_width, explanation, format_ranking, truncate
from tgstats_engagement.score import Weights, applicable, rank


def member(uid, messages, replies, reactions, days, name=None):
    return UserActivity(
        user=UserInfo(user_id=uid, username=None, display_name=name or f"user{uid}"),
        messages=messages,
        replies_received=replies,
        reactions_received=reactions,
        active_days=days,
    )


# Maxima 8, 4, 16, 4: sqrt(v / max) is exactly 1/2 for v = 2, 1, 4, 1.
A = member(1, 8, 4, 16, 4)
B = member(2, 2, 1, 4, 1)
C = member(3, 2, 0, 1, 1)  # reactions 1 of 16: sqrt(1/16) = 1/4
D = member(4, 0, 1, 0, 0)  # only received a reply


def test_weighted_mean_of_damped_parts():
    ranked = rank([D, C, B, A], Weights())  # weights 1, 1.5, 1, 2 (sum 5.5)
    assert [r.activity.user.user_id for r in ranked] == [1, 2, 3, 4]
    assert [r.rank for r in ranked] == [1, 2, 3, 4]
    scores = [r.score for r in ranked]
    assert scores == pytest.approx([100.0, 50.0, 100 * 1.75 / 5.5, 100 * 0.75 / 5.5], abs=1e-9)
    assert ranked[2].parts == pytest.approx(
        {"messages": 0.5, "replies_received": 0.0, "reactions_received": 0.25, "active_days": 0.5}
    )


def test_components_nobody_has_are_left_out():
    no_reactions = [
        member(u.user.user_id, u.messages, u.replies_received, 0, u.active_days) for u in (A, B, C)
    ]
    ranked = rank(no_reactions, Weights())
    assert applicable(no_reactions, Weights()) == {
        "messages": 8,
        "replies_received": 4,
        "active_days": 4,
    }
    # C: (1 * 0.5 + 1.5 * 0 + 2 * 0.5) / 4.5
    assert [r.score for r in ranked] == pytest.approx([100.0, 50.0, 100 * 1.5 / 4.5])
    assert "reactions_received" not in ranked[0].parts


def test_zero_weight_switches_a_component_off():
    ranked = rank([A, C], Weights(replies_received=0, reactions_received=0, active_days=0))
    assert [r.score for r in ranked] == pytest.approx([100.0, 50.0])


def test_ties_are_broken_by_messages_then_user_id():
    # Same score (only active days weighted), different messages and ids.
    weights = Weights(messages=0, replies_received=0, reactions_received=0, active_days=1)
    members = [member(9, 5, 0, 0, 2), member(3, 5, 0, 0, 2), member(5, 7, 0, 0, 2)]
    assert [r.activity.user.user_id for r in rank(members, weights)] == [5, 3, 9]


def test_weights_validation():
    with pytest.raises(ValueError, match="at least one weight"):
        Weights(0, 0, 0, 0)
    with pytest.raises(ValueError, match=r"weights\.messages"):
        Weights(messages=-1)
    with pytest.raises(ValueError, match=r"weights\.active_days"):
        Weights(active_days=math.inf)


def test_names_are_cut_by_display_width():
    assert truncate("Alexandra", 16) == "Alexandra"
    assert truncate("Carolina Maximiliana", 16) == "Carolina Maximi…"
    assert truncate("山田太郎山田太郎山田太郎", 9) == "山田太郎…"  # two columns per character
    assert display_width("山田太郎…") == 9
    assert truncate("Line\nbreak\tname", 20) == "Line break name"


def test_each_member_gets_a_name_line_and_a_numbers_line():
    wide = member(7, 1, 0, 0, 1, name="山田太郎山田太郎山田太郎")
    counted = {"messages": 8, "active_days": 4}
    lines = format_ranking(rank([A, B, wide], Weights()), name_width=10, applicable=counted)
    assert lines[0] == "1. user1 — 100.0"
    assert lines[1] == "    8 messages, 4 active days"
    assert lines[4] == "3. 山田太郎… — 24.6"
    assert lines[5] == "    1 message, 1 active day"


def test_the_explanation_names_every_counted_part_and_its_weight():
    counted = {"messages": 8, "replies_received": 2, "active_days": 4}
    assert explanation(Weights(), counted) == (
        "Score: 100 is the chat's most engaged member, counting messages, "
        "replies received ×1.5, active days ×2. No reactions are known yet."
    )
