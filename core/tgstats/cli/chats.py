"""`tgstats chats list|show ID`: the chats in the store and each one's own settings.

Every value is shown with where it comes from, lowest layer first: the
plugin's code default, its ``plugin.yaml``, the operator's ``plugins.yaml``,
or the chat's own setting (``/settings``, with when and by whom).  Plugins
are inspected the way ``tgstats plugins show`` does (imported, config
validated, not started).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
from typing import Any

from tgstats.cli.export import _require_existing_sqlite
from tgstats.cli.options import add_db_option, common_options
from tgstats.config import default_config_path, load_host_config
from tgstats.errors import TgstatsError
from tgstats.host.chat_settings import ChatSettingsService, SettingLine
from tgstats.host.discovery import discover_plugins
from tgstats.host.loading import inspect_plugins
from tgstats.host.records import PluginRecord
from tgstats.logs import configure_logging
from tgstats.store.database import Store, default_db_url, open_store, safe_url
from tgstats.store.schema import chats

__all__ = ["register"]


def register(subparsers: Any) -> None:
    common = argparse.ArgumentParser(add_help=False)
    add_db_option(common, default=argparse.SUPPRESS)
    common.add_argument(
        "--plugins-config",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="plugins.yaml to use ($TGSTATS_PLUGINS_CONFIG; default: the packaged one)",
    )
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
    parents = [common_options(), common]
    parser = subparsers.add_parser(
        "chats",
        help="the chats in the store and their own settings",
        description="The chats in the store, and each chat's settings with their origin.",
        parents=parents,
    )
    parser.set_defaults(handler=lambda _args: _usage(parser))
    actions = parser.add_subparsers(dest="chats_command", metavar="ACTION")
    listing = actions.add_parser(
        "list", help="every chat with the settings its admins changed", parents=parents
    )
    listing.set_defaults(handler=_list)
    show = actions.add_parser(
        "show", help="every setting of one chat and where it comes from", parents=parents
    )
    show.add_argument("chat_id", type=int, metavar="ID")
    show.set_defaults(handler=_show)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _open(args: argparse.Namespace) -> Store:
    configure_logging(level=logging.DEBUG if getattr(args, "debug", False) else logging.WARNING)
    url = default_db_url(getattr(args, "db", None))
    _require_existing_sqlite(url)
    return open_store(url)


def _records(args: argparse.Namespace) -> list[PluginRecord]:
    config = load_host_config(default_config_path(getattr(args, "plugins_config", None)))
    with contextlib.redirect_stdout(sys.stderr):  # a chatty plugin import must not mix in
        return inspect_plugins(config, discover_plugins())


def _service(store: Store, records: list[PluginRecord]) -> ChatSettingsService:
    by_name = {record.name: record for record in records}
    return ChatSettingsService(store.settings, by_name.get)


def _list(args: argparse.Namespace) -> int:
    store = _open(args)
    try:
        with store.engine.connect() as connection:
            known = {
                int(row.chat_id): (row.title, row.type)
                for row in connection.execute(chats.select().order_by(chats.c.chat_id))
            }
        ids = sorted(set(known) | set(store.settings.chats()))
        rows = []
        for chat_id in ids:
            title, kind = known.get(chat_id, (None, None))
            stored = store.settings.load(chat_id)
            changed = {key: item.value for key, item in sorted(stored.values.items())}
            rows.append(
                {
                    "chat_id": chat_id,
                    "title": title,
                    "type": kind,
                    "settings": changed,
                    "excluded_user_ids": sorted(stored.excluded),
                }
            )
    finally:
        store.close()
    if getattr(args, "json", False):
        json.dump(rows, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    if not rows:
        print("no chats in the store")
    for row in rows:
        own = ", ".join(f"{k}={json.dumps(v)}" for k, v in row["settings"].items())
        if row["excluded_user_ids"]:
            own = ", ".join(filter(None, [own, f"excluded={row['excluded_user_ids']}"]))
        print(
            f"{row['chat_id']}  {row['title'] or '?'} ({row['type'] or '?'})  {own or 'defaults'}"
        )
    return 0


def _show(args: argparse.Namespace) -> int:
    records = _records(args)
    store = _open(args)
    try:
        chat = store.queries.chat(args.chat_id)
        if chat is None and args.chat_id not in store.settings.chats():
            raise TgstatsError(
                f"no chat with id {args.chat_id} in the store at {safe_url(store.url)} "
                "(supergroups are stored as -100<id>, basic groups as -<id>)"
            )
        lines = _service(store, records).describe(args.chat_id, records)
    finally:
        store.close()
    if getattr(args, "json", False):
        json.dump(
            [{"key": s.key, "value": s.value, "origin": s.origin} for s in lines],
            sys.stdout,
            indent=2,
            ensure_ascii=False,
        )
        sys.stdout.write("\n")
        return 0
    title = chat.title if chat is not None and chat.title else "?"
    print(f"chat {args.chat_id} ({title})")
    _print_lines(lines)
    return 0


def _print_lines(lines: list[SettingLine]) -> None:
    width = max((len(line.key) for line in lines), default=0)
    value_width = min(max((len(line.value) for line in lines), default=0), 40)
    for line in lines:
        print(f"  {line.key:<{width}}  {line.value:<{value_width}}  {line.origin}")
