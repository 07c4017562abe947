"""Keeping the bot token out of everything a human or a file ever sees.

python-telegram-bot capitalises the first letter of an error's text and
lower-cases the rest, and the Bot API (or a proxy in front of it) may echo the
request URL, percent-encoded, in its error.  So the token is matched without
regard to case, raw and percent-encoded, and also its secret half alone (the
part after the colon): the bot id before it is public, the secret is not.

The process keeps one set of secrets (:func:`register_secret`), filled once the
token is known, so every way out of the process — log lines and tracebacks
(``tgstats.logs``), the CLI's one-line errors on stderr, and messages sent to
Telegram (``tgstats.bot.replies``) — redacts the same things.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from urllib.parse import quote

__all__ = ["PLACEHOLDER", "Redactor", "redact", "register_secret"]

PLACEHOLDER = "<token>"

# A token's secret half shorter than this is not redacted on its own (the whole
# token still is): it would match ordinary words.  Real secret halves are 35
# characters.
_MIN_SECRET = 8


class Redactor:
    """Replaces every known secret in a text by :data:`PLACEHOLDER`."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str) -> None:
        """Redact ``secret`` (and, for a bot token, its secret half) from now on."""
        forms = {secret}
        _bot_id, colon, tail = secret.partition(":")
        if colon and len(tail) >= _MIN_SECRET:
            forms.add(tail)
        with self._lock:
            for form in forms:
                self._secrets.update({form, quote(form, safe=""), quote(form)})
            alternatives = sorted(self._secrets, key=len, reverse=True)  # longest wins
            self._pattern = (
                re.compile("|".join(map(re.escape, alternatives)), re.IGNORECASE)
                if alternatives
                else None
            )

    def __call__(self, text: str) -> str:
        pattern = self._pattern
        return text if pattern is None else pattern.sub(PLACEHOLDER, text)


_process = Redactor()


def register_secret(secret: str) -> None:
    """Add ``secret`` to the secrets this process never lets out."""
    if secret:
        _process.add(secret)


def redact(text: str) -> str:
    """``text`` with every secret registered in this process replaced."""
    return _process(text)
