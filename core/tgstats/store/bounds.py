"""Values Telegram can produce, checked before they reach the store.

A date of year 10,000 or an id past 64 bits can only come from a forged
update or a damaged export; stored, it breaks every statistic of its chat
(``year 10000 is out of range``).  Both ways in refuse such values at the
door: the importer with an error naming the field, the live intake by keeping
the update as rejected (``tgstats rejected``).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

__all__ = ["EARLIEST", "FUTURE_SLACK", "MAX_ID", "check_date", "check_id"]

EARLIEST = int(datetime(2013, 1, 1, tzinfo=UTC).timestamp())  # before Telegram existed
FUTURE_SLACK = 86_400  # a day of clock skew is tolerated, no more
MAX_ID = 2**63 - 1  # the store's BIGINT


def check_date(seconds: int, what: str, *, now: float | None = None) -> None:
    """Raise ValueError unless ``seconds`` lies between 2013 and a day from now."""
    latest = int((time.time() if now is None else now) + FUTURE_SLACK)
    if not EARLIEST <= seconds <= latest:
        raise ValueError(
            f"{what}: expected a date between 2013-01-01 and tomorrow, found {seconds} "
            "(Unix seconds)"
        )


def check_id(value: int, what: str) -> None:
    """Raise ValueError unless ``value`` fits the store's 64-bit ids."""
    if not -MAX_ID <= value <= MAX_ID:
        raise ValueError(f"{what}: expected an id that fits in 64 bits, found {value}")
