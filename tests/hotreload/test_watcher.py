"""The watcher interface: every backend implements all of it."""

from __future__ import annotations

from pathlib import Path

import pytest
from tgstats.hotreload.native import NativeWatcher
from tgstats.hotreload.poll import PollWatcher
from tgstats.hotreload.watcher import Watcher

from .trees import targets_for


@pytest.mark.parametrize("backend", [PollWatcher, NativeWatcher])
async def test_both_backends_implement_the_whole_interface(
    backend: type[Watcher], tree: Path
) -> None:
    watcher = backend(targets_for(tree), interval=0.5)  # type: ignore[call-arg]
    assert isinstance(watcher, Watcher)
    assert watcher.interval == 0.5
    assert watcher.backend in ("poll", "native")
    seen: list[set[Path]] = []
    watcher.start(seen.append, lambda _error: None)
    try:
        assert tree / "core.py" in watcher.paths()
        assert await watcher.check() == set()  # nothing changed since the start
    finally:
        await watcher.stop()
    assert seen == []


def test_a_backend_missing_a_member_cannot_be_built() -> None:
    class Partial(Watcher):
        backend = "poll"

        def start(self, on_change, on_failure=None):  # type: ignore[no-untyped-def]
            pass

    with pytest.raises(TypeError, match="abstract"):
        Partial()  # type: ignore[abstract]
