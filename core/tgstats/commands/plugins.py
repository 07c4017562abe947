"""`tgstats plugins` (not implemented yet)."""

from __future__ import annotations

import argparse
from typing import Any

from tgstats.commands import common_options


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "plugins", help="(not implemented yet)", parents=[common_options()]
    )
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    raise NotImplementedError
