"""`tgstats new-plugin NAME`: a plugin distribution that installs, loads and passes its tests."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path
from typing import Any

from tgstats.cli.options import common_options

__all__ = ["register"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "new-plugin",
        help="create a ready plugin distribution (pyproject, package, plugin.yaml, README, test)",
        description=(
            "Create a plugin distribution in DIR: pyproject.toml with the entry point, the "
            "package with one command, plugin.yaml, a README and a test. NAME and the command "
            "follow the bot's rules and must not be taken by an installed plugin; existing "
            "files are never overwritten."
        ),
        parents=[common_options()],
    )
    parser.add_argument("name", metavar="NAME", help="plugin name: lowercase letters, digits, _")
    parser.add_argument(
        "--dir", type=Path, default=None, metavar="DIR", help="where to create it (plugins/NAME)"
    )
    parser.add_argument(
        "--command", default=None, metavar="CMD", help="the command it answers (default: NAME)"
    )
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    from tgstats.scaffold import check_free, plan, write

    new = plan(args.name, args.command, args.dir)
    check_free(new)
    written = write(new)
    print(f"Created plugin {new.name} (/{new.command}) in {new.directory}:")
    for path in written:
        print(f"  {path}")
    print("Next:")
    print(f"  pip install -e {shlex.quote(str(new.directory))}")
    print(f"  tgstats chat        # then type /{new.command}")
    return 0
