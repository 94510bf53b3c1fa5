"""The matched voxel projector pair ``A`` / ``A_adjoint`` for classical reconstruction.

Volumes are ``(nz, ny, nx)`` and images ``(n, ny_det, nx_det)`` torch tensors in the units
of ``docs/conventions.md`` (a projection is value × path length in voxels). Two
discretisations, chosen by ``method``:

- ``"slices"`` (poses with no out-of-plane tilt): every voxel is a unit square in its
  ``x–z`` slice and each detector bin receives the area of the square inside its strip
  (the "strip" model of ASTRA), one sparse matrix applied to all ``y`` slices at once.
  A view's shift ``dx`` enters the matrix exactly; a tilt-axis angle, a shift ``dy`` or a
  volume height other than the detector's are applied afterwards by resampling the ideal
  image (:func:`~inrtomo.geometry.ideal_to_recorded`).
- ``"rays"`` (any pose): the trilinear volume is integrated along each pixel's ray
  (:mod:`inrtomo.render`), step ≤ ½ voxel; the adjoint is the exact transpose via autograd.

Work is split into chunks of views or rays, so memory stays bounded for large volumes.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import torch

from .geometry import Poses, detector_coordinates, ideal_to_recorded, rays, recorded_to_ideal, voxel_centres
from .render import GridField, integrate

METHODS = ("auto", "slices", "rays")


class Projector:
    """``A`` maps a ``(nz, ny, nx)`` volume to ``(n, ny_det, nx_det)`` images at ``poses``;
    ``A_adjoint`` is its exact transpose.

    Args:
        shape: volume shape ``(nz, ny, nx)`` in voxels (voxel size = pixel size).
        poses: one pose per image.
        detector_shape: ``(ny_det, nx_det)`` pixels.
        device, dtype: where and in which precision to compute.
        method: ``"auto"`` (slices when every out-of-plane tilt is 0, else rays), ``"slices"``
            or ``"rays"``.
        memory: rough byte budget for one chunk of work.
        cache: the most bytes the slice matrices may keep between calls; beyond it they are
            rebuilt chunk by chunk in every call (slower, but memory stays at ``memory``).
    """

    def __init__(self, shape, poses: Poses, detector_shape, *, device=None, dtype=torch.float32,
                 method: str = "auto", memory: int = 64 * 2**20, cache: int = 2 * 2**30):
        self.shape = tuple(int(s) for s in shape)
        self.poses = poses
        self.detector_shape = tuple(int(s) for s in detector_shape)
        self.device = torch.device(device or "cpu")
        self.dtype = dtype
        if method not in METHODS:
            raise ValueError(f"unknown projector method {method!r}; choose from {METHODS}")
        if method == "auto":
            method = "slices" if poses.in_plane else "rays"
        if method == "slices" and not poses.in_plane:
            raise ValueError("the slice projector needs out-of-plane tilt 0 in every view; use method='rays'")
        self.method = method
        self._pose = [t.to(self.device) for t in poses.tensors(dtype)]
        nz, ny, nx = self.shape
        if method == "slices":
            self.warp = bool(np.any(poses.tilt_axis) or np.any(poses.shift_y) or ny != self.detector_shape[0])
            nu = self.detector_shape[1]
            if self.warp:  # wide enough for the whole shadow, pixel centres on the detector's
                nu += 2 * max(0, math.ceil((math.hypot(nx, nz) + 2 - nu) / 2))
            self.ideal_shape = (ny, nu)
            entries = 3 * nz * nx  # per view: a voxel's footprint covers at most 3 bins
            self._chunks = _chunks(len(poses), max(1, memory // (entries * 80)))  # the build's temporaries
            self._cache = {} if entries * len(poses) * 16 <= cache else None  # matrix and transpose
        else:
            self.n_samples = math.ceil(2 * math.hypot(nx, ny, nz))
            self._rays_per_chunk = max(1, memory // (self.n_samples * 64))

    # -- public operators -------------------------------------------------------------

    def A(self, volume: torch.Tensor) -> torch.Tensor:
        """Forward projection: ``(nz, ny, nx)`` → ``(n, ny_det, nx_det)``."""
        self._check(volume, self.shape, "volume")
        if self.method == "rays":
            return self._rays_forward(volume)
        ideal = self._slices_forward(volume)
        return self._warp(ideal) if self.warp else ideal

    def A_adjoint(self, images: torch.Tensor) -> torch.Tensor:
        """Back-projection, the exact transpose of :meth:`A`: images → volume."""
        self._check(images, (len(self.poses), *self.detector_shape), "images")
        if self.method == "rays":
            return self._rays_adjoint(images)
        if self.warp:
            images = _transpose(self._warp, images, (len(self.poses), *self.ideal_shape))
        return self.backproject_ideal(images)

    def to_ideal(self, images: torch.Tensor) -> torch.Tensor:
        """Recorded images resampled to the ideal frame of the slice projector (tilt axis
        along v, no shifts but those folded into the matrix): ``(n, ny, nu)``."""
        if self.method != "slices":
            raise ValueError("the ideal frame exists for the slice projector only")
        if not self.warp:
            return images
        _, tilt_axis, sx, sy, _ = self._pose
        return recorded_to_ideal(images, tilt_axis, sx, sy, self.ideal_shape)

    def backproject_ideal(self, ideal: torch.Tensor) -> torch.Tensor:
        """Transpose of the slice matrix alone: ideal-frame images ``(n, ny, nu)`` → volume."""
        nz, ny, nx = self.shape
        out = torch.zeros(nz * nx, ny, dtype=self.dtype, device=self.device)
        for k, views in enumerate(self._chunks):
            _, transposed = self._matrices(k)
            block = ideal[views].permute(0, 2, 1).reshape(-1, ny)  # rows (view, u), columns y
            out += transposed @ block
        return out.reshape(nz, nx, ny).permute(0, 2, 1).contiguous()

    def adjointness_test(self, generator: torch.Generator | None = None) -> float:
        """``|⟨A x, y⟩ − ⟨x, Aᵀ y⟩| / |⟨A x, y⟩|`` for random ``x`` and ``y``."""
        x = torch.rand(self.shape, generator=generator, dtype=self.dtype).to(self.device)
        y = torch.rand((len(self.poses), *self.detector_shape), generator=generator, dtype=self.dtype).to(self.device)
        lhs = (self.A(x) * y).sum()
        rhs = (x * self.A_adjoint(y)).sum()
        return float((lhs - rhs).abs() / lhs.abs())

    # -- slice path ---------------------------------------------------------------------

    def _slices_forward(self, volume: torch.Tensor) -> torch.Tensor:
        nz, ny, nx = self.shape
        columns = volume.permute(0, 2, 1).reshape(nz * nx, ny)  # rows (z, x), columns y
        nu = self.ideal_shape[1]
        out = torch.empty(len(self.poses), ny, nu, dtype=self.dtype, device=self.device)
        for k, views in enumerate(self._chunks):
            forward, _ = self._matrices(k)
            out[views] = (forward @ columns).reshape(-1, nu, ny).permute(0, 2, 1)
        return out

    def _warp(self, ideal: torch.Tensor) -> torch.Tensor:
        _, tilt_axis, sx, sy, _ = self._pose
        return ideal_to_recorded(ideal, tilt_axis, sx, sy, self.detector_shape)

    def _matrices(self, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The strip matrix of chunk ``k`` (rows (view, u), columns (z, x)) and its transpose."""
        if self._cache is not None and k in self._cache:
            return self._cache[k]
        views = self._chunks[k]
        tilt, _, shift_x, _, _ = (t[views] for t in self._pose)
        nz, _, nx = self.shape
        nu = self.ideal_shape[1]
        zc, _, xc = (torch.tensor(c, dtype=torch.float64, device=self.device) for c in voxel_centres(self.shape))
        zz, xx = torch.meshgrid(zc, xc, indexing="ij")
        tilt = tilt.double()[:, None]
        dx = torch.zeros_like(tilt) if self.warp else shift_x.double()[:, None]
        cos, sin = torch.cos(tilt), torch.sin(tilt)
        centre = xx.reshape(1, -1) * cos + zz.reshape(1, -1) * sin + dx  # (V, P) footprint centres
        wide, narrow = torch.maximum(cos.abs(), sin.abs()), torch.minimum(cos.abs(), sin.abs())
        first = torch.floor(centre - (wide + narrow) / 2 + (nu - 1) / 2 + 0.5)
        bins = first[..., None] + torch.arange(3, dtype=torch.float64, device=self.device)  # (V, P, 3)
        lower = bins - (nu - 1) / 2 - 0.5 - centre[..., None]
        weights = _footprint_cdf(lower + 1, wide[..., None], narrow[..., None]) - _footprint_cdf(
            lower, wide[..., None], narrow[..., None])
        keep = (bins >= 0) & (bins < nu) & (weights > 1e-12)
        view_index = torch.arange(len(tilt), device=self.device)[:, None, None].expand_as(bins)
        voxel_index = torch.arange(nz * nx, device=self.device)[None, :, None].expand_as(bins)
        rows = (view_index * nu + bins.long())[keep]
        cols = voxel_index[keep]
        values = weights[keep].to(self.dtype)
        size = (len(tilt) * nu, nz * nx)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*[Ss]parse.*")
            forward, transposed = (_csr(index, values, shape) for index, shape in (
                (torch.stack([rows, cols]), size), (torch.stack([cols, rows]), size[::-1])))
        if self._cache is not None:
            self._cache[k] = (forward, transposed)
        return forward, transposed

    # -- ray path -------------------------------------------------------------------------

    def _ray_chunks(self):
        """``(slice of flat ray indices, origins, directions)`` over all views' pixels."""
        ny, nx = self.detector_shape
        uu, vv = (torch.tensor(c, dtype=self.dtype, device=self.device).reshape(-1)
                  for c in detector_coordinates(ny, nx))
        total = len(self.poses) * ny * nx
        for start in range(0, total, self._rays_per_chunk):
            index = torch.arange(start, min(start + self._rays_per_chunk, total), device=self.device)
            view, pixel = index // (ny * nx), index % (ny * nx)
            origins, directions = rays(*(t[view] for t in self._pose), uu[pixel], vv[pixel])
            yield slice(start, start + len(index)), origins, directions

    def _rays_forward(self, volume: torch.Tensor) -> torch.Tensor:
        field = GridField(volume)
        out = torch.empty(len(self.poses) * self.detector_shape[0] * self.detector_shape[1],
                          dtype=self.dtype, device=self.device)
        for part, origins, directions in self._ray_chunks():
            out[part] = integrate(field, origins, directions, self.shape, self.n_samples)
        return out.reshape(len(self.poses), *self.detector_shape)

    def _rays_adjoint(self, images: torch.Tensor) -> torch.Tensor:
        volume = torch.zeros(self.shape, dtype=self.dtype, device=self.device, requires_grad=True)
        flat = images.reshape(-1)
        with torch.enable_grad():
            field = GridField(volume)
            for part, origins, directions in self._ray_chunks():
                values = integrate(field, origins, directions, self.shape, self.n_samples)
                values.backward(flat[part])
        return volume.grad

    @staticmethod
    def _check(array: torch.Tensor, shape: tuple, what: str) -> None:
        if tuple(array.shape) != tuple(shape):
            raise ValueError(f"{what} of shape {tuple(array.shape)} where the projector expects {tuple(shape)}")


