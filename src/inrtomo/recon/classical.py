"""Classical reconstruction of a tilt series (WBP, SIRT) on the default or a chosen grid."""
from __future__ import annotations

import torch

from ..data import TiltSeries, Volume
from ..errors import InputError
from ..geometry import Poses
from ..projector import Projector
from .sirt import sirt
from .wbp import wbp

METHODS = ("wbp", "sirt")


def volume_shape(series: TiltSeries, shape=None) -> tuple[int, int, int]:
    """``shape`` checked, or the default grid ``(nx, ny, nx)`` of an ``(n, ny, nx)`` series."""
    if shape is None:
        _, ny, nx = series.shape
        return (nx, ny, nx)
    shape = tuple(int(s) for s in shape)
    if len(shape) != 3 or min(shape) < 1:
        raise InputError(f"--shape needs three positive sizes Z Y X, got {shape}")
    return shape


def series_poses(series: TiltSeries, poses: Poses | None) -> Poses:
    """``poses`` checked against ``series`` (one per view), or its nominal poses (its angles
    and tilt-axis angle, no shifts)."""
    poses = Poses.nominal(series.angles, series.tilt_axis_angle) if poses is None else poses
    if len(poses) != series.n_views:
        raise InputError(f"{len(poses)} poses for {series.n_views} images; give one pose per view")
    return poses


def reconstruct(series: TiltSeries, poses: Poses | None = None, *, method: str = "sirt", shape=None,
                device="cpu", iterations: int = 100, tol: float = 1e-4, positivity: bool = True,
                window: str = "ramp", quiet: bool = False) -> tuple[Volume, dict]:
    """Reconstruct ``series`` at ``poses`` (default: its nominal angles and tilt-axis angle).

    Returns the volume (voxel size = pixel size) and a summary for the run record."""
    if method not in METHODS:
        raise InputError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")
    poses = series_poses(series, poses)
    shape = volume_shape(series, shape)
    projector = Projector(shape, poses, series.shape[1:], device=device)
    images = torch.from_numpy(series.images).to(projector.device)
    summary = {"method": method, "shape": list(shape), "projector": projector.method, "device": str(projector.device)}
    if method == "wbp":
        data = wbp(projector, images, window)
        summary["filter"] = window
    else:
        result = sirt(projector, images, iterations, positivity=positivity, tol=tol, quiet=quiet)
        data = result.volume
        summary.update(iterations=result.iterations, stopped_early=result.stopped_early,
                       relative_residual=result.residuals[-1], positivity=positivity, tol=tol)
    return Volume(data.cpu().numpy(), series.pixel_size), summary


def reproject(volume: Volume, poses: Poses, detector_shape, device="cpu") -> torch.Tensor:
    """Projections ``(n, ny_det, nx_det)`` of ``volume`` at ``poses``."""
    projector = Projector(volume.shape, poses, detector_shape, device=device)
    return projector.A(torch.from_numpy(volume.data).to(projector.device)).cpu()
