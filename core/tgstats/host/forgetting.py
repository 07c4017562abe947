"""Asking every loaded plugin to forget a member (``/optout``, ``/forgetme``).

Each plugin's :meth:`~tgstats.plugins.Plugin.forget_member` runs in turn,
bounded in time; one that raises or hangs is logged with its name
(``plugin_forget_failed``) and the others are still asked, so one broken
plugin never keeps a member's data in the rest.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterable

from tgstats.host.records import PluginRecord
from tgstats.logs import get_logger

__all__ = ["FORGET_TIMEOUT", "forget_member"]

log = get_logger(__name__)

FORGET_TIMEOUT = 30.0  # seconds one plugin may take


async def forget_member(
    records: Iterable[PluginRecord],
    chat_id: int | None,
    user_id: int,
    *,
    timeout: float = FORGET_TIMEOUT,
) -> list[str]:
    """Call ``forget_member(chat_id, user_id)`` on each loaded plugin; returns the
    names of those that raised or timed out."""
    failed: list[str] = []
    for record in records:
        plugin = record.instance
        if plugin is None:
            continue
        try:
            async with asyncio.timeout(timeout):
                # The SDK declares it async; a plain def that returns None is accepted too.
                result = plugin.forget_member(chat_id, user_id)
                if inspect.isawaitable(result):
                    await result
        except Exception as error:
            failed.append(record.name)
            reason = (
                f"did not finish within {timeout:g} s"
                if isinstance(error, TimeoutError)
                else f"{type(error).__name__}: {error}"
            )
            log.error(
                "plugin_forget_failed",
                plugin=record.name,
                chat_id=chat_id,
                user_id=user_id,
                error=reason[:500],
            )
    return failed
