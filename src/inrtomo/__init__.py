"""inrtomo: electron tomography with self-supervised implicit neural representations."""
from .data import TiltSeries, Volume
from .errors import InputError
from .geometry import Poses
from .io import read_tilt_series, read_volume, write_tilt_series, write_volume

__all__ = [
    "TiltSeries", "Volume", "InputError", "Poses",
    "read_tilt_series", "read_volume", "write_tilt_series", "write_volume",
]
