"""Integration: a real throwaway plugin distribution, pip-installed editable, then removed."""

from __future__ import annotations

import importlib.util
import json
import secrets
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(300)


def _pip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", *args],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def _can_build_without_isolation() -> bool:
    """setuptools >= 64 (PEP 660 editables) and a bdist_wheel command are importable here.

    Then pip needs no package index; otherwise it builds in an isolated env
    and fetches setuptools from the index (tox's venv may lack ``wheel``).
    """
    if importlib.util.find_spec("setuptools") is None:
        return False
    import setuptools

    major = int(setuptools.__version__.split(".")[0])
    has_bdist_wheel = (
        importlib.util.find_spec("setuptools.command.bdist_wheel") is not None
        or importlib.util.find_spec("wheel") is not None
    )
    return major >= 64 and has_bdist_wheel


def _write_project(root: Path, dist: str, package: str, plugin: str) -> None:
    # No dependency on tgstats: pip must not try to resolve (or reinstall) the host.
    (root / "pyproject.toml").write_text(
        textwrap.dedent(
            f"""\
            [build-system]
            requires = ["setuptools>=64"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "{dist}"
            version = "0.0.1"

            [project.entry-points."tgstats.plugins"]
            {plugin} = "{package}.plugin:ItestPlugin"

            [tool.setuptools]
            packages = ["{package}"]

            [tool.setuptools.package-data]
            {package} = ["plugin.yaml"]
            """
        ),
        encoding="utf-8",
    )
    pkg = root / package
    pkg.mkdir()
    (pkg / "__init__.py").write_text("", encoding="utf-8")
    (pkg / "plugin.yaml").write_text("greeting: from plugin.yaml\n", encoding="utf-8")
    (pkg / "plugin.py").write_text(
        textwrap.dedent(
            """\
            from __future__ import annotations

            import attrs

            from tgstats.plugins import Plugin, TextReply, command


            @attrs.frozen
            class Config:
                greeting: str = "hello"


            class ItestPlugin(Plugin[Config]):
                Config = Config

                @command("itest", "integration test command")
                def itest(self, ctx):
                    return TextReply(self.config.greeting)
            """
        ),
        encoding="utf-8",
    )


def test_pip_install_editable_shows_up_in_plugins_list(tmp_path, run_tgstats):
    token = secrets.token_hex(4)
    dist, package, plugin = f"tgstats-itest-{token}", f"tgstats_itest_{token}", f"itest_{token}"
    project = tmp_path / "project"
    project.mkdir()
    _write_project(project, dist, package, plugin)
    isolation = ["--no-build-isolation"] if _can_build_without_isolation() else []
    installed = _pip("install", "--no-deps", *isolation, "-e", str(project))
    try:
        assert installed.returncode == 0, installed.stdout + installed.stderr
        result = run_tgstats("plugins", "list", "--json")
        assert result.returncode == 0, result.stderr
        record = next((r for r in json.loads(result.stdout) if r["name"] == plugin), None)
        assert record is not None, result.stdout
        assert record["distribution"] == dist and record["version"] == "0.0.1"
        assert record["state"] == "loaded", record
        assert record["editable"] is True
        assert record["source_dir"] == str((project / package).resolve())
        shown = run_tgstats("plugins", "show", plugin, "--json")
        assert shown.returncode == 0, shown.stderr
        greeting = json.loads(shown.stdout)["config"]["greeting"]
        assert greeting["value"] == "from plugin.yaml"
        assert greeting["origin"].startswith("plugin.yaml (")
    finally:
        removed = _pip("uninstall", "-y", dist)
    assert removed.returncode == 0, removed.stdout + removed.stderr
    after = run_tgstats("plugins", "list", "--json")
    assert plugin not in {r["name"] for r in json.loads(after.stdout)}
