"""importing.py: purge/restore, bytecode-free loading, .pth replay."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest
from tgstats.host.importing import (
    PthReplayer,
    SourceOnlyFinder,
    SourceOnlyLoader,
    purge_modules,
    restore_modules,
)


@pytest.fixture
def fake_modules(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    names = ["tgs_imp_pkg", "tgs_imp_pkg.sub", "tgs_imp_pkg.sub.deep", "tgs_imp_pkgother"]
    for name in names:
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    return names


def test_purge_takes_only_the_package_and_its_submodules(fake_modules: list[str]) -> None:
    removed = purge_modules("tgs_imp_pkg")
    assert sorted(removed) == ["tgs_imp_pkg", "tgs_imp_pkg.sub", "tgs_imp_pkg.sub.deep"]
    assert "tgs_imp_pkg" not in sys.modules
    assert "tgs_imp_pkgother" in sys.modules  # a prefix is not a package
    sys.modules["tgs_imp_pkg"] = types.ModuleType("tgs_imp_pkg")  # a failed new import
    sys.modules["tgs_imp_pkg.new"] = types.ModuleType("tgs_imp_pkg.new")
    restore_modules("tgs_imp_pkg", removed)
    assert sys.modules["tgs_imp_pkg"] is removed["tgs_imp_pkg"]
    assert "tgs_imp_pkg.new" not in sys.modules


@pytest.mark.parametrize("name", ["tgstats", "json", "sys", "tgs.sub", ""])
def test_purge_refuses_host_stdlib_and_dotted_names(name: str) -> None:
    with pytest.raises(ValueError):
        purge_modules(name)


def test_finder_swaps_loader_only_for_managed_packages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "tgs_imp_managed").mkdir()
    (tmp_path / "tgs_imp_managed" / "__init__.py").write_text("X = 1\n")
    (tmp_path / "tgs_imp_managed" / "mod.py").write_text("Y = 2\n")
    (tmp_path / "tgs_imp_plain.py").write_text("Z = 3\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    finder = SourceOnlyFinder({"tgs_imp_managed"})
    finder.install()
    assert sys.meta_path[0] is finder
    try:
        import tgs_imp_managed.mod  # type: ignore[import-not-found]
        import tgs_imp_plain  # type: ignore[import-not-found]

        assert isinstance(tgs_imp_managed.__spec__.loader, SourceOnlyLoader)
        assert isinstance(tgs_imp_managed.mod.__spec__.loader, SourceOnlyLoader)
        assert not isinstance(tgs_imp_plain.__spec__.loader, SourceOnlyLoader)
        assert not (tmp_path / "tgs_imp_managed" / "__pycache__").exists()
        assert (tmp_path / "__pycache__").exists()  # the unmanaged module got its .pyc
    finally:
        finder.uninstall()
        for name in ("tgs_imp_managed", "tgs_imp_managed.mod", "tgs_imp_plain"):
            sys.modules.pop(name, None)
    assert finder not in sys.meta_path


def test_pth_replay_processes_only_new_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    old_target = tmp_path / "old"
    new_target = tmp_path / "new"
    old_target.mkdir()
    new_target.mkdir()
    (site / "old.pth").write_text(f"{old_target}\n")
    monkeypatch.setattr(sys, "path", [*sys.path])
    replayer = PthReplayer([site])  # old.pth counts as read at start-up
    marker = "tgs_imp_pth_marker"
    monkeypatch.delattr(sys, marker, raising=False)
    (site / "new.pth").write_text(
        f"# a comment\n{new_target}\n{tmp_path / 'missing'}\n"
        f"import sys; setattr(sys, {marker!r}, True)\n"
    )
    assert replayer.replay([site]) == [site / "new.pth"]
    assert str(new_target) in sys.path
    assert str(old_target) not in sys.path
    assert str(tmp_path / "missing") not in sys.path
    assert getattr(sys, marker) is True
    assert replayer.replay([site]) == []  # not twice
    monkeypatch.delattr(sys, marker)
