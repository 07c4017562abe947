"""`tgstats chat`: a local group chat in the terminal, answered by the real bot, no network.

See :mod:`tgstats.chat`.  Without ``--plugins-config`` (or
``$TGSTATS_PLUGINS_CONFIG``) the chat uses ``DIR/plugins.yaml``, written on
the first run with the native watcher and a short debounce, so a save shows
at the next command; edit it as you like, it is never overwritten.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import sys
from pathlib import Path
from typing import Any

from tgstats.cli.options import common_options

__all__ = ["register"]

DEFAULT_DIR = Path("tgstats-chat")
MAX_TITLE = 128  # Telegram's limit for a chat title
CHAT_CONFIG = """\
# plugins.yaml of `tgstats chat`, written on its first run and never overwritten.
# Every plugin installed loads; saving one of its files reloads it at once.
settings:
  hot_reload: true
  watcher: native          # OS notifications: a save is seen within milliseconds
  reload_debounce: 0.1     # seconds of quiet before the reload (editors save in bursts)
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "chat",
        help="a local group chat in the terminal: type messages and commands, no token",
        description=(
            "A group chat in the terminal, served by the real bot: each line is a message "
            "of the current member, recorded in a local store; commands are answered by the "
            "plugins, which reload when their files are saved. /as NAME switches member, "
            "/press N presses a button, /quit leaves. With standard input not a terminal, "
            "each line is a message and each answer is printed (tgstats chat < script.txt)."
        ),
        parents=[common_options()],
    )
    parser.add_argument(
        "--dir",
        type=Path,
        default=DEFAULT_DIR,
        metavar="DIR",
        help=f"folder for the store, pictures, log and history (default: ./{DEFAULT_DIR}/)",
    )
    parser.add_argument(
        "--db",
        default=None,
        metavar="URL",
        help="store URL (default: sqlite:///DIR/chat.db; $TGSTATS_DB is not used)",
    )
    parser.add_argument(
        "--as", dest="member", default="You", metavar="NAME", help="who you are at first"
    )
    parser.add_argument("--title", default=None, metavar="TITLE", help="the chat's title")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="start from the demo's sample group (DIR/demo.db, rebuilt on each start)",
    )
    parser.add_argument(
        "--plugins-config",
        default=None,
        metavar="PATH",
        help="plugins.yaml to use (default: $TGSTATS_PLUGINS_CONFIG, else DIR/plugins.yaml)",
    )
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    from tgstats.chat.session import check_member_name
    from tgstats.errors import TgstatsError
    from tgstats.logs import configure_logging

    try:
        member = check_member_name(args.member)
    except ValueError as error:
        raise TgstatsError(f"--as: {error}") from None
    if args.title is not None and not 1 <= len(args.title.strip()) <= MAX_TITLE:
        raise TgstatsError(f"--title: expected 1-{MAX_TITLE} characters, found {len(args.title)}")
    if args.demo and args.db:
        raise TgstatsError("--demo builds its own store (DIR/demo.db): leave out --db")
    out_dir: Path = args.dir
    out_dir.mkdir(parents=True, exist_ok=True)
    debug = getattr(args, "debug", False)
    # The whole log goes to the file; the chat shows the events that matter.
    with open(os.devnull, "w", encoding="utf-8") as quiet:
        configure_logging(
            level="DEBUG" if debug else "INFO",
            log_file=out_dir / "tgstats.log",
            stream=sys.stderr if debug else quiet,
        )
        return asyncio.run(_chat(_options(args, out_dir, member)))


def _options(args: argparse.Namespace, out_dir: Path, member: str) -> Any:
    from tgstats.chat.session import ChatOptions

    chat_id, title, db_url = -1001, args.title or "Local chat", args.db
    if args.demo:
        from tgstats.demo.runner import build_store

        store, history = build_store(out_dir / "demo.db")
        store.close()
        chat_id, title = history.chat.chat_id, args.title or history.chat.title or title
        db_url = f"sqlite:///{out_dir / 'demo.db'}"
    return ChatOptions(
        db_url=db_url or f"sqlite:///{out_dir / 'chat.db'}",
        plugins_config=_plugins_config(args.plugins_config, out_dir),
        out_dir=out_dir,
        chat_id=chat_id,
        title=title,
        member=member,
    )


def _plugins_config(explicit: str | None, out_dir: Path) -> Path:
    from tgstats.config import CONFIG_ENV

    if explicit:
        return Path(explicit)
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    path = out_dir / "plugins.yaml"
    if not path.exists():
        path.write_text(CHAT_CONFIG, encoding="utf-8")
    return path


async def _chat(options: Any) -> int:
    from tgstats.chat.session import ChatSession
    from tgstats.chat.terminal import LineReader, run_terminal, write_line

    out = write_line(sys.stdout)
    # A script with bytes that are not UTF-8 still chats: they become U+FFFD.
    if isinstance(sys.stdin, io.TextIOWrapper):
        sys.stdin.reconfigure(errors="replace")
    session = ChatSession(options, show=out)
    await session.start()
    try:
        reader = LineReader(sys.stdin, interactive=sys.stdin.isatty())
        return await run_terminal(session, reader, out, _banner(session))
    finally:
        await session.stop()


def _banner(session: Any) -> list[str]:
    runtime = session.runtime
    options = session.options
    plugins = []
    for record in sorted(runtime.manager.list_plugins(), key=lambda r: r.name):
        if record.state == "loaded" and record.plugin_cls is not None:
            commands = " ".join(f"/{spec.name}" for spec in record.plugin_cls.commands())
            plugins.append(f"{record.name} ({commands})" if commands else record.name)
        else:
            plugins.append(f"{record.name} [{record.state}]")
    return [
        f'tgstats chat: "{options.title}" (chat {options.chat_id}), you are {session.member} '
        "(an admin)",
        "plugins: " + (", ".join(plugins) or "none installed"),
        f"store: {_shown_url(options.db_url)}; pictures: {options.out_dir / 'pictures'}; "
        f"log: {options.out_dir / 'tgstats.log'}",
        "/as NAME switches member, /press N presses a button, /quit or Ctrl-D leaves",
    ]


def _shown_url(url: str) -> str:
    """The store URL without its password (the banner may end up in a transcript)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url.split("@")[-1]
