"""`tgstats new-plugin`: the host's rules, taken names refused, nothing overwritten,
and what it writes loads, passes `plugins check` and its own tests at once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from tgstats.cli.main import main
from tgstats.scaffold import NewPlugin, ScaffoldError, check_free, plan, render, write

from .plugin_project import add_dist_info, clean_env, new_plugin, tgstats_cli


def run_cli(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*tgstats_cli(), *args],
        cwd=cwd,
        env=env or clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_it_writes_a_distribution_and_prints_the_next_two_commands(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "new-plugin", "hello")
    assert result.returncode == 0, result.stderr
    project = tmp_path / "plugins" / "hello"  # the default DIR
    assert sorted(p.relative_to(project).as_posix() for p in project.rglob("*") if p.is_file()) == [
        "README.md",
        "pyproject.toml",
        "tests/test_hello.py",
        "tgstats_hello/__init__.py",
        "tgstats_hello/plugin.py",
        "tgstats_hello/plugin.yaml",
    ]
    lines = result.stdout.splitlines()
    assert lines[-3:] == [
        "Next:",
        "  pip install -e plugins/hello",
        "  tgstats chat        # then type /hello",
    ]
    pyproject = (project / "pyproject.toml").read_text()
    assert 'hello = "tgstats_hello.plugin:HelloPlugin"' in pyproject
    assert 'name = "tgstats-hello"' in pyproject


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["Hello"], "plugin name 'Hello': expected 1-32 lowercase letters"),
        (["9lives"], "plugin name '9lives'"),
        (["a" * 33], "expected 1-32"),
        (["../evil"], "plugin name '../evil'"),
        (["ok", "--command", "Big"], "command name 'Big': expected 1-32 lowercase"),
        (["ok", "--command", "x" * 33], "command name"),
        (["ok", "--command", "a b"], "command name 'a b'"),
        (["ok", "--command", "reload"], "command /reload is taken by the host"),
        (["ok", "--command", "as"], "command /as is reserved by `tgstats chat`"),
        (["ok", "--command", "heatmap"], "command /heatmap is taken by plugin 'heatmap_command'"),
        (["heatmap_command"], "a plugin named 'heatmap_command' is already installed"),
    ],
)
def test_bad_or_taken_names_are_refused_before_anything_is_written(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    error: str,
) -> None:
    # In-process (the installed plugins are this environment's): the CLI's own main().
    monkeypatch.chdir(tmp_path)
    assert main(["new-plugin", *args]) == 1
    stderr = capsys.readouterr().err
    assert error in stderr, stderr
    assert stderr.startswith("tgstats: error: ")
    assert not list(tmp_path.iterdir())


def test_existing_files_are_never_overwritten(tmp_path: Path) -> None:
    project = tmp_path / "mine"
    (project / "tgstats_mine").mkdir(parents=True)
    (project / "tgstats_mine" / "plugin.py").write_text("# my work\n")
    result = run_cli(tmp_path, "new-plugin", "mine", "--dir", "mine")
    assert result.returncode == 1
    assert "refusing to overwrite existing files: mine/tgstats_mine/plugin.py" in result.stderr
    assert (project / "tgstats_mine" / "plugin.py").read_text() == "# my work\n"
    assert sorted(p.name for p in project.rglob("*")) == ["plugin.py", "tgstats_mine"]


def test_a_file_appearing_meanwhile_is_not_clobbered(tmp_path: Path) -> None:
    new = plan("race", None, tmp_path / "race")
    target = next(path for path in render(new) if path.name == "plugin.yaml")
    target.parent.mkdir(parents=True)
    target.write_text("mine: 1\n")
    with pytest.raises(ScaffoldError, match="refusing to overwrite"):
        write(new)
    assert target.read_text() == "mine: 1\n"


def test_a_command_python_reserves_gets_a_method_it_can_name(tmp_path: Path) -> None:
    new = plan("imports", "import", tmp_path / "imports")
    assert new.method == "import_"
    write(new)
    source = (tmp_path / "imports" / "tgstats_imports" / "plugin.py").read_text()
    compile(source, "plugin.py", "exec")  # `def import(...)` would not compile
    assert '@command("import", ' in source


def test_names_follow_the_plugin_name() -> None:
    new = NewPlugin("my_stats", "stats", Path("x"))
    assert (new.package, new.distribution, new.class_name) == (
        "tgstats_my_stats",
        "tgstats-my-stats",
        "MyStatsPlugin",
    )
    check_free(new)  # nothing installed is called that


def test_the_new_plugin_passes_plugins_check_and_its_own_tests(tmp_path: Path) -> None:
    project = add_dist_info(new_plugin(tmp_path, "greeter", "--command", "greet"))
    env = clean_env(project)
    checked = run_cli(project, "plugins", "check", env=env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    shown = run_cli(project, "plugins", "show", "greeter", env=env)
    assert shown.returncode == 0, shown.stderr
    assert "state:         loaded" in shown.stdout
    assert "plugin.yaml" in shown.stdout
    # Its own tests, as its author runs them: no conftest, no pytest configuration.
    tested = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-W", "error", "-q"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "2 passed" in tested.stdout, tested.stdout
    # ... and they fail when the plugin is broken: they test something.
    plugin = project / "tgstats_greeter" / "plugin.py"
    plugin.write_text(plugin.read_text().replace("so far", "in all"))
    broken = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert broken.returncode == 1, broken.stdout
    assert "2 failed" in broken.stdout, broken.stdout
