"""Shape measurement of cardiac masks ``(T, H, W)``: attributes, anatomical validity, temporal consistency,
clinical indices, segmentation scores, the rows of the tables the commands write.

Modules (imported lazily, so ``import echolatent.measure.attributes`` stays light):

* :mod:`~echolatent.measure.attributes` - :func:`compute_attributes`, :data:`ATTRIBUTES`, :func:`lv_landmarks`
* :mod:`~echolatent.measure.landmarks` - the LV's own frame, basal points and apex
* :mod:`~echolatent.measure.strain` - :func:`global_longitudinal_strain` (GLS)
* :mod:`~echolatent.measure.validity` - :func:`check_validity`, :class:`ValidityThresholds`
* :mod:`~echolatent.measure.temporal` - :class:`TemporalThresholds`, :func:`temporal_consistency`
* :mod:`~echolatent.measure.clinical` - :func:`lv_geometry`, :func:`clinical_indices`
* :mod:`~echolatent.measure.scores` - :func:`segmentation_scores` (MONAI Dice / HD / ASSD)
* :mod:`~echolatent.measure.sequence` - :func:`measure_sequence`
* :mod:`~echolatent.measure.cohort` - :func:`clinical_table`
* :mod:`~echolatent.measure.attribute_info` - :data:`ATTRIBUTE_INFO` (title, unit kind, published tau)
* :mod:`~echolatent.measure.framecache` - per-frame result caches, :func:`resize_labels_cached`
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "ATTRIBUTES": "attributes",
    "compute_attributes": "attributes",
    "measure_attributes": "attributes",
    "lv_landmarks": "attributes",
    "not_measured_notes": "attributes",
    "StrainResult": "strain",
    "global_longitudinal_strain": "strain",
    "CRITERIA": "validity",
    "ValidityReport": "validity",
    "ValidityThresholds": "validity",
    "check_validity": "validity",
    "TemporalReport": "temporal",
    "TemporalThresholds": "temporal",
    "temporal_consistency": "temporal",
    "ClinicalIndices": "clinical",
    "clinical_indices": "clinical",
    "lv_geometry": "clinical",
    "segmentation_scores": "scores",
    "SequenceMeasures": "sequence",
    "measure_sequence": "sequence",
    "clinical_table": "cohort",
    "ATTRIBUTE_INFO": "attribute_info",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'echolatent.measure' has no attribute {name!r}")
    return getattr(importlib.import_module(f"echolatent.measure.{_EXPORTS[name]}"), name)
