"""What a :class:`echolatent.temporal.smooth.Smoother` is built from: its shape model (loaded, with a latent range)
and its arguments, checked before anything is loaded."""

from __future__ import annotations

import torch

from echolatent.errors import InputError

#: The latent methods the Smoother runs (the image-space baselines are in :mod:`.baselines`; all behind
#: :func:`echolatent.temporal.strategy.make_smoother`).
METHODS = ("exact", "snake")
#: Decoding of the exact method: the input changed by the decoded correction, or the model's decode only.
DECODES = ("residual", "full")


def load_shape_model(model):
    """A ShapeModel with a latent range, from a loaded model, a model file or None (the shipped AR-VAE)."""
    from echolatent.latent.codec import load_model

    loaded = model if isinstance(model, torch.nn.Module) else load_model(model)
    low, high = loaded.latent_min.numpy(), loaded.latent_max.numpy()
    if not (high > low).all():
        path = None if isinstance(model, torch.nn.Module) else model  # a loaded model has no file to name
        raise InputError(path, "the shape model has no latent range (latent_max <= latent_min on some dims)")
    return loaded


def check_arguments(method, decode, blends, input_sigmas, target, keep_below, tighten, max_rounds) -> None:
    """Raise ValueError for a :class:`Smoother` argument out of its range (see its docstring)."""
    if method not in METHODS:
        raise ValueError(f"unknown smoothing method {method!r}; expected one of {METHODS}")
    if decode not in DECODES:
        raise ValueError(f"unknown decode mode {decode!r}; expected one of {DECODES}")
    if not all(0.5 < weight < 1 for weight in blends) or list(blends) != sorted(set(blends)):
        raise ValueError(f"blend weights must increase within (0.5, 1), got {blends}")
    sigmas = list(input_sigmas)
    if not sigmas or any(not 0 <= v < 100 for v in sigmas) or sigmas != sorted(set(sigmas)):
        raise ValueError(f"input sigmas must increase within [0, 100) frames, got {input_sigmas}")
    if not 0 < target <= 1 or not 0 <= keep_below <= target:
        raise ValueError(f"need 0 < target <= 1 and 0 <= keep_below <= target, got {target}, {keep_below}")
    if not 0 < tighten < 1 or (max_rounds is not None and max_rounds < 0):
        raise ValueError(f"need 0 < tighten < 1 and max_rounds >= 0, got {tighten}, {max_rounds}")
