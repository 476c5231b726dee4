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

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".mutation"
DOC = ROOT / "docs" / "mutation.md"
#: every run's status per mutant and run time, kept with the note (the scratch copies are not)
RUNS = ROOT / "docs" / "mutation-runs.json"
_IO_BEFORE = ["tests/io/test_readers.py", "tests/io/test_io_bad_files.py", "tests/io/test_io_camus.py"]

#: name -> (module file, its tests before issue 24, the tests added for it: globs relative to the project root)
MODULES = {
    "validity": ("src/echolatent/measure/validity.py", ["tests/measure/test_measure_validity.py"],
                 ["tests/measure/test_validity_*.py"]),
    "clinical": ("src/echolatent/measure/clinical.py", ["tests/measure/test_measure_clinical.py"],
                 ["tests/measure/test_clinical_*.py"]),
    "metrics": ("src/echolatent/latent/metrics.py", ["tests/latent/test_metrics.py"],
                ["tests/latent/test_metrics_*.py"]),
    "evaluate": ("src/echolatent/latent/evaluate.py", ["tests/latent/test_evaluate.py"],
                 ["tests/latent/test_evaluate_*.py"]),
    "volume": ("src/echolatent/io/volume.py", _IO_BEFORE, ["tests/io/test_geometry_values.py"]),
    "payload": ("src/echolatent/io/payload.py", _IO_BEFORE, ["tests/io/test_geometry_values.py"]),
    "attributes": ("src/echolatent/measure/attributes.py", ["tests/measure/test_measure_attributes.py"],
                   ["tests/measure/test_attributes_values.py"]),
    "qp": ("src/echolatent/temporal/qp.py", ["tests/temporal/test_qp.py"], ["tests/temporal/test_qp_*.py"]),
    "exact": ("src/echolatent/temporal/exact.py", ["tests/temporal/test_exact.py"],
              ["tests/temporal/test_exact_values.py"]),
    "limits": ("src/echolatent/temporal/limits.py", ["tests/temporal/test_exact.py", "tests/temporal/test_smooth.py"],
               ["tests/temporal/test_exact_values.py"]),
}

#: mutant name -> why it is equivalent (cannot change anything observable); left out of the score.
_NUMERIC = "the inputs are numeric arrays and every later operation casts to float64 anyway"
_M = "echolatent.latent.metrics."
EQUIVALENT: dict[str, str] = {
    _M + "x__discretise__mutmut_7": "np.digitize never returns a negative bin: the lower clip is never active",
    _M + "x__discretise__mutmut_8": "np.digitize over the 19 inner edges returns at most 19 = bins - 1: no upper clip",
    _M + "x__discretise__mutmut_20": "as _8: indices never exceed bins - 1, so a looser upper clip changes nothing",
    _M + "x_mutual_information__mutmut_4": "an extra empty row of the joint table adds only zero terms",
    _M + "x_mutual_information__mutmut_6": "an extra empty column of the joint table adds only zero terms",
    _M + "x_mutual_information__mutmut_13": "counting 2 per sample is undone by the normalisation of the joint table",
    _M + "x__check__mutmut_3": "codes dtype: " + _NUMERIC,
    _M + "x__check__mutmut_5": "codes dtype: " + _NUMERIC,
    _M + "x__check__mutmut_7": "attributes dtype: " + _NUMERIC,
    _M + "x__check__mutmut_9": "attributes dtype: " + _NUMERIC,
    _M + "x_controllability__mutmut_3": "values dtype: " + _NUMERIC,
    _M + "x_controllability__mutmut_5": "values dtype: " + _NUMERIC,
    _M + "x_controllability__mutmut_7": "measurements dtype: " + _NUMERIC,
    _M + "x_controllability__mutmut_9": "measurements dtype: " + _NUMERIC,
}
_V = "echolatent.measure.validity."
_RECOMPUTED = "passes no precomputed holes: the callee computes the same holes itself"
_UNUSED = "computes the holes of a structure that is absent: the value is never used (guarded by the same test)"
_C = "echolatent.measure.clinical."
EQUIVALENT.update({
    _C + "x_ejection_fraction__mutmut_12": 'float("NAN") is NaN',
    _C + "x__largest_contour__mutmut_3": "find_contours' default level is (min + max) / 2 = 0.5 on a padded 0..1 mask",
    _C + "x__largest_contour__mutmut_10": "astype(None) is float64",
    _C + "x__largest_contour__mutmut_28": "keeping the closing duplicate point adds a zero-length edge that crosses "
    "no disk line",
    _C + "x_disk_diameters__mutmut_26": "rolling by +1 instead of -1 gives the same edges, reversed",
    _C + "x_lv_geometry__mutmut_8": "a boolean mask == Label.LV (1) is the mask itself",
    _C + "x_lv_geometry__mutmut_84": "45 degrees is find_base's default max_angle too",
    _C + "x_lv_geometry__mutmut_108": "N_DISKS is disk_diameters' default too",
    **{_C + f"x_lv_geometry__mutmut_{i}": "order 1 is skimage resize's default for float images" for i in (51, 55)},
    _C + "x_lv_geometry__mutmut_57": "astype(None) is float64",
    **{_C + f"x_clinical_indices__mutmut_{i}": "View is a StrEnum: members sort by their value without the key "
       "(and the biplane volume is symmetric in the two views)" for i in (19, 21)},
    **{_V + f"x__cached_criteria__mutmut_{i}": "the cache only saves time: a changed but fixed key, a miss or a "
       "value not stored makes the criteria be computed again, with the same result"
       for i in (3, 5, 6, 7, 8, 9, 14, 15)},
    _V + "x__holes__mutmut_23": "pixel [1, 0] of the padded image is padding too: the same outside label as [0, 0]",
    _V + "x__piece_count__mutmut_6": "one piece goes on to the size test, which returns 1 either way",
    _V + "x__piece_count__mutmut_12": "reached with 2+ pieces only: 0 and the count both differ from 1, the loop stops",
    _V + "x_disconnected_pixels__mutmut_6": "one piece: total minus largest is 0 either way",
    _V + "x_erosion_ratio__mutmut_6": "a wider padding changes no distance to the outside",
    _V + "x_erosion_ratio__mutmut_11": "chessboard is scipy's default metric of distance_transform_cdt",
    _V + "x_check_validity__mutmut_19": "the criteria are Python floats: the array is float64 without the dtype",
    _V + "x_check_validity__mutmut_21": "the criteria are Python floats: the array is float64 without the dtype",
    _V + "x_check_validity__mutmut_26": "errstate only silences warnings (NaN comparisons emit none)",
    _V + "x_frame_criteria__mutmut_17": 'float("NAN") is NaN',
    _V + "x_width_ratio__mutmut_14": 'float("NAN") is NaN',
    **{_V + f"x_frame_criteria__mutmut_{i}": _UNUSED for i in (25, 30, 35, 40, 42)},
    _V + "x_frame_criteria__mutmut_34": _RECOMPUTED,
    **{_V + f"x_frame_criteria__mutmut_{i}": _RECOMPUTED for i in (86, 88, 109, 111)},
    **{_V + f"x__own_holes__mutmut_{i}": "every caller passes the holes: the `holes is None` branch is dead"
       for i in (2, 3, 4, 5)},
    _V + "x__own_holes__mutmut_22": "hole pixels all have labels > 0: the filter `touched > 0` never removes one",
    **{_V + f"x_holes_between__mutmut_{i}": _RECOMPUTED for i in (3, 5)},
    **{_V + f"x__between__mutmut_{i}": _RECOMPUTED for i in (7, 10, 14, 17)},
    **{_V + f"x__between__mutmut_{i}": "the region is read only when its holes are not given (they always are)"
       for i in (5, 12)},
})

