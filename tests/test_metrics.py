import numpy as np
import pytest
from scipy.ndimage import gaussian_filter
from skimage.metrics import structural_similarity

from inrtomo import InputError, metrics


@pytest.fixture
def truth(rng):
    vol = np.zeros((16, 12, 16))
    vol[4:12, 3:9, 5:11] = 1.0
    return vol + 0.5 * gaussian_filter(rng.random(vol.shape), 1.5)


def test_ssim_is_mean_over_xz_slices_with_support(truth, rng):
    truth = truth.copy()
    truth[:, 0, :] = 0  # an empty slice is not counted
    rec = truth + 0.1 * rng.normal(size=truth.shape)
    dr = truth.max() - truth.min()
    expected = np.mean([structural_similarity(truth[:, j, :], rec[:, j, :], data_range=dr) for j in range(1, 12)])
    assert metrics.ssim(rec, truth) == pytest.approx(expected)
    assert metrics.ssim(truth, truth) == pytest.approx(1.0)
    assert metrics.ssim(rec, truth) < 0.99


def test_ssim_does_not_rescale_the_reconstruction(truth):
    assert metrics.ssim(2 * truth, truth) < 0.95


def test_psnr_and_nrmse(truth):
    rec = truth + 0.1
    dr = truth.max() - truth.min()
    assert metrics.psnr(rec, truth) == pytest.approx(10 * np.log10(dr**2 / 0.01))
    assert metrics.nrmse(rec, truth) == pytest.approx(0.1 * np.sqrt(truth.size) / np.linalg.norm(truth))
    assert metrics.psnr(truth, truth) == float("inf")


def test_shape_mismatch_and_constant_truth():
    with pytest.raises(InputError, match="shape"):
        metrics.ssim(np.zeros((8, 8, 8)), np.zeros((8, 8, 9)))
    with pytest.raises(InputError, match="constant"):
        metrics.psnr(np.zeros((8, 8, 8)), np.ones((8, 8, 8)))


def test_fsc_identical_and_degraded(rng):
    a = gaussian_filter(rng.random((32, 32, 32)), 1.0)
    freq, curve = metrics.fsc(a, a)
    np.testing.assert_allclose(curve, 1.0, atol=1e-10)
    assert freq[-1] == pytest.approx(0.5)
    assert metrics.fsc_resolution(a, a, 0.143, voxel_size=2.0) == {"voxels": 2.0, "angstrom": 4.0}
    noisy = a + 0.02 * rng.normal(size=a.shape)
    res = metrics.fsc_resolution(a, noisy, 0.5)["voxels"]
    blurred_more = metrics.fsc_resolution(a, noisy + 0.05 * rng.normal(size=a.shape), 0.5)["voxels"]
    assert 2.0 < res < blurred_more  # more noise, worse (larger) resolution


def test_heldout_error_ignores_gain_and_offset(rng):
    predicted = rng.random((3, 8, 8))
    assert metrics.heldout_error(predicted, 2.5 * predicted + 0.7) == pytest.approx(0.0, abs=1e-12)
    assert metrics.heldout_error(predicted, predicted + 0.3 * rng.random(predicted.shape)) > 0.01


def test_holdout_split():
    train, held = metrics.holdout_split(10, 4)
    np.testing.assert_array_equal(held, [2, 6])
    assert sorted(np.concatenate([train, held]).tolist()) == list(range(10))
    with pytest.raises(InputError, match="--holdout"):
        metrics.holdout_split(10, 1)


def test_contamination_left_counts_kept_mass_and_cancels_blur():
    """A shell grown around a ball: a volume keeping half of it scores 0.5 on both
    measures; blurring the clean ball moves mass into the shell, which only the
    positive excess counts."""
    z, y, x = np.mgrid[:32, :32, :32] - 15.5
    r = np.sqrt(x**2 + y**2 + z**2)
    truth = (r < 8).astype(float)
    grown = 0.15 * ((r >= 8.5) & (r < 10))
    for clean, left in [(truth, 0.0), (truth + 0.5 * grown, 0.5), (truth + grown, 1.0)]:
        assert metrics.contamination_left(clean, truth, grown) == pytest.approx(left)
        assert metrics.contamination_excess(clean, truth, grown) == pytest.approx(left)
    blurred = gaussian_filter(truth, 1.0)
    assert metrics.contamination_excess(blurred, truth, grown) > 0.3
    assert abs(metrics.contamination_left(blurred, truth, grown)) < 0.05
