"""The card's stop words, and the emoji of a bounded sample of one member's texts.

Top words come from the store's word counts (``ctx.store.top_words``, exact
over the period); the emoji in texts are counted here from the member's
newest texts (at most ``text_sample``, see the README), so their cost is
bounded by the sample: pictographic characters with their variation
selectors, skin tones and zero-width joins kept together.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

import regex

__all__ = ["LONGEST_WORD", "count_emoji", "stop_words"]

_EMOJI = regex.compile(
    r"\p{Extended_Pictographic}[\uFE0F\p{Emoji_Modifier}]?"
    r"(?:\u200D\p{Extended_Pictographic}[\uFE0F\p{Emoji_Modifier}]?)*"
)
# A word longer than this is a paste (a hash, a key), not a word anyone uses.
LONGEST_WORD = 30


@lru_cache(maxsize=16)
def stop_words(languages: tuple[str, ...]) -> frozenset[str]:
    import stopwordsiso

    return frozenset(w.lower() for w in stopwordsiso.stopwords(list(languages)))


def count_emoji(texts: Iterable[str], limit: int) -> list[tuple[str, int]]:
    """The ``limit`` most used emoji, most first (ties by the emoji)."""
    counter: Counter[str] = Counter()
    for text in texts:
        counter.update(_EMOJI.findall(text))
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:limit]
