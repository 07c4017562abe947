"""Placeholder: the analytics land in a later change."""

from __future__ import annotations

import attrs

from tgstats.plugins import CommandContext, Plugin, TextReply, command


@attrs.frozen
class Config:
    days: int = 30


class EngagementPlugin(Plugin[Config]):
    Config = Config

    @command("engagement", "engagement (placeholder)")
    def engagement(self, ctx: CommandContext) -> TextReply:
        return TextReply(f"engagement: last {self.config.days} days (placeholder)")
