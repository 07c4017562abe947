"""`tgstats run` settings: flag > environment > default, and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from tgstats.bot.settings import api_urls, parse_admins, resolve_settings
from tgstats.errors import ConfigError

TOKEN = "123:abc"


def test_environment_is_read() -> None:
    settings = resolve_settings(
        env={
            "TGSTATS_TOKEN": TOKEN,
            "TGSTATS_API_URL": "http://127.0.0.1:8081",
            "TGSTATS_DB": "sqlite:///x.db",
            "TGSTATS_PLUGINS_CONFIG": "/etc/tgstats/plugins.yaml",
            "TGSTATS_ADMINS": "1, 2,3",
            "TGSTATS_LOG_FILE": "/tmp/tg.log",
        }
    )
    assert settings.token == TOKEN
    assert settings.base_url == "http://127.0.0.1:8081/bot"
    assert settings.base_file_url == "http://127.0.0.1:8081/file/bot"
    assert settings.db_url == "sqlite:///x.db"
    assert settings.plugins_config == Path("/etc/tgstats/plugins.yaml")
    assert settings.admins == {1, 2, 3}
    assert settings.log_file == Path("/tmp/tg.log")
    assert TOKEN not in repr(settings)


def test_flags_win_over_environment(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(" 999:from-file \n")
    token_file.chmod(0o600)
    settings = resolve_settings(
        token_file=str(token_file),
        api_url="https://example.org/bot",
        db_url="sqlite:///flag.db",
        admins="7",
        log_file="flag.log",
        env={"TGSTATS_TOKEN": TOKEN, "TGSTATS_DB": "sqlite:///env.db", "TGSTATS_ADMINS": "1"},
    )
    assert settings.token == "999:from-file"
    assert settings.db_url == "sqlite:///flag.db"
    assert settings.admins == {7}
    assert settings.log_file == Path("flag.log")


def test_defaults() -> None:
    settings = resolve_settings(env={"TGSTATS_TOKEN": TOKEN})
    assert settings.base_url == "https://api.telegram.org/bot"
    assert settings.base_file_url == "https://api.telegram.org/file/bot"
    assert settings.db_url in ("sqlite:///tgstats.db",) or settings.db_url.startswith("sqlite")
    assert settings.admins == frozenset()
    assert settings.log_file == Path("logs/tgstats.log")


def test_missing_token_is_one_clear_line() -> None:
    with pytest.raises(ConfigError, match="TGSTATS_TOKEN") as error:
        resolve_settings(env={})
    assert "\n" not in str(error.value)


def test_unreadable_token_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="token"):
        resolve_settings(token_file=str(tmp_path / "nope"), env={})
    empty = tmp_path / "empty"
    empty.write_text("\n")
    empty.chmod(0o600)
    with pytest.raises(ConfigError, match=r"empty.*empty|token file is empty"):
        resolve_settings(token_file=str(empty), env={})


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620])
def test_a_token_file_others_can_read_is_refused(tmp_path: Path, mode: int) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("999:from-file\n")
    token_file.chmod(mode)
    with pytest.raises(ConfigError) as error:
        resolve_settings(token_file=str(token_file), env={})
    message = str(error.value)
    assert message.startswith(f"{token_file}: the token file must be readable by its owner only")
    assert f"found {mode:o}" in message
    assert "from-file" not in message


@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_an_owner_only_token_file_is_read(tmp_path: Path, mode: int) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("999:from-file\n")
    token_file.chmod(mode)
    assert resolve_settings(token_file=str(token_file), env={}).token == "999:from-file"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("", set()), ("42", {42}), ("1,2", {1, 2}), (" 1 , -5 ,", {1, -5})],
)
def test_parse_admins(value: str, expected: set[int]) -> None:
    assert parse_admins(value) == expected


def test_bad_admins_names_variable_and_value() -> None:
    with pytest.raises(ConfigError, match=r"TGSTATS_ADMINS.*'@alice'"):
        resolve_settings(env={"TGSTATS_TOKEN": TOKEN, "TGSTATS_ADMINS": "1,@alice"})
    with pytest.raises(ConfigError, match=r"--admins.*'x'"):
        resolve_settings(admins="x", env={"TGSTATS_TOKEN": TOKEN})


@pytest.mark.parametrize(
    ("url", "base", "files"),
    [
        (
            "https://api.telegram.org/bot",
            "https://api.telegram.org/bot",
            "https://api.telegram.org/file/bot",
        ),
        ("http://localhost:8081/", "http://localhost:8081/bot", "http://localhost:8081/file/bot"),
        (
            "http://h/custom/bot{token}",
            "http://h/custom/bot{token}",
            "http://h/custom/file/bot{token}",
        ),
    ],
)
def test_api_urls(url: str, base: str, files: str) -> None:
    assert api_urls(url) == (base, files)


def test_bad_api_url() -> None:
    with pytest.raises(ConfigError, match=r"TGSTATS_API_URL.*ftp://x"):
        resolve_settings(env={"TGSTATS_TOKEN": TOKEN, "TGSTATS_API_URL": "ftp://x"})
