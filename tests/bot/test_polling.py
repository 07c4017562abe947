"""Our own long polling: Bot API faults are waited out, the offset only moves past commits."""

from __future__ import annotations

from typing import Any

import pytest

GROUP = -3001


# PTB warns about retry_after's future type while building the RetryAfter error.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_polling_rides_out_5xx_html_and_429(harness: Any, log_lines: Any) -> None:
    api = harness.api
    api.fail_next("getUpdates", 502, "<html><body>Bad Gateway</body></html>")
    api.fail_next(
        "getUpdates",
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 1",
            "parameters": {"retry_after": 1},
        },
    )
    api.fail_next("getUpdates", 500, {"ok": False, "error_code": 500, "description": "Internal"})
    for n in range(5):
        api.send_message(GROUP, 1, f"through the faults {n}")
    await api.wait_until(lambda: harness.store.queries.count_messages(GROUP) == 5, 20, "stored")
    await harness.settle()
    assert api.confirmed == 5 and not api.faults["getUpdates"]
    assert "retry after" not in log_lines.getvalue()  # 429 is waited out, not a failure
    assert log_lines.getvalue().count("polling_failed") == 2  # the 5xx answers; 429 just waits


async def test_each_update_is_committed_before_the_offset_passes_it(harness: Any) -> None:
    api = harness.api
    for n in range(250):  # three pages
        api.send_message(GROUP, 1 + n % 2, f"paged {n}")
    await harness.settle()
    offsets = [p.get("offset") for name, p in api.calls if name == "getUpdates" and p.get("offset")]
    assert offsets == sorted(offsets)  # the offset only moves forward
    assert api.confirmed == 250 and api.redelivered() == 0
    assert harness.store.queries.count_messages(GROUP) == 250
