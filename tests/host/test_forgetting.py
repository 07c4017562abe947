"""PluginManager.forget_member: every loaded plugin is asked, whatever one of them does."""

from __future__ import annotations

import json
from pathlib import Path

from tgstats.host.manager import PluginManager

HOOKED = """\
import asyncio
import json
from pathlib import Path

from tgstats.plugins import NoConfig, Plugin, TextReply, command

DATA = Path({data!r})


class P(Plugin[NoConfig]):
    @command("{command}", "test")
    def answer(self, ctx):
        return TextReply("x")

    async def forget_member(self, chat_id, user_id):
        {body}
"""

KEEP = """\
kept = json.loads(DATA.read_text())
        kept = [row for row in kept if row[1] != user_id or chat_id not in (None, row[0])]
        DATA.write_text(json.dumps(kept))"""


async def test_every_plugin_is_asked_and_failures_are_named(started, tmp_path: Path) -> None:
    env = started
    data = tmp_path / "members.json"
    data.write_text(json.dumps([[-100, 7], [-200, 7], [-100, 8]]))
    raises, hangs, keeps, plain = (env.new_plugin(label) for label in ("a", "b", "c", "d"))
    raises.write(
        "__init__.py", HOOKED.format(data=str(data), command="ca", body="raise OSError('disk')")
    )
    hangs.write(
        "__init__.py", HOOKED.format(data=str(data), command="cb", body="await asyncio.sleep(60)")
    )
    keeps.write("__init__.py", HOOKED.format(data=str(data), command="cc", body=KEEP))
    env.write_config({p.name: True for p in (raises, hangs, keeps, plain)})
    manager: PluginManager = env.manager(hook_timeout=0.5)
    assert (await manager.start()).ok

    failed = await manager.forget_member(-100, 7)

    assert sorted(failed) == sorted([raises.name, hangs.name])
    assert json.loads(data.read_text()) == [[-200, 7], [-100, 8]]
    # chat None: every chat.  The plugin without a hook (the SDK default) is no failure.
    assert await manager.forget_member(None, 7) == [raises.name, hangs.name]
    assert json.loads(data.read_text()) == [[-100, 8]]
