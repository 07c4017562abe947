"""Placeholder: the analytics land in a later change."""

from __future__ import annotations

import attrs

from tgstats.plugins import CommandContext, Plugin, TextReply, command


@attrs.frozen
class Config:
    days: int = 30


class HeatmapPlugin(Plugin[Config]):
    Config = Config

    @command("heatmap", "heatmap (placeholder)")
    def heatmap(self, ctx: CommandContext) -> TextReply:
        return TextReply(f"heatmap: last {self.config.days} days (placeholder)")
