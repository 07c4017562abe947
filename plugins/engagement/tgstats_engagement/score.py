"""The engagement score: a weighted mean of chat-relative, square-root-damped parts.

For each component c (messages sent, replies received from others,
reactions received, distinct active days) and member u::

    part(u, c) = sqrt(value(u, c) / max over members of value(·, c))
    score(u)   = 100 * sum_c weight_c * part(u, c) / sum_c weight_c

Why this shape:
- dividing by the chat's maximum makes components with very different
  ranges (thousands of messages, a few dozen active days) comparable, and
  puts the score on a 0..100 scale where 100 means "top in everything";
- the square root damps heavy tails without flattening them: a quarter of
  the top poster's messages earns half the part, so one flood poster does not
  push everyone else to zero, yet members stay visibly apart (a logarithm
  made most regulars look alike: a tenth of the top count still scored 65 %);
- a component nobody scored on (no reaction data recorded: reactions are only
  known when the bot is an admin or for imported history) is left out of
  both sums instead of lowering everyone's score.
Ties are broken by messages (more first), then user id (lower first).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import attrs
from tgstats.plugins import UserActivity

__all__ = ["COMPONENTS", "Ranked", "Weights", "rank"]

COMPONENTS = ("messages", "replies_received", "reactions_received", "active_days")


def _non_negative(_inst: object, attribute: attrs.Attribute[float], value: float) -> None:
    if value < 0 or not math.isfinite(value):
        raise ValueError(f"weights.{attribute.name}: expected a number >= 0, got {value}")


@attrs.frozen
class Weights:
    messages: float = attrs.field(default=1.0, validator=_non_negative)
    replies_received: float = attrs.field(default=1.5, validator=_non_negative)
    reactions_received: float = attrs.field(default=1.0, validator=_non_negative)
    active_days: float = attrs.field(default=2.0, validator=_non_negative)

    def __attrs_post_init__(self) -> None:
        if not any(getattr(self, name) > 0 for name in COMPONENTS):
            raise ValueError("weights: at least one weight must be above 0")


@attrs.frozen
class Ranked:
    """One member's place in the table."""

    rank: int
    activity: UserActivity
    score: float  # 0..100
    parts: dict[str, float]  # component -> 0..1 (missing: component not applicable)


def component(activity: UserActivity, name: str) -> int:
    return int(getattr(activity, name))


def applicable(activities: Sequence[UserActivity], weights: Weights) -> dict[str, int]:
    """Components that count in this chat and period, with their maximum."""
    result = {}
    for name in COMPONENTS:
        top = max((component(a, name) for a in activities), default=0)
        if top > 0 and getattr(weights, name) > 0:
            result[name] = top
    return result


def rank(activities: Iterable[UserActivity], weights: Weights) -> list[Ranked]:
    """All members, best first, with their score and each component's share."""
    members = list(activities)
    maxima = applicable(members, weights)
    total_weight = sum(getattr(weights, name) for name in maxima)
    scored = []
    for activity in members:
        parts = {name: math.sqrt(component(activity, name) / top) for name, top in maxima.items()}
        weighted = sum(getattr(weights, name) * part for name, part in parts.items())
        score = 100.0 * weighted / total_weight if total_weight else 0.0
        scored.append((score, activity, parts))
    scored.sort(key=lambda item: (-item[0], -item[1].messages, item[1].user.user_id))
    return [
        Ranked(rank=i, activity=activity, score=score, parts=parts)
        for i, (score, activity, parts) in enumerate(scored, start=1)
    ]
