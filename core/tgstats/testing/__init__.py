"""Helpers for tests of tgstats and of plugins: real telegram objects, filled stores.

Everything here builds genuine python-telegram-bot objects (``telegram.Message``
and friends), so a test goes through exactly the code the bot runs::

    from tgstats.testing import fill_store, make_chat, make_message, make_user

    alice = make_user(1, "Alice", username="alice")
    chat = make_chat(-100123, "Test group")
    fill_store(store, [
        make_message(chat, alice, "hello", date="2026-03-01T10:00:00Z"),
        make_message(chat, alice, media="photo", caption="look", date="2026-03-01T10:05:00Z"),
    ])

Message ids are assigned per chat automatically unless given.  The fixtures
a plugin's tests use (``store``, ``make_plugin``, ``command_reply``, ...) are in
:mod:`tgstats.testing.pytest_plugin`, which pytest loads by itself.
"""

from __future__ import annotations

import contextlib
import importlib.util
import itertools
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import telegram
import yaml

if TYPE_CHECKING:
    from tgstats.plugins import (
        Button,
        ChatSettings,
        CommandContext,
        Plugin,
        Reply,
        ScheduleContext,
    )

__all__ = [
    "MEDIA_BUILDERS",
    "command_context",
    "configure_plugin",
    "fill_store",
    "find_button",
    "make_channel",
    "make_chat",
    "make_chat_member",
    "make_message",
    "make_reaction",
    "make_reaction_count",
    "make_sticker",
    "make_user",
    "press_button",
    "run_command",
    "run_job",
    "schedule_context",
    "speaking",
    "utc",
]

_ids: dict[int, itertools.count[int]] = {}


