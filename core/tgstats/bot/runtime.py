"""``tgstats run``'s life cycle: start, serve, reload on demand, stop cleanly.

Start: open the store -> getMe (token and privacy check) -> load plugins ->
install their handlers and the command menu -> long polling (or, with
``--webhook-url``, the webhook server, :mod:`tgstats.bot.webhook`) -> hot reload.
Stop (SIGTERM/SIGINT): stop the reloader; stop the webhook server (requests
in flight finish); stop polling after the page being
committed and confirm what was committed (nothing else); give the commands
in the chat lanes up to :data:`DRAIN_SECONDS` to finish; shut the plugins
down, close the store, log ``stopped``.
SIGHUP reloads the plugins, the same path as the /reload admin command.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import ContextTypes

from tgstats.bot.admin import AdminCommands, format_failure, format_recovery
from tgstats.bot.app import TgstatsApplication, build_application
from tgstats.bot.chat_admins import ChatAdmins
from tgstats.bot.handlers import PluginHandlers
from tgstats.bot.intake import UpdateIntake
from tgstats.bot.menu import CommandMenu, build_menu
from tgstats.bot.polling import Poller
from tgstats.bot.presses import build_markup
from tgstats.bot.recorder import ALLOWED_UPDATES, Recorder
from tgstats.bot.replies import send_to_chat
from tgstats.bot.settings import BotSettings
from tgstats.bot.settings_command import SettingsCommand
from tgstats.bot.settings_menu import SettingsMenu
from tgstats.bot.webhook import WebhookServer, delete_webhook, start_webhook
from tgstats.errors import TgstatsError
from tgstats.host.callbacks import CallbackCodec
from tgstats.host.chat_settings import ChatSettingsService, plugin_key
from tgstats.host.manager import PluginChange, PluginManager, ReloadReport
from tgstats.host.records import ConfigProblem, PluginRecord
from tgstats.host.router import HOST_COMMANDS
from tgstats.host.scheduler import ChatPrefs, Scheduler
from tgstats.logs import get_logger
from tgstats.pidfile import remove_pid_file, write_pid_file
from tgstats.plugins import Reply
from tgstats.redaction import redact
from tgstats.store.secrets import BUTTON_KEY, get_or_create_secret

__all__ = ["BotRuntime"]

log = get_logger(__name__)

# chat_member updates refresh the admin cache (a PTB handler group of its own,
# before the router, so the next /settings already sees the change).
CHAT_ADMINS_GROUP = -110

# How long a stop waits for commands still running in the chat lanes.
DRAIN_SECONDS = 10.0

PRIVACY_HINT = (
    "the bot only sees commands and replies in groups, so statistics stay empty: "
    "in @BotFather send /setprivacy, choose the bot, pick Disable, then remove "
    "and re-add the bot to each group"
)


async def _button_codec(engine: Any) -> CallbackCodec:
    """The signer of button data, with the key kept in the store (created on first start)."""
    key = await asyncio.to_thread(get_or_create_secret, engine, BUTTON_KEY)
    return CallbackCodec(key)


class BotRuntime:
    def __init__(
        self,
        settings: BotSettings,
        *,
        poll_timeout: int = 10,
        chat_prefs: ChatPrefs | None = None,
        application_factory: Callable[[BotSettings], TgstatsApplication] = build_application,
    ) -> None:
        self.settings = settings
        self.poll_timeout = poll_timeout
        self.chat_prefs = chat_prefs
        self.scheduler: Scheduler | None = None
        # `tgstats chat` passes one whose Bot API is in-process (tgstats.chat.api).
        self._application_factory = application_factory
        self._stop = asyncio.Event()
        self.ready = asyncio.Event()  # set once serving: polling, plugins and hot reload up
        self._tasks: set[asyncio.Task[Any]] = set()
        self.store: Any = None
        self.storage: Any = None  # tgstats.bot.storage.BotStorage: the store and its writer
        self.application: TgstatsApplication | None = None
        self.manager: PluginManager | None = None
        self.handlers: PluginHandlers | None = None
        self.menu: CommandMenu | None = None
        self.recorder: Recorder | None = None
        self.intake: UpdateIntake | None = None
        self.poller: Poller | None = None
        self._polling: asyncio.Task[None] | None = None
        self._reloader: Any = None
        self._webhook: WebhookServer | None = None  # in webhook mode
        # Per-chat settings (/settings): what schedules and handlers ask a chat's
        # time zone and plugin switches from (``chat_settings.zone(chat_id)``,
        # ``chat_settings.is_enabled(chat_id, plugin)``).
        self.chat_settings: ChatSettingsService | None = None
        self.chat_admins: ChatAdmins | None = None

    # -- public ----------------------------------------------------------------

    def request_stop(self, reason: str = "requested") -> None:
        if not self._stop.is_set():
            log.info("stopping", reason=reason)
        self._stop.set()
        if self.storage is not None:
            self.storage.request_stop()  # a write failing now is not retried for long

    async def reload(self, source: str = "manual") -> ReloadReport:
        """The manual reload (/reload, SIGHUP): re-read plugins.yaml, reload every plugin."""
        assert self.manager is not None
        report = await self.manager.reload_all()  # rounds are serialised by the manager
        log.info(
            "manual_reload_done",
            source=source,
            ok=report.ok,
            reloaded=list(report.reloaded),
            failed=[r.name for r in report.failed],
        )
        return report

    async def settled(self) -> None:
        """Return once every update handed to the lanes and every task they spawned
        (a /reload answering later) is done: what a local chat waits for per line."""
        while True:
            if self.intake is not None:
                await self.intake.lanes.wait_idle()
            if not self._tasks:
                return
            await self._drain_tasks()

    async def run(self) -> int:
        from tgstats.bot.storage import BotStorage

        # Proves the database takes writes: a read-only one stops the start here.
        storage = self.storage = await BotStorage.open(self.settings.db_url)
        self.store = storage.store
        try:
            await self._serve()
        finally:
            await storage.close()  # what is queued is written, whatever stopped us
            if self.settings.pid_file is not None:
                remove_pid_file(self.settings.pid_file)
        log.info("stopped")
        return 0

    # -- start / serve / stop ----------------------------------------------------

    async def _serve(self) -> None:
        settings = self.settings
        application = self.application = self._application_factory(settings)
        recorder = self.recorder = Recorder(self.storage.writer)
        intake = self.intake = UpdateIntake(
            application,
            recorder,
            commands=self._command_names,
            has_listeners=lambda: self.handlers is not None and self.handlers.has_listeners(),
            has_event_listeners=lambda: (
                self.handlers is not None and self.handlers.has_event_listeners()
            ),
        )
        chat_settings = self.chat_settings = ChatSettingsService(
            self.store.settings,
            lambda name: self.manager.get_plugin(name) if self.manager else None,
        )
        chat_admins = self.chat_admins = ChatAdmins(application.bot, settings.admins)
        application.add_handler(chat_admins.handler(), CHAT_ADMINS_GROUP)
        self.handlers = PluginHandlers(
            application,
            self.store.queries,
            was_recorded=intake.was_recorded,
            events_of=intake.events_of,
            settings=chat_settings,
            codec=await _button_codec(self.store.engine),
        )
        self.menu = CommandMenu(application.bot)
        admin = AdminCommands(
            admins=settings.admins,
            store=self.storage.writer,
            list_plugins=lambda: self.manager.list_plugins() if self.manager else [],
            reload=lambda: self.reload("command"),
            spawn=self.spawn,
            config_problem=lambda: self.manager.config_problem if self.manager else None,
            forget=self._forget_member,
        )
        settings_command = SettingsCommand(
            service=chat_settings,
            admins=chat_admins,
            queries=self.store.queries,
            plugins=lambda: self.manager.list_plugins() if self.manager else [],
            write=self.storage.writer.run,
            on_plugins_changed=self._sync_chat_menu_forced,
            on_changed=self._settings_changed,
        )
        self.handlers.set_host_commands({**admin.routes(), "settings": settings_command})
        # The inline menu, on the host's button namespace.
        settings_command.menu = SettingsMenu(settings_command, chat_admins)
        settings_command.menu.register(self.handlers)
        settings_command.markup = self.handlers.host_markup
        application.add_error_handler(self._on_error)
        self.manager = PluginManager(
            config_path=settings.plugins_config,
            host_factory=_host_factory(self.store),
            on_swap=self._on_swap,
            on_failure=self._on_failure,
            on_recovery=self._on_recovery,
        )

        await self._initialize(application)
        try:
            # Early, so a SIGTERM while the plugins load still stops cleanly.
            self._install_signals()
            if settings.pid_file is not None:
                write_pid_file(settings.pid_file)  # only now: SIGHUP would have killed us
            self._check_privacy(application)
            report = await self.manager.start()
            log.info(
                "plugins_started",
                loaded=list(report.reloaded),
                failed=[r.name for r in report.failed],
            )
            await self._sync_menu()  # the host's commands, even with no plugin loaded
            await self._sync_chat_menus()  # chats that switched plugins off
            await application.start()
            if settings.webhook is not None:
                self._webhook = await start_webhook(
                    settings.webhook, application.bot, intake.submit_batch
                )
            else:
                await delete_webhook(application.bot)  # back from webhook mode: 409 otherwise
                self.poller = Poller(
                    application.bot,
                    intake.submit_batch,
                    timeout=self.poll_timeout,
                    allowed_updates=ALLOWED_UPDATES,
                    blocked=lambda: not recorder.healthy,
                    on_blocked=intake.answer_unavailable_raw,
                )
                self._polling = asyncio.create_task(self._poll(self.poller))
            self._reloader = await _start_reloader(self.manager)
            self.scheduler = self._start_scheduler(application, recorder)
            log.info(
                "bot_started",
                username=application.bot.username,
                admins=len(settings.admins),
                hot_reload=self._reloader is not None,
                mode="polling" if settings.webhook is None else "webhook",
            )
            self.ready.set()
            await self._stop.wait()
            await self._shutdown(application)
        finally:
            if self.scheduler is not None:
                await self.scheduler.stop()  # a no-op after a clean _shutdown
            if self.poller is not None and self._polling is not None and not self._polling.done():
                self.poller.stop()  # start-up failed after polling began
                await asyncio.gather(self._polling, return_exceptions=True)
            if application.running:
                await application.stop()
            await application.shutdown()
            self._remove_signals()

    async def _initialize_or_close(self, application: TgstatsApplication) -> None:
        try:
            await application.initialize()  # calls getMe
        except TelegramError:
            # The HTTP clients are open even though getMe failed; close them.
            await application.bot.shutdown()
            raise

    async def _initialize(self, application: TgstatsApplication) -> None:
        try:
            await self._initialize_or_close(application)
        except InvalidToken:
            raise TgstatsError(
                "Telegram rejected the bot token (check TGSTATS_TOKEN or --token-file)"
            ) from None
        except NetworkError as error:
            raise TgstatsError(
                f"cannot reach the Bot API at {_redact(self.settings.base_url)}: {error}"
            ) from None
        except TelegramError as error:
            raise TgstatsError(f"getMe failed: {error}") from None

    def _check_privacy(self, application: TgstatsApplication) -> None:
        bot = application.bot
        if not bot.can_read_all_group_messages:
            log.warning("privacy_mode_on", username=bot.username, hint=PRIVACY_HINT)

    def _settings_changed(self, _chat_id: int) -> None:
        # A per-chat schedule may have been switched on or moved: look again now.
        if self.scheduler is not None:
            self.scheduler.wake()

    def _chat_prefs(self) -> ChatPrefs:
        """The chat's time zone and "is this plugin on here" for scheduled jobs:
        what the chat's admins chose in /settings (a test may pass its own)."""
        if self.chat_prefs is not None:
            return self.chat_prefs
        service = self.chat_settings
        assert service is not None, "the settings service starts before the scheduler"
        return ChatPrefs(
            zone_of=service.chat_zone,
            plugin_enabled=lambda plugin, chat_id: service.plugin_enabled(chat_id, plugin),
            settings_of=lambda plugin, chat_id: service.settings_for(chat_id, plugin),
        )

    def _start_scheduler(self, application: TgstatsApplication, recorder: Recorder) -> Scheduler:
        assert self.handlers is not None
        bot = application.bot

        handlers = self.handlers

        async def send(plugin: str, chat_id: int, reply: Reply) -> None:
            markup = None
            if reply.buttons and handlers.codec is not None:
                # Buttons under a digest work like those under a command's reply.
                markup = build_markup(handlers.codec, plugin, reply.buttons, chat_id)
            await send_to_chat(bot, chat_id, reply, markup)

        scheduler = Scheduler(
            self.store,
            jobs=self.handlers.jobs,
            send=send,
            bot_id=lambda: bot.id,
            prefs=self._chat_prefs(),
            write=recorder.commit,  # in order with the bot's other writes, retried
        )
        scheduler.start()
        return scheduler

    async def _shutdown(self, application: TgstatsApplication) -> None:
        if self.scheduler is not None:
            await self.scheduler.stop()
        if self._reloader is not None:
            await self._reloader.stop()
        if self._webhook is not None:
            await self._webhook.stop()  # no new updates; those in flight finish or get a 503
        if self.poller is not None and self._polling is not None:
            self.poller.stop()  # after the page being committed; confirms what was
            await asyncio.gather(self._polling, return_exceptions=True)
        assert self.intake is not None
        await self.intake.lanes.drain(DRAIN_SECONDS)
        await self._drain_tasks()
        await application.stop()
        assert self.manager is not None
        await self.manager.stop()

    async def _poll(self, poller: Poller) -> None:
        try:
            await poller.run()
        except InvalidToken:
            log.error("polling_token_rejected")
            self.request_stop("token rejected")
        except Exception:
            log.exception("polling_crashed")
            self.request_stop("polling crashed")

    async def _drain_tasks(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # -- callbacks -------------------------------------------------------------

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _on_swap(self, changes: list[PluginChange]) -> None:
        assert self.application is not None and self.handlers is not None
        self.handlers.apply(changes)  # one new route table, swapped whole
        if self.scheduler is not None:
            for change in changes:  # the old versions' runs stop; the next tick has the new
                self.scheduler.cancel_plugin(change.name)
        await self._sync_menu()
        await self._sync_chat_menus()

    async def _on_failure(self, record: PluginRecord | ConfigProblem) -> None:
        await self._tell_admins(format_failure(record))

    async def _on_recovery(self, record: PluginRecord | ConfigProblem) -> None:
        await self._tell_admins(format_recovery(record))

    async def _forget_member(self, chat_id: int | None, user_id: int) -> list[str]:
        """Every loaded plugin's forget_member hook (after the store erased the member)."""
        if self.manager is None:
            return []
        return await self.manager.forget_member(chat_id, user_id)

    async def _tell_admins(self, text: str) -> None:
        bot = self.application.bot if self.application else None
        if bot is None:
            return
        for admin_id in sorted(self.settings.admins):
            try:
                await bot.send_message(admin_id, redact(text))
            except TelegramError as error:
                # Admins who never opened a private chat with the bot cannot be messaged.
                log.warning("admin_notify_failed", admin_id=admin_id, error=str(error))

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        # A host handler raised: keep the update (rate-limited log, raw JSON in
        # rejected_updates); the update was committed and is confirmed anyway.
        if not isinstance(update, Update) or self.intake is None or context.error is None:
            log.error("update_failed", exc_info=context.error)  # not an update's error
            return
        await self.intake.reject(update, context.error)

    def _command_names(self) -> list[str]:
        plugin = [spec.name for spec in self.handlers.commands()] if self.handlers else []
        return plugin + list(HOST_COMMANDS)

    async def _sync_menu(self) -> None:
        assert self.menu is not None and self.handlers is not None
        try:
            await self.menu.sync(build_menu(self.handlers.table))
        except TelegramError as error:
            log.warning("command_menu_failed", error=str(error))

    async def _sync_chat_menus(self) -> None:
        """Every chat that switched a plugin off gets the menu without its commands."""
        if self.chat_settings is None:
            return
        store = self.chat_settings.store
        try:
            chats = await asyncio.to_thread(store.chats_with_key_prefix, plugin_key(""))
        except Exception as error:
            log.warning("chat_menus_unavailable", error=str(error)[:200])
            return
        assert self.menu is not None
        for chat_id in sorted(set(chats) | set(self.menu.chats())):
            await self._sync_chat_menu(chat_id)

    async def _sync_chat_menu_forced(self, chat_id: int) -> None:
        await self._sync_chat_menu(chat_id, force=True)

    async def _sync_chat_menu(self, chat_id: int, *, force: bool = False) -> None:
        assert self.menu is not None and self.handlers is not None
        assert self.chat_settings is not None
        try:
            await asyncio.to_thread(self.chat_settings.store.load, chat_id)  # fresh in cache
            hidden = self.chat_settings.disabled_plugins(chat_id)
            commands = build_menu(self.handlers.table, hidden) if hidden else None
            await self.menu.sync_chat(chat_id, commands, force=force)
        except Exception as error:
            log.warning("chat_menu_failed", chat_id=chat_id, error=str(error)[:200])

    # -- signals ---------------------------------------------------------------

    def _install_signals(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self.request_stop, "SIGTERM")
        loop.add_signal_handler(signal.SIGINT, self.request_stop, "SIGINT")
        loop.add_signal_handler(signal.SIGHUP, self._on_sighup)

    def _remove_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(signum)

    def _on_sighup(self) -> None:
        if self._stop.is_set():
            return
        log.info("manual_reload_requested", source="SIGHUP")
        self.spawn(self._reload_logged("SIGHUP"))

    async def _reload_logged(self, source: str) -> None:
        try:
            await self.reload(source)
        except Exception:
            log.exception("manual_reload_failed", source=source)


def _redact(url: str) -> str:
    return url.split("{token}")[0]


def _host_factory(store: Any) -> Any:
    from tgstats.host.services import make_host_factory

    return make_host_factory(store.queries)


async def _start_reloader(manager: PluginManager) -> Any:
    """The hot-reload task, or None when ``settings.hot_reload`` is false."""
    from tgstats.hotreload.reloader import Reloader

    reloader = Reloader(manager)
    return reloader if await reloader.start() else None
