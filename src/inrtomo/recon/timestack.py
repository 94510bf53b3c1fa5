"""A space-time fit's sample at chosen times, streamed to disk beside the clean volume
``OUTPUT``: ``OUTPUT_times.h5`` (datasets ``volume`` and ``contamination``, ``(t, z, y, x)``
with named axes), ``OUTPUT_tK.mrc`` (the volume at the K-th time) and ``OUTPUT_times.png``
(x–z maxima over time). Memory holds a slab and one x–z image per time, never a volume."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import figures, io
from ..progress import progress
from .inr import sample_grid

PARTS = ("volume", "contamination")


def time_stack_paths(output, n_times: int) -> list[Path]:
    """The files :func:`write_time_stack` writes beside ``output`` for ``n_times`` times."""
    stem = Path(output).parent / Path(output).stem
    return [Path(f"{stem}_times.h5"), *(Path(f"{stem}_t{k}.mrc") for k in range(n_times)),
            Path(f"{stem}_times.png")]


def write_time_stack(net, output, times, scaled, shape, *, voxel_size: float, upsample: int = 1, device="cpu",
                     quiet: bool = True) -> list[Path]:
    """Sample the space-time field ``net`` (:class:`inrtomo.fields.spacetime` model, with
    ``at(t, part)``) at the ``scaled`` times (in [0, 1]; ``times`` are the same in the user's
    unit, written as the time axis) on ``shape`` refined ``upsample`` times, and write the
    files of :func:`time_stack_paths`. Returns their paths."""
    fine = tuple(s * upsample for s in shape)
    h5_path, *mrc_paths, png_path = time_stack_paths(output, len(times))
    maxima = {part: np.zeros((len(times), fine[0], fine[2]), dtype=np.float32) for part in PARTS}
    jobs = [(k, part) for k in range(len(times)) for part in PARTS]
    with io.hdf5.streamed_time_stack(h5_path, times, PARTS, fine, voxel_size) as stacks:
        for k, part in progress(jobs, desc="time stack", unit="volume", quiet=quiet):
            targets = [stacks[part][k], _MaxOverY(maxima[part][k])]
            field = net.at(scaled[k], part)
            if part == "volume":
                with io.volume_writer(mrc_paths[k], fine, voxel_size) as mrc:
                    sample_grid(field, shape, upsample=upsample, device=device, out=_Fanout(*targets, mrc))
            else:
                sample_grid(field, shape, upsample=upsample, device=device, out=_Fanout(*targets))
    figures.time_strip(times, maxima["volume"], maxima["contamination"], png_path, title=Path(output).name)
    return [h5_path, *mrc_paths, png_path]


class _Fanout:
    """Takes ``[z0:z1] = slab`` and passes it on to each of ``targets``."""

    def __init__(self, *targets):
        self.targets = targets

    def __setitem__(self, index: slice, slab: np.ndarray) -> None:
        for target in self.targets:
            target[index] = slab


class _MaxOverY:
    """Takes ``[z0:z1] = slab`` (``(z, y, x)``) and keeps its maximum over y in ``out``
    ``(z, x)``."""

    def __init__(self, out: np.ndarray):
        self.out = out

    def __setitem__(self, index: slice, slab: np.ndarray) -> None:
        self.out[index] = slab.max(axis=1)
