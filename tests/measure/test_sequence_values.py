"""measure_sequence by hand: areas of drawn rectangles with unequal spacing, label counts against a brute force,
the rows' columns and values, ED / ES choice for the strain, reports given or checked, the temporal check's grid."""

from __future__ import annotations

import numpy as np
import pytest
from measure_helpers import heart_frame

from echolatent.labels import Label
from echolatent.measure import sequence
from echolatent.measure.sequence import label_counts, measure_sequence, sequence_strain, temporal_check
from echolatent.measure.temporal import TemporalThresholds
from echolatent.measure.validity import ValidityThresholds, check_validity


def rectangles(frames: int = 3) -> np.ndarray:
    """``(T, 20, 30)`` labels: LV 4 x 5 = 20 px, MYO 6 x 5 = 30 px, LA 3 x 4 = 12 px; frame t has t more LV px."""
    masks = np.zeros((frames, 20, 30), np.uint8)
    for t in range(frames):
        masks[t, 2:6, 2:7] = Label.LV
        masks[t, 10:16, 2:7] = Label.MYO
        masks[t, 12:15, 20:24] = Label.LA
        masks[t, 0, :t] = Label.LV
    return masks


def test_areas_in_mm2_with_unequal_spacing():
    measures = measure_sequence(rectangles(), (0.5, 3.0))  # 1.5 mm^2 per pixel
    np.testing.assert_array_equal(measures.areas["LV"], 1.5 * np.array([20, 21, 22]))
    np.testing.assert_array_equal(measures.areas["MYO"], [45.0] * 3)
    np.testing.assert_array_equal(measures.areas["EPI"], 1.5 * np.array([50, 51, 52]))
    np.testing.assert_array_equal(measures.areas["LA"], [18.0] * 3)
    np.testing.assert_array_equal(measure_sequence(rectangles(), None).areas["LV"], [20, 21, 22])


@pytest.mark.parametrize("chunk", [1, 2, 3, 64])
def test_label_counts_in_chunks(chunk):
    masks = np.random.default_rng(chunk).integers(0, 4, (5, 7, 9)).astype(np.uint8)  # other counts each time
    expected = np.array([[int(np.sum(frame == label)) for label in range(4)] for frame in masks])
    counts = label_counts(masks, chunk=chunk)
    assert counts.dtype == np.int64
    np.testing.assert_array_equal(counts, expected)


def test_structure_rows_with_and_without_ground_truth():
    masks = rectangles(2)
    bare = measure_sequence(masks, (1.0, 1.0), instants=["ED", "ES"]).structure_rows(sequence="s", view="4CH")
    assert len(bare) == 8
    assert list(bare[0]) == ["sequence", "view", "frame", "instant", "structure", "area", "dice", "hd_mm", "assd_mm",
                             "valid", "temporal_ok"]
    assert [(r["frame"], r["instant"], r["structure"]) for r in bare[:5]] == [
        (0, "ED", "LV"), (0, "ED", "MYO"), (0, "ED", "EPI"), (0, "ED", "LA"), (1, "ES", "LV")]
    assert bare[4]["area"] == 21.0 and bare[0]["sequence"] == "s" and bare[0]["view"] == "4CH"
    assert all(np.isnan(r[k]) for r in bare for k in ("dice", "hd_mm", "assd_mm"))
    assert all(r["temporal_ok"] == "" and r["valid"] is False for r in bare)  # rectangles are no heart
    shifted = np.roll(masks, 1, axis=2)
    scored = measure_sequence(shifted, (1.0, 2.0), gt=masks).structure_rows()
    # the LA moved one column (2 mm): Dice 2 * 9 / 24, HD 2 mm
    la = [r for r in scored if r["structure"] == "LA"]
    assert [r["dice"] for r in la] == pytest.approx([0.75, 0.75]) and [r["hd_mm"] for r in la] == [2.0, 2.0]


