"""Parallel-beam tilt geometry: per-view poses and the rays through detector points.

Conventions (``docs/conventions.md``): volume coordinates ``(x, y, z)`` in voxels with the
origin at the volume centre; detector coordinates ``(u, v)`` in pixels with the origin at
the image centre. The ideal image at tilt θ integrates along ``(−sin θ, 0, cos θ)`` through
the point ``(u cos θ, v, u sin θ)``; the recorded image is ``ideal(R(−ψ)(p − d))`` for
tilt-axis angle ψ and shift ``d = (dx, dy)``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class Poses:
    """Per-view poses, all ``(n,)`` arrays in file order.

    Attributes:
        tilt: tilt angle θ of each view, degrees.
        tilt_axis: in-plane tilt-axis angle ψ of each view, degrees.
        shift_x, shift_y: image shift ``(dx, dy)`` of each view, pixels.
    """

    tilt: np.ndarray
    tilt_axis: np.ndarray
    shift_x: np.ndarray
    shift_y: np.ndarray

    def __post_init__(self) -> None:
        self.tilt = np.asarray(self.tilt, dtype=np.float64).reshape(-1)
        n = self.tilt.size
        for name in ("tilt_axis", "shift_x", "shift_y"):
            value = np.broadcast_to(np.asarray(getattr(self, name), dtype=np.float64), (n,)).copy()
            setattr(self, name, value)

    @classmethod
    def nominal(cls, angles, tilt_axis_angle: float = 0.0) -> Poses:
        """Poses a microscope reports: given tilts, one tilt-axis angle, no shifts."""
        return cls(angles, tilt_axis_angle, 0.0, 0.0)

    def __len__(self) -> int:
        return self.tilt.size

    def subset(self, views) -> Poses:
        idx = np.arange(len(self))[views]
        return Poses(self.tilt[idx], self.tilt_axis[idx], self.shift_x[idx], self.shift_y[idx])


def detector_coordinates(ny: int, nx: int, supersample: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre detector coordinates ``(u, v)``, each ``(ny*s, nx*s)``, in pixels.

    With ``supersample = s`` every pixel is split into ``s × s`` sub-pixels whose centres
    are returned (row-major, so ``reshape(ny, s, nx, s)`` groups them by pixel).
    """
    s = int(supersample)
    offsets = (np.arange(s) + 0.5) / s - 0.5
    u = (np.arange(nx)[:, None] + offsets[None, :]).reshape(-1) - (nx - 1) / 2
    v = (np.arange(ny)[:, None] + offsets[None, :]).reshape(-1) - (ny - 1) / 2
    vv, uu = np.meshgrid(v, u, indexing="ij")
    return uu, vv


def rays(
    tilt: torch.Tensor,
    tilt_axis: torch.Tensor,
    shift_x: torch.Tensor,
    shift_y: torch.Tensor,
    u: torch.Tensor,
    v: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Rays through recorded detector points; differentiable in every argument.

    Args:
        tilt, tilt_axis: θ and ψ in radians, broadcastable to the points' shape.
        shift_x, shift_y: view shift in pixels, broadcastable likewise.
        u, v: detector coordinates of the points in pixels (any shape ``S``).

    Returns:
        ``origins`` ``(*S, 3)`` and unit ``directions`` ``(*S, 3)``, both ``(x, y, z)`` in
        voxels. Each origin lies in the plane through the volume centre normal to its ray,
        so the ray parameter is the signed distance from that plane.
    """
    pu, pv = u - shift_x, v - shift_y
    cos_psi, sin_psi = torch.cos(tilt_axis), torch.sin(tilt_axis)
    qu = cos_psi * pu + sin_psi * pv  # q = R(−ψ) (p − d)
    qv = -sin_psi * pu + cos_psi * pv
    cos_t, sin_t = torch.cos(tilt), torch.sin(tilt)
    qu, qv, cos_t, sin_t = torch.broadcast_tensors(qu, qv, cos_t, sin_t)
    origins = torch.stack([qu * cos_t, qv, qu * sin_t], dim=-1)
    directions = torch.stack([-sin_t, torch.zeros_like(sin_t), cos_t], dim=-1)
    return origins, directions


def view_rays(poses: Poses, view: int, u: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`rays` through detector points ``u, v`` (pixels) of one view of ``poses``, in
    the dtype of ``u``."""
    pose = [torch.tensor(a[view], dtype=u.dtype) for a in (
        np.deg2rad(poses.tilt), np.deg2rad(poses.tilt_axis), poses.shift_x, poses.shift_y)]
    return rays(*pose, u, v)


def voxel_centres(shape: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """1-D voxel-centre coordinates ``(z, y, x)`` of a ``(nz, ny, nx)`` grid, in voxels."""
    return tuple(np.arange(n) - (n - 1) / 2 for n in shape)
