"""The token never leaves the process: any case, percent-encoded, or its secret half alone."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from tgstats.redaction import PLACEHOLDER, Redactor

TOKEN = "987654:AAHsecretTokenValue-with_Parts42"
SECRET = TOKEN.partition(":")[2]


@pytest.mark.parametrize(
    "leak",
    [
        TOKEN,
        TOKEN.lower(),  # python-telegram-bot lower-cases the rest of an error's text
        TOKEN.upper(),
        TOKEN.capitalize(),
        quote(TOKEN, safe=""),  # 987654%3AAAH...
        quote(TOKEN, safe="").lower(),  # %3a as some proxies write it
        SECRET,
        SECRET.lower(),
    ],
)
def test_every_form_of_the_token_is_redacted(leak: str) -> None:
    redact = Redactor([TOKEN])
    text = f"Url http://127.0.0.1:8081/bot{leak}/getme is wrong"
    redacted = redact(text)
    assert PLACEHOLDER in redacted
    assert SECRET.lower() not in redacted.lower()
    assert redacted.startswith("Url http://127.0.0.1:8081/bot")
    assert redacted.endswith("/getme is wrong")


def test_text_without_the_token_is_unchanged() -> None:
    redact = Redactor([TOKEN])
    text = "plugin 'heatmap' reloaded in 2.7 ms; bot id 987654 is public"
    assert redact(text) == text


def test_short_fragments_are_not_treated_as_secrets() -> None:
    # A secret half of a few characters would redact ordinary words.
    redact = Redactor(["1:ab"])
    assert redact("ab abc 1:ab") == f"ab abc {PLACEHOLDER}"


def test_no_secret_means_no_change() -> None:
    assert Redactor()("anything /bot123:xyz/") == "anything /bot123:xyz/"
