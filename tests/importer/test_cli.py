"""`tgstats import` as a user runs it: a real subprocess on a real file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tgstats.store import open_store


def _tgstats(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tgstats", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
        check=False,
    )


def test_import_prints_a_summary_and_reimport_adds_nothing(
    tmp_path: Path, single_chat: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"

    first = _tgstats("import", str(single_chat), "--db", db, cwd=tmp_path)
    second = _tgstats("import", str(single_chat), "--db", db, "--tz", "Europe/Berlin", cwd=tmp_path)

    assert first.returncode == 0, first.stderr
    assert "Import Fixture Group (chat id -1001987654321): 17 messages, 17 new" in first.stdout
    assert "Imported 17 new messages of 17 from 1 chat(s)" in first.stdout
    assert second.returncode == 0, second.stderr
    assert "Imported 0 new messages of 17" in second.stdout
    assert "\x1b[" not in first.stderr  # no progress bar when stderr is not a terminal
    with open_store(db) as store:
        assert store.queries.count_messages(-1001987654321) == 17


def test_bad_zone_and_bad_file_are_one_line_errors(tmp_path: Path, single_chat: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    broken = tmp_path / "broken.json"
    broken.write_text(single_chat.read_text(encoding="utf-8")[:3000], encoding="utf-8")

    zone = _tgstats("import", str(single_chat), "--db", db, "--tz", "Mars/Base", cwd=tmp_path)
    malformed = _tgstats("import", str(broken), "--db", db, cwd=tmp_path)
    missing = _tgstats("import", str(tmp_path / "none.json"), "--db", db, cwd=tmp_path)

    assert zone.returncode == 1
    assert "--tz 'Mars/Base': expected an IANA time zone" in zone.stderr
    assert malformed.returncode == 1
    size = broken.stat().st_size
    assert malformed.stderr.startswith(f"tgstats: error: {broken}: near byte {size:,}, chat")
    assert "the file ends in the middle of the JSON" in malformed.stderr
    assert "nothing of that chat was stored" in malformed.stderr
    assert "Traceback" not in malformed.stderr
    assert missing.returncode == 1
    assert "none.json: no such file" in missing.stderr
