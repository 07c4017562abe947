"""Structured log lines: the README's format, secrets never written, handlers not stacked."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from tgstats.logs import configure_logging, get_logger

TOKEN = "123456:AAH-secret-token-value"


@pytest.fixture
def stream(tmp_path: Path) -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    configure_logging(stream=buffer, secrets=[TOKEN], log_file=tmp_path / "logs" / "t.log")
    yield buffer
    configure_logging(stream=io.StringIO())  # drop the file handler before tmp_path goes


def test_events_render_as_the_readme_shows(stream: io.StringIO, tmp_path: Path) -> None:
    get_logger("tgstats.test").info(
        "plugin_files_changed", count=2, files=["engagements.py", "plugin.yaml"]
    )
    line = stream.getvalue().strip()
    assert line.endswith(
        "[INFO] plugin_files_changed count=2 files=['engagements.py', 'plugin.yaml']"
    )
    assert (tmp_path / "logs" / "t.log").read_text(encoding="utf-8").strip() == line


def test_token_is_redacted_everywhere(stream: io.StringIO, tmp_path: Path) -> None:
    url = f"https://api.telegram.org/bot{TOKEN}/getUpdates"
    log = get_logger("tgstats.test")
    log.info("request", url=url)
    logging.getLogger("telegram.ext").warning("foreign logger: %s", url)
    try:
        raise RuntimeError(f"failed: {url}")
    except RuntimeError:
        log.exception("with_traceback")
        logging.getLogger("httpx").exception("foreign traceback")
    for text in (stream.getvalue(), (tmp_path / "logs" / "t.log").read_text(encoding="utf-8")):
        assert TOKEN not in text
        assert "secret" not in text
        assert "request url=https://api.telegram.org/bot<token>/getUpdates" in text
        assert "foreign logger: https://api.telegram.org/bot<token>/getUpdates" in text
        assert text.count("RuntimeError: failed: https://api.telegram.org/bot<token>/") == 2
        assert text.count("Traceback (most recent call last):") == 2


def test_configuring_twice_does_not_duplicate_lines() -> None:
    first, second = io.StringIO(), io.StringIO()
    configure_logging(stream=first)
    configure_logging(stream=second)
    get_logger("tgstats.test").info("once")
    assert first.getvalue() == ""
    assert second.getvalue().count("once") == 1


def test_token_is_redacted_whatever_its_case_or_encoding(
    stream: io.StringIO, tmp_path: Path
) -> None:
    # What python-telegram-bot makes of a Bot API error that echoes the URL.
    log = get_logger("tgstats.test")
    log.error("reply_failed", error=f"Url http://127.0.0.1/bot{TOKEN.lower()}/sendmessage is wrong")
    log.error("echoed", url=f"http://127.0.0.1/bot{TOKEN.replace(':', '%3A')}/getMe")
    for text in (stream.getvalue(), (tmp_path / "logs" / "t.log").read_text(encoding="utf-8")):
        assert "secret-token" not in text.lower()
        assert text.count("<token>") == 2
