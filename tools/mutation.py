"""Mutation testing of the numeric core with mutmut (pinned in the dev extra); writes docs/mutation.md.

Not part of CI (slow). Each module is mutated in its own scratch copy of the project (``.mutation/<name>/``, git
ignored), and its mutants run against that module's own test files only, one at a time (``--max-children 1``),
with one thread (``OMP_NUM_THREADS=1``), niced, and bounded: mutmut stops a mutant that uses more than 4x its tests'
clean CPU time + 10 s (a timeout counts as killed), and the script stops a module's run after ``--budget`` seconds
(its unchecked mutants are then counted as such, not as killed).

    python tools/mutation.py                      # every module
    python tools/mutation.py validity clinical    # some modules
    python tools/mutation.py --report-only        # rebuild docs/mutation.md from the last runs

Score = (killed + timeout) / (mutants - equivalent - not checked). Equivalent mutants (changing nothing that can be
observed) are listed in :data:`EQUIVALENT` with the reason, and left out of the count.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import mutants_core
import mutants_io
import mutants_measure
import mutants_temporal

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".mutation"
DOC = ROOT / "docs" / "mutation.md"
#: every run's status per mutant and run time, kept with the note (the scratch copies are not)
RUNS = ROOT / "docs" / "mutation-runs.json"

_AREAS = (mutants_core, mutants_temporal, mutants_measure, mutants_io)
#: name -> (module file, its tests before issue 24, the tests added for it: globs relative to the project root)
MODULES: dict[str, tuple[str, list[str], list[str]]] = {k: v for area in _AREAS for k, v in area.MODULES.items()}
#: mutant name -> why it is equivalent (cannot change anything observable); left out of the score
EQUIVALENT: dict[str, str] = {k: v for area in _AREAS for k, v in area.EQUIVALENT.items()}
#: module -> why its survivors are left (shown after the list)
SURVIVING_WHY: dict[str, str] = {k: v for area in _AREAS for k, v in area.SURVIVING_WHY.items()}

#: the date of the last run of tools/spot_check.py in which every case failed (update after running it)
SPOT_CHECK_RUN = "2026-12-07"

_STATUS = {-11: "killed",  # the mutant crashed the test process (SIGSEGV in SimpleITK): its tests fail
           1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 34: "skipped", 36: "timeout",
           -24: "timeout", 24: "timeout", 152: "timeout", 255: "timeout", None: "not checked"}


def _tests(patterns: list[str]) -> list[str]:
    files = sorted({str(p.relative_to(ROOT)) for pattern in patterns for p in ROOT.glob(pattern)})
    if not files:
        raise SystemExit(f"no test files match {patterns}")
    return files


_FRESH = """

@pytest.fixture(autouse=True)
def _no_frame_cache_for_mutants(monkeypatch):
    # added by tools/mutation.py: mutants are forked from a process whose caches hold the clean results
    from echolatent.measure import validity
    from echolatent.measure.framecache import FrameCache

    monkeypatch.setattr(validity, "CRITERIA_CACHE", FrameCache())  # empty for each test, not disabled
