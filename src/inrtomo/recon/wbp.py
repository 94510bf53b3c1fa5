"""Weighted (filtered) back-projection for single-axis data, slice by slice, through
scikit-image's ``iradon``.

Only the plain geometry (tilt-axis angle 0, no shifts) is handled here; scikit-image's
angle runs opposite to ours (a point at ``z = +d`` lands at ``u = d sin θ`` for our θ and
scikit-image's ``−θ``).
"""
from __future__ import annotations

import numpy as np
from skimage.transform import iradon

from ..data import TiltSeries, Volume
from ..errors import InputError


def wbp(series: TiltSeries, filter_name: str = "ramp") -> Volume:
    """Reconstruct the default ``(nx, ny, nx)`` grid from a series with ψ = 0."""
    if series.tilt_axis_angle != 0:
        raise InputError("this WBP handles tilt-axis angle 0 only; rotate the stack first")
    n, ny, nx = series.shape
    theta = -series.angles
    volume = np.empty((nx, ny, nx), dtype=np.float32)
    for j in range(ny):
        sinogram = series.images[:, j, :].T.astype(np.float64)  # (u, view)
        volume[:, j, :] = iradon(sinogram, theta=theta, filter_name=filter_name, circle=True)
    return Volume(volume, series.pixel_size)
