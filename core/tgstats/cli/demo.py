"""`tgstats demo`: run every plugin on a built-in sample group and write the results.

No token or setup needed: a deterministic sample history goes into a SQLite
file in the output folder, every enabled plugin is loaded by the real plugin
manager, and each command's reply is saved (pictures as ``<command>.png``,
text as ``<command>.txt``).  Exit status: 0 when every enabled plugin loaded
and every command produced a file; 1 when anything failed (the files of the
commands that worked are still written and listed).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from tgstats.cli.options import common_options

DEFAULT_OUT = Path("tgstats-demo")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run every plugin on a built-in sample group; writes heatmap.png etc.",
        description=(
            "Build a sample group history (deterministic) into a local SQLite file, run "
            "every enabled plugin's commands on it the way the bot does, and write each "
            "reply to a file: pictures as <command>.png, text as <command>.txt."
        ),
        parents=[common_options()],
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        metavar="DIR",
        help=(
            "output folder, created if needed; re-running replaces what the last run "
            f"wrote there (default: ./{DEFAULT_OUT}/)"
        ),
    )
    parser.add_argument(
        "--plugins-config",
        default=None,
        metavar="PATH",
        help="plugins.yaml to use (default: $TGSTATS_PLUGINS_CONFIG or the packaged default)",
    )
    parser.add_argument(
        "--seed", type=int, default=None, help="seed of the sample history (default: 2026)"
    )
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    from tgstats.config import default_config_path
    from tgstats.demo.history import DEFAULT_SEED
    from tgstats.demo.report import print_report
    from tgstats.demo.runner import run_demo
    from tgstats.logs import configure_logging

    # Warnings (a plugin that failed, a missing font) still show; the report is the output.
    configure_logging(level="DEBUG" if getattr(args, "debug", False) else "WARNING")
    result = run_demo(
        args.out,
        config_path=default_config_path(args.plugins_config),
        seed=DEFAULT_SEED if args.seed is None else args.seed,
    )
    print_report(result)
    return 0 if result.ok else 1
