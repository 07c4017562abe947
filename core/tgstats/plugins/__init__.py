"""The tgstats plugin SDK: everything a plugin may import, and nothing else.

A plugin is a :class:`Plugin` subclass published under the ``tgstats.plugins``
entry-point group.  It declares ``/commands`` with :func:`command` and message
listeners with :func:`listener`, answers with a :class:`TextReply` or
:class:`PhotoReply`, reads the chat's history through the
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
    "ActivityBucket",
    "ActivityTotals",
    "BucketUnit",
    "ChatInfo",
    "CommandContext",
    "CommandSpec",
    "ConfigError",
    "ListenerSpec",
    "MemberCount",
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
    "Reply",
    "ReplyPair",
    "TextReply",
    "TgstatsError",
    "UserActivity",
    "UserInfo",
    "chat_zones",
    "check_chat_zones",
    "check_days",
    "check_zone",
    "command",
    "get_logger",
    "listener",
    "parse_period_args",
    "parse_zone",
    "period_start",
    "resolve_period",
    "style",
]
