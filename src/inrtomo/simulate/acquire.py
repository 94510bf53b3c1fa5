"""Simulated acquisition: tilt scheme, exact projections, misalignment and electron shot noise."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..acquisition import scheme_times
from ..data import TiltSeries, Volume
from ..errors import InputError
from ..geometry import Poses
from .phantoms import Phantom

SHIFT_MODELS = ("gaussian", "random-walk")


@dataclass
class Acquisition:
    """How the tilt series is recorded.

    Attributes:
        tilt_range: ``(min, max)`` tilt in degrees (both included when on the step grid).
        tilt_step: tilt increment in degrees.
        angles: explicit tilt list in degrees; overrides range and step when given.
        scheme: one of :data:`inrtomo.acquisition.SCHEMES` (``sequential``, ``dose-symmetric``,
            ``golden-ratio`` …; :func:`inrtomo.acquisition.acquisition_order`); sets each view's time.
        fluence: total electron fluence over the series in e/Å², split evenly over the
            views; ``None`` for noise-free data.
        pixel_size: detector pixel (= voxel) size in Å.
        tilt_axis_error: true tilt-axis angle ψ in degrees (the reported one is 0).
        shift_std: RMS per-view image shift in pixels, in x and in y.
        shift_model: ``gaussian`` (independent per view) or ``random-walk`` (drift that
            accumulates in acquisition order, mean removed, scaled to ``shift_std`` RMS).
        tilt_jitter: standard deviation of the error of each reported tilt angle, degrees.
        supersample: sub-pixel rays per pixel side in the exact projections.
    """

    tilt_range: tuple[float, float] = (-60.0, 60.0)
    tilt_step: float = 2.0
    angles: tuple[float, ...] | None = None
    scheme: str = "sequential"
    fluence: float | None = None
    pixel_size: float = 1.0
    tilt_axis_error: float = 0.0
    shift_std: float = 0.0
    shift_model: str = "gaussian"
    tilt_jitter: float = 0.0
    supersample: int = 3

    def nominal_angles(self) -> np.ndarray:
        """The tilt angles the microscope reports, in degrees, ascending unless given."""
        if self.angles is not None:
            angles = np.asarray(self.angles, dtype=np.float64)
        else:
            lo, hi = self.tilt_range
            if not (self.tilt_step > 0 and hi >= lo):
                raise InputError(
                    f"need tilt range MIN ≤ MAX and step > 0, got {lo:g} {hi:g} step {self.tilt_step:g}"
                )
            angles = lo + self.tilt_step * np.arange(int(np.floor((hi - lo) / self.tilt_step + 1e-9)) + 1)
        if angles.size < 2:
            raise InputError("a tilt series needs at least two tilt angles")
        return angles

    def validate(self) -> None:
        """Raise :class:`InputError` for any setting that cannot be simulated."""
        self.nominal_angles()
        if self.fluence is not None and not self.fluence > 0:
            raise InputError(f"fluence must be positive (e/Å²), got {self.fluence:g}")
        if self.shift_model not in SHIFT_MODELS:
            raise InputError(f"unknown shift model {self.shift_model!r}; choose {' or '.join(SHIFT_MODELS)}")
        for name in ("shift_std", "tilt_jitter"):
            if getattr(self, name) < 0:
                raise InputError(f"{name.replace('_', '-')} must not be negative")
        if not self.pixel_size > 0:
            raise InputError("pixel size must be positive (Å)")
        if self.supersample < 1:
            raise InputError("supersample must be at least 1")


@dataclass
class Simulation:
    """What a simulated experiment produced.

    Attributes:
        series: the recorded tilt series with the *nominal* angles and tilt-axis angle.
        truth: the sample at ``t = 0`` voxelised on the default grid.
        poses: the true per-view poses.
        parameters: every setting and the seed, for ``simulation.json``.
    """

    series: TiltSeries
    truth: Volume
    poses: Poses
    parameters: dict


def simulate(phantom: Phantom, size: int, acquisition: Acquisition, seed: int = 0, name: str = "custom") -> Simulation:
    """Record ``phantom`` in a ``size³`` volume on a ``size × size`` detector.

    Noise model: each view receives ``fluence / n`` e/Å², i.e. ``e_px = fluence / n ·
    pixel_size²`` electrons per pixel; the expected count of a pixel is ``e_px`` times its
    line integral relative to the brightest noise-free pixel of the series, the count is
    Poisson-distributed, and the image is scaled back to line-integral units.
    """
    acquisition.validate()
    rng = np.random.default_rng(seed)
    nominal = acquisition.nominal_angles()
    n = nominal.size
    times = scheme_times(nominal, acquisition.scheme)
    true_tilt = nominal + rng.normal(0.0, acquisition.tilt_jitter, n) if acquisition.tilt_jitter else nominal.copy()
    shifts = _shifts(acquisition, times, rng)
    poses = Poses(true_tilt, acquisition.tilt_axis_error, shifts[:, 0], shifts[:, 1])

    clean = phantom.project(poses, (size, size), times, acquisition.supersample)
    dose = None
    images = clean
    if acquisition.fluence is not None:
        per_view = acquisition.fluence / n
        dose = np.full(n, per_view)
        e_px = per_view * acquisition.pixel_size**2
        peak = float(clean.max())
        if peak <= 0:
            raise InputError("the phantom projects to zero everywhere; nothing to add noise to")
        counts = rng.poisson(np.clip(clean, 0, None) * (e_px / peak))
        images = (counts * (peak / e_px)).astype(np.float32)

    truth = Volume(phantom.voxelize((size, size, size), t=0.0), acquisition.pixel_size)
    params = {"phantom": name, "size": size, "seed": seed, **asdict(acquisition)}
    params["angles"] = nominal.tolist()
    series = TiltSeries(
        images, nominal, acquisition.pixel_size, 0.0, times, dose,
        metadata={"source": "inrtomo.simulate", "phantom": name, "seed": seed},
    )
    return Simulation(series, truth, poses, params)


def _shifts(acq: Acquisition, times: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    n = times.size
    if acq.shift_std == 0:
        return np.zeros((n, 2))
    if acq.shift_model == "gaussian":
        return rng.normal(0.0, acq.shift_std, (n, 2))
    order = np.argsort(times, kind="stable")
    walk = np.cumsum(rng.normal(size=(n, 2)), axis=0)
    walk -= walk.mean(axis=0)
    walk *= acq.shift_std / np.sqrt((walk**2).mean(axis=0)).clip(min=1e-12)
    shifts = np.empty_like(walk)
    shifts[order] = walk
    return shifts
