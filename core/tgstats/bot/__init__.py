"""The python-telegram-bot runtime behind ``tgstats run``.

One module per job: :mod:`~tgstats.bot.settings` (flags/environment),
:mod:`~tgstats.bot.app` (the serial Application), :mod:`~tgstats.bot.recorder`
(stores every message first), :mod:`~tgstats.bot.handlers` (plugins as
handler groups), :mod:`~tgstats.bot.replies`, :mod:`~tgstats.bot.menu`,
:mod:`~tgstats.bot.admin` (host commands) and :mod:`~tgstats.bot.runtime`
(start, signals, stop).  Import the submodule you need; this package imports
nothing eagerly so ``tgstats --help`` stays fast.
"""

from __future__ import annotations
