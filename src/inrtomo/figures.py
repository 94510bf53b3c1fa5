"""Pictures a person would rather look at than read."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .io.common import atomic_output  # noqa: E402


def orthoslices(volumes: dict[str, np.ndarray], path, title: str = "") -> None:
    """Central x–y, x–z (the missing-wedge view) and y–z slices of each ``(z, y, x)``
    volume, one row per volume, on the first volume's grey scale; PNG, atomically."""
    names = list(volumes)
    ref = volumes[names[0]]
    lo, hi = float(ref.min()), float(ref.max())
    fig, axes = plt.subplots(len(names), 3, figsize=(9, 3 * len(names)), squeeze=False)
    for row, name in enumerate(names):
        vol = volumes[name]
        nz, ny, nx = vol.shape
        panels = (
            (vol[nz // 2], "x–y (z = 0)"),
            (vol[:, ny // 2, :], "x–z (y = 0): wedge view"),
            (vol[:, :, nx // 2], "y–z (x = 0)"),
        )
        for col, (image, label) in enumerate(panels):
            ax = axes[row, col]
            ax.imshow(image, cmap="gray", vmin=lo, vmax=hi, origin="lower")
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(label, fontsize=9)
            if col == 0:
                ax.set_ylabel(name)
    if title:
        fig.suptitle(title)
    _save(fig, path)


def loss_curve(losses: list[float], heldout: list[tuple[int, float]], path, title: str = "") -> None:
    """Training loss per step and held-out loss at its evaluation steps, log scale; PNG,
    atomically."""
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.semilogy(np.arange(1, len(losses) + 1), losses, lw=0.8, label="training batch")
    if heldout:
        steps, values = zip(*heldout)
        ax.semilogy(steps, values, "o-", label="held-out pixels")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.legend()
    if title:
        ax.set_title(title)
    _save(fig, path)


def pose_corrections(nominal, coarse, final, losses: list[float], path, title: str = "") -> None:
    """What alignment changed, per view against its tilt angle: shifts (pixels) and angle
    corrections (degrees; tilt axis ψ and tilt θ, each less its nominal value) of the
    ``coarse`` and ``final`` :class:`~inrtomo.geometry.Poses` against ``nominal``, and
    the training loss per step if any; PNG, atomically."""
    panels = 3 if losses else 2
    fig, axes = plt.subplots(1, panels, figsize=(4.2 * panels, 3.6))
    tilt = nominal.tilt
    shown = ((coarse, dict(ls=":", alpha=0.6), "coarse"), (final, dict(ls="-", marker="."), "refined"))
    for poses, style, name in shown[1:] if final is coarse else shown:
        axes[0].plot(tilt, poses.shift_x, color="C0", label=f"dx, {name}", **style)
        axes[0].plot(tilt, poses.shift_y, color="C1", label=f"dy, {name}", **style)
        axes[1].plot(tilt, poses.tilt_axis - nominal.tilt_axis, color="C2", label=f"Δψ, {name}", **style)
        axes[1].plot(tilt, poses.tilt - nominal.tilt, color="C3", label=f"Δθ, {name}", **style)
    axes[0].set_ylabel("shift (px)")
    axes[1].set_ylabel("correction (°)")
    for ax in axes[:2]:
        ax.set_xlabel("nominal tilt θ (°)")
        ax.axhline(0, color="0.7", lw=0.6)
        ax.legend(fontsize=7)
    if losses:
        axes[2].semilogy(np.arange(1, len(losses) + 1), losses, lw=0.8)
        axes[2].set_xlabel("INR step")
        axes[2].set_ylabel("training loss")
    if title:
        fig.suptitle(title)
    _save(fig, path)


def time_strip(times, volumes: np.ndarray, contamination: np.ndarray, path, title: str = "") -> None:
    """A dynamic sample over time: for each time (columns), the x–z image ``(t, z, x)`` of
    the volume's maximum along y (top row, one grey scale) and of the contamination's
    (bottom row, its own scale); PNG, atomically."""
    rows = (("volume", volumes, "gray"), ("contamination", contamination, "magma"))
    fig, axes = plt.subplots(2, len(times), figsize=(2.2 * len(times) + 0.5, 4.6), squeeze=False)
    for row, (name, views, cmap) in enumerate(rows):
        lo, hi = float(views.min()), float(views.max())
        for col, (t, image) in enumerate(zip(times, views)):
            ax = axes[row, col]
            ax.imshow(image, cmap=cmap, vmin=lo, vmax=hi if hi > lo else lo + 1, origin="lower")
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(f"t = {t:g}", fontsize=9)
            if col == 0:
                ax.set_ylabel(f"{name}\n(x–z, max over y)", fontsize=8)
    if title:
        fig.suptitle(title)
    _save(fig, path)


def _save(fig, path) -> None:
    """Write ``fig`` as a PNG, atomically, and release it."""
    fig.tight_layout()
    with atomic_output(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
