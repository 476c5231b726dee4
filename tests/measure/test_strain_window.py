"""GLS measured in the LV's window and from landmarks already measured: the same lengths as the contour of the
whole image's smoothed indicator (SciPy and scikit-image on the full frame, the independent route), the same as
without the landmarks given, and landmarks of another length refused."""

from __future__ import annotations

import numpy as np
import pytest
from measure_helpers import heart_frame
from scipy.ndimage import gaussian_filter
from skimage.measure import find_contours

from echolatent.labels import Label
from echolatent.measure.attributes import CHUNK, lv_landmarks, measure_attributes
from echolatent.measure.strain import CONTOUR_SIGMA, arc_length, endocardial_length, global_longitudinal_strain


def _whole_image_lengths(masks, spacing):
    sy, sx = spacing
    marks = lv_landmarks(masks, spacing)
    sigma = CONTOUR_SIGMA * max(sy, sx)
    lengths = []
    for t, frame in enumerate(masks):
        smooth = gaussian_filter((frame == Label.LV).astype(np.float64), (sigma / sy, sigma / sx))
        contour = max(find_contours(np.pad(smooth, 1), 0.5), key=len) - 1.0
        lengths.append(arc_length(contour * np.array([sy, sx]), marks.left[t], marks.right[t], marks.apex[t]))
    return np.array(lengths)


@pytest.mark.parametrize("spacing", [(1.0, 1.0), (0.5, 0.8), (0.8, 0.3), (0.2, 1.0), (1.0, 0.25)])
def test_lengths_equal_the_whole_images_contour(spacing):
    frames = [heart_frame(size=128, length=length, half_width=width, wall=6)
              for length, width in ((50, 20), (42, 17), (36, 15))]
    frames.append(np.roll(frames[0], -40, axis=0))  # near the image's top: the window is clipped there only
    masks = np.stack(frames)
    got, reasons = endocardial_length(masks, spacing)
    assert reasons == {} and np.isfinite(got).all()
    np.testing.assert_allclose(got, _whole_image_lengths(masks, spacing), rtol=1e-12)
    alone = masks[1:2]  # one heart away from every edge: the window's top is its apex's row minus the reach
    np.testing.assert_allclose(endocardial_length(alone, spacing)[0], _whole_image_lengths(alone, spacing),
                               rtol=1e-12)


def test_landmarks_given_give_the_same_strain_and_are_those_of_the_attributes():
    masks = np.stack([heart_frame(size=96, length=40 - 10 * np.sin(np.pi * k / (CHUNK + 6)), half_width=16, wall=5)
                      for k in range(CHUNK + 6)])
    measured = measure_attributes(masks, (0.4, 0.4))
    own = lv_landmarks(masks, (0.4, 0.4))
    for name in ("left", "right", "apex"):  # two blocks of frames joined, as lv_landmarks joins them
        np.testing.assert_array_equal(getattr(measured.landmarks, name), getattr(own, name))
    np.testing.assert_array_equal(measured.landmarks.frame.orientation, own.frame.orientation)
    given = global_longitudinal_strain(masks, (0.4, 0.4), landmarks=measured.landmarks)
    alone = global_longitudinal_strain(masks, (0.4, 0.4))
    np.testing.assert_array_equal(given.length, alone.length)
    assert given.gls_es == alone.gls_es < -10


def test_landmarks_of_other_frames_are_refused():
    masks = np.stack([heart_frame(size=96, length=40, half_width=16, wall=5)] * 3)
    with pytest.raises(ValueError, match="landmarks of 2 frames for 3 frames"):
        endocardial_length(masks, None, lv_landmarks(masks[:2]))


def test_the_window_is_the_lv_box_widened_by_the_filters_reach_and_a_pixel():
    from echolatent.measure.strain import _lv_window

    lv = np.zeros((3, 64, 80), bool)
    lv[0, 10:20, 30:45] = True
    lv[2, 12:22, 33:40] = True  # the box over every frame: rows 10-21, columns 30-44
    window, offset = _lv_window(lv, (1.0, 0.5))  # reach int(4 sigma + 0.5) + 1: 5 rows, 3 columns
    assert window == (slice(5, 27), slice(27, 48)) and offset.tolist() == [5.0, 27.0]
    assert offset.dtype == np.float64
    window, offset = _lv_window(lv, (2.4, 0.75))  # int(10.1) + 1 = 11 rows (clipped at 0), int(3.5) + 1 = 4 columns
    assert window == (slice(0, 33), slice(26, 49)) and offset.tolist() == [0.0, 26.0]
    edge = np.zeros((1, 20, 30), bool)
    edge[0, 17:20, 0:4] = True  # at the bottom-left corner: clipped to the image
    assert _lv_window(edge, (1.0, 1.0))[0] == (slice(12, 20), slice(0, 9))
    assert _lv_window(np.zeros((2, 20, 30), bool), (1.0, 1.0))[0] == (slice(0, 20), slice(0, 30))
