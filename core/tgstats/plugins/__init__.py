"""The tgstats plugin SDK: everything a plugin may import, and nothing else.

A plugin is a :class:`Plugin` subclass published under the ``tgstats.plugins``
entry-point group.  It declares ``/commands`` with :func:`command`, message
listeners with :func:`listener`, button handlers with :func:`button`, event
listeners with :func:`on_member_joined`, :func:`on_member_left` and
:func:`on_reaction`, and jobs with :func:`schedule`; speaks the chat's
language with :func:`_` and :func:`ngettext`; answers with a
:class:`TextReply` or :class:`PhotoReply` (with inline :class:`Button` rows
if it likes), reads the chat's history through the
:class:`MessageQueries` it finds on its context, draws pictures in the shared
look of :mod:`style <tgstats.plugins._style>`, and raises
:class:`ConfigError` from a config validator.  Names outside ``__all__`` (the
``_``-prefixed modules behind this one, and every other ``tgstats`` package)
are the host's and may change without notice.
"""

from tgstats.errors import ConfigError, PluginError, TgstatsError
from tgstats.logs import get_logger
from tgstats.plugins import _style as style
from tgstats.plugins._api import (
    CommandContext,
    CommandSpec,
    ListenerSpec,
    MessageContext,
    NoConfig,
    PhotoReply,
    Plugin,
    PluginHost,
    Reply,
    TextReply,
    command,
    listener,
)
from tgstats.plugins._buttons import Button, ButtonContext, ButtonSpec, Keyboard, button
from tgstats.plugins._events import (
    EventKind,
    EventSpec,
    MemberContext,
    ReactionContext,
    on_member_joined,
    on_member_left,
    on_reaction,
)
from tgstats.plugins._i18n import (
    N_,
    _,
    current_language,
    format_date,
    format_datetime,
    format_number,
    format_percent,
    ngettext,
)
from tgstats.plugins._period_buttons import PERIOD_CHOICES, period_buttons, resolve_button_period
from tgstats.plugins._periods import (
    MAX_DAYS,
    Period,
    PeriodRequest,
    PeriodUsageError,
    chat_zones,
    check_chat_zones,
    check_days,
    check_zone,
    parse_period_args,
    parse_zone,
    period_start,
    resolve_period,
)
from tgstats.plugins._schedule import (
    Daily,
    PerChat,
    ScheduleContext,
    ScheduleSpec,
    Weekly,
    daily,
    per_chat,
    schedule,
    weekly,
)
from tgstats.plugins._settings import ChatSettings
from tgstats.store.digest_queries import WordCount, WordRanking
from tgstats.store.event_queries import MemberChangeDay, MemberReactions
from tgstats.store.member_queries import (
    ActiveStreak,
    EmojiCount,
    MemberPartners,
    MemberStanding,
    MemberStickers,
    ReplyPartner,
    ReplyTiming,
)
from tgstats.store.queries import (
    ChatInfo,
    MessageQueries,
    MessageRow,
    ReplyPair,
    UserActivity,
    UserInfo,
)
from tgstats.store.timeline import ActivityBucket, ActivityTotals, BucketUnit, MemberCount

__all__ = [
    "MAX_DAYS",
    "N_",
    "PERIOD_CHOICES",
    "ActiveStreak",
    "ActivityBucket",
    "ActivityTotals",
    "BucketUnit",
    "Button",
    "ButtonContext",
    "ButtonSpec",
    "ChatInfo",
    "ChatSettings",
    "CommandContext",
    "CommandSpec",
    "ConfigError",
    "Daily",
    "EmojiCount",
    "EventKind",
    "EventSpec",
    "Keyboard",
    "ListenerSpec",
    "MemberChangeDay",
    "MemberContext",
    "MemberCount",
    "MemberPartners",
    "MemberReactions",
    "MemberStanding",
    "MemberStickers",
    "MessageContext",
    "MessageQueries",
    "MessageRow",
    "NoConfig",
    "PerChat",
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
    "_",
    "button",
    "chat_zones",
    "check_chat_zones",
    "check_days",
    "check_zone",
    "command",
    "current_language",
    "daily",
    "format_date",
    "format_datetime",
    "format_number",
    "format_percent",
    "get_logger",
    "listener",
    "ngettext",
    "on_member_joined",
    "on_member_left",
    "on_reaction",
    "parse_period_args",
    "parse_zone",
    "per_chat",
    "period_buttons",
    "period_start",
    "resolve_button_period",
    "resolve_period",
    "schedule",
    "style",
    "weekly",
]
