"""Mutation-testing registry of measure/: strain, beats, sequence, agreement, scores,
temporal, summary, framecache, attribute_info, cohort, landmarks: the modules and their tests,
the equivalent mutants with reasons, and why the survivors left are left. Read by tools/mutation.py."""

from __future__ import annotations

MODULES: dict[str, tuple[str, list[str], list[str]]] = {}
EQUIVALENT: dict[str, str] = {}
SURVIVING_WHY: dict[str, str] = {}

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
    "framecache": ("src/echolatent/measure/framecache.py", ["tests/measure/test_measure_framecache.py"],
                   ["tests/measure/test_framecache_*.py"]),
    "attribute_info": ("src/echolatent/measure/attribute_info.py",
                       ["tests/measure/test_measure_temporal.py", "tests/report/test_report.py"],
                       ["tests/measure/test_attribute_info_*.py"]),
    # the cohort's dask/CLI tests (tests/cohort, 70 s) compare a run with the same run split up: both sides use the
    # same (mutated) cohort.py, so they are left out; measure/evaluate's tests call every function of the module
    "cohort": ("src/echolatent/measure/cohort.py", ["tests/measure/test_measure_evaluate.py"],
               ["tests/measure/test_cohort_*.py"]),
    # landmarks were part of attributes.py before issue 24; test_measure_attributes_camus.py (real data, 30 s) is
    # left out for time; test_attributes_values.py was written for issue 24 (attributes), so it counts as added
    "landmarks": ("src/echolatent/measure/landmarks.py",
                  ["tests/measure/test_measure_attributes.py", "tests/measure/test_measure_clinical.py"],
                  ["tests/measure/test_attributes_values.py", "tests/measure/test_landmarks_*.py"]),
})

_S = "echolatent.measure.strain."
EQUIVALENT.update({  # measure: strain (numbers as of session 29: the LV window and the landmarks passed on)
    _S + "x_endocardial_length__mutmut_35": "astype(None) is float64",
    _S + "x_arc_length__mutmut_5": 'float("NAN") is NaN',
    _S + "x_global_longitudinal_strain__mutmut_52": 'float("NAN") is NaN',
    **{_S + f"x__arc_position__mutmut_{i}": "a step is 0 only where its direction is 0: the numerator is 0 too, and "
       "0 / 0 is an 'invalid' error, never 'divide'" for i in (4, 6)},
    **{_S + f"x_global_longitudinal_strain__mutmut_{i}": "endocardial_length gives a reason for every NaN length: "
       "the default of reasons.get(ed) is never read" for i in (33, 35, 36, 37)},
    **{_S + f"x_global_longitudinal_strain__mutmut_{i}": "without the landmarks given, endocardial_length finds the "
       "same ones again (lv_landmarks of the same masks): only time is lost" for i in (20, 23)},
    **{_S + f"x__lv_window__mutmut_{i}": "zip of the two axes and the two sigmas: equal lengths, strict or not"
       for i in (4, 7, 10)},
    _S + "x__lv_window__mutmut_36": "without an LV pixel the window's start, 0 or 1, minus the reach (>= 1) is clipped "
    "to 0 alike",
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
    _B + "x_find_beats__mutmut_198": "at most one note is ever made (the second only when there is none): the "
    "separator is never used",
    _B + "x_lv_area_curve__mutmut_16": "a sum of booleans is int64; astype(None) is float64",
    _B + "x_find_beats__mutmut_121": "without frame rate nor period: interior peaks are at least 2 frames apart, and "
    "an end next to a kept maximum cannot be one (it would be both >= and < its neighbour): a minimum distance of 1 "
    "or 2 frames keeps the same extremes",
    _B + "x_find_beats__mutmut_93": "a running median of 1 frame is the curve itself",
    _B + "x_find_beats__mutmut_94": "the median window is odd (a window of 2 is refused): > 1 and > 2 are the "
    "same test",
    _B + "x_median_window__mutmut_22": "without frame rate nor period the cap of 2 is even, so it drops to 1 as the "
    "cap of 1 does",
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
    **{_SQ + f"x_{name}__mutmut_{i}": "the landmarks the attributes found not passed on: the strain finds the same "
       "ones again (lv_landmarks of the same masks), only time is lost"
       for name, i in (("measure_sequence", 27), ("measure_sequence", 31), ("sequence_strain", 29),
                       ("sequence_strain", 34))},
})

