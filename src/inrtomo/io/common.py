"""What every file-format module shares: the loaded-contents record, atomic writing and
writing a volume slab by slab."""
from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
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


class SlabWriter:
    """Takes a float32 ``(z, y, x)`` volume of ``shape`` by z-slabs (``writer[z0:z1] =
    slab``, each z-range once), hands each to ``put(z0, slab)`` and keeps the count and the
    statistics (min, max, mean, rms) of the voxels written."""

    def __init__(self, shape, put: Callable[[int, np.ndarray], None]):
        self.shape, self.put = tuple(int(s) for s in shape), put
        self.count, self.total, self.squares = 0, 0.0, 0.0
        self.low, self.high = np.inf, -np.inf

    def __setitem__(self, index: slice, slab: np.ndarray) -> None:
        start, stop, step = index.indices(self.shape[0])
        if step != 1:
            raise ValueError("slabs are contiguous z-ranges")
        slab = np.ascontiguousarray(slab, dtype=np.float32).reshape(stop - start, *self.shape[1:])
        if slab.size == 0:
            return
        self.put(start, slab)
        values = slab.astype(np.float64)
        self.count += values.size
        self.total += values.sum()
        self.squares += np.square(values).sum()
        self.low, self.high = min(self.low, values.min()), max(self.high, values.max())

    @property
    def mean(self) -> float:
        return self.total / self.count

    @property
    def rms(self) -> float:
        """Root mean square deviation from the mean (MRC's ``rms``)."""
        return float(np.sqrt(max(self.squares / self.count - self.mean**2, 0.0)))

    def check_complete(self, path) -> None:
        """Raise unless every voxel was written (the output is then not kept)."""
        expected = int(np.prod(self.shape))
        if self.count != expected:
            raise RuntimeError(f"only {self.count} of {expected} voxels were written to {path}")


def raw_slabs(file, offset: int, shape) -> SlabWriter:
    """A :class:`SlabWriter` into ``file`` (binary, writable, seekable) holding the volume
    as native float32 in C order from byte ``offset``."""
    plane = 4 * int(np.prod(shape[1:]))

    def put(start: int, slab: np.ndarray) -> None:
        file.seek(offset + start * plane)
        file.write(slab.tobytes())

    return SlabWriter(shape, put)


def array_slabs(target, shape) -> SlabWriter:
    """A :class:`SlabWriter` into ``target``, anything that takes ``target[z0:z1] = slab``
    (a NumPy array, an h5py dataset) of ``shape``."""

    def put(start: int, slab: np.ndarray) -> None:
        target[start:start + len(slab)] = slab

    return SlabWriter(shape, put)
