"""The python-telegram-bot runtime behind ``tgstats run``.

One module per job: :mod:`~tgstats.bot.settings` (flags/environment),
:mod:`~tgstats.bot.app` (the Application, no Updater, and the swap guard),
:mod:`~tgstats.bot.polling` (long polling that confirms only committed
updates), :mod:`~tgstats.bot.intake` (the one entry for a raw update: parse,
commit, hand to a lane; poison updates kept), :mod:`~tgstats.bot.recorder`
(commits what an update carries, off the event loop),
:mod:`~tgstats.bot.lanes` (per-chat order, chats concurrent, bounded),
:mod:`~tgstats.bot.handlers` (plugins as handler groups),
:mod:`~tgstats.bot.replies`, :mod:`~tgstats.bot.menu`,
:mod:`~tgstats.bot.admin` (host commands), :mod:`~tgstats.bot.quiet`
(rate-limited log lines) and :mod:`~tgstats.bot.runtime` (start, signals,
stop).  Import the submodule you need; this package imports nothing eagerly
so ``tgstats --help`` stays fast.
"""

from __future__ import annotations
