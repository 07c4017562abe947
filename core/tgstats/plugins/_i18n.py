"""Replies in the chat's language: gettext catalogs, ``_()``, plurals, numbers and dates.

Each package ships its translations as gettext ``.po`` files (package data),
in the standard layout ``<package>/locale/<lang>/LC_MESSAGES/<domain>.po``;
the domain is the package's name (``tgstats`` for the host,
``tgstats_heatmap`` for the heatmap plugin).  There are no ``.mo`` files: a
catalog is compiled in memory with Babel when its plugin loads (each reload
of the plugin reads its ``.po`` files again) and kept with the plugin class.

Which language a handler speaks is decided by the host once per command or
press (:func:`resolve_language`) and held in a :class:`~contextvars.ContextVar`
around the handler call, so ``_()`` needs no argument: a plain ``def``
handler runs through ``asyncio.to_thread``, which copies the context, and two
chats served at the same time each see their own language.  Threads a plugin
starts itself do not inherit it (pass the text, or use
``contextvars.copy_context().run``).
"""

from __future__ import annotations

import gettext
import io
import re
import string
import sys
import weakref
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
from babel import Locale, UnknownLocaleError
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import PoFileError, read_po

from tgstats.errors import TgstatsError

__all__ = [
    "DEFAULT_LANGUAGE",
    "HOST_DOMAIN",
    "N_",
    "CatalogError",
    "Catalogs",
    "_",
    "available_languages",
    "catalogs_for",
    "current_language",
    "format_date",
    "format_datetime",
    "format_number",
    "format_percent",
    "host_catalogs",
    "host_gettext",
    "host_ngettext",
    "load_catalogs",
    "load_plugin_catalogs",
    "ngettext",
    "normalize_language",
    "resolve_language",
    "translate",
    "translate_plural",
    "use_language",
]

DEFAULT_LANGUAGE = "en"  # the language the source strings are written in
HOST_DOMAIN = "tgstats"
LOCALE_DIR = "locale"
MAX_PO_BYTES = 2 * 1024 * 1024  # a catalog is a few KB; refuse anything absurd before parsing
# BCP 47 as Telegram sends it ("en", "pt-br", "zh-hans"), bounded before Babel sees it.
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,8}(?:[-_][A-Za-z0-9]{1,8}){0,3}")
_LANGUAGE_DIR = re.compile(r"[a-z]{2,3}(?:_[A-Za-z0-9]{2,8}){0,2}")


class CatalogError(TgstatsError):
    """A ``.po`` file that cannot be used, with its file and line."""

    def __init__(self, file: Path, line: int | None, message: str) -> None:
        where = f"{file}:{line}" if line is not None else str(file)
        super().__init__(f"{where}: {message}")
        self.file = file
        self.line = line
        self.message = message


class Catalogs:
    """One domain's translations, by language; English (the source strings) needs none."""

    def __init__(self, domain: str, compiled: dict[str, bytes]) -> None:
        self.domain = domain
        self._compiled = compiled  # language -> .mo bytes, made in memory
        self._chains: dict[str, gettext.NullTranslations] = {}

    @property
    def languages(self) -> frozenset[str]:
        """The languages with a catalog (``en`` is always spoken, catalog or not)."""
        return frozenset(self._compiled) | {DEFAULT_LANGUAGE}

    def translation(self, language: str) -> gettext.NullTranslations:
        """``pt_BR``'s catalog falling back to ``pt``'s, then to the English source strings."""
        chain = self._chains.get(language)
        if chain is None:
            chain = gettext.NullTranslations()
            for code in reversed(_candidates(language)):
                mo = self._compiled.get(code)
                if mo is not None:
                    # A new object per chain: add_fallback changes the one it is called on.
                    layer = gettext.GNUTranslations(io.BytesIO(mo))
                    layer.add_fallback(chain)
                    chain = layer
            # dict assignment is atomic; two threads building the same chain is harmless.
            self._chains[language] = chain
        return chain


def _candidates(language: str) -> list[str]:
    """``pt_BR`` -> [``pt_BR``, ``pt``]; ``zh_Hans_CN`` -> [``zh_Hans_CN``, ``zh_Hans``, ``zh``]."""
    parts = language.split("_")
    return ["_".join(parts[:i]) for i in range(len(parts), 0, -1)]


# -- loading -------------------------------------------------------------------------------------


def load_catalogs(locale_dir: Path, domain: str) -> Catalogs:
    """Read every ``<locale_dir>/<lang>/LC_MESSAGES/<domain>.po`` (CatalogError on a bad one)."""
    compiled: dict[str, bytes] = {}
    if locale_dir.is_dir():
        for po in sorted(locale_dir.glob(f"*/LC_MESSAGES/{domain}.po")):
            language = po.parent.parent.name
            if not _LANGUAGE_DIR.fullmatch(language):
                raise CatalogError(po, None, f"folder {language!r} is not a language code")
            compiled[language] = _compile(po, language, domain)
    catalogs = Catalogs(domain, compiled)
    _known[domain] = catalogs.languages
    return catalogs


