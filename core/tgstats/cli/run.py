"""`tgstats run`: the bot, long polling, with hot reload.

Every option is also an environment variable (flag wins); see
:mod:`tgstats.bot.settings`.  Stop with SIGTERM/SIGINT, reload plugins with
SIGHUP (``supervisorctl signal HUP tgstats-bot``, ``systemctl reload tgstats-bot``).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import Any

from tgstats.cli.options import common_options


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run the bot (long polling, hot reload)",
        description=(
            "Run the Telegram bot: record every message of the groups it is in and "
            "answer the plugins' commands. SIGTERM/SIGINT stop it cleanly, SIGHUP "
            "reloads the plugins."
        ),
        parents=[common_options()],
    )
    parser.add_argument(
        "--token-file",
        metavar="PATH",
        help="read the bot token from this file instead of $TGSTATS_TOKEN",
    )
    parser.add_argument(
        "--api-url",
        metavar="URL",
        help="Bot API base URL, e.g. http://localhost:8081/bot for a self-hosted "
        "server ($TGSTATS_API_URL; default https://api.telegram.org/bot)",
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        help="SQLAlchemy database URL ($TGSTATS_DB; default sqlite:///tgstats.db)",
    )
    parser.add_argument(
        "--plugins-config",
        metavar="PATH",
        help="plugins.yaml to use ($TGSTATS_PLUGINS_CONFIG; default: the packaged one)",
    )
    parser.add_argument(
        "--admins",
        metavar="IDS",
        help="comma-separated Telegram user ids allowed to use /plugins and /reload "
        "($TGSTATS_ADMINS)",
    )
    parser.add_argument(
        "--log-file", metavar="PATH", help="log file ($TGSTATS_LOG_FILE; default logs/tgstats.log)"
    )
    parser.add_argument(
        "--pid-file",
        metavar="PATH",
        help="write the process id here once running, for `tgstats reload` ($TGSTATS_PID_FILE)",
    )
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    from tgstats.bot.runtime import BotRuntime
    from tgstats.bot.settings import resolve_settings
    from tgstats.logs import configure_logging

    settings = resolve_settings(
        token_file=args.token_file,
        api_url=args.api_url,
        db_url=args.db,
        plugins_config=args.plugins_config,
        admins=args.admins,
        log_file=args.log_file,
        pid_file=args.pid_file,
    )
    configure_logging(
        level=logging.DEBUG if getattr(args, "debug", False) else logging.INFO,
        log_file=settings.log_file,
        secrets=[settings.token],
    )
    return asyncio.run(BotRuntime(settings).run())