def test_frame_rows_of_a_single_frame_without_temporal_check():
    measures = measure_sequence(rectangles(1), (1.0, 1.0))
    assert measures.strain is None and measures.temporal is None and measures.frames == 1
    (row,) = measures.frame_rows(sequence="one")
    assert np.isnan(row["endo_length"]) and np.isnan(row["strain_pct"])
    assert row["valid"] is False and row["failed"] == " ".join(measures.validity.failures(0))
    assert row["failed"] and "temporal_ok" not in row and not any(key.startswith("d_") for key in row)
    assert row["lv_area"] == 20.0 and row["sequence"] == "one" and row["instant"] == ""


def heart_sequence(scales):
    return np.stack([heart_frame(size=160, length=70 * s, half_width=26 * s, wall=7, la_height=24, base_row=115)
                     for s in scales])


def test_frame_rows_with_temporal_check_and_strain():
    masks = heart_sequence([1.0, 0.9, 0.8])
    thresholds = TemporalThresholds.published({"lv_area": (0.0, 4000.0)})
    measures = measure_sequence(masks, None, thresholds=thresholds)
    rows = measures.frame_rows()
    area = measures.attributes["lv_area"]
    assert rows[1]["d_lv_area"] == pytest.approx((area[1] - (area[0] + area[2]) / 2) / 4000.0)
    assert np.isnan(rows[0]["d_lv_area"]) and [r["temporal_ok"] for r in rows] == [True, True, True]
    assert rows[2]["strain_pct"] == measures.strain.strain[2] and rows[2]["endo_length"] == measures.strain.length[2]
    assert rows[2]["strain_pct"] == pytest.approx(-20.0, abs=0.5)
    assert rows[0]["valid"] is True and rows[0]["failed"] == ""


def test_temporal_check_needs_bounds_and_three_frames():
    masks = heart_sequence([1.0, 0.9, 0.8])
    bounds = TemporalThresholds.published({"lv_area": (0.0, 4000.0)})
    assert measure_sequence(masks, None, thresholds=TemporalThresholds.published()).temporal is None
    assert measure_sequence(masks[:2], None, thresholds=bounds).temporal is None
    assert measure_sequence(masks, None, thresholds=bounds).temporal is not None


def test_given_reports_are_used_as_they_are():
    masks = heart_sequence([1.0, 0.9, 0.8])
    bounds = TemporalThresholds.published({"lv_area": (0.0, 4000.0)})
    validity = check_validity(masks)
    temporal = measure_sequence(masks[::-1].copy(), None, thresholds=bounds).temporal
    given = measure_sequence(masks, None, thresholds=bounds, validity=validity, temporal=temporal)
    assert given.validity is validity and given.temporal is temporal
    assert measure_sequence(masks, None, temporal=temporal).temporal is None  # no thresholds: no check at all
    with pytest.raises(ValueError, match="a validity report of 3 frames for 2 frames"):
        measure_sequence(masks[:2], None, validity=validity)
    with pytest.raises(ValueError, match="2 instant labels for 3 frames"):
        measure_sequence(masks, None, instants=["ED", "ES"])


@pytest.mark.parametrize(("instants", "ed", "es"), [
    (["", "ED", "", "ES", "", "ES"], 1, 3),
    (["ES", "", "ED", "", "", ""], 2, 4),  # an ES before the ED does not count: the smallest LV
    (["", "", "", "", "", ""], 0, 4),
    (["", "", "ES", "", "", ""], 0, 2),
    (["ES", "ED", "", "ES", "", ""], 1, 3),  # the first ES after the ED, not the first ES
])
def test_strain_runs_from_the_labelled_ed_to_the_next_es(instants, ed, es):
    masks = heart_sequence([1.0, 0.95, 0.9, 0.85, 0.8, 0.9])
    result = sequence_strain(masks, None, instants)
    assert (result.ed, result.es) == (ed, es)


