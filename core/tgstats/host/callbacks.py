"""Callback data of inline buttons: namespaced, signed, at most 64 bytes.

Wire format (UTF-8)::

    namespace|handler|payload|signature

``namespace`` is the plugin's name (the entry-point name, stable across
reloads and restarts) or the empty string for the host's own buttons;
``handler`` names a ``@button`` handler; ``payload`` is the plugin's string
(it may contain ``|``: namespace and handler are split from the left, the
signature from the right).  ``signature`` is the first 8 bytes (64 bits) of
HMAC-SHA256 over the chat id and the three fields, under a key kept in the
store (:mod:`tgstats.store.secrets`), in URL-safe base64 (11 characters).

Binding the chat into the signature means a button's data is only accepted
in the chat it was sent to, and anything a client makes up (or a button of
another bot with the same layout) fails the check.  64 bits are plenty here:
a forger gets one guess per press, each answered with a refusal.

This module knows nothing about python-telegram-bot.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

import attrs

from tgstats.errors import PluginError

__all__ = [
    "HOST_NAMESPACE",
    "MAX_CALLBACK_BYTES",
    "ButtonDataError",
    "CallbackCodec",
    "Decoded",
    "payload_room",
]

MAX_CALLBACK_BYTES = 64  # Telegram's limit on callback_data
HOST_NAMESPACE = ""  # no plugin can have an empty name
_SEP = "|"
_SIG_BYTES = 8
_SIG_CHARS = 11  # base64url of 8 bytes, unpadded


class ButtonDataError(PluginError):
    """A button whose callback data cannot be made: too long, or a name that cannot be sent."""


@attrs.frozen
class Decoded:
    """A press whose data passed the signature check."""

    namespace: str
    handler: str
    payload: str


def payload_room(namespace: str, handler: str) -> int:
    """How many payload bytes a button of ``namespace``/``handler`` can carry."""
    fixed = len(f"{namespace}{_SEP}{handler}{_SEP}{_SEP}".encode()) + _SIG_CHARS
    return MAX_CALLBACK_BYTES - fixed


class CallbackCodec:
    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the button key must be at least 16 bytes")
        self._key = key

    def encode(self, namespace: str, handler: str, payload: str, chat_id: int) -> str:
        """The callback data, or ButtonDataError naming the plugin and what does not fit."""
        if _SEP in namespace or _SEP in handler:
            raise ButtonDataError(
                namespace or "host", f"button handler {handler!r} may not contain {_SEP!r}"
            )
        body = f"{namespace}{_SEP}{handler}{_SEP}{payload}"
        data = f"{body}{_SEP}{self._sign(body, chat_id)}"
        size = len(data.encode("utf-8"))
        if size > MAX_CALLBACK_BYTES:
            room = MAX_CALLBACK_BYTES - (size - len(payload.encode("utf-8")))
            raise ButtonDataError(
                namespace or "host",
                f"button {handler!r} payload {payload[:40]!r} makes {size} bytes of "
                f"callback data; Telegram allows {MAX_CALLBACK_BYTES}, so this payload may "
                f"have at most {max(room, 0)} bytes",
            )
        return data

    def decode(self, data: object, chat_id: int) -> Decoded | str:
        """The checked fields, or why the data is refused (malformed, forged, other chat)."""
        if not isinstance(data, str):
            return "no callback data"
        if len(data.encode("utf-8", "surrogatepass")) > MAX_CALLBACK_BYTES:
            return "callback data over 64 bytes"
        body, sep, signature = data.rpartition(_SEP)
        if not sep or len(signature) != _SIG_CHARS:
            return "malformed callback data"
        namespace, sep1, rest = body.partition(_SEP)
        handler, sep2, payload = rest.partition(_SEP)
        if not (sep1 and sep2 and handler):
            return "malformed callback data"
        if not hmac.compare_digest(signature, self._sign(body, chat_id)):
            return "bad signature (forged, altered or from another chat)"
        return Decoded(namespace, handler, payload)

    def _sign(self, body: str, chat_id: int) -> str:
        message = f"{chat_id}{_SEP}{body}".encode("utf-8", "surrogatepass")
        digest = hmac.new(self._key, message, hashlib.sha256).digest()[:_SIG_BYTES]
        return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")
