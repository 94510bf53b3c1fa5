import numpy as np
import pytest
import torch
from scipy.ndimage import map_coordinates
from scipy.spatial.transform import Rotation

from inrtomo import InputError
from inrtomo.acquisition import SCHEMES, acquisition_order, describe_scheme, scheme_times, unseen_range
from inrtomo.geometry import Poses, detector_coordinates, view_rays
from inrtomo.simulate import Acquisition, Phantom, box, cylinder, ellipsoid, faceted, make_phantom, simulate

from helpers import interior_pixels, relative_error


def _ray(origin, direction):
    return torch.tensor(np.array([origin], dtype=float)), torch.tensor(np.array([direction], dtype=float))


def test_chord_lengths_of_primitives():
    rot = Rotation.from_euler("xyz", [20, -35, 50], degrees=True).as_matrix()
    d = rot @ np.array([1.0, 0, 0])  # along the ellipsoid's first axis, through its centre
    e = ellipsoid((1, 2, 3), (5, 3, 2), density=0.5, rotation=rot)
    o, dr = _ray(np.array([1, 2, 3]) - 20 * d, d)
    assert e.line_integrals(o, dr).item() == pytest.approx(0.5 * 2 * 5)
    # A ray at distance 3 from a sphere's centre has chord 2·sqrt(r² − 3²).
    s = ellipsoid((0, 0, 0), (5, 5, 5), density=1.0)
    assert s.line_integrals(*_ray((-9, 3, 0), (1, 0, 0))).item() == pytest.approx(2 * 4)
    assert s.line_integrals(*_ray((-9, 6, 0), (1, 0, 0))).item() == 0
    b = box((0, 0, 0), (2, 3, 4), density=2.0)
    diag = np.array([1.0, 0, 1]) / np.sqrt(2)  # enters x = -2 at z = -2, leaves x = 2 at z = 2
    assert b.line_integrals(*_ray(-5 * diag, diag)).item() == pytest.approx(2.0 * 4 * np.sqrt(2))
    c = cylinder((0, 0, 0), radius=2, half_length=5, density=1.0)
    assert c.line_integrals(*_ray((0, 0, -9), (0, 0, 1))).item() == pytest.approx(10)  # along the axis
    assert c.line_integrals(*_ray((-9, 0, 4.9), (1, 0, 0))).item() == pytest.approx(4)  # across, near an end
    assert c.line_integrals(*_ray((-9, 0, 5.1), (1, 0, 0))).item() == 0
    f = faceted((0, 0, 0), 10, 1.0, "cube")
    assert f.line_integrals(*_ray((-20, 0, 0), (1, 0, 0))).item() == pytest.approx(2 * 8.2)


def test_voxelised_volume_matches_analytic_volume():
    e = ellipsoid((0.3, -0.2, 0.1), (7, 5, 4), density=1.0)
    vol = Phantom([e]).voxelize((24, 24, 24), supersample=4)
    assert vol.sum() == pytest.approx(4 / 3 * np.pi * 7 * 5 * 4, rel=2e-3)
    assert vol.max() == pytest.approx(1.0) and vol.min() == 0.0


def test_overlapping_densities_add():
    a = ellipsoid((0, 0, 0), (4, 4, 4), 1.0)
    b = ellipsoid((0, 0, 0), (2, 2, 2), 0.5)
    o, d = _ray((0, 0, -10), (0, 0, 1))
    assert Phantom([a, b]).project(Poses.nominal([0.0]), (1, 1))[0, 0, 0] == pytest.approx(8 + 2, rel=2e-2)
    vol = Phantom([a, b]).voxelize((16, 16, 16))
    assert vol.max() == pytest.approx(1.5)


def _brute_force_projection(truth, pose, supersample=3, step=0.25):
    """Line integrals of the voxelised truth, taken as constant cubes (nearest voxel), by
    marching sub-pixel rays in small steps, each pixel averaged over its sub-pixel rays."""
    n = truth.shape[0]
    uu, vv = detector_coordinates(n, n, supersample)
    o, d = view_rays(pose, 0, torch.from_numpy(uu), torch.from_numpy(vv))
    steps = np.arange(-n, n, step) + step / 2
    pts = o.numpy()[..., None, :] + steps[:, None] * d.numpy()[..., None, :]  # (V, U, S, 3) xyz
    idx = [pts[..., a] + (n - 1) / 2 for a in (2, 1, 0)]  # z, y, x indices
    line = map_coordinates(truth, idx, order=0, mode="constant", cval=0.0).sum(-1) * step
    return line.reshape(n, supersample, n, supersample).mean(axis=(1, 3))


