"""Spot-check that tests can fail: replace each test's subject by a function returning a constant of the right type.

    PYTHONPATH=src:tools OMP_NUM_THREADS=1 python tools/spot_check.py

Each case runs one test file's selected tests with the subject (a name in the test module) replaced; a test that
still passes is reported. Also a pytest plugin (``-p spot_check``) reading ``SPOT_NAME`` and ``SPOT_VALUE`` (a Python
expression evaluated in the test module's namespace).
"""

from __future__ import annotations

import os
import subprocess
import sys

#: (test node, name replaced in the test module, the constant stand-in)
CASES = [
    ("tests/measure/test_validity_limits.py::test_frontier_ratio_counts_touching_pixels_over_the_bounding_box_width",
     "frontier_ratio", "lambda *a, **k: 0.4"),
    ("tests/measure/test_validity_limits.py::test_width_ratio_uses_the_row_through_the_centre_of_mass",
     "width_ratio", "lambda *a, **k: 0.5"),
    ("tests/measure/test_validity_limits.py::test_erosion_ratio_by_hand", "erosion_ratio", "lambda *a, **k: 0.25"),
    ("tests/measure/test_validity_limits.py::test_holes_between_counts_only_above_the_minimum",
     "holes_between", "lambda *a, **k: 5.0"),
    ("tests/measure/test_validity_limits.py::test_upper_limits_pass_at_the_value_and_fail_just_below",
     "check_validity", "lambda *a, **k: _CONST_REPORT"),
    ("tests/measure/test_clinical_exact.py::test_volume_formulas_by_hand",
     "single_plane_volume", "lambda *a, **k: 58.9"),
    ("tests/measure/test_clinical_exact.py::test_lengths_areas_volumes_with_unequal_spacing",
     "lv_geometry", "lambda *a, **k: _geometry([36.0] * 20, 30.0, area=848.0)"),
    ("tests/measure/test_clinical_exact.py::test_clinical_indices_with_a_different_unequal_spacing_per_view",
     "clinical_indices", "lambda *a, **k: ClinicalIndices(18.8, 9.0, 52.0, 'biplane', False, 'mL')"),
    ("tests/latent/test_metrics_known.py::test_scores_on_a_constructed_table",
     "disentanglement", "lambda *a, **k: {'a': dict(interpretability=0.5, interpretability_dim=0, mig=0.23, "
     "sap=0.8, scc=0.99, scc_dim=1, samples=40)}"),
    ("tests/latent/test_evaluate_exact.py::test_dice_per_structure_by_hand",
     "dice_per_structure", "lambda *a, **k: {'lv': np.ones(2), 'myo': np.ones(2), 'la': np.ones(2)}"),
    ("tests/latent/test_evaluate_values.py::test_report_of_the_bank_model_by_hand", "evaluate_model",
     "lambda *a, **k: {'reconstruction_dice': {n: {'mean': 1.0, 'median': 1.0, 'min': 1.0} for n in ('lv', 'myo', "
     "'la')}, 'validity': {}, 'attributes': {}, 'n_masks': 3, 'mask_size': [32, 32], 'mig_mean': 0.0, "
     "'sap_mean': 0.0, 'seconds': 0.1}"),
    ("tests/latent/test_evaluate_values.py::test_evaluate_dataset_writes_the_report_of_its_split", "evaluate_dataset",
     "lambda *a, **k: ({'data': {}, 'n_masks': 4, 'mask_size': [32, 32]}, __import__('pathlib').Path('m.json'))"),
    ("tests/io/test_geometry_values.py::test_nifti_byte_counts_by_hand", "payload_problem", "lambda *a, **k: None"),
    ("tests/io/test_geometry_values.py::test_as_uint8_image_keeps_rounds_or_rescales", "as_uint8_image",
     "lambda *a, **k: np.zeros((1, 1, 3), np.uint8)"),
    ("tests/io/test_geometry_values.py::test_nibabel_file_reads_as_t_h_w_with_its_spacing_and_lps_geometry",
     "read_image", "lambda *a, **k: (np.zeros((3, 4, 5), np.uint8), Geometry.default((3, 4, 5), (0.7, 0.3)))"),
    ("tests/measure/test_attributes_values.py::test_areas_and_centres_of_rectangles_by_hand", "compute_attributes",
     "lambda *a, **k: {n: np.full(1, 60.0) for n in ATTRIBUTES}"),
    ("tests/measure/test_attributes_values.py::test_heart_drawn_in_mm_on_unequal_pixels", "compute_attributes",
     "lambda *a, **k: {n: np.full(1, 28.0) for n in ATTRIBUTES}"),
    ("tests/temporal/test_exact_values.py::test_deviation_violation_by_hand", "deviation",
     "lambda *a, **k: np.zeros((2, 2))"),
    ("tests/temporal/test_exact_values.py::test_limited_dimension_with_unlimited_frames", "solve_exact",
     "lambda z, *a, **k: np.full(np.shape(z), 0.5)"),
    ("tests/measure/test_beats_outliers.py::test_median_window_by_hand", "median_window", "lambda *a, **k: 5"),
    ("tests/pipeline/test_demo_truth.py::test_demo_ef_and_dice_against_the_truth_it_was_drawn_with", "run_demo",
     "lambda *a, **k: {'after': {'clinical': {'patients': {}}}}"),
]

_SETUP = {
    # a report where every criterion passes with fixed values
    "_CONST_REPORT": "ValidityReport(np.ones(1, bool), {n: np.full(1, 0.2) for n in CRITERIA}, "
    "{n: np.ones(1, bool) for n in CRITERIA}, ValidityThresholds())",
}


def pytest_collection_modifyitems(items):  # the plugin side
    name, value = os.environ["SPOT_NAME"], os.environ["SPOT_VALUE"]
    for item in items:
        namespace = vars(item.module)
        if "ValidityReport" not in namespace:
            from echolatent.measure.validity import ValidityReport

            namespace["ValidityReport"] = ValidityReport
        if "ClinicalIndices" not in namespace:
            from echolatent.measure.clinical import ClinicalIndices

            namespace["ClinicalIndices"] = ClinicalIndices
        for key, expression in _SETUP.items():
            if key in value:
                namespace[key] = eval(expression, namespace)  # noqa: S307 - a fixed expression of this file
        setattr(item.module, name, eval(value, namespace))  # noqa: S307


def main() -> int:
    survivors = 0
    for node, name, value in CASES:
        env = dict(os.environ, SPOT_NAME=name, SPOT_VALUE=value, OMP_NUM_THREADS="1")
        command = [sys.executable, "-m", "pytest", node, "-q", "-p", "spot_check", "-p", "no:cacheprovider"]
        result = subprocess.run(command, env=env, capture_output=True, text=True)
        last = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr[-200:]
        verdict = "fails (good)" if result.returncode == 1 else f"DOES NOT FAIL (exit {result.returncode})"
        survivors += result.returncode != 1
        print(f"{node.split('::')[1]} with {name} -> constant: {verdict}; {last}")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
