"""Report panels for unmeasured attributes and the strain curve."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from echolatent.report import figures as fig


def test_an_unmeasured_panel_says_how_many_frames_and_why(tmp_path):
    width = np.full(5, np.nan)
    note = {"U-Net": {"lv_base_width": "not measured on 5 frames: no MYO beside the LV"}}
    path = fig.attribute_figure({"U-Net": {"lv_base_width": width, "lv_area": np.arange(5.0)}}, [""] * 5,
                                fig.unit_names(True), tmp_path / "a.png", not_measured=note)
    assert path.stat().st_size > 0
    ax = Figure().subplots()
    fig._note_unmeasured(ax, "lv_base_width", note)
    fig._note_unmeasured(ax, "lv_area", note)
    texts = [" ".join(t.get_text().split()) for t in ax.texts]
    assert texts == ["U-Net: not measured on 5 frames: no MYO beside the LV"]


def test_strain_figure_before_and_after_smoothing(tmp_path):
    curves = {"U-Net": np.array([0.0, -5.0, -9.0, np.nan]), "smoothed": np.array([0.0, -4.0, -8.0, -12.0])}
    path = fig.strain_figure(curves, {"U-Net": float("nan"), "smoothed": -12.0}, ["ED", "", "", "ES"],
                             tmp_path / "s.png", not_measured={"U-Net": "not measured on 1 frame: no LV pixel"})
    assert colour_pixels(path, fig.BEFORE) > 20 and colour_pixels(path, fig.AFTER) > 20  # both curves drawn
    alone = fig.strain_figure({"smoothed": curves["smoothed"]}, {"smoothed": -12.0}, ["ED", "", "", "ES"],
                              tmp_path / "t.png")
    assert colour_pixels(alone, fig.BEFORE) == 0 and colour_pixels(alone, fig.AFTER) > 20


def colour_pixels(path, colour: str) -> int:
    """Pixels of the PNG at ``path`` drawn exactly in ``colour`` ("#rrggbb")."""
    rgb = np.asarray(Image.open(path).convert("RGB")).reshape(-1, 3)
    return int(np.all(rgb == [int(colour[i:i + 2], 16) for i in (1, 3, 5)], axis=1).sum())