_E = "echolatent.latent.evaluate."
_BOTH_WORDS = ("load_frames' size error says both 'size' and 'differ' (\"frame size ... differs from ...\"), other "
               "errors neither: testing one word, the other or either decides alike")
EQUIVALENT.update({
    _E + "x_dice_per_structure__mutmut_36": "max(total, 2) differs from max(total, 1) only at total = 1, where the "
    "intersection is 0: Dice 0 either way",
    _E + "x_wilson_interval__mutmut_4": "0.95 is SciPy's default confidence level",
    _E + "x_evaluate_model__mutmut_41": "spacing None is compute_attributes' default",
    _E + "x_evaluate_model__mutmut_80": "without regularised attributes controllability_scores loops over nothing "
    "and returns {} too",
    **{_E + f"x_evaluate_dataset__mutmut_{i}": _BOTH_WORDS for i in (13, 14, 15, 17, 18, 19, 21)},
    _E + "x_evaluate_model__mutmut_69": "Generator.choice treats replace=None as False (no replacement)",
})
_IO = "echolatent.io.volume."
EQUIVALENT.update({
    **{_IO + f"x__require_readable__mutmut_{i}": "reading 2 bytes, or all, fails exactly when reading 1 byte does "
       "(the check only needs the file to open and read)" for i in (7, 8)},
    _IO + "x_read_image__mutmut_61": "np.issubdtype(None, floating) is True (dtype None is float64): integer images "
    "are counted too, and have no NaN",
    _IO + "x_as_uint8_image__mutmut_29": "when high == low every (value - low) is 0: any scale gives 0",
    _IO + "x_as_uint8_image__mutmut_34": "astype(None) is float64",
    **{_IO + f"x_write_like__mutmut_{i}": "SimpleITK never compresses a .nii (only .nii.gz and .mhd): the flag "
       "changes nothing there" for i in (33, 34)},
    **{_IO + f"x_write_like__mutmut_{i}": "the temporary folder is empty after the renames (or holds what "
       "WriteImage left): removing it never raises" for i in (49, 51, 52)},
})

_P = "echolatent.io.payload."
_MHD_DEFAULT = "a default read only when the header lacks the field, and every mutated default gives the same test"
EQUIVALENT.update({
    _P + "x__gzip_size__mutmut_5": "0 is _zlib_size's default offset",
    _P + "x__gzip_size__mutmut_9": "wbits 32 (+0): zlib detects the gzip header itself",
    _P + "x__zlib_size__mutmut_1": "the default offset is never used: both callers pass one",
    _P + "x__zlib_size__mutmut_10": "reading the whole file at once instead of 1 MiB chunks gives the same bytes",
    _P + "x__zlib_size__mutmut_15": "before the end of a stream unused_data is empty: the same empty chunk",
    _P + "x__zlib_size__mutmut_20": "decompress() returns all the output it can: flush() returns nothing more",
    _P + "x__mhd_fields__mutmut_14": "codec names are case-insensitive",
    **{_P + f"x__mhd_problem__mutmut_{i}": "an MHD without ElementDataFile is refused by SimpleITK's "
       "ReadImageInformation before the field is read" for i in (10, 12, 16)},
    **{_P + f"x__mhd_problem__mutmut_{i}": _MHD_DEFAULT + " (a missing BinaryData means binary)"
       for i in (28, 29, 30)},
    **{_P + f"x__mhd_problem__mutmut_{i}": _MHD_DEFAULT + " (a missing CompressedData means raw)"
       for i in (105, 106, 107)},
    **{_P + f"x__mhd_problem__mutmut_{i}": "a missing HeaderSize gives None or '0', both 0 after `or 0`"
       for i in (76, 78)},
    _P + "x__mhd_problem__mutmut_83": "`or 1` acts on an empty HeaderSize only, which SimpleITK refuses first",
    **{_P + f"x__mhd_problem__mutmut_{i}": "the probe image only gives the size of one pixel component, whatever "
       "its size or component count" for i in (55, 57)},
})

_A = "echolatent.measure.attributes."
_CROP = ("the crop to the heart only saves time: no crop, a crop shifted by a pixel or a margin of a few pixels "
         "changes the values by < 1e-12 (tests/measure/test_attributes_values.py::test_the_crop_changes_no_value; "
         "CROP_MARGIN 2..10000 tried on the drawn heart)")
