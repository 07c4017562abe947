"""Languages: resolution, .po catalogs compiled in memory, plurals, fallback, formats, threads."""

from __future__ import annotations

import asyncio
import importlib
import sys
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import tgstats.plugins as sdk
from tgstats.host.invoke import invoke_button, invoke_command
from tgstats.plugins import (
    PERIOD_CHOICES,
    ButtonContext,
    CommandContext,
    Period,
    TextReply,
    _,
    current_language,
    format_date,
    format_number,
    format_percent,
    ngettext,
    period_buttons,
)
from tgstats.plugins._i18n import (
    MAX_PO_BYTES,
    CatalogError,
    catalogs_for,
    host_catalogs,
    load_catalogs,
    normalize_language,
    resolve_language,
    translate,
    translate_plural,
    use_language,
)

RU_HEADER = r"""msgid ""
msgstr ""
"Language: ru\n"
"Content-Type: text/plain; charset=UTF-8\n"
"Plural-Forms: nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && "
"n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);\n"

"""

PROBE_PO = (
    RU_HEADER
    + """msgid "Hello"
msgstr "Привет"

#, python-brace-format
msgid "{n} message"
msgid_plural "{n} messages"
msgstr[0] "{n} сообщение"
msgstr[1] "{n} сообщения"
msgstr[2] "{n} сообщений"

#, fuzzy
msgid "Draft"
msgstr "Черновик"
"""
)

PROBE_PLUGIN = """
from __future__ import annotations

import threading

from tgstats.plugins import Button, Plugin, TextReply, _, button, command, current_language

BARRIER = threading.Barrier(2, timeout=10)


class Probe(Plugin):
    @command("hello", "say hello")
    def hello(self, ctx):
        # Both chats' handlers are inside this call at the same time, in two threads.
        BARRIER.wait()
        return TextReply(
            f"{_('Hello')} {current_language()} {threading.get_ident()}",
            buttons=[[Button(_("Hello"), "again")]],
        )

    @button("again")
    async def again(self, ctx):
        return TextReply(_("Hello") + " " + current_language())
"""


@pytest.fixture
def probe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> type:
    """A real plugin package on disk with its own Russian catalog (domain = its package)."""
    package = f"i18n_probe_{id(tmp_path)}"
    root = tmp_path / package
    (root / "locale/ru/LC_MESSAGES").mkdir(parents=True)
    (root / "__init__.py").write_text(PROBE_PLUGIN, encoding="utf-8")
    (root / f"locale/ru/LC_MESSAGES/{package}.po").write_text(PROBE_PO, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module(package)
    yield module.Probe
    sys.modules.pop(package, None)


class _Host:
    name = "probe"


def _command(chat_id: int, language: str) -> CommandContext:
    return CommandContext(
        command="hello",
        args=(),
        chat_id=chat_id,
        chat_title="t",
        user_id=1,
        now=datetime.now(UTC),
        store=None,  # type: ignore[arg-type]
        language=language,
    )


# -- which language ------------------------------------------------------------------------------


def test_chat_setting_wins_then_member_then_english() -> None:
    assert resolve_language("ru", "en") == "ru"
    assert resolve_language(None, "ru") == "ru"
    assert resolve_language(None, None) == "en"
    assert resolve_language("en", "ru") == "en"


def test_region_and_script_variants_fall_back_to_their_language() -> None:
    # Telegram sends IETF tags; the region is kept for numbers, the text is Russian.
    assert resolve_language(None, "ru-RU") == "ru_RU"
    assert resolve_language(None, "ru-ua") == "ru_UA"
    with use_language("ru_UA"):
        assert sdk.Period(since=None, until=None, days=5).label == "последние 5 дней"


def test_untranslated_languages_get_english() -> None:
    assert resolve_language(None, "de") == "en"  # nobody shipped German
    assert resolve_language(None, "pt-br") == "en"
    # A chat that chose an untranslated language gets English, not the member's Russian.
    assert resolve_language("de", "ru") == "en"
    # Unless a catalog covers it.
    assert resolve_language(None, "pt-br", available={"en", "pt"}) == "pt_BR"


@pytest.mark.parametrize(
    "code",
    ["", "x", "xx", "../../etc/passwd", "ru\n", "ru;drop", "r" * 10_000, "ru-" + "a" * 50, "💥"],
)
def test_malformed_or_unknown_codes_are_english(code: str) -> None:
    assert normalize_language(code) is None or code == "xx"
    assert resolve_language(None, code) == "en"
    assert resolve_language(code, "ru") == "en"


# -- catalogs, fallback and plurals --------------------------------------------------------------


def test_outside_any_handler_texts_are_english() -> None:
    assert current_language() == "en"
    assert _("Hello") == "Hello"
    assert ngettext("{n} message", "{n} messages", 1) == "{n} message"
    assert ngettext("{n} message", "{n} messages", 2) == "{n} messages"


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (1, "1 сообщение"),
        (2, "2 сообщения"),
        (4, "4 сообщения"),
        (5, "5 сообщений"),
        (11, "11 сообщений"),
        (12, "12 сообщений"),
        (21, "21 сообщение"),
        (22, "22 сообщения"),
        (25, "25 сообщений"),
        (111, "111 сообщений"),
        (0, "0 сообщений"),
    ],
)
def test_russian_plural_forms(probe: type, n: int, expected: str) -> None:
    with use_language("ru", catalogs_for(probe)):
        assert ngettext("{n} message", "{n} messages", n).format(n=n) == expected
    with use_language("en", catalogs_for(probe)):
        english = ngettext("{n} message", "{n} messages", n).format(n=n)
    assert english == (f"{n} message" if n == 1 else f"{n} messages")