def _compile(po: Path, language: str, domain: str) -> bytes:
    size = po.stat().st_size
    if size > MAX_PO_BYTES:
        raise CatalogError(po, None, f"{size} bytes; a catalog may have at most {MAX_PO_BYTES}")
    data = po.read_bytes()
    _check_quotes(po, data)
    try:
        catalog = read_po(io.BytesIO(data), locale=language, domain=domain, abort_invalid=True)
    except PoFileError as error:  # its lineno (also in its message) counts from 0
        message = re.sub(r" on [0-9]+$", "", str(error.args[0]))
        raise CatalogError(po, error.lineno + 1, f"{message}: {error.line.strip()!r}") from error
    except (UnknownLocaleError, ValueError, UnicodeDecodeError) as error:
        raise CatalogError(po, None, f"{type(error).__name__}: {error}") from error
    _check_placeholders(po, catalog)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)  # fuzzy entries are drafts: English until reviewed
    return buffer.getvalue()


_QUOTED = re.compile(r'(?:msg[a-z_]+(?:\[[0-9]+\])?[ \t]+)?"(?:[^"\\]|\\.)*"[ \t]*')


def _check_quotes(po: Path, data: bytes) -> None:
    """Every string line is one closed quoted string.

    Babel's reader silently cuts an unterminated ``"Hello`` to ``Hell``; a
    translator's typo must be an error at its line instead.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        bad_line = data[: error.start].count(b"\n") + 1
        raise CatalogError(po, bad_line, "not UTF-8 (save the catalog as UTF-8)") from error
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith(("msg", '"')) and not _QUOTED.fullmatch(stripped):
            raise CatalogError(po, number, f"expected one closed quoted string: {stripped[:80]!r}")


def _check_placeholders(po: Path, catalog: Catalog) -> None:
    """A translation may use only the ``{fields}`` of its English text.

    Otherwise ``_("{n} days").format(n=7)`` would raise KeyError in that one
    language, at a user's command; here it fails the plugin's load instead,
    naming the line, and the previous version keeps serving.
    """
    for message in catalog:
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple | list) else (message.id,)
        strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
        allowed = set().union(*(_fields(po, message.lineno, text) for text in ids))
        for text in strings:
            extra = _fields(po, message.lineno, text) - allowed
            if extra:
                raise CatalogError(
                    po,
                    message.lineno,
                    f"translation of {ids[0][:60]!r} uses {sorted(extra)}, which the English "
                    f"text does not have (it has {sorted(allowed) or 'none'})",
                )


def _fields(po: Path, line: int | None, text: str) -> set[str]:
    try:
        return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}
    except ValueError as error:  # "{" without "}": format() would raise at reply time
        raise CatalogError(po, line, f"{text[:60]!r}: {error}") from error


_plugin_catalogs: weakref.WeakKeyDictionary[type, Catalogs] = weakref.WeakKeyDictionary()
_known: dict[str, frozenset[str]] = {}  # domain -> its languages, for resolve_language
_host: Catalogs | None = None


def host_catalogs() -> Catalogs:
    """The host's own catalog (domain ``tgstats``), read once."""
    global _host
    if _host is None:
        _host = load_catalogs(Path(__file__).resolve().parent.parent / LOCALE_DIR, HOST_DOMAIN)
    return _host


def load_plugin_catalogs(plugin_cls: type) -> Catalogs:
    """Read the catalogs of ``plugin_cls``'s package now (the host does it at each load).

    The domain is the plugin's top-level package; a reload imports a new
    class, so it reads the ``.po`` files again.
    """
    package = plugin_cls.__module__.partition(".")[0]
    module = sys.modules.get(package)
    file = getattr(module, "__file__", None)
    if file is None:
        catalogs = Catalogs(package, {})
    else:
        catalogs = load_catalogs(Path(file).resolve().parent / LOCALE_DIR, package)
    _plugin_catalogs[plugin_cls] = catalogs
    return catalogs


def catalogs_for(plugin_cls: type) -> Catalogs:
    """The catalogs loaded for ``plugin_cls`` (read on first use if the host has not)."""
    found = _plugin_catalogs.get(plugin_cls)
    return found if found is not None else load_plugin_catalogs(plugin_cls)


# -- which language --------------------------------------------------------------------------------


def normalize_language(code: str | None) -> str | None:
    """``pt-br`` -> ``pt_BR``; None for an empty, malformed or unknown code."""
    if not code or not _LANGUAGE_TAG.fullmatch(code):
        return None
    try:
        return str(Locale.parse(code.replace("-", "_")))
    except (ValueError, UnknownLocaleError):
        return None


