"""The tgstats pytest plugin: fixtures for a plugin's tests, and asyncio that just works.

pytest loads it by itself wherever tgstats is installed (the ``pytest11``
entry point ``tgstats``), so a plugin's tests need no ``conftest.py`` and no
pytest configuration:

- ``async def test_...`` runs on a fresh event loop per test: pytest-asyncio's
  mode defaults to ``auto`` and its fixture loop scope to ``function``.  A
  project that sets either (in its config file or with ``-o``) keeps its value.
- The fixtures, each named for what it gives the test:

  ``store``         an empty SQLite store, the bot's real one, closed afterwards
  ``chat``          the ``telegram.Chat`` commands run in ("Test group", id -1001)
  ``now``           the instant commands measure periods back from (``DEFAULT_NOW``)
  ``plugin_name``   the plugin under test: the one entry point of the
                    ``tgstats.plugins`` group in the nearest ``pyproject.toml``
  ``plugin_class``  that entry point's class, loaded from the installed distribution
  ``make_plugin``   ``make_plugin(**overrides)``: the plugin configured as the host would
  ``make_context``  ``make_context(*args, command=, now=, chat_id=, user_id=)``:
                    the ``CommandContext`` of ``/command args...`` in ``chat``
  ``command_reply`` ``await command_reply(plugin, *args, ...)``: the plugin's reply
                    to its command, run through the bot's own path
  ``job_reply``     ``await job_reply(plugin, job=, now=, zone=, chat_id=, settings=)``: what
                    a scheduled job sends to ``chat`` when it runs at ``now``

A test module (or a conftest, if a project wants one) overrides any of them by
defining a fixture of the same name, e.g. ``chat`` to give the group a title,
or ``plugin_name`` in a distribution that ships several plugins.
"""

from __future__ import annotations

import tomllib
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pytest

from tgstats.host.discovery import ENTRY_POINT_GROUP
from tgstats.testing import (
    command_context,
    configure_plugin,
    make_chat,
    press_button,
    run_command,
    run_job,
    schedule_context,
    utc,
)

if TYPE_CHECKING:
    import telegram

    from tgstats.plugins import ChatSettings, CommandContext, Plugin, Reply
    from tgstats.store import Store

__all__ = [
    "DEFAULT_NOW",
    "chat",
    "command_reply",
    "make_context",
    "make_plugin",
    "now",
    "plugin_class",
    "plugin_name",
    "store",
]

DEFAULT_NOW = "2026-11-01T12:00:00Z"

# pytest-asyncio's own defaults are strict mode, where an unmarked
# ``async def test`` fails with "async def functions are not natively
# supported", and an unset fixture loop scope, which warns on every run.
_ASYNCIO_DEFAULTS = {
    "asyncio_mode": ("default for --asyncio-mode (tgstats: auto)", "auto"),
    "asyncio_default_fixture_loop_scope": (
        "default scope of the asyncio event loop used to execute async fixtures"
        " (tgstats: function)",
        "function",
    ),
}


def pytest_load_initial_conftests(
    early_config: pytest.Config, parser: pytest.Parser, args: list[str]
) -> None:
    # This hook runs after every installed plugin has registered its options,
    # so pytest-asyncio's exist by now (the order in which pytest11 plugins
    # load is not defined); registering an option again replaces its default
    # only. Nothing has read them yet: pytest-asyncio does in pytest_configure.
    if not early_config.pluginmanager.hasplugin("asyncio"):
        return  # pytest-asyncio is not installed, or the run disabled it (-p no:asyncio)
    for name, (help_text, default) in _ASYNCIO_DEFAULTS.items():
        parser.addini(name, help_text, default=default)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """An empty SQLite store (schema created, WAL mode) in the test's ``tmp_path``."""
    from tgstats.store import open_store

    opened = open_store(f"sqlite:///{tmp_path / 'tgstats.db'}")
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def chat() -> telegram.Chat:
    """The supergroup ``make_context`` and ``command_reply`` run commands in."""
    return make_chat()


@pytest.fixture
def now() -> datetime:
    """The instant a command's periods are measured back from (``ctx.now``)."""
    return utc(DEFAULT_NOW)


@pytest.fixture
def plugin_name(request: pytest.FixtureRequest) -> str:
    """The name of the plugin under test, from the nearest ``pyproject.toml``."""
    return _declared_plugin(Path(request.path))


@pytest.fixture
def plugin_class(plugin_name: str) -> type[Plugin[Any]]:
    """The class the installed ``plugin_name`` entry point names, as the host loads it."""
    from tgstats.host.discovery import discover_plugins
    from tgstats.plugins import Plugin

    discovery = discover_plugins()
    if plugin_name in discovery.duplicates:
        pytest.fail(str(discovery.duplicates[plugin_name]), pytrace=False)
    spec = discovery.plugins.get(plugin_name)
    if spec is None:
        pytest.fail(
            f"plugin {plugin_name!r} is not installed in this environment: install the"
            f" project first (pip install -e PROJECT_DIR), so that its {ENTRY_POINT_GROUP} entry"
            " point exists",
            pytrace=False,
        )
    loaded = spec.entry_point.load()
    if not (isinstance(loaded, type) and issubclass(loaded, Plugin)):
        pytest.fail(
            f"entry point {plugin_name} = {spec.value!r} is {loaded!r};"
            " expected a subclass of tgstats.plugins.Plugin",
            pytrace=False,
        )
    return loaded


class MakePlugin(Protocol):
    def __call__(self, **overrides: Any) -> Any: ...


