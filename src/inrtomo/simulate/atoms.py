"""Atomic-level sample with growing contamination (seed 001; optional extra ``atoms``:
abTEM and ASE): a double-walled carbon nanotube along the tilt axis (y) holding a Zr/Te
chain, with amorphous carbon atoms arriving on its surface during acquisition.

The volume is abTEM's electrostatic potential (independent atoms, Lobato parametrisation,
finite projection integrated over each voxel-thick slab) divided by the slab thickness:
volts, averaged over each voxel along z. Projections are line integrals of that volume
on a finer grid (the package's projector), averaged over sub-pixels.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from ..errors import InputError
from ..geometry import Poses
from ..projector import Projector
from .phantoms import CONTAMINATION, sweep_onset

ATOMIC_PHANTOMS = ("cnt-contamination",)
INNER, OUTER = (8, 8), (13, 13)
"""Chiral indices of the nanotube's walls (radii 5.4 and 8.8 Å, 3.4 Å apart)."""
LAYER = (2.0, 2.5)
"""Amorphous carbon: gap above the outer wall and thickness of the layer it fills, Å."""
CARBON_DENSITY = 0.1
"""Amorphous carbon atoms per Å³ (about 2 g/cm³)."""
MIN_DISTANCE = 1.4
"""Closest two carbon atoms of the layer may come, Å (a C–C bond)."""
BATCHES = 16
"""The carbon arrives in this many steps of time (each a potential computed once)."""


def _abtem():
    try:
        import abtem
        import ase
    except ImportError:
        raise InputError("the atomic-level phantom needs abTEM and ASE: pip install 'inrtomo[atoms]'") from None
    return abtem, ase


@dataclass
class AtomicPhantom:
    """``static`` atoms present throughout plus ``carbon`` atoms, each present from its
    ``arrival`` time on (acquisition time in [0, 1], in :data:`BATCHES` steps), in a cube
    of ``size`` voxels of ``voxel`` Å centred on the origin. Positions are ``(n, 3)``
    ``(x, y, z)`` in Å about the volume centre. Interface of :class:`.Phantom`
    (``voxelize``, ``project``); potentials are computed on first use and kept."""

    static: tuple[list[str], np.ndarray]
    carbon: np.ndarray
    arrival: np.ndarray
    size: int
    voxel: float
    _cache: dict = field(default_factory=dict, repr=False)

    def without_carbon(self) -> AtomicPhantom:
        """The same sample with no carbon arriving (the uncontaminated reference)."""
        return AtomicPhantom(self.static, self.carbon[:0], self.arrival[:0], self.size, self.voxel)

    def _levels(self, t) -> np.ndarray:
        """How many arrival batches have come by time(s) ``t``."""
        return np.floor(np.asarray(t, dtype=np.float64) * BATCHES + 1e-9).clip(0, BATCHES).astype(int)

    def _potential(self, level: int, fine: int) -> np.ndarray:
        """The volume ``(z, y, x)`` on a grid ``fine`` times finer, with the carbon of the
        first ``level`` batches."""
        key = (level, fine)
        if key not in self._cache:
            if level == 0:
                symbols, positions = self.static
                self._cache[key] = self._compute(symbols, positions, fine)
            else:
                batch = self._levels(self.arrival) == level
                previous = self._potential(level - 1, fine)
                added = self._compute(["C"] * int(batch.sum()), self.carbon[batch], fine) if batch.any() else 0.0
                self._cache[key] = previous + added
        return self._cache[key]

    def _compute(self, symbols: list[str], positions: np.ndarray, fine: int) -> np.ndarray:
        abtem, ase = _abtem()
        n, step = self.size * fine, self.voxel / fine
        side = n * step
        # abTEM samples x, y at i·step and integrates slab k over [k, k + 1)·step along z
        shift = np.array([(n - 1) / 2 * step, (n - 1) / 2 * step, n / 2 * step])
        atoms = ase.Atoms(symbols, positions=positions + shift, cell=[side, side, side], pbc=False)
        potential = abtem.Potential(atoms, gpts=(n, n), slice_thickness=step, projection="finite",
                                    parametrization="lobato", periodic=False)
        with abtem.config.set({"diagnostics.progress_bar": False}):
            array = np.asarray(potential.build().compute().array, dtype=np.float32)  # (z, x, y)
        if array.shape != (n, n, n):
            raise RuntimeError(f"abTEM gave a potential of shape {array.shape}, expected {(n, n, n)}")
        return np.ascontiguousarray(array.transpose(0, 2, 1)) / step

    def voxelize(self, shape: tuple[int, int, int], t: float = 0.0, supersample: int = 2) -> np.ndarray:
        """The sample at time ``t``: ``(z, y, x)`` float32 volts, each voxel the mean of
        ``supersample³`` finer ones."""
        if tuple(shape) != (self.size,) * 3:
            raise InputError(f"this atomic phantom was built for {self.size}³ voxels, not {tuple(shape)}")
        fine = _fineness(supersample)
        volume = self._potential(int(self._levels(t)), fine)
        n = self.size
        return volume.reshape(n, fine, n, fine, n, fine).mean(axis=(1, 3, 5)).astype(np.float32)

    def project(self, poses: Poses, image_shape: tuple[int, int], times: np.ndarray | None = None,
                supersample: int = 2) -> np.ndarray:
        """Line integrals ``(n, ny, nx)`` float32 (volts × voxels) of the sample at each
        view's time, from a grid and detector ``supersample`` (at most 2) times finer."""
        if tuple(image_shape) != (self.size, self.size):
            raise InputError(f"this atomic phantom was built for {self.size}² images, not {tuple(image_shape)}")
        fine = _fineness(supersample)
        times = np.zeros(len(poses)) if times is None else np.asarray(times)
        levels = self._levels(times)
        out = np.empty((len(poses), *image_shape), dtype=np.float32)
        n, (ny, nx) = self.size * fine, image_shape
        for level in np.unique(levels):
            views = np.flatnonzero(levels == level)
            part = poses.subset(views)
            part = Poses(part.tilt, part.tilt_axis, part.shift_x * fine, part.shift_y * fine, part.out_of_plane)
            images = Projector((n, n, n), part, (n, n)).A(torch.from_numpy(self._potential(int(level), fine)))
            out[views] = images.reshape(len(views), ny, fine, nx, fine).mean(dim=(2, 4)).numpy() / fine
        return out


