"""Merging the forms of a word (скинул and скинула, photo and photos).

A Snowball stemmer (PyStemmer, the C build of the Snowball algorithms) maps
the forms of a word to one stem for each language that has one.  A stem is
only a key: a group is shown as its most frequent surface form, never as the
stem itself ("beauti").  Only the most frequent words are stemmed: a cloud
shows at most a few hundred words, and stemming every rare word of a large
chat would cost more than counting them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

import Stemmer

from tgstats_word_cloud.fonts import script_of

__all__ = ["CANDIDATES_PER_WORD", "STEMMED_LANGUAGES", "merge_forms"]

# ISO 639-1 code -> (Snowball algorithm, the script its words are written in).
STEMMED_LANGUAGES: dict[str, tuple[str, str]] = {
    "ar": ("arabic", "ARABIC"),
    "ca": ("catalan", "LATIN"),
    "cs": ("czech", "LATIN"),
    "da": ("danish", "LATIN"),
    "de": ("german", "LATIN"),
    "el": ("greek", "GREEK"),
    "en": ("english", "LATIN"),
    "es": ("spanish", "LATIN"),
    "et": ("estonian", "LATIN"),
    "eu": ("basque", "LATIN"),
    "fa": ("persian", "ARABIC"),
    "fi": ("finnish", "LATIN"),
    "fr": ("french", "LATIN"),
    "ga": ("irish", "LATIN"),
    "hi": ("hindi", "DEVANAGARI"),
    "hu": ("hungarian", "LATIN"),
    "hy": ("armenian", "ARMENIAN"),
    "id": ("indonesian", "LATIN"),
    "it": ("italian", "LATIN"),
    "lt": ("lithuanian", "LATIN"),
    "ne": ("nepali", "DEVANAGARI"),
    "nl": ("dutch", "LATIN"),
    "no": ("norwegian", "LATIN"),
    "pl": ("polish", "LATIN"),
    "pt": ("portuguese", "LATIN"),
    "ro": ("romanian", "LATIN"),
    "ru": ("russian", "CYRILLIC"),
    "sr": ("serbian", "CYRILLIC"),
    "sv": ("swedish", "LATIN"),
    "ta": ("tamil", "TAMIL"),
    "tr": ("turkish", "LATIN"),
}

# How many of the most frequent words are considered for merging, per word shown.
CANDIDATES_PER_WORD = 8


@lru_cache(maxsize=64)
def _stemmer(algorithm: str) -> Stemmer.Stemmer:
    stemmer = Stemmer.Stemmer(algorithm)
    stemmer.maxCacheSize = 50_000  # repeated clouds of one chat stem the same words
    return stemmer


def merge_forms(counts: Counter[str], languages: Iterable[str], keep: int) -> Counter[str]:
    """The ``keep * 8`` most frequent words with their forms merged, under the commonest form.

    Two words are one when any of ``languages`` (that has a stemmer and writes
    their script) gives both the same stem.  Ties for the shown form go to the
    alphabetically first, so the same data always gives the same cloud.
    """
    stemmers = [
        (_stemmer(algorithm), script)
        for code in dict.fromkeys(languages)
        if code in STEMMED_LANGUAGES
        for algorithm, script in [STEMMED_LANGUAGES[code]]
    ]
    candidates = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    candidates = candidates[: keep * CANDIDATES_PER_WORD]
    if not stemmers:
        return Counter(dict(candidates))
    # Union-find over words; a (stemmer, stem) key joins every word that has it.
    parent = {word: word for word, _ in candidates}
    rank = {word: i for i, (word, _) in enumerate(candidates)}

    def root(word: str) -> str:
        while parent[word] != word:
            parent[word] = parent[parent[word]]
            word = parent[word]
        return word

    first_with_key: dict[tuple[int, str], str] = {}
    for word, _ in candidates:  # most frequent first: it becomes the group's root
        script = script_of(word)
        for index, (stemmer, stem_script) in enumerate(stemmers):
            if script != stem_script:
                continue
            key = (index, stemmer.stemWord(word))
            other = first_with_key.setdefault(key, word)
            if other != word:
                a, b = sorted((root(other), root(word)), key=rank.__getitem__)
                if a != b:
                    parent[b] = a  # the root stays the group's most frequent form
    merged: Counter[str] = Counter()
    for word, n in candidates:
        merged[root(word)] += n
    return merged
