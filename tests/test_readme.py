"""The README tells the truth: every command it names exists, the quick ones run, and the output files and table
columns it describes are exactly those a `run` writes."""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

import pytest

from echolatent import __version__
from echolatent.cli.app import main

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def _cli(argv: list[str], monkeypatch, capsys) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["echolatent", *argv])
    try:
        main()
        code = 0
    except SystemExit as exit_info:
        code = int(exit_info.code or 0)
    return code, capsys.readouterr().out


def _readme_commands() -> set[tuple[str, ...]]:
    """``(verb,)`` or ``(group, verb)`` of every ``echolatent ...`` command named in the README's code and tables."""
    groups = {"data", "train", "latent"}
    code = "\n".join(re.findall(r"```bash\n(.*?)```", README, re.S) + re.findall(r"`([^`\n]+)`", README))
    found = set()
    for match in re.finditer(r"echolatent ([a-z]+)(?: ([a-z|\\]+))?", code):
        verb, sub = match.group(1), match.group(2)
        if verb in groups and sub:
            found.update((verb, s) for s in re.split(r"\\?\|", sub) if s)
        else:
            found.add((verb,))
    return found


def test_every_command_in_the_readme_exists_and_answers_help(monkeypatch, capsys):
    commands = _readme_commands()
    assert ("run",) in commands and ("data", "synth") in commands and ("latent", "map") in commands
    for command in sorted(commands):
        code, out = _cli([*command, "--help"], monkeypatch, capsys)
        assert code == 0 and "Usage" in out, command


def test_version_is_the_package_version(monkeypatch, capsys):
    code, out = _cli(["--version"], monkeypatch, capsys)
    assert code == 0 and __version__ in out


def _outputs_section() -> str:
    start = README.index("## Outputs")
    return README[start : README.index("\n## ", start + 5)]


def _documented_columns(row_name: str) -> set[str]:
    """Backticked names in the README's Outputs row for ``row_name`` (e.g. ``OUT/frames.csv``)."""
    row = next(line for line in _outputs_section().splitlines() if line.startswith(f"| `{row_name}`"))
    return set(re.findall(r"`([a-z_<>]+)`", row.split("|")[2]))


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory) -> Path:
    """A tiny `echolatent demo` (1 patient, 6 frames, 64 px, shipped weights)."""
    from echolatent.jobs.run import run_demo

    out = tmp_path_factory.mktemp("readme") / "demo"
    run_demo(out, patients=1, frames=6, size=64)
    return out


def test_every_output_file_in_the_readme_is_written(demo_out):
    named = re.findall(r"\| `(OUT/[^`]+)`", _outputs_section())
    assert len(named) >= 7
    for name in named:
        for part in name.split(", "):
            pattern = part.replace("<patient>", "*").replace("<name>", "*").removeprefix("OUT/")
            assert list(demo_out.glob(pattern)), f"README names {part}, the run wrote none"


@pytest.mark.parametrize("table", ["frames.csv", "metrics.csv"])
def test_columns_in_the_readme_are_the_columns_written(demo_out, table):
    with (demo_out / table).open() as handle:
        written = set(next(csv.reader(handle)))
    documented = _documented_columns(f"OUT/{table}")
    ids = {"stage", "sequence", "patient", "view", "kind", "frame", "instant", "structure"}
    deviations = {c for c in written if c.startswith("d_")}
    # ids are described in words ("a row per stage, sequence and frame"); d_<attribute> as a pattern
    assert written - ids - deviations <= documented, f"undocumented columns: {written - ids - deviations - documented}"
    stages = {"pred", "post"}  # values of the stage column, named in the same row
    named_columns = {c for c in documented if "<" not in c} - stages
    attributes = {"lv_area", "lv_base_width", "lv_length", "lv_orientation", "myo_area", "epi_center_x",
                  "epi_center_y", "la_area"}
    if table == "frames.csv":
        assert deviations == {f"d_{a}" for a in attributes}
    assert named_columns <= written, f"README names columns the run does not write: {named_columns - written}"
