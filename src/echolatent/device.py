"""``--device cpu|cuda|auto``: where the networks (U-Net, shape model) run; the solver and measures stay on CPU."""

from __future__ import annotations

import torch

from echolatent.errors import InputError

DEVICES = ("cpu", "cuda", "auto")


def resolve_device(name: str) -> str:
    """``"cpu"`` or ``"cuda"`` for ``name`` in :data:`DEVICES` (auto: cuda when torch sees a GPU, else cpu).

    Raises:
        InputError: an unknown name, or cuda asked on a machine where torch sees no GPU.
    """
    if name not in DEVICES:
        raise InputError(None, f"--device: unknown device {name!r}; choose from {', '.join(DEVICES)}")
    available = torch.cuda.is_available()
    if name == "cuda" and not available:
        raise InputError(None, f"--device cuda: torch {torch.__version__} sees no CUDA GPU on this machine "
                               "(no GPU, no driver, or a CPU-only torch build); use --device cpu or auto")
    if name == "auto":
        return "cuda" if available else "cpu"
    return name
