"""Structured logging: ``[LEVEL] event key=value ...`` on stderr and in a log file.

Event names are part of the user-facing interface (operators
``grep plugin_files_changed logs/tgstats.log``, as the README shows), so modules log
with a fixed event name and put everything variable into key=value pairs.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from pathlib import Path
from typing import Any

import structlog

from tgstats.redaction import redact, register_secret

__all__ = ["DEFAULT_LOG_FILE", "configure_logging", "get_logger"]

DEFAULT_LOG_FILE = Path("logs/tgstats.log")


def get_logger(name: str | None = None, **initial: Any) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name, **initial)


def _renderer() -> structlog.types.Processor:
    """The final ``[LEVEL] event key=value`` line, traceback below, secrets redacted.

    Redacting the rendered text (rather than the message alone) also covers
    key=value pairs and tracebacks: python-telegram-bot and httpx put the
    token in request URLs, and an exception's text may quote them.
    """

    def render(_logger: Any, _name: str, event: structlog.types.EventDict) -> str:
        level = event.pop("level", "info").upper()
        text = event.pop("event", "")
        stamp = event.pop("timestamp", None)
        trace = event.pop("exception", None)
        pairs = " ".join(f"{key}={_format(value)}" for key, value in event.items())
        head = f"{stamp} [{level}] {text}" if stamp else f"[{level}] {text}"
        line = f"{head} {pairs}" if pairs else head
        if trace:
            line = f"{line}\n{trace}"
        return redact(line)

    return render


def _format(value: Any) -> str:
    if isinstance(value, str):
        return value if value and " " not in value and "=" not in value else repr(value)
    return repr(value) if isinstance(value, (list, tuple, dict, set)) else str(value)


def configure_logging(
    *,
    level: int | str = logging.INFO,
    log_file: Path | str | None = None,
    secrets: list[str] | None = None,
    stream: Any = None,
) -> None:
    """Route structlog and stdlib logging to stderr (and ``log_file`` if given).

    Safe to call more than once (tests, ``tgstats run`` after CLI parsing):
    earlier tgstats handlers are replaced, not stacked.
    """
    for secret in secrets or ():
        register_secret(secret)
    if isinstance(level, str):
        level = logging.getLevelName(level.upper())
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="%Y-%m-%dT%H:%M:%S", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _renderer(),
        ],
    )
    handlers: list[logging.Handler] = [logging.StreamHandler(stream or sys.stderr)]
    if log_file is not None:
        path = Path(log_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(
            logging.handlers.RotatingFileHandler(
                path, maxBytes=10 * 1024 * 1024, backupCount=5, encoding="utf-8"
            )
        )
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_tgstats", False)]:
        root.removeHandler(old)
        old.close()
    for handler in handlers:
        handler._tgstats = True  # type: ignore[attr-defined]
        handler.setFormatter(formatter)
        root.addHandler(handler)
    root.setLevel(level)
    # httpx logs every request URL (which contains the token) at INFO; and the
    # poll loop's getUpdates would flood the log. Keep them for debugging only.
    for noisy in ("httpx", "httpcore", "telegram.ext.Updater", "apscheduler"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    if os.environ.get("TGSTATS_LOG_LEVEL"):
        root.setLevel(os.environ["TGSTATS_LOG_LEVEL"].upper())
