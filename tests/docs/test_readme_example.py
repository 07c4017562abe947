"""The README's plugin example ("Writing a plugin", "Testing a plugin") works as printed.

The example's files are taken from README.md (each code block after an
``<!-- example-file: PATH -->`` marker) and written to a temporary project.
The fast tests make it importable through a real ``*.dist-info`` in this
environment; the slow one does what a plugin author does: a fresh venv, ``pip
install`` of tgstats (from this checkout, with its ``test`` extra) and of the
example (editable), then ``tgstats plugins list --json`` and ``python -m pytest`` in the
example's folder, with no conftest and no pytest configuration.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from .first_hour import first_hour_transcript, path_with, run_first_hour

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
_BLOCK = re.compile(r"<!-- example-file: (?P<path>\S+) -->\s*```[a-z]*\n(?P<body>.*?)```", re.S)
# How pytest reports the README's test when it passed, and the summary line.
_PASSED = re.compile(r"^tests/test_count\.py \.\s", re.M)
_SUMMARY = re.compile(r"^=+ 1 passed in [\d.]+s =+$", re.M)
# Seconds the fresh venv may take: pip fetches tgstats' dependencies (from the
# cache or the index) and builds two wheels; about 20-60 s on a quiet machine.
INSTALL_TIMEOUT = 420


def example_files() -> dict[str, str]:
    files = {m["path"]: m["body"] for m in _BLOCK.finditer(README.read_text(encoding="utf-8"))}
    assert files, "README.md has no <!-- example-file: ... --> blocks"
    return files


def write_example(project: Path) -> Path:
    for rel, body in example_files().items():
        path = project / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8")
    return project


def test_the_example_is_a_plugin_with_a_test_and_no_glue() -> None:
    files = example_files()
    assert {"pyproject.toml", "tgstats_count/plugin.py", "tests/test_count.py"} <= set(files)
    # The test works as a plugin author writes it: no conftest, no pytest config.
    assert not any(Path(rel).name == "conftest.py" for rel in files)
    assert "[tool.pytest" not in files["pyproject.toml"]
    # ... and it uses the SDK and the test tools only.
    imports = re.findall(r"^\s*(?:from|import) (tgstats\S*)", "\n".join(files.values()), re.M)
    assert imports and set(imports) <= {"tgstats.plugins", "tgstats.testing"}, imports


@pytest.fixture
def example_project(tmp_path: Path) -> Path:
    """The example written out, plus a dist-info that declares its entry point."""
    project = write_example(tmp_path / "tgstats-count")
    meta = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    info = project / f"{meta['name'].replace('-', '_')}-{meta['version']}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {meta['name']}\nVersion: {meta['version']}\n",
        encoding="utf-8",
    )
    group = meta["entry-points"]["tgstats.plugins"]
    lines = ["[tgstats.plugins]", *(f"{name} = {value}" for name, value in group.items())]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return project


def _env(project: Path) -> dict[str, str]:
    env = _clean_env()
    env["PYTHONPATH"] = str(project)
    return env


def _clean_env() -> dict[str, str]:
    """This process's environment without what would steer the child's tgstats or pytest."""
    dropped = ("TGSTATS_", "PYTEST_", "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _tgstats() -> str:
    beside = Path(sys.executable).with_name("tgstats")
    return str(beside) if beside.exists() else (shutil.which("tgstats") or "tgstats")


def test_readme_example_is_discovered_with_its_plugin_yaml(example_project: Path) -> None:
    result = subprocess.run(
        [_tgstats(), "plugins", "show", "message_count"],
        capture_output=True,
        text=True,
        env=_env(example_project),
        cwd=example_project,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "state:         loaded" in result.stdout
    # days comes from the example's plugin.yaml, greeting from the code default.
    assert re.search(r"days\s+= 14\s+# plugin\.yaml", result.stdout), result.stdout
    assert re.search(r'greeting\s+= "Hi"\s+# code default', result.stdout), result.stdout
    assert "/count" in result.stdout or "count" in result.stdout


def test_readme_example_test_passes(example_project: Path) -> None:
    # No -o options and no conftest: the asyncio set-up and the fixtures come
    # from tgstats' pytest plugin alone. -W error: nothing may warn either.
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-W", "error"],
        capture_output=True,
        text=True,
        env=_env(example_project),
        cwd=example_project,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert _PASSED.search(result.stdout), result.stdout
    assert _SUMMARY.search(result.stdout), result.stdout


def _source_copy(destination: Path) -> Path:
    """The host distribution's sources, so pip's in-tree build never writes into the checkout."""
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, destination / name)
    shutil.copytree(
        REPO / "core",
        destination / "core",
        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc"),
    )
    return destination


def _run(args: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args,
        capture_output=True,
        text=True,
        env=_clean_env(),
        cwd=cwd,
        timeout=timeout,
        check=False,
    )


@pytest.mark.slow
@pytest.mark.timeout(INSTALL_TIMEOUT + 180)
def test_readme_example_in_a_fresh_venv(tmp_path: Path) -> None:
    project = write_example(tmp_path / "tgstats-count")
    host = tmp_path / "tgstats"
    host.mkdir()
    _source_copy(host)
    venv = tmp_path / "venv"
    made = _run([sys.executable, "-m", "venv", str(venv)], tmp_path, 120)
    assert made.returncode == 0, made.stdout + made.stderr
    python, bindir = venv / "bin" / "python", venv / "bin"

    started = time.monotonic()
    installed = _run(
        # The README's `pip install 'path/to/tgstats[test]' -e .`, in the example's folder.
        [str(python), "-m", "pip", "install", "--no-input", f"{host}[test]", "-e", "."],
        project,
        INSTALL_TIMEOUT,
    )
    install_seconds = time.monotonic() - started
    assert installed.returncode == 0, installed.stdout + installed.stderr
    print(f"fresh venv: pip install took {install_seconds:.0f} s")

    listed = _run([str(bindir / "tgstats"), "plugins", "list", "--json"], project, 60)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    records = {record["name"]: record for record in json.loads(listed.stdout)}
    assert set(records) == {"message_count"}, records  # only what this venv has
    assert records["message_count"]["state"] == "loaded", records
    assert records["message_count"]["distribution"] == "tgstats-count"
    assert records["message_count"]["editable"] is True

    # Exactly the README's command, in the example's folder.
    tested = _run([str(python), "-m", "pytest"], project, 120)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert _PASSED.search(tested.stdout), tested.stdout
    assert _SUMMARY.search(tested.stdout), tested.stdout  # passed, and no warnings
    assert re.search(r"^plugins: .*\btgstats-", tested.stdout, re.M), tested.stdout
    assert not list(project.rglob("conftest.py"))

    # The README's opening steps (new-plugin, pip install -e, chat) as printed, in
    # the same venv: one venv build serves both.
    work = tmp_path / "first-hour"
    work.mkdir()
    transcript = run_first_hour(work, path_with(bindir, _clean_env()), pip=True)
    assert transcript == first_hour_transcript()[1]
    hello_tests = _run([str(python), "-m", "pytest"], work / "plugins" / "hello", 120)
    assert hello_tests.returncode == 0, hello_tests.stdout + hello_tests.stderr
    assert re.search(r"^=+ 2 passed in [\d.]+s =+$", hello_tests.stdout, re.M), hello_tests.stdout
