"""The real ``tgstats run --webhook-url`` processes, posted to the way Telegram posts.

The stand-in records what the bot registered (setWebhook); the test plays
Telegram's side with :class:`WebhookSender`: JSON POSTs with the secret
header, retried until a 2xx, round-robin over the workers like a load balancer
that fails over.
"""

from __future__ import annotations

import itertools
import json
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from tgstats.bot.recorder import ALLOWED_UPDATES

from .conftest import bot_env, fake_bot_api, launch_bot, run_tgstats

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

SECRET = "e2e_webhook-Secret_0123456789"
CHATS = (-100701, -100702, -100703)
USERS = (3001, 3002, 3003)
PLUGINS_YAML = """\
settings:
  hot_reload: false
  load_unlisted_plugins: false
plugins:
  heatmap_command: {enabled: true}
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@attrs.define
class Worker:
    process: subprocess.Popen[bytes]
    url: str
    output: Path
    log_file: Path

    def console(self) -> str:
        return self.output.read_text(encoding="utf-8", errors="replace")

    def log(self) -> str:
        return self.log_file.read_text(encoding="utf-8") if self.log_file.exists() else ""

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise AssertionError(f"worker exited with {self.process.returncode}:\n{self.console()}")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"worker ignored {sig!r} for 30 s:\n{self.console()}") from None


@attrs.define
class Cluster:
    """N ``tgstats run --webhook-url`` workers sharing one database and one stand-in."""

    api: Any
    tmp: Path
    db_url: str
    workers: list[Worker] = attrs.Factory(list)
    _ids: Iterator[int] = attrs.Factory(lambda: itertools.count(1))

    def env(self, **extra: str) -> dict[str, str]:
        return bot_env(self.api, self.tmp, TGSTATS_DB=self.db_url, **extra)

    def start(self, name: str, *, max_connections: int = 5, webhook: bool = True) -> Worker:
        port = free_port()
        log_file = self.tmp / name / "tgstats.log"
        output = self.tmp / name / "console.log"
        output.parent.mkdir(parents=True, exist_ok=True)
        env = self.env(
            TGSTATS_LOG_FILE=str(log_file), TGSTATS_PID_FILE=str(self.tmp / name / "tgstats.pid")
        )
        args = ["--listen", f"127.0.0.1:{port}", "--webhook-max-connections", str(max_connections)]
        if webhook:
            env.update(
                TGSTATS_WEBHOOK_URL="https://bot.example.org/tgstats/hook",
                TGSTATS_WEBHOOK_SECRET_FILE=str(self.tmp / "secret"),
            )
        else:
            args = []
        process = launch_bot(env, self.tmp, output, *args)
        worker = Worker(process, f"http://127.0.0.1:{port}/tgstats/hook", output, log_file)
        self.workers.append(worker)
        return worker

    def wait_serving(self, *workers: Worker) -> None:
        for worker in workers:
            self.api.wait_for(
                lambda w=worker: w.check_alive() or "bot_started" in w.log(),
                60,
                "a worker to serve its webhook",
            )

    def update(self, chat: int, user: int, text: str) -> dict[str, Any]:
        return {"update_id": next(self._ids), "message": self.api.message(chat, user, text)}

    def burst(self, count: int) -> list[dict[str, Any]]:
        return [
            self.update(CHATS[i % 3], USERS[i % len(USERS)], f"webhook message {i}")
            for i in range(count)
        ]

    def stored(self) -> list[tuple[int, int]]:
        done = run_tgstats(self.env(), "export")
        assert done.returncode == 0, done.stderr
        rows = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
        return [(row["chat_id"], row["message_id"]) for row in rows]


def keys(updates: list[dict[str, Any]]) -> list[tuple[int, int]]:
    return [(u["message"]["chat"]["id"], u["message"]["message_id"]) for u in updates]


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    (tmp_path / "plugins.yaml").write_text(PLUGINS_YAML)
    (tmp_path / "secret").write_text(SECRET + "\n")
    (tmp_path / "site").mkdir()
    with fake_bot_api.ThreadedFakeBotApi() as api:
        running = Cluster(api, tmp_path, f"sqlite:///{tmp_path / 'hook.db'}")
        try:
            yield running
        finally:
            for worker in running.workers:
                if worker.process.poll() is None:
                    worker.process.kill()
                    worker.process.wait()


def test_webhook_mode_registers_and_stores_only_what_carries_the_secret(cluster: Cluster) -> None:
    api = cluster.api
    worker = cluster.start("one", max_connections=7)
    cluster.wait_serving(worker)
    assert api.webhook["url"] == "https://bot.example.org/tgstats/hook"
    assert api.webhook["secret_token"] == SECRET
    assert api.webhook["allowed_updates"] == list(ALLOWED_UPDATES)
    assert api.webhook["max_connections"] == 7
    assert api.call_count("getUpdates") == 0  # long polling is off

    good = cluster.burst(90)
    delivery = fake_bot_api.WebhookSender([worker.url], SECRET).deliver_sync(good)
    assert delivery.count(200) == 90 and len(delivery.statuses) == 90  # no retry needed

    forged = cluster.burst(10)
    wrong = fake_bot_api.WebhookSender([worker.url], "not-the-secret", attempts=1)
    none = fake_bot_api.WebhookSender([worker.url], None, attempts=1)
    with pytest.raises(TimeoutError):
        wrong.deliver_sync(forged[:5])
    with pytest.raises(TimeoutError):
        none.deliver_sync(forged[5:])
    assert sorted(cluster.stored()) == sorted(keys(good))

    # Commands are answered in webhook mode too.
    before = len(api.sent_to(CHATS[0]))
    command = cluster.update(CHATS[0], USERS[0], "/heatmap")
    fake_bot_api.WebhookSender([worker.url], SECRET).deliver_sync([command])
    reply = api.wait_for_reply(CHATS[0], before, 30)
    assert reply.method in ("sendPhoto", "sendMessage")

    assert worker.stop() == 0
    log = worker.log()
    assert "stopped" in log and "webhook_stopped" in log
    assert "webhook_rejected" in log and SECRET not in log + worker.console()
    assert api.call_count("deleteWebhook") == 0  # other workers may still serve it


def test_webhook_mode_without_a_secret_refuses_to_start(cluster: Cluster) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tgstats", "run", "--webhook-url", "https://h.example.org/x"],
        env=cluster.env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "needs a secret token file" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert cluster.api.call_count("setWebhook") == 0


@pytest.mark.postgres
@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_two_workers_sharing_postgresql_store_everything_once(
    cluster: Cluster, store_url: str
) -> None:
    """Spread over two workers, duplicates to both, one SIGKILLed mid-burst: all stored once."""
    cluster.db_url = store_url
    first, second = cluster.start("w1"), cluster.start("w2")  # at once, on an empty schema
    cluster.wait_serving(first, second)
    assert cluster.api.call_count("setWebhook") == 2
    both = fake_bot_api.WebhookSender([first.url, second.url], SECRET, connections=8)

    spread = cluster.burst(300)
    delivery = both.deliver_sync(spread)
    assert delivery.count(200) == 300
    served = delivery.by_url()
    assert served[first.url] >= 100 and served[second.url] >= 100, served

    # A retrying Telegram: the same updates again, to each worker.
    again = spread[:100]
    fake_bot_api.WebhookSender([first.url], SECRET).deliver_sync(again)
    fake_bot_api.WebhookSender([second.url], SECRET).deliver_sync(again)
    assert sorted(cluster.stored()) == sorted(keys(spread))

    # One worker is SIGKILLed in the middle of a burst: the sender fails over.
    late = cluster.burst(300)
    result: dict[str, Any] = {}
    sender = threading.Thread(target=lambda: result.update(d=both.deliver_sync(late)))
    sender.start()
    cluster.api.wait_for(lambda: both.accepted >= 400, 30, "the second burst under way")
    first.process.kill()
    first.process.wait()
    sender.join(60)
    assert not sender.is_alive()
    assert result["d"].count(200) == 300
    stored = cluster.stored()
    assert len(stored) == len(set(stored)) == 600
    assert set(stored) == set(keys(spread + late))

    assert second.stop() == 0
    assert cluster.api.call_count("deleteWebhook") == 0


def test_going_back_to_long_polling_deletes_the_webhook_and_keeps_what_is_pending(
    cluster: Cluster,
) -> None:
    api = cluster.api
    worker = cluster.start("hook")
    cluster.wait_serving(worker)
    assert worker.stop() == 0
    assert api.webhook is not None  # a stopped worker leaves it registered
    pending = [api.send_message(CHATS[1], USERS[1], f"while switching {i}") for i in range(5)]
    pending.append(api.send_message(CHATS[1], USERS[1], "/heatmap"))
    poller = cluster.start("poll", webhook=False)
    cluster.wait_serving(poller)
    # Handled in order after the pending messages: once answered, they are stored.
    api.wait_for_reply(CHATS[1], 0, 60)
    assert api.webhook is None
    deletes = [params for name, params in api.calls if name == "deleteWebhook"]
    assert deletes and not any(d.get("drop_pending_updates") for d in deletes)
    assert sorted(cluster.stored()) == sorted((m["chat"]["id"], m["message_id"]) for m in pending)
    assert poller.stop() == 0
