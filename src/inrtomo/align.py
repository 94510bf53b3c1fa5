"""Coarse alignment of a tilt series, for errors too large for the INR's gradient-based
refinement (``--align``): the tilt-axis angle from the common line's Fourier magnitudes,
the shifts along the axis from the common line, the shifts across it from the centre of
mass.

Common line: summed across the tilt axis, every view of a parallel-beam series gives the
same profile along the axis (the sample's projection onto that axis), only moved by the
view's shift along it; in Fourier terms, every view's transform along the axis is the
same line of the volume's transform, up to a phase. Centre of mass: summed along the axis, view θ's profile has its
centre of mass at ``x_c cos θ + z_c sin θ`` plus the view's shift across the axis. Both
hold for samples that stay inside the field of view; shifts are found up to what a moved
volume explains (:func:`inrtomo.geometry.shift_gauge`).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import torch

from . import distributed
from .data import TiltSeries
from .errors import InputError
from .geometry import Poses, detector_coordinates, recorded_to_ideal, shift_gauge
from .recon.classical import volume_shape
from .recon.inr import INRConfig, train_inr


def _ideal(images: torch.Tensor, tilt_axis: float) -> torch.Tensor:
    """The views turned into the ideal frame of a tilt axis at ``tilt_axis`` degrees,
    resampled by the B-spline approximation, which blurs alike at every sub-pixel offset
    (bilinear interpolation blurs views by how far their shifts are from whole pixels)."""
    psi = torch.full((len(images),), np.deg2rad(tilt_axis), dtype=images.dtype)
    zero = torch.zeros_like(psi)
    return recorded_to_ideal(images, psi, zero, zero, images.shape[1:], smooth=True)


def _axis_profiles(ideal: torch.Tensor) -> torch.Tensor:
    """Profile derivatives ``(n, ny − 1)`` along the tilt axis of ideal-frame views
    ``(n, ny, nx)``: each summed across the axis inside a soft-edged disc that every turn
    keeps in view (so that the corners a turn loses do not count), differentiated
    (edges agree more sharply, offsets drop out) and scaled to unit norm."""
    ny, nx = ideal.shape[1:]
    uu, vv = (torch.from_numpy(c).to(ideal.dtype) for c in detector_coordinates(ny, nx))
    radius = torch.sqrt(uu**2 + vv**2) / (min(ny, nx) / 2 - 1)
    disc = torch.cos(0.5 * torch.pi * ((radius - 0.5) / 0.5).clamp(0, 1)) ** 2  # 1 inside r/2, tapered to 0 at r
    profiles = torch.diff((ideal * disc).sum(-1), dim=-1)
    return profiles / profiles.norm(dim=-1, keepdim=True).clamp(min=1e-12)


def _correlate(profiles: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Shift (pixels, sub-pixel by a parabola through the correlation peak) that best moves
    ``reference`` onto each profile."""
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
    return torch.where(shift > n, shift - size, shift)