def utc(value: str | datetime | int | float) -> datetime:
    """A UTC datetime from ``"2026-03-01T10:00:00Z"``, unix seconds or a datetime."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def make_user(
    user_id: int, first_name: str, *, last_name: str | None = None, username: str | None = None
) -> telegram.User:
    return telegram.User(
        id=user_id,
        first_name=first_name,
        last_name=last_name,
        username=username,
        is_bot=False,
    )


def make_chat(
    chat_id: int = -1001, title: str = "Test group", *, type: str = "supergroup"
) -> telegram.Chat:
    return telegram.Chat(id=chat_id, type=type, title=title)


def make_channel(chat_id: int, title: str, *, username: str | None = None) -> telegram.Chat:
    """A channel, to use as ``sender_chat`` (channel posts in a discussion group)."""
    return telegram.Chat(id=chat_id, type="channel", title=title, username=username)


def _file(kind: str, n: int) -> dict[str, Any]:
    return {"file_id": f"{kind}-{n}", "file_unique_id": f"u-{kind}-{n}"}


def _media(kind: str, n: int) -> dict[str, Any]:
    """Keyword arguments for ``telegram.Message`` that attach media of ``kind``."""
    f = _file(kind, n)
    builders: dict[str, Any] = {
        "photo": lambda: {"photo": (telegram.PhotoSize(width=90, height=90, **f),)},
        "sticker": lambda: {"sticker": _sticker(f, "😀")},
        "video": lambda: {"video": telegram.Video(width=640, height=360, duration=3, **f)},
        "voice": lambda: {"voice": telegram.Voice(duration=2, **f)},
        "audio": lambda: {"audio": telegram.Audio(duration=120, **f)},
        "document": lambda: {"document": telegram.Document(file_name="a.pdf", **f)},
        "animation": lambda: {
            # Telegram sends an animation together with a document, like here.
            "animation": telegram.Animation(width=320, height=240, duration=2, **f),
            "document": telegram.Document(file_name="a.mp4", **f),
        },
        "video_note": lambda: {"video_note": telegram.VideoNote(length=240, duration=4, **f)},
        "poll": lambda: {
            "poll": telegram.Poll(
                id=f"poll-{n}",
                question="Lunch?",
                options=(
                    telegram.PollOption("yes", 0, persistent_id="yes"),
                    telegram.PollOption("no", 0, persistent_id="no"),
                ),
                total_voter_count=0,
                is_closed=False,
                is_anonymous=True,
                type="regular",
                allows_multiple_answers=False,
                allows_revoting=False,
                members_only=False,
            )
        },
        "location": lambda: {"location": telegram.Location(longitude=13.4, latitude=52.5)},
        "contact": lambda: {"contact": telegram.Contact(phone_number="+100", first_name="Bob")},
        "dice": lambda: {"dice": telegram.Dice(value=3, emoji="🎲")},
    }
    if kind not in builders:
        raise ValueError(f"unknown media kind {kind!r}; expected one of {sorted(builders)}")
    return builders[kind]()


def _sticker(file: dict[str, Any], emoji: str | None) -> telegram.Sticker:
    return telegram.Sticker(
        width=512,
        height=512,
        is_animated=False,
        is_video=False,
        type="regular",
        emoji=emoji,
        **file,
    )


_sticker_ids = itertools.count(1)


def make_sticker(
    chat: telegram.Chat,
    sender: telegram.User | telegram.Chat | None,
    emoji: str | None,
    **kwargs: Any,
) -> telegram.Message:
    """A real sticker message carrying ``emoji`` (None: a sticker without one);
    ``kwargs`` go to :func:`make_message` (``date=``, ``message_id=``, ...)."""
    sticker = _sticker(_file("sticker", next(_sticker_ids)), emoji)
    return make_message(chat, sender, None, sticker=sticker, **kwargs)


MEDIA_BUILDERS = (
    "photo",
    "sticker",
    "video",
    "voice",
    "audio",
    "document",
    "animation",
    "video_note",
    "poll",
    "location",
    "contact",
    "dice",
)


def make_message(
    chat: telegram.Chat,
    sender: telegram.User | telegram.Chat | None,
    text: str | None = None,
    *,
    date: str | datetime | int | float = "2026-01-01T12:00:00Z",
    message_id: int | None = None,
    entities: Iterable[telegram.MessageEntity] = (),
    caption: str | None = None,
    caption_entities: Iterable[telegram.MessageEntity] = (),
    media: str | None = None,
    reply_to: telegram.Message | None = None,
    thread_id: int | None = None,
    is_topic_message: bool | None = None,
    edit_date: str | datetime | int | float | None = None,
    **extra: Any,
) -> telegram.Message:
    """A real ``telegram.Message``.

    ``sender`` is a User, or a Chat for a channel/anonymous admin posting as
    a chat (set as ``sender_chat``, like Telegram does).  ``media`` is one of
    MEDIA_BUILDERS.  ``extra`` goes straight to ``telegram.Message``
    (e.g. ``migrate_to_chat_id=...``, ``new_chat_members=(...)``).
    """
    if message_id is None:
        message_id = next(_ids.setdefault(chat.id, itertools.count(1)))
    kwargs: dict[str, Any] = dict(extra)
    if isinstance(sender, telegram.Chat):
        kwargs["sender_chat"] = sender
        # What Telegram puts in `from` for messages sent on behalf of a chat.
        kwargs.setdefault(
            "from_user",
            telegram.User(id=136817688, first_name="Channel", is_bot=True, username="Channel_Bot"),
        )
    elif sender is not None:
        kwargs["from_user"] = sender
    if media is not None:
        kwargs.update(_media(media, message_id))
    return telegram.Message(
        message_id=message_id,
        date=utc(date),
        chat=chat,
        text=text,
        entities=tuple(entities) or None,
        caption=caption,
        caption_entities=tuple(caption_entities) or None,
        reply_to_message=reply_to,
        message_thread_id=thread_id,
        is_topic_message=is_topic_message,
        edit_date=utc(edit_date) if edit_date is not None else None,
        **kwargs,
    )


def make_reaction_count(
    chat: telegram.Chat,
    message_id: int,
    counts: dict[str, int],
    *,
    date: str | datetime | int | float = "2026-01-01T12:00:00Z",
) -> telegram.MessageReactionCountUpdated:
    """Anonymous reaction totals, e.g. ``{"👍": 3, "❤": 1}``."""
    return telegram.MessageReactionCountUpdated(
        chat=chat,
        message_id=message_id,
        date=utc(date),
        reactions=tuple(
            telegram.ReactionCount(type=telegram.ReactionTypeEmoji(emoji), total_count=n)
            for emoji, n in counts.items()
        ),
    )


def make_reaction(
    chat: telegram.Chat,
    message_id: int,
    user: telegram.User,
    *,
    old: Iterable[str] = (),
    new: Iterable[str] = (),
    date: str | datetime | int | float = "2026-01-01T12:00:00Z",
) -> telegram.MessageReactionUpdated:
    """One user's reaction change (what groups send), e.g. ``new=["👍"]``."""
    return telegram.MessageReactionUpdated(
        chat=chat,
        message_id=message_id,
        date=utc(date),
        old_reaction=tuple(telegram.ReactionTypeEmoji(e) for e in old),
        new_reaction=tuple(telegram.ReactionTypeEmoji(e) for e in new),
        user=user,
    )