"""


def _fresh_caches(work: Path) -> None:
    conftest = work / "tests" / "conftest.py"
    text = conftest.read_text()
    conftest.write_text(("import pytest\n" if "import pytest" not in text else "") + text + _FRESH)


def rerun_survivors(name: str, budget: float) -> None:
    """Run the module's surviving and unchecked mutants again with the current tests (killed ones stay killed:
    tests were only added or tightened)."""
    status = results(name)
    if status is None:
        raise SystemExit(f"{name}: no previous run to continue")
    work = WORK / name
    shutil.rmtree(work / "tests")
    shutil.copytree(ROOT / "tests", work / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    _fresh_caches(work)
    module, before, added = MODULES[name]
    _write_config(work, module, _tests(before + added))  # test files added since the first run are selected too
    names = [key for key, s in status.items() if s not in ("killed", "timeout") and key not in EQUIVALENT]
    start = time.monotonic()
    _mutmut(work, ["run", "--max-children", "1", *names], budget, "mutmut-rerun.log")
    spent = float(_elapsed(name)) if _elapsed(name) != "?" else 0.0
    (work / "elapsed").write_text(f"{spent + time.monotonic() - start:.0f}")
    # a changed test selection makes mutmut forget the other mutants' results: keep them from the last run
    rerun = _scratch_results(name, module) or {}
    _store(name, statuses={**status, **{key: rerun[key] for key in names if rerun.get(key, "not checked")
                                        != "not checked"}})


def _stage(name: str, module: str, tests: list[str]) -> Path:
    """A scratch project: src/, tests/ and a pyproject.toml whose [tool.mutmut] names the module and its tests.

    Each test starts with an empty per-frame cache (tests/conftest.py): mutmut forks every mutant from the process
    that ran the clean tests, so a cached clean value would hide the mutant.
    """
    work = WORK / name
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "unet.pt", "*.egg-info")  # shape models: tests/temporal use them
    shutil.copytree(ROOT / "src", work / "src", ignore=ignore)
    shutil.copytree(ROOT / "tests", work / "tests", ignore=ignore)
    _fresh_caches(work)
    _write_config(work, module, tests)
    return work


def _write_config(work: Path, module: str, tests: list[str]) -> None:
    """The scratch project's pyproject.toml: the project's own plus a [tool.mutmut] naming the module and tests."""
    config = {
        "source_paths": ["src"],
        "only_mutate": [module],
        "pytest_add_cli_args": ["-p", "no:xdist", "-p", "no:cacheprovider", "-q"],
        "pytest_add_cli_args_test_selection": tests,
        "timeout_multiplier": 4.0,  # CPU seconds: a looping mutant is stopped at 4x its tests' clean time + 10 s
        "timeout_constant": 10.0,
        "use_git_change_detection": False,
    }
    text = (ROOT / "pyproject.toml").read_text() + "\n[tool.mutmut]\n"
    text += "".join(f"{key} = {json.dumps(value)}\n" for key, value in config.items())
    (work / "pyproject.toml").write_text(text)


def run_module(name: str, budget: float, baseline: bool = False) -> None:
    module, before, added = MODULES[name]
    work = _stage(_key(name, baseline), module, _tests(before if baseline else before + added))
    start = time.monotonic()
    _mutmut(work, ["run", "--max-children", "1"], budget, "mutmut.log")
    (work / "elapsed").write_text(f"{time.monotonic() - start:.0f}")
    _store(name, baseline)


def _mutmut(work: Path, arguments: list[str], budget: float, log_name: str) -> None:
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    env.pop("PYTHONPATH", None)  # mutmut puts mutants/src first and removes src itself
    log = (work / log_name).open("w")
    command = ["nice", "-n", "10", sys.executable, "-m", "mutmut", *arguments]
    process = subprocess.Popen(command, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        process.wait(timeout=budget)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # mutmut and the mutant it forked (a looping one would stay)
        process.wait(timeout=30)


def _key(name: str, baseline: bool) -> str:
    return f"{name}-baseline" if baseline else name


def _runs() -> dict[str, dict]:
    return json.loads(RUNS.read_text()) if RUNS.exists() else {}


def _scratch_results(key: str, module: str) -> dict[str, str] | None:
    meta = WORK / key / "mutants" / (module + ".meta")
    if not meta.exists():
        return None
    codes = json.loads(meta.read_text())["exit_code_by_key"]
    return {mutant: _STATUS.get(code, "suspicious") for mutant, code in codes.items()}


def _store(name: str, baseline: bool = False, statuses: dict[str, str] | None = None) -> None:
    """Keep the run's statuses (default: the scratch copy's) and run time in :data:`RUNS` (the scratch copy is
    git ignored)."""
    key = _key(name, baseline)
    status = statuses if statuses is not None else _scratch_results(key, MODULES[name][0])
    if status is None:
        return
    elapsed = WORK / key / "elapsed"
    runs = _runs()
    runs[key] = {"elapsed": elapsed.read_text() if elapsed.exists() else "?", "status": dict(sorted(status.items()))}
    RUNS.write_text(json.dumps(dict(sorted(runs.items())), indent=0) + "\n")


def results(name: str, baseline: bool = False) -> dict[str, str] | None:
    """mutant name -> status, from the module's last run (:data:`RUNS`, else the scratch copy; None: never run)."""
    key = _key(name, baseline)
    if key in _runs():
        return _runs()[key]["status"]
    return _scratch_results(key, MODULES[name][0])


def _elapsed(key: str) -> str:
    path = WORK / key / "elapsed"
    return path.read_text().strip() if path.exists() else _runs().get(key, {}).get("elapsed", "?")


def score_row(name: str, status: dict[str, str], baseline: bool = False) -> tuple[str, list[str]]:
    equivalent = [key for key in status if key in EQUIVALENT]
    counted = {key: s for key, s in status.items() if key not in EQUIVALENT}
    killed = sum(s in ("killed", "timeout") for s in counted.values())
    unchecked = sum(s == "not checked" for s in counted.values())
    survived = sorted(key for key, s in counted.items() if s not in ("killed", "timeout", "not checked"))
    tested = len(counted) - unchecked
    score = 100 * killed / tested if tested else 0.0
    elapsed = _elapsed(_key(name, baseline))
    row = (f"| {_key(name, baseline)} | `{MODULES[name][0]}` | {len(status)} | {len(equivalent)} | {unchecked} | "
           f"{killed} | {len(survived)} | {score:.1f} % | {elapsed} s |")
    return row, survived


