"""NumPy files: ``.npy`` (the bare array) and ``.npz`` (an array plus optional
``angles``, ``pixel_size``, ``tilt_axis_angle`` and ``times``)."""
from __future__ import annotations

import contextlib
import zipfile
from collections.abc import Iterator

import numpy as np

from ..errors import InputError
from .common import Contents, SlabWriter, array_slabs, atomic_output, raw_slabs, require_file

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


@contextlib.contextmanager
def streamed(path, shape, voxel_size: float | None = None) -> Iterator[SlabWriter]:
    """Like :func:`write`, given slab by slab through the yielded :class:`SlabWriter`:
    straight into the file for ``.npy``; gathered in memory for ``.npz`` (a zip member is
    written whole)."""
    shape = tuple(int(s) for s in shape)
    if str(path).lower().endswith(".npz"):
        data = np.empty(shape, dtype=np.float32)
        writer = array_slabs(data, shape)
        yield writer
        writer.check_complete(path)
        write(path, data, voxel_size)
        return
    with atomic_output(path) as tmp, tmp.open("w+b") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": np.lib.format.dtype_to_descr(np.dtype(np.float32)),
                                                 "fortran_order": False, "shape": shape})
        writer = raw_slabs(f, f.tell(), shape)
        yield writer
        writer.check_complete(path)
