"""Mutation-testing registry of temporal/: banded, qp_system, checks, input_checks, residual, snake,
gaussian, baselines, result, strategy, thresholds, smooth: the modules and their tests, the equivalent mutants with
reasons, and why the survivors left are left. Read by tools/mutation.py."""

from __future__ import annotations

MODULES: dict[str, tuple[str, list[str], list[str]]] = {}
EQUIVALENT: dict[str, str] = {}
SURVIVING_WHY: dict[str, str] = {}

_T = "tests/temporal/"
_TURNS = _T + "test_turns_smoothing.py"  # main's test of the turns of several half cycles (the unchecked frames)
_KEPT = _T + "test_turns_kept.py"  # the turns kept on their own LV curve (input_checks, residual, smooth)
MODULES.update({
    "banded": ("src/echolatent/temporal/banded.py", [_T + "test_exact.py", _T + "test_qp.py"],
               [_T + "test_banded_values.py"]),
    "qp_system": ("src/echolatent/temporal/qp_system.py", [_T + "test_qp.py"], [_T + "test_qpsystem_values.py"]),
    "checks": ("src/echolatent/temporal/checks.py", [_T + "test_margin.py", _T + "test_smooth.py", _TURNS],
               [_T + "test_checks_values.py"]),
    "input_checks": ("src/echolatent/temporal/input_checks.py", [_T + "test_smooth.py"],
                     [_KEPT, _T + "test_smooth_values.py"]),
    "residual": ("src/echolatent/temporal/residual.py", [_T + "test_smooth.py"], [_T + "test_residual_*.py", _KEPT]),
    "snake": ("src/echolatent/temporal/snake.py", [_T + "test_snake_gaussian.py"], [_T + "test_snake_values.py"]),
    "gaussian": ("src/echolatent/temporal/gaussian.py", [_T + "test_snake_gaussian.py"],
                 [_T + "test_gaussian_values.py"]),
    "baselines": ("src/echolatent/temporal/baselines.py", [_T + "test_smooth.py"], [_T + "test_baselines_values.py"]),
    "result": ("src/echolatent/temporal/result.py", [_T + "test_smooth.py", _TURNS], [_T + "test_result_values.py"]),
    "strategy": ("src/echolatent/temporal/strategy.py", [_T + "test_smooth.py"], [_T + "test_baselines_values.py"]),
    "thresholds": ("src/echolatent/temporal/thresholds.py", [_T + "test_smooth.py", _T + "test_margin.py"],
                   [_T + "test_thresholds_values.py"]),
    "smooth": ("src/echolatent/temporal/smooth.py", [_T + "test_smooth.py", _T + "test_margin.py", _TURNS],
               [_T + "test_smooth_values.py", _T + "test_smooth_candidates.py", _T + "test_smooth_prefilter.py",
                _T + "test_smooth_rounds.py", _KEPT]),
    "smooth_setup": ("src/echolatent/temporal/smooth_setup.py", [_T + "test_smooth.py"],
                     [_T + "test_smooth_values.py", _T + "test_smooth_prefilter.py"]),
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
EQUIVALENT.update({  # numbers as of session 29 (argmax_labels, the one-hot cache)
    **{_R + f"x\u01c1OneHotCache\u01c1keep__mutmut_{i}": "zip of the frames and their values, one row each: equal "
       "lengths, strict or not" for i in (3, 6, 7)},
    **{_R + f"x_prefiltered__mutmut_{i}": _CLEAN_U8 + " (the float64 arg-max labels 0..3 are the same)"
       for i in (9, 11)},
    **{_R + f"x_onehot_per_frame__mutmut_{i}": "each distinct sigma is passed on as float(value), and np.where with "
       "TURN_SIGMA is float64: integer sigmas select and filter the same frames" for i in (3, 5)},
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
    _SMOOTHER + "_exact__mutmut_60": "the round loop always breaks at round_index == max_rounds (`last`), after "
    "_choose or the full decode: a range one longer is never reached",
    _SMOOTHER + "_measure__mutmut_1": _FRACTION,
    **{_SMOOTHER + f"_probs__mutmut_{i}": "decode_probs returns one array per code asked for: strict or not, zip pairs "
       "them alike" for i in (16, 19, 27)},
    _SMOOTHER + "_tighten__mutmut_28": "failing_dims lists every latent dimension: np.ix_(rows) selects the same "
    "rows x all-dims block",
    # session 29: the filtered one-hot cache, the default rounds, the nearest-candidate fallback
    **{_SMOOTHER + f"{name}__mutmut_{i}": "the filtered one-hot cache not passed (or None): the same values are "
       "computed again, only time is lost" for name, i in (("_blend_frames", 10), ("_blend_frames", 14),
                                                            ("_exact", 30), ("_exact", 34), ("_residual_frames", 25),
                                                            ("_residual_frames", 30), ("_forget", 4))},
    _SMOOTHER + "_exact__mutmut_64": "the loop always breaks at its last round (round_index == rounds): a longer "
    "range is never reached",
    _SMOOTHER + "__init____mutmut_46": "_warned is only tested for truth: None and False alike",
    **{_SMOOTHER + f"__init____mutmut_{i}": "stored_thresholds reads the file _load has just read: model_metadata "
       "cannot fail there, so `required` is never consulted" for i in (41, 43)},
    _RS + "x\u01c1Closest\u01c1__init____mutmut_3": "state is read only after an offer set it (restore raises "
    "before that)",
    _RS + "x\u01c1Closest\u01c1offer__mutmut_9": "without a temporal report every candidate gets the same second "
    "key (0 or 1): the order is the number of invalid frames, then the first offered",
})
SURVIVING_WHY.update({
    "residual": "blend_14 and filtered_onehot_23 (weights in float64 instead of float32) and filtered_onehot_32 (the "
    "symmetric kernel's terms added in reverse order): values differ by float32 rounding only (~1e-7), which decides "
    "a label only at an exact tie",
    "smooth": "run after main's turn filter (cb1d551, 150bd60: the turns prefiltered at TURN_SIGMA, now killed); "
    "left: the full decode's reuse of unmoved frames between rounds (_exact_78/79/82/83, numbered as of session 29: "
    "previous codes or masks not passed, so every frame is decoded again: the same masks, more time), chunk sizes "
    "(_decode_30, _blend_frames_5: memory only), latents and ranges in float32 or float64 (_decode_32, "
    "_probs_8, _latent_range_1/2: rounding only), and the blend loop's cap (_blends_13: 3 len(steps) instead of 2, "
    "reached only when groups of frames fail in turn more often than that)",
})
