import warnings

import numpy as np
import pytest

from inrtomo import InputError, TiltSeries, Volume


def _images(n=3, seed=0):
    return np.random.default_rng(seed).random((n, 5, 6)).astype(np.float32)


def test_valid_series_defaults():
    s = TiltSeries(_images(), [-10, 0, 10])
    assert s.images.dtype == np.float32 and s.shape == (3, 5, 6)
    np.testing.assert_allclose(s.times, [0, 0.5, 1])
    assert s.pixel_size == 1.0 and s.tilt_axis_angle == 0.0 and s.dose is None


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(images=np.ones((5, 6)), angles=[0]), "3-D"),
        (dict(images=np.zeros((0, 5, 6)), angles=[]), "empty"),
        (dict(images=_images(), angles=[0, 1]), "2 tilt angles for 3 images"),
        (dict(images=_images(), angles=[0, 1, np.nan]), "NaN"),
        (dict(images=np.where(np.arange(3)[:, None, None] == 1, np.nan, _images()), angles=[0, 1, 2]), r"view\(s\) 1;"),
        (dict(images=np.concatenate([_images(2), np.ones((1, 5, 6))]), angles=[0, 1, 2]), "constant"),
        (dict(images=_images(), angles=[0, 1, 2], pixel_size=0), "pixel size"),
        (dict(images=_images(), angles=[0, 1, 2], times=[0, 1]), "times"),
        (dict(images=_images(), angles=[0, 1, 2], dose=[1, -1, 1]), "negative"),
        (dict(images=_images().astype(np.complex64), angles=[0, 1, 2]), "real numbers"),
    ],
)
def test_validation_errors(kwargs, message):
    with pytest.raises(InputError, match=message):
        TiltSeries(**kwargs)


def test_warnings_for_duplicates_and_large_angles():
    with pytest.warns(UserWarning, match="duplicate"):
        TiltSeries(_images(), [0, 0, 10])
    with pytest.warns(UserWarning, match="more than half a turn"):
        TiltSeries(_images(), [-90, 10, 120])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        TiltSeries(_images(), [0, 90, 180])  # seed 001's full range


def test_subset_keeps_file_order_and_times():
    s = TiltSeries(_images(4), [30, -30, 10, -10], dose=[1, 2, 3, 4])
    sub = s.subset([3, 1])
    np.testing.assert_array_equal(sub.angles, [-10, -30])
    np.testing.assert_allclose(sub.times, [1.0, 1 / 3])
    np.testing.assert_array_equal(sub.dose, [4, 2])


def test_volume_validation():
    assert Volume(np.zeros((2, 3, 4), np.float64), 2.0).data.dtype == np.float32
    with pytest.raises(InputError, match="3-D"):
        Volume(np.zeros((3, 4)))
    with pytest.raises(InputError, match="NaN"):
        Volume(np.full((2, 2, 2), np.nan))
    with pytest.raises(InputError, match="voxel size"):
        Volume(np.zeros((2, 2, 2)), -1)
