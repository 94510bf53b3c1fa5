"""Quality figures exactly as ``docs/conventions.md`` defines them.

All functions take ``(z, y, x)`` arrays; the tilt axis is y, so the x–z slices are
``volume[:, j, :]``.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage
from skimage.metrics import structural_similarity

from .errors import InputError


def _check(rec: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rec, truth = np.asarray(rec, dtype=np.float64), np.asarray(truth, dtype=np.float64)
    if rec.shape != truth.shape:
        raise InputError(f"reconstruction shape {rec.shape} differs from truth shape {truth.shape}")
    return rec, truth


def data_range(truth: np.ndarray) -> float:
    r = float(np.max(truth) - np.min(truth))
    if r <= 0:
        raise InputError("the truth is constant; quality figures need a non-constant truth")
    return r


def ssim(rec: np.ndarray, truth: np.ndarray) -> float:
    """Mean 2-D SSIM (scikit-image defaults, ``data_range`` of the truth) over the x–z
    slices that contain any of the truth's support (non-zero voxels)."""
    rec, truth = _check(rec, truth)
    dr = data_range(truth)
    support = np.flatnonzero(np.any(truth != 0, axis=(0, 2)))
    if support.size == 0:
        support = np.arange(truth.shape[1])
    if min(truth.shape[0], truth.shape[2]) < 7:
        raise InputError("SSIM needs x–z slices of at least 7 × 7 voxels")
    return float(np.mean([structural_similarity(truth[:, j, :], rec[:, j, :], data_range=dr) for j in support]))


def psnr(rec: np.ndarray, truth: np.ndarray) -> float:
    """Peak SNR in dB over the whole volume, with the truth's data range as the peak."""
    rec, truth = _check(rec, truth)
    mse = float(np.mean((rec - truth) ** 2))
    return float("inf") if mse == 0 else float(10 * np.log10(data_range(truth) ** 2 / mse))


def nrmse(rec: np.ndarray, truth: np.ndarray) -> float:
    """‖rec − truth‖ / ‖truth‖."""
    rec, truth = _check(rec, truth)
    return float(np.linalg.norm(rec - truth) / np.linalg.norm(truth))


def _layer(grown: np.ndarray) -> np.ndarray:
    """The voxels where the contamination ``grown`` exceeds 5 % of its peak."""
    return grown > 0.05 * grown.max()


def contamination_left(clean: np.ndarray, truth: np.ndarray, grown: np.ndarray, margin: float = 3) -> float:
    """Contamination mass kept in a ``clean`` reconstruction: ``clean − truth`` summed with
    its sign over the voxels of the contamination ``grown`` (all ``(z, y, x)``) and those
    within ``margin`` voxels of them, as a fraction of the contamination's mass. Blur of
    the particles' surfaces moves mass across them but keeps it, so it cancels in the sum
    (a reconstruction of the uncontaminated sample scores about 0 ± 0.07). 0: none kept; a
    static fit of a layer that grows steadily keeps about half."""
    clean, truth = _check(clean, truth)
    grown = np.asarray(grown, dtype=np.float64)
    near = ndimage.distance_transform_edt(~_layer(grown)) <= margin
    return float((clean - truth)[near].sum() / grown.sum())


def contamination_excess(clean: np.ndarray, truth: np.ndarray, grown: np.ndarray) -> float:
    """The positive excess of ``clean`` over ``truth`` in the voxels of the contamination
    ``grown`` only, as a fraction of its mass: :func:`contamination_left` without the
    margin and the cancelling, so it also counts the blur of the surfaces the layer covers
    (0.1–0.3 on uncontaminated 32³ nanoparticles)."""
    clean, truth = _check(clean, truth)
    grown = np.asarray(grown, dtype=np.float64)
    return float(np.clip(clean - truth, 0, None)[_layer(grown)].sum() / grown.sum())


def fsc(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fourier shell correlation of two volumes of equal shape.

    Returns ``(frequency, fsc)``: shell centres in cycles per voxel (0 … 0.5) and the
    correlation of each shell."""
    a, b = _check(a, b)
    fa, fb = np.fft.fftn(a), np.fft.fftn(b)
    grids = np.meshgrid(*(np.fft.fftfreq(n) for n in a.shape), indexing="ij")
    radius = np.sqrt(sum(g**2 for g in grids))
    n_shells = min(a.shape) // 2
    shell = np.minimum(np.round(radius * 2 * n_shells).astype(int), n_shells + 1)
    num = np.bincount(shell.ravel(), (fa * np.conj(fb)).real.ravel(), n_shells + 2)
    pa = np.bincount(shell.ravel(), (np.abs(fa) ** 2).ravel(), n_shells + 2)
    pb = np.bincount(shell.ravel(), (np.abs(fb) ** 2).ravel(), n_shells + 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        curve = num / np.sqrt(pa * pb)
    freq = np.arange(n_shells + 1) / (2 * n_shells)
    return freq[1:], np.nan_to_num(curve[1 : n_shells + 1])


def fsc_resolution(a: np.ndarray, b: np.ndarray, threshold: float, voxel_size: float = 1.0) -> dict:
    """Resolution where the FSC first falls below ``threshold`` (linear interpolation).

    Returns ``{"voxels": …, "angstrom": …}``; the Nyquist limit (2 voxels) when it never falls."""
    freq, curve = fsc(a, b)
    below = np.flatnonzero(curve < threshold)
    if below.size == 0:
        f = freq[-1]
    elif below[0] == 0:
        f = freq[0]
    else:
        i = below[0]
        f0, f1, c0, c1 = freq[i - 1], freq[i], curve[i - 1], curve[i]
        f = f0 + (c0 - threshold) / (c0 - c1) * (f1 - f0)
    return {"voxels": float(1 / f), "angstrom": float(voxel_size / f)}


def heldout_error(predicted: np.ndarray, measured: np.ndarray) -> float:
    """NRMSE of held-out images against their prediction after a least-squares gain and
    offset (``measured ≈ g · predicted + c``), as for held-out projection error."""
    p = np.asarray(predicted, dtype=np.float64).ravel()
    m = np.asarray(measured, dtype=np.float64).ravel()
    design = np.stack([p, np.ones_like(p)], axis=1)
    coef, *_ = np.linalg.lstsq(design, m, rcond=None)
    return float(np.linalg.norm(design @ coef - m) / np.linalg.norm(m))


def holdout_split(n_views: int, every: int) -> tuple[np.ndarray, np.ndarray]:
    """``(train, held_out)`` view indices, holding out every ``every``-th view (from view
    ``every // 2``, so the extreme tilts stay in training)."""
    if every < 2 or every > n_views:
        raise InputError(f"--holdout must be between 2 and the number of views ({n_views}), got {every}")
    held = np.arange(every // 2, n_views, every)
    return np.setdiff1d(np.arange(n_views), held), held


def all_metrics(rec: np.ndarray, truth: np.ndarray, voxel_size: float = 1.0) -> dict:
    """Every figure against a known truth, as a flat dict."""
    r143 = fsc_resolution(rec, truth, 0.143, voxel_size)
    r05 = fsc_resolution(rec, truth, 0.5, voxel_size)
    return {
        "ssim": ssim(rec, truth),
        "psnr": psnr(rec, truth),
        "nrmse": nrmse(rec, truth),
        "fsc_0.143_angstrom": r143["angstrom"],
        "fsc_0.143_voxels": r143["voxels"],
        "fsc_0.5_angstrom": r05["angstrom"],
        "fsc_0.5_voxels": r05["voxels"],
    }
