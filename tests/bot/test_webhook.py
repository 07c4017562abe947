"""The webhook server: secret check, body limits, 200 only after the commit, registration."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from telegram import Bot, Update
from tgstats.bot.recorder import ALLOWED_UPDATES
from tgstats.bot.runtime import BotRuntime
from tgstats.bot.settings import (
    DEFAULT_WEBHOOK_MAX_CONNECTIONS,
    WebhookSettings,
    parse_listen,
    resolve_settings,
    resolve_webhook,
)
from tgstats.bot.webhook import (
    MAX_BODY,
    SECRET_HEADER,
    GroupCommit,
    WebhookServer,
    register_webhook,
)
from tgstats.errors import ConfigError, TgstatsError
from tgstats.store import Store

pytestmark = pytest.mark.timeout(30)

SECRET = "s3cret_Token-for-tests"
GROUP = -100123
USER = 4242


class StoreSubmit:
    """A real submit_batch: parse the updates, commit their messages, return; or fail on demand."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.batches: list[int] = []  # the size of each call
        self.fail_batches: set[int] = set()  # these calls (0-based) raise
        self.hold_first: asyncio.Event | None = None  # the first call waits for it
        self.delay = 0.0

    @property
    def calls(self) -> int:
        return len(self.batches)

    async def __call__(self, batch: list[dict[str, Any]]) -> None:
        number = len(self.batches)
        self.batches.append(len(batch))
        if number == 0 and self.hold_first is not None:
            await self.hold_first.wait()
        if self.delay:
            await asyncio.sleep(self.delay)
        if number in self.fail_batches:
            raise RuntimeError("store unavailable")
        updates = [Update.de_json(data, None) for data in batch]
        messages = [m for u in updates if (m := u.message or u.edited_message) is not None]
        await asyncio.to_thread(self.store.record_messages, messages)

    def stored(self) -> list[dict[str, Any]]:
        return list(self.store.export())


def webhook_settings(**overrides: Any) -> WebhookSettings:
    values: dict[str, Any] = {
        "url": "https://bot.example.org/tgstats/hook",
        "host": "127.0.0.1",
        "port": 0,
        "secret": SECRET,
    }
    values.update(overrides)
    return WebhookSettings(**values)


def update(update_id: int, message_id: int, text: str = "hello") -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": message_id,
            "date": 1_700_000_000 + message_id,
            "chat": {"id": GROUP, "type": "supergroup", "title": "G"},
            "from": {"id": USER, "is_bot": False, "first_name": "U"},
            "text": text,
        },
    }


class Client:
    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self.session = session
        self.url = url

    async def post(
        self, body: bytes | Any, secret: str | None = SECRET, *, url: str | None = None, **kw: Any
    ) -> tuple[int, str]:
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers[SECRET_HEADER] = secret
        if not isinstance(body, bytes) and not hasattr(body, "__aiter__"):
            body = json.dumps(body).encode()
        # A file-like body: aiohttp warns that big raw bytes could block the loop.
        data = io.BytesIO(body) if isinstance(body, bytes) else body
        async with self.session.post(url or self.url, data=data, headers=headers, **kw) as resp:
            return resp.status, await resp.text()


@pytest.fixture
def submit(store: Store) -> StoreSubmit:
    return StoreSubmit(store)


@pytest.fixture
async def server(submit: StoreSubmit) -> AsyncIterator[WebhookServer]:
    running = WebhookServer(webhook_settings(), submit, shutdown_timeout=5)
    await running.start()
    yield running
    await running.stop()


@pytest.fixture
async def client(server: WebhookServer) -> AsyncIterator[Client]:
    async with aiohttp.ClientSession() as session:
        yield Client(session, f"http://127.0.0.1:{server.port}/tgstats/hook")


# -- the secret --------------------------------------------------------------------


async def test_the_right_secret_stores_the_update_and_answers_200(
    client: Client, submit: StoreSubmit
) -> None:
    status, _ = await client.post(update(1, 10, "first words"))
    assert status == 200
    rows = submit.stored()
    assert [(r["chat_id"], r["message_id"], r["text"]) for r in rows] == [
        (GROUP, 10, "first words")
    ]


