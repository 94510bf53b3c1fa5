"""TIFF stacks through tifffile. Volumes are written as ImageJ hyperstacks with the voxel
size in nm (ImageJ's unit), and read back in Å; whole or slab by slab (:func:`streamed`)."""
from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import tifffile

from ..errors import InputError
from .common import Contents, SlabWriter, angstrom_per, atomic_output, raw_slabs, require_file

SUFFIXES = (".tif", ".tiff")


def read(path) -> Contents:
    path = require_file(path)
    try:
        with tifffile.TiffFile(path) as tif:
            data = tif.asarray()
            meta = tif.imagej_metadata or {}
            page = tif.pages[0]
            x_res = page.tags.get("XResolution")
    except (tifffile.TiffFileError, ValueError) as exc:
        raise InputError(f"{path} is not a readable TIFF file: {exc}") from None
    if data.ndim == 2:
        data = data[None]
    contents = Contents(np.asarray(data), metadata={"format": "tiff"})
    scale = angstrom_per(meta.get("unit", ""))
    if scale and x_res is not None:
        num, den = x_res.value
        if num > 0:
            contents.pixel_size = den / num * scale
    return contents


def write(path, data: np.ndarray, voxel_size: float) -> None:
    """Float32 ImageJ TIFF stack with ``voxel_size`` (Å) stored in nm, atomically."""
    data = np.asarray(data, dtype=np.float32)
    _write_pages(path, data, data.shape, voxel_size)


@contextlib.contextmanager
def streamed(path, shape, voxel_size: float) -> Iterator[SlabWriter]:
    """Like :func:`write`, with the volume given slab by slab through the yielded
    :class:`SlabWriter`: slabs go to an unnamed scratch file beside ``path`` and the TIFF
    is written from it page by page, so memory holds one page (the disk, the volume twice)."""
    with tempfile.TemporaryFile(dir=Path(path).parent) as scratch:
        writer = raw_slabs(scratch, 0, shape)
        yield writer
        writer.check_complete(path)
        plane = writer.shape[1:]

        def pages():
            scratch.seek(0)
            for _ in range(writer.shape[0]):
                yield np.fromfile(scratch, dtype=np.float32, count=plane[0] * plane[1]).reshape(plane)

        _write_pages(path, pages(), writer.shape, voxel_size)


def _write_pages(path, data, shape, voxel_size: float) -> None:
    """``data``: a float32 array of ``shape`` or an iterator of its ``(y, x)`` pages."""
    nm = float(voxel_size) / 10.0
    with atomic_output(path) as tmp:
        tifffile.imwrite(tmp, data, shape=tuple(shape), dtype=np.float32, imagej=True, resolution=(1 / nm, 1 / nm),
                         metadata={"unit": "nm", "spacing": nm, "axes": "ZYX"})
