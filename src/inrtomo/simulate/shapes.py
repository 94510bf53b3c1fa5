"""Convex solids of constant density with exact line integrals and partial-volume voxelisation.

A :class:`Shape` is the set of points whose local coordinates ``p = Rᵀ (x − c)`` satisfy
``Σ (p_i / a_i)² ≤ 1`` (a quadric; an infinite semi-axis drops its term) and
``n_k · p ≤ h_k`` for every face plane. Ellipsoids, boxes, finite cylinders and faceted
particles (sphere ∩ polyhedron) are all of this form, and so the chord of any ray through
any of them is an interval found in closed form. Coordinates are ``(x, y, z)`` in voxels
from the volume centre; a line integral is density × chord length in voxels.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..geometry import voxel_centres


@dataclass(frozen=True)
class Shape:
    """A convex constant-density solid.

    Attributes:
        density: value inside (overlapping shapes add).
        centre: ``(3,)`` ``(x, y, z)`` voxels.
        rotation: ``(3, 3)`` local-to-volume rotation (columns are the local axes).
        axes: ``(3,)`` quadric semi-axes in voxels; ``inf`` for no bound along that axis.
        normals: ``(m, 3)`` outward face normals in the local frame.
        offsets: ``(m,)`` face distances from the centre, voxels.
        half_extent: ``(3,)`` half-size of an axis-aligned box that contains the solid.
    """

    density: float
    centre: np.ndarray
    rotation: np.ndarray
    axes: np.ndarray
    normals: np.ndarray
    offsets: np.ndarray
    half_extent: np.ndarray

    def line_integrals(self, origins: torch.Tensor, directions: torch.Tensor) -> torch.Tensor:
        """Exact ∫ f ds along rays ``origins + s · directions`` (unit directions), shape ``(*S,)``.

        Only rays that pass within the bounding sphere are evaluated."""
        out = torch.zeros(origins.shape[:-1], dtype=origins.dtype, device=origins.device)
        rel = torch.as_tensor(self.centre, dtype=origins.dtype, device=origins.device) - origins
        along = (rel * directions).sum(-1)
        near_enough = (rel**2).sum(-1) - along**2 <= float((self.half_extent**2).sum()) + 1e-9
        if near_enough.any():
            near, far = self._interval(origins[near_enough], directions[near_enough])
            out[near_enough] = self.density * torch.clamp(far - near, min=0)
        return out

    def _interval(self, origins: torch.Tensor, directions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Ray parameters ``(near, far)`` where each ray enters and leaves; ``far < near``
        when it misses."""
        dtype = origins.dtype
        rot = torch.as_tensor(self.rotation, dtype=dtype, device=origins.device)
        o = (origins - torch.as_tensor(self.centre, dtype=dtype, device=origins.device)) @ rot
        d = directions @ rot
        big = torch.finfo(dtype).max / 4
        near = torch.full(o.shape[:-1], -big, dtype=dtype, device=o.device)
        far = torch.full_like(near, big)
        inv = torch.as_tensor(_inverse_axes(self.axes), dtype=dtype, device=o.device)
        if torch.any(inv > 0):
            qa = ((d * inv) ** 2).sum(-1)
            qb = (o * d * inv**2).sum(-1)
            qc = ((o * inv) ** 2).sum(-1) - 1
            disc = qb**2 - qa * qc
            hit = (disc >= 0) & (qa > 0)
            root = torch.sqrt(torch.clamp(disc, min=0))
            safe_a = torch.where(qa > 0, qa, torch.ones_like(qa))
            near = torch.where(hit, (-qb - root) / safe_a, near)
            far = torch.where(hit, (-qb + root) / safe_a, far)
            # Parallel to an unbounded axis: inside for all s, or never.
            miss = (~hit & (qa > 0)) | ((qa == 0) & (qc > 0))
            far = torch.where(miss, -big, far)
        for n, h in zip(self.normals, self.offsets):
            n_t = torch.as_tensor(n, dtype=dtype, device=o.device)
            no, nd = o @ n_t, d @ n_t
            limit = (h - no) / torch.where(nd == 0, torch.ones_like(nd), nd)
            far = torch.where(nd > 0, torch.minimum(far, limit), far)
            near = torch.where(nd < 0, torch.maximum(near, limit), near)
            far = torch.where((nd == 0) & (no > h), -big, far)
        return near, far

    def add_to(self, volume: np.ndarray, supersample: int = 3, scale: float = 1.0) -> None:
        """Add ``scale · density ×`` the fraction of each voxel inside the solid to ``volume``
        ``(z, y, x)``. The fraction is exact along z (chords of rays parallel to z) and
        averaged over ``supersample²`` sub-voxel columns in x and y; voxels outside the
        solid's bounding box are not touched."""
        s = int(supersample)
        offsets = (np.arange(s) + 0.5) / s - 0.5
        ranges, centres = [], []
        for axis, c in zip((2, 1, 0), voxel_centres(volume.shape)):  # z, y, x
            lo = self.centre[axis] - self.half_extent[axis]
            hi = self.centre[axis] + self.half_extent[axis]
            idx = np.flatnonzero((c + 0.5 >= lo) & (c - 0.5 <= hi))
            if idx.size == 0:
                return
            ranges.append(idx)
            centres.append(c[idx])
        (kz, jy, ix), (cz, cy, cx) = ranges, centres
        yy, xx = np.meshgrid((cy[:, None] + offsets).ravel(), (cx[:, None] + offsets).ravel(), indexing="ij")
        origins = torch.from_numpy(np.stack([xx, yy, np.zeros_like(xx)], axis=-1))
        near, far = self._interval(origins, torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64).expand_as(origins))
        z = torch.from_numpy(cz)[:, None, None]
        overlap = torch.clamp(torch.minimum(far, z + 0.5) - torch.maximum(near, z - 0.5), min=0)
        frac = overlap.reshape(kz.size, jy.size, s, ix.size, s).mean(dim=(2, 4)).numpy()
        volume[kz[0] : kz[-1] + 1, jy[0] : jy[-1] + 1, ix[0] : ix[-1] + 1] += scale * self.density * frac


