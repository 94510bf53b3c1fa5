"""File formats: one registry that picks a reader or writer by extension, or by content
when the extension is unknown. Each family lives in its own module."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from ..data import TiltSeries, Volume
from ..errors import InputError, MissingAnglesError
from . import hdf5, mrc, numpy_files, tiff, vendor
from .angles import read_table, write_angles
from .common import Contents, atomic_output

_BY_SUFFIX = {
    **{s: mrc for s in mrc.SUFFIXES},
    **{s: tiff for s in tiff.SUFFIXES},
    **{s: numpy_files for s in numpy_files.SUFFIXES},
    **{s: hdf5 for s in hdf5.SUFFIXES},
    **{s: vendor for s in vendor.SUFFIXES},
}
_MAGIC = (
    (b"\x89HDF\r\n\x1a\n", hdf5),
    (b"II*\x00", tiff), (b"MM\x00*", tiff), (b"II+\x00", tiff), (b"MM\x00+", tiff),
    (b"\x93NUMPY", numpy_files), (b"PK\x03\x04", numpy_files),
)
VOLUME_SUFFIXES = (".mrc", ".rec", ".map", ".tif", ".tiff", ".npy", ".npz", ".h5", ".hdf5")

def _reader(path: str):
    file_path, _ = hdf5.split_path(path)
    p = Path(file_path)
    suffix = p.suffix.lower()
    if suffix == ".emd":  # Berkeley/Tomviz EMD is plain HDF5; Velox EMD needs rosettasciio
        if not p.is_file():
            raise InputError(f"file not found: {p}")
        return hdf5 if hdf5.is_berkeley_emd(p) else vendor
    if suffix in _BY_SUFFIX:
        return _BY_SUFFIX[suffix]
    if not p.is_file():
        raise InputError(f"file not found: {p}")
    with p.open("rb") as f:
        head = f.read(1024)
    for magic, module in _MAGIC:
        if head.startswith(magic):
            return module
    if head[208:212] == b"MAP ":
        return mrc
    raise InputError(
        f"cannot tell the format of {p}; use one of {', '.join(sorted(set(_BY_SUFFIX) | {'.emd'}))}"
    )

def read_contents(path) -> Contents:
    """Whatever the file holds, as a :class:`Contents` record."""
    return _reader(str(path)).read(str(path))

def read_tilt_series(
    path, angles=None, pixel_size: float | None = None, tilt_axis_angle: float | None = None
) -> TiltSeries:
    """Read a tilt series; angles from ``angles`` (a file), else from the file itself, else
    from ``NAME.rawtlt`` or ``NAME.tlt`` beside it. Explicit values override the file's."""
    contents = read_contents(path)
    times = dose = None
    source = "file header"
    if angles is not None:
        table = read_table(angles)
        contents.angles, times, dose, source = table.angles, table.times, table.dose, str(angles)
    if contents.angles is None:
        stem = Path(hdf5.split_path(str(path))[0])
        for suffix in (".rawtlt", ".tlt"):
            candidate = stem.with_suffix(suffix)
            if candidate.is_file():
                contents.angles, source = read_table(candidate).angles, str(candidate)
                break
    if contents.angles is None:
        raise MissingAnglesError(f"no tilt angles for {path}; pass --angles FILE (.rawtlt, .tlt or .csv)")
    metadata = {**contents.metadata, "source": str(path), "angles_from": source}
    if times is None and contents.times is None:
        metadata["times_from"] = "file order"
    if pixel_size is None and contents.pixel_size is None:
        metadata.setdefault("notes", []).append("no pixel size in the file; assuming 1 Å")
    return TiltSeries(
        images=contents.data,
        angles=contents.angles,
        pixel_size=pixel_size or contents.pixel_size or 1.0,
        tilt_axis_angle=tilt_axis_angle if tilt_axis_angle is not None else (contents.tilt_axis_angle or 0.0),
        times=times if times is not None else contents.times,
        dose=dose,
        metadata=metadata,
    )

def read_volume(path, voxel_size: float | None = None) -> Volume:
    """Read a ``(z, y, x)`` volume; the voxel size from the file unless given (default 1 Å)."""
    contents = read_contents(path)
    return Volume(contents.data, voxel_size or contents.pixel_size or 1.0)

def check_volume_path(path) -> None:
    """Raise :class:`InputError` unless a volume can be written to ``path`` (by its extension)."""
    suffix = Path(path).suffix.lower()
    if suffix not in VOLUME_SUFFIXES:
        raise InputError(f"cannot write a volume as {suffix or 'a file without extension'}; use {', '.join(VOLUME_SUFFIXES)}")


def write_volume(path, volume: Volume) -> None:
    """Write a volume as float32 with its voxel size, by extension, atomically."""
    check_volume_path(path)
    _BY_SUFFIX[Path(path).suffix.lower()].write(path, volume.data, volume.voxel_size)


@contextlib.contextmanager
def volume_writer(path, shape, voxel_size: float) -> Iterator:
    """Write a float32 volume of ``shape`` ``(z, y, x)`` by z-slabs (``out[z0:z1] = slab``
    on the yielded object), atomically, like :func:`write_volume`: streamed to disk, so
    memory does not grow with the volume (except ``.npz``, gathered in memory)."""
    check_volume_path(path)
    with _BY_SUFFIX[Path(path).suffix.lower()].streamed(path, shape, voxel_size) as writer:
        yield writer


def write_tilt_series(path, series: TiltSeries) -> Path:
    """Write the stack as an MRC image stack and its angles as ``NAME.rawtlt`` beside it.

    Returns the path of the angle file."""
    if Path(path).suffix.lower() not in mrc.SUFFIXES:
        raise InputError(f"tilt series are written as MRC stacks ({', '.join(mrc.SUFFIXES)}), not {path}")
    angle_path = Path(path).with_suffix(".rawtlt")
    mrc.write(path, series.images, series.pixel_size, stack=True)
    write_angles(angle_path, series.angles)
    return angle_path

__all__ = [
    "MissingAnglesError",
    "Contents", "atomic_output", "read_contents", "read_tilt_series", "read_volume",
    "check_volume_path", "write_volume", "volume_writer", "write_tilt_series", "read_table", "write_angles",
]