def _previous_doc() -> dict[str, dict[str, str]]:
    """Lines of the current note for runs with no stored statuses (run before :data:`RUNS` existed): table rows by
    run name, the before/after line and the survivors line by module name."""
    found: dict[str, dict[str, str]] = {"row": {}, "common": {}, "survivors": {}}
    section = ""
    for line in DOC.read_text().splitlines() if DOC.exists() else []:
        if line.startswith("Same mutants"):
            section = "common"
        elif line.startswith("## "):
            section = "survivors" if line == "## Surviving mutants" else ""
        elif line.startswith("| ") and "not run" not in line:
            found["row"][line.split(" | ")[0][2:]] = line
        elif section and line.startswith("- ") and ":" in line:
            found[section][line[2:].split(":")[0]] = line
    return found


def write_doc(names: list[str]) -> None:
    previous = _previous_doc()
    lines = [
        "# Mutation testing of the numeric core", "",
        "Generated by `python tools/mutation.py` (mutmut, pinned in the dev extra; each module's mutants run against "
        "that module's test files only, one process, `OMP_NUM_THREADS=1`, `nice -n 10`). Score = (killed + timeout) / "
        "(mutants - equivalent - not checked). `<name>-baseline`: the module's tests before issue 24 (the files "
        "`MODULES` lists as before); `<name>`: with the tests added for issue 24. Statuses per mutant: "
        "`docs/mutation-runs.json`.", "",
        "| name | module | mutants | equivalent | not checked | killed | survived | score | run time |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    survivors = {}
    for name in names:
        for baseline in (True, False):
            status = results(name, baseline)
            if status is None and _key(name, baseline) in previous["row"]:
                lines.append(previous["row"][_key(name, baseline)])
                continue
            if status is None:
                lines.append(f"| {_key(name, baseline)} | `{MODULES[name][0]}` | not run | | | | | | |")
                continue
            row, kept = score_row(name, status, baseline)
            lines.append(row)
            if not baseline:
                survivors[name] = kept
    lines += ["", "Notes: a run stopped at its `--budget` leaves mutants `not checked` (out of the score); compare "
              "before and after on the common mutants below. The after runs were continued with `--rerun-survivors` "
              "(survivors and unchecked mutants only, against the tests as they are now; killed ones stay killed "
              "since tests were only added or tightened). A timeout counts as killed (a looping mutant), and so does a "
              "crash of the test process (SIGSEGV: SimpleITK given None). Each test "
              "starts with an empty per-frame validity cache, so a cached clean value cannot hide a mutant; the "
              "cache-key mutants are then equivalent (the cache only saves time)."]
    lines += ["", "Same mutants before and after (those checked in both runs, equivalent ones left out):", ""]
    for name in names:
        before, after = results(name, True), results(name)
        if not (before and after) and name in previous["common"]:
            lines.append(previous["common"][name])
        if before and after:
            common = [k for k in before if k in after and k not in EQUIVALENT
                      and "not checked" not in (before[k], after[k])]
            if common:
                rate = [100 * sum(run[k] in ("killed", "timeout") for k in common) / len(common)
                        for run in (before, after)]
                lines.append(f"- {name}: {len(common)} mutants, {rate[0]:.1f} % before, {rate[1]:.1f} % after")
    lines += ["", "## Equivalent mutants (left out of the score)", ""]
    lines += [f"- `{key}`: {reason}" for key, reason in sorted(EQUIVALENT.items())] or ["- none"]
    lines += ["", "## Surviving mutants", ""]
    for name in names:
        if name in survivors:
            keys = survivors[name]
            why = f" ({SURVIVING_WHY[name]})" if keys and name in SURVIVING_WHY else ""
            lines.append(f"- {name}: " + (", ".join(f"`{k}`" for k in keys) if keys else "none") + why)
        elif name in previous["survivors"]:
            lines.append(previous["survivors"][name])
    sys.path.insert(0, str(ROOT / "tools"))
    from spot_check import CASES

    lines += ["", "## Tests that fail when their subject is a constant", "",
              f"`PYTHONPATH=src:tools python tools/spot_check.py` replaces the subject of {len(CASES)} tests (listed "
              "in its `CASES`) by a function returning a constant of the right type; each of them must fail (the "
              f"script exits 1 otherwise). Last run ({SPOT_CHECK_RUN}): all {len(CASES)} failed.", ""]

    lines += [f"- `{node}`: `{name}` -> `{value[:60]}`" for node, name, value in CASES]
    DOC.write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help=f"some of {list(MODULES)} (default: all)")
    parser.add_argument("--budget", type=float, default=1800.0, help="seconds per module before it is stopped")
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--baseline", action="store_true", help="only each module's pre-existing test file")
    parser.add_argument("--rerun-survivors", action="store_true", help="continue the last run with the current tests")
    args = parser.parse_args()
    names = args.modules or list(MODULES)
    if unknown := set(names) - set(MODULES):
        parser.error(f"unknown modules {sorted(unknown)}")
    if not args.report_only:
        for name in names:
            if args.rerun_survivors:
                rerun_survivors(name, args.budget)
            else:
                run_module(name, args.budget, args.baseline)
    write_doc(list(MODULES))


if __name__ == "__main__":
    main()
