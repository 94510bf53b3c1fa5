import dataclasses

import pytest

from inrtomo import InputError, metrics
from inrtomo.recon import wbp
from inrtomo.simulate import Acquisition, make_phantom, simulate


@pytest.fixture(scope="module")
def full_range():
    acq = Acquisition(tilt_range=(-90, 88), tilt_step=2, supersample=2)
    return simulate(make_phantom("nanoparticles", 32), 32, acq)


def test_wbp_recovers_full_range_data_in_line_integral_units(full_range):
    rec = wbp(full_range.series)
    assert rec.shape == full_range.truth.shape and rec.voxel_size == full_range.truth.voxel_size
    assert metrics.nrmse(rec.data, full_range.truth.data) < 0.5
    assert metrics.ssim(rec.data, full_range.truth.data) > 0.75
    # Mirrored angles (the wrong sign convention) reconstruct much worse.
    flipped = dataclasses.replace(full_range.series, angles=-full_range.series.angles)
    assert metrics.nrmse(wbp(flipped).data, full_range.truth.data) > 2 * metrics.nrmse(rec.data, full_range.truth.data)


def test_wbp_refuses_rotated_tilt_axis(full_range):
    rotated = dataclasses.replace(full_range.series, tilt_axis_angle=5.0)
    with pytest.raises(InputError, match="tilt-axis angle"):
        wbp(rotated)
