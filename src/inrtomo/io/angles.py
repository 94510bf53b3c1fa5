"""Per-view tables: IMOD angle files (``.rawtlt``/``.tlt``, one angle per line), IMOD
transform files (``.xf``) and CSV files with named columns, including the package's own
pose table."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..geometry import Poses
from .common import atomic_output, require_file

ANGLE_SUFFIXES = (".rawtlt", ".tlt", ".txt")

# Column name (lower case) -> field; the first name of each field is the one we write.
COLUMNS = {
    "tilt_angle_deg": "angles", "tilt_angle": "angles", "angle": "angles", "tilt": "angles", "theta": "angles",
    "tilt_axis_angle_deg": "tilt_axis", "tilt_axis_angle": "tilt_axis", "psi": "tilt_axis",
    "shift_x_px": "shift_x", "shift_x": "shift_x", "dx": "shift_x",
    "shift_y_px": "shift_y", "shift_y": "shift_y", "dy": "shift_y",
    "out_of_plane_deg": "out_of_plane", "out_of_plane": "out_of_plane", "phi": "out_of_plane",
    "time": "times", "t": "times",
    "dose_e_per_a2": "dose", "dose": "dose",
}


@dataclass
class ViewTable:
    """Per-view values read from an angle or CSV file (``None`` where a column is absent)."""

    angles: np.ndarray
    times: np.ndarray | None = None
    dose: np.ndarray | None = None
    tilt_axis: np.ndarray | None = None
    shift_x: np.ndarray | None = None
    shift_y: np.ndarray | None = None
    out_of_plane: np.ndarray | None = None


def read_table(path) -> ViewTable:
    """Read tilt angles (degrees) and any other per-view columns from ``path``."""
    path = require_file(path)
    if path.suffix.lower() == ".csv":
        return _read_csv(path)
    values = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.split("#")[0].strip()
        if not line:
            continue
        try:
            values.append(float(line.split()[0]))
        except ValueError:
            raise InputError(f"{path}, line {number}: expected a tilt angle in degrees, got {line!r}") from None
    if not values:
        raise InputError(f"{path} holds no tilt angles")
    return ViewTable(np.array(values))


def _read_csv(path: Path, required: str = "angles") -> ViewTable:
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames or []
        fields = {}
        for name in header:
            key = COLUMNS.get(name.strip().lower())
            if key and key not in fields:
                fields[key] = name
        if required not in fields:
            names = ", ".join(name for name, key in COLUMNS.items() if key == required)
            what = {"angles": "tilt-angle", "times": "time"}[required]
            raise InputError(f"{path}: no {what} column; name one of {names} (found {', '.join(header)})")
        columns = {key: [] for key in fields}
        for number, row in enumerate(reader, 2):
            for key, name in fields.items():
                try:
                    columns[key].append(float(row[name]))
                except (TypeError, ValueError):
                    raise InputError(f"{path}, line {number}: column {name!r} is not a number") from None
    if not columns[required]:
        raise InputError(f"{path} holds no {required}")
    return ViewTable(**{"angles": None, **{key: np.array(values) for key, values in columns.items()}})


def read_times(path, n: int) -> np.ndarray:
    """Per-view acquisition times ``(n,)`` in file order of the views: a CSV's ``time``
    column, or one number per line (any unit; only their order and spacing matter)."""
    path = require_file(path)
    if path.suffix.lower() == ".csv":
        times = _read_csv(path, "times").times
    else:
        times = read_table(path).angles  # the same one-number-per-line reader
    if len(times) != n:
        raise InputError(f"{path} holds {len(times)} times for {n} views")
    return np.asarray(times, dtype=np.float64)


def write_angles(path, angles) -> None:
    """One angle per line in degrees (IMOD ``.rawtlt``/``.tlt``), atomically."""
    with atomic_output(path) as tmp:
        tmp.write_text("".join(f"{a:.4f}\n" for a in np.asarray(angles, dtype=np.float64)))


def pose_columns(poses: Poses) -> dict[str, np.ndarray]:
    """The pose table's columns by name (the names :func:`write_poses` writes)."""
    columns = {
        "view": np.arange(len(poses)),
        "tilt_angle_deg": poses.tilt,
        "tilt_axis_angle_deg": poses.tilt_axis,
        "shift_x_px": poses.shift_x,
        "shift_y_px": poses.shift_y,
    }
    if not poses.in_plane:
        columns["out_of_plane_deg"] = poses.out_of_plane
    return columns


def write_poses(path, poses: Poses, times=None, dose=None) -> None:
    """The package's pose table: one row per view, named columns, atomically."""
    n = len(poses)
    columns = pose_columns(poses)
    if times is not None:
        columns["time"] = np.asarray(times)
    if dose is not None:
        columns["dose_e_per_A2"] = np.asarray(dose)
    with atomic_output(path) as tmp, tmp.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        for i in range(n):
            writer.writerow(["%d" % i] + [f"{columns[k][i]:.6g}" for k in list(columns)[1:]])


def read_poses(path) -> Poses:
    """Poses from a CSV table; absent columns are zero (shifts, tilt-axis and out-of-plane
    angles)."""
    table = read_table(path)
    return Poses(*(0.0 if a is None else a for a in (
        table.angles, table.tilt_axis, table.shift_x, table.shift_y, table.out_of_plane)))


def write_xf(path, poses: Poses) -> None:
    """IMOD ``.xf``: per view the transform ``A11 A12 A21 A22 DX DY`` that takes a recorded
    image to the aligned one (tilt axis along y, no shift), ``X' = A X + D`` about the image
    centre, atomically. With our ``recorded(p) = ideal(R(−ψ)(p − d))`` that is
    ``A = R(−ψ)`` and ``D = −R(−ψ) d``."""
    psi = np.deg2rad(poses.tilt_axis)
    c, s = np.cos(psi), np.sin(psi)
    dx = -(c * poses.shift_x + s * poses.shift_y)
    dy = -(-s * poses.shift_x + c * poses.shift_y)
    rows = np.stack([c, s, -s, c, dx, dy], 1)
    with atomic_output(path) as tmp:
        tmp.write_text("".join("".join(f"{a:12.7f}" for a in row[:4]) + "".join(f"{a:12.3f}" for a in row[4:]) + "\n"
                               for row in rows))


def read_xf(path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tilt-axis angles ψ (degrees) and shifts ``dx, dy`` (pixels) from an IMOD ``.xf``
    (the inverse of :func:`write_xf`). Transforms must be rotations (a magnification or
    skew of more than 2 % is refused: poses have none)."""
    path = require_file(path)
    rows = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append([float(a) for a in line.split()])
        except ValueError:
            rows.append([])
        if len(rows[-1]) != 6:
            raise InputError(f"{path}, line {number}: expected six numbers A11 A12 A21 A22 DX DY")
    if not rows:
        raise InputError(f"{path} holds no transforms")
    a11, a12, a21, a22, tx, ty = np.array(rows).T
    if np.any(np.abs(a11 - a22) > 0.02) or np.any(np.abs(a12 + a21) > 0.02) or \
            np.any(np.abs(a11 * a22 - a12 * a21 - 1) > 0.02):
        raise InputError(f"{path}: a transform scales or skews the image; only rotations and shifts can be read")
    psi = np.arctan2(a12 - a21, a11 + a22)  # the rotation closest to A
    c, s = np.cos(psi), np.sin(psi)
    return np.rad2deg(psi), -(c * tx - s * ty), -(s * tx + c * ty)