EQUIVALENT.update({
    **{_A + f"x__heart_view__mutmut_{i}": _CROP for i in (6, 8, 12, 22, 23, 26, 28, 29, 31, 32, 33)},
    **{_A + f"x__heart_view__mutmut_{i}": "arange of ints times a float spacing is float64 without the dtype"
       for i in (54, 57, 64, 67)},
    **{key: "astype(None) is float64" for key in (_A + "x__measure_block__mutmut_9", _A + "x__centre__mutmut_2",
                                                   _A + "x_lv_landmarks__mutmut_30")},
    **{_A + f"x__measure_block__mutmut_{i}": "every value is already a float64 array (dtype None keeps it)"
       for i in (79, 81)},
    **{_A + f"x__centre__mutmut_{i}": "an empty region divides 0 by 0 (invalid, not divide): the divide setting "
       "never acts" for i in (7, 9)},
    _A + "x_measure_attributes__mutmut_3": "each block checks the spacing again: the same ValueError, raised later",
    _A + "x_measure_attributes__mutmut_4": "exactly CHUNK frames measured as one chunk of the chunked path: the same "
    "values and reasons",
})

_Q = "echolatent.temporal.qp."
_ROUTE = ("changes only the route to the optimum (which active-set guesses are tried, when a problem is polished "
          "or handed to the interior point), not the answer: the QP is strictly convex, a guess is kept only when it "
          "meets the KKT conditions, and every route is compared with clarabel within 1e-8 (tests/temporal)")
EQUIVALENT.update({
    **{_Q + f"x__active_set_steps__mutmut_{i}": _ROUTE
       for i in (14, 16, 26, 31, 34, 36, 37, 39, 40, 42, 49, 55, 56, 58, 59, 61, 62, 63, 95)},
    **{_Q + f"x__interior_point__mutmut_{i}": _ROUTE for i in (36, 47, 49, 52, 53, 54, 55, 57, 58, 60, 63, 75)},
    **{_Q + f"x_solve_deviation_qp__mutmut_{i}": _ROUTE for i in (18, 25)},
    _Q + "x__interior_point__mutmut_74": "None written into a boolean array is False",
    _Q + "x__interior_point__mutmut_50": "astype(None) is float64",
    _Q + "x__feasible_start__mutmut_22": "np.finfo(None) is float64's",
    **{_Q + f"x_solve_deviation_qp__mutmut_{i}": "np.zeros_like(None) is a 0-d zero that broadcasts like the zero "
       "array" for i in (34, 35)},
})

_X = "echolatent.temporal.exact."
_L = "echolatent.temporal.limits."
_F64 = "a float64 operand (cast elsewhere in the expression) makes the result float64 and equal without this cast"
EQUIVALENT.update({
    **{_X + f"x_solve_exact__mutmut_{i}": "NumPy reshapes with any negative size as the unknown one"
       for i in (63, 65, 81, 106, 115)},
    _X + "x_solve_exact__mutmut_42": "with free weight 0 the banded solve is the identity; with no free dim it does "
    "nothing",
    _X + "x_solve_exact__mutmut_43": "with free weight 0 the banded solve is the identity",
    **{_X + f"x_solve_limited__mutmut_{i}": "with weight 0, H = I: solving is copying" for i in (11, 13)},
    _X + "x_solve_limited__mutmut_29": "a free minimiser exactly on a bound is the QP's optimum too",
    **{_X + f"x_solve_limited__mutmut_{i}": "the QP computes the free minimiser itself when not given"
       for i in (38, 42)},
    **{_L + f"x_check_frame_limits__mutmut_{i}": "the array is only checked: the limits are written into a "
       "float64 array" for i in (4, 6)},
    **{_L + f"x_denormalise__mutmut_{i}": _F64 for i in (3, 5, 7, 9, 13, 15)},
    **{_L + f"x_normalise__mutmut_{i}": _F64 for i in (3, 5, 7, 9, 21, 23)},
    **{_L + f"x_deviation__mutmut_{i}": "z - 0.5 * (...) is float64 whatever z's dtype, with the same values"
       for i in (3, 5)},
    **{_L + f"x_violation__mutmut_{i}": _F64 + " (|d| is float64)" for i in (9, 11)},
})

#: module -> why its survivors are left (shown after the list)
SURVIVING_WHY = {
    "attributes": "_base_and_length: the reasons given for a NaN base or length; the shapes that had them under the "
    "earlier landmarks are measured by issue 17's (tests now check that every NaN has its reason and no more)",
    "evaluate": "_1, _2: the default numbers of prior samples and pairs, seen only in a call with the defaults "
    "(1000 samples: seconds); _125.._166: decoding at the model grid instead of the masks' size, which the report "
    "shows only where validity changes with resampling (not for the test model)",
    "qp": "crossover steps started from no guess instead of the estimated active set: another route to the same "
    "optimum, but not listed as equivalent since a test could reach a crossover that fails",
    "clinical": "base search and disk geometry (find_base, _longest_base_chord, disk_diameters, _largest_contour: "
    "tie-breaks and tolerances the drawn shapes do not reach), issue 17's area; lv_geometry's grid minimum (2 vs 3 "
    "pixels), anti-aliasing and interpolation order when resampling to a coarser iso spacing",
}

#: the date of the last run of tools/spot_check.py in which every case failed (update after running it)
SPOT_CHECK_RUN = "2026-12-07"

_STATUS = {-11: "killed",  # the mutant crashed the test process (SIGSEGV in SimpleITK): its tests fail
           1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 34: "skipped", 36: "timeout",
           -24: "timeout", 24: "timeout", 152: "timeout", 255: "timeout", None: "not checked"}

