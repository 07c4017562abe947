"""The shared `[N days | all] [@user]` arguments and the calendar-day periods of the SDK."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import attrs
import pytest
from tgstats.plugins import (
    MAX_DAYS,
    CommandContext,
    Period,
    PeriodRequest,
    PeriodUsageError,
    check_chat_zones,
    parse_period_args,
    parse_zone,
    period_start,
    resolve_period,
)
from tgstats.testing import utc


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((), PeriodRequest(days=30, username=None)),
        (("7",), PeriodRequest(days=7, username=None)),
        (("7d",), PeriodRequest(days=7, username=None)),
        (("7D",), PeriodRequest(days=7, username=None)),
        (("90", "days"), PeriodRequest(days=90, username=None)),
        (("1", "day"), PeriodRequest(days=1, username=None)),
        (("all",), PeriodRequest(days=None, username=None)),
        (("ALL", "@Bob_1"), PeriodRequest(days=None, username="Bob_1")),
        (("@bob", "14d"), PeriodRequest(days=14, username="bob")),
        ((str(MAX_DAYS),), PeriodRequest(days=MAX_DAYS, username=None)),
    ],
)
def test_accepted_spellings(args, expected):
    assert parse_period_args(args, command="heatmap", default_days=30) == expected


@pytest.mark.parametrize(
    "args",
    [("banana",), ("7", "weeks"), ("7", "7"), ("all", "30"), ("@a", "@b"), ("@",), ("-3",)],
)
def test_bad_arguments_get_the_usage_line(args):
    with pytest.raises(PeriodUsageError) as error:
        parse_period_args(args, command="/heatmap", default_days=30)
    assert str(error.value) == "Usage: /heatmap [N days | all] [@user]"


def test_out_of_range_and_no_user_allowed():
    with pytest.raises(PeriodUsageError, match="between 1 and 36500 days, not 0"):
        parse_period_args(("0",), command="heatmap", default_days=30)
    with pytest.raises(PeriodUsageError, match=r"^Usage: /engagement \[N days \| all\]$"):
        parse_period_args(("@bob",), command="engagement", default_days=30, allow_user=False)


def test_labels():
    assert Period(since=None, until=None, days=None).label == "all time"
    assert Period(since=None, until=None, days=1).label == "last day"
    assert Period(since=None, until=None, days=30).label == "last 30 days"


def test_zones():
    assert parse_zone("Asia/Kolkata", key="timezone").key == "Asia/Kolkata"
    for bad in ("Mars/Olympus", "", "../etc/passwd"):
        with pytest.raises(ValueError, match="timezone"):
            parse_zone(bad, key="timezone")


@pytest.mark.parametrize(
    ("now", "days", "zone", "expected"),
    [
        # 30 days = today and the 29 days before it, from local midnight.
        ("2026-03-31 21:00", 30, "UTC", "2026-03-02 00:00"),
        ("2026-03-31 21:00", 1, "UTC", "2026-03-31 00:00"),
        # 23:00 in Berlin (summer time since 29 March): today began at 22:00 UTC.
        ("2026-03-31 21:00", 1, "Europe/Berlin", "2026-03-30 22:00"),
        # 2 March in Berlin is still winter time: its midnight is 23:00 UTC on 1 March.
        ("2026-03-31 21:00", 30, "Europe/Berlin", "2026-03-01 23:00"),
        # In Kolkata it is already 02:30 on 1 April.
        ("2026-03-31 21:00", 7, "Asia/Kolkata", "2026-03-25 18:30"),
    ],
)
def test_a_period_is_calendar_days_in_the_chats_zone(
    now: str, days: int, zone: str, expected: str
) -> None:
    start = period_start(utc(now), days, ZoneInfo(zone))
    assert start == utc(expected)
    local = start.astimezone(ZoneInfo(zone))
    assert (local.hour, local.minute) == (0, 0)


def _context(*args: str) -> CommandContext:
    # No @user in the arguments, so the store is never asked.
    return CommandContext(
        command="heatmap",
        args=args,
        chat_id=-1001,
        chat_title="Test group",
        user_id=1,
        now=utc("2026-03-31 21:00"),
        store=None,  # type: ignore[arg-type]
    )


def test_resolve_period_measures_from_local_midnight() -> None:
    period = resolve_period(_context("7"), default_days=30, zone=ZoneInfo("Europe/Berlin"))
    assert isinstance(period, Period)
    assert period.days == 7
    assert period.since == utc("2026-03-24 23:00")  # 25 March, 00:00 in Berlin (winter time)
    everything = resolve_period(_context("all"), default_days=30)
    assert isinstance(everything, Period) and everything.since is None


# -- hostile arguments: bounded before any conversion, answered with the usage line -----


def test_a_5000_digit_period_gets_the_range_reply_not_an_internal_error():
    with pytest.raises(PeriodUsageError) as raised:
        parse_period_args(("9" * 5000,), command="wordcloud", default_days=30)
    assert str(raised.value) == "Usage: /wordcloud [N days | all] [@user]"
    # A long number that still fits in a word is not converted either.
    with pytest.raises(PeriodUsageError) as raised:
        parse_period_args(("9" * 60,), command="wordcloud", default_days=30)
    assert str(raised.value) == (
        f"The period must be between 1 and {MAX_DAYS} days, not 99999999…. "
        "Usage: /wordcloud [N days | all] [@user]"
    )
    with pytest.raises(PeriodUsageError, match=r"not 100000\."):
        parse_period_args(("100000",), command="wordcloud", default_days=30)


@pytest.mark.parametrize(
    "args",
    [
        ("1",) * 4,  # more words than "30 days @user"
        ("all",) * 100_000,
        ("x" * 100_000,),
        ("@" + "a" * 65,),
        ("30", "days", "@bob", "extra"),
        ("٣٠" * 40,),  # Arabic-Indic digits: short ones are numbers, long ones are not
        ("30\x00",),
        ("-5",),
        ("1e3",),
        ("0",),
        ("30dd",),
    ],
)
def test_odd_argument_lists_get_the_usage_line(args):
    with pytest.raises(PeriodUsageError) as raised:
        parse_period_args(args, command="heatmap", default_days=30)
    assert "Usage: /heatmap [N days | all] [@user]" in str(raised.value)
    assert len(str(raised.value)) < 200  # never the argument quoted back


@attrs.frozen
class ZonesConfig:
    chat_timezones: dict[str, str] = attrs.field(factory=dict, validator=check_chat_zones)


def test_chat_timezones_key_is_checked_before_int():
    Config = ZonesConfig
    with pytest.raises(ValueError, match=r"expected chat ids as keys") as raised:
        Config(chat_timezones={"9" * 5000: "UTC"})
    assert len(str(raised.value)) < 200
    assert Config(chat_timezones={"-1001234567890": "UTC"}).chat_timezones
