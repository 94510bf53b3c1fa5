"""Helpers shared by several test modules."""
from contextlib import contextmanager

import numpy as np
import torch
from scipy.ndimage import binary_dilation, binary_erosion

from inrtomo.cli import main
from inrtomo.geometry import shift_gauge
from inrtomo.simulate import Phantom


def interior_pixels(phantom, pose, image, margin=3):
    """Pixels of ``image`` (one view of ``phantom`` at ``pose``) at least ``margin`` px from
    every solid's projected outline and above 5 % of the maximum."""
    n = image.shape[0]
    near_edge = np.zeros_like(image, dtype=bool)
    for solid in phantom.shapes:
        alone = Phantom([solid]).project(pose, (n, n), supersample=1)[0] != 0
        near_edge |= binary_dilation(alone, iterations=margin) & ~binary_erosion(alone, iterations=margin)
    return ~near_edge & (image > 0.05 * image.max())


def relative_error(estimate, reference, mask=None):
    """‖estimate − reference‖ / ‖reference‖ over ``mask`` (all pixels if None)."""
    e, r = np.asarray(estimate, dtype=np.float64), np.asarray(reference, dtype=np.float64)
    if mask is not None:
        e, r = e[mask], r[mask]
    return float(np.linalg.norm(e - r) / np.linalg.norm(r))


def shift_error(found, true) -> float:
    """RMS per-axis shift error (pixels) of poses ``found`` against poses ``true``, whose
    shifts lose the part a moved volume explains first (what alignment can know:
    :func:`inrtomo.geometry.shift_gauge`)."""
    dx, dy = shift_gauge(*(torch.from_numpy(a) for a in (true.shift_x, true.shift_y, np.deg2rad(true.tilt),
                                                          np.deg2rad(true.tilt_axis))))
    return float(np.sqrt(np.mean((found.shift_x - dx.numpy()) ** 2 + (found.shift_y - dy.numpy()) ** 2) / 2))


@contextmanager
def astra_strip(nz, nx, nu, angles):
    """ASTRA's 2-D CPU strip projector for one ``(nz, nx)`` slice, our conventions mapped
    (ASTRA image rows are our z, ASTRA angles are −θ); yields ``(astra, projector id,
    projection geometry, volume geometry)`` and frees the projector afterwards."""
    import astra

    volume_geometry = astra.create_vol_geom(nz, nx)
    projection_geometry = astra.create_proj_geom("parallel", 1.0, nu, np.deg2rad(-np.asarray(angles)))
    projector = astra.create_projector("strip", projection_geometry, volume_geometry)
    try:
        yield astra, projector, projection_geometry, volume_geometry
    finally:
        astra.projector.delete(projector)


def astra_sirt(images, angles, nz, iterations):
    """ASTRA's 2-D CPU SIRT (strip projector, ``MinConstraint = 0``) slice by slice (one
    row of the tilt series each). Returns the ``(nz, ny, nx)`` volume."""
    n, ny, nx = images.shape
    out = np.empty((nz, ny, nx), dtype=np.float32)
    with astra_strip(nz, nx, nx, angles) as (astra, projector, projection_geometry, volume_geometry):
        for j in range(ny):
            sinogram = astra.data2d.create("-sino", projection_geometry, images[:, j, :])
            volume = astra.data2d.create("-vol", volume_geometry, 0.0)
            config = astra.astra_dict("SIRT")
            config.update(ProjectorId=projector, ProjectionDataId=sinogram, ReconstructionDataId=volume,
                          option={"MinConstraint": 0.0})
            algorithm = astra.algorithm.create(config)
            astra.algorithm.run(algorithm, iterations)
            out[:, j, :] = astra.data2d.get(volume)
            astra.algorithm.delete(algorithm)
            astra.data2d.delete([sinogram, volume])
    return out


def astra_forward(volume, angles, nu):
    """ASTRA's strip projection of a ``(nz, ny, nx)`` volume, slice by slice: ``(n, ny, nu)``."""
    nz, ny, nx = volume.shape
    out = np.empty((len(angles), ny, nu), dtype=np.float32)
    with astra_strip(nz, nx, nu, angles) as (astra, projector, _, _):
        for j in range(ny):
            sinogram_id, sinogram = astra.create_sino(np.ascontiguousarray(volume[:, j, :]), projector)
            out[:, j, :] = sinogram
            astra.data2d.delete(sinogram_id)
    return out


def run(capsys, *args):
    """``inrtomo ARGS`` in this process: ``(exit code, stdout, stderr)``."""
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def assert_user_error(code, err, *words):
    """A user's mistake: exit 2 and one ``inrtomo: error:`` line holding ``words``."""
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("inrtomo: error: "), err
    assert "Traceback" not in err
    for word in words:
        assert word in lines[0]
