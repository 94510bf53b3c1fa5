"""The atomic-level phantom (seed 001's nanotube with arriving carbon; extra ``atoms``)."""
import sys

import mrcfile
import numpy as np
import pytest

from inrtomo import InputError
from inrtomo.geometry import Poses
from inrtomo.simulate import Acquisition, simulate
from inrtomo.simulate.atoms import MIN_DISTANCE, AtomicPhantom, cnt_contamination

from helpers import assert_user_error, run

pytest.importorskip("abtem")  # the extra is installed by `make test`


@pytest.fixture(scope="module")
def cnt():
    return cnt_contamination(24, 1.25, "sweep", seed=0)


def test_an_atom_lands_in_the_voxel_the_conventions_say():
    # voxel (k, j, i) = (12, 4, 10) of 16³ has its centre at x = 2.5, y = −3.5, z = 4.5 voxels
    atom = AtomicPhantom((["Zr"], np.array([[2.5, -3.5, 4.5]])), np.empty((0, 3)), np.empty(0), 16, 1.0)
    volume = atom.voxelize((16, 16, 16))
    assert np.unravel_index(volume.argmax(), volume.shape) == (12, 4, 10)
    image = atom.project(Poses.nominal([0.0, 90.0]), (16, 16))
    assert np.unravel_index(image[0].argmax(), (16, 16)) == (4, 10)  # u = x at 0°
    assert np.unravel_index(image[1].argmax(), (16, 16)) == (4, 12)  # u = z at 90°
    np.testing.assert_allclose(image[0], volume.sum(axis=0), rtol=1e-4, atol=1e-4 * volume.sum(axis=0).max())


def test_the_carbon_arrives_during_acquisition_and_sweeps_from_minus_x(cnt):
    shape = (24, 24, 24)
    clean, half, full = (cnt.voxelize(shape, t) for t in (0.0, 0.5, 1.0))
    assert np.array_equal(clean, cnt.voxelize(shape, 0.01))  # nothing has arrived at t = 0
    grown = full - clean
    assert grown.min() >= -1e-3 * grown.max() and grown.sum() > 0.1 * clean.sum()
    middle = half - clean
    assert middle[:, :, :12].sum() > 3 * middle[:, :, 12:].sum()  # the front comes from −x
    distances = np.linalg.norm(cnt.carbon[:, None] - cnt.carbon[None], axis=-1) + np.eye(len(cnt.carbon)) * 99
    assert distances.min() >= MIN_DISTANCE
    assert np.hypot(cnt.carbon[:, 0], cnt.carbon[:, 2]).max() < 12 * 1.25  # inside the tilt cylinder


def test_simulated_views_see_the_sample_of_their_time(cnt):
    sim = simulate(cnt, 24, Acquisition(tilt_range=(-60, 60), tilt_step=30, supersample=2), seed=0)
    truth, last = sim.truth.data, cnt.voxelize((24, 24, 24), 1.0)
    assert np.array_equal(truth, cnt.voxelize((24, 24, 24), 0.0))
    first, final = sim.series.images[0], sim.series.images[-1]  # −60° at t = 0, +60° at t = 1
    assert final.sum() == pytest.approx(last.sum(), rel=0.02) and first.sum() == pytest.approx(truth.sum(), rel=0.02)


def test_cli_writes_the_atomic_simulation_and_refuses_a_small_box(tmp_path, capsys):
    code, _, _ = run(capsys, "simulate", tmp_path / "cnt", "--phantom", "cnt-contamination", "--size", "24",
                     "--pixel-size", "1.25", "--tilt-range", "-60", "60", "--tilt-step", "30")
    assert code == 0
    grown = mrcfile.read(tmp_path / "cnt" / "contamination.mrc")
    assert grown.shape == (24, 24, 24) and grown.sum() > 0
    code, _, err = run(capsys, "simulate", tmp_path / "small", "--phantom", "cnt-contamination", "--size", "24")
    assert_user_error(code, err, "cube of at least", "pixel size")
    assert not (tmp_path / "small").exists()


def test_without_abtem_the_phantom_says_which_extra_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "abtem", None)
    with pytest.raises(InputError, match=r"inrtomo\[atoms\]"):
        cnt_contamination(24, 1.25)