@pytest.mark.parametrize(
    ("secret", "status"),
    [(None, 401), ("wrong", 403), (SECRET.upper(), 403), (SECRET + "x", 403), ("", 403)],
)
async def test_a_missing_or_wrong_secret_is_refused_and_nothing_is_stored(
    client: Client, submit: StoreSubmit, secret: str | None, status: int
) -> None:
    got, _ = await client.post(update(1, 10), secret)
    assert got == status
    assert submit.calls == 0
    assert submit.stored() == []


async def test_a_non_ascii_secret_header_is_refused_not_a_500(
    client: Client, submit: StoreSubmit
) -> None:
    got, _ = await client.post(update(1, 10), "sécret".encode().decode("latin-1"))
    assert got == 403
    assert submit.calls == 0


async def test_refusals_are_logged_rate_limited(client: Client, log_lines: Any) -> None:
    for _ in range(30):
        assert (await client.post(update(1, 10), "wrong"))[0] == 403
    lines = [line for line in log_lines.getvalue().splitlines() if "webhook_rejected" in line]
    assert len(lines) == 1, lines
    assert "status=403" in lines[0] and "wrong secret token" in lines[0]
    assert SECRET not in log_lines.getvalue()


# -- bodies ------------------------------------------------------------------------


async def test_an_oversized_body_gets_413_and_is_not_submitted(
    client: Client, submit: StoreSubmit
) -> None:
    big = update(1, 10, "x" * (MAX_BODY + 1))
    status, _ = await client.post(big)
    assert status == 413
    assert submit.calls == 0 and submit.stored() == []


