"""Coarse alignment of a tilt series, for errors too large for the INR's gradient-based
refinement (``--align``): the tilt-axis angle and the shifts along the axis from the
common line, the shifts across it from the centre of mass.

Common line: summed across the tilt axis, every view of a parallel-beam series gives the
same profile along the axis (the sample's projection onto that axis), only moved by the
view's shift along it. Centre of mass: summed along the axis, view θ's profile has its
centre of mass at ``x_c cos θ + z_c sin θ`` plus the view's shift across the axis. Both
hold for samples that stay inside the field of view; shifts are found up to what a moved
volume explains (:func:`inrtomo.geometry.shift_gauge`).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import torch

from .data import TiltSeries
from .errors import InputError
from .geometry import Poses, detector_coordinates, recorded_to_ideal, shift_gauge
from .recon.classical import volume_shape
from .recon.inr import INRConfig, train_inr


def _ideal(images: torch.Tensor, tilt_axis: float, shifts: torch.Tensor | None = None) -> torch.Tensor:
    """The views turned into the ideal frame of a tilt axis at ``tilt_axis`` degrees, with
    known ``shifts`` ``(n, 2)`` (pixels) undone if given; resampled by the B-spline
    approximation, so that no angle is favoured by how much its interpolation blurs (with
    bilinear interpolation ψ = 0, which needs none, scores worst)."""
    psi = torch.full((len(images),), np.deg2rad(tilt_axis), dtype=images.dtype)
    zero = torch.zeros_like(psi)
    dx, dy = (zero, zero) if shifts is None else shifts.unbind(1)
    return recorded_to_ideal(images, psi, dx, dy, images.shape[1:], smooth=True)


def _axis_profiles(ideal: torch.Tensor) -> torch.Tensor:
    """Profile derivatives ``(n, ny − 1)`` along the tilt axis of ideal-frame views
    ``(n, ny, nx)``: each summed across the axis inside a soft-edged disc that every turn
    keeps in view (so that no angle is favoured by the corners it loses), differentiated
    (edges agree more sharply, offsets drop out) and scaled to unit norm."""
    ny, nx = ideal.shape[1:]
    uu, vv = (torch.from_numpy(c).to(ideal.dtype) for c in detector_coordinates(ny, nx))
    radius = torch.sqrt(uu**2 + vv**2) / (min(ny, nx) / 2 - 1)
    disc = torch.cos(0.5 * torch.pi * ((radius - 0.5) / 0.5).clamp(0, 1)) ** 2  # 1 inside r/2, tapered to 0 at r
    profiles = torch.diff((ideal * disc).sum(-1), dim=-1)
    return profiles / profiles.norm(dim=-1, keepdim=True).clamp(min=1e-12)


def _correlate(profiles: torch.Tensor, reference: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Shift (pixels, sub-pixel by a parabola through the peak) that best moves
    ``reference`` onto each profile, and the peak's normalised correlation (both from the
    parabola through the peak and its neighbours)."""
    n = profiles.shape[-1]
    size = 2 * n
    spectrum = torch.fft.rfft(profiles, size) * torch.fft.rfft(reference, size).conj()
    cc = torch.fft.irfft(spectrum, size)  # cc[k] = Σ p(v) r(v − k), k mod size
    peak = cc.argmax(-1)
    rows = torch.arange(len(cc))
    left, centre, right = cc[rows, peak - 1], cc[rows, peak], cc[rows, (peak + 1) % size]
    curvature = left - 2 * centre + right
    offset = torch.where(curvature < 0, 0.5 * (left - right) / curvature.clamp(max=-1e-12), torch.zeros_like(centre))
    shift = peak.to(cc.dtype) + offset
    height = centre - 0.25 * (left - right) * offset  # the parabola's vertex
    return torch.where(shift > n, shift - size, shift), height


def tilt_axis_angle(images, angles, search: float = 10.0, step: float = 0.25, shifts=None, around: float = 0.0
                    ) -> float:
    """The tilt-axis angle ψ (degrees, conventions' sign) within ``±search`` of ``around``
    whose profiles along the axis agree best (mean peak correlation with the view nearest
    0°); ``shifts`` ``(n, 2)``, if known, are undone first."""
    images = torch.as_tensor(np.asarray(images), dtype=torch.float64)
    reference = int(np.argmin(np.abs(np.asarray(angles))))
    shifts = None if shifts is None else torch.as_tensor(np.asarray(shifts), dtype=torch.float64)

    def score(psi: float) -> float:
        profiles = _axis_profiles(_ideal(images, psi, shifts))
        return float(_correlate(profiles, profiles[reference])[1].mean())

    grid = around + np.arange(-search, search + step / 2, step)
    scores = np.array([score(psi) for psi in grid])
    best = int(np.argmax(scores))
    if 0 < best < len(grid) - 1:  # parabola through the best grid point and its neighbours
        a, b, c = scores[best - 1:best + 2]
        if a - 2 * b + c < 0:
            return float(grid[best] + 0.5 * step * (a - c) / (a - 2 * b + c))
    return float(grid[best])


