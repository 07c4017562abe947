"""tgstats' pytest plugin, run the way a plugin project runs it: ``python -m pytest``
in a folder of its own, with the real entry point of this environment.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from ..fake_dists import PLUGIN_MODULE, MakeDist

TWO_COMMANDS = PLUGIN_MODULE + textwrap.dedent(
    """

    class TwoPlugin(FakePlugin):
        @command("other", "a second command")
        def other(self, ctx):
            return TextReply("other " + " ".join(ctx.args))
    """
)

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    (folder / "tests").mkdir(parents=True)
    return folder


@pytest.fixture
def run_pytest(project: Path, site_dir: Path) -> Run:
    """``python -m pytest -p no:cacheprovider ARGS`` in ``project``; fake dists importable."""

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TGSTATS_", "PYTEST_"))}
        env["PYTHONPATH"] = str(site_dir)
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        return subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=project,
            timeout=90,
            check=False,
        )

    return run


def write(path: Path, text: str) -> None:
    path.write_text(textwrap.dedent(text), encoding="utf-8")


def pyproject(project: Path, plugins: dict[str, str]) -> None:
    lines = ['[project]\nname = "fake"\nversion = "1"\n\n[project.entry-points."tgstats.plugins"]']
    lines += [f'{name} = "{value}"' for name, value in plugins.items()]
    write(project / "pyproject.toml", "\n".join(lines) + "\n")


ASYNC_TESTS = """\
import asyncio

import pytest


@pytest.fixture
async def answer():
    await asyncio.sleep(0)
    return 42


async def test_coroutine_with_an_async_fixture(answer):
    await asyncio.sleep(0)
    assert answer == 42
"""


def test_async_tests_run_without_any_configuration(project: Path, run_pytest: Run) -> None:
    write(project / "tests" / "test_async.py", ASYNC_TESTS)
    result = run_pytest("-W", "error")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "asyncio: mode=Mode.AUTO" in result.stdout
    assert "asyncio_default_fixture_loop_scope=function" in result.stdout
    assert "1 passed in" in result.stdout and "warning" not in result.stdout


def test_a_project_that_configures_asyncio_keeps_its_settings(
    project: Path, run_pytest: Run
) -> None:
    write(project / "tests" / "test_async.py", ASYNC_TESTS)
    write(
        project / "pytest.ini",
        """\
        [pytest]
        asyncio_mode = strict
        asyncio_default_fixture_loop_scope = module
        """,
    )
    result = run_pytest()
    assert "asyncio: mode=Mode.STRICT" in result.stdout, result.stdout
    assert "asyncio_default_fixture_loop_scope=module" in result.stdout
    # Strict mode as the project asked: its unmarked coroutine test is not run.
    assert result.returncode != 0
    assert "1 failed" in result.stdout or "1 error" in result.stdout, result.stdout


def test_fixtures_find_the_plugin_from_pyproject(
    project: Path, run_pytest: Run, make_dist: MakeDist, unique_name: Callable[[str], str]
) -> None:
    package, name = unique_name("fakeplug_sdk"), unique_name("fake_sdk")
    make_dist(
        "fake-sdk",
        entry_points={name: f"{package}:FakePlugin"},
        files={f"{package}/__init__.py": PLUGIN_MODULE, f"{package}/plugin.yaml": "days: 7\n"},
    )
    pyproject(project, {name: f"{package}:FakePlugin"})
    write(
        project / "tests" / "test_fake.py",
        f"""\
        from datetime import datetime, timezone

        from tgstats.plugins import CommandContext, TextReply
        from {package} import FakePlugin


        def test_the_plugin_under_test(plugin_name, plugin_class, store, chat, now):
            assert plugin_name == "{name}"
            assert plugin_class is FakePlugin
            assert store.queries.count_messages(chat.id) == 0
            assert chat.title == "Test group"
            assert now == datetime(2026, 11, 1, 12, tzinfo=timezone.utc)


        async def test_configured_and_run(make_plugin, make_context, command_reply, chat):
            plugin = make_plugin(title="from overrides")
            assert plugin.config.days == 7  # plugin.yaml
            ctx = make_context("a", "b", now="2026-03-01T00:00:00Z")
            assert isinstance(ctx, CommandContext)
            assert (ctx.command, ctx.args, ctx.chat_id) == ("fake", ("a", "b"), chat.id)
            assert ctx.now == datetime(2026, 3, 1, tzinfo=timezone.utc)
            assert await command_reply(plugin, chat_id=-5) == TextReply("from overrides")
        """,
    )
    result = run_pytest("-W", "error", "-q")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_fixture_errors_say_what_to_do(
    project: Path, run_pytest: Run, make_dist: MakeDist, unique_name: Callable[[str], str]
) -> None:
    package, one, two = unique_name("fakeplug_two"), unique_name("one"), unique_name("two")
    make_dist(
        "fake-two",
        entry_points={one: f"{package}:FakePlugin", two: f"{package}:TwoPlugin"},
        files={f"{package}/__init__.py": TWO_COMMANDS},
    )
    pyproject(project, {one: f"{package}:FakePlugin", two: f"{package}:TwoPlugin"})
    write(
        project / "tests" / "test_several.py",
        """\
        def test_which_plugin(plugin_name):
            pass
        """,
    )
    write(
        project / "tests" / "test_chosen.py",
        f"""\
        import pytest
        from tgstats.plugins import TextReply


        @pytest.fixture
        def plugin_name():
            return "{two}"


        async def test_two_commands_need_a_name(make_plugin, command_reply):
            plugin = make_plugin()
            assert await command_reply(plugin, "x", command="other") == TextReply("other x")
            await command_reply(plugin)
        """,
    )
    write(
        project / "tests" / "test_missing.py",
        """\
        import pytest


        @pytest.fixture
        def plugin_name():
            return "not_installed_anywhere"


        def test_missing(plugin_class):
            pass
        """,
    )
    result = run_pytest("-q")
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    assert f"declares several ({one}, {two}); define a plugin_name fixture" in out, out
    assert "TwoPlugin has 2 commands (fake, other); pass command='NAME'" in out, out
    assert "plugin 'not_installed_anywhere' is not installed in this environment" in out, out
    assert "1 failed, 2 errors" in out, out