def test_missing_translation_and_fuzzy_entry_fall_back_to_english(probe: type) -> None:
    with use_language("ru", catalogs_for(probe)):
        assert _("Hello") == "Привет"
        assert _("Not in any catalog") == "Not in any catalog"
        assert _("Draft") == "Draft"  # fuzzy: a draft, not shipped
        assert ngettext("{n} cat", "{n} cats", 5) == "{n} cats"


def test_host_texts_are_russian_with_plurals() -> None:
    assert translate("ru", "Sorry, this button is not for you.") == (
        "Извините, эта кнопка не для вас."
    )
    assert translate("en", "Sorry, this button is not for you.") == (
        "Sorry, this button is not for you."
    )
    optout = (
        "Done: I forgot {n} of your messages in this chat and will not record new ones. "
        "Send /optin to be counted again."
    )
    forms = [translate_plural("ru", optout, optout, n).format(n=n) for n in (1, 3, 7)]
    assert [f.split(" в этом")[0] for f in forms] == [
        "Готово: я забыл 1 ваше сообщение",
        "Готово: я забыл 3 ваших сообщения",
        "Готово: я забыл 7 ваших сообщений",
    ]
    assert {"en", "ru"} <= host_catalogs().languages


def test_period_buttons_and_labels_follow_the_language() -> None:
    period = Period(since=None, until=None, days=30)
    with use_language("ru"):
        rows = period_buttons("view", period, viewer=1, who_toggle=True)
        labels = [[b.label for b in row] for row in rows]
        assert labels == [["7 дней", "• 30 дней", "1 год", "Всё"], ["Я", "• Все"]]
        assert Period(since=None, until=None, days=21).label == "последний 21 день"
        assert Period(since=None, until=None, days=None).label == "всё время"
    english = period_buttons("view", period)
    assert [b.label for b in english[0]] == ["7 days", "• 30 days", "1 year", "All"]
    assert [label for _d, label in PERIOD_CHOICES] == ["7 days", "30 days", "1 year", "All"]


def spaced(text: str) -> str:
    return text.replace("\xa0", " ").replace("\u202f", " ")