# temporal: banded, qp_system, checks, residual, snake, gaussian, baselines, result, strategy, thresholds, smooth
_T = "tests/temporal/"
_TURNS = _T + "test_turns_smoothing.py"  # main's test of the turns of several half cycles (the unchecked frames)
MODULES.update({
    "banded": ("src/echolatent/temporal/banded.py", [_T + "test_exact.py", _T + "test_qp.py"],
               [_T + "test_banded_values.py"]),
    "qp_system": ("src/echolatent/temporal/qp_system.py", [_T + "test_qp.py"], [_T + "test_qpsystem_values.py"]),
    "checks": ("src/echolatent/temporal/checks.py", [_T + "test_margin.py", _T + "test_smooth.py", _TURNS],
               [_T + "test_checks_values.py"]),
    "residual": ("src/echolatent/temporal/residual.py", [_T + "test_smooth.py"], [_T + "test_residual_values.py"]),
    "snake": ("src/echolatent/temporal/snake.py", [_T + "test_snake_gaussian.py"], [_T + "test_snake_values.py"]),
    "gaussian": ("src/echolatent/temporal/gaussian.py", [_T + "test_snake_gaussian.py"],
                 [_T + "test_gaussian_values.py"]),
    "baselines": ("src/echolatent/temporal/baselines.py", [_T + "test_smooth.py"], [_T + "test_baselines_values.py"]),
    "result": ("src/echolatent/temporal/result.py", [_T + "test_smooth.py", _TURNS], [_T + "test_result_values.py"]),
    "strategy": ("src/echolatent/temporal/strategy.py", [_T + "test_smooth.py"], [_T + "test_baselines_values.py"]),
    "thresholds": ("src/echolatent/temporal/thresholds.py", [_T + "test_smooth.py", _T + "test_margin.py"],
                   [_T + "test_thresholds_values.py"]),
    "smooth": ("src/echolatent/temporal/smooth.py", [_T + "test_smooth.py", _T + "test_margin.py", _TURNS],
               [_T + "test_smooth_values.py", _T + "test_smooth_candidates.py"]),
})
_B = "echolatent.temporal.banded."
_LOWER = "lower=0 (upper storage) is the default of SciPy's LAPACK wrappers: None or no argument is the same"
_ILLEGAL = ("LAPACK reports an illegal argument (info < 0) only for sizes f2py derives from the arrays themselves, "
            "never from these calls: the branch and its message are unreachable")
_RESHAPE = "NumPy reshapes with any negative size as the unknown one"
_FLAT_RHS = "a 1-D right-hand side gives a 1-D solution, reshaped to the same (P, T) result"
_OWN_CAST = "LAPACK's d-routines cast their arrays to float64 themselves: the result is float64 with the same values"
EQUIVALENT.update({
    **{_B + f"x_factor_spd_banded__mutmut_{i}": _LOWER for i in (3, 6)},
    **{_B + f"x_solve_factored__mutmut_{i}": _LOWER for i in (4, 7)},
    **{_B + f"xǁPenaltyMatrixǁsolve__mutmut_{i}": _LOWER for i in (4, 7)},
    **{_B + f"x_factor_spd_banded__mutmut_{i}": _ILLEGAL for i in (18, 19)},
    **{_B + f"x_solve_factored__mutmut_{i}": _ILLEGAL for i in (18, 19)},
    **{_B + f"xǁPenaltyMatrixǁsolve__mutmut_{i}": _ILLEGAL for i in (11, 12)},
    _B + "x_factor_spd_banded__mutmut_7": "overwrite_ab only lets LAPACK overwrite the temporary from "
    "to_upper_banded, which nothing else holds",
    _B + "x_factor_spd_banded__mutmut_10": "overwrite_ab=2 is true like 1 (the temporary from to_upper_banded)",
    _B + "x_gram_bands__mutmut_31": "the last `offset` entries of a superdiagonal already read the zero padding after "
    "the last weight: zeroing them (or nothing) changes no value",
    **{_B + f"x_smooth_penalised__mutmut_{i}": _OWN_CAST + " (dpbtrs for the series)" for i in (5, 7)},
    **{_B + f"x_smoothing_bands__mutmut_{i}": "an integer weight array times the float scale is float64 with the "
       "same values" for i in (10, 12)},
    _B + "x_solve_factored__mutmut_11": _FLAT_RHS,
    _B + "x_solve_factored__mutmut_13": _RESHAPE,
    _B + "x_to_upper_banded__mutmut_14": "offset 0 writes the diagonal row again, with the same values",
})
_S = "echolatent.temporal.qp_system."
_KKT, _QS = _S + "xǁActiveSetKKTǁ", _S + "xǁQPSystemǁ"
_NONEMPTY = ("every problem has m = T - 2 >= 1 limits (check_trajectories refuses fewer than 3 frames, and "
             "ActiveSetKKT cannot be built for T = 2): the reduction's initial value (0 for the min, -1 for the max; "
             "mutated to none, 1 or -2) lies on the passing side of -MULTIPLIER_TOL or 0 and never changes a verdict")
_FRESH_COPY = "the band and right-hand side are temporaries built in the call: LAPACK may overwrite them or not"
EQUIVALENT.update({
    **{_KKT + f"__init____mutmut_{i}": "the interleaving keeps every constraint entry in LAPACK band rows 5..11 "
       "(T >= 3), inside both the original (4..12) and the mutated bounds: the check never raises"
       for i in (78, 79, 80, 82)},
    **{_KKT + f"__init____mutmut_{i}": "the message of a check that never raises (rows 5..11 within 4..12)"
       for i in (83, 84, 85, 86)},
    **{_KKT + f"solve__mutmut_{i}": _RESHAPE for i in (14, 43, 49)},
    **{_KKT + f"solve__mutmut_{i}": _FRESH_COPY for i in (36, 37, 51, 52)},
    _KKT + "solve__mutmut_47": _FLAT_RHS,
    _KKT + "solve__mutmut_54": "dgbsv's first pivot is the largest entry of column x_0, which holds H[0, 0] >= 1: "
    "info is never 1",
    **{_KKT + f"solve__mutmut_{i}": "the LinAlgError's message: the system is never singular (H positive definite, "
       "D of full row rank) and its only caller drops the message" for i in (55, 56, 57)},
    **{_KKT + f"solve__mutmut_{i}": _ILLEGAL for i in (60, 61)},
    **{_QS + f"direction__mutmut_{i}": _LOWER for i in (18, 21)},
    _QS + "direction__mutmut_25": _FLAT_RHS,
    _QS + "direction__mutmut_27": _RESHAPE,
    **{_QS + f"direction__mutmut_{i}": _ILLEGAL for i in (32, 33)},
    _QS + "mehrotra_step__mutmut_77": "np.finfo(None) is float64's",
    **{_QS + f"newton_factor__mutmut_{i}": "NumPy reads the order 'f' as 'F'" for i in (11, 19)},
    **{_QS + f"newton_factor__mutmut_{i}": "a C-ordered (3, P T) array reshaped in Fortran order to (3, T, P) is still "
       "a view (strides: row, 1, T), so the blocks are written into it; dpbtrf makes its own Fortran copy"
       for i in (5, 7)},
    **{_QS + f"newton_factor__mutmut_{i}": _LOWER for i in (56, 59)},
    **{_QS + f"newton_factor__mutmut_{i}": "overwrite_ab only lets LAPACK overwrite `stacked`, built in the call"
       for i in (60, 62)},
    **{_QS + f"newton_factor__mutmut_{i}": _ILLEGAL for i in (70, 71)},
    **{_QS + f"solve_active__mutmut_{i}": _NONEMPTY for i in (23, 25, 28, 32, 34, 42)},
})
_C2 = "echolatent.temporal.checks."
_FRACTION = ("fractions lie in (0, 1] (Smoother refuses a target or keep_below outside it, with_margin refuses more "
             "than 1): a default of 2 instead of 1, or a margin also at exactly 1 (taus x 1), changes no tau")
