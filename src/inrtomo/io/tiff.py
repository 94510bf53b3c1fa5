"""TIFF stacks through tifffile. Volumes are written as ImageJ hyperstacks with the voxel
size in nm (ImageJ's unit), and read back in Å."""
from __future__ import annotations

import numpy as np
import tifffile

from ..errors import InputError
from .common import Contents, angstrom_per, atomic_output, require_file

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
    nm = float(voxel_size) / 10.0
    with atomic_output(path) as tmp:
        tifffile.imwrite(
            tmp, np.asarray(data, dtype=np.float32), imagej=True, resolution=(1 / nm, 1 / nm),
            metadata={"unit": "nm", "spacing": nm, "axes": "ZYX"},
        )