_SC = "echolatent.measure.scores."
EQUIVALENT.update({  # measure: scores (numbers as of session 30: the labelled box, shared edge pixels skipped)
    **{_SC + f"x__surface_distances__mutmut_{i}": "a crop one row or column larger, or a wider zero padding, adds "
       "background only: the same edges, shifted alike in both masks (distances unchanged)" for i in (15, 20, 27)},
    **{_SC + f"x__surface_distances__mutmut_{i}": "astype(None) is float64" for i in (51, 60)},
    _SC + "x__surface_distances__mutmut_58": "k=1 is KDTree.query's default",
    **{_SC + f"x__surface_distances__mutmut_{i}": "the leaf size only changes the KD-tree's speed: queries are exact"
       for i in (49, 53)},
    _SC + "x__edges__mutmut_2": "inner pixels are read only where the region is: there region[r] is True, so "
    "leaving it out of the AND changes nothing",
    **{_SC + f"x__labelled_box__mutmut_{i}": "a larger box (whole frames, one more row or column, every pixel counted "
       "as labelled) holds the same structures: the crop only saves time" for i in (3, 5, 8, 20, 25)},
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
    _MT + "x_temporal_consistency__mutmut_44": "errstate only silences warnings (NaN comparisons emit none)",
    **{_MT + f"x_temporal_consistency__mutmut_{i}": "np.isfinite gives the same flags in any numeric dtype"
       for i in (58, 60)},
    _MT + "x\u01c1TemporalThresholds\u01c1published__mutmut_5": "the default tau is a copy of PUBLISHED_TAU too",
})

_SU = "echolatent.measure.summary."
EQUIVALENT.update({  # measure: summary
    **{_SU + f"x__mean__mutmut_{i}": "every caller passes float64 arrays or lists of Python floats: the array is "
       "float64 without the dtype" for i in (3, 5)},
})

_FC = "echolatent.measure.framecache."
EQUIVALENT.update({  # measure: framecache
    _FC + "x_resize_labels_cached__mutmut_12": "astype reads copy as a bool: None, like False, copies only when the "
    "dtype changes (a uint8 input on the grid is still returned as is)",
    **{_FC + f"x_resize_labels_cached__mutmut_{i}": "RESIZE_CACHE holds only these keys: any tag, or none, keeps each "
       "(frame, size) key distinct and the same from call to call" for i in (23, 26, 28, 29)},
    _FC + "x\u01c1FrameCache\u01c1put__mutmut_28": "popitem reads last as a bool: None, like False, pops the least "
    "recently used entry",
})

_CO = "echolatent.measure.cohort."
EQUIVALENT.update({  # measure: cohort
    **{_CO + f"x__indices__mutmut_{i}": "View is a StrEnum: members sort by their value without the key"
       for i in (16, 18)},
})

_LM = "echolatent.measure.landmarks."
EQUIVALENT.update({  # measure: landmarks
    **{_LM + f"x_{name}__mutmut_{i}": "astype(None) is float64" for name, i in (("_side", 4), ("find_landmarks", 9))},
    _LM + "x_find_landmarks__mutmut_26": "a fourth row of NaN landmarks is never read",
    **{_LM + f"x_find_landmarks__mutmut_{i}": "the frame filter only saves work: a frame without LV has no contour "
       "(skipped), and one without MYO has side <= 0 everywhere (a smoothed field of 0 and -1), so NaN basal points "
       "and apex, as when it is filtered out" for i in (29, 30, 33)},
    **{_LM + f"x_find_landmarks__mutmut_{i}": "a contour has 0 points or at least 4: the padded indicator's 0.5 "
       "contours are closed loops around at least one pixel, crossing the 4 cell edges around it" for i in (38, 39)},
    **{_LM + f"x_lv_contour__mutmut_{i}": "every 0.5 contour of the zero-padded indicator is closed (first point "
       "repeated last, 5 points or more): the repeated point is dropped either way" for i in (24, 27, 28, 29)},
    _LM + "x__basal_points__mutmut_57": "stretch lengths are sums of distances (>= 0): any start below 0 keeps the "
    "first stretch found",
    **{_LM + f"x_lv_frame__mutmut_{i}": "a denominator is 0 only where its numerator is 0 too (no LV pixel, no "
       "opening pixel): 0 / 0 is an 'invalid' error, never 'divide'" for i in (2, 4, 94, 96)},
    _LM + "x_lv_frame__mutmut_74": "None written into a float array is NaN",
    _LM + "x_lv_frame__mutmut_102": "open_along is read only where n_open > 0: multiplying by it keeps the sign",
    _LM + "x_lv_frame__mutmut_113": "along reads only the centre and the axis, not the orientation",
    _LM + "x_lv_frame__mutmut_132": "ay = cos(theta) is never exactly 0 (cos(pi / 2) = 6.1e-17) and NaN compares "
    "False either way",
    **{_LM + f"x_lv_frame__mutmut_{i}": "sign is -1 or 1: dividing by it is multiplying by it" for i in (154, 155)},
})

SURVIVING_WHY.update({  # measure
    "landmarks": "ties at the last bit only: |cov| exactly 1e-12 (var_y + var_x) (lv_frame 59), an opening whose "
    "mean along coordinate is exactly 0, i.e. symmetric about the centre, where neither direction is right (lv_frame "
    "130), a wide-sigma side exactly 0 on a contour point with no positive one (_side 44); not constructed",
    "beats": "autocorrelation_period without the float64 cast: a float32 curve's autocorrelation in float32 has its "
    "peaks at the same lags unless a correlation ties 0.2 or a neighbour within float32 rounding (not constructed)",
})
