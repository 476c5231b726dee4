"""``echolatent evaluate RUN --gt ECHONET_ROOT``: the EF of a run on EchoNet-Dynamic videos against ``FileList.csv``.

The run's ``summary.json`` gives each video's EF: the mean over its beats (``beats`` table), else the EF of its first
beat (``after``, else ``before`` clinical table). Written: ``OUT/echonet_ef.csv`` (a row per video: tool EF, number of
beats, reference EF, error) and ``OUT/summary.json`` (MAE, bias, r, share within 5 points, 95 % bootstrap intervals).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from echolatent.errors import InputError
from echolatent.files import write_csv_atomic, write_json_atomic
from echolatent.io.echonet import reference_ef
from echolatent.measure.agreement import ef_agreement

log = logging.getLogger(__name__)


def run_ef(run_out: str | Path) -> dict[str, tuple[float, int]]:
    """``{video stem: (EF %, beats)}`` from a run folder's ``summary.json`` (beats 0: the first beat's EF)."""
    path = Path(run_out) / "summary.json"
    if not path.is_file():
        raise InputError(path, "no summary.json: give the output folder of `echolatent run`")
    try:
        summary = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise InputError(path, f"unreadable summary ({err})") from None
    found = {}
    for stage in ("before", "after"):
        for patient, row in ((summary.get(stage) or {}).get("clinical") or {}).get("patients", {}).items():
            ef = row.get("pred", {}).get("ef")
            if ef is not None and np.isfinite(ef):
                found[patient] = (float(ef), 0)
    for patient, table in (summary.get("beats") or {}).items():
        ef = (table.get("mean") or {}).get("EF")
        if ef is not None and np.isfinite(ef):
            found[patient] = (float(ef), len(table.get("beats", [])))
    return found


def echonet_agreement(run_out: str | Path, root: str | Path, out: str | Path) -> dict:
    """Compare a run's EF with EchoNet-Dynamic's ``FileList.csv`` EF; write ``echonet_ef.csv`` and ``summary.json``.

    Raises:
        InputError: no run summary, not an EchoNet root, no video in common.
    """
    tool, reference = run_ef(run_out), reference_ef(root)
    common = sorted(set(tool) & set(reference))
    if not common:
        raise InputError(Path(run_out), f"no video of the run is listed in {Path(root) / 'FileList.csv'}")
    rows = [{"FileName": name, "EF": tool[name][0], "beats": tool[name][1], "EF_reference": reference[name],
             "error": tool[name][0] - reference[name]} for name in common]
    out = Path(out)
    write_csv_atomic(rows, out / "echonet_ef.csv")
    summary = {"reference": str(Path(root) / "FileList.csv"), "run": str(run_out), "videos": len(common),
               "not_in_file_list": sorted(set(tool) - set(reference)),
               "agreement": ef_agreement({k: tool[k][0] for k in common}, {k: reference[k] for k in common})}
    write_json_atomic(summary, out / "summary.json")
    log.info("EF of %d video(s) against %s: MAE %s", len(common), root, summary["agreement"]["mae"])
    return summary
