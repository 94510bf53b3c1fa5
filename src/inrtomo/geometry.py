"""Parallel-beam tilt geometry: per-view poses and the rays through detector points.

Conventions (``docs/conventions.md``): volume coordinates ``(x, y, z)`` in voxels with the
origin at the volume centre; detector coordinates ``(u, v)`` in pixels with the origin at
the image centre. The ideal image at tilt θ integrates along ``(−sin θ, 0, cos θ)`` through
the point ``(u cos θ, v, u sin θ)``; the recorded image is ``ideal(R(−ψ)(p − d))`` for
tilt-axis angle ψ and shift ``d = (dx, dy)``.

An optional out-of-plane tilt φ turns the specimen about the volume's x axis before the
tilt: the detector axes and the ray direction become ``R_x(φ)ᵀ`` times their φ = 0 values,
so a point at ``(0, 0, +d)`` appears at ``v = −d sin φ`` at θ = 0.
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
        out_of_plane: out-of-plane tilt φ of each view, degrees (0 for an ideal holder).
    """

    tilt: np.ndarray
    tilt_axis: np.ndarray
    shift_x: np.ndarray
    shift_y: np.ndarray
    out_of_plane: np.ndarray = 0.0

    def __post_init__(self) -> None:
        self.tilt = np.asarray(self.tilt, dtype=np.float64).reshape(-1)
        n = self.tilt.size
        for name in ("tilt_axis", "shift_x", "shift_y", "out_of_plane"):
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
        return Poses(self.tilt[idx], self.tilt_axis[idx], self.shift_x[idx], self.shift_y[idx],
                     self.out_of_plane[idx])

    def tensors(self, dtype=torch.float32, device=None) -> tuple[torch.Tensor, ...]:
        """``(tilt, tilt_axis, shift_x, shift_y, out_of_plane)`` as ``(n,)`` tensors, angles
        in radians, shifts in pixels: the argument order of :func:`rays`."""
        values = (np.deg2rad(self.tilt), np.deg2rad(self.tilt_axis), self.shift_x, self.shift_y,
                  np.deg2rad(self.out_of_plane))
        return tuple(torch.tensor(a, dtype=dtype, device=device) for a in values)

    @property
    def in_plane(self) -> bool:
        """True when no view has an out-of-plane tilt (every tilt axis lies in the x–y plane)."""
        return not np.any(self.out_of_plane)


POSE_GROUPS = ("axis", "rotation", "tilt", "shift", "out_of_plane")