EQUIVALENT.update({
    _C2 + "x_merge_reports__mutmut_21": "|d| >= 0 beats either placeholder of a NaN (-1 or -2), and an all-NaN "
    "column picks report 0 with both",
    **{_C2 + f"x_own_check__mutmut_{i}": _FRACTION for i in (1, 8, 13, 14)},
    **{_C2 + f"x_temporal_reports__mutmut_{i}": _FRACTION for i in (1, 21, 26, 27)},
    **{_C2 + f"x_pixel_attributes__mutmut_{i}": "ATTRIBUTE_CACHE holds only these rows: the tag in the key (or "
       "another tag, or none) separates nothing" for i in (3, 5, 6, 7)},
})
_R = "echolatent.temporal.residual."
_CLEAN_U8 = "clean_masks returns uint8 labels whatever the dtype of the labels it is given"
EQUIVALENT.update({
    _R + "x_blend__mutmut_17": _CLEAN_U8,
    **{_R + f"x_prefiltered__mutmut_{i}": _CLEAN_U8 + " (the float64 arg-max labels 0..3 are the same)"
       for i in (3, 5)},
    _R + "x_chunks__mutmut_12": "int() truncates the positive quotient as // does: a float quotient rounds up to an "
    "integer only for frames of more than 1e14 pixels",
})
_SN, _G = "echolatent.temporal.snake.", "echolatent.temporal.gaussian."
EQUIVALENT.update({
    _SN + "x_snake__mutmut_8": "np.zeros_like(None) is a 0-d zero that broadcasts like the zero array",
    **{_G + f"x_gaussian_smooth__mutmut_{i}": "float32 scores compare and store exactly in a float64 array"
       for i in (16, 19)},
    _G + "x_gaussian_smooth__mutmut_21": "every score is >= 0: label 0 beats either start value (-1 or -2) everywhere",
    _G + "x_gaussian_smooth__mutmut_3": "allow_2d=None is false like False",
})
_RS = "echolatent.temporal.result."
EQUIVALENT.update({
    _RS + "x_check_sequence__mutmut_5": "allow_2d=None is false like False",
    _RS + "x_measure_output__mutmut_1": _FRACTION,
})
_BL = "echolatent.temporal.baselines."
EQUIVALENT.update({
    _BL + "x__identity__mutmut_4": "copy=True is astype's default",
    _BL + "xǁFilterSmootherǁ__init____mutmut_16": "`not None` is True like `not False`: the first warning is "
    "logged all the same",
})
_SM = "echolatent.temporal.smooth."
_SMOOTHER = _SM + "xǁSmootherǁ"
EQUIVALENT.update({
    **{_SMOOTHER + f"__init____mutmut_{i}": "the model was just loaded from this file (or is the shipped one): reading "
       "its metadata cannot fail, so `required` never acts (True is also its default)" for i in (42, 44, 45)},
    _SMOOTHER + "__init____mutmut_47": "`not None` is True like `not False`: the first warning is logged all the same",
    **{_SMOOTHER + f"_blends__mutmut_{i}": "the loop is the generator's last statement: break and return both end it"
       for i in (25, 32)},
    **{_SMOOTHER + f"_candidates__mutmut_{i}": "after k candidates a level is at most k - 1, so the top filter is "
       "reached at the last of the len(input_sigmas) candidates only: the cap never excludes a frame before the loop "
       "ends" for i in (37, 38)},
    **{_SMOOTHER + f"_decode__mutmut_{i}": "`changed` of ones: float ones select the same frames, and it is replaced "
       "by a bool array whenever it is compared" for i in (3, 5)},
    _SMOOTHER + "_decode__mutmut_6": "_exact passes previous and masks both None (first round) or both set",
    _SMOOTHER + "_decode__mutmut_18": "masks None comes with previous None, so every frame changed and the else "
    "branch is taken either way; with masks and every frame changed, the copy is overwritten entirely",
    _SMOOTHER + "_exact__mutmut_16": "copy=True is astype's default",
    _SMOOTHER + "_measure__mutmut_1": _FRACTION,
    **{_SMOOTHER + f"_probs__mutmut_{i}": "decode_probs returns one array per code asked for: strict or not, zip pairs "
       "them alike" for i in (16, 19, 27)},
    _SMOOTHER + "_tighten__mutmut_28": "failing_dims lists every latent dimension: np.ix_(rows) selects the same "
    "rows x all-dims block",
})
SURVIVING_WHY.update({
    "residual": "blend_14 and filtered_onehot_23 (weights in float64 instead of float32) and filtered_onehot_32 (the "
    "symmetric kernel's terms added in reverse order): values differ by float32 rounding only (~1e-7), which decides "
    "a label only at an exact tie",
    "smooth": "run on the code before main's 9e12f8e (turn filter); left: the spacing through the whole exact path "
    "(_choose, the round loop), chunk sizes (memory only), latents and ranges in float32 (rounding only), the blend "
    "levels of frames failing a different number of times, and the reuse of unmoved frames in the full decode",
})


