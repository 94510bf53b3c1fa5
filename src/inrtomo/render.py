"""Line integrals of a field along rays: the forward model shared by the INR and the
general voxel projector.

A field is any callable mapping points ``(..., 3)`` in ``(x, y, z)`` voxel coordinates
(origin at the volume centre, ``docs/conventions.md``) to values ``(...)``. Rays are
clipped to the volume's box, ``|x| ≤ nx/2, |y| ≤ ny/2, |z| ≤ nz/2``, and the integral is in
line-integral units: value × path length in voxels.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

Field = Callable[[torch.Tensor], torch.Tensor]


def box_intervals(origins: torch.Tensor, directions: torch.Tensor, shape: tuple[int, int, int]
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """Entry and exit ray parameters ``(t_near, t_far)``, each ``(...)``, of rays
    ``origin + t · direction`` (``(..., 3)``, unit directions) through the box of a
    ``(nz, ny, nx)`` volume; ``t_far ≤ t_near`` for rays that miss it."""
    nz, ny, nx = shape
    half = torch.tensor([nx / 2, ny / 2, nz / 2], dtype=origins.dtype, device=origins.device)
    parallel = directions.abs() < 1e-12
    safe = torch.where(parallel, torch.ones_like(directions), directions)
    t1, t2 = (-half - origins) / safe, (half - origins) / safe
    inside = origins.abs() <= half
    far = 1e30  # "no bound" on an axis the ray runs parallel to
    lo = torch.where(parallel, torch.where(inside, -far, far), torch.minimum(t1, t2))
    hi = torch.where(parallel, torch.where(inside, far, -far), torch.maximum(t1, t2))
    return lo.amax(-1), hi.amin(-1)


def ray_samples(
    origins: torch.Tensor,
    directions: torch.Tensor,
    shape: tuple[int, int, int],
    n_samples: int,
    offsets: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sample points on rays through the box of a ``(nz, ny, nx)`` volume.

    Each ray's chord through the box is cut into ``n_samples`` equal intervals and one
    point is placed in each: at the midpoint (evaluation) or at ``offsets`` within it
    (training's stratified sampling: uniform random offsets drawn by the caller).

    Args:
        origins, directions: ``(..., 3)`` rays in voxels; unit directions.
        offsets: ``(..., n_samples)`` positions in [0, 1) of the samples within their
            intervals; default 0.5 (midpoints).

    Returns:
        ``points`` ``(..., n_samples, 3)`` in voxels and each ray's interval length
        ``(...)`` in voxels (0 for rays that miss the box): the quadrature weight of its
        samples.
    """
    t_near, t_far = box_intervals(origins, directions, shape)
    step = (t_far - t_near).clamp(min=0) / n_samples
    if offsets is None:
        offsets = torch.full((n_samples,), 0.5, dtype=origins.dtype, device=origins.device)
    index = torch.arange(n_samples, dtype=origins.dtype, device=origins.device)
    t = t_near[..., None] + (index + offsets) * step[..., None]  # (..., N)
    return origins[..., None, :] + t[..., None] * directions[..., None, :], step


def integrate(
    field: Field,
    origins: torch.Tensor,
    directions: torch.Tensor,
    shape: tuple[int, int, int],
    n_samples: int,
    offsets: torch.Tensor | None = None,
) -> torch.Tensor:
    """Integrate ``field`` along rays through the box of a ``(nz, ny, nx)`` volume, sampled
    by :func:`ray_samples` (same arguments). Differentiable with respect to the field and
    to the rays.

    Returns:
        ``(...)`` line integrals; 0 for rays that miss the box.
    """
    points, step = ray_samples(origins, directions, shape, n_samples, offsets)
    return field(points).sum(-1) * step


class GridField:
    """A voxel volume ``(nz, ny, nx)`` as a field: trilinear interpolation between voxel
    centres, the edge value held out to the box faces (so an all-ones volume integrates to
    the chord length)."""

    def __init__(self, volume: torch.Tensor):
        self.volume = volume
        nz, ny, nx = volume.shape
        self._scale = torch.tensor([2 / nx, 2 / ny, 2 / nz], dtype=volume.dtype, device=volume.device)

    def __call__(self, points: torch.Tensor) -> torch.Tensor:
        grid = (points * self._scale).reshape(1, 1, 1, -1, 3)
        values = F.grid_sample(self.volume[None, None], grid, mode="bilinear", padding_mode="border",
                               align_corners=False)
        return values.reshape(points.shape[:-1])