def projection_errors(phantom, truth, pose, image, margin=3):
    """``(relative L2 error on pixels ≥ margin px from every solid's projected outline,
    number of those pixels, relative total-mass error)`` of the brute-force projection of
    ``truth`` against the exact ``image`` of one view."""
    numeric = _brute_force_projection(truth, pose)
    mass = abs(numeric.sum() / image.sum() - 1)
    interior = interior_pixels(phantom, pose, image, margin)
    if not interior.any():
        return float("nan"), 0, mass
    return relative_error(numeric, image, interior), int(interior.sum()), float(mass)


ACCURACY_POSES = Poses([0.0, 37.0], [0.0, 8.0], [0.0, 1.5], [0.0, -0.75])


@pytest.mark.parametrize("name", ["nanoparticles", "shepp-logan", "hyperbranched"])
def test_phantom_projection_matches_numerical_integration_of_truth(name):
    """Exact projections agree with brute-force integration through the voxelised truth at
    64³: to better than 1 % (relative L2) on pixels 3 px or more from the projected outline
    of every solid, and in total mass to 0.5 % over the whole image (edges included)."""
    n = 64
    phantom = make_phantom(name, n, seed=1)
    truth = phantom.voxelize((n, n, n))
    exact = phantom.project(ACCURACY_POSES, (n, n), supersample=3)
    for i in range(len(ACCURACY_POSES)):
        rel, n_interior, mass = projection_errors(phantom, truth, ACCURACY_POSES.subset([i]), exact[i])
        assert mass < 0.005
        if name == "hyperbranched":  # thin rods at 64³: no pixel is 3 px from an outline
            continue
        assert n_interior > 300
        assert rel < 0.01, (name, i, rel)


def test_theta_zero_projection_equals_column_sums_exactly():
    phantom = make_phantom("nanoparticles", 32, seed=0)
    truth = phantom.voxelize((32, 32, 32), supersample=3)
    proj = phantom.project(Poses.nominal([0.0]), (32, 32), supersample=3)[0]
    np.testing.assert_allclose(proj, truth.sum(axis=0), atol=1e-4)


def test_conventions_point_lands_where_the_conventions_say():
    """A small bright sphere at (0, 0, +d) appears at u = d sin θ; ψ and shifts move it as stated."""
    n, d = 41, 8.0
    blob = Phantom([ellipsoid((0, 0, d), (3, 3, 3), 1.0)])
    uu, vv = detector_coordinates(n, n)

    def centroid(pose):
        img = blob.project(pose, (n, n), supersample=3)[0]
        return (img * uu).sum() / img.sum(), (img * vv).sum() / img.sum()

    for theta in (-50.0, 0.0, 30.0, 60.0):
        u, v = centroid(Poses.nominal([theta]))
        assert u == pytest.approx(d * np.sin(np.deg2rad(theta)), abs=0.01) and v == pytest.approx(0, abs=0.01)
    # Shift: recorded(u, v) = ideal(u − dx, v − dy): the feature moves by (+dx, +dy).
    u, v = centroid(Poses([30.0], 0.0, 2.0, -3.0))
    assert (u, v) == pytest.approx((d * 0.5 + 2.0, -3.0), abs=0.01)
    # ψ: recorded(p) = ideal(R(−ψ) p): the ideal feature at q appears at R(ψ) q.
    psi = np.deg2rad(90.0)
    u, v = centroid(Poses([30.0], 90.0, 0.0, 0.0))
    q = np.array([d * 0.5, 0.0])
    expected = np.array([[np.cos(psi), -np.sin(psi)], [np.sin(psi), np.cos(psi)]]) @ q
    assert (u, v) == pytest.approx(tuple(expected), abs=0.01)
    # The tilt axis runs along (−sin ψ, cos ψ): a feature on the axis (y = 5) lands there.
    on_axis = Phantom([ellipsoid((0, 5, 0), (3, 3, 3), 1.0)])
    img = on_axis.project(Poses([40.0], 25.0, 0.0, 0.0), (n, n), supersample=3)[0]
    c = np.array([(img * uu).sum(), (img * vv).sum()]) / img.sum()
    assert c == pytest.approx(5 * np.array([-np.sin(np.deg2rad(25)), np.cos(np.deg2rad(25))]), abs=0.01)


