import dataclasses

import numpy as np
import pytest
import torch

from inrtomo import InputError, metrics
from inrtomo.geometry import Poses
from inrtomo.projector import Projector
from inrtomo.recon import sirt, wbp
from inrtomo.recon.classical import reconstruct, volume_shape
from inrtomo.recon.wbp import angular_weights, ramp_filter
from inrtomo.simulate import Acquisition, make_phantom, simulate


@pytest.fixture(scope="module")
def full_range():
    acq = Acquisition(tilt_range=(-90, 88), tilt_step=2, supersample=2)
    return simulate(make_phantom("nanoparticles", 32), 32, acq)


WEDGE = Acquisition(tilt_range=(-60, 60), tilt_step=3, supersample=2)


@pytest.fixture(scope="module")
def misaligned():
    """±60° at 3°, true tilt-axis angle 10° and shifts of ~1.5 px that the file does not record."""
    acq = dataclasses.replace(WEDGE, tilt_axis_error=10.0, shift_std=1.5)
    return simulate(make_phantom("nanoparticles", 32, seed=4), 32, acq, seed=4)


def _wbp(series, poses=None, window="ramp"):
    poses = Poses.nominal(series.angles, series.tilt_axis_angle) if poses is None else poses
    projector = Projector(volume_shape(series), poses, series.shape[1:])
    return wbp(projector, torch.from_numpy(series.images), window).numpy()


def test_wbp_recovers_full_range_data_in_line_integral_units(full_range):
    truth = full_range.truth.data
    rec = _wbp(full_range.series)
    assert metrics.nrmse(rec, truth) < 0.25
    assert metrics.ssim(rec, truth) > 0.9
    assert rec.sum() == pytest.approx(truth.sum(), rel=0.05)
    # Mirrored angles (the wrong sign convention) reconstruct much worse.
    flipped = dataclasses.replace(full_range.series, angles=-full_range.series.angles)
    assert metrics.nrmse(_wbp(flipped), truth) > 2 * metrics.nrmse(rec, truth)


def test_windows_trade_noise_for_resolution(full_range):
    images = torch.from_numpy(full_range.series.images)
    def high_frequency_energy(x):
        return float((torch.fft.rfft(x, dim=-1).abs()[..., 12:] ** 2).sum())
    energies = [high_frequency_energy(ramp_filter(images, w)) for w in ("ramp", "shepp-logan", "hamming", "hann")]
    assert energies == sorted(energies, reverse=True) and energies[-1] < 0.5 * energies[0]
    with pytest.raises(InputError, match="unknown WBP filter"):
        ramp_filter(images, "gaussian")


def test_angular_weights_follow_file_order():
    tilts = np.array([0.0, 2.0, -2.0, 4.0, -4.0])
    w = angular_weights(tilts)
    np.testing.assert_allclose(w, np.deg2rad(2.0))
    uneven = angular_weights(np.array([-60.0, -30.0, 0.0, 10.0]))
    np.testing.assert_allclose(np.rad2deg(uneven), [30.0, 30.0, 20.0, 10.0])
    assert angular_weights(np.array([5.0]))[0] == pytest.approx(np.pi)


def test_reconstructions_use_the_true_poses(misaligned):
    """Given the true tilt-axis angle and shifts, WBP and SIRT recover the misaligned data
    as well as aligned data; ignoring them costs quality."""
    truth = misaligned.truth.data
    aligned = simulate(make_phantom("nanoparticles", 32, seed=4), 32, WEDGE, seed=4)
    for method in ("wbp", "sirt"):
        good, _ = reconstruct(misaligned.series, misaligned.poses, method=method, iterations=50, quiet=True)
        reference, _ = reconstruct(aligned.series, method=method, iterations=50, quiet=True)
        ignored, _ = reconstruct(misaligned.series, method=method, iterations=50, quiet=True)
        s_good, s_ref, s_ignored = (metrics.ssim(v.data, truth) for v in (good, reference, ignored))
        assert s_good > s_ref - 0.03, (method, s_good, s_ref)
        assert s_good > s_ignored + 0.05, (method, s_good, s_ignored)


def test_sirt_converges_and_respects_positivity(full_range):
    series = full_range.series
    projector = Projector((32, 32, 32), Poses.nominal(series.angles), (32, 32))
    images = torch.from_numpy(series.images)
    result = sirt(projector, images, 60, quiet=True)
    assert np.all(np.diff(result.residuals) < 0) and result.residuals[-1] < 0.1 * result.residuals[0]
    assert float(result.volume.min()) >= 0
    assert metrics.nrmse(result.volume.numpy(), full_range.truth.data) < 0.15
    free = sirt(projector, images, 60, positivity=False, quiet=True)
    assert float(free.volume.min()) < 0
    early = sirt(projector, images, 500, tol=1e-3, quiet=True)
    assert early.stopped_early and early.iterations < 500
    assert early.residuals[-2] - early.residuals[-1] < 1e-3 * early.residuals[-1]


def test_reconstruct_checks_its_inputs(full_range):
    with pytest.raises(InputError, match="3 poses for 90 images"):
        reconstruct(full_range.series, Poses.nominal([0.0, 1.0, 2.0]))
    with pytest.raises(InputError, match="unknown method"):
        reconstruct(full_range.series, method="art")
    with pytest.raises(InputError, match="--shape"):
        reconstruct(full_range.series, shape=(0, 32, 32))
    thin, summary = reconstruct(full_range.series, shape=(12, 32, 32), method="wbp")
    assert thin.shape == (12, 32, 32) and summary["projector"] == "slices"
    with pytest.raises(InputError, match="out-of-plane"):
        reconstruct(full_range.series, Poses(full_range.series.angles, 0, 0, 0, 2.0), method="wbp")
