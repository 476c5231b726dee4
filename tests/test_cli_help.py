"""Every command's ``--help``, as a user reads it: each option and argument has help text, each option with a value
shows its default, flags are shown as flags, and nothing writes escape sequences into redirected output."""

from __future__ import annotations

import re

import pytest
import typer
from typer.testing import CliRunner

from echolatent.cli.app import _register_commands, app


def walk(command, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], object]]:
    """``(words, command)`` for every command under ``command`` (groups included; typer's own click objects)."""
    found = [(path, command)]
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            found += walk(sub, (*path, name))
    return found


def commands() -> list[tuple[tuple[str, ...], object]]:
    _register_commands()
    return walk(typer.main.get_command(app))


COMMANDS = commands()
IDS = [" ".join(words) or "echolatent" for words, _ in COMMANDS]


def test_the_walk_finds_every_verb() -> None:
    names = set(IDS)
    assert {"run", "demo", "smooth", "segment", "evaluate", "explore", "latent map", "latent evaluate",
            "train vae", "train seg", "data synth", "data check"} <= names


@pytest.mark.parametrize(("words", "command"), COMMANDS, ids=IDS)
def test_every_option_has_help_and_its_default(words, command) -> None:
    missing = [param.name for param in command.params
               if not getattr(param, "hidden", False) and not (getattr(param, "help", None) or "").strip()]
    assert not missing, f"`echolatent {' '.join(words)}`: no help text for {missing}"
    result = CliRunner().invoke(app, [*words, "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    text = result.output
    assert "\x1b" not in text and "<bool>" not in text and "─" not in text
    for param in command.params:
        if param.param_type_name != "option" or param.hidden or param.is_flag or param.default is None:
            continue
        if param.multiple or param.required:
            continue
        name = max(param.opts, key=len)
        assert "[default: " in _entry(text, name), f"{name} of {words} shows no default"


def test_usage_lines_name_arguments_in_capitals() -> None:
    for words, command in COMMANDS:
        for param in command.params:
            if param.param_type_name == "argument":
                shown = param.metavar or param.name
                assert shown == shown.upper(), f"`echolatent {' '.join(words)}` shows its argument as {shown!r}"


def _entry(text: str, option: str) -> str:
    """The help text of ``option`` (e.g. ``--size``, also shown as ``-s, --size``): its lines."""
    lines = text.splitlines()
    pattern = re.compile(r"^\s+(?:-\w, )?" + re.escape(option) + r"(?:\s|$)")
    start = next(i for i, line in enumerate(lines) if pattern.match(line))
    block = [lines[start]]
    for line in lines[start + 1:]:
        if line.strip().startswith("-") or not line.startswith(" " * 6):
            break
        block.append(line)
    return " ".join(block)


def test_short_flags_are_global_only() -> None:
    """``-v`` and ``-q`` on the root command; no command has a one-letter flag of its own."""
    short = {" ".join(words): [o for p in command.params if p.param_type_name == "option" for o in p.opts
                               if not o.startswith("--")]
             for words, command in COMMANDS if not hasattr(command, "commands")}
    assert not any(short.values()), short
    root = COMMANDS[0][1]
    assert sorted(o for p in root.params for o in p.opts if not o.startswith("--")) == ["-q", "-v"]


def options_named(name: str) -> dict[str, str]:
    """``{command: help}`` of every visible option called ``name``."""
    return {" ".join(words): param.help for words, command in COMMANDS for param in command.params
            if param.param_type_name == "option" and name in param.opts and not param.hidden}


def test_one_meaning_per_option_name() -> None:
    """--model is a U-Net file, --vae a shape model file, --method a smoothing method, --kind a shape model kind."""
    assert options_named("--model") and all("U-Net" in text for text in options_named("--model").values())
    assert all("Shape model file" in text for text in options_named("--vae").values())
    assert set(options_named("--method")) == {"run", "demo", "smooth"}
    assert set(options_named("--kind")) == {"train vae"}
    assert all("--data" in [o for p in command.params for o in p.opts]
               for words, command in COMMANDS if words[:1] == ("latent",) and words[1:] not in [(), ("sample",)])
