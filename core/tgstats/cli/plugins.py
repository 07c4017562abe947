"""`tgstats plugins list|show|check`: what is installed, how it is configured, is it sound.

``list`` and ``show`` import each plugin class and validate its configuration
exactly as the bot would, without running it.  ``check`` goes one step
further and starts every enabled plugin the way the bot does (construction,
``setup()``, then ``shutdown()``; see :mod:`tgstats.host.trial`), so it is a
faithful pre-deploy test.  Output goes to stdout (``--json`` output is pure
JSON); logs and the problems found go to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
from pathlib import Path
from typing import Any

from tgstats.cli.options import common_options
from tgstats.config import HostConfig, default_config_path, leaf_values, load_host_config
from tgstats.errors import ConfigError, PluginError, PluginLoadError
from tgstats.host.discovery import Discovery, discover_plugins
from tgstats.host.loading import inspect_plugins, prepare_plugin
from tgstats.host.records import PluginRecord
from tgstats.hotreload.patterns import watched_files
from tgstats.logs import configure_logging
from tgstats.yamlconfig import did_you_mean

__all__ = ["register"]

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2

CHECK_TIMEOUT = 30.0  # seconds each setup()/shutdown() may take in `check`


def _config_option() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument(
        "--plugins-config",
        metavar="PATH",
        default=argparse.SUPPRESS,  # given before the subcommand must survive
        help="plugins.yaml to use ($TGSTATS_PLUGINS_CONFIG; default: the packaged one)",
    )
    return parser


def register(subparsers: Any) -> None:
    parents = [common_options(), _config_option()]
    parser = subparsers.add_parser(
        "plugins",
        help="list, inspect and check the installed plugins",
        description="Inspect the installed plugins and validate their configuration.",
        parents=parents,
    )
    parser.set_defaults(handler=lambda _args: _usage(parser))
    actions = parser.add_subparsers(dest="plugins_command", metavar="ACTION")

    listing = actions.add_parser(
        "list",
        help="every discovered plugin with its state",
        description="Every installed plugin: distribution, version, enabled, state "
        "(loaded, disabled, failed with the reason), editable, source directory.",
        parents=parents,
    )
    listing.add_argument("--json", action="store_true", help="print a JSON list instead")
    listing.set_defaults(handler=_list)

    show = actions.add_parser(
        "show",
        help="effective config of one plugin and the files watched for it",
        description="The effective configuration of NAME with the origin of every value "
        "(code default, plugin.yaml, plugins.yaml) and the files whose change reloads it.",
        parents=parents,
    )
    show.add_argument("name", metavar="NAME", help="plugin (entry-point) name")
    show.add_argument("--json", action="store_true", help="print JSON instead")
    show.set_defaults(handler=_show)

    check = actions.add_parser(
        "check",
        help="validate every config, then set every enabled plugin up and shut it down "
        "(exit 1 on problems)",
        description="Validate plugins.yaml and every plugin.yaml, then start every enabled "
        "plugin as the bot does (import, construct, setup(), shutdown()) against an empty "
        "throw-away store. Exits 1 listing every problem, one per line: config problems "
        "as 'path:line: key: expected ..., found ...', plugin failures as "
        "'name: reason (file:line)'.",
        parents=parents,
    )
    check.add_argument(
        "--db",
        metavar="URL",
        help="run the plugins' setup against this SQLAlchemy database instead "
        "(default: an empty SQLite file in a temporary folder, deleted afterwards; "
        "$TGSTATS_DB is not used)",
    )
    check.add_argument(
        "--timeout",
        type=_seconds,
        default=CHECK_TIMEOUT,
        metavar="SECONDS",
        help="a setup() or shutdown() still running after this long fails "
        f"(default {CHECK_TIMEOUT:g}); one that blocks the event loop ends the "
        "check after twice as long, printing every thread's stack",
    )
    check.set_defaults(handler=_check)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a number of seconds > 0, found {text!r}")
    return value


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return EXIT_USAGE


def _setup(args: argparse.Namespace, *, quiet: bool = False) -> Path:
    debug = getattr(args, "debug", False)
    level = logging.DEBUG if debug else (logging.CRITICAL if quiet else logging.WARNING)
    configure_logging(level=level)  # stderr only: stdout stays clean for --json
    return default_config_path(getattr(args, "plugins_config", None))


def _inspect(config: HostConfig) -> tuple[Discovery, list[PluginRecord]]:
    # A plugin that prints while being imported must not corrupt `--json`.
    with contextlib.redirect_stdout(sys.stderr):
        discovery = discover_plugins()
        return discovery, inspect_plugins(config, discovery)


# ------------------------------------------------------------------------------ list


def _list(args: argparse.Namespace) -> int:
    config = load_host_config(_setup(args))
    _, records = _inspect(config)
    if args.json:
        json.dump([r.to_dict() for r in records], sys.stdout, indent=2)
        sys.stdout.write("\n")
        return EXIT_OK
    if not records:
        print("no plugins installed (entry-point group tgstats.plugins is empty)")
        return EXIT_OK
    rows = [_row(r) for r in records]
    if sys.stdout.isatty():
        _rich_table(rows)
    else:
        _plain_table(rows)
    return EXIT_OK


_HEADERS = ("NAME", "DISTRIBUTION", "VERSION", "ENABLED", "STATE", "EDITABLE", "SOURCE")


def _row(record: PluginRecord) -> list[str]:
    d = record.to_dict()
    return [
        d["name"],
        d["distribution"] or "-",
        d["version"] or "-",
        _yes(d["enabled"]),
        _state(record),
        "-" if d["editable"] is None else _yes(d["editable"]),
        d["source_dir"] or "-",
    ]


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _state(record: PluginRecord) -> str:
    """``failed: reason (file:line)``, or the bare state when there is no reason."""
    if not record.reason:
        return record.state
    return f"{record.state}: {_reason(record)}"


def _reason(record: PluginRecord) -> str:
    return f"{record.reason}{_location(record.error_file, record.error_line)}"


def _location(file: str | None, line: int | None) -> str:
    if not file:
        return ""
    return f" ({file}:{line})" if line else f" ({file})"


def _plain_table(rows: list[list[str]]) -> None:
    # The state column (with its reason) can be long: it and the source
    # directory go last-but-one/last so the short columns stay aligned.
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(_HEADERS)]
    state_width = min(widths[4], 40)
    for row in [list(_HEADERS), *rows]:
        cells = [row[i].ljust(widths[i]) for i in range(4)]
        cells.append(row[4].ljust(state_width))
        cells += [row[5].ljust(widths[5]), row[6]]
        print("  ".join(cells).rstrip())


def _rich_table(rows: list[list[str]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(header_style="bold")
    for header in _HEADERS:
        # Plugin names stay whole; on a narrow terminal the rest wraps, and a
        # long reason or path wraps rather than squeezing the short columns.
        table.add_column(
            header,
            no_wrap=header == "NAME",
            overflow="fold",
            min_width={"STATE": 8, "SOURCE": 20}.get(header),
        )
    colours = {"loaded": "green", "disabled": "yellow", "failed": "red"}
    for row in rows:
        colour = colours.get(row[4].partition(":")[0], "")
        table.add_row(*row[:4], f"[{colour}]{_escape(row[4])}[/]", *row[5:])
    Console().print(table)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


# ------------------------------------------------------------------------------ show


def _show(args: argparse.Namespace) -> int:
    config = load_host_config(_setup(args))
    _, records = _inspect(config)
    by_name = {r.name: r for r in records}
    record = by_name.get(args.name)
    if record is None:
        hint = did_you_mean(args.name, sorted(by_name))
        raise PluginError(args.name, f"no such plugin is installed{hint}")
    if record.state == "disabled" and record.spec is not None:
        # Still show what it would run with if enabled (imports it, no setup).
        try:
            with contextlib.redirect_stdout(sys.stderr):
                record.config = prepare_plugin(record.spec, config).config
        except PluginLoadError as error:
            record.reason = f"(if enabled) {error.message}"
            record.error_file, record.error_line = error.file, error.line
    watched = _watched(record, config)
    if args.json:
        json.dump(_show_dict(record, watched, config), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        _show_text(record, watched, config)
    return EXIT_OK if record.state != "failed" else EXIT_PROBLEMS


def _watched(record: PluginRecord, config: HostConfig) -> list[Path]:
    spec = record.spec
    files = []
    if spec is not None and spec.source_dir is not None:
        files = watched_files(spec.source_dir, config.settings)
    # The operator's plugins.yaml is always watched: it can change any plugin.
    return [*files, config.path]


def _config_items(record: PluginRecord) -> list[tuple[str, Any, str]]:
    if record.config is None:
        return []
    values = leaf_values(record.config.effective())
    return [(key, values.get(key), str(origin)) for key, origin in record.config.origins.items()]


def _show_dict(record: PluginRecord, watched: list[Path], config: HostConfig) -> dict[str, Any]:
    return {
        **record.to_dict(),
        "config": {
            key: {"value": _jsonable(value), "origin": origin}
            for key, value, origin in _config_items(record)
        },
        "config_files": [str(p) for p in (record.config.sources if record.config else ())],
        "watched_files": [str(p) for p in watched] if config.settings.hot_reload else [],
        "hot_reload": config.settings.hot_reload,
    }


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _show_text(record: PluginRecord, watched: list[Path], config: HostConfig) -> None:
    d = record.to_dict()
    print(f"plugin:        {record.name}")
    if record.spec is not None:
        spec = record.spec
        print(f"distribution:  {spec.distribution} {spec.version}")
        print(f"entry point:   {spec.value}")
        editable = f"yes (project {spec.project_dir})" if spec.editable else "no"
        print(f"editable:      {editable}")
        print(f"source dir:    {d['source_dir'] or '- (module not found)'}")
    print(f"enabled:       {_yes(record.enabled)}")
    print(f"state:         {_state(record)}")
    print(f"plugins.yaml:  {config.path}")
    print()
    items = _config_items(record)
    if record.config is None:
        print("config: not available (the plugin is not loaded)")
    elif not items:
        print("config: (this plugin has no options)")
    else:
        print("config (value, then where it comes from):")
        rendered = [(key, _render(value), origin) for key, value, origin in items]
        width = max(len(key) for key, _, _ in rendered)
        value_width = min(max(len(value) for _, value, _ in rendered), 40)
        for key, value, origin in rendered:
            print(f"  {key.ljust(width)} = {value.ljust(value_width)}  # {origin}")
    print()
    if not config.settings.hot_reload:
        print("watched files: none (settings.hot_reload is false)")
        return
    print(f"watched files ({len(watched)}):")
    for path in watched:
        print(f"  {path}")


def _render(value: Any) -> str:
    return json.dumps(_jsonable(value), ensure_ascii=False)


# ------------------------------------------------------------------------------ check


def _check(args: argparse.Namespace) -> int:
    path = _setup(args, quiet=True)  # problems are listed below, not logged twice
    try:
        config = load_host_config(path)
    except ConfigError as error:
        _problems(error.lines())  # every problem of the file, location first
        return EXIT_PROBLEMS
    from tgstats.host.trial import run_trial  # the store (SQLAlchemy) only for `check`

    # A plugin printing in its import or setup must not mix with the report.
    with contextlib.redirect_stdout(sys.stderr):
        result = run_trial(config.path, db_url=args.db, timeout=args.timeout)
    records = list(result.records)
    problems = [line for r in records if r.state == "failed" for line in _problem_lines(r)]
    problems += [line for r in result.shutdown_failed for line in _problem_lines(r)]
    installed = sorted(r.name for r in records)
    for name in config.plugins:
        if name not in installed:
            hint = did_you_mean(name, installed)
            problems.append(
                f"{name}: listed in plugins.yaml but no installed plugin has this name{hint}"
                f"{_location(str(config.path), config.line_of(name))}"
            )
    if problems:
        _problems(problems)
        return EXIT_PROBLEMS
    loaded = sum(r.state == "loaded" for r in records)
    disabled = sum(r.state == "disabled" for r in records)
    print(
        f"OK: {loaded} plugin(s) loaded, set up and shut down, {disabled} disabled; "
        f"{config.path} is valid"
    )
    return EXIT_OK


def _problem_lines(record: PluginRecord) -> list[str]:
    """An invalid config: each of its problems (they name file, line and key);
    any other failure: ``name: reason (file:line)``."""
    return list(record.problems) or [f"{record.name}: {_reason(record)}"]


def _problems(lines: list[str]) -> None:
    # Not indented: an editor or `grep -n`-style tool reads the location at
    # the start of the line.
    print(f"{len(lines)} problem(s):", file=sys.stderr)
    for line in lines:
        print(line, file=sys.stderr)
