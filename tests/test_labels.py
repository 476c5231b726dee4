import numpy as np
import pytest

from echolatent import Instant, Label, View
from echolatent.errors import InputError
from echolatent.labels import check_labels


def test_label_values_follow_camus() -> None:
    assert [int(label) for label in Label] == [0, 1, 2, 3]
    assert Label.foreground() == (Label.LV, Label.MYO, Label.LA)


def test_view_and_instant_names_match_file_names() -> None:
    assert View("2CH") is View.A2C and View("4CH") is View.A4C
    assert Instant("ED") is Instant.ED


@pytest.mark.parametrize(
    ("masks", "options", "message"),
    [
        (np.zeros((2, 2, 4, 4), np.uint8), {}, r"expected labels \(T, H, W\)"),
        (np.zeros((4, 4), np.uint8), {"allow_2d": False}, r"expected labels \(T, H, W\)"),
        (np.zeros((0, 4, 4), np.uint8), {}, "empty array"),
        (np.full((1, 4, 4), 7, np.int16), {}, r"labels \{7\} outside 0..3"),
        (np.full((1, 4, 4), -1.0), {}, r"labels \{-1\} outside 0..3"),
        (np.full((1, 4, 4), np.nan), {}, "NaN"),
        (np.full((1, 4, 4), 0.5), {}, "non-integer"),
        (np.zeros((1, 4, 4), np.float32), {"integer_dtype": True}, "integer labels"),
        (np.zeros((1, 4, 4), "U1"), {}, "integer labels"),
    ],
)
def test_check_labels_refuses_bad_masks_naming_the_source(masks, options, message):
    with pytest.raises(InputError, match=f"mask.nii.gz: m: .*{message}|mask.nii.gz: m: {message}"):
        check_labels(masks, "mask.nii.gz", name="m", **options)


def test_check_labels_returns_uint8_frames():
    out = check_labels(np.array([[0.0, 3.0], [1.0, 2.0]]))
    assert out.dtype == np.uint8 and out.shape == (1, 2, 2) and out.tolist() == [[[0, 3], [1, 2]]]
    assert check_labels(np.ones((2, 3, 3), bool)).dtype == np.uint8
    assert check_labels(np.zeros((2, 3, 3), np.int64), integer_dtype=True).dtype == np.uint8
