"""Named phantoms built from :mod:`.shapes`, with exact projections and a voxelised truth.

Sizes are set relative to the half-width ``R = size / 2`` of a ``size³`` volume, and every
solid stays inside the cylinder of radius ``R`` about the tilt axis, so no view is
truncated at any tilt.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from scipy.spatial.transform import Rotation

from ..errors import InputError
from ..geometry import Poses, detector_coordinates, view_rays
from ..progress import progress
from .shapes import Shape, cylinder, ellipsoid, faceted


@dataclass
class Phantom:
    """A sample made of solids.

    Attributes:
        shapes: static solids.
        dynamic: ``(shape, amplitude)`` pairs whose density is scaled by ``amplitude(t)``
            at acquisition time ``t`` (the hook for time-varying samples).
    """

    shapes: list[Shape]
    dynamic: list[tuple[Shape, Callable[[float], float]]] = field(default_factory=list)

    def _at(self, t: float) -> list[tuple[Shape, float]]:
        items = [(s, 1.0) for s in self.shapes]
        items += [(s, float(a(t))) for s, a in self.dynamic]
        return [(s, w) for s, w in items if w != 0.0]

    def voxelize(self, shape: tuple[int, int, int], t: float = 0.0, supersample: int = 3) -> np.ndarray:
        """The truth at time ``t`` as a ``(z, y, x)`` float32 volume of partial-volume averages."""
        volume = np.zeros(shape, dtype=np.float64)
        for solid, weight in self._at(t):
            solid.add_to(volume, supersample, scale=weight)
        return volume.astype(np.float32)

    def project(
        self,
        poses: Poses,
        image_shape: tuple[int, int],
        times: np.ndarray | None = None,
        supersample: int = 3,
    ) -> np.ndarray:
        """Exact line integrals, each pixel averaged over ``supersample²`` sub-pixel rays.

        Returns ``(n, ny, nx)`` float32 in line-integral units (density × voxels).
        """
        ny, nx = image_shape
        s = int(supersample)
        uu, vv = detector_coordinates(ny, nx, s)
        u = torch.from_numpy(uu)
        v = torch.from_numpy(vv)
        times = np.zeros(len(poses)) if times is None else np.asarray(times)
        out = np.empty((len(poses), ny, nx), dtype=np.float32)
        for i in progress(range(len(poses)), desc="projecting", unit="view"):
            origins, directions = view_rays(poses, i, u, v)
            total = torch.zeros_like(u)
            for solid, weight in self._at(float(times[i])):
                total += weight * solid.line_integrals(origins, directions)
            out[i] = total.reshape(ny, s, nx, s).mean(dim=(1, 3)).numpy()
        return out


def _random_rotation(rng: np.random.Generator) -> np.ndarray:
    return Rotation.random(random_state=rng).as_matrix()


def nanoparticles(size: int, rng: np.random.Generator) -> Phantom:
    """Supported catalyst: a thin support film (normal along z) carrying particles of
    different densities on both faces, some ellipsoidal, some faceted."""
    R = size / 2
    film_half = 0.05 * R
    shapes = [cylinder((0, 0, 0), 0.85 * R, film_half, density=0.25)]
    placed: list[tuple[np.ndarray, float]] = []
    attempts = 0
    while len(placed) < 14 and attempts < 2000:
        attempts += 1
        r = rng.uniform(0.07, 0.16) * R
        side = rng.choice([-1.0, 1.0])
        xy = rng.uniform(-0.6, 0.6, size=2) * R
        centre = np.array([xy[0], xy[1], side * (film_half + 0.9 * r)])
        if np.hypot(centre[0], centre[2]) + r > 0.92 * R or np.hypot(*xy) > 0.65 * R:
            continue
        if any(np.linalg.norm(centre - c) < r + rc + 0.04 * R for c, rc in placed):
            continue
        placed.append((centre, r))
        density = rng.uniform(0.6, 1.0)
        rot = _random_rotation(rng)
        kind = len(placed) % 3
        if kind == 0:
            axes = r * np.array([1.0, rng.uniform(0.7, 1.0), rng.uniform(0.7, 1.0)])
            shapes.append(ellipsoid(centre, axes, density, rot))
        else:
            shapes.append(faceted(centre, r, density, "cube" if kind == 1 else "octahedron", rot))
    return Phantom(shapes)


def shepp_logan(size: int, rng: np.random.Generator | None = None) -> Phantom:
    """3-D modified Shepp–Logan head (Toft/Schabel parameters). The head's axial plane is
    the x–z plane (the slices in which missing-wedge artefacts show)."""
    # density, semi-axes (a, b, c), centre (x0, y0, z0), rotation about the head's axis (deg)
    table = [
        (1.0, 0.69, 0.92, 0.81, 0.0, 0.0, 0.0, 0),
        (-0.8, 0.6624, 0.874, 0.78, 0.0, -0.0184, 0.0, 0),
        (-0.2, 0.11, 0.31, 0.22, 0.22, 0.0, 0.0, -18),
        (-0.2, 0.16, 0.41, 0.28, -0.22, 0.0, 0.0, 18),
        (0.1, 0.21, 0.25, 0.41, 0.0, 0.35, -0.15, 0),
        (0.1, 0.046, 0.046, 0.05, 0.0, 0.1, 0.25, 0),
        (0.1, 0.046, 0.046, 0.05, 0.0, -0.1, 0.25, 0),
        (0.1, 0.046, 0.023, 0.05, -0.08, -0.605, 0.0, 0),
        (0.1, 0.023, 0.023, 0.02, 0.0, -0.606, 0.0, 0),
        (0.1, 0.023, 0.046, 0.02, 0.06, -0.605, 0.0, 0),
    ]
    R = 0.95 * size / 2
    shapes = []
    for rho, a, b, c, x0, y0, z0, phi in table:
        # head (x, y, z) -> volume (x, z, y): the head's axis becomes the tilt axis y.
        rot_head = Rotation.from_euler("z", phi, degrees=True).as_matrix()
        swap = np.array([[1.0, 0, 0], [0, 0, 1], [0, 1, 0]])
        rot = swap @ rot_head @ swap
        centre = R * np.array([x0, z0, y0])
        axes = R * np.array([a, c, b])
        shapes.append(ellipsoid(centre, axes, rho, rot))
    return Phantom(shapes)


def hyperbranched(size: int, rng: np.random.Generator) -> Phantom:
    """A dense core with rods branching out of it, some rods forking once more."""
    R = size / 2
    shapes = [ellipsoid((0, 0, 0), np.full(3, 0.22 * R), density=0.8)]
    n_arms = 8
    # Fibonacci sphere directions, randomly rotated: well spread, different per seed.
    k = np.arange(n_arms) + 0.5
    polar = np.arccos(1 - 2 * k / n_arms)
    azimuth = np.pi * (1 + 5**0.5) * k
    dirs = np.stack([np.sin(polar) * np.cos(azimuth), np.sin(polar) * np.sin(azimuth), np.cos(polar)], 1)
    dirs = dirs @ _random_rotation(rng).T
    for d in dirs:
        radius = rng.uniform(0.05, 0.07) * R
        start, length = 0.2 * R, rng.uniform(0.40, 0.55) * R
        length = min(length, 0.88 * R - start - radius)
        shapes.append(_rod(start * d, d, length, radius, 0.7))
        for where in (0.55, 0.85)[: rng.integers(1, 3)]:
            # Side branches leave from the parent's surface, so densities barely overlap.
            angle = np.deg2rad(rng.uniform(35, 60))
            branch = _bend(d, angle, rng)
            base = (start + where * length) * d + branch * radius / np.sin(angle)
            b_len = min(rng.uniform(0.18, 0.26) * R, _room(base, branch, 0.88 * R) - 0.7 * radius)
            if b_len > 0.06 * R:
                shapes.append(_rod(base, branch, b_len, 0.7 * radius, 0.7))
    return Phantom(shapes)


def _rod(start: np.ndarray, direction: np.ndarray, length: float, radius: float, density: float) -> Shape:
    """Cylinder from ``start`` along unit ``direction`` for ``length`` voxels."""
    z = direction / np.linalg.norm(direction)
    helper = np.array([1.0, 0, 0]) if abs(z[0]) < 0.9 else np.array([0, 1.0, 0])
    x = np.cross(helper, z)
    x /= np.linalg.norm(x)
    rot = np.stack([x, np.cross(z, x), z], axis=1)
    return cylinder(start + 0.5 * length * z, radius, 0.5 * length, density, rot)


def _bend(direction: np.ndarray, angle: float, rng: np.random.Generator) -> np.ndarray:
    """A unit vector at ``angle`` from ``direction``, in a random azimuth."""
    perp = np.cross(direction, rng.normal(size=3))
    perp /= np.linalg.norm(perp)
    return np.cos(angle) * direction + np.sin(angle) * perp


def _room(start: np.ndarray, direction: np.ndarray, limit: float) -> float:
    """Distance from ``start`` along ``direction`` to the sphere of radius ``limit``."""
    b = start @ direction
    return -b + np.sqrt(max(b * b - (start @ start - limit**2), 0.0))


CONTAMINATION = ("sweep", "uniform")


def sweep_onset(x, half: float, ramp: float):
    """When the ``sweep`` front reaches ``x`` (voxels or Å about the centre, like ``half``,
    the half-width): 0 at −half, ``1 − ramp`` at +half, so that what grows after it has
    ``ramp`` of the acquisition left."""
    return (np.asarray(x) + half) / (2 * half) * (1 - ramp)


def contaminate(phantom: Phantom, size: int, model: str = "sweep", thickness: float = 0.08, density: float = 0.15,
                ramp: float = 0.3) -> Phantom:
    """``phantom`` with a carbon-like layer that grows during acquisition (seed 001): a
    spherical shell of ``thickness`` (× the half-width ``R``) and ``density`` just outside
    the bounding sphere of every solid but the largest (the support). Its amount at
    acquisition time ``t`` ∈ [0, 1] is 0 at t = 0 and 1 at t = 1: ``uniform`` grows on every
    particle at once, linearly; ``sweep`` (the seed's) reaches the particles from −x to +x,
    each growing over ``ramp`` of the acquisition once the front passes it."""
    if model not in CONTAMINATION:
        raise InputError(f"unknown contamination model {model!r}; choose from {', '.join(CONTAMINATION)}")
    R = size / 2
    support = max(phantom.shapes, key=lambda s: float(np.prod(s.half_extent)))
    dynamic = list(phantom.dynamic)
    for solid in phantom.shapes:
        if solid is support:
            continue
        inner = float(np.linalg.norm(solid.half_extent)) / np.sqrt(3) * 1.05
        if model == "uniform":
            def amount(t):
                return float(np.clip(t, 0.0, 1.0))
        else:
            onset = sweep_onset(solid.centre[0], R, ramp)

            def amount(t, onset=onset):
                return float(np.clip((t - onset) / ramp, 0.0, 1.0))
        dynamic += [(ellipsoid(solid.centre, np.full(3, inner + thickness * R), density), amount),
                    (ellipsoid(solid.centre, np.full(3, inner), -density), amount)]
    return Phantom(list(phantom.shapes), dynamic)


PHANTOMS: dict[str, Callable[[int, np.random.Generator], Phantom]] = {
    "nanoparticles": nanoparticles,
    "shepp-logan": shepp_logan,
    "hyperbranched": hyperbranched,
}


def make_phantom(name: str, size: int, seed: int = 0) -> Phantom:
    """The named phantom for a ``size³`` volume; the layout is fixed by ``seed``."""
    if name not in PHANTOMS:
        raise InputError(f"unknown phantom {name!r}; choose one of {', '.join(PHANTOMS)}")
    if size < 8:
        raise InputError(f"phantom size must be at least 8 voxels, got {size}")
    return PHANTOMS[name](size, np.random.default_rng(seed))
