"""`tgstats forget USER_ID`: an admin erases a member, as /forgetme or /optout would.

The store's side is ``Store.erase_member``; then every enabled plugin is
loaded through the bot's own plugin manager (setup, ``forget_member``,
shutdown), so plugin data goes too.  Exits 1 when a plugin failed to forget.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import sys
from typing import Any

from tgstats.cli.options import add_db_option, common_options
from tgstats.config import default_config_path
from tgstats.host.manager import PluginManager
from tgstats.host.services import make_host_factory
from tgstats.logs import configure_logging
from tgstats.store import Store, open_store
from tgstats.store.bounds import check_id

_ID = re.compile(r"-?[0-9]{1,20}")
HOOK_TIMEOUT = 30.0


def telegram_id(text: str) -> int:
    """An argparse type: a Telegram id, its length checked before int()."""
    if not _ID.fullmatch(text):
        shown = text if len(text) <= 30 else text[:30] + "..."
        raise argparse.ArgumentTypeError(f"expected a Telegram id like 12345678, got {shown!r}")
    value = int(text)
    try:
        check_id(value, "id")
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return value


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "forget",
        help="erase a member's data (every chat, or one), plugins included",
        description=(
            "Erase what the store and the plugins keep about a member, as /forgetme (every "
            "chat) or /optout in one chat would, and stop recording them there.  Their "
            "messages, answered commands, rejected updates naming them and, once no chat "
            "keeps a message of theirs, their name go; a tombstone keeps imports from "
            "bringing anything dated before now back."
        ),
        parents=[common_options()],
    )
    parser.add_argument("user_id", type=telegram_id, metavar="USER_ID", help="the member's id")
    parser.add_argument(
        "--chat-id", type=telegram_id, default=None, metavar="ID", help="only this chat"
    )
    add_db_option(parser)
    parser.add_argument(
        "--plugins-config",
        metavar="PATH",
        default=None,
        help="plugins.yaml to use ($TGSTATS_PLUGINS_CONFIG; default: the packaged one)",
    )
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    configure_logging(
        level=logging.DEBUG if getattr(args, "debug", False) else logging.WARNING,
        stream=sys.stderr,
    )
    chats = None if args.chat_id is None else [args.chat_id]
    with open_store(args.db) as store:
        erased = store.erase_member(args.user_id, chats)
        failed = asyncio.run(_plugins_forget(store, args))
    where = "every chat" if chats is None else f"chat {args.chat_id}"
    name = "their name" if erased.user_row else "no name (none kept, or other chats show it)"
    print(
        f"Erased user {args.user_id} from {where}: {erased.messages} messages, "
        f"{erased.answered_commands} answered commands, {erased.rejected_updates} rejected "
        f"updates, {name}; "
        f"opted out in {len(erased.chats)} chat(s)."
    )
    if failed:
        print(
            f"tgstats: error: plugins that could not forget: {', '.join(failed)}", file=sys.stderr
        )
        return 1
    return 0


async def _plugins_forget(store: Store, args: argparse.Namespace) -> list[str]:
    manager = PluginManager(
        config_path=default_config_path(args.plugins_config),
        host_factory=make_host_factory(store.queries),
        hook_timeout=HOOK_TIMEOUT,
    )
    try:
        report = await manager.start()
        failed = [record.name for record in report.failed]  # not loaded: could not be asked
        return failed + await manager.forget_member(args.chat_id, args.user_id)
    finally:
        await manager.stop()
