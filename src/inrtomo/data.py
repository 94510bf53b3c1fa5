"""Data model: :class:`TiltSeries` (what the microscope recorded) and :class:`Volume`.

Array order and units follow ``docs/conventions.md``: images ``(n, y, x)`` float32,
volumes ``(z, y, x)`` float32, angles in degrees, sizes in Ångström.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace

import numpy as np

from .errors import InputError


def default_times(n: int) -> np.ndarray:
    """Acquisition times when nothing else is known: file order normalised to [0, 1]."""
    return np.linspace(0.0, 1.0, n) if n > 1 else np.zeros(n)


@dataclass
class TiltSeries:
    """A tilt series, validated at construction.

    Attributes:
        images: ``(n, y, x)`` float32, views in acquisition file order.
        angles: ``(n,)`` nominal tilt angles θ in degrees, same order as ``images``.
        pixel_size: detector pixel size in Å.
        tilt_axis_angle: in-plane tilt-axis angle ψ in degrees (0: axis along image y).
        times: ``(n,)`` acquisition time of each view; default file order in [0, 1].
        dose: optional ``(n,)`` electron fluence per view in e/Å².
        metadata: free-form information (source file, microscope fields ...).
    """

    images: np.ndarray
    angles: np.ndarray
    pixel_size: float = 1.0
    tilt_axis_angle: float = 0.0
    times: np.ndarray | None = None
    dose: np.ndarray | None = None
    metadata: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        images = np.asarray(self.images)
        if images.ndim != 3:
            raise InputError(
                f"a tilt series must be a 3-D stack (views, rows, columns); got {images.ndim}-D "
                f"data of shape {images.shape}"
            )
        if 0 in images.shape:
            raise InputError(f"the tilt series is empty (shape {images.shape})")
        if not np.issubdtype(images.dtype, np.number) or np.iscomplexobj(images):
            raise InputError(f"tilt-series pixels must be real numbers, not {images.dtype}")
        self.images = np.ascontiguousarray(images, dtype=np.float32)
        n = self.images.shape[0]

        nonfinite = np.array([np.size(view) - np.count_nonzero(np.isfinite(view)) for view in self.images])
        if nonfinite.any():  # checked view by view: a memory-mapped stack is not copied
            raise InputError(
                f"{int(nonfinite.sum())} NaN/inf pixels in view(s) {_list(np.flatnonzero(nonfinite))}; "
                "remove those views or fix the data"
            )
        flat = self.images.reshape(n, -1)
        constant = np.flatnonzero(flat.max(axis=1) == flat.min(axis=1))
        if constant.size:
            raise InputError(
                f"view(s) {_list(constant)} are constant (zero variance), e.g. blank frames; "
                "remove them before reconstructing"
            )

        self.angles = _vector(self.angles, n, "tilt angles", "--angles FILE")
        if np.unique(self.angles).size < n:
            warnings.warn("duplicate tilt angles in the tilt series", stacklevel=2)
        span = np.ptp(self.angles)
        if span > 180:  # seed 001's 0–180° is the most a single-axis series needs
            warnings.warn(
                f"tilt angles span {span:g}° ({self.angles.min():g}° to {self.angles.max():g}°), "
                "more than half a turn; are they in degrees?",
                stacklevel=2,
            )
        self.times = default_times(n) if self.times is None else _vector(self.times, n, "times", "--times FILE")
        if self.dose is not None:
            self.dose = _vector(self.dose, n, "dose values", "the dose file")
            if np.any(self.dose < 0):
                raise InputError("dose values must not be negative")
        self.pixel_size = _positive(self.pixel_size, "pixel size (Å)")
        self.tilt_axis_angle = float(self.tilt_axis_angle)
        if not np.isfinite(self.tilt_axis_angle):
            raise InputError("the tilt-axis angle must be a finite number of degrees")

    @property
    def n_views(self) -> int:
        return self.images.shape[0]

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.images.shape

    def subset(self, views) -> TiltSeries:
        """The series restricted to ``views`` (indices or mask), file order kept."""
        idx = np.arange(self.n_views)[views]
        return replace(
            self,
            images=self.images[idx],
            angles=self.angles[idx],
            times=self.times[idx],
            dose=None if self.dose is None else self.dose[idx],
            metadata=dict(self.metadata),
        )


@dataclass
class Volume:
    """A reconstructed or true volume: ``data`` ``(z, y, x)`` float32, ``voxel_size`` in Å."""

    data: np.ndarray
    voxel_size: float = 1.0

    def __post_init__(self) -> None:
        data = np.asarray(self.data)
        if data.ndim != 3 or 0 in data.shape:
            raise InputError(f"a volume must be a non-empty 3-D array (z, y, x); got shape {data.shape}")
        if not np.issubdtype(data.dtype, np.number) or np.iscomplexobj(data):
            raise InputError(f"volume values must be real numbers, not {data.dtype}")
        self.data = np.ascontiguousarray(data, dtype=np.float32)
        if not np.isfinite(self.data).all():
            raise InputError("the volume contains NaN or inf values")
        self.voxel_size = _positive(self.voxel_size, "voxel size (Å)")

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.data.shape


def _vector(values, n: int, what: str, fix: str) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64).reshape(-1)
    if arr.size != n:
        raise InputError(f"{arr.size} {what} for {n} images; give exactly one per view ({fix})")
    if not np.isfinite(arr).all():
        raise InputError(f"the {what} contain NaN or inf")
    return arr


def _positive(value, what: str) -> float:
    value = float(value)
    if not (np.isfinite(value) and value > 0):
        raise InputError(f"the {what} must be a positive number, got {value:g}")
    return value


def _list(indices: np.ndarray, limit: int = 8) -> str:
    shown = ", ".join(str(int(i)) for i in indices[:limit])
    return shown + (f" … ({len(indices)} in all)" if len(indices) > limit else "")