def _footprint_cdf(s: torch.Tensor, wide: torch.Tensor, narrow: torch.Tensor) -> torch.Tensor:
    """CDF of a unit square's projection onto the detector: the convolution of boxes of
    widths ``wide`` = max(|cos θ|, |sin θ|) and ``narrow`` = min(…), a trapezoid of area 1."""
    plateau, edge = (wide - narrow) / 2, (wide + narrow) / 2
    middle = 0.5 + s / wide
    tail = (edge - s.abs()).clamp(min=0) ** 2 / (2 * wide * narrow.clamp(min=1e-12))
    ramp = torch.where(s < 0, tail, 1 - tail)
    return torch.where(s.abs() <= plateau, middle, torch.where(s.abs() >= edge, (s > 0).to(s.dtype), ramp))


def _csr(index: torch.Tensor, values: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    """A CSR matrix from COO entries, with 32-bit indices (half the memory of 64-bit)."""
    matrix = torch.sparse_coo_tensor(index, values, shape).coalesce().to_sparse_csr()
    if matrix.values().numel() >= 2**31:
        return matrix
    return torch.sparse_csr_tensor(matrix.crow_indices().int(), matrix.col_indices().int(), matrix.values(), shape)


def _transpose(linear, y: torch.Tensor, input_shape: tuple) -> torch.Tensor:
    """``linearᵀ y`` for a linear torch function, through autograd."""
    x = torch.zeros(input_shape, dtype=y.dtype, device=y.device, requires_grad=True)
    with torch.enable_grad():
        (grad,) = torch.autograd.grad(linear(x), x, grad_outputs=y)
    return grad


def _chunks(n: int, size: int) -> list[slice]:
    return [slice(i, min(i + size, n)) for i in range(0, n, size)]
