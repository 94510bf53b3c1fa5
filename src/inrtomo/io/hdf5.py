"""HDF5 files through h5py: a named dataset plus an angles dataset, or a Berkeley EMD /
Tomviz file (a group with ``emd_group_type = 1`` holding ``data`` and ``dim1…dim3``).

Plain HDF5: ``file.h5`` picks the only 3-D dataset (or one named ``tilt_series``,
``images``, ``data`` or ``volume``); ``file.h5:/group/name`` picks a dataset by name.
Angles come from a sibling dataset ``angles`` or ``tilt_angles`` (degrees); attributes
``pixel_size`` (Å) and ``tilt_axis_angle`` (deg) on the dataset or file are used when set.

EMD: the dimension whose vector holds angles (``dim1`` for Tomviz tilt series) is moved
to the front; the other two are taken as ``(y, x)`` in file order.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

import h5py
import numpy as np

from ..errors import InputError
from .common import Contents, SlabWriter, angstrom_per, array_slabs, atomic_output, require_file

SUFFIXES = (".h5", ".hdf5", ".hdf", ".emd")
DATA_NAMES = ("tilt_series", "images", "data", "volume")
ANGLE_NAMES = ("angles", "tilt_angles")


def split_path(path: str) -> tuple[str, str | None]:
    """``'file.h5:/a/b'`` → ``('file.h5', '/a/b')``; a plain path → ``(path, None)``."""
    text = str(path)
    for suffix in SUFFIXES:
        marker = suffix + ":"
        at = text.lower().find(marker)
        if at >= 0:
            return text[: at + len(suffix)], text[at + len(marker) :] or None
    return text, None


def is_berkeley_emd(path) -> bool:
    with h5py.File(path, "r") as f:
        return _emd_group(f) is not None


def read(path) -> Contents:
    file_path, name = split_path(path)
    file_path = require_file(file_path)
    try:
        f = h5py.File(file_path, "r")
    except OSError as exc:
        raise InputError(f"{file_path} is not a readable HDF5 file: {exc}") from None
    with f:
        group = None if name else _emd_group(f)
        if group is not None:
            return _read_emd(group)
        dataset = _pick_dataset(f, name, file_path)
        contents = Contents(dataset[()], metadata={"format": "hdf5", "dataset": dataset.name})
        parent = dataset.parent
        for angle_name in ANGLE_NAMES:
            if angle_name in parent and isinstance(parent[angle_name], h5py.Dataset):
                contents.angles = np.asarray(parent[angle_name][()], dtype=np.float64).reshape(-1)
                break
        for attr in ("pixel_size", "tilt_axis_angle"):
            for holder in (dataset, f):
                if attr in holder.attrs:
                    setattr(contents, attr, float(holder.attrs[attr]))
                    break
    return contents


def _emd_group(f: h5py.File):
    found = []

    def visit(_, obj):
        if isinstance(obj, h5py.Group) and int(np.ravel(obj.attrs.get("emd_group_type", [0]))[0]) == 1:
            found.append(obj)

    f.visititems(visit)
    return found[0] if found else None


def _read_emd(group) -> Contents:
    if "data" not in group:
        raise InputError(f"EMD group {group.name} has no 'data' dataset")
    data = group["data"][()]
    contents = Contents(data, metadata={"format": "emd", "group": group.name})
    dims = [group.get(f"dim{i + 1}") for i in range(data.ndim)]
    angle_axis = None
    for axis, dim in enumerate(dims):
        if dim is None:
            continue
        label = " ".join(str(dim.attrs.get(k, "")) for k in ("name", "units")).lower()
        if any(word in label for word in ("angle", "deg", "tilt")) and dim.shape[0] == data.shape[axis]:
            angle_axis = axis
            break
    if angle_axis is None and dims and dims[0] is not None and data.ndim == 3 and dims[0].shape[0] == data.shape[0]:
        angle_axis = 0  # Tomviz: dim1 holds the angles
    if angle_axis is not None:
        contents.angles = np.asarray(dims[angle_axis][()], dtype=np.float64)
        contents.data = np.moveaxis(data, angle_axis, 0)
        spatial = [d for i, d in enumerate(dims) if i != angle_axis and d is not None]
        if spatial and len(spatial[0]) > 1:
            step = float(np.abs(np.diff(spatial[0][:2]))[0])
            scale = angstrom_per(spatial[0].attrs.get("units", ""))
            if scale and step > 0:
                contents.pixel_size = step * scale
    return contents


def _pick_dataset(f: h5py.File, name: str | None, file_path) -> h5py.Dataset:
    if name:
        if name not in f or not isinstance(f[name], h5py.Dataset):
            raise InputError(f"{file_path} has no dataset {name!r}")
        return f[name]
    datasets = []
    f.visititems(lambda _, obj: datasets.append(obj) if isinstance(obj, h5py.Dataset) and obj.ndim == 3 else None)
    if len(datasets) == 1:
        return datasets[0]
    for wanted in DATA_NAMES:
        for ds in datasets:
            if ds.name.rsplit("/", 1)[-1] == wanted:
                return ds
    names = ", ".join(ds.name for ds in datasets) or "none"
    raise InputError(f"{file_path}: cannot tell which 3-D dataset to use ({names}); name it as FILE.h5:/dataset")


def write(path, data: np.ndarray, voxel_size: float, angles=None) -> None:
    """Dataset ``data`` (float32) with attribute ``pixel_size`` (Å) and, for tilt series,
    a sibling ``angles`` dataset (degrees), atomically."""
    with atomic_output(path) as tmp, h5py.File(tmp, "w") as f:
        ds = f.create_dataset("data", data=np.asarray(data, dtype=np.float32))
        ds.attrs["pixel_size"] = float(voxel_size)
        if angles is not None:
            f.create_dataset("angles", data=np.asarray(angles, dtype=np.float64))


@contextlib.contextmanager
def streamed(path, shape, voxel_size: float) -> Iterator[SlabWriter]:
    """Like :func:`write` for a volume, given slab by slab through the yielded
    :class:`SlabWriter` (each slab goes straight into the dataset), atomically."""
    with atomic_output(path) as tmp, h5py.File(tmp, "w") as f:
        ds = f.create_dataset("data", shape=tuple(int(s) for s in shape), dtype=np.float32)
        ds.attrs["pixel_size"] = float(voxel_size)
        writer = array_slabs(ds, shape)
        yield writer
        writer.check_complete(path)


@contextlib.contextmanager
def streamed_time_stack(path, times, names, shape, voxel_size: float) -> Iterator[dict[str, list[SlabWriter]]]:
    """Volumes over time, given slab by slab: one float32 dataset ``(t, z, y, x)`` per name
    in ``names`` (e.g. ``volume``, ``contamination``) with attribute ``pixel_size`` (Å) and
    ``axes``, whose first axis carries the ``times`` dataset as an HDF5 dimension scale.
    Yields, per name, one :class:`SlabWriter` per time (``writers[name][k][z0:z1] =
    slab``); every slab goes straight to disk (gzip, one chunk per z-plane); atomically."""
    times = np.asarray(times, dtype=np.float64)
    shape = tuple(int(s) for s in shape)
    with atomic_output(path) as tmp, h5py.File(tmp, "w") as f:
        scale = f.create_dataset("times", data=times)
        scale.make_scale("t")
        writers = {}
        for name in names:
            ds = f.create_dataset(name, shape=(len(times), *shape), dtype=np.float32, compression="gzip",
                                  chunks=(1, 1, *shape[1:]))
            ds.attrs["pixel_size"] = float(voxel_size)
            ds.attrs["axes"] = ["t", "z", "y", "x"]
            ds.dims[0].attach_scale(scale)
            for axis, label in enumerate("tzyx"):
                ds.dims[axis].label = label
            writers[name] = [array_slabs(_TimeSlice(ds, k), shape) for k in range(len(times))]
        yield writers
        for stack in writers.values():
            for writer in stack:
                writer.check_complete(path)


class _TimeSlice:
    """``dataset[k]`` of a ``(t, z, y, x)`` dataset as something that takes ``[z0:z1] = slab``."""

    def __init__(self, dataset: h5py.Dataset, k: int):
        self.dataset, self.k = dataset, k

    def __setitem__(self, index: slice, slab: np.ndarray) -> None:
        self.dataset[self.k, index] = slab
