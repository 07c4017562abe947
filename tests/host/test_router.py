"""Command claims: the host first, one owner per command, clashes name both owners."""

from __future__ import annotations

import inspect

import pytest
from tgstats.host.router import HOST_COMMANDS, Claims, CommandClashError
from tgstats.plugins import NoConfig, Plugin, TextReply, command


class Counter(Plugin[NoConfig]):
    @command("count", "Count things")
    def count(self, ctx: object) -> TextReply:
        return TextReply("1")

    @command("top", "Top things")
    def top(self, ctx: object) -> TextReply:
        return TextReply("2")


class OtherCounter(Plugin[NoConfig]):
    @command("stats", "Statistics")
    def stats(self, ctx: object) -> TextReply:
        return TextReply("3")

    @command("count", "Count differently")
    def count(self, ctx: object) -> TextReply:
        return TextReply("4")


class Renamed(Plugin[NoConfig]):
    @command("tally", "Count, renamed")
    def count(self, ctx: object) -> TextReply:
        return TextReply("5")


class OptOutThief(Plugin[NoConfig]):
    @command("optout", "Not the host's")
    def optout(self, ctx: object) -> TextReply:
        return TextReply("6")


class Twice(Plugin[NoConfig]):
    @command("twice", "One")
    def one(self, ctx: object) -> TextReply:
        return TextReply("7")

    @command("twice", "Two")
    def two(self, ctx: object) -> TextReply:
        return TextReply("8")


def test_the_host_owns_its_commands_first() -> None:
    claims = Claims.host()
    assert dict(claims.owners) == dict.fromkeys(
        ["optout", "optin", "forgetme", "settings", "plugins", "reload"]
    )
    assert list(HOST_COMMANDS) == ["optout", "optin", "forgetme", "settings", "plugins", "reload"]
    with pytest.raises(CommandClashError) as raised:
        claims.claim("thief", OptOutThief)
    clash = raised.value
    assert clash.plugin == "thief" and clash.command == "optout" and clash.owner is None
    assert clash.message == "command /optout of plugin 'thief' is already taken by the host"


def test_a_taken_command_names_both_plugins_and_where() -> None:
    claims = Claims.host().claim("alpha", Counter)
    assert claims.commands_of("alpha") == ["count", "top"]
    with pytest.raises(CommandClashError) as raised:
        claims.claim("beta", OtherCounter)
    clash = raised.value
    assert clash.message == "command /count of plugin 'beta' is already taken by plugin 'alpha'"
    assert clash.owner == "alpha"
    # The location is the declaring method (its decorator line) in this file.
    lines, first = inspect.getsourcelines(OtherCounter.count)
    assert clash.file == __file__ and clash.line == first
    assert "@command" in lines[0]
    # The failed claim changed nothing.
    assert claims.commands_of("beta") == [] and not claims.is_free("count")


def test_reclaiming_replaces_a_plugins_own_commands_so_a_rename_frees_the_old() -> None:
    claims = Claims.host().claim("alpha", Counter)
    claims = claims.claim("alpha", Renamed)  # its own old /count is no obstacle
    assert claims.commands_of("alpha") == ["tally"]
    assert claims.is_free("count")
    assert claims.claim("beta", OtherCounter).commands_of("beta") == ["stats", "count"]
    assert claims.without("alpha").is_free("tally")


def test_one_plugin_cannot_declare_a_command_twice() -> None:
    with pytest.raises(CommandClashError, match="/twice is declared twice in plugin 'solo'"):
        Claims.host().claim("solo", Twice)
