"""Choosing the torch device from a user's ``--device`` value."""
from __future__ import annotations

import torch

from .errors import InputError

DEVICES = ("auto", "cpu", "cuda")


def select_device(name: str = "auto") -> torch.device:
    """``"auto"``: the first CUDA GPU if there is one, else the CPU; ``"cuda"`` or
    ``"cuda:K"`` insists on a GPU and says so in one line when there is none."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise InputError("--device cuda was asked for, but torch sees no CUDA GPU; use --device cpu")
    try:
        return torch.device(name)
    except RuntimeError:
        raise InputError(f"unknown device {name!r}; use auto, cpu, cuda or cuda:K") from None