def _common_line(images: torch.Tensor, tilt_axis: float, kmax: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Fourier transforms ``(n, K)`` of views ``(n, ny, nx)`` along the line through the
    image centre in the direction of a tilt axis at ``tilt_axis`` degrees, at the ``K = 2
    kmax max(ny, nx)`` frequencies ``(K,)`` in ``(0, kmax]`` cycles per pixel, each row
    scaled to unit norm. The exact (non-uniform) transform of the whole image: no
    resampling, so no angle is favoured by interpolation."""
    n, ny, nx = images.shape
    count = int(2 * kmax * max(ny, nx))
    k = torch.linspace(0, kmax, count + 1, dtype=torch.float64)[1:]
    psi = np.deg2rad(tilt_axis)
    u, v = (torch.arange(m, dtype=torch.float64) - (m - 1) / 2 for m in (nx, ny))
    along_u = torch.exp(-2j * torch.pi * k[:, None] * -np.sin(psi) * u)  # (K, nx); axis (u, v) = (−sin ψ, cos ψ)
    along_v = torch.exp(-2j * torch.pi * k[:, None] * np.cos(psi) * v)  # (K, ny)
    lines = torch.einsum("nyk,ky->nk", torch.einsum("nyx,kx->nyk", images.to(torch.complex128), along_u), along_v)
    return lines / lines.abs().norm(dim=-1, keepdim=True).clamp(min=1e-300), k


def _magnitude_spread(lines: torch.Tensor, k: torch.Tensor) -> float:
    """How much the views' common-line magnitudes differ (shifts change only phases)."""
    magnitudes = lines.abs()
    return float(((magnitudes - magnitudes.mean(0)) ** 2).sum())


def _phased_spread(lines: torch.Tensor, k: torch.Tensor, rounds: int = 3) -> float:
    """How much the views' common lines differ once each view's shift along the axis (a
    phase ramp, searched at 0.02 px steps within a quarter of the image) is undone: uses
    the phases too, which halves the noise in ψ."""
    half = len(k) / (4 * float(k[-1]))  # a quarter of the image side, pixels
    trial = torch.arange(-half, half + 1e-9, 0.02, dtype=torch.float64)
    ramps = torch.exp(2j * torch.pi * trial[:, None] * k)  # (T, K)
    reference = lines[len(lines) // 2]
    for _ in range(rounds):  # shift each view onto the reference, then the reference onto their mean
        fit = torch.einsum("nk,tk->nt", lines * reference.conj(), ramps).real
        moved = lines * ramps[fit.argmax(-1)]
        reference = moved.mean(0)
    return float(((moved - reference).abs() ** 2).sum())


def tilt_axis_angle(images, search: float = 10.0, around: float = 0.0, kmax: float = 0.2) -> float:
    """The tilt-axis angle ψ (degrees, conventions' sign) within ``±search`` of ``around``
    by the common line: the views' 2-D Fourier transforms along the tilt axis are all the
    same line of the volume's 3-D transform (central slice theorem), up to a phase ramp
    from each view's shift along the axis. ψ is where they agree best (up to ``kmax``
    cycles per pixel): by magnitude at 1° steps, then within ±1° of that at 0.1°, then
    with phases at 0.1° within ±1° of the best so far, each refined by a parabola through
    the best point and its neighbours."""
    images = torch.as_tensor(np.asarray(images), dtype=torch.float64)
    best = around
    for spread, width, step in ((_magnitude_spread, search, 1.0), (_magnitude_spread, 1.0, 0.1),
                                (_phased_spread, 1.0, 0.1)):
        grid = best + np.arange(-width, width + step / 2, step)
        scores = -np.array([spread(*_common_line(images, psi, kmax)) for psi in grid])
        i = int(np.argmax(scores))
        best = float(grid[i])
        if 0 < i < len(grid) - 1 and scores[i - 1] - 2 * scores[i] + scores[i + 1] < 0:
            a, b, c = scores[i - 1:i + 2]
            best += 0.5 * step * (a - c) / (a - 2 * b + c)
    return best


def coarse_align(images, angles, tilt_axis: float | None = None, search: float = 10.0, around: float = 0.0
                 ) -> Poses:
    """Poses of a tilt series ``(n, ny, nx)`` recorded at tilt ``angles`` (degrees): the
    tilt-axis angle (estimated within ``±search`` degrees of ``around`` unless given) and
    then, at that angle, per-view shifts in the gauge of
    :func:`inrtomo.geometry.shift_gauge`."""
    images = np.asarray(images, dtype=np.float64)
    angles = np.asarray(angles, dtype=np.float64)
    if images.ndim != 3 or len(images) != len(angles) or len(angles) < 3:
        raise InputError("coarse alignment needs a stack of at least three views with one angle each")
    psi = tilt_axis_angle(images, search, around) if tilt_axis is None else float(tilt_axis)
    shifts = _shifts(torch.from_numpy(images), angles, psi)
    return Poses(angles, psi, shifts[:, 0].numpy(), shifts[:, 1].numpy())


def _shifts(stack: torch.Tensor, angles: np.ndarray, psi: float) -> torch.Tensor:
    """Per-view shifts ``(n, 2)`` (pixels) at tilt-axis angle ``psi`` (degrees): along the
    axis from the common line, across it from the centre of mass; gauge-fixed."""
    ideal = _ideal(stack, psi)
    profiles = _axis_profiles(ideal)
    along = _correlate(profiles, profiles[int(np.argmin(np.abs(angles)))])  # e_v
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
    is ``None`` or learns none). Under torchrun the INR's steps are shared by the processes
    (:mod:`inrtomo.distributed`) and every rank returns the same poses."""
    # under torchrun every rank computes it (no rank idles past the collective timeout) and
    # all take rank 0's, so that they train from the very same poses
    coarse = distributed.current().from_main(
        coarse_align(series.images, series.angles, tilt_axis, search, around=series.tilt_axis_angle))
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
