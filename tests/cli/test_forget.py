"""`tgstats forget`: an admin erases a member from the store and from every plugin."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tgstats.cli.main import main
from tgstats.store import open_store
from tgstats.testing import fill_store, make_chat, make_message, make_user

GROUP = make_chat(-1001000000801, "G")
OTHER = make_chat(-1001000000802, "O")
ALICE = make_user(51, "Alice", username="alice")
BOB = make_user(52, "Bob")

PLUGIN = """\
import json
from pathlib import Path

from tgstats.plugins import NoConfig, Plugin, TextReply, command

CALLS = Path({calls!r})


class P(Plugin[NoConfig]):
    @command("{command}", "test")
    def answer(self, ctx):
        return TextReply("x")

    async def forget_member(self, chat_id, user_id):
        {body}
"""


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    with open_store(url) as store:
        fill_store(
            store,
            [
                make_message(GROUP, ALICE, "a"),
                make_message(OTHER, ALICE, "b"),
                make_message(GROUP, BOB, "c"),
            ],
        )
    return url


def test_forget_one_chat_then_every_chat_plugins_included(
    plugin_env, db: str, tmp_path: Path, capsys
) -> None:
    calls = tmp_path / "calls.json"
    calls.write_text("[]")
    body = "CALLS.write_text(json.dumps(json.loads(CALLS.read_text()) + [[chat_id, user_id]]))"
    good = plugin_env.new_plugin("good")
    good.write("__init__.py", PLUGIN.format(calls=str(calls), command="cg", body=body))
    plugin_env.write_config({good.name: True}, hot_reload=False)
    config = str(plugin_env.config)

    assert (
        main(["forget", "51", "--chat-id", str(GROUP.id), "--db", db, "--plugins-config", config])
        == 0
    )
    out = capsys.readouterr().out
    assert f"Erased user 51 from chat {GROUP.id}: 1 messages" in out
    with open_store(db) as store:
        assert store.queries.count_messages(GROUP.id, user_id=51) == 0
        assert store.queries.count_messages(OTHER.id, user_id=51) == 1
        assert store.is_opted_out(GROUP.id, 51) and not store.is_opted_out(OTHER.id, 51)

    assert main(["forget", "51", "--db", db, "--plugins-config", config]) == 0
    assert "from every chat: 1 messages" in capsys.readouterr().out
    with open_store(db) as store:
        assert store.queries.find_user(OTHER.id, "alice") is None
        assert store.queries.count_messages(GROUP.id, user_id=52) == 1
    assert json.loads(calls.read_text()) == [[GROUP.id, 51], [None, 51]]


def test_a_failing_plugin_is_named_and_exits_1(plugin_env, db: str, tmp_path: Path, capsys) -> None:
    bad = plugin_env.new_plugin("bad")
    bad.write("__init__.py", PLUGIN.format(calls="-", command="cb", body="raise OSError('disk')"))
    plugin_env.write_config({bad.name: True}, hot_reload=False)
    assert main(["forget", "51", "--db", db, "--plugins-config", str(plugin_env.config)]) == 1
    captured = capsys.readouterr()
    assert f"plugins that could not forget: {bad.name}" in captured.err
    with open_store(db) as store:  # the store's part was done all the same
        assert store.queries.count_messages(GROUP.id, user_id=51) == 0


@pytest.mark.parametrize("bad_id", ["9" * 5000, "12a", "-", "99999999999999999999"])
def test_the_id_is_checked_before_conversion(bad_id: str, db: str, capsys) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["forget", bad_id, "--db", db])
    assert raised.value.code == 2
    err = capsys.readouterr().err
    assert "argument USER_ID" in err and len(err) < 600