def available_languages() -> frozenset[str]:
    """Languages the host or any loaded plugin has a catalog for (and English)."""
    host_catalogs()
    return frozenset().union(*_known.values())


def resolve_language(
    chat_language: str | None,
    user_language: str | None,
    *,
    available: Collection[str] | None = None,
) -> str:
    """The language to answer in: the chat's setting, else the member's, else English.

    ``user_language`` is Telegram's ``language_code`` of whoever sent the
    command or pressed the button.  A chat that chose a language gets it (or
    English, if nobody translated it); a member's language is used when a
    catalog covers it or its base language (``pt-br`` is answered in
    Portuguese, Brazilian numbers).  The result is a Babel locale name.
    """
    known = available_languages() if available is None else frozenset(available)
    for candidate in (chat_language, user_language):
        if candidate is None:
            continue
        code = normalize_language(candidate)
        if code is not None and any(part in known for part in _candidates(code)):
            return code
        if candidate is chat_language:
            return DEFAULT_LANGUAGE  # the chat decided; an unknown choice means English
    return DEFAULT_LANGUAGE


# -- the current language ------------------------------------------------------------------------


@attrs.frozen
class _Active:
    language: str
    catalogs: Catalogs


_ACTIVE: ContextVar[_Active | None] = ContextVar("tgstats_language", default=None)


@contextmanager
def use_language(language: str, catalogs: Catalogs | None = None) -> Iterator[None]:
    """Speak ``language`` with ``catalogs`` (the host's if None) until the block ends."""
    token = _ACTIVE.set(_Active(language, catalogs if catalogs is not None else host_catalogs()))
    try:
        yield
    finally:
        _ACTIVE.reset(token)


def current_language() -> str:
    """The language of the command or press being handled (``en`` outside one)."""
    active = _ACTIVE.get()
    return active.language if active is not None else DEFAULT_LANGUAGE


def _(message: str) -> str:
    """``message`` in the current language, from the plugin's catalog; English if untranslated."""
    active = _ACTIVE.get()
    if active is None:
        return message
    return active.catalogs.translation(active.language).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of ``singular``/``plural`` for ``n`` in the current language's plural rules.

    ``ngettext("{n} message", "{n} messages", n).format(n=format_number(n))``:
    Russian has three forms (1 сообщение, 2 сообщения, 5 сообщений).
    """
    active = _ACTIVE.get()
    if active is None:
        return singular if n == 1 else plural
    return active.catalogs.translation(active.language).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it (translate later with ``_()``)."""
    return message


def host_gettext(message: str) -> str:
    """``message`` from the host's catalog in the current language (the SDK's own texts)."""
    return host_catalogs().translation(current_language()).gettext(message)


def host_ngettext(singular: str, plural: str, n: int) -> str:
    return host_catalogs().translation(current_language()).ngettext(singular, plural, n)


def translate(language: str, message: str) -> str:
    """A host text in ``language`` (for the host's replies outside any handler)."""
    return host_catalogs().translation(language).gettext(message)


def translate_plural(language: str, singular: str, plural: str, n: int) -> str:
    """:func:`translate` for a text with plural forms."""
    return host_catalogs().translation(language).ngettext(singular, plural, n)


# -- numbers and dates -----------------------------------------------------------------------------


def _locale() -> str:
    return current_language()


def format_number(number: int | float | Decimal, decimals: int | None = None) -> str:
    """``12345`` -> ``12,345`` in English, ``12 345`` in Russian.

    ``decimals`` fixes the digits after the separator (``format_number(7.25, 1)``
    -> ``7.2`` / ``7,2``); None keeps up to three, as Babel does.
    """
    if decimals is None:
        return babel_numbers.format_decimal(number, locale=_locale())
    if not 0 <= decimals <= 20:
        raise ValueError(f"decimals: expected 0..20, got {decimals}")
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return babel_numbers.format_decimal(number, format=pattern, locale=_locale())


def format_percent(number: float | Decimal) -> str:
    """``0.25`` -> ``25%`` in English, ``25 %`` in Russian."""
    return babel_numbers.format_percent(number, locale=_locale())


def format_date(value: date | datetime, format: str = "medium") -> str:
    """``31 Mar 2026`` / ``31 мар. 2026 г.``; ``format``: short, medium, long or a pattern."""
    return babel_dates.format_date(value, format=format, locale=_locale())


def format_datetime(value: datetime, format: str = "medium", **kwargs: Any) -> str:
    """A date and time for the language (``tzinfo=`` converts to the chat's zone first)."""
    return babel_dates.format_datetime(value, format=format, locale=_locale(), **kwargs)