def coarse_align(images, angles, tilt_axis: float | None = None, search: float = 10.0, rounds: int = 2,
                 around: float = 0.0) -> Poses:
    """Poses of a tilt series ``(n, ny, nx)`` recorded at tilt ``angles`` (degrees): the
    tilt-axis angle (estimated within ``±search`` degrees of ``around`` unless given) and
    per-view shifts, in the gauge of :func:`inrtomo.geometry.shift_gauge`. The angle and
    the shifts are estimated in turn, ``rounds`` times, each with the other's last
    estimate."""
    images = np.asarray(images, dtype=np.float64)
    angles = np.asarray(angles, dtype=np.float64)
    if images.ndim != 3 or len(images) != len(angles) or len(angles) < 3:
        raise InputError("coarse alignment needs a stack of at least three views with one angle each")
    shifts = None
    for _ in range(rounds if tilt_axis is None else 1):
        psi = tilt_axis_angle(images, angles, search, shifts=shifts, around=around) if tilt_axis is None \
            else float(tilt_axis)
        shifts = _shifts(torch.from_numpy(images), angles, psi)
    return Poses(angles, psi, shifts[:, 0].numpy(), shifts[:, 1].numpy())


def _shifts(stack: torch.Tensor, angles: np.ndarray, psi: float) -> torch.Tensor:
    """Per-view shifts ``(n, 2)`` (pixels) at tilt-axis angle ``psi`` (degrees): along the
    axis from the common line, across it from the centre of mass; gauge-fixed."""
    ideal = _ideal(stack, psi)
    profiles = _axis_profiles(ideal)
    along, _ = _correlate(profiles, profiles[int(np.argmin(np.abs(angles)))])  # e_v
    across = ideal.clamp(min=0).sum(1)  # (n, nx)
    nx = stack.shape[2]
    u = torch.arange(nx, dtype=torch.float64) - (nx - 1) / 2  # detector u of each column
    centre = (across * u).sum(-1) / across.sum(-1).clamp(min=1e-12)  # e_u up to x_c cos θ + z_c sin θ
    c, s = np.cos(np.deg2rad(psi)), np.sin(np.deg2rad(psi))
    dx, dy = c * centre - s * along, s * centre + c * along  # d = R(ψ) e
    psi_t = torch.full((len(stack),), np.deg2rad(psi), dtype=torch.float64)
    return torch.stack(shift_gauge(dx, dy, torch.from_numpy(np.deg2rad(angles)), psi_t), 1)


@dataclass
class Alignment:
    """Poses found by :func:`align_series`: ``coarse`` (:func:`coarse_align`), ``poses``
    (refined by the INR; the coarse ones when not refined) and the INR's training
    ``losses`` per step."""

    coarse: Poses
    poses: Poses
    losses: list[float] = field(default_factory=list)


def align_series(series: TiltSeries, *, tilt_axis: float | None = None, search: float = 10.0,
                 config: INRConfig | None = None, device="cpu", quiet: bool = False) -> Alignment:
    """Coarse alignment of ``series`` (tilt axis searched within ``±search`` degrees of the
    series' own, unless ``tilt_axis`` is given), then an INR fitted from the coarse poses
    that learns the pose groups of ``config.align`` with the volume (skipped when ``config``
    is ``None`` or learns none)."""
    coarse = coarse_align(series.images, series.angles, tilt_axis, search, around=series.tilt_axis_angle)
    if config is None or not config.align_groups:
        return Alignment(coarse, coarse)
    result = train_inr(torch.from_numpy(series.images), coarse, volume_shape(series), config, device=device,
                       quiet=quiet)
    return Alignment(coarse, result.poses, result.losses)


def aligned_stack(series: TiltSeries, poses: Poses) -> TiltSeries:
    """``series`` resampled into the ideal frame of ``poses`` (tilt axis along y, shifts
    undone; bilinear, zero outside the recorded image) at their tilt angles: the stack
    that IMOD's ``newstack -xform`` makes with the ``.xf`` of :func:`inrtomo.io.angles.write_xf`."""
    images = torch.from_numpy(series.images).double()
    psi, dx, dy = (torch.from_numpy(a) for a in (np.deg2rad(poses.tilt_axis), poses.shift_x, poses.shift_y))
    ideal = recorded_to_ideal(images, psi, dx, dy, series.shape[1:])
    return replace(series, images=ideal.float().numpy(), angles=poses.tilt.copy(), tilt_axis_angle=0.0,
                   metadata={**series.metadata, "aligned": True})