def make_chat_member(
    chat: telegram.Chat,
    user: telegram.User,
    *,
    old: str = "left",
    new: str = "member",
    date: str | datetime | int | float = "2026-01-01T12:00:00Z",
) -> telegram.ChatMemberUpdated:
    """A ``chat_member`` update: ``user``'s status went from ``old`` to ``new``
    (``left``, ``kicked``, ``member``, ``administrator``, ``creator``)."""

    def member(status: str) -> telegram.ChatMember:
        if status == "administrator":
            no = False
            return telegram.ChatMemberAdministrator(
                user,
                can_be_edited=no,
                is_anonymous=no,
                can_manage_chat=no,
                can_delete_messages=no,
                can_manage_video_chats=no,
                can_restrict_members=no,
                can_promote_members=no,
                can_change_info=no,
                can_invite_users=no,
                can_post_stories=no,
                can_edit_stories=no,
                can_delete_stories=no,
            )
        if status == "creator":
            return telegram.ChatMemberOwner(user, is_anonymous=False)
        if status == "kicked":
            return telegram.ChatMemberBanned(user, until_date=utc(0))
        if status == "left":
            return telegram.ChatMemberLeft(user)
        if status == "member":
            return telegram.ChatMemberMember(user)
        raise ValueError(
            f"status: expected left, kicked, member, administrator or creator, found {status!r}"
        )

    return telegram.ChatMemberUpdated(
        chat=chat,
        from_user=user,
        date=utc(date),
        old_chat_member=member(old),
        new_chat_member=member(new),
    )


def fill_store(store: Any, messages: Iterable[telegram.Message]) -> int:
    """Record each message through the recorder; return how many were stored."""
    return sum(1 for message in messages if store.record_message(message))


P = TypeVar("P")


def _module_file(cls: type) -> Path:
    """The source file of ``cls``'s module, even after a host unloaded that module.

    A manager that stops (``tgstats demo``, ``plugins check``, a test) purges
    the plugin's modules from ``sys.modules``; a class imported before that
    still works, but ``inspect.getfile`` can no longer find its file.
    """
    module = sys.modules.get(cls.__module__)
    file = getattr(module, "__file__", None)
    if file is None:
        spec = importlib.util.find_spec(cls.__module__)
        file = spec.origin if spec is not None else None
    if file is None:
        raise TypeError(f"{cls.__qualname__}: cannot find the file of module {cls.__module__}")
    return Path(file)


def configure_plugin(
    plugin_cls: type[P], name: str, store: Any, config_dir: Path, **overrides: Any
) -> P:
    """An instance of ``plugin_cls`` configured exactly as the host would.

    Its code defaults, then the ``plugin.yaml`` beside its module, then
    ``overrides`` written as an operator's ``plugins.yaml`` (in ``config_dir``),
    resolved and validated by the host's own config code; the instance gets a
    real :class:`tgstats.host.services.Host` around ``store``'s queries.
    """
    from tgstats.config import load_host_config, resolve_plugin_config
    from tgstats.host.services import Host

    plugins_yaml = Path(config_dir) / "plugins.yaml"
    plugins_yaml.write_text(
        yaml.safe_dump({"plugins": {name: {"config": overrides}}}), encoding="utf-8"
    )
    plugin_yaml = _module_file(plugin_cls).parent / "plugin.yaml"
    resolved = resolve_plugin_config(
        name,
        plugin_cls.Config,  # type: ignore[attr-defined]
        plugin_yaml=plugin_yaml if plugin_yaml.exists() else None,
        host_config=load_host_config(plugins_yaml),
    )
    return plugin_cls(resolved.value, Host(name, store.queries))  # type: ignore[call-arg]


def command_context(
    command: str,
    store: Any,
    chat: telegram.Chat,
    *args: str,
    now: datetime | str,
    user_id: int | None = 1,
    chat_id: int | None = None,
    language: str = "en",
    settings: ChatSettings | None = None,
) -> CommandContext:
    """The CommandContext the bot would build for ``/command args...`` in ``chat``.

    ``settings`` stands for what the chat's admins chose with ``/settings``
    (a ``ChatSettings``; its ``config`` the plugin's config with the chat's
    options applied, e.g. ``attrs.evolve(plugin.config, top_n=3)``)."""
    from tgstats.plugins import ChatSettings, CommandContext

    return CommandContext(
        command=command,
        args=args,
        chat_id=chat.id if chat_id is None else chat_id,
        chat_title=chat.title,
        user_id=user_id,
        now=utc(now),
        store=store.queries,
        language=language,
        settings=settings if settings is not None else ChatSettings(),
    )


