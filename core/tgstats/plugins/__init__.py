"""The tgstats plugin SDK: everything a plugin may import, and nothing else.

A plugin is a :class:`Plugin` subclass published under the ``tgstats.plugins``
entry-point group.  It declares ``/commands`` with :func:`command`, message
listeners with :func:`listener` and button handlers with :func:`button`,
answers with a :class:`TextReply` or :class:`PhotoReply` (with inline
:class:`Button` rows if it likes), reads the chat's history through the
:class:`MessageQueries` it finds on its context, and raises
:class:`ConfigError` from a config validator.  Names outside ``__all__`` (the
``_``-prefixed modules behind this one, and every other ``tgstats`` package)
are the host's and may change without notice.
"""

from tgstats.errors import ConfigError, PluginError, TgstatsError
from tgstats.logs import get_logger
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
from tgstats.store.queries import (
    ChatInfo,
    MessageQueries,
    MessageRow,
    ReplyPair,
    UserActivity,
    UserInfo,
)

__all__ = [
    "MAX_DAYS",
    "PERIOD_CHOICES",
    "Button",
    "ButtonContext",
    "ButtonSpec",
    "ChatInfo",
    "CommandContext",
    "CommandSpec",
    "ConfigError",
    "Keyboard",
    "ListenerSpec",
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
    "button",
    "chat_zones",
    "check_chat_zones",
    "check_days",
    "check_zone",
    "command",
    "get_logger",
    "listener",
    "parse_period_args",
    "parse_zone",
    "period_buttons",
    "period_start",
    "resolve_button_period",
    "resolve_period",
]
