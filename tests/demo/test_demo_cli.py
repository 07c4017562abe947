"""`tgstats demo` end to end: the real command, the real plugins, real files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from tgstats.demo.runner import MANIFEST, describe_png, describe_text, run_demo

# The picture plugins this repository ships, and what their command writes.
SHIPPED = {
    "heatmap.png": "heatmap_command",
    "wordcloud.png": "word_cloud",
    "activity.png": "activity",
    "replies.png": "reply_graph",
    "me.png": "member_profile",
    "digest.png": "weekly_digest",
}


@pytest.fixture(scope="module")
def demo_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], Path]:
    cwd = tmp_path_factory.mktemp("demo-cwd")
    out = cwd / "out"
    result = subprocess.run(
        [sys.executable, "-m", "tgstats", "demo", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=False,
    )
    return result, out


def test_demo_writes_every_plugins_file(
    demo_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    result, out = demo_run
    assert result.returncode == 0, result.stdout + result.stderr

    for name in SHIPPED:
        with Image.open(out / name) as image:
            image.verify()  # a complete, valid PNG
        with Image.open(out / name) as image:
            assert image.format == "PNG"
            width, height = image.size
            assert width >= 400 and height >= 200
    engagement = (out / "engagement.txt").read_text(encoding="utf-8")
    assert "Hiking & Coffee Club" in engagement
    assert len(engagement.splitlines()) >= 5
    assert (out / "demo.db").is_file()
    assert json.loads((out / MANIFEST).read_text())["files"] == sorted(
        p.name for p in out.iterdir() if p.suffix in (".png", ".txt")
    )


def test_demo_prints_where_and_what(
    demo_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    result, out = demo_run
    stdout = result.stdout
    assert "Sample group Hiking & Coffee Club:" in stdout
    assert "Files are in out/" in stdout
    for name in SHIPPED:
        summary = describe_png((out / name).read_bytes())
        assert f"{name}" in stdout and summary in stdout
    text = (out / "engagement.txt").read_text(encoding="utf-8")
    assert describe_text(text) in stdout
    assert "Traceback" not in result.stderr


def test_failing_and_disabled_plugins_do_not_stop_the_others(tmp_path: Path) -> None:
    config = tmp_path / "plugins.yaml"
    config.write_text(
        "plugins:\n"
        "  heatmap_command:\n"
        "    config: {days: many}\n"  # invalid: the plugin fails to load
        "  word_cloud:\n"
        "    enabled: false\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    out.mkdir()
    # A file the previous run wrote: a re-run must not leave it behind.
    (out / "wordcloud.png").write_bytes(b"stale")
    (out / MANIFEST).write_text(json.dumps({"files": ["wordcloud.png"]}), encoding="utf-8")
    (out / "mine.txt").write_text("not the demo's", encoding="utf-8")

    result = run_demo(out, config_path=config)

    assert not result.ok
    assert [name for name, _ in result.failed_plugins] == ["heatmap_command"]
    assert "days" in result.failed_plugins[0][1]
    assert "word_cloud" in result.disabled_plugins
    assert (out / "engagement.txt").is_file()
    assert not (out / "wordcloud.png").exists()
    assert not (out / "heatmap.png").exists()
    assert (out / "mine.txt").read_text(encoding="utf-8") == "not the demo's"


def test_summaries() -> None:
    png = (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
        + (640).to_bytes(4, "big")
        + (480).to_bytes(4, "big")
        + b"\x08\x02\x00\x00\x00"
        + b"\x00" * 2048
    )
    assert describe_png(png) == "640x480 PNG, 2 KiB"
    assert describe_png(b"GIF89a") == "not a PNG (6 bytes)"
    assert describe_text("Top members\n\n1 Alice\n") == "'Top members' (3 lines)"