@pytest.fixture
def make_plugin(
    plugin_class: type[Plugin[Any]], plugin_name: str, store: Store, tmp_path: Path
) -> MakePlugin:
    """``make_plugin(**overrides)``: code defaults < plugin.yaml < ``overrides``.

    ``overrides`` are written as an operator's ``plugins.yaml`` and the result
    is validated by the host's config code; the plugin reads ``store``.  Its
    ``setup()`` has not run yet.
    """
    config_dir = tmp_path / "tgstats-config"
    config_dir.mkdir(exist_ok=True)

    def build(**overrides: Any) -> Any:
        return configure_plugin(plugin_class, plugin_name, store, config_dir, **overrides)

    return build


class MakeContext(Protocol):
    def __call__(
        self,
        *args: str,
        command: str | None = None,
        now: datetime | str | None = None,
        chat_id: int | None = None,
        user_id: int | None = 1,
    ) -> CommandContext: ...


@pytest.fixture
def make_context(
    plugin_class: type[Plugin[Any]], store: Store, chat: telegram.Chat, now: datetime
) -> MakeContext:
    """``make_context(*args, ...)``: the context of ``/command args...`` sent in ``chat``.

    ``command`` defaults to the plugin's only command, ``now`` to the ``now``
    fixture, ``chat_id`` to ``chat``'s id (another id is a chat with no messages),
    ``language`` (what the reply is written in: ``"ru"``, say) to English.
    """
    default_now = now

    def build(
        *args: str,
        command: str | None = None,
        now: datetime | str | None = None,
        chat_id: int | None = None,
        user_id: int | None = 1,
        language: str = "en",
        settings: ChatSettings | None = None,
    ) -> CommandContext:
        return command_context(
            command or _only_command(plugin_class),
            store,
            chat,
            *args,
            now=default_now if now is None else now,
            chat_id=chat_id,
            user_id=user_id,
            language=language,
            settings=settings,
        )

    return build


CommandReply = Callable[..., Awaitable["Reply | None"]]


@pytest.fixture
def command_reply(make_context: MakeContext) -> CommandReply:
    """``await command_reply(plugin, *args, command=, now=, chat_id=, user_id=, language=)``.

    Runs the command through ``invoke_command``, the bot's own path (a plain
    ``def`` handler in a worker thread), and returns its ``Reply`` or ``None``.
    """

    async def reply(
        plugin: Plugin[Any], *args: str, command: str | None = None, **context: Any
    ) -> Reply | None:
        ctx = make_context(*args, command=command or _only_command(type(plugin)), **context)
        return await run_command(plugin, ctx)

    return reply


@pytest.fixture
def job_reply(store: Store, chat: telegram.Chat, now: datetime) -> CommandReply:
    """``await job_reply(plugin, job=, now=, zone=, chat_id=)``: a scheduled job's Reply.

    Runs the job (the plugin's only one unless ``job`` names its method) as the
    scheduler does when it is due in ``chat`` at ``now`` in time zone ``zone``.
    """

    async def reply(
        plugin: Plugin[Any],
        *,
        job: str | None = None,
        now: datetime | str = now,
        zone: str = "UTC",
        chat_id: int | None = None,
        settings: ChatSettings | None = None,
    ) -> Reply | None:
        specs = type(plugin).schedules()
        chosen = [s for s in specs if job is None or s.method == job]
        if len(chosen) != 1:
            names = ", ".join(s.method for s in specs) or "none"
            pytest.fail(
                f"{type(plugin).__qualname__} has jobs: {names}; pass job='METHOD'", pytrace=False
            )
        ctx = schedule_context(
            chosen[0].method,
            store,
            chat,
            rule=chosen[0].rule,
            now=now,
            zone=zone,
            chat_id=chat_id,
            settings=settings,
            config=plugin.config,
        )
        return await run_job(plugin, ctx)

    return reply


@pytest.fixture
def press(store: Store, chat: telegram.Chat, now: datetime) -> CommandReply:
    """``await press(plugin, reply, "7 days", user_id=, now=, language=)``: a press's reply.

    Goes through the host's path (:func:`tgstats.testing.press_button`).
    """
    default_now = now

    async def run(
        plugin: Plugin[Any],
        reply: Reply | None,
        label: str,
        *,
        user_id: int | None = 1,
        now: datetime | str | None = None,
        language: str = "en",
    ) -> Reply | None:
        return await press_button(
            plugin,
            reply,
            label,
            store=store,
            chat=chat,
            now=default_now if now is None else now,
            user_id=user_id,
            language=language,
        )

    return run


def _only_command(plugin_cls: type[Plugin[Any]]) -> str:
    names = [spec.name for spec in plugin_cls.commands()]
    if len(names) != 1:
        pytest.fail(
            f"{plugin_cls.__qualname__} has {len(names)} commands ({', '.join(names) or 'none'});"
            " pass command='NAME'",
            pytrace=False,
        )
    return names[0]


def _declared_plugin(test_file: Path) -> str:
    """The one plugin the project holding ``test_file`` declares in its pyproject.toml."""
    for folder in test_file.parents:
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            break
    else:
        pytest.fail(
            f"no pyproject.toml above {test_file}: define a plugin_name fixture"
            " that returns the name of the plugin under test",
            pytrace=False,
        )
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        pytest.fail(f"{pyproject}: {error}", pytrace=False)
    declared: list[str] = sorted(
        data.get("project", {}).get("entry-points", {}).get(ENTRY_POINT_GROUP, {})
    )
    if len(declared) != 1:
        found = f"several ({', '.join(declared)})" if declared else "none"
        pytest.fail(
            f'{pyproject}: [project.entry-points."{ENTRY_POINT_GROUP}"] declares {found};'
            " define a plugin_name fixture that returns the name of the plugin under test",
            pytrace=False,
        )
    return declared[0]
