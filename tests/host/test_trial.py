"""run_trial: every enabled plugin set up and shut down once, as the bot would."""

from __future__ import annotations

import tempfile

from tgstats.host.trial import run_trial


def test_trial_sets_up_shuts_down_and_removes_its_store(plugin_env, tmp_path, monkeypatch):
    env = plugin_env
    good, bad, off = env.new_plugin("good"), env.new_plugin("bad"), env.new_plugin("off")
    marker = tmp_path / "shutdown.txt"
    good.write(
        "__init__.py",
        good.source(setup="assert self.host.store.chat(1) is None")
        + f"\n    async def shutdown(self):\n        open({str(marker)!r}, 'w').close()\n",
    )
    bad.write_code(setup="raise KeyError('token')")
    env.write_config({good.name: True, bad.name: True, off.name: False})
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))

    result = run_trial(env.config, db_url=None, timeout=5)

    ours = {good.name, bad.name, off.name}  # the shipped plugins are installed too
    states = {r.name: (r.state, r.reason) for r in result.records if r.name in ours}
    assert states == {
        good.name: ("loaded", None),
        bad.name: ("failed", "setup raised KeyError: 'token'"),
        off.name: ("disabled", None),
    }
    assert marker.exists()  # shutdown ran for the plugin whose setup succeeded
    assert result.shutdown_failed == ()
    assert list(scratch.iterdir()) == []  # the throw-away store is gone
