"""What every file-format module shares: the loaded-contents record and atomic writing."""
from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError


@dataclass
class Contents:
    """What a reader found in a file; ``None`` where the file says nothing.

    Attributes:
        data: the array as stored, ``(n, y, x)`` for stacks or ``(z, y, x)`` for volumes.
        angles: tilt angles in degrees.
        pixel_size: Å.
        tilt_axis_angle: degrees.
        times: per-view acquisition times.
        metadata: anything else worth keeping (header fields, notes).
    """

    data: np.ndarray
    angles: np.ndarray | None = None
    pixel_size: float | None = None
    tilt_axis_angle: float | None = None
    times: np.ndarray | None = None
    metadata: dict = field(default_factory=dict)


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only if the block
    succeeds, otherwise delete it. A crash never leaves a truncated file under ``path``."""
    path = Path(path)
    if not path.parent.is_dir():
        raise InputError(f"output folder {path.parent} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".partial" + path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


_ANGSTROM_PER_UNIT = {
    "pm": 0.01, "a": 1.0, "\u00e5": 1.0, "angstrom": 1.0, "nm": 10.0, "nanometer": 10.0,
    "um": 1e4, "\u00b5m": 1e4, "micron": 1e4,
}


def angstrom_per(unit) -> float | None:
    """Å in one ``unit`` (case, brackets and underscores ignored: ``"[n_m]"`` is nm), or
    ``None`` for a unit we do not know."""
    key = str(unit).strip().strip("[]").replace("_", "").lower()
    return _ANGSTROM_PER_UNIT.get(key)


def require_file(path: str | os.PathLike) -> Path:
    """``path`` as a Path, or an :class:`InputError` saying it is missing."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"file not found: {path}")
    return path
