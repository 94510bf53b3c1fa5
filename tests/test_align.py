import numpy as np
import pytest
import torch

from inrtomo import InputError
from inrtomo.align import align_series, aligned_stack, coarse_align, tilt_axis_angle
from inrtomo.data import TiltSeries
from inrtomo.geometry import Poses, ideal_to_recorded
from inrtomo.recon.inr import INRConfig, train_inr
from inrtomo.simulate import Acquisition, make_phantom, simulate

from helpers import shift_error


@pytest.mark.parametrize("phantom, psi, shift", [
    ("hyperbranched", -6.0, 3.0), ("hyperbranched", 0.0, 0.0), ("nanoparticles", 3.0, 1.5), ("nanoparticles", 0.0, 0.0)])
def test_coarse_alignment_finds_the_tilt_axis_and_shifts(phantom, psi, shift):
    """32³, ±60° at 3°, 5000 e/Å²: the shifts come out within 0.25 px RMS (measured
    0.04–0.14 px) and the tilt axis within 0.75° (measured errors over noise seeds 1–3 at
    most 0.22° on hyperbranched and 0.50° on nanoparticles; noise sets the limit)."""
    acq = Acquisition(tilt_range=(-60, 60), tilt_step=3, fluence=5000.0, tilt_axis_error=psi, shift_std=shift)
    sim = simulate(make_phantom(phantom, 32, seed=1), 32, acq, seed=1)
    found = coarse_align(sim.series.images, sim.series.angles)
    assert abs(found.tilt_axis[0] - psi) < 0.75
    assert shift_error(found, sim.poses) < 0.25
    np.testing.assert_array_equal(found.tilt, sim.series.angles)


@pytest.mark.parametrize("phantom, psi", [("nanoparticles", 6.0), ("hyperbranched", -4.0)])
def test_common_line_tilt_axis_is_exact_without_noise(phantom, psi):
    """64³, ±60° at 3°, 3 px random-walk shifts, noise-free projections integrated over each
    pixel: the common line puts the tilt axis within 0.05° (measured at most 0.02° over the
    six cases of benchmarks/alignment.py)."""
    acq = Acquisition(tilt_range=(-60, 60), tilt_step=3, tilt_axis_error=psi, shift_std=3.0, shift_model="random-walk")
    sim = simulate(make_phantom(phantom, 64, seed=1), 64, acq, seed=1)
    assert abs(tilt_axis_angle(sim.series.images) - psi) < 0.05


def test_coarse_alignment_with_a_known_axis_and_bad_input():
    acq = Acquisition(tilt_range=(-60, 60), tilt_step=6, supersample=1, shift_std=2.0)
    sim = simulate(make_phantom("nanoparticles", 32, seed=2), 32, acq, seed=2)
    found = coarse_align(sim.series.images, sim.series.angles, tilt_axis=0.0)
    assert np.all(found.tilt_axis == 0.0)
    assert shift_error(found, sim.poses) < 0.25
    with pytest.raises(InputError, match="at least three views"):
        coarse_align(sim.series.images[:2], sim.series.angles[:2])


def test_aligned_stack_undoes_tilt_axis_and_shifts():
    """A spot recorded at ψ = 7° with shift (2, −1.5) px is back at its ideal position in
    the aligned stack, which carries the poses' tilt angles and ψ = 0."""
    ideal = torch.zeros(3, 32, 32, dtype=torch.float64)
    ideal[:, 20, 9] = 1.0  # (u, v) = (−6.5, 4.5)
    poses = Poses([-30.0, 0.0, 30.0], 7.0, [2.0, 0.0, -1.0], [-1.5, 0.5, 0.0])
    psi, dx, dy = (torch.from_numpy(a) for a in (np.deg2rad(poses.tilt_axis), poses.shift_x, poses.shift_y))
    recorded = ideal_to_recorded(ideal, psi, dx, dy, (32, 32)).numpy()
    aligned = aligned_stack(TiltSeries(recorded, [-29.0, 1.0, 31.0], tilt_axis_angle=7.0), poses)
    assert aligned.tilt_axis_angle == 0.0
    np.testing.assert_array_equal(aligned.angles, poses.tilt)
    yy, xx = np.mgrid[:32, :32]
    for image in aligned.images:
        window = image[16:25, 5:14]
        centre = ((window * xx[16:25, 5:14]).sum() / window.sum(), (window * yy[16:25, 5:14]).sum() / window.sum())
        np.testing.assert_allclose(centre, (9, 20), atol=0.05)


def test_refinement_recovers_shifts_from_the_coarse_poses():
    """32³ nanoparticles, ±60° at 3°, true ψ = 3°, 1.5 px random shifts: coarse alignment,
    then 150 INR steps learning axis and shifts. The shifts end within 0.1 px RMS (measured
    0.03 px; coarse 0.07 px). The tilt axis stays near the coarse estimate (measured 3.68°
    → 3.66°): within 1° of the truth here, not the issue's 0.1° (benchmarks/RESULTS.md)."""
    acq = Acquisition(tilt_range=(-60, 60), tilt_step=3, fluence=5000.0, supersample=1, tilt_axis_error=3.0,
                      shift_std=1.5)
    sim = simulate(make_phantom("nanoparticles", 32, seed=1), 32, acq, seed=1)
    found = align_series(sim.series, config=INRConfig(steps=150, rays_per_step=1024, align="axis,shift"), quiet=True)
    assert len(found.losses) == 150 and found.losses[-1] < found.losses[0]
    assert shift_error(found.poses, sim.poses) < 0.1
    assert shift_error(found.poses, sim.poses) < shift_error(found.coarse, sim.poses)
    assert abs(found.poses.tilt_axis.mean() - 3.0) < 1.0
    skipped = align_series(sim.series, config=None)
    assert skipped.poses is skipped.coarse and not skipped.losses


def test_alignment_leaves_an_aligned_series_aligned():
    """Started at the true poses, 150 INR steps with --align axis,shift move the tilt axis
    by less than 0.2° and the shifts by less than 0.1 px RMS."""
    acq = Acquisition(tilt_range=(-60, 60), tilt_step=3, fluence=5000.0, supersample=1)
    sim = simulate(make_phantom("hyperbranched", 32, seed=1), 32, acq, seed=1)
    config = INRConfig(steps=150, rays_per_step=1024, align="axis,shift")
    poses = train_inr(torch.from_numpy(sim.series.images), sim.poses, (32, 32, 32), config, quiet=True).poses
    assert abs(poses.tilt_axis.mean()) < 0.2
    assert shift_error(poses, sim.poses) < 0.1
