"""The plugin machinery.  Plugin authors need only the names re-exported here."""

from tgstats.plugins.api import (
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

__all__ = [
    "CommandContext",
    "CommandSpec",
    "ListenerSpec",
    "MessageContext",
    "NoConfig",
    "PhotoReply",
    "Plugin",
    "PluginHost",
    "Reply",
    "TextReply",
    "command",
    "listener",
]
