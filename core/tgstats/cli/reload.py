"""`tgstats reload`: ask a running bot to reload its plugins (the /reload path, via SIGHUP)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from tgstats.cli.options import common_options


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "reload",
        help="make a running bot reload its plugins",
        description=(
            "Send SIGHUP to the `tgstats run` whose pid file is given: it re-reads "
            "plugins.yaml, picks up installed and removed plugins and reloads every "
            "plugin, exactly as the /reload admin command does. The outcome is logged "
            "as manual_reload_done."
        ),
        parents=[common_options()],
    )
    parser.add_argument(
        "--pid-file",
        metavar="PATH",
        help="the file `tgstats run --pid-file` wrote ($TGSTATS_PID_FILE)",
    )
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    from tgstats.errors import TgstatsError
    from tgstats.pidfile import ENV_PID_FILE, signal_bot

    path = args.pid_file or os.environ.get(ENV_PID_FILE)
    if not path:
        raise TgstatsError(f"which bot? give --pid-file PATH or set ${ENV_PID_FILE}")
    pid = signal_bot(Path(path))
    print(f"asked tgstats (pid {pid}) to reload its plugins; see manual_reload_done in its log")
    return 0