@contextlib.contextmanager
def speaking(plugin: Plugin[Any] | type[Plugin[Any]], language: str) -> Iterator[None]:
    """Inside the block ``_()`` and the ``format_*`` helpers speak ``language`` with
    ``plugin``'s catalogs, as during a command: for testing helpers a handler calls."""
    from tgstats.plugins._i18n import catalogs_for, use_language

    plugin_cls = plugin if isinstance(plugin, type) else type(plugin)
    with use_language(language, catalogs_for(plugin_cls)):
        yield


async def run_command(plugin: Plugin[Any], ctx: CommandContext) -> Reply | None:
    """Run ``ctx.command`` on ``plugin`` through invoke_command, the bot's own path."""
    from tgstats.host.invoke import invoke_command

    (spec,) = [spec for spec in plugin.commands() if spec.name == ctx.command]
    return await invoke_command(plugin, spec, ctx)


def schedule_context(
    job: str,
    store: Any,
    chat: telegram.Chat,
    *,
    rule: Any,
    now: datetime | str,
    zone: str = "UTC",
    chat_id: int | None = None,
    settings: ChatSettings | None = None,
    config: Any = None,
) -> ScheduleContext:
    """The ScheduleContext the scheduler would build for ``job`` in ``chat`` at ``now``.

    A :func:`~tgstats.plugins.per_chat` rule is resolved with ``settings.config``
    (else ``config``, the plugin's own); where it is off in the chat the run
    is "due" now, so a test can still run the job.
    """
    from zoneinfo import ZoneInfo

    from tgstats.plugins import ChatSettings, PerChat, ScheduleContext

    tz = ZoneInfo(zone)
    moment = utc(now)
    settings = settings if settings is not None else ChatSettings()
    if isinstance(rule, PerChat):
        rule = rule.resolve(settings.config if settings.config is not None else config)
    return ScheduleContext(
        job=job,
        chat_id=chat.id if chat_id is None else chat_id,
        chat_title=chat.title,
        now=moment,
        scheduled=rule.previous(moment, tz) if rule is not None else moment,
        zone=tz,
        store=store.queries,
        settings=settings,
    )


async def run_job(plugin: Plugin[Any], ctx: ScheduleContext) -> Reply | None:
    """Run the scheduled job ``ctx.job`` on ``plugin`` through invoke_job, the scheduler's path."""
    from tgstats.host.invoke import invoke_job

    (spec,) = [spec for spec in plugin.schedules() if spec.method == ctx.job]
    return await invoke_job(plugin, spec, ctx)


def find_button(reply: Reply | None, label: str) -> Button:
    """The button labelled ``label`` under ``reply`` (the current-choice mark "• " ignored)."""
    buttons = [item for row in (reply.buttons if reply is not None else ()) for item in row]
    for item in buttons:
        if label in (item.label, item.label.removeprefix("• ")):
            return item
    labels = ", ".join(repr(item.label) for item in buttons) or "none"
    raise LookupError(f"no button {label!r} under this reply (buttons: {labels})")


async def press_button(
    plugin: Plugin[Any],
    reply: Reply | None,
    label: str,
    *,
    store: Any,
    chat: telegram.Chat,
    now: datetime | str,
    user_id: int | None = 1,
    message_id: int = 1,
    language: str = "en",
) -> Reply | None:
    """Press the button ``label`` under ``reply`` as member ``user_id``; the new reply.

    The press takes the bot's path: the button's callback data is made and
    checked by the host's codec (so a payload past Telegram's 64 bytes fails
    here as it would in the chat), then the plugin's ``@button`` handler runs
    through ``invoke_button``.
    """
    import secrets

    from tgstats.host.callbacks import CallbackCodec
    from tgstats.host.invoke import invoke_button
    from tgstats.plugins import ButtonContext

    item = find_button(reply, label)
    name = plugin.host.name
    codec = CallbackCodec(secrets.token_bytes(32))
    decoded = codec.decode(codec.encode(name, item.handler, item.payload, chat.id), chat.id)
    assert not isinstance(decoded, str), decoded
    specs = [spec for spec in type(plugin).buttons() if spec.name == decoded.handler]
    if not specs:
        raise LookupError(f"plugin {name!r} has no @button({decoded.handler!r}) handler")
    ctx = ButtonContext(
        button=decoded.handler,
        payload=decoded.payload,
        chat_id=chat.id,
        chat_title=chat.title,
        user_id=user_id,
        message_id=message_id,
        now=utc(now),
        store=store.queries,
        language=language,
    )
    return await invoke_button(plugin, specs[0], ctx)