def test_temporal_check_measures_on_the_thresholds_grid_in_their_units(monkeypatch):
    seen = []
    real = sequence.compute_attributes

    def spy(masks, spacing):
        seen.append((masks.shape, spacing))
        return real(masks, spacing)

    monkeypatch.setattr(sequence, "compute_attributes", spy)
    masks = np.stack([heart_frame(size=160)] * 3)[:, :, 20:140]  # 160 x 120
    in_mm = TemporalThresholds.published({"lv_area": (0.0, 4000.0)}, grid=(80, 40), spacing=(1.0, 1.0))
    temporal_check(masks, (0.5, 0.25), in_mm)
    in_px = TemporalThresholds.published({"lv_area": (0.0, 4000.0)}, grid=(80, 40))
    temporal_check(masks, (0.5, 0.25), in_px)
    same_grid = TemporalThresholds.published({"lv_area": (0.0, 4000.0)}, spacing=(1.0, 1.0))
    temporal_check(masks, (0.5, 0.25), same_grid)
    assert seen == [((3, 80, 40), (1.0, 0.75)), ((3, 80, 40), None), ((3, 160, 120), (0.5, 0.25))]


def test_turns_inside_the_sequence_are_not_held_to_tau():
    masks = heart_sequence([1.0, 0.8, 1.0, 0.8, 1.0])  # ED, ES, ED, ES, ED: d is large at every interior frame
    bounds = TemporalThresholds({"lv_area": (0.0, 4000.0)}, {"lv_area": 0.01})
    plain = measure_sequence(masks, None, thresholds=bounds)
    assert plain.temporal.unchecked is None and plain.temporal.counts()["any"] == 3
    labelled = measure_sequence(masks, None, thresholds=bounds, instants=["ED", "", "", "ES", ""])
    np.testing.assert_array_equal(labelled.temporal.unchecked, [False, False, True, True, True])
    assert labelled.temporal.counts()["any"] == 1  # frame 1 only
    given = measure_sequence(masks, None, thresholds=bounds, instants=["ED", "", "", "ES", ""],
                             unchecked=np.array([False, True, False, False, False]))
    np.testing.assert_array_equal(given.temporal.unchecked, [False, True, False, False, False])
    assert given.temporal.counts()["any"] == 2
    direct = temporal_check(masks, None, bounds, np.array([False, True, True, True, False]))
    assert direct.sequence_ok


def test_spacing_reaches_attributes_strain_and_the_temporal_check():
    masks = heart_sequence([1.0, 0.8])  # two frames: strain, no temporal check
    one, two = measure_sequence(masks, (1.0, 1.0)), measure_sequence(masks, (2.0, 2.0))
    assert two.strain.gls_es == pytest.approx(one.strain.gls_es, rel=1e-9) == pytest.approx(-20.0, abs=0.5)
    np.testing.assert_allclose(two.strain.length, 2 * one.strain.length, rtol=1e-9)
    np.testing.assert_allclose(two.attributes["lv_area"], 4 * one.attributes["lv_area"], rtol=1e-12)
    np.testing.assert_array_equal(measure_sequence(rectangles(), (0.5, 3.0)).attributes["lv_area"],
                                  1.5 * np.array([20, 21, 22]))
    three = heart_sequence([1.0, 0.9, 0.85])
    in_mm = TemporalThresholds({"lv_area": (0.0, 1000.0)}, {"lv_area": 0.5}, spacing=(0.5, 0.5))
    report = measure_sequence(three, (0.5, 0.5), thresholds=in_mm).temporal
    area = np.array([(f == Label.LV).sum() * 0.25 for f in three])
    assert report.d["lv_area"][1] == pytest.approx((area[1] - (area[0] + area[2]) / 2) / 1000.0, rel=1e-9)


def test_validity_limits_reach_the_check_and_every_row():
    masks = heart_sequence([1.0, 0.9, 0.8])
    default = measure_sequence(masks, None, thresholds=TemporalThresholds.published({"lv_area": (0.0, 4000.0)}))
    assert default.validity.valid.all()
    rows = default.structure_rows()
    assert all(r["valid"] is True and r["temporal_ok"] is True for r in rows)
    assert [r["frame"] for r in default.frame_rows()] == [0, 1, 2]
    strict = ValidityThresholds(width_ratio_lv_myo=1.0)  # the LV is wider than the MYO band: every frame fails
    checked = measure_sequence(masks, None, validity_thresholds=strict)
    assert not checked.validity.valid.any() and checked.validity.thresholds is strict
    assert checked.frame_rows()[0]["failed"] == "width_ratio_lv_myo"
