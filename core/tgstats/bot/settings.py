"""Runtime settings of ``tgstats run``: flag > environment variable > default.

Each setting resolves flag first, then its variable, then the default, and the
error for a bad value names where it came from (``--admins`` or ``TGSTATS_ADMINS``).
The token is kept out of ``repr`` so it can never end up in a log line by way
of a settings dump.
"""

from __future__ import annotations

import os
import re
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
    "WebhookSettings",
    "api_urls",
    "parse_admins",
    "resolve_settings",
    "resolve_webhook",
]

DEFAULT_API_URL = "https://api.telegram.org/bot"

ENV_TOKEN = "TGSTATS_TOKEN"
ENV_API_URL = "TGSTATS_API_URL"
ENV_ADMINS = "TGSTATS_ADMINS"
ENV_LOG_FILE = "TGSTATS_LOG_FILE"
ENV_WEBHOOK_URL = "TGSTATS_WEBHOOK_URL"
ENV_WEBHOOK_LISTEN = "TGSTATS_WEBHOOK_LISTEN"
ENV_WEBHOOK_SECRET_FILE = "TGSTATS_WEBHOOK_SECRET_FILE"
ENV_WEBHOOK_MAX_CONNECTIONS = "TGSTATS_WEBHOOK_MAX_CONNECTIONS"

# Behind a reverse proxy on the same host: never exposed directly.
DEFAULT_WEBHOOK_LISTEN = "127.0.0.1:8080"
# Telegram's own default; it allows 1-100 simultaneous connections per bot.
DEFAULT_WEBHOOK_MAX_CONNECTIONS = 40
# What Telegram accepts as secret_token (setWebhook): 1-256 of these characters.
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
_SECRET_HINT = (
    "create one with: python -c 'import secrets; print(secrets.token_urlsafe(32))' > FILE"
)


@attrs.frozen
class WebhookSettings:
    """Webhook mode (``--webhook-url``): where Telegram posts and where we listen.

    ``url`` is the public HTTPS address Telegram posts to (the reverse proxy);
    the server serves that URL's path on ``host:port``.  Every worker behind
    one proxy has the same url and secret and its own ``port``.
    """

    url: str
    host: str
    port: int
    secret: str = attrs.field(repr=False)
    max_connections: int = DEFAULT_WEBHOOK_MAX_CONNECTIONS

    @property
    def path(self) -> str:
        return urlsplit(self.url).path or "/"


@attrs.frozen
class BotSettings:
    token: str = attrs.field(repr=False)
    api_url: str
    db_url: str
    plugins_config: Path
    admins: frozenset[int]
    log_file: Path
    pid_file: Path | None = None
    webhook: WebhookSettings | None = None  # None: long polling (the default)

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
    webhook_url: str | None = None,
    webhook_listen: str | None = None,
    webhook_secret_file: str | None = None,
    webhook_max_connections: str | None = None,
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
        webhook=resolve_webhook(
            url=webhook_url,
            listen=webhook_listen,
            secret_file=webhook_secret_file,
            max_connections=webhook_max_connections,
            env=env,
        ),
    )


def resolve_webhook(
    *,
    url: str | None = None,
    listen: str | None = None,
    secret_file: str | None = None,
    max_connections: str | None = None,
    env: Mapping[str, str],
) -> WebhookSettings | None:
    """The webhook settings, or None (long polling) when no webhook URL is given.

    A secret is required: without it anyone who learns the URL could post
    fake updates into the statistics.
    """
    url_source = "--webhook-url" if url else ENV_WEBHOOK_URL
    url = url or env.get(ENV_WEBHOOK_URL)
    if not url:
        given = [
            flag
            for flag, value in (
                ("--listen", listen),
                ("--webhook-secret-file", secret_file),
                ("--webhook-max-connections", max_connections),
            )
            if value
        ]
        if given:
            # A typo'd or forgotten --webhook-url would otherwise poll silently.
            raise ConfigError(
                f"{', '.join(given)} only apply to webhook mode: give --webhook-url URL "
                f"(or {ENV_WEBHOOK_URL}) too"
            )
        return None
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"expected the public URL Telegram posts to, like https://bot.example.org/tgstats, "
            f"found {url!r}",
            key=url_source,
        )
    listen_source = "--listen" if listen else ENV_WEBHOOK_LISTEN
    host, port = parse_listen(
        listen or env.get(ENV_WEBHOOK_LISTEN) or DEFAULT_WEBHOOK_LISTEN, source=listen_source
    )
    connections_source = (
        "--webhook-max-connections" if max_connections else ENV_WEBHOOK_MAX_CONNECTIONS
    )
    return WebhookSettings(
        url=url.strip(),
        host=host,
        port=port,
        secret=_read_secret(secret_file or env.get(ENV_WEBHOOK_SECRET_FILE), secret_file),
        max_connections=_max_connections(
            max_connections or env.get(ENV_WEBHOOK_MAX_CONNECTIONS), source=connections_source
        ),
    )


def parse_listen(value: str, *, source: str = ENV_WEBHOOK_LISTEN) -> tuple[str, int]:
    """``"HOST:PORT"`` (``[::1]:8080`` for IPv6) or a bare ``"PORT"`` -> (host, port)."""
    text = value.strip()
    host, sep, port_text = text.rpartition(":")
    if not sep:
        host, port_text = "127.0.0.1", text
    host = host.strip("[]") or "127.0.0.1"
    try:
        port = int(port_text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise ConfigError(
            f"expected HOST:PORT to listen on, like 127.0.0.1:8080, found {value!r}", key=source
        )
    return host, port


def _read_secret(secret_file: str | None, flag: str | None) -> str:
    source = "--webhook-secret-file" if flag else ENV_WEBHOOK_SECRET_FILE
    if not secret_file:
        raise ConfigError(
            f"webhook mode needs a secret token file ({source}; the same file for every "
            f"worker): {_SECRET_HINT}"
        )
    path = Path(secret_file)
    try:
        secret = path.read_text(encoding="utf-8").strip()
    except OSError as error:
        raise ConfigError(
            f"cannot read the webhook secret file: {error.strerror}", path=path
        ) from None
    if not _SECRET_TOKEN.fullmatch(secret):
        # Never quote the secret itself: the message goes to the console and the log.
        found = "an empty file" if not secret else f"{len(secret)} characters"
        if secret and len(secret) <= 256:
            found += " with others among them"
        raise ConfigError(
            "expected 1-256 characters A-Z, a-z, 0-9, _ or - (Telegram's secret_token), "
            f"found {found}; {_SECRET_HINT}",
            path=path,
        )
    return secret


def _max_connections(value: str | None, *, source: str) -> int:
    if value is None or not value.strip():
        return DEFAULT_WEBHOOK_MAX_CONNECTIONS
    try:
        number = int(value)
    except ValueError:
        number = 0
    if not 1 <= number <= 100:
        raise ConfigError(
            f"expected a number of connections from 1 to 100 (Telegram's limit), found {value!r}",
            key=source,
        )
    return number


def _optional_path(value: str | None) -> Path | None:
    return Path(value) if value else None