def test_numbers_and_dates_are_formatted_for_the_language() -> None:
    day = date(2026, 3, 31)
    assert (format_number(1234567), format_number(7.25, 1), format_percent(0.25)) == (
        "1,234,567",
        "7.2",
        "25%",
    )
    assert format_date(day) == "Mar 31, 2026"
    with use_language("ru"):
        # CLDR's spaces are no-break ones (which kind depends on its version).
        assert spaced(format_number(1234567)) == "1 234 567"
        assert format_number(7.25, 1) == "7,2"
        assert spaced(format_percent(0.25)) == "25 %"
        assert spaced(format_date(day)) == "31 мар. 2026 г."
        assert format_date(day, "EEE") == "вт"
    with pytest.raises(ValueError, match="decimals"):
        format_number(1, 99)


# -- the handler's language: threads and concurrent chats ----------------------------------------


async def test_two_chats_in_two_languages_at_once_each_see_their_own(probe: type) -> None:
    plugin = probe(None, _Host())
    (spec,) = probe.commands()
    # The barrier in the handler makes both worker threads wait for each other.
    ru, en = await asyncio.gather(
        invoke_command(plugin, spec, _command(-1, "ru")),
        invoke_command(plugin, spec, _command(-2, "en")),
    )
    assert isinstance(ru, TextReply) and isinstance(en, TextReply)
    ru_text, ru_lang, ru_thread = ru.text.split()
    en_text, en_lang, en_thread = en.text.split()
    assert (ru_text, ru_lang, en_text, en_lang) == ("Привет", "ru", "Hello", "en")
    assert ru_thread != en_thread != str(threading.get_ident())
    assert ru.buttons[0][0].label == "Привет" and en.buttons[0][0].label == "Hello"
    # The language ends with the call.
    assert current_language() == "en"


async def test_a_button_handler_speaks_the_pressers_language(probe: type) -> None:
    plugin = probe(None, _Host())
    (spec,) = probe.buttons()

    def press(language: str) -> ButtonContext:
        return ButtonContext(
            button="again",
            payload="",
            chat_id=-1,
            chat_title="t",
            user_id=1,
            message_id=1,
            now=datetime.now(UTC),
            store=None,  # type: ignore[arg-type]
            language=language,
        )

    replies = await asyncio.gather(*(invoke_button(plugin, spec, press(x)) for x in ("ru", "en")))
    assert [r.text for r in replies if isinstance(r, TextReply)] == ["Привет ru", "Hello en"]


# -- hostile and broken catalogs -----------------------------------------------------------------


def _catalog_dir(tmp_path: Path, text: str | bytes, language: str = "ru") -> Path:
    folder = tmp_path / "locale" / language / "LC_MESSAGES"
    folder.mkdir(parents=True)
    path = folder / "dom.po"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return tmp_path / "locale"


@pytest.mark.parametrize(
    ("mistake", "line"),
    [
        ('msgid "Oops\nmsgstr "x"\n', 11),  # unterminated: Babel alone would read "Oop"
        ('msgid "Oops"\nmsgstr "x\n', 12),
        ("garbage here\n", 11),
        ('msgid "Oops"\n\nmsgid "Next"\nmsgstr ""\n', 11),  # no msgstr
    ],
)
def test_a_syntax_error_names_the_file_and_line(tmp_path: Path, mistake: str, line: int) -> None:
    broken = RU_HEADER + 'msgid "Hello"\nmsgstr "Привет"\n\n' + mistake
    with pytest.raises(CatalogError) as caught:
        load_catalogs(_catalog_dir(tmp_path, broken), "dom")
    error = caught.value
    assert error.file.name == "dom.po"
    assert error.line == line, error
    assert str(error).startswith(f"{error.file}:{error.line}: ")


