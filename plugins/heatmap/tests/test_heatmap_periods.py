"""The shared ``[N days | all] [@user]`` parser (tgstats.plugins._periods) the analytics use."""

from __future__ import annotations

import pytest
from tgstats.plugins import (
    MAX_DAYS,
    Period,
    PeriodRequest,
    PeriodUsageError,
    parse_period_args,
    parse_zone,
)


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
