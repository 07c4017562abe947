"""Words of real group chats: what counts as a word and what is noise.

Speed matters (``/wordcloud all`` on a million messages).  Regular
expressions over every occurrence are too slow in Python, so counting runs in
two passes: texts are split on whitespace in chunks (C speed, ``Counter`` over the
pieces), and only the *distinct* pieces are then case-folded and cleaned
(URLs, mentions, commands dropped; words and emoji extracted; stop words,
length and digits filtered).  Chats repeat themselves, so the second pass
sees a small fraction of the text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice

import attrs
import regex
import stopwordsiso

__all__ = ["Tokenizer", "load_stop_words"]

# Noise removed before words are looked for.  Order matters: URLs before
# mentions (user@host in a URL), e-mail before mentions.
_NOISE = regex.compile(
    r"""
      (?:https?|ftp)://\S+                       # URLs with a scheme
    | www\.\S+
    | \b(?:[\p{L}\p{N}-]+\.)+(?:com|org|net|io|me|ru|su|ua|by|kz|uk|de|fr|es|it|nl|pl
         |info|dev|app|ly|co|tv|gg|xyz|рф)\b(?:/\S*)?   # bare domains: t.me/x, example.com
    | [\w.+-]+@[\w-]+\.[\w.-]+                   # e-mail addresses
    | (?<![\w@])@\w+                             # @mentions
    | (?<![\w/])/[A-Za-z0-9_]+(?:@\w+)?          # /commands and /command@bot
    """,
    regex.VERBOSE,
)

# A word: letters with their combining marks (Arabic harakat, Devanagari
# vowel signs) and digits, joined by inner apostrophes or hyphens (don't,
# кто-то).  Tokens containing digits are dropped after counting.
_WORD = r"[\p{L}\p{N}][\p{L}\p{M}\p{N}]*(?:['’-][\p{L}\p{N}][\p{L}\p{M}\p{N}]*)*"
# One emoji as the user sees it: flags, skin tones, ZWJ families, keycaps.
_EMOJI = (
    r"\p{RI}\p{RI}"
    r"|[0-9#*]\uFE0F?\u20E3"
    r"|\p{Extended_Pictographic}[\p{EMod}\uFE0F\uFE0E]*"
    r"(?:\u200D\p{Extended_Pictographic}[\p{EMod}\uFE0F\uFE0E]*)*"
)
_WORDS = regex.compile(_WORD)
_WORDS_AND_EMOJI = regex.compile(f"{_EMOJI}|{_WORD}")
_HAS_DIGIT = regex.compile(r"\p{N}")
_IS_EMOJI = regex.compile(f"(?:{_EMOJI})+")

_CHUNK = 2000  # messages per regex pass: big enough to amortise, small enough for memory


def load_stop_words(
    languages: Iterable[str], extra: Iterable[str] = (), *, keep: Iterable[str] = ()
) -> frozenset[str]:
    """Stop words of ``languages`` (ISO 639-1, stopwords-iso) + ``extra`` - ``keep``."""
    words: set[str] = set()
    for language in languages:
        if not stopwordsiso.has_lang(language):
            raise ValueError(
                f"stop_word_languages: no stop-word list for {language!r} "
                "(expected an ISO 639-1 code such as 'en', 'ru', 'de', 'ar', 'zh')"
            )
        words |= stopwordsiso.stopwords(language)
    words.update(extra)
    kept = {_normalise(word) for word in keep}
    return frozenset(_normalise(word) for word in words) - kept


def _normalise(word: str) -> str:
    return word.casefold().replace("’", "'")


@attrs.frozen
class Tokenizer:
    stop_words: frozenset[str] = frozenset()
    min_length: int = 3
    max_length: int = 40  # longer "words" are hashes, base64 or keyboard mashing
    emoji: bool = False  # count emoji as words (else drop them)

    def tokens(self, text: str) -> list[str]:
        """Kept words of one text, in order (for tests and small inputs)."""
        return [
            word
            for piece in _normalise(text).split()
            for word in self._words(piece)
            if self._keep(word)
        ]

    def count(self, texts: Iterable[str]) -> Counter[str]:
        """Word frequencies over a stream of texts, filtered."""
        return self.count_batches(_chunks(texts))

    def count_batches(self, batches: Iterable[Sequence[str]]) -> Counter[str]:
        """:meth:`count` over texts already in batches (the store's ``text_batches``)."""
        pieces: Counter[str] = Counter()
        for chunk in batches:
            # "\n" keeps words of adjacent messages apart.
            pieces.update("\n".join(chunk).split())
        counts: Counter[str] = Counter()
        keep: dict[str, bool] = {}
        for piece, n in pieces.items():
            # Case folding per distinct piece, not per occurrence.
            for word in self._words(_normalise(piece)):
                kept = keep.get(word)
                if kept is None:
                    kept = keep[word] = self._keep(word)
                if kept:
                    counts[word] += n
        return counts

    def _words(self, piece: str) -> list[str]:
        # Most pieces cannot hold a URL, mention or command: skip that regex for them.
        if "/" in piece or "@" in piece or "." in piece:
            piece = _NOISE.sub(" ", piece)
        return (_WORDS_AND_EMOJI if self.emoji else _WORDS).findall(piece)

    def _keep(self, word: str) -> bool:
        if _IS_EMOJI.fullmatch(word):
            return self.emoji
        return (
            self.min_length <= len(word) <= self.max_length
            and word not in self.stop_words
            and not _HAS_DIGIT.search(word)
        )


def _chunks(texts: Iterable[str]) -> Iterator[list[str]]:
    iterator = iter(texts)
    while chunk := list(islice(iterator, _CHUNK)):
        yield chunk