class PoseParameters(torch.nn.Module):
    """Learnable poses: the nominal poses plus offsets, all zero at the start, in groups
    that alignment switches on one by one (:data:`POSE_GROUPS`):

    - ``axis``: one tilt-axis offset Δψ for all views (scalar, radians);
    - ``rotation``: per-view in-plane rotation offsets Δψᵢ (``(n,)``, radians);
    - ``tilt``: per-view tilt-angle offsets Δθᵢ (``(n,)``, radians);
    - ``shift``: per-view shift offsets (Δdxᵢ, Δdyᵢ) (``(n, 2)``, pixels);
    - ``out_of_plane``: per-view out-of-plane offsets Δφᵢ (``(n,)``, radians).

    ``forward(views)`` returns ``(tilt, tilt_axis, shift_x, shift_y, out_of_plane)`` of
    those views (radians, pixels), differentiable with respect to every group.
    """

    def __init__(self, poses: Poses, dtype=torch.float32):
        super().__init__()
        n = len(poses)
        self.register_buffer("nominal", torch.stack(poses.tensors(dtype), dim=1))
        self.axis = torch.nn.Parameter(torch.zeros((), dtype=dtype))
        self.rotation = torch.nn.Parameter(torch.zeros(n, dtype=dtype))
        self.tilt = torch.nn.Parameter(torch.zeros(n, dtype=dtype))
        self.shift = torch.nn.Parameter(torch.zeros(n, 2, dtype=dtype))
        self.out_of_plane = torch.nn.Parameter(torch.zeros(n, dtype=dtype))

    def forward(self, views: torch.Tensor | None = None) -> tuple[torch.Tensor, ...]:
        offsets = torch.stack([self.tilt, self.rotation + self.axis, self.shift[:, 0], self.shift[:, 1],
                               self.out_of_plane], dim=1)
        pose = self.nominal + offsets
        if views is not None:  # index_select: its backward sums in a fixed order on the CPU
            pose = pose.index_select(0, views.reshape(-1)).reshape(*views.shape, 5)
        return tuple(pose.unbind(-1))

    @torch.no_grad()
    def fix_gauge(self) -> None:
        """Remove the offsets that a moved or turned volume would explain equally well, so
        that alignment cannot drift: zero mean of the per-view rotation, tilt and
        out-of-plane offsets (the global axis holds the mean rotation; a common tilt or
        out-of-plane offset turns the volume) and the shift offsets' part that a shifted
        volume explains (:func:`shift_gauge`)."""
        for offsets in (self.rotation, self.tilt, self.out_of_plane):
            offsets -= offsets.mean()
        tilt, tilt_axis = self()[:2]
        self.shift.copy_(torch.stack(shift_gauge(self.shift[:, 0], self.shift[:, 1], tilt, tilt_axis), 1))

    def rays(self, views: torch.Tensor, u: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """:func:`rays` through detector points ``u, v`` (pixels) of ``views`` (same shape)."""
        return rays(*self(views), u, v)

    def groups(self) -> dict[str, torch.nn.Parameter]:
        """The offset parameters by group name (:data:`POSE_GROUPS`)."""
        return {name: getattr(self, name) for name in POSE_GROUPS}

    def to_poses(self) -> Poses:
        """The current poses as plain :class:`Poses` (degrees, pixels)."""
        tilt, tilt_axis, sx, sy, phi = (t.detach().cpu().double().numpy() for t in self())
        return Poses(np.rad2deg(tilt), np.rad2deg(tilt_axis), sx, sy, np.rad2deg(phi))


def shift_gauge(shift_x: torch.Tensor, shift_y: torch.Tensor, tilt: torch.Tensor, tilt_axis: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-view shifts ``(n,)`` (pixels) less the part a shifted volume explains.

    A volume moved by ``(tx, ty, tz)`` moves the ideal image of view θ by
    ``e = (tx cos θ + tz sin θ, ty)``, i.e. the recorded one by ``R(ψ) e``. The shifts are
    turned into the ideal frame, ``e = R(−ψ) d``, where ``e_v`` loses its mean and ``e_u``
    its least-squares fit by ``cos θ`` and ``sin θ``, and turned back. θ, ψ in radians."""
    c, s = torch.cos(tilt_axis), torch.sin(tilt_axis)
    eu, ev = c * shift_x + s * shift_y, -s * shift_x + c * shift_y
    ev = ev - ev.mean()
    for basis in _orthonormal([torch.cos(tilt), torch.sin(tilt)]):
        eu = eu - basis * (basis @ eu)
    return c * eu - s * ev, s * eu + c * ev


def _orthonormal(vectors: list[torch.Tensor]) -> list[torch.Tensor]:
    """Gram–Schmidt, dropping vectors that depend on the earlier ones."""
    out = []
    for v in vectors:
        for b in out:
            v = v - b * (b @ v)
        norm = v.norm()
        if float(norm) > 1e-6 * len(v) ** 0.5:
            out.append(v / norm)
    return out


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
    out_of_plane: torch.Tensor | float,
    u: torch.Tensor,
    v: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Rays through recorded detector points; differentiable in every argument.

    Args:
        tilt, tilt_axis: θ and ψ in radians, broadcastable to the points' shape.
        shift_x, shift_y: view shift in pixels, broadcastable likewise.
        out_of_plane: φ in radians, broadcastable likewise (0 for the plain geometry).
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
    phi = torch.as_tensor(out_of_plane, dtype=qu.dtype, device=qu.device)
    cos_p, sin_p = torch.cos(phi), torch.sin(phi)
    qu, qv, cos_t, sin_t, cos_p, sin_p = torch.broadcast_tensors(qu, qv, cos_t, sin_t, cos_p, sin_p)
    # detector axes e_u = (cos θ, sin φ sin θ, cos φ sin θ), e_v = (0, cos φ, −sin φ)
    origins = torch.stack([qu * cos_t, qu * sin_p * sin_t + qv * cos_p, qu * cos_p * sin_t - qv * sin_p], dim=-1)
    directions = torch.stack([-sin_t, sin_p * cos_t, cos_p * cos_t], dim=-1)
    return origins, directions


def view_rays(poses: Poses, view: int, u: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`rays` through detector points ``u, v`` (pixels) of one view of ``poses``, in
    the dtype of ``u``."""
    return rays(*(t[view] for t in poses.tensors(u.dtype)), u, v)


def ideal_to_recorded(ideal: torch.Tensor, tilt_axis: torch.Tensor, shift_x: torch.Tensor,
                      shift_y: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    """Recorded images ``(n, *shape)`` from ideal (ψ = 0, unshifted) images ``(n, nv, nu)``:
    ``recorded(p) = ideal(R(−ψ)(p − d))``, bilinear, zero outside. ψ in radians, shifts in
    pixels, each ``(n,)``. Linear in ``ideal``."""
    c, s = torch.cos(tilt_axis), torch.sin(tilt_axis)
    matrix = torch.stack([torch.stack([c, s], -1), torch.stack([-s, c], -1)], -2)  # R(−ψ)
    offset = -(matrix @ torch.stack([shift_x, shift_y], -1).unsqueeze(-1)).squeeze(-1)
    return _resample(ideal, matrix, offset, shape)


def recorded_to_ideal(recorded: torch.Tensor, tilt_axis: torch.Tensor, shift_x: torch.Tensor,
                      shift_y: torch.Tensor, shape: tuple[int, int], smooth: bool = False) -> torch.Tensor:
    """The inverse map of :func:`ideal_to_recorded`: ideal images ``(n, *shape)`` sampled
    from recorded images at ``p = R(ψ) q + d`` (bilinear, zero outside). ``smooth``: sample
    the cubic B-spline approximation instead, a blur of variance 1/3 px² per axis at every
    sub-pixel offset (white noise keeps 85–100 % of its variance; bilinear interpolation
    keeps 25–100 %, none at 0 offset), so that images resampled at different angles
    compare fairly."""
    c, s = torch.cos(tilt_axis), torch.sin(tilt_axis)
    matrix = torch.stack([torch.stack([c, -s], -1), torch.stack([s, c], -1)], -2)  # R(ψ)
    return _resample(recorded, matrix, torch.stack([shift_x, shift_y], -1), shape, smooth)


def _resample(images: torch.Tensor, matrix: torch.Tensor, offset: torch.Tensor, shape: tuple[int, int],
              smooth: bool = False) -> torch.Tensor:
    """``out[k](p) = images[k](matrix[k] p + offset[k])`` for centred pixel coordinates
    ``p = (u, v)`` of an output grid of ``shape``; bilinear (or, ``smooth``, the cubic
    B-spline approximation), zero outside the source."""
    n, src_v, src_u = images.shape
    uu, vv = detector_coordinates(*shape)
    p = torch.tensor(np.stack([uu, vv], -1), dtype=images.dtype, device=images.device)  # (ny, nx, 2)
    q = torch.einsum("kij,yxj->kyxi", matrix.to(images.dtype), p) + offset.to(images.dtype)[:, None, None, :]
    if smooth:
        return _bspline_sample(images, q[..., 0] + (src_u - 1) / 2, q[..., 1] + (src_v - 1) / 2)
    grid = q / torch.tensor([src_u / 2, src_v / 2], dtype=images.dtype, device=images.device)
    out = torch.nn.functional.grid_sample(images[:, None], grid, mode="bilinear", padding_mode="zeros",
                                          align_corners=False)
    return out[:, 0]


def _bspline_sample(images: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``Σ_ij images[k, i, j] β³(x − j) β³(y − i)`` at column and row positions ``x, y``
    ``(n, *shape)`` (pixel indices), with zeros outside the images; β³ the cubic B-spline."""
    n, rows, cols = images.shape
    padded = torch.nn.functional.pad(images, (2, 2, 2, 2)).reshape(n, -1)
    x, y = x + 2, y + 2
    x0, y0 = torch.floor(x) - 1, torch.floor(y) - 1
    out = torch.zeros_like(x)
    for a in range(4):
        xi = x0 + a
        wx, xi = _beta3(x - xi), xi.clamp(0, cols + 3).long()
        for b in range(4):
            yi = y0 + b
            wy, yi = _beta3(y - yi), yi.clamp(0, rows + 3).long()
            out += wx * wy * torch.gather(padded, 1, (yi * (cols + 4) + xi).reshape(n, -1)).reshape(x.shape)
    return out


def _beta3(t: torch.Tensor) -> torch.Tensor:
    t = t.abs()
    return torch.where(t < 1, 2 / 3 - t**2 + t**3 / 2, torch.where(t < 2, (2 - t) ** 3 / 6, torch.zeros_like(t)))


def voxel_centres(shape: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """1-D voxel-centre coordinates ``(z, y, x)`` of a ``(nz, ny, nx)`` grid, in voxels."""
    return tuple(np.arange(n) - (n - 1) / 2 for n in shape)
