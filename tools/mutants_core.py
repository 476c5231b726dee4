"""Mutation-testing registry of latent metrics/evaluate, measure validity/clinical/attributes, io volume/payload,
temporal qp/exact/limits: the modules and their tests, the equivalent mutants with
reasons, and why the survivors left are left. Read by tools/mutation.py."""

from __future__ import annotations

#: the io tests that existed before issue 24 (the baseline of volume, payload and camus)
IO_BEFORE = ["tests/io/test_readers.py", "tests/io/test_io_bad_files.py", "tests/io/test_io_camus.py"]

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
    "volume": ("src/echolatent/io/volume.py", IO_BEFORE, ["tests/io/test_geometry_values.py"]),
    "payload": ("src/echolatent/io/payload.py", IO_BEFORE, ["tests/io/test_geometry_values.py"]),
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
    _C + "x__longest_base_chord__mutmut_53": "batches of one chord (range's default step) test the same chords in the "
    "same order: the same first qualifying one",
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
    **{_V + f"x__holes__mutmut_{i}": "pixels [1, 0] and [0, 1] of the padded image are padding too: the same outside "
       "label as [0, 0]" for i in (20, 21)},
    _V + "x__piece_count__mutmut_6": "one piece goes on to the size test, which returns 1 either way",
    _V + "x__piece_count__mutmut_12": "reached with 2+ pieces only: 0 and the count both differ from 1, the loop stops",
    _V + "x_disconnected_pixels__mutmut_6": "one piece: total minus largest is 0 either way",
    _V + "x_erosion_ratio__mutmut_9": "chessboard is scipy's default metric of distance_transform_cdt",
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
    "clinical": "base search and disk geometry (find_base, _longest_base_chord, _arc_within, disk_diameters, "
    "_largest_contour: tie-breaks and tolerances the drawn shapes do not reach; the stable sort of the chords, which "
    "only an exact tie of lengths among more than 16 candidates would show), issue 17's area; lv_geometry's grid "
    "minimum (2 vs 3 pixels), anti-aliasing and interpolation order when resampling to a coarser iso spacing",
}

