"""Text both databases can store: no NUL characters, no lone surrogates.

PostgreSQL refuses a NUL character in text (SQLite keeps it), and neither
UTF-8 driver can encode a lone UTF-16 surrogate (which a Telegram export or
an API client can produce).  Both are cleaned the same way on every path in,
so a message is kept, with the same text, whatever the backend: NUL is
dropped, a lone surrogate becomes U+FFFD.
"""

from __future__ import annotations

__all__ = ["clean_text"]


def clean_text(value: str) -> str:
    """``value`` without NUL characters and with each lone surrogate replaced by U+FFFD."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        # Through UTF-16: a lone surrogate is one bad code unit there, so one U+FFFD.
        value = value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return value
