"""ConfigErrors: many configuration problems reported as one error."""

from __future__ import annotations

from pathlib import Path

import pytest
from tgstats.errors import MAX_PROBLEMS_SHOWN, ConfigError, ConfigErrors


def problem(path: str, line: int, key: str = "k", message: str = "expected a, found b"):
    return ConfigError(message, path=Path(path), line=line, key=key)


def test_lines_are_sorted_by_file_then_line_and_flattened():
    nested = ConfigErrors([problem("b.yaml", 9), problem("a.yaml", 2)])
    error = ConfigErrors([problem("b.yaml", 3), nested, problem("a.yaml", 1)])
    assert error.lines() == [
        "b.yaml:3: k: expected a, found b",
        "b.yaml:9: k: expected a, found b",
        "a.yaml:1: k: expected a, found b",
        "a.yaml:2: k: expected a, found b",
    ]
    assert all(not isinstance(p, ConfigErrors) for p in error.problems)


def test_file_order_puts_the_given_files_first():
    error = ConfigErrors([problem("b.yaml", 1), problem("a.yaml", 1)], file_order=[Path("a.yaml")])
    assert [str(p.path) for p in error.problems] == ["a.yaml", "b.yaml"]


def test_the_same_problem_twice_is_reported_once():
    error = ConfigErrors([problem("a.yaml", 1), problem("a.yaml", 1), problem("a.yaml", 2)])
    assert len(error.problems) == 2


def test_it_is_a_config_error_standing_for_its_first_problem():
    error = ConfigErrors([problem("a.yaml", 5, "x"), problem("a.yaml", 2, "y", "expected c")])
    assert isinstance(error, ConfigError)
    assert (error.path, error.line, error.key, error.message) == (
        Path("a.yaml"),
        2,
        "y",
        "expected c",
    )
    assert str(error) == (
        "2 configuration problems:\na.yaml:2: y: expected c\na.yaml:5: x: expected a, found b"
    )


def test_at_most_fifty_problems_are_shown():
    error = ConfigErrors([problem("a.yaml", n) for n in range(1, 61)])
    lines = error.lines()
    assert MAX_PROBLEMS_SHOWN == 50
    assert len(lines) == 51 and lines[-1] == "... and 10 more"
    assert lines[-2] == "a.yaml:50: k: expected a, found b"
    assert len(error.problems) == 60  # all kept, only the rendering is capped
    assert str(error).splitlines()[0] == "60 configuration problems:"


def test_a_single_config_error_renders_as_before():
    error = problem("a.yaml", 3, "settings.x", "expected a number, found 'y' (str)")
    assert str(error) == "a.yaml:3: settings.x: expected a number, found 'y' (str)"
    assert error.problems == (error,) and error.lines() == [str(error)]


def test_needs_a_problem():
    with pytest.raises(ValueError):
        ConfigErrors([])
