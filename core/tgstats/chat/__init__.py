"""``tgstats chat``: a local group chat in the terminal, served by the real bot, no network.

:mod:`.api` answers the bot's Bot API calls in-process, :mod:`.session` runs
the bot's own runtime against it and turns typed lines into updates,
:mod:`.notices` shows the log events a plugin author needs, and
:mod:`.terminal` reads lines (readline, or a script on stdin) and prints.
"""

__all__ = ["LOCAL_COMMANDS"]

# What the chat answers itself, never the bot (so `tgstats new-plugin` refuses them).
LOCAL_COMMANDS = ("/as", "/press", "/quit", "/exit")
