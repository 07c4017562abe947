"""Top words and emoji of a bounded sample of one member's texts.

The store has no word counts yet, so the card asks it for the member's
newest texts (at most ``text_sample``, see the README) and counts them here:
the cost is bounded by the sample, not by the chat's history.  Words are
runs of letters (any script) of at least three, lower-cased, without the
stop words of the configured languages, links and mentions; emoji are
pictographic characters with their variation selectors, skin tones and
zero-width joins kept together.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache

import regex

__all__ = ["count_emoji", "count_words", "stop_words"]

# A word: letters and marks (any script), apostrophes inside; at least 3 characters.
_WORD = regex.compile(r"\p{L}[\p{L}\p{M}']{2,}")
_NOISE = regex.compile(r"https?://\S+|www\.\S+|@\w+|#\w+")
_EMOJI = regex.compile(
    r"\p{Extended_Pictographic}[\uFE0F\p{Emoji_Modifier}]?"
    r"(?:\u200D\p{Extended_Pictographic}[\uFE0F\p{Emoji_Modifier}]?)*"
)
# A word longer than this is a paste (a hash, a key), not a word anyone uses.
_LONGEST = 30


@lru_cache(maxsize=16)
def stop_words(languages: tuple[str, ...]) -> frozenset[str]:
    import stopwordsiso

    return frozenset(w.lower() for w in stopwordsiso.stopwords(list(languages)))


def count_words(
    texts: Iterable[str], languages: Sequence[str], limit: int
) -> list[tuple[str, int]]:
    """The ``limit`` most used words, most first (ties alphabetical)."""
    skip = stop_words(tuple(languages))
    counter: Counter[str] = Counter()
    for text in texts:
        clean = _NOISE.sub(" ", text)
        counter.update(
            word
            for word in (w.lower().strip("'") for w in _WORD.findall(clean))
            if 3 <= len(word) <= _LONGEST and word not in skip
        )
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:limit]


def count_emoji(texts: Iterable[str], limit: int) -> list[tuple[str, int]]:
    """The ``limit`` most used emoji, most first (ties by the emoji)."""
    counter: Counter[str] = Counter()
    for text in texts:
        counter.update(_EMOJI.findall(text))
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:limit]
