"""discover_plugins() against real fake distributions written into a sys.path folder."""

from __future__ import annotations

import sys
from pathlib import Path

from tgstats.errors import DuplicatePluginError
from tgstats.host.discovery import discover_plugins

REPO = Path(__file__).resolve().parents[2]


def test_records_distribution_version_entry_point_and_package_dir(
    make_dist, site_dir, unique_name, plugin_source
):
    pkg = unique_name("fakeplug")
    make_dist(
        "fake-dist-a",
        version="2.3.4",
        entry_points={pkg: f"{pkg}.plugin:FakePlugin"},
        files={f"{pkg}/__init__.py": "", f"{pkg}/plugin.py": plugin_source},
    )
    spec = discover_plugins().plugins[pkg]
    assert spec.distribution == "fake-dist-a"
    assert spec.version == "2.3.4"
    assert spec.value == f"{pkg}.plugin:FakePlugin"
    assert spec.module == f"{pkg}.plugin"
    assert spec.top_level == pkg
    assert spec.is_package
    assert spec.source_dir == (site_dir / pkg).resolve()
    assert spec.source_file == (site_dir / pkg / "__init__.py").resolve()
    assert spec.plugin_yaml == (site_dir / pkg / "plugin.yaml").resolve()
    assert not spec.editable and spec.project_dir is None
    # Discovery must not import the plugin (nor its package).
    assert pkg not in sys.modules and f"{pkg}.plugin" not in sys.modules


def test_editable_install_reports_project_dir(make_dist, tmp_path, unique_name):
    pkg = unique_name("fakeplug")
    project = tmp_path / "my project"  # a space: the file:// URL is percent-encoded
    project.mkdir()
    make_dist(
        "fake-editable",
        entry_points={pkg: f"{pkg}:P"},
        files={f"{pkg}/__init__.py": ""},
        editable_root=project,
    )
    spec = discover_plugins().plugins[pkg]
    assert spec.editable
    assert spec.project_dir == project.resolve()


def test_source_dir_resolves_symlinks(make_dist, site_dir, tmp_path, unique_name):
    pkg = unique_name("fakeplug")
    real = tmp_path / "elsewhere" / pkg
    real.mkdir(parents=True)
    (real / "__init__.py").write_text("", encoding="utf-8")
    (site_dir / pkg).symlink_to(real, target_is_directory=True)
    make_dist("fake-symlinked", entry_points={pkg: f"{pkg}:P"})
    spec = discover_plugins().plugins[pkg]
    assert spec.source_dir == real.resolve()
    assert spec.source_file == (real / "__init__.py").resolve()


def test_single_module_plugin_uses_its_folder(make_dist, site_dir, unique_name):
    mod = unique_name("fakeplug")
    make_dist("fake-module", entry_points={mod: f"{mod}:P"}, files={f"{mod}.py": "P = 1\n"})
    spec = discover_plugins().plugins[mod]
    assert not spec.is_package
    assert spec.source_file == (site_dir / f"{mod}.py").resolve()
    assert spec.source_dir == site_dir.resolve()


def test_missing_module_has_no_source_dir(make_dist, unique_name):
    name = unique_name("fakeplug")
    make_dist("fake-missing", entry_points={name: "fakeplug_nowhere_at_all.plugin:P"})
    spec = discover_plugins().plugins[name]
    assert spec.source_dir is None and spec.source_file is None


def test_duplicate_name_is_reported_naming_both_and_not_loadable(
    make_dist, unique_name, plugin_source
):
    name = unique_name("fakeplug")
    one, two = unique_name("fakeplug"), unique_name("fakeplug")
    make_dist(
        "fake-first",
        entry_points={name: f"{one}.plugin:FakePlugin"},
        files={f"{one}/__init__.py": "", f"{one}/plugin.py": plugin_source},
    )
    make_dist(
        "fake-second",
        entry_points={name: f"{two}.plugin:FakePlugin"},
        files={f"{two}/__init__.py": "", f"{two}/plugin.py": plugin_source},
    )
    found = discover_plugins()
    assert name not in found.plugins
    error = found.duplicates[name]
    assert isinstance(error, DuplicatePluginError)
    assert sorted(error.distributions) == ["fake-first", "fake-second"]
    assert "fake-first" in str(error) and "fake-second" in str(error) and name in str(error)


def test_other_group_is_not_mixed_in(make_dist, site_dir, unique_name):
    name = unique_name("fakeplug")
    info = make_dist("fake-group", files={f"{name}/__init__.py": ""})
    (info / "entry_points.txt").write_text(f"[console_scripts]\n{name} = {name}:main\n")
    assert name not in discover_plugins().plugins


def test_the_three_real_plugins_are_editable_installs_from_this_repo():
    found = discover_plugins()
    dirs = {
        "heatmap_command": REPO / "plugins" / "heatmap",
        "word_cloud": REPO / "plugins" / "word_cloud",
        "engagement_scores": REPO / "plugins" / "engagement",
    }
    for name, project in dirs.items():
        spec = found.plugins[name]
        assert spec.editable, name
        assert spec.project_dir == project.resolve()
        assert spec.source_dir is not None and spec.source_dir.is_relative_to(project.resolve())
        assert spec.is_package
