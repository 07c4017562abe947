"""tgstats.plugins is the plugin SDK: its __all__ is curated, and pinned here.

A name added to or removed from the SDK is a change of the public plugin API,
so it has to be made here too, on purpose.
"""

from __future__ import annotations

import importlib
import inspect

import tgstats.plugins

SDK = [
    "MAX_DAYS",
    "PERIOD_CHOICES",
    "Button",
    "ButtonContext",
    "ButtonSpec",
    "Keyboard",
    "ActiveStreak",
    "ActivityBucket",
    "ActivityTotals",
    "BucketUnit",
    "ChatInfo",
    "ChatSettings",
    "CommandContext",
    "CommandSpec",
    "ConfigError",
    "Daily",
    "EmojiCount",
    "EventKind",
    "EventSpec",
    "ListenerSpec",
    "MemberChangeDay",
    "MemberContext",
    "MemberReactions",
    "MemberCount",
    "MemberPartners",
    "MemberStanding",
    "MemberStickers",
    "MessageContext",
    "MessageQueries",
    "MessageRow",
    "NoConfig",
    "Period",
    "PeriodRequest",
    "PeriodUsageError",
    "PhotoReply",
    "Plugin",
    "PluginError",
    "PluginHost",
    "ReactionContext",
    "Reply",
    "ReplyPair",
    "ReplyPartner",
    "ReplyTiming",
    "ScheduleContext",
    "ScheduleSpec",
    "TextReply",
    "TgstatsError",
    "UserActivity",
    "UserInfo",
    "Weekly",
    "WordCount",
    "WordRanking",
    "PerChat",
    "per_chat",
    "chat_zones",
    "check_chat_zones",
    "check_days",
    "check_zone",
    "button",
    "command",
    "daily",
    "get_logger",
    "listener",
    "on_member_joined",
    "on_member_left",
    "on_reaction",
    "parse_period_args",
    "parse_zone",
    "period_buttons",
    "period_start",
    "resolve_button_period",
    "resolve_period",
    # Languages (tgstats.plugins._i18n)
    "_",
    "N_",
    "ngettext",
    "current_language",
    "format_date",
    "format_datetime",
    "format_number",
    "format_percent",
    "schedule",
    "weekly",
    "style",
]


def test_all_is_the_pinned_sdk() -> None:
    assert sorted(tgstats.plugins.__all__) == sorted(SDK)
    assert len(set(tgstats.plugins.__all__)) == len(tgstats.plugins.__all__), "duplicates"


def test_every_sdk_name_is_importable() -> None:
    namespace: dict[str, object] = {}
    exec("from tgstats.plugins import *", namespace)
    missing = [name for name in SDK if name not in namespace]
    assert not missing, f"in __all__ but not importable: {missing}"
    module = importlib.import_module("tgstats.plugins")
    assert all(namespace[name] is getattr(module, name) for name in SDK)


def test_no_public_name_outside_all() -> None:
    # Anything else the module binds would look like SDK to an author reading dir().
    # (Not identifiers: pytest's assertion rewriting adds "@py_builtins" and the like,
    # as tgstats is a pytest plugin's distribution.)
    public = {n for n in vars(tgstats.plugins) if n.isidentifier() and not n.startswith("_")}
    assert public - set(SDK) == set()


async def test_plugin_has_the_forget_member_hook() -> None:
    """``async def forget_member(self, chat_id, user_id)``: the opt-out hook, a no-op by default."""
    hook = tgstats.plugins.Plugin.forget_member
    assert inspect.iscoroutinefunction(hook)
    assert list(inspect.signature(hook).parameters) == ["self", "chat_id", "user_id"]
    plugin = tgstats.plugins.Plugin(tgstats.plugins.NoConfig(), host=None)  # type: ignore[arg-type]
    assert await plugin.forget_member(None, 1) is None
    assert await plugin.forget_member(-100123, 1) is None