def _inverse_axes(axes: np.ndarray) -> np.ndarray:
    axes = np.asarray(axes, dtype=np.float64)
    return np.where(np.isinf(axes), 0.0, 1.0 / axes)


def _vec(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float64).reshape(3)


def _rot(rotation) -> np.ndarray:
    return np.eye(3) if rotation is None else np.asarray(rotation, dtype=np.float64).reshape(3, 3)


def ellipsoid(centre, axes, density: float, rotation=None) -> Shape:
    """Ellipsoid with semi-axes ``axes`` (voxels) along the local axes."""
    rot, axes = _rot(rotation), _vec(axes)
    half = np.sqrt(((rot * axes) ** 2).sum(axis=1))
    return Shape(float(density), _vec(centre), rot, axes, np.zeros((0, 3)), np.zeros(0), half)


def box(centre, half_sizes, density: float, rotation=None) -> Shape:
    """Rectangular box with half side lengths ``half_sizes`` (voxels)."""
    rot, h = _rot(rotation), _vec(half_sizes)
    normals = np.concatenate([np.eye(3), -np.eye(3)])
    return Shape(float(density), _vec(centre), rot, np.full(3, np.inf), normals, np.tile(h, 2), np.abs(rot) @ h)


def cylinder(centre, radius: float, half_length: float, density: float, rotation=None) -> Shape:
    """Finite circular cylinder along the local z axis, flat ends."""
    rot = _rot(rotation)
    axis = rot[:, 2]
    half = np.abs(axis) * half_length + radius * np.sqrt(np.clip(1 - axis**2, 0, 1))
    normals = np.array([[0.0, 0, 1], [0, 0, -1]])
    return Shape(
        float(density), _vec(centre), rot, np.array([radius, radius, np.inf]), normals,
        np.full(2, float(half_length)), half,
    )


def faceted(centre, radius: float, density: float, facets: str = "cube", rotation=None) -> Shape:
    """A faceted particle: a sphere of ``radius`` cut by the faces of a cube or an octahedron
    (inscribed distance ``0.82 · radius``), like a truncated crystal."""
    if facets == "cube":
        normals = np.concatenate([np.eye(3), -np.eye(3)])
    elif facets == "octahedron":
        signs = np.array(np.meshgrid([-1, 1], [-1, 1], [-1, 1], indexing="ij")).reshape(3, -1).T
        normals = signs / np.sqrt(3)
    else:
        raise ValueError(f"unknown facets {facets!r}")
    rot = _rot(rotation)
    return Shape(
        float(density), _vec(centre), rot, np.full(3, float(radius)), normals,
        np.full(len(normals), 0.82 * radius), np.full(3, float(radius)),
    )
