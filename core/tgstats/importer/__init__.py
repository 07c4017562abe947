"""Telegram Desktop "Export chat history" (JSON) import, streamed in constant memory.

``import_export(path, store)`` reads single-chat and full-account exports with
ijson and writes them through ``store.bulk()``, one transaction per chat.
"""

from tgstats.importer.convert import ExportFormatError, bot_api_chat_id, sender_id
from tgstats.importer.runner import BATCH_SIZE, ChatResult, ImportReport, import_export

__all__ = [
    "BATCH_SIZE",
    "ChatResult",
    "ExportFormatError",
    "ImportReport",
    "bot_api_chat_id",
    "import_export",
    "sender_id",
]
