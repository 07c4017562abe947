"""Runtime settings of ``tgstats run``: flag > environment variable > default.

Each setting resolves flag first, then its variable, then the default, and the
error for a bad value names where it came from (``--admins`` or ``TGSTATS_ADMINS``).
The token is kept out of ``repr`` so it can never end up in a log line by way
of a settings dump.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

import attrs

from tgstats.config import CONFIG_ENV, default_config_path
from tgstats.errors import ConfigError
from tgstats.logs import DEFAULT_LOG_FILE
from tgstats.pidfile import ENV_PID_FILE
from tgstats.redaction import register_secret
from tgstats.store.database import DEFAULT_DB_URL, ENV_DB

__all__ = [
    "DEFAULT_API_URL",
    "DEFAULT_DB_URL",
    "BotSettings",
    "api_urls",
    "parse_admins",
    "resolve_settings",
]

DEFAULT_API_URL = "https://api.telegram.org/bot"

ENV_TOKEN = "TGSTATS_TOKEN"
ENV_API_URL = "TGSTATS_API_URL"
ENV_ADMINS = "TGSTATS_ADMINS"
ENV_LOG_FILE = "TGSTATS_LOG_FILE"


@attrs.frozen
class BotSettings:
    token: str = attrs.field(repr=False)
    api_url: str
    db_url: str
    plugins_config: Path
    admins: frozenset[int]
    log_file: Path
    pid_file: Path | None = None

    @property
    def base_url(self) -> str:
        return api_urls(self.api_url)[0]

    @property
    def base_file_url(self) -> str:
        return api_urls(self.api_url)[1]


def api_urls(api_url: str) -> tuple[str, str]:
    """(base_url, base_file_url) for python-telegram-bot, which appends the token.

    Accepts the PTB form (``http://host:8081/bot``) and the bare server form
    (``http://host:8081``) a self-hosted Bot API server is usually given as;
    the file URL mirrors it (``.../file/bot``) so downloads hit the same server.
    """
    url = api_url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(
            f"expected an http(s) URL like https://api.telegram.org/bot, found {api_url!r}",
            key=ENV_API_URL,
        )
    if "{token}" in url:
        return url, url.replace("/bot{token}", "/file/bot{token}")
    if not url.endswith("/bot"):
        url += "/bot"
    return url, url[: -len("/bot")] + "/file/bot"


def parse_admins(value: str | None, *, source: str = ENV_ADMINS) -> frozenset[int]:
    """``"1, 2,3"`` -> {1, 2, 3}; anything that is not an integer id is an error."""
    if not value or not value.strip():
        return frozenset()
    admins = set()
    for raw in value.split(","):
        item = raw.strip()
        if not item:
            continue
        try:
            admins.add(int(item))
        except ValueError:
            raise ConfigError(
                f"expected comma-separated Telegram user ids (integers), found {item!r}",
                key=source,
            ) from None
    return frozenset(admins)


def _read_token(token_file: str | None, env: Mapping[str, str]) -> str:
    token = _token_from_file(Path(token_file)) if token_file else env.get(ENV_TOKEN, "").strip()
    if not token:
        raise ConfigError(
            f"no bot token: set {ENV_TOKEN} or pass --token-file PATH (get one from @BotFather)"
        )
    # From here on no log line, error or message of this process can carry it.
    register_secret(token)
    return token


def _token_from_file(path: Path) -> str:
    try:
        mode = path.stat().st_mode
        token = path.read_text(encoding="utf-8").strip()
    except OSError as error:
        raise ConfigError(f"cannot read the token file: {error.strerror}", path=path) from None
    if mode & (stat.S_IRGRP | stat.S_IROTH | stat.S_IWGRP | stat.S_IWOTH):
        # A token others can read is a token others can use: refuse rather than warn.
        raise ConfigError(
            f"the token file must be readable by its owner only: expected mode 600 or 400, "
            f"found {stat.S_IMODE(mode):o} (run: chmod 600 {path})",
            path=path,
        )
    if not token:
        raise ConfigError("the token file is empty", path=path)
    return token


def resolve_settings(
    *,
    token_file: str | None = None,
    api_url: str | None = None,
    db_url: str | None = None,
    plugins_config: str | None = None,
    admins: str | None = None,
    log_file: str | None = None,
    pid_file: str | None = None,
    env: Mapping[str, str] | None = None,
) -> BotSettings:
    """Build the settings from flags (the keyword arguments) over ``env``."""
    env = os.environ if env is None else env
    url = api_url or env.get(ENV_API_URL) or DEFAULT_API_URL
    api_urls(url)  # validate now: a typo should stop the start, not the first request
    admins_source = "--admins" if admins is not None else ENV_ADMINS
    return BotSettings(
        token=_read_token(token_file, env),
        api_url=url,
        db_url=db_url or env.get(ENV_DB) or DEFAULT_DB_URL,
        plugins_config=default_config_path(plugins_config or env.get(CONFIG_ENV)),
        admins=parse_admins(
            admins if admins is not None else env.get(ENV_ADMINS), source=admins_source
        ),
        log_file=Path(log_file or env.get(ENV_LOG_FILE) or DEFAULT_LOG_FILE),
        pid_file=_optional_path(pid_file or env.get(ENV_PID_FILE)),
    )


def _optional_path(value: str | None) -> Path | None:
    return Path(value) if value else None
