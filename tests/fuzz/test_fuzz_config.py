"""Fuzzing the config loader: any bytes give a config or a ConfigError, fast, in bounded memory.

Hypothesis builds files from YAML's own building blocks (indentation, keys,
flow collections, anchors, tags, quotes, huge scalars) as well as raw bytes,
so the inputs look like YAML often enough to reach deep into the parser and
the typed conversion.  Each example must finish in well under a second; the
whole module is bounded by the example count and hypothesis' deadline.
"""

from __future__ import annotations

import contextlib
import resource
import tempfile
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tgstats.config import load_host_config, resolve_plugin_config
from tgstats.errors import ConfigError

pytestmark = pytest.mark.fuzz

_PIECES = st.sampled_from(
    [
        "settings:",
        "plugins:",
        "hot_reload:",
        "watcher:",
        "watch_patterns:",
        "enabled:",
        "config:",
        "reload_check_interval:",
        " ",
        "  ",
        "\n",
        "- ",
        ": ",
        "[",
        "]",
        "{",
        "}",
        ",",
        "&a ",
        "*a",
        "<<: ",
        "!!python/object:os.system ",
        "!!str ",
        "'",
        '"',
        "#",
        "true",
        "false",
        "null",
        "~",
        "3.5",
        "-1",
        "1e309",
        "0x1f",
        "'*.py'",
        "poll",
        "native",
        "auto",
        "\t",
        "---",
        "...",
        "%YAML 1.1",
        "\x00",
        "é",
        "ü",
        "x" * 200,
        "? ",
        "| ",
        "> ",
    ]
)
_YAMLISH = st.lists(_PIECES, max_size=60).map("".join)
_BYTES = st.binary(max_size=2000)

FUZZ = settings(
    max_examples=150,
    deadline=1000,  # ms per example
    suppress_health_check=[HealthCheck.too_slow],
    database=None,  # nothing written next to the checkout
)


def _load(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "plugins.yaml"
        path.write_bytes(data)
        try:
            config = load_host_config(path)
        except ConfigError as error:
            lines = error.lines()
            assert all(line.startswith(str(path)) for line in lines), lines  # each names the file
            assert len(str(error)) < 20_000
            return
        # What loads is usable: every entry resolves for a plugin with no options.
        for name in config.plugins:
            with contextlib.suppress(ConfigError):
                resolve_plugin_config(name, _NoOptions, plugin_yaml=None, host_config=config)


@attrs.frozen
class _NoOptions:
    """A plugin config with no options."""


@FUZZ
@given(_YAMLISH)
def test_yaml_shaped_input(text: str) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    _load(text.encode("utf-8", "surrogatepass"))
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100 * 1024  # KiB


@FUZZ
@given(_BYTES)
def test_raw_bytes(data: bytes) -> None:
    _load(data)
