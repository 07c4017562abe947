"""`tgstats rejected`: what the bot kept of the updates it skipped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tgstats.cli.main import main
from tgstats.store import open_store
from tgstats.store.rejected import keep_rejected


def test_lists_rejected_updates_as_text_and_json(tmp_path: Path, capsys: Any) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    with open_store(url) as store:
        keep_rejected(store.engine, 41, '{"update_id": 41, "message": "a string"}', "cannot parse")
        keep_rejected(store.engine, 42, '{"update_id": 42, "message": {}}' + " " * 300, "bad")
    capsys.readouterr()  # whatever opening the store logged
    assert main(["rejected", "--db", url, "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["update_id"] for r in rows] == [41, 42]
    assert rows[0]["reason"] == "cannot parse" and rows[0]["received_at"].endswith("Z")
    assert json.loads(rows[0]["raw"])["message"] == "a string"

    assert main(["rejected", "--db", url, "--limit", "1"]) == 0
    out, err = capsys.readouterr()
    assert "update_id=42 reason=bad" in out and "update_id=41" not in out
    assert out.rstrip().endswith("...")  # long raw JSON is shortened on a terminal
    assert "1 rejected update(s)" in err


def test_an_empty_store_lists_nothing(tmp_path: Path, capsys: Any) -> None:
    assert main(["rejected", "--db", f"sqlite:///{tmp_path / 'e.db'}", "--json"]) == 0
    assert capsys.readouterr().out == ""