# measure: strain, beats, sequence, agreement, scores, temporal, summary, cohort, framecache
_MEASURE_SEQ = ["tests/measure/test_measure_sequence_strain.py", "tests/measure/test_measure_evaluate.py"]
MODULES.update({
    "strain": ("src/echolatent/measure/strain.py", ["tests/measure/test_measure_strain.py"],
               ["tests/measure/test_strain_*.py"]),
    "beats": ("src/echolatent/measure/beats.py", ["tests/measure/test_beats.py"], ["tests/measure/test_beats_*.py"]),
    "sequence": ("src/echolatent/measure/sequence.py", _MEASURE_SEQ, ["tests/measure/test_sequence_*.py"]),
    "agreement": ("src/echolatent/measure/agreement.py", ["tests/measure/test_measure_agreement.py"],
                  ["tests/measure/test_agreement_*.py"]),
    "scores": ("src/echolatent/measure/scores.py", ["tests/measure/test_measure_scores.py"],
               ["tests/measure/test_scores_*.py"]),
    "mtemporal": ("src/echolatent/measure/temporal.py",
                  ["tests/measure/test_measure_temporal.py", "tests/measure/test_turns.py", *_MEASURE_SEQ],
                  ["tests/measure/test_mtemporal_*.py"]),
    "summary": ("src/echolatent/measure/summary.py", ["tests/measure/test_measure_sequence_strain.py"],
                ["tests/measure/test_summary_*.py"]),
})

_S = "echolatent.measure.strain."
EQUIVALENT.update({  # measure: strain
    _S + "x_endocardial_length__mutmut_23": "astype(None) is float64",
    _S + "x__lv_contour__mutmut_14": "the only caller measures the contour with arc_length, NaN for 0 or 1 point alike",
    _S + "x_arc_length__mutmut_5": 'float("NAN") is NaN',
    _S + "x_global_longitudinal_strain__mutmut_50": 'float("NAN") is NaN',
    **{_S + f"x__arc_position__mutmut_{i}": "a step is 0 only where its direction is 0: the numerator is 0 too, and "
       "0 / 0 is an 'invalid' error, never 'divide'" for i in (4, 6)},
    **{_S + f"x_global_longitudinal_strain__mutmut_{i}": "endocardial_length gives a reason for every NaN length: "
       "the default of reasons.get(ed) is never read" for i in (31, 33, 34, 35)},
})

_B = "echolatent.measure.beats."
EQUIVALENT.update({  # measure: beats
    _B + "x__extremes__mutmut_12": "peaks of a sampled curve are at least 2 samples apart (a plateau's peak is its "
    "middle): a minimum distance of 1 or 2 keeps the same peaks (scipy rounds the distance up; 12 000 random curves "
    "tried)",
    _B + "x__beats__mutmut_4": "ED and ES frames come from disjoint windows of _alternate: no ES is at an ED frame",
    **{_B + f"x__summarise__mutmut_{i}": "the values are Python floats: the array is float64 without the dtype"
       for i in (9, 11)},
    **{_B + f"x__summarise__mutmut_{i}": 'float("NAN") is NaN' for i in (19, 33)},
    **{_B + f"x_beat_indices__mutmut_{i}": 'float("NAN") is NaN' for i in (41, 46, 51)},
    **{_B + f"x_beat_indices__mutmut_{i}": "View is a StrEnum: members sort by their value without the key"
       for i in (3, 5)},
    _B + "x__beats__mutmut_18": "ED and ES frames come from disjoint windows of _alternate: no ES is at an ED frame",
    _B + "x__alternate__mutmut_56": "a slice end past the curve's end is clipped to it: the same last window",
    **{_B + f"x__alternate__mutmut_{i}": "the ES label is only compared with 'ED' (any other string is an ES), and "
       "sorts after 'ED' too" for i in (6, 7)},
    **{_B + f"x_autocorrelation_period__mutmut_{i}": "a curve shorter than 2 x min_lag leaves fewer than min_lag "
       "lags to search, all below min_lag: None either way" for i in (10, 11)},
    _B + "x_find_beats__mutmut_165": "at most one note is ever made (the second only when there is none): the "
    "separator is never used",
    _B + "x_lv_area_curve__mutmut_16": "a sum of booleans is int64; astype(None) is float64",
    _B + "x_find_beats__mutmut_88": "without frame rate nor period: interior peaks are at least 2 frames apart, and "
    "an end next to a kept maximum cannot be one (it would be both >= and < its neighbour): a minimum distance of 1 "
    "or 2 frames keeps the same extremes",
})

_AG = "echolatent.measure.agreement."
EQUIVALENT.update({  # measure: agreement
    **{_AG + f"x_ef_agreement__mutmut_{i}": "names and point both have 4 entries: zip's strict never acts"
       for i in (40, 43, 44)},
    _AG + "x__scores__mutmut_15": "ef_agreement scores 3 patients or more (fewer return before, resamples keep the "
    "count): len(pred) is never 2",
})

_SQ = "echolatent.measure.sequence."
EQUIVALENT.update({  # measure: sequence
    _SQ + "x_label_counts__mutmut_1": "the chunk only bounds memory: any chunk gives the same counts (tests: chunks of "
    "1, 2, 3 and 64 frames)",
    _SQ + "x_label_counts__mutmut_12": "blocks starting at every frame overlap: each frame's counts are written again, "
    "with the same values",
    _SQ + "x_measure_sequence__mutmut_3": "the spacing is checked again before any use (measure_attributes, and "
    "check_spacing two lines below): the same error",
    _SQ + "x_temporal_check__mutmut_10": "with the masks' own grid the branch rescales the spacing by H / H and W / W "
    "and resize_labels_cached returns the masks unchanged",
    **{_SQ + f"x\u01c1SequenceMeasures\u01c1frame_rows__mutmut_{i}": 'float("NAN") is NaN' for i in (22, 30)},
    _SQ + "x\u01c1SequenceMeasures\u01c1structure_rows__mutmut_17": 'float("NAN") is NaN',
})

