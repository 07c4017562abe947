"""Config files are data, never a weapon: alias bombs, deep nesting, huge files, symlinks."""

from __future__ import annotations

import os
import resource
import time
from pathlib import Path

import pytest
from tgstats.config import load_host_config
from tgstats.errors import ConfigError
from tgstats.yamlconfig import MAX_DEPTH, MAX_FILE_BYTES, read_yaml

BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_an_alias_bomb_is_refused_at_its_first_anchor(tmp_path: Path) -> None:
    bomb = tmp_path / "plugins.yaml"
    bomb.write_text("settings:\n  hot_reload: true\n" + BILLION_LAUGHS)
    before, started = _peak_rss_mb(), time.perf_counter()
    with pytest.raises(ConfigError) as error:
        load_host_config(bomb)
    assert time.perf_counter() - started < 1.0
    assert _peak_rss_mb() - before < 50
    assert str(error.value) == (
        f"{bomb}:3: invalid YAML: YAML anchors and aliases (&name, *name) are not allowed"
    )


def test_a_lone_alias_or_merge_key_is_refused_too(tmp_path: Path) -> None:
    path = tmp_path / "plugin.yaml"
    path.write_text("base: &base {days: 7}\nother:\n  <<: *base\n")
    with pytest.raises(ConfigError, match=r":1: invalid YAML: YAML anchors and aliases"):
        read_yaml(path)


def test_deep_nesting_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plugins.yaml"
    path.write_text("settings: " + "[" * 100_000 + "]" * 100_000 + "\n")
    before = _peak_rss_mb()
    with pytest.raises(ConfigError, match=f"nested deeper than {MAX_DEPTH} levels"):
        read_yaml(path)
    assert _peak_rss_mb() - before < 50
    fine = tmp_path / "fine.yaml"
    fine.write_text("a: " + "[" * (MAX_DEPTH - 2) + "]" * (MAX_DEPTH - 2) + "\n")
    assert read_yaml(fine) is not None


def test_a_huge_file_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    path = tmp_path / "plugins.yaml"
    with path.open("w") as handle:
        handle.write("settings:\n  watch_patterns:\n")
        handle.write("    - '*.py'\n" * (MAX_FILE_BYTES // 10))
    started = time.perf_counter()
    with pytest.raises(ConfigError) as error:
        load_host_config(path)
    assert time.perf_counter() - started < 0.5
    assert str(error.value).startswith(f"{path}: expected a config file of at most 1024 KiB")


def test_a_symlink_out_of_the_folder_is_refused_without_echoing_its_target(
    tmp_path: Path,
) -> None:
    secret = tmp_path / "secret"
    secret.write_text("root:$6$saltsalt$hashhashhashhash: x\n")
    os.chmod(secret, 0o600)
    folder = tmp_path / "etc"
    folder.mkdir()
    link = folder / "plugins.yaml"
    link.symlink_to(secret)
    with pytest.raises(ConfigError) as error:
        load_host_config(link)
    message = str(error.value)
    assert message == (
        f"{link}: expected a config file inside {folder}, found a symlink to a file outside it"
    )
    assert "hash" not in message and str(secret) not in message
    # A symlink that stays in the folder is an ordinary file.
    (folder / "real.yaml").write_text("settings:\n  hot_reload: false\n")
    inside = folder / "inside.yaml"
    inside.symlink_to(folder / "real.yaml")
    assert load_host_config(inside).settings.hot_reload is False


def test_an_unknown_key_is_quoted_only_in_part(tmp_path: Path) -> None:
    path = tmp_path / "plugins.yaml"
    long_key = "x" * 5000
    path.write_text(f"{long_key}: 1\n")
    with pytest.raises(ConfigError) as error:
        load_host_config(path)
    assert len(str(error.value)) < 400
    assert "x" * 100 not in str(error.value)


def test_what_fuzzing_found_is_a_config_error(tmp_path: Path) -> None:
    # A NUL byte (refused by PyYAML's reader before parsing) and a mapping as a key.
    path = tmp_path / "plugins.yaml"
    path.write_bytes(b"settings:\x00\n")
    with pytest.raises(ConfigError, match=r"character U\+0000 at offset 9 is not allowed"):
        load_host_config(path)
    path.write_text("? {settings: 1}\n: 2\n")
    with pytest.raises(ConfigError, match=r":1: expected a string key, found a mapping"):
        load_host_config(path)