def _fineness(supersample: int) -> int:
    return max(1, min(int(supersample), 2))


def cnt_contamination(size: int, voxel: float = 0.5, model: str = "sweep", seed: int = 0, ramp: float = 0.3
                      ) -> AtomicPhantom:
    """Seed 001's sample in a ``size³`` cube of ``voxel`` Å: a (8,8)@(13,13) double-walled
    carbon nanotube along y, 70 % of the cube long, around a zigzag Zr–Te chain on its
    axis (Zr every 3.4 Å, Te 1.8 Å off the axis between them: a stand-in for the seed's
    encapsulated structure), and a layer of amorphous carbon on the outer wall (atoms at
    random, no two closer than 1.4 Å) that arrives during acquisition: ``sweep`` from −x
    to +x (each atom within ``ramp`` of the acquisition once the front passes it) or
    ``uniform`` (each atom at a uniformly random time). ``seed`` fixes the carbon."""
    if model not in CONTAMINATION:
        raise InputError(f"unknown contamination model {model!r}; choose from {', '.join(CONTAMINATION)}")
    _, ase = _abtem()
    from ase.build import nanotube

    half = size * voxel / 2
    n, m = OUTER
    outer_radius = 1.42 * np.sqrt(3 * (n * n + n * m + m * m)) / (2 * np.pi)
    reach = outer_radius + sum(LAYER) + 1.5  # the layer plus the potential's tail
    if reach > half:
        raise InputError(f"the nanotube and its carbon layer need a cube of at least {2 * reach:.1f} Å; "
                         f"{size} voxels of {voxel:g} Å give {2 * half:.1f} Å: raise the size or the pixel size")
    length = 1.4 * half
    symbols, positions = [], []
    for wall in (INNER, OUTER):
        tube = nanotube(*wall, length=max(1, int(length / 2.46)), bond=1.42)
        xyz = tube.positions.copy()
        xyz[:, 2] -= xyz[:, 2].mean()
        symbols += tube.get_chemical_symbols()
        positions.append(xyz[:, [0, 2, 1]])  # the tube's axis (ASE's z) along y
    spacing = 3.4
    ys = np.arange(-(length / 2) + spacing / 2, length / 2 - spacing / 2, spacing)
    for k, y in enumerate(ys):
        symbols += ["Zr", "Te"]
        side = 1.8 if k % 2 == 0 else -1.8
        positions.append(np.array([[0.0, y, 0.0], [side, y + spacing / 2, 0.0]]))
    static = (symbols, np.concatenate(positions))

    rng = np.random.default_rng(seed)
    inner, thickness = outer_radius + LAYER[0], LAYER[1]
    volume = np.pi * ((inner + thickness) ** 2 - inner**2) * length
    wanted = int(CARBON_DENSITY * volume)
    carbon = np.empty((0, 3))
    for _ in range(200):
        if len(carbon) >= wanted:
            break
        r = np.sqrt(rng.uniform(inner**2, (inner + thickness) ** 2, 4 * wanted))
        phi = rng.uniform(0, 2 * np.pi, r.size)
        candidates = np.stack([r * np.cos(phi), rng.uniform(-length / 2, length / 2, r.size), r * np.sin(phi)], 1)
        for point in candidates:
            if len(carbon) >= wanted:
                break
            if not len(carbon) or np.min(np.sum((carbon - point) ** 2, axis=1)) >= MIN_DISTANCE**2:
                carbon = np.vstack([carbon, point])
    if model == "uniform":
        arrival = rng.uniform(0, 1, len(carbon))
    else:
        arrival = sweep_onset(carbon[:, 0], half, ramp) + rng.uniform(0, ramp, len(carbon))
    # in batches: an atom is present from the first batch time at or after its arrival
    arrival = np.ceil(arrival * BATCHES) / BATCHES
    return AtomicPhantom(static, carbon, arrival.clip(1 / BATCHES, 1.0), size, voxel)
