"""Inline buttons under a reply, and the handlers that answer a press (re-exported by the SDK).

A reply carries rows of :class:`Button` (``TextReply(..., buttons=[[...]])``).
A button names one of its plugin's ``@button("name")`` handlers and a small
``payload`` string the plugin chooses.  When a member presses it, the host
calls that handler with a :class:`ButtonContext`; the handler returns a new
reply and the host edits the message in place (a picture stays a picture,
text stays text), or returns ``None`` to leave it as it is.

The host turns (plugin, handler, payload) into Telegram's callback data:
``plugin|handler|payload|signature``, at most 64 bytes, signed for the chat
the message is in, so the data survives reloads and restarts and a forged or
altered press is recognised and ignored.  A button that does not fit is the
plugin's error, reported at reply time with the plugin's name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from tgstats.plugins._settings import ChatSettings

if TYPE_CHECKING:
    import telegram

    from tgstats.store.queries import MessageQueries

__all__ = [
    "Button",
    "ButtonContext",
    "ButtonSpec",
    "Keyboard",
    "button",
    "keyboard",
]

_BUTTON_ATTR = "__tgstats_button__"
# Handler names travel in every press: short, and never the separator.
_HANDLER_NAME = re.compile(r"[a-z0-9_]{1,16}")
MAX_LABEL = 64  # Telegram shows about 20 characters on a phone anyway

F = TypeVar("F", bound=Callable[..., Any])


@attrs.frozen
class Button:
    """One inline button: the ``label`` shown, the ``handler`` it calls and its ``payload``."""

    label: str
    handler: str
    payload: str = ""

    def __attrs_post_init__(self) -> None:
        if not self.label.strip() or len(self.label) > MAX_LABEL:
            raise ValueError(f"button label {self.label!r}: expected 1-{MAX_LABEL} characters")
        if not _HANDLER_NAME.fullmatch(self.handler):
            raise ValueError(
                f"button {self.label!r}: handler {self.handler!r}: expected 1-16 lowercase "
                "letters, digits or _"
            )


Keyboard = tuple[tuple[Button, ...], ...]


def keyboard(rows: Iterable[Iterable[Button]] | None) -> Keyboard:
    """Rows of buttons as the immutable tuple replies keep (empty rows dropped)."""
    if rows is None:
        return ()
    out = tuple(tuple(row) for row in rows)
    for row in out:
        for item in row:
            if not isinstance(item, Button):
                raise TypeError(f"expected Button in a keyboard row, got {type(item).__name__}")
    return tuple(row for row in out if row)


@attrs.frozen
class ButtonSpec:
    """A plugin's handler for its buttons named ``name``."""

    name: str
    method: str  # attribute name on the plugin class


@attrs.frozen(kw_only=True)
class ButtonContext:
    """What a button handler gets: the press, the message under it, and the store.

    ``user_id`` is the member who pressed (not the one who sent the command);
    ``message_id`` is the bot's message the button is under, which the host
    edits with the handler's reply.  ``update`` is the python-telegram-bot
    Update, ``None`` in tests and the demo.
    """

    button: str  # the handler name
    payload: str
    chat_id: int
    chat_title: str | None
    user_id: int | None
    message_id: int | None
    now: datetime
    store: MessageQueries
    update: telegram.Update | None = None
    # The chat's effective settings, as for the command (see ChatSettings).
    settings: ChatSettings = attrs.field(factory=ChatSettings)
    language: str = "en"  # the presser's (or the chat's) language, as on CommandContext


def button(name: str) -> Callable[[F], F]:
    """Mark a plugin method as the handler of its buttons whose ``handler`` is ``name``.

    The method takes a :class:`ButtonContext` and returns a reply (the host
    edits the message in place) or ``None`` (the message stays).  Anyone who
    may use the plugin's commands in the chat may press its buttons.
    """
    if not _HANDLER_NAME.fullmatch(name):
        raise ValueError(f"button name {name!r}: expected 1-16 lowercase letters, digits or _")

    def mark(func: F) -> F:
        setattr(func, _BUTTON_ATTR, name)
        return func

    return mark


def button_name(value: Any) -> str | None:
    """The name ``value`` was marked with by :func:`button`, if any (host use)."""
    marked = getattr(value, _BUTTON_ATTR, None)
    return marked if isinstance(marked, str) else None