def test_acquisition_schemes_set_times_not_order():
    angles = np.arange(-6, 7, 2.0)  # -6 … 6
    np.testing.assert_array_equal(angles[acquisition_order(angles, "sequential")], angles)
    np.testing.assert_array_equal(angles[acquisition_order(angles, "bidirectional")], [0, 2, 4, 6, -2, -4, -6])
    np.testing.assert_array_equal(angles[acquisition_order(angles, "dose-symmetric")], [0, 2, -2, 4, -4, 6, -6])
    # fractional parts of i/φ for i = 0 … 6: 0, .618, .236, .854, .472, .090, .708
    np.testing.assert_array_equal(angles[acquisition_order(angles, "golden-ratio")], [-6, 4, -2, 2, -4, 6, 0])
    # sweeps: up through i = 0, 4; down through 5, 1; up through 2, 6; down through 3
    np.testing.assert_array_equal(angles[acquisition_order(angles, "four-pass")], [-6, 2, 4, -4, -2, 6, 0])
    for scheme in SCHEMES:
        t = scheme_times(angles, scheme)
        assert t.min() == 0 and t.max() == 1
        assert describe_scheme(angles, t) == scheme
    with pytest.raises(InputError, match="unknown acquisition scheme"):
        scheme_times(angles, "zigzag")