async def test_an_oversized_chunked_body_without_length_gets_413(
    client: Client, submit: StoreSubmit
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(MAX_BODY // 65536 + 2):
            yield b" " * 65536

    status, _ = await client.post(chunks())
    assert status == 413
    assert submit.calls == 0


@pytest.mark.parametrize(
    "body",
    [
        b"not json at all",
        b"\xff\xfe\x00",
        b"[1, 2, 3]",
        b'{"message": {}}',
        b'{"update_id": "7"}',
        b'{"update_id": true}',
        b"",
    ],
)
async def test_a_body_that_is_not_an_update_gets_400(
    client: Client, submit: StoreSubmit, body: bytes
) -> None:
    status, _ = await client.post(body)
    assert status == 400
    assert submit.calls == 0


async def test_only_post_on_the_webhook_path_is_served(client: Client, submit: StoreSubmit) -> None:
    async with client.session.get(client.url, headers={SECRET_HEADER: SECRET}) as resp:
        assert resp.status == 405
    other = client.url.replace("/tgstats/hook", "/other")
    assert (await client.post(update(1, 10), url=other))[0] == 404
    assert submit.calls == 0


# -- at-least-once -----------------------------------------------------------------


async def test_a_failed_submit_is_a_503_and_the_retry_stores_it_once(
    client: Client, submit: StoreSubmit
) -> None:
    submit.fail_batches = {0, 1}
    assert (await client.post(update(5, 50)))[0] == 503
    assert (await client.post(update(5, 50)))[0] == 503
    assert submit.stored() == []
    assert (await client.post(update(5, 50)))[0] == 200
    assert (await client.post(update(5, 50)))[0] == 200  # a duplicate delivery
    assert [r["message_id"] for r in submit.stored()] == [50]


async def test_the_200_waits_for_the_commit(client: Client, submit: StoreSubmit) -> None:
    submit.delay = 0.3
    post = asyncio.ensure_future(client.post(update(1, 10)))
    await asyncio.sleep(0.15)
    assert not post.done()  # still committing: no answer yet
    assert (await post)[0] == 200
    assert len(submit.stored()) == 1


async def test_concurrent_deliveries_share_commits_and_are_all_stored_once(
    client: Client, submit: StoreSubmit
) -> None:
    submit.delay = 0.05  # a commit that takes a while, as on a busy disk
    updates = [update(i, 100 + i, f"m{i}") for i in range(60)]
    results = await asyncio.gather(*(client.post(u) for u in updates + updates[:20]))
    assert [status for status, _ in results] == [200] * 80
    assert sorted(r["message_id"] for r in submit.stored()) == list(range(100, 160))
    assert sum(submit.batches) == 80
    assert len(submit.batches) < 20, submit.batches  # grouped, not a commit per request


async def test_a_failed_group_commit_fails_every_request_in_it(
    client: Client, submit: StoreSubmit
) -> None:
    submit.hold_first = asyncio.Event()
    submit.fail_batches = {1}
    first = asyncio.ensure_future(client.post(update(1, 10)))  # a batch of its own
    await asyncio.sleep(0.1)
    rest = [asyncio.ensure_future(client.post(update(i, 10 + i))) for i in (2, 3)]
    await asyncio.sleep(0.1)  # both wait for the next batch
    submit.hold_first.set()
    assert (await first)[0] == 200
    assert [(await post)[0] for post in rest] == [503, 503]
    assert submit.batches == [1, 2]
    assert [r["message_id"] for r in submit.stored()] == [10]


async def test_stop_lets_a_request_in_flight_finish_then_refuses_connections(
    server: WebhookServer, client: Client, submit: StoreSubmit
) -> None:
    submit.delay = 0.5
    post = asyncio.ensure_future(client.post(update(1, 10)))
    await asyncio.sleep(0.2)
    await server.stop()
    assert (await post)[0] == 200
    assert len(submit.stored()) == 1
    with pytest.raises(aiohttp.ClientConnectionError):
        await client.post(update(2, 11))


async def test_a_port_in_use_is_a_one_line_error(server: WebhookServer, submit: Any) -> None:
    second = WebhookServer(webhook_settings(port=server.port), submit)
    where = f"127.0.0.1:{server.port}"
    with pytest.raises(TgstatsError, match=f"cannot listen for the webhook on {where}"):
        await second.start()


# -- registration ------------------------------------------------------------------


async def test_register_sets_url_secret_allowed_updates_and_max_connections(
    fake_api: Any,
) -> None:
    settings = webhook_settings(max_connections=7)
    async with Bot(fake_api.token, base_url=fake_api.url) as bot:
        await register_webhook(bot, settings)
    assert fake_api.webhook["url"] == settings.url
    assert fake_api.webhook["secret_token"] == SECRET
    assert fake_api.webhook["allowed_updates"] == list(ALLOWED_UPDATES)
    assert fake_api.webhook["max_connections"] == 7
    assert not fake_api.webhook.get("drop_pending_updates")


async def test_a_refused_webhook_url_stops_the_start(fake_api: Any) -> None:
    async with Bot(fake_api.token, base_url=fake_api.url) as bot:
        with pytest.raises(TgstatsError, match="Telegram refused the webhook URL"):
            await register_webhook(bot, webhook_settings(url=""))  # refused, like Telegram
    assert fake_api.webhook is None


async def start_runtime(fake_api: Any, tmp_path: Path) -> tuple[BotRuntime, Any, str]:
    """A real BotRuntime in webhook mode (no plugins); (runtime, its task, the webhook URL)."""
    import attrs

    config = tmp_path / "plugins.yaml"
    config.write_text("settings:\n  hot_reload: false\n  load_unlisted_plugins: false\n")
    settings = resolve_settings(
        db_url=f"sqlite:///{tmp_path / 'hook.db'}",
        plugins_config=str(config),
        admins="1",
        log_file=str(tmp_path / "tgstats.log"),
        env={"TGSTATS_TOKEN": fake_api.token, "TGSTATS_API_URL": fake_api.url},
    )
    runtime = BotRuntime(attrs.evolve(settings, webhook=webhook_settings()))
    task = asyncio.ensure_future(runtime.run())
    await fake_api.wait_until(
        lambda: runtime._webhook is not None or task.done(), 20, "the webhook served"
    )
    assert runtime._webhook is not None, task.result()
    return runtime, task, f"http://127.0.0.1:{runtime._webhook.port}/tgstats/hook"


class RefusingStore:
    """Makes the runtime's store refuse every write (a database fault) until ``clear``."""

    def __init__(self, store: Store) -> None:
        # Below record_messages, which the recorder holds on to while it retries.
        self.store = store
        self.original = store._record_run
        self.refused = 0
        store._record_run = self.refuse  # type: ignore[method-assign]

    def refuse(self, run: Any) -> list[bool]:
        import sqlalchemy.exc

        self.refused += 1
        raise sqlalchemy.exc.OperationalError("INSERT", {}, Exception("disk I/O error"))

    def clear(self) -> None:
        self.store._record_run = self.original  # type: ignore[method-assign]


async def test_the_runtime_serves_the_webhook_and_never_deletes_it(
    fake_api: Any, tmp_path: Path
) -> None:
    """The real BotRuntime in webhook mode: recorded, commands answered, no polling."""
    runtime, task, url = await start_runtime(fake_api, tmp_path)
    try:
        assert fake_api.webhook is not None
        async with aiohttp.ClientSession() as session:
            client = Client(session, url)
            assert (await client.post(update(1, 10, "recorded via webhook")))[0] == 200
            rows = list(runtime.store.export())
            assert [r["text"] for r in rows] == ["recorded via webhook"]
            command = update(2, 11, "/plugins")
            command["message"]["chat"] = {"id": 1, "type": "private", "first_name": "A"}
            command["message"]["from"]["id"] = 1
            command["message"]["entities"] = [{"type": "bot_command", "offset": 0, "length": 8}]
            assert (await client.post(command))[0] == 200
            await fake_api.wait_until(lambda: fake_api.sent_to(1), 10, "the /plugins answer")
            assert (await client.post(update(3, 12), "nope"))[0] == 403
        assert fake_api.call_count("getUpdates") == 0
    finally:
        runtime.request_stop("test")
        assert await asyncio.wait_for(task, 20) == 0
    assert fake_api.call_count("deleteWebhook") == 0
    assert fake_api.webhook is not None  # the other workers keep being served


async def test_while_the_store_refuses_writes_no_200_and_it_is_stored_once_it_recovers(
    fake_api: Any, tmp_path: Path
) -> None:
    runtime, task, url = await start_runtime(fake_api, tmp_path)
    try:
        fault = RefusingStore(runtime.store)
        async with aiohttp.ClientSession() as session:
            client = Client(session, url)
            post = asyncio.ensure_future(client.post(update(1, 10, "during the fault")))
            await fake_api.wait_until(lambda: fault.refused >= 2, 10, "retried writes")
            assert not post.done()  # held, not confirmed
            fault.clear()
            assert (await asyncio.wait_for(post, 10))[0] == 200
            assert [r["text"] for r in runtime.store.export()] == ["during the fault"]
    finally:
        runtime.request_stop("test")
        assert await asyncio.wait_for(task, 20) == 0


async def test_stopping_while_the_store_refuses_writes_answers_503(
    fake_api: Any, tmp_path: Path
) -> None:
    runtime, task, url = await start_runtime(fake_api, tmp_path)
    fault = RefusingStore(runtime.store)
    async with aiohttp.ClientSession() as session:
        post = asyncio.ensure_future(Client(session, url).post(update(1, 10)))
        await fake_api.wait_until(lambda: fault.refused >= 1, 10, "a refused write")
        runtime.request_stop("test")
        status, _ = await asyncio.wait_for(post, 15)
    assert status == 503  # not stored, so not confirmed: Telegram sends it again
    assert await asyncio.wait_for(task, 20) == 0
    fault.clear()
    assert list(runtime.store.export()) == []


# -- settings ----------------------------------------------------------------------


def secret_file(tmp_path: Path, text: str = SECRET) -> str:
    path = tmp_path / "secret"
    path.write_text(text + "\n")
    return str(path)


def test_no_webhook_url_means_long_polling() -> None:
    assert resolve_settings(env={"TGSTATS_TOKEN": "1:a"}).webhook is None


def test_webhook_flags_without_a_webhook_url_are_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--listen only apply to webhook mode"):
        resolve_webhook(listen="127.0.0.1:8081", env={})
    # The variables alone do not switch modes: a shared environment file may set them.
    assert resolve_webhook(env={"TGSTATS_WEBHOOK_LISTEN": "127.0.0.1:8081"}) is None


def test_webhook_settings_from_flags_and_environment(tmp_path: Path) -> None:
    env = {
        "TGSTATS_WEBHOOK_URL": "https://bot.example.org/hook",
        "TGSTATS_WEBHOOK_SECRET_FILE": secret_file(tmp_path),
        "TGSTATS_WEBHOOK_LISTEN": "0.0.0.0:9000",
    }
    from_env = resolve_webhook(env=env)
    assert from_env is not None
    assert (from_env.url, from_env.host, from_env.port, from_env.path) == (
        "https://bot.example.org/hook",
        "0.0.0.0",
        9000,
        "/hook",
    )
    assert from_env.secret == SECRET and SECRET not in repr(from_env)
    assert from_env.max_connections == DEFAULT_WEBHOOK_MAX_CONNECTIONS
    flags = resolve_webhook(
        url="https://other.example.org/x", listen="8082", max_connections="3", env=env
    )
    assert flags is not None
    assert (flags.url, flags.host, flags.port, flags.max_connections) == (
        "https://other.example.org/x",
        "127.0.0.1",
        8082,
        3,
    )


def test_webhook_mode_requires_a_secret(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="needs a secret token file") as error:
        resolve_webhook(url="https://bot.example.org/hook", env={})
    assert "token_urlsafe" in str(error.value)


@pytest.mark.parametrize("text", ["", "has space", "ü" * 3, "x" * 257, "a/b"])
def test_a_secret_telegram_would_refuse_is_a_config_error(tmp_path: Path, text: str) -> None:
    path = secret_file(tmp_path, text)
    with pytest.raises(ConfigError, match="expected 1-256 characters") as error:
        resolve_webhook(url="https://h/x", secret_file=path, env={})
    assert str(error.value).startswith(path)
    if text:
        assert text not in str(error.value)  # never echo a secret


def test_an_unreadable_secret_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(ConfigError, match="cannot read the webhook secret file") as error:
        resolve_webhook(url="https://h/x", secret_file=str(missing), env={})
    assert str(missing) in str(error.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("127.0.0.1:8080", ("127.0.0.1", 8080)),
        ("[::1]:81", ("::1", 81)),
        (":90", ("127.0.0.1", 90)),
    ],
)
def test_listen_addresses(value: str, expected: tuple[str, int]) -> None:
    assert parse_listen(value) == expected


@pytest.mark.parametrize("value", ["host", "host:port", "h:70000", "h:-1"])
def test_a_bad_listen_address_names_the_flag(value: str) -> None:
    with pytest.raises(ConfigError, match="--listen: expected HOST:PORT"):
        parse_listen(value, source="--listen")


@pytest.mark.parametrize("value", ["0", "101", "many"])
def test_max_connections_is_1_to_100(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError, match="TGSTATS_WEBHOOK_MAX_CONNECTIONS: expected a number"):
        resolve_webhook(
            url="https://h/x",
            secret_file=secret_file(tmp_path),
            env={"TGSTATS_WEBHOOK_MAX_CONNECTIONS": value},
        )


@pytest.mark.parametrize("url", ["bot.example.org/hook", "ftp://h/x", "https:///x"])
def test_a_webhook_url_that_is_not_http_is_refused(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigError, match="--webhook-url: expected the public URL"):
        resolve_webhook(url=url, secret_file=secret_file(tmp_path), env={})


# -- N workers, one database ---------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_workers_starting_at_once_on_an_empty_postgresql_database_all_open_it(
    store_url: str,
) -> None:
    import threading

    import sqlalchemy
    from tgstats.store import open_store

    barrier = threading.Barrier(4)
    errors: list[str] = []

    def open_and_close() -> None:
        barrier.wait()
        try:
            open_store(store_url).close()
        except Exception as error:
            errors.append(str(error))

    threads = [threading.Thread(target=open_and_close) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    engine = sqlalchemy.create_engine(store_url)
    with engine.connect() as connection:
        versions = connection.execute(sqlalchemy.text("SELECT version FROM tgstats_schema_version"))
        assert len(versions.all()) == 1
    engine.dispose()


async def test_a_cancelled_group_commit_leaves_no_request_waiting() -> None:
    started = asyncio.Event()

    async def never_commits(batch: list[dict[str, Any]]) -> None:
        started.set()
        await asyncio.Event().wait()

    group = GroupCommit(never_commits)
    posts = [asyncio.ensure_future(group.submit(update(i, i))) for i in range(3)]
    await started.wait()
    assert group._drain_task is not None
    group._drain_task.cancel()
    results = await asyncio.wait_for(asyncio.gather(*posts, return_exceptions=True), 5)
    assert all(isinstance(result, RuntimeError) for result in results), results
