"""NumPy files: ``.npy`` (the bare array) and ``.npz`` (an array plus optional
``angles``, ``pixel_size``, ``tilt_axis_angle`` and ``times``)."""
from __future__ import annotations

import zipfile

import numpy as np

from ..errors import InputError
from .common import Contents, atomic_output, require_file

SUFFIXES = (".npy", ".npz")
DATA_KEYS = ("images", "data", "volume", "tilt_series")


def read(path) -> Contents:
    path = require_file(path)
    try:
        loaded = np.load(path, allow_pickle=False)
    except (ValueError, OSError, zipfile.BadZipFile) as exc:
        raise InputError(f"{path} is not a readable NumPy file: {exc}") from None
    if isinstance(loaded, np.ndarray):
        return Contents(loaded, metadata={"format": "npy"})
    with loaded:
        key = next((k for k in DATA_KEYS if k in loaded.files), None)
        if key is None:
            raise InputError(f"{path}: no array named {' or '.join(DATA_KEYS)} (found {', '.join(loaded.files)})")
        contents = Contents(loaded[key], metadata={"format": "npz"})
        if "angles" in loaded.files:
            contents.angles = loaded["angles"]
        if "times" in loaded.files:
            contents.times = loaded["times"]
        for name in ("pixel_size", "tilt_axis_angle"):
            if name in loaded.files:
                setattr(contents, name, float(loaded[name]))
    return contents


def write(path, data: np.ndarray, voxel_size: float | None = None) -> None:
    """Float32 ``.npy`` (voxel size not kept) or ``.npz`` (with ``pixel_size``), atomically."""
    data = np.asarray(data, dtype=np.float32)
    with atomic_output(path) as tmp, tmp.open("wb") as f:
        if str(path).lower().endswith(".npz"):
            np.savez(f, data=data, pixel_size=np.float64(voxel_size or 1.0))
        else:
            np.save(f, data)