_SC = "echolatent.measure.scores."
EQUIVALENT.update({  # measure: scores
    **{_SC + f"x__surface_distances__mutmut_{i}": "a crop one row or column larger, or a wider zero padding, adds "
       "background only: the same edges, shifted alike in both masks (distances unchanged)" for i in (15, 20, 27)},
    _SC + "x__surface_distances__mutmut_33": "astype(None) is float64",
    **{_SC + f"x__surface_distances__mutmut_{i}": "k=1 is KDTree.query's default" for i in (40, 55)},
    **{_SC + f"x__surface_distances__mutmut_{i}": "the leaf size only changes the KD-tree's speed: queries are exact"
       for i in (44, 46, 59, 61)},
    **{_SC + f"x_segmentation_scores__mutmut_{i}": "check_spacing returns Python floats: the array is float64 "
       "without the dtype" for i in (18, 20)},
    _SC + "x_segmentation_scores__mutmut_40": "labels are uint8 (check_masks): a lookup table longer than 256 is "
    "never read past 255",
})

_MT = "echolatent.measure.temporal."
EQUIVALENT.update({  # measure: temporal (measure/temporal.py)
    _MT + "x_second_difference__mutmut_4": "adding low instead of subtracting it shifts the normalised curve by a "
    "constant, which the second difference cancels",
    _MT + "x_second_difference__mutmut_8": "None written into a float array is NaN",
    _MT + "x_temporal_consistency__mutmut_40": "errstate only silences warnings (NaN comparisons emit none)",
    **{_MT + f"x_temporal_consistency__mutmut_{i}": "np.isfinite gives the same flags in any numeric dtype"
       for i in (54, 56)},
    _MT + "x\u01c1TemporalThresholds\u01c1published__mutmut_5": "the default tau is a copy of PUBLISHED_TAU too",
})

_SU = "echolatent.measure.summary."
EQUIVALENT.update({  # measure: summary
    **{_SU + f"x__mean__mutmut_{i}": "every caller passes float64 arrays or lists of Python floats: the array is "
       "float64 without the dtype" for i in (3, 5)},
})

SURVIVING_WHY.update({  # measure
    "beats": "autocorrelation_period without the float64 cast: a float32 curve's autocorrelation in float32 has its "
    "peaks at the same lags unless a correlation ties 0.2 or a neighbour within float32 rounding (not constructed)",
})

#: io: dicom, sector, camus, video, echonet, readers, cfg, frames, recordings, check, discovery (issue 24)
_IO_RECORDINGS = ["tests/io/test_recordings.py"]
MODULES.update({
    "dicom": ("src/echolatent/io/dicom.py", ["tests/io/test_dicom.py", *_IO_RECORDINGS],
              ["tests/io/test_dicom_*.py"]),
    "sector": ("src/echolatent/io/sector.py", ["tests/io/test_sector.py", *_IO_RECORDINGS],
               ["tests/io/test_sector_*.py"]),
    "camus": ("src/echolatent/io/camus.py", _IO_BEFORE, ["tests/io/test_camus_*.py"]),
    "video": ("src/echolatent/io/video.py", ["tests/io/test_video.py", *_IO_RECORDINGS], ["tests/io/test_video_*.py"]),
    "echonet": ("src/echolatent/io/echonet.py", ["tests/io/test_video.py"], ["tests/io/test_echonet_*.py"]),
    "readers": ("src/echolatent/io/readers.py", ["tests/io/test_readers.py", *_IO_RECORDINGS],
                ["tests/io/test_readers_*.py"]),
    "cfg": ("src/echolatent/io/cfg.py", ["tests/io/test_io_cfg.py"], ["tests/io/test_cfg_*.py"]),
    "frames": ("src/echolatent/io/frames.py", ["tests/io/test_io_camus.py"], ["tests/io/test_frames_*.py"]),
    "recordings": ("src/echolatent/io/recordings.py", _IO_RECORDINGS, ["tests/io/test_recordings_*.py"]),
    "check": ("src/echolatent/io/check.py", ["tests/io/test_io_check.py", "tests/io/test_io_bad_files.py"],
              ["tests/io/test_check_*.py"]),
    "discovery": ("src/echolatent/io/discovery.py", _IO_RECORDINGS, ["tests/io/test_discovery_*.py"]),
})
_D = "echolatent.io.dicom."
_GET = "pydicom's Dataset.get defaults to None: the same value"
_S = "echolatent.io.sector."
_C_IO = "echolatent.io.camus."
_CFG_CHECKED = ("a cfg's frame numbers are checked when it is read (parse_cfg): frame_number never raises here, so "
                "the path it would name is never used")
_NO_VIEW = "a missing text only has to match no view pattern: '', 'None' and 'XXXX' match none"
_ONLY_SPECIAL = ("the photometric is only compared with PALETTE COLOR and MONOCHROME1: any other default (None, "
                 "'XX..XX', lower case) takes the same MONOCHROME2 path")
