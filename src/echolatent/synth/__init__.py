"""Synthetic hearts with known truth, echo-like images, the CAMUS-layout writer and the corruption model."""

from echolatent.synth.corrupt import SEVERITIES, corrupt_dataset, corrupt_frame, corrupt_sequence
from echolatent.synth.dataset import write_synthetic_dataset
from echolatent.synth.heart import Heart, HeartState, heart_state, sample_heart
from echolatent.synth.patient import SyntheticPatient, SyntheticView, synthesize_patient

__all__ = [
    "SEVERITIES",
    "Heart",
    "HeartState",
    "SyntheticPatient",
    "SyntheticView",
    "corrupt_dataset",
    "corrupt_frame",
    "corrupt_sequence",
    "heart_state",
    "sample_heart",
    "synthesize_patient",
    "write_synthetic_dataset",
]
