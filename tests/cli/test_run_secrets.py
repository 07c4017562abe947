"""`tgstats run` against a Bot API that echoes the request URL in its errors.

python-telegram-bot capitalises the first letter of an error and lower-cases
the rest, so the token comes back in lower case; a proxy may percent-encode
it.  Neither form may reach stderr or the log file.
"""

from __future__ import annotations

import asyncio
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from aiohttp import web

TOKEN = "987654:AAHsecretTokenValueForEchoTests12345"


class EchoingApi:
    """A Bot API stand-in that rejects every call, quoting the URL it was sent to."""

    def __init__(self, encode: bool) -> None:
        self.encode = encode
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._answer)
        self._runner = web.AppRunner(app)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/bot"
        self._started.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self._runner.cleanup())
        self._loop.close()

    async def _answer(self, request: web.Request) -> web.Response:
        echoed = str(request.url)
        if self.encode:
            echoed = echoed.replace(TOKEN, quote(TOKEN, safe=""))
        return web.json_response(
            {"ok": False, "error_code": 400, "description": f"Url {echoed} is wrong"},
            status=400,
        )

    def __enter__(self) -> EchoingApi:
        self._thread.start()
        assert self._started.wait(10)
        return self

    def __exit__(self, *_exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


@pytest.fixture(params=[False, True], ids=["plain", "percent-encoded"])
def echoing_api(request: pytest.FixtureRequest) -> Iterator[EchoingApi]:
    with EchoingApi(encode=request.param) as api:
        yield api


def test_the_token_never_reaches_stderr_or_the_log(
    echoing_api: EchoingApi,
    run_tgstats: Callable[..., subprocess.CompletedProcess[str]],
    tmp_path: Path,
) -> None:
    log_file = tmp_path / "logs" / "tgstats.log"
    result = run_tgstats(
        "run",
        env={
            "TGSTATS_TOKEN": TOKEN,
            "TGSTATS_API_URL": echoing_api.url,
            "TGSTATS_DB": f"sqlite:///{tmp_path / 'bot.db'}",
            "TGSTATS_LOG_FILE": str(log_file),
        },
    )
    assert result.returncode != 0
    assert "is wrong" in result.stderr  # the echo really happened
    secret = TOKEN.partition(":")[2].lower()
    outputs = [result.stdout, result.stderr]
    if log_file.exists():
        outputs.append(log_file.read_text(encoding="utf-8"))
    for text in outputs:
        assert secret not in text.lower()
        assert quote(TOKEN, safe="").lower() not in text.lower()
    assert "<token>" in result.stderr