def test_a_translation_with_a_foreign_placeholder_is_refused(tmp_path: Path) -> None:
    # format() would raise KeyError for Russian speakers only, at reply time.
    bad = RU_HEADER + '#, python-brace-format\nmsgid "{n} days"\nmsgstr "{count} дней"\n'
    with pytest.raises(CatalogError, match=r"dom\.po:9: .*\['count'\]"):
        load_catalogs(_catalog_dir(tmp_path, bad), "dom")


def test_an_unbalanced_brace_is_refused(tmp_path: Path) -> None:
    bad = RU_HEADER + 'msgid "{n} days"\nmsgstr "{n дней"\n'
    with pytest.raises(CatalogError, match=r"dom\.po:8:"):
        load_catalogs(_catalog_dir(tmp_path, bad), "dom")


def test_a_huge_catalog_is_refused_before_parsing(tmp_path: Path) -> None:
    huge = RU_HEADER + "# " + "x" * MAX_PO_BYTES + "\n"
    started = time.monotonic()
    with pytest.raises(CatalogError, match="bytes; a catalog may have at most"):
        load_catalogs(_catalog_dir(tmp_path, huge), "dom")
    assert time.monotonic() - started < 1


def test_not_utf8_and_bad_folder_names_are_refused(tmp_path: Path) -> None:
    latin1 = (RU_HEADER + 'msgid "Hello"\nmsgstr "Hallå"\n').encode("latin-1", "replace")
    with pytest.raises(CatalogError):
        load_catalogs(_catalog_dir(tmp_path / "a", latin1 + b"\xff\xfe"), "dom")
    with pytest.raises(CatalogError, match="not a language code"):
        load_catalogs(_catalog_dir(tmp_path / "b", RU_HEADER, language="..ru"), "dom")


def test_no_locale_folder_means_english_only(tmp_path: Path) -> None:
    catalogs = load_catalogs(tmp_path / "nothing", "dom")
    assert catalogs.languages == {"en"}
    with use_language("ru", catalogs):
        assert _("Hello") == "Hello"


# -- the shipped catalogs are complete -----------------------------------------------------------

HOST_KEYWORDS = {
    "host_gettext": None,
    "host_ngettext": (1, 2),
    "translate": (2,),
    "translate_plural": (2, 3),
}
REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("sources", "po", "extra"),
    [
        (
            ["core/tgstats/bot", "core/tgstats/plugins", "core/tgstats/host"],
            "core/tgstats/locale/ru/LC_MESSAGES/tgstats.po",
            HOST_KEYWORDS,
        ),
        *[
            (
                [f"plugins/{d}/{p}"],
                f"plugins/{d}/{p}/locale/ru/LC_MESSAGES/{p}.po",
                {},
            )
            for d, p in [
                ("heatmap", "tgstats_heatmap"),
                ("word_cloud", "tgstats_word_cloud"),
                ("engagement", "tgstats_engagement"),
                ("activity", "tgstats_activity"),
                ("reply_graph", "tgstats_reply_graph"),
                ("profile", "tgstats_profile"),
                ("digest", "tgstats_digest"),
            ]
        ],
    ],
)
def test_every_text_in_the_code_has_a_russian_translation(
    sources: list[str], po: str, extra: dict[str, object]
) -> None:
    from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
    from babel.messages.pofile import read_po

    keywords = {**DEFAULT_KEYWORDS, **extra}
    wanted = set()
    for source in sources:
        for _file, _line, message, _comments, _context in extract_from_dir(
            REPO / source, method_map=[("**.py", "python")], keywords=keywords
        ):
            wanted.add(message if isinstance(message, str) else message[0])
    with (REPO / po).open("rb") as fp:
        catalog = read_po(fp, locale="ru")
    translated = {
        m.id if isinstance(m.id, str) else m.id[0]
        for m in catalog
        if m.id
        and m.string
        and all(m.string if isinstance(m.string, tuple) else [m.string])
        and not m.fuzzy
    }
    assert len(wanted) >= 5
    assert sorted(wanted - translated) == []
