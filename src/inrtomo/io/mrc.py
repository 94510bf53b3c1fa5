"""MRC/IMOD files (``.mrc .st .ali .rec …``) through mrcfile.

Opened permissively, so FEI/Thermo files without the ``MAP`` identifier still load. Pixel
size and per-view tilt angles are taken from an FEI extended header when present: the
MRC2014 ``FEI1``/``FEI2`` types (via mrcfile), or the older 128-byte-per-view FEI layout
(``a_tilt, b_tilt, x/y/z_stage, x/y_shift, defocus, exp_time, mean_int, tilt_axis,
pixel_size, magnification``, float32, pixel size in metres).

Data are memory-mapped when read (a float32 stack is used in place, never copied whole)
and volumes can be written slab by slab (:func:`streamed`), so neither needs to fit in
memory twice.
"""
from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

import mrcfile
import numpy as np

from ..errors import InputError
from .common import Contents, SlabWriter, atomic_output, raw_slabs, require_file

SUFFIXES = (".mrc", ".mrcs", ".st", ".ali", ".preali", ".rec", ".map")
OLD_FEI_RECORD = 128  # bytes per view
_OLD_FEI_FIELDS = ("a_tilt", "b_tilt", "x_stage", "y_stage", "z_stage", "x_shift", "y_shift",
                   "defocus", "exp_time", "mean_int", "tilt_axis", "pixel_size", "magnification")


def read(path) -> Contents:
    path = require_file(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            mrc = mrcfile.mmap(path, mode="r", permissive=True)
        except (ValueError, OSError) as exc:
            raise InputError(f"{path} is not a readable MRC file: {exc}") from None
    with mrc:
        if mrc.data is None:
            raise InputError(f"{path}: the MRC header is too damaged to read the data")
        data = mrc.data  # a read-only memmap, valid after the file is closed
        if data.ndim == 2:
            data = data[None]
        meta = {"format": "mrc", "mode": int(mrc.header.mode)}
        notes = [str(w.message) for w in caught]
        if notes:
            meta["notes"] = notes
        contents = Contents(data, metadata=meta)
        voxel = float(mrc.voxel_size.x)
        if voxel > 0:
            contents.pixel_size = voxel
        _read_fei(mrc, data.shape[0], contents)
    return contents


def _read_fei(mrc, n: int, contents: Contents) -> None:
    exttyp = bytes(mrc.header.exttyp).strip()
    ext = mrc.extended_header
    if ext is None or ext.nbytes == 0:
        return
    if exttyp in (b"FEI1", b"FEI2"):
        table = mrc.indexed_extended_header
        angles = np.asarray(table["Alpha tilt"][:n], dtype=np.float64)
        pixel_m = float(table["Pixel size X"][0])
        axis = float(table["Tilt axis angle"][0])
    elif ext.nbytes >= OLD_FEI_RECORD * n and ext.nbytes % OLD_FEI_RECORD == 0:
        dtype = np.dtype("f4").newbyteorder(mrc.header.mode.dtype.byteorder)
        records = np.frombuffer(ext.tobytes(), dtype=dtype).reshape(-1, OLD_FEI_RECORD // 4)[:n]
        angles = records[:, _OLD_FEI_FIELDS.index("a_tilt")].astype(np.float64)
        pixel_m = float(records[0, _OLD_FEI_FIELDS.index("pixel_size")])
        axis = float(records[0, _OLD_FEI_FIELDS.index("tilt_axis")])
    else:
        return
    if not np.isfinite(angles).all() or (n > 1 and np.all(angles == angles[0])):
        return  # not a tilt record after all
    contents.angles = angles
    contents.tilt_axis_angle = axis if np.isfinite(axis) else None
    if 0 < pixel_m < 1e-6:  # metres
        contents.pixel_size = pixel_m * 1e10
    contents.metadata["extended_header"] = exttyp.decode(errors="replace") or "FEI (128-byte records)"


def write(path, data: np.ndarray, voxel_size: float, stack: bool = False) -> None:
    """Write ``data`` as float32 MRC with the voxel size in Å, atomically.

    ``stack=True`` marks it an image stack (space group 0), as IMOD expects for ``.st``."""
    with atomic_output(path) as tmp:
        with mrcfile.new(tmp, overwrite=True) as mrc:
            mrc.set_data(np.asarray(data, dtype=np.float32))
            if stack:
                mrc.set_image_stack()
            mrc.voxel_size = float(voxel_size)


@contextlib.contextmanager
def streamed(path, shape, voxel_size: float) -> Iterator[SlabWriter]:
    """A float32 MRC volume of ``shape`` ``(z, y, x)`` and ``voxel_size`` (Å) written slab
    by slab through the yielded :class:`SlabWriter`, in bounded memory; atomic, like
    :func:`write` (nothing under ``path`` unless the block completes)."""
    with atomic_output(path) as tmp:
        with mrcfile.new_mmap(tmp, shape=tuple(int(s) for s in shape), mrc_mode=2, overwrite=True) as mrc:
            offset = mrc.header.nbytes + int(mrc.header.nsymbt)
        with open(tmp, "r+b") as file:
            writer = raw_slabs(file, offset, shape)
            yield writer
        writer.check_complete(path)
        with mrcfile.mmap(tmp, mode="r+") as mrc:
            mrc.voxel_size = float(voxel_size)
            header = mrc.header
            header.dmin, header.dmax, header.dmean, header.rms = writer.low, writer.high, writer.mean, writer.rms
