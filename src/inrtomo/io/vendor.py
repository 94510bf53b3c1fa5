"""Vendor formats (Gatan ``.dm3/.dm4``, Thermo Fisher Velox ``.emd``) through rosettasciio,
an optional extra (``pip install 'inrtomo[vendor]'``)."""
from __future__ import annotations

import numpy as np

from ..errors import InputError
from .common import Contents, angstrom_per, require_file

SUFFIXES = (".dm3", ".dm4")


def read(path) -> Contents:
    path = require_file(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".emd":
            from rsciio.emd import file_reader
        else:
            from rsciio.digitalmicrograph import file_reader
    except ImportError:
        raise InputError(
            f"reading {suffix} files needs rosettasciio; install it with: pip install 'inrtomo[vendor]'"
        ) from None
    try:
        signals = file_reader(str(path))
    except Exception as exc:  # rosettasciio raises many types for unreadable files
        raise InputError(f"{path} could not be read by rosettasciio: {exc}") from None
    images = [s for s in signals if np.asarray(s["data"]).ndim >= 2]
    if not images:
        raise InputError(f"{path} holds no image data")
    signal = images[0]
    contents = Contents(np.asarray(signal["data"]), metadata={"format": suffix.lstrip(".")})
    axes = [a for a in signal.get("axes", []) if a.get("navigate") is False] or signal.get("axes", [])
    if axes:
        scale = angstrom_per(axes[-1].get("units", ""))
        if scale and axes[-1].get("scale", 0) > 0:
            contents.pixel_size = float(axes[-1]["scale"]) * scale
    return contents