@pytest.mark.parametrize("n", [20, 41, 121])
def test_golden_ratio_and_four_pass_orders_sample_the_whole_range_throughout(n):
    angles = np.linspace(-60, 60, n)

    def widest_gap(scheme, window):  # over every run of `window` consecutive views, in tilt steps
        order = acquisition_order(angles, scheme)
        return max(np.diff(np.r_[0, np.sort(order[s:s + window]), n - 1]).max() for s in range(n - window + 1))

    assert widest_gap("golden-ratio", n // 4) <= 5  # any quarter of the acquisition; 4 if perfectly even
    assert widest_gap("four-pass", n // 2) <= 4  # any half holds a whole sweep
    assert widest_gap("sequential", n // 2) >= n - n // 2


def test_unseen_range_of_each_half_of_the_acquisition():
    angles = np.arange(-60, 61, 3.0)  # 41 tilts
    unseen = {scheme: unseen_range(angles, scheme_times(angles, scheme)) for scheme in SCHEMES}
    assert unseen["sequential"] == 60  # the first half sees −60° … 0°
    assert unseen["dose-symmetric"] == 63  # the last half: −30° and below, +33° and above
    assert unseen["bidirectional"] == 63
    assert unseen["four-pass"] == 9 and unseen["golden-ratio"] <= 12  # a few tilt steps
    assert unseen_range(angles[::-1], scheme_times(angles, "sequential")) == 60  # file order does not matter
    assert unseen_range([10.0], [0.0]) == 0


def test_simulation_is_reproducible_and_seed_dependent():
    acq = Acquisition(tilt_range=(-30, 30), tilt_step=15, fluence=300.0, shift_std=1.0, tilt_jitter=0.3, supersample=1)
    a = simulate(make_phantom("hyperbranched", 16, 5), 16, acq, seed=5)
    b = simulate(make_phantom("hyperbranched", 16, 5), 16, acq, seed=5)
    c = simulate(make_phantom("hyperbranched", 16, 6), 16, acq, seed=6)
    np.testing.assert_array_equal(a.series.images, b.series.images)
    np.testing.assert_array_equal(a.truth.data, b.truth.data)
    np.testing.assert_array_equal(a.poses.shift_x, b.poses.shift_x)
    assert not np.array_equal(a.series.images, c.series.images)
    assert not np.array_equal(a.truth.data, c.truth.data)


def test_misalignment_is_recorded_in_true_poses_not_in_the_series(small_sim):
    s, p = small_sim.series, small_sim.poses
    assert s.tilt_axis_angle == 0 and np.all(p.tilt_axis == 2.0)
    assert np.std(p.shift_x) > 0.3 and np.std(p.shift_y) > 0.3
    np.testing.assert_array_equal(p.tilt, s.angles)  # no jitter asked for
    assert describe_scheme(s.angles, s.times) == "bidirectional"
    assert s.dose is not None and s.dose.sum() == pytest.approx(500.0)


def test_random_walk_shift_rms_and_gaussian():
    acq = Acquisition(tilt_step=2, shift_std=2.0, shift_model="random-walk", supersample=1)
    sim = simulate(Phantom([ellipsoid((0, 0, 0), (3, 3, 3), 1.0)]), 16, acq, seed=0)
    assert np.sqrt(np.mean(sim.poses.shift_x**2)) == pytest.approx(2.0)
    steps = np.diff(sim.poses.shift_x)  # sequential: file order is acquisition order
    assert np.std(steps) < 1.0  # a walk moves in small steps


def test_noise_level_follows_fluence():
    phantom = Phantom([box((0, 0, 0), (6, 6, 6), 1.0)])
    clean = simulate(phantom, 16, Acquisition(tilt_range=(0, 0), angles=(0.0, 10.0), supersample=1)).series.images

    def rel_noise(fluence):
        acq = Acquisition(angles=(0.0, 10.0), fluence=fluence, supersample=1)
        noisy = simulate(phantom, 16, acq, seed=2).series.images
        inside = clean > 0.5 * clean.max()
        return np.std((noisy - clean)[inside] / clean[inside])

    low, high = rel_noise(200.0), rel_noise(20000.0)
    # Expected counts per pixel at the peak are fluence / n_views (1 Å pixels); noise ∝ 1/sqrt(counts).
    assert low == pytest.approx(1 / np.sqrt(100), rel=0.25)
    assert low / high == pytest.approx(10, rel=0.25)


def test_time_varying_hook():
    grow = ellipsoid((0, 0, 5), (3, 3, 3), 0.5)
    phantom = Phantom([ellipsoid((0, 0, 0), (4, 4, 4), 1.0)], dynamic=[(grow, lambda t: t)])
    acq = Acquisition(angles=(0.0, 0.0, 0.0), supersample=1)
    with pytest.warns(UserWarning, match="duplicate"):
        sim = simulate(phantom, 16, acq)
    totals = sim.series.images.sum(axis=(1, 2))
    assert totals[0] < totals[1] < totals[2]  # same view, more material later
    np.testing.assert_allclose(sim.truth.data, Phantom(phantom.shapes).voxelize((16, 16, 16)))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(tilt_range=(10, -10)), "MIN ≤ MAX"),
        (dict(tilt_step=0), "step > 0"),
        (dict(fluence=-1), "fluence"),
        (dict(shift_model="spiral"), "shift model"),
        (dict(shift_std=-1), "shift-std"),
        (dict(angles=(5.0,)), "at least two"),
    ],
)
def test_bad_acquisition_settings(kwargs, message):
    with pytest.raises(InputError, match=message):
        Acquisition(**kwargs).validate()


def test_unknown_phantom():
    with pytest.raises(InputError, match="unknown phantom"):
        make_phantom("cat", 32)


@pytest.mark.parametrize("name", ["nanoparticles", "shepp-logan", "hyperbranched"])
def test_phantoms_fit_the_field_of_view_at_every_tilt(name):
    """Every solid lies in the cylinder of radius N/2 about the tilt axis: nothing is cut off."""
    n = 32
    phantom = make_phantom(name, n, seed=2)
    truth = phantom.voxelize((n, n, n))
    z, x = np.meshgrid(*(np.arange(n) - (n - 1) / 2,) * 2, indexing="ij")
    outside = np.hypot(z, x) > n / 2
    assert truth[:, :, :][np.broadcast_to(outside[:, None, :], truth.shape)].max() == 0
    proj = phantom.project(Poses.nominal([-89.0, 0.0, 89.0]), (n, n), supersample=3)
    assert proj.sum(axis=(1, 2)) == pytest.approx(np.full(3, truth.sum()), rel=0.02)
