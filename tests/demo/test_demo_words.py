"""The demo group's word cloud holds no function word of any of its four languages."""

from __future__ import annotations

from pathlib import Path

import pytest
import stopwordsiso
from tgstats.demo.history import ANCHOR
from tgstats.demo.runner import build_store
from tgstats.testing import command_context, configure_plugin, make_chat
from tgstats_word_cloud.plugin import Cloud, WordCloudPlugin


@pytest.mark.parametrize("period", [(), ("all",)])
def test_no_function_word_of_the_demos_languages_is_drawn(
    tmp_path: Path, period: tuple[str, ...]
) -> None:
    store, history = build_store(tmp_path / "demo.db")
    try:
        plugin = configure_plugin(WordCloudPlugin, "word_cloud", store, tmp_path)
        chat = make_chat(history.chat.chat_id, history.chat.title or "")
        ctx = command_context("wordcloud", store, chat, *period, now=ANCHOR)
        cloud = plugin.compute(ctx)
    finally:
        store.close()
    assert isinstance(cloud, Cloud)
    # Detected from the messages, not configured: plugin.yaml says `auto`.
    assert set(cloud.languages) == {"en", "ru", "de", "es"}
    function_words = set().union(*(stopwordsiso.stopwords(code) for code in cloud.languages))
    drawn = {word.casefold() for word in cloud.frequencies}
    assert len(drawn) == 100
    assert drawn.isdisjoint(function_words), sorted(drawn & function_words)
    for german in ("mit", "zum", "der", "sind", "vom"):
        assert german not in drawn
