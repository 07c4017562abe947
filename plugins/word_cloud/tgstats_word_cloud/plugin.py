"""Placeholder: the analytics land in a later change."""

from __future__ import annotations

import attrs

from tgstats.plugins import CommandContext, Plugin, TextReply, command


@attrs.frozen
class Config:
    days: int = 30


class WordCloudPlugin(Plugin[Config]):
    Config = Config

    @command("wordcloud", "wordcloud (placeholder)")
    def wordcloud(self, ctx: CommandContext) -> TextReply:
        return TextReply(f"wordcloud: last {self.config.days} days (placeholder)")