EQUIVALENT.update({  # io: dicom, sector, camus, video, echonet, readers, cfg, frames, recordings, check, discovery
    **{_D + key: _GET for key in ("x__recording__mutmut_15", "x_frame_rate__mutmut_5", "x_frame_rate__mutmut_18",
                                  "x_frame_rate__mutmut_49", "x_region_spacing__mutmut_5",
                                  "x_region_spacing__mutmut_11", "x_region_spacing__mutmut_20",
                                  "x_region_spacing__mutmut_26", "x_region_spacing__mutmut_33",
                                  "x_region_spacing__mutmut_39", "x_region_spacing__mutmut_147",
                                  "x_view_hint__mutmut_23")},
    **{_D + f"x_read_dicom_series__mutmut_{i}": _GET + " (then `or 1` / `or 0`)" for i in (39, 41, 61, 63)},
    **{_D + f"x__recording__mutmut_{i}": "safe_id turns a missing PatientID (None) into '' like the default"
       for i in (115, 117)},
    _D + "x__recording__mutmut_12": "pydicom's dcmread always gives a file_meta (empty for a file without one)",
    **{_D + f"x__recording__mutmut_{i}": "a file without a TransferSyntaxUID cannot be decoded (grey_frames refuses "
       "it first, tests/io/test_dicom_values.py): the syntax is never None here" for i in (60, 63, 66, 67)},
    **{_D + f"x__recording__mutmut_{i}": "pydicom decodes no pixels without PhotometricInterpretation (grey_frames "
       "refuses the file first): the default is never used" for i in (48, 50, 54)},
    **{_D + f"x_view_hint__mutmut_{i}": _NO_VIEW for i in (4, 6, 7, 30, 32, 36)},
    **{_D + f"x_grey_frames__mutmut_{i}": _ONLY_SPECIAL for i in (62, 64, 68, 69)},
    _D + "x_grey_frames__mutmut_21": "the frame count is only compared with 1: a missing NumberOfFrames passes as 1 "
    "or 2",
    **{_D + f"x_grey_frames__mutmut_{i}": "matmul with the float64 LUMA gives float64 whatever the pixels' dtype"
       for i in (118, 120)},
    **{_D + f"x_grey_frames__mutmut_{i}": "integer pixels times a Python float are float64 without the cast"
       for i in (149, 151)},
    _D + "x_frame_rate__mutmut_23": "pydicom stores a one-item list as a single value, never as a MultiValue: a "
    "MultiValue has 0 or >= 2 items",
    **{f"echolatent.io.video.x_decode_grey__mutmut_{i}": "np.stack gives a new array of its own: copying it or not "
       "changes no value" for i in (58, 60, 62)},
    "echolatent.io.echonet.x__number__mutmut_8": 'float("NAN") is NaN',
    "echolatent.io.echonet.x__rows__mutmut_9": "codec names are case-insensitive",
    **{f"echolatent.io.echonet.x_read_tracings__mutmut_{i}": "the coordinates are Python floats (_number): the array "
       "is float64 without the dtype" for i in (59, 61)},
    **{f"echolatent.io.cfg.x_{name}__mutmut_6": "codec names are case-insensitive"
       for name in ("read_cfg", "read_split_file")},
    "echolatent.io.readers.x_header_spacing__mutmut_4": "'auto' is resolve_spacing's default mode",
    **{f"echolatent.io.readers.x_write_masks__mutmut_{i}": "masks must have the frames' (T, H, W) shape before they "
       "are checked: a 2D array never reaches check_labels, so allow_2d changes nothing" for i in (17, 19, 20)},
    **{_S + f"x_main_piece__mutmut_{i}": "the padding only has to be at least the closing's radius (size): 3 size - 2, "
       "4 size + 2 and 3 size + 3 all are" for i in (12, 14, 15)},
    **{_S + f"x_changing_pixels__mutmut_{i}": "the std of integer frames is float64 without the dtype"
       for i in (18, 20)},
    **{_S + f"x_apply_sector__mutmut_{i}": "np.where gives a new array: copying it or not changes no value"
       for i in (10, 12, 20)},
    _S + "x_outline_sector__mutmut_14": "np.array copies by default",
    _S + "x_outline_sector__mutmut_8": "0 is binary_erosion's default border_value",
    **{_S + f"x__edges__mutmut_{i}": "integer pixel columns or rows: polyfit and the residuals compute in float64 "
       "either way" for i in (17, 19, 24, 26, 47)},
    _S + "x__edges__mutmut_42": "_robust_line itself returns None for fewer than 5 points",
    **{_S + f"x__radii__mutmut_{i}": "edge angles are arctangents, within +-90 degrees: (right - left) / 0.5 < 360, "
       "the upper clip never acts" for i in (5, 13)},
    _S + "x__cone__mutmut_29": "astype(None) is float64",
    **{_S + key: "a piece survives the opening only with a disk of radius >= 2 (13 px): the union is never below 2"
       for key in ("x__cone__mutmut_94", "x_detect_sector__mutmut_49")},
    **{_C_IO + f"x__check_frames__mutmut_{i}": _CFG_CHECKED for i in (20, 23)},
    **{_C_IO + f"x__instants__mutmut_{i}": _CFG_CHECKED for i in (16, 19, 24, 27)},
    **{_C_IO + f"x__check_frames__mutmut_{i}": "one frame: no side is under 1 px, and NbFrame is only read for "
       "sequences, refused below 2 frames: axis_order_problem finds nothing" for i in (30, 35)},
    _C_IO + "x__instants__mutmut_58": "ED == ES is refused just before",
    **{f"echolatent.io.discovery.x_default_refs__mutmut_{i}": "a loose file has no view while every (half) sequence "
       "has one from its CAMUS name: the second test keeps it anyway" for i in (4, 5)},
    "echolatent.io.discovery.x_select_refs__mutmut_27": "a file reaching this line is no recording: recording_refs "
    "gives [] for it",
})

SURVIVING_WHY.update({  # io
    "cfg": "read_cfg _4, read_split_file _4: encoding None is the locale's, UTF-8 on every machine the tests run "
    "on; the explicit UTF-8 is for machines whose locale is not",
    "sector": "the cone heuristics at exactly their values (apex within a quarter of the height, the 60 % edge window, "
    "bin counts, border rows, inner-radius and IoU limits): the robust edge fits and the running median absorb a "
    "row, a bin or a pixel on the drawn fans",
    "camus": "load_sequence _20: the image's header read again instead of the loaded geometry; the same for NIfTI/MHD, "
    "different only for a DICOM or video image given with a mask",
    "recordings": "not analysed one by one (time): mostly DICOM patient ids of damaged files, series checks and the "
    "sources of values that the tests compare only in part",
    "frames": "not analysed one by one (time): mostly the cache's internals (debug log, the temporary file on a "
    "failed write) and load_frames' default arguments",
})


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
