"""Weighted back-projection (filtered back-projection) for parallel-beam tilt series.

Each recorded image is resampled to the ideal frame (tilt axis along v, no shifts), every
row is filtered along u with the ramp ``|f|`` (Kak & Slaney's band-limited kernel, zero
padding to a power of two ≥ 2 nu), optionally windowed, weighted by its view's share of
the angular range (radians) and back-projected with the strip projector's transpose:
``x = Σᵢ Δθᵢ Aᵢᵀ (h * bᵢ)``. Full-range data then come back in the units of the truth.
"""
from __future__ import annotations

import numpy as np
import torch

from ..errors import InputError
from ..projector import Projector

WINDOWS = ("ramp", "shepp-logan", "hann", "hamming")


def ramp_filter(images: torch.Tensor, window: str = "ramp") -> torch.Tensor:
    """Filter ``(..., nu)`` images along the last axis with the (windowed) ramp."""
    if window not in WINDOWS:
        raise InputError(f"unknown WBP filter {window!r}; choose from {', '.join(WINDOWS)}")
    nu = images.shape[-1]
    size = 1 << int(np.ceil(np.log2(2 * nu)))
    n = np.concatenate([np.arange(size // 2 + 1), np.arange(size // 2 - 1, 0, -1)])
    kernel = np.zeros(size)
    kernel[0] = 0.25
    odd = n % 2 == 1
    kernel[odd] = -1 / (np.pi * n[odd]) ** 2
    response = np.real(np.fft.fft(kernel))
    f = np.fft.fftfreq(size)  # cycles per pixel, |f| ≤ 0.5
    if window == "shepp-logan":
        response *= np.sinc(f)
    elif window == "hann":
        response *= 0.5 + 0.5 * np.cos(2 * np.pi * f)
    elif window == "hamming":
        response *= 0.54 + 0.46 * np.cos(2 * np.pi * f)
    h = torch.tensor(response, dtype=images.dtype, device=images.device)
    spectrum = torch.fft.fft(images, n=size, dim=-1) * h
    return torch.fft.ifft(spectrum, dim=-1).real[..., :nu].to(images.dtype)


def angular_weights(tilt: np.ndarray) -> np.ndarray:
    """Each view's share of the angular range in radians, ``(n,)`` in the given order: half
    the distance to its neighbours in angle, the end views count a full step outwards."""
    tilt = np.deg2rad(np.asarray(tilt, dtype=np.float64))
    if tilt.size == 1:
        return np.array([np.pi])
    order = np.argsort(tilt, kind="stable")
    s = tilt[order]
    padded = np.concatenate([[2 * s[0] - s[1]], s, [2 * s[-1] - s[-2]]])
    weights = np.empty_like(tilt)
    weights[order] = (padded[2:] - padded[:-2]) / 2
    return weights


@torch.no_grad()
def wbp(projector: Projector, images: torch.Tensor, window: str = "ramp") -> torch.Tensor:
    """Reconstruct a ``projector.shape`` volume from ``images`` ``(n, ny_det, nx_det)``."""
    if projector.method != "slices":
        raise InputError("WBP needs poses without out-of-plane tilt; use --method sirt")
    ideal = projector.to_ideal(images.to(projector.device, projector.dtype))
    weights = torch.tensor(angular_weights(projector.poses.tilt), dtype=ideal.dtype, device=ideal.device)
    return projector.backproject_ideal(ramp_filter(ideal, window) * weights[:, None, None])
