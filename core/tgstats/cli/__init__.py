"""The `tgstats` command line: one module per subcommand, dispatched by `tgstats.cli.main`."""

from tgstats.cli.main import main

__all__ = ["main"]
