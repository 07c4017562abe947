"""Which languages a chat writes in, from a sample of its own messages.

A word cloud without function words needs the right stop-word lists, and a
group's languages are rarely known in advance (the demo group writes Russian,
English, German and Spanish).  py3langid, a maintained fork of langid.py that
ships its model, classifies a spread-out sample of the period's messages;
every language that a few of them are confidently written in is taken.

Short messages ("ok, see you") are too short for a guess, and a small chat
may have no long ones at all; so every script that a fair share of the
counted words are written in, and that no detected language covers, adds
its most spoken language (Cyrillic words: Russian).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

import stopwordsiso

from tgstats_word_cloud.fonts import script_of

__all__ = [
    "SCRIPT_WORDS",
    "SampleCollector",
    "chat_languages",
    "detect_languages",
    "load_identifier",
    "with_scripts",
]

# Messages shorter than this say too little for a language guess ("ok", "+1").
_MIN_CHARACTERS = 20
_MIN_WORDS = 3
# A guess below this probability is left out rather than trusted.
_MIN_PROBABILITY = 0.9
# A language is taken when at least this share of the confident guesses, and
# at least this many of them, name it: enough to catch a member who writes in
# a language of their own, few enough that a stray misclassification of a
# short message does not add a whole stop-word list.
_MIN_SHARE = 0.002
_MIN_MESSAGES = 3
_MAX_LANGUAGES = 8

# A script whose words make up this share of the commonest words' uses needs
# a language even if no message was long enough to guess it from.
_SCRIPT_SHARE = 0.02
SCRIPT_WORDS = 1000
# The language whose stop words stand in for a script nobody's messages named.
_SCRIPT_DEFAULTS = {
    "LATIN": "en",
    "CYRILLIC": "ru",
    "ARABIC": "ar",
    "GREEK": "el",
    "HEBREW": "he",
    "CJK": "zh",
    "DEVANAGARI": "hi",
    "ARMENIAN": "hy",
    "GEORGIAN": "ka",
    "THAI": "th",
}


# Where the loaded model is kept: an attribute of py3langid's own module, which
# a hot reload of this plugin does not purge (loading it takes about a second).
_CACHE_ATTRIBUTE = "tgstats_word_cloud_identifier"


def load_identifier() -> Any:
    """The language identifier, loaded once per process (see the plugin's setup)."""
    import py3langid.langid as langid

    identifier = getattr(langid, _CACHE_ATTRIBUTE, None)
    if identifier is None:
        identifier = langid.LanguageIdentifier.from_model_file(langid.MODEL_FILE, norm_probs=True)
        # Only languages with a stop-word list are worth telling apart.
        known = [code for code in identifier.nb_classes if stopwordsiso.has_lang(code)]
        identifier.set_languages(known)
        setattr(langid, _CACHE_ATTRIBUTE, identifier)
    return identifier


def detect_languages(texts: Iterable[str]) -> tuple[str, ...]:
    """ISO 639-1 codes of the languages ``texts`` are written in, most used first."""
    identifier = load_identifier()
    votes: Counter[str] = Counter()
    for text in texts:
        if len(text) < _MIN_CHARACTERS or len(text.split()) < _MIN_WORDS:
            continue
        language, probability = identifier.classify(text)
        if probability >= _MIN_PROBABILITY:
            votes[language] += 1
    total = sum(votes.values())
    chosen = [
        language
        for language, n in votes.most_common(_MAX_LANGUAGES)
        if n >= _MIN_MESSAGES and n >= _MIN_SHARE * total
    ]
    return tuple(chosen)


def chat_languages(texts: Iterable[str], counts: Counter[str]) -> tuple[str, ...]:
    """Detected languages of ``texts``, and a language for each uncovered script of ``counts``."""
    return with_scripts(detect_languages(texts), counts)


def with_scripts(detected: tuple[str, ...], counts: Counter[str]) -> tuple[str, ...]:
    """``detected``, and a language for each script of ``counts``' top words they miss."""
    languages = list(detected)
    covered = {_script_of_language(language) for language in languages}
    scripts: Counter[str] = Counter()
    for word, n in counts.most_common(SCRIPT_WORDS):
        scripts[script_of(word)] += n
    total = sum(scripts.values())
    for script, n in scripts.most_common():
        default = _SCRIPT_DEFAULTS.get(script)
        if default and script not in covered and n >= _SCRIPT_SHARE * total:
            languages.append(default)
            covered.add(script)
    return tuple(languages)


@lru_cache(maxsize=128)
def _script_of_language(language: str) -> str:
    """The script a language's stop words are written in (its most common one)."""
    words = stopwordsiso.stopwords(language) if stopwordsiso.has_lang(language) else set()
    scripts = Counter(script_of(word) for word in words)
    return scripts.most_common(1)[0][0] if scripts else "UNKNOWN"


class SampleCollector:
    """Keeps a bounded sample of texts spread over a stream of batches.

    The store hands texts over in date order; keeping every k-th text, and
    doubling k whenever the sample is full, keeps the sample spread over the
    whole period without knowing its length in advance.
    """

    def __init__(self, size: int = 3000) -> None:
        self.size = size
        self.texts: list[str] = []
        self._stride = 1
        self._seen = 0

    def batches(self, batches: Iterable[Sequence[str]]) -> Iterable[Sequence[str]]:
        """Pass ``batches`` through unchanged, sampling them on the way."""
        for batch in batches:
            stride = self._stride
            start = -self._seen % stride
            self.texts.extend(batch[start::stride])
            self._seen += len(batch)
            if len(self.texts) > self.size:
                self.texts = self.texts[::2]
                self._stride *= 2
            yield batch
