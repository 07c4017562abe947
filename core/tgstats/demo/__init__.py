"""``tgstats demo``: a deterministic sample group, every plugin run on it, replies as files."""

from tgstats.demo.history import ANCHOR, DEFAULT_SEED, DEMO_CHAT, DemoHistory, build_history
from tgstats.demo.runner import CommandResult, DemoResult, build_store, run_demo

__all__ = [
    "ANCHOR",
    "DEFAULT_SEED",
    "DEMO_CHAT",
    "CommandResult",
    "DemoHistory",
    "DemoResult",
    "build_history",
    "build_store",
    "run_demo",
]
