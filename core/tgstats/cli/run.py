"""`tgstats run`: the bot, long polling (or a webhook, ``--webhook-url``), with hot reload.

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
        help="run the bot (long polling or a webhook, hot reload)",
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
    webhook = parser.add_argument_group(
        "webhook mode",
        "Instead of long polling, serve a webhook behind a reverse proxy; any number "
        "of workers can share one URL, secret and PostgreSQL database.",
    )
    webhook.add_argument(
        "--webhook-url",
        metavar="URL",
        help="the public https URL Telegram posts updates to; setting it switches to "
        "webhook mode ($TGSTATS_WEBHOOK_URL)",
    )
    webhook.add_argument(
        "--listen",
        metavar="HOST:PORT",
        help="where this worker's HTTP server listens ($TGSTATS_WEBHOOK_LISTEN; "
        "default 127.0.0.1:8080)",
    )
    webhook.add_argument(
        "--webhook-secret-file",
        metavar="PATH",
        help="file holding the secret token Telegram sends with each update, "
        "1-256 of A-Z a-z 0-9 _ - (required; $TGSTATS_WEBHOOK_SECRET_FILE)",
    )
    webhook.add_argument(
        "--webhook-max-connections",
        metavar="N",
        help="most simultaneous connections Telegram opens, 1-100, shared by all "
        "workers ($TGSTATS_WEBHOOK_MAX_CONNECTIONS; default 40)",
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
        webhook_url=args.webhook_url,
        webhook_listen=args.listen,
        webhook_secret_file=args.webhook_secret_file,
        webhook_max_connections=args.webhook_max_connections,
    )
    configure_logging(
        level=logging.DEBUG if getattr(args, "debug", False) else logging.INFO,
        log_file=settings.log_file,
        secrets=[settings.token, settings.webhook.secret if settings.webhook else ""],
    )
    return asyncio.run(BotRuntime(settings).run())
