"""A chat's effective settings, as a plugin sees them (``ctx.settings``).

The host layers them (code default < ``plugin.yaml`` < the operator's
``plugins.yaml`` < what the chat's admins set with ``/settings``) and hands
the result to every command and listener; plugins never read the settings
tables themselves.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import attrs

__all__ = ["ChatSettings"]

TZ = TypeVar("TZ", bound=tzinfo)
_UNSET: Any = object()


@attrs.frozen(kw_only=True)
class ChatSettings:
    """The chat's own choices, and the plugin's options as they apply in this chat.

    ``timezone``, ``language`` and ``default_days`` are None when the chat's
    admins did not choose (then the plugin's own options decide: use
    :meth:`zone` and :meth:`days`).  ``config`` is the plugin's ``Config``
    with the chat's per-chat options applied (the plugin's own config when
    the chat set none).  ``excluded_user_ids`` are the members the statistics
    leave out; the query API already applies it, it is here to be shown.
    """

    chat_id: int | None = None
    timezone: ZoneInfo | None = None
    language: str | None = None
    # The period of a command without arguments: N days, None = all history.
    default_days: int | None = attrs.field(default=_UNSET, repr=False)
    config: Any = None
    excluded_user_ids: frozenset[int] = frozenset()

    @property
    def has_default_period(self) -> bool:
        return self.default_days is not _UNSET

    def zone(self, fallback: TZ) -> TZ | ZoneInfo:
        """The chat's time zone if its admins set one, else ``fallback`` (the plugin's option)."""
        return self.timezone if self.timezone is not None else fallback

    def days(self, fallback: int | None) -> int | None:
        """The chat's default period in days (None: all) if set, else ``fallback``."""
        return fallback if self.default_days is _UNSET else self.default_days

    def with_config(self, config: Any) -> ChatSettings:
        return attrs.evolve(self, config=config)
