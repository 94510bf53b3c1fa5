import numpy as np
import pytest
import torch

from inrtomo.geometry import PoseParameters, Poses, ideal_to_recorded, rays, recorded_to_ideal
from inrtomo.render import GridField, box_intervals, integrate


def _gaussian(centre, width):
    c = torch.tensor(centre, dtype=torch.float64)
    return lambda p: torch.exp(-((p - c) ** 2).sum(-1) / (2 * width**2))


def test_box_intervals_give_chords_and_misses():
    o = torch.tensor([[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 9.0, 0.0], [3.0, 1.0, 0.0]], dtype=torch.float64)
    d = torch.tensor([[0.0, 0.0, 1.0], [1.0, 0.0, 1.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]], dtype=torch.float64)
    d = d / d.norm(dim=-1, keepdim=True)
    near, far = box_intervals(o, d, (8, 16, 12))  # half sizes x 6, y 8, z 4
    np.testing.assert_allclose((far - near)[[0, 1, 3]], [8.0, 8 * np.sqrt(2), 12.0])
    assert far[2] <= near[2]  # y = 9 lies outside |y| ≤ 8


def test_midpoint_integral_of_a_gaussian_matches_closed_form():
    field = _gaussian([1.0, -2.0, 0.5], 2.5)
    o, d = rays(torch.tensor(0.4, dtype=torch.float64), torch.tensor(0.1, dtype=torch.float64), torch.tensor(0.3),
                torch.tensor(-0.2), 0.0, torch.tensor([0.7], dtype=torch.float64), torch.tensor([-1.5], dtype=torch.float64))
    near, far = box_intervals(o, d, (24, 24, 24))
    value = integrate(field, o, d, (24, 24, 24), 200)
    # closed form along the ray: exp(−ρ²/2w²) ∫ exp(−(t − t0)²/2w²) dt over [near, far]
    c = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    t0 = ((c - o) * d).sum(-1)
    rho2 = ((o + t0[..., None] * d - c) ** 2).sum(-1)
    w = 2.5
    exact = torch.exp(-rho2 / (2 * w**2)) * w * np.sqrt(np.pi / 2) * (
        torch.erf((far - t0) / (w * np.sqrt(2))) - torch.erf((near - t0) / (w * np.sqrt(2))))
    torch.testing.assert_close(value, exact, rtol=1e-4, atol=0)


def test_stratified_sampling_is_unbiased():
    field = _gaussian([0.0, 0.0, 2.0], 3.0)
    o = torch.zeros(1, 3, dtype=torch.float64)
    d = torch.tensor([[0.0, 0.0, 1.0]], dtype=torch.float64)
    mid = integrate(field, o, d, (20, 20, 20), 16)
    torch.testing.assert_close(mid, integrate(field, o, d, (20, 20, 20), 16, torch.full((1, 16), 0.5, dtype=torch.float64)))
    generator = torch.Generator().manual_seed(0)
    draws = [integrate(field, o, d, (20, 20, 20), 16, torch.rand(1, 16, dtype=torch.float64, generator=generator))
             for _ in range(200)]
    assert not torch.equal(draws[0], draws[1])
    assert float(torch.stack(draws).mean()) == pytest.approx(float(mid), rel=2e-3)


def test_grid_field_interpolates_voxel_values_and_holds_edges():
    volume = torch.arange(2 * 3 * 4, dtype=torch.float64).reshape(2, 3, 4)  # (z, y, x)
    field = GridField(volume)
    centre_of_voxel = torch.tensor([[1 - 1.5, 2 - 1.0, 1 - 0.5]], dtype=torch.float64)  # (x, y, z) of (1, 2, 1)
    torch.testing.assert_close(field(centre_of_voxel), volume[1, 2, 1].reshape(1))
    between = torch.tensor([[-1.0, 0.0, 0.0]], dtype=torch.float64)  # halfway in x and z
    expected = volume[:, 1, 0:2].mean()
    torch.testing.assert_close(field(between), expected.reshape(1))
    at_face = torch.tensor([[2.0, 1.0, 0.5]], dtype=torch.float64)  # x = nx/2: the edge voxel's value
    torch.testing.assert_close(field(at_face), volume[1, 2, 3].reshape(1))


def test_ray_geometry_without_out_of_plane_tilt_is_the_conventions_formula():
    theta, u, v = torch.tensor(0.6), torch.tensor([1.5, -2.0]), torch.tensor([0.25, 3.0])
    o, d = rays(theta, torch.tensor(0.0), torch.tensor(0.0), torch.tensor(0.0), 0.0, u, v)
    torch.testing.assert_close(o, torch.stack([u * torch.cos(theta), v, u * torch.sin(theta)], -1))
    torch.testing.assert_close(d, torch.tensor([-np.sin(0.6), 0.0, np.cos(0.6)]).float().expand(2, 3))
    o, d = rays(theta, torch.tensor(0.3), torch.tensor(1.0), torch.tensor(-2.0), torch.tensor(0.2), u, v)
    torch.testing.assert_close(d.norm(dim=-1), torch.ones(2))
    torch.testing.assert_close((o * d).sum(-1), torch.zeros(2), atol=1e-6, rtol=0)


@pytest.mark.parametrize("field_kind", ["gaussian", "grid"])
def test_pose_gradients_match_finite_differences(field_kind):
    """d(line integral)/d(θ, ψ, dx, dy, φ) by autograd equals central differences."""
    if field_kind == "gaussian":
        field = _gaussian([2.0, -1.0, 3.0], 3.0)
    else:
        x = torch.linspace(-1, 1, 12, dtype=torch.float64)
        zz, yy, xx = torch.meshgrid(x, x, x, indexing="ij")
        field = GridField(torch.exp(-4 * ((xx - 0.2) ** 2 + (yy + 0.1) ** 2 + (zz - 0.3) ** 2)))
    u = torch.tensor([1.3, -2.6, 0.4], dtype=torch.float64)
    v = torch.tensor([0.6, 1.1, -3.2], dtype=torch.float64)
    pose = tuple(torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in (0.5, 0.2, 0.7, -0.4, 0.1))

    def project(*p):
        o, d = rays(*p, u, v)
        return integrate(field, o, d, (12, 12, 12), 64)

    assert torch.autograd.gradcheck(project, pose, eps=1e-6, atol=1e-6, rtol=1e-4)


def test_pose_parameters_start_at_nominal_and_learn_offsets():
    poses = Poses([-30.0, 0.0, 30.0], 4.0, [0.5, 0.0, -0.5], 0.0)
    model = PoseParameters(poses, dtype=torch.float64)
    back = model.to_poses()
    np.testing.assert_allclose(back.tilt, poses.tilt)
    np.testing.assert_allclose(back.tilt_axis, poses.tilt_axis)
    np.testing.assert_allclose(back.shift_x, poses.shift_x)
    views = torch.tensor([0, 2])
    o, d = model.rays(views, torch.tensor([1.0, 2.0], dtype=torch.float64), torch.tensor([0.0, 1.0], dtype=torch.float64))
    (o.sum() + d.sum()).backward()
    assert model.axis.grad is not None and model.out_of_plane.grad.abs().sum() > 0
    for group in (model.rotation, model.tilt, model.shift, model.out_of_plane):  # view 1 was not drawn
        assert group.grad[1].abs().sum() == 0 and group.grad[[0, 2]].abs().sum() > 0
    with torch.no_grad():
        model.axis += np.deg2rad(1.0)
    np.testing.assert_allclose(model.to_poses().tilt_axis, poses.tilt_axis + 1.0)


def test_gauge_fixing_removes_only_what_a_moved_volume_explains():
    """A volume moved by (tx, ty, tz) moves view θ's ideal image by (tx cos θ + tz sin θ, ty),
    recorded at R(ψ) of that; a common tilt or rotation offset turns it. fix_gauge removes
    exactly such offsets and keeps what is orthogonal to them."""
    theta = np.linspace(-60, 60, 13)
    psi = np.deg2rad(5.0)
    model = PoseParameters(Poses(theta, 5.0, 0.0, 0.0), dtype=torch.float64)
    t = np.deg2rad(theta)
    wobble = np.sin(3 * t) - np.sin(3 * t).mean()
    kept = wobble - np.cos(t) * (np.cos(t) @ wobble) / (np.cos(t) @ np.cos(t))  # made ⟂ cos θ, then ⟂ sin θ
    kept -= np.sin(t) * (np.sin(t) @ kept) / (np.sin(t) @ np.sin(t))  # (sin θ ⟂ cos θ on symmetric angles)
    eu = 2.0 * np.cos(t) + 1.5 * np.sin(t) + 0.3 * kept  # a moved volume plus a true shift pattern
    ev = np.full_like(t, 0.7)
    with torch.no_grad():
        model.shift[:, 0] = torch.from_numpy(np.cos(psi) * eu - np.sin(psi) * ev)
        model.shift[:, 1] = torch.from_numpy(np.sin(psi) * eu + np.cos(psi) * ev)
        model.rotation[:] = 0.03
    model.fix_gauge()
    shift = model.shift.detach().numpy()
    np.testing.assert_allclose(shift[:, 0], np.cos(psi) * 0.3 * kept, atol=1e-9)  # R(ψ) (0.3 kept, 0); the common
    np.testing.assert_allclose(shift[:, 1], np.sin(psi) * 0.3 * kept, atol=1e-9)  # rotation offset is gone first
    np.testing.assert_allclose(model.rotation.detach().numpy(), 0.0, atol=1e-12)
    with torch.no_grad():
        model.tilt[:] = torch.from_numpy(0.01 + 0.02 * wobble)
    model.fix_gauge()
    np.testing.assert_allclose(model.tilt.detach().numpy(), 0.02 * wobble, atol=1e-12)


def test_image_warps_follow_the_conventions_and_invert():
    """recorded(p) = ideal(R(−ψ)(p − d)): integer shifts move pixels exactly; ψ = 90° turns
    the ideal u axis into the recorded v axis; recorded→ideal undoes ideal→recorded."""
    ideal = torch.zeros(1, 9, 9, dtype=torch.float64)
    ideal[0, 4, 6] = 1.0  # (u, v) = (2, 0)
    zero = torch.zeros(1, dtype=torch.float64)
    shifted = ideal_to_recorded(ideal, zero, torch.tensor([1.0], dtype=torch.float64),
                                torch.tensor([-2.0], dtype=torch.float64), (9, 9))
    assert float(shifted[0, 2, 7]) == pytest.approx(1.0) and float(shifted.sum()) == pytest.approx(1.0)
    turned = ideal_to_recorded(ideal, torch.tensor([np.pi / 2], dtype=torch.float64), zero, zero, (9, 9))
    assert turned[0, 6, 4] == pytest.approx(1.0)  # R(90°)(2, 0) = (0, 2)
    yy, xx = torch.meshgrid(torch.arange(24.0, dtype=torch.float64), torch.arange(24.0, dtype=torch.float64), indexing="ij")
    smooth = torch.exp(-((xx - 12.5) ** 2 + (yy - 11) ** 2) / 100)[None]
    psi, dx, dy = (torch.tensor([a], dtype=torch.float64) for a in (0.3, 1.7, -0.6))
    back = recorded_to_ideal(ideal_to_recorded(smooth, psi, dx, dy, (24, 24)), psi, dx, dy, (24, 24))
    torch.testing.assert_close(back[0, 6:-6, 6:-6], smooth[0, 6:-6, 6:-6], atol=0.01, rtol=0)


def test_smooth_resampling_blurs_alike_at_every_offset_and_keeps_positions():
    """The B-spline resampling of alignment: white noise keeps nearly the same variance
    whether pixels are sampled on (offset 0) or between (0.5 px) the source's, 0.85 of it
    (Σβ³² = 0.4601 / 0.5 per axis), where bilinear keeps a quarter; a blob lands where the
    bilinear warp puts it."""
    noise = torch.from_numpy(np.random.default_rng(0).normal(size=(1, 64, 64)))
    zero = torch.zeros(1, dtype=torch.float64)
    half = torch.full((1,), 0.5, dtype=torch.float64)
    variance = {}
    for smooth in (False, True):
        on, between = (recorded_to_ideal(noise, zero, d, d, (48, 48), smooth=smooth).var() for d in (zero, half))
        variance[smooth] = float(between / on)
    assert variance[False] == pytest.approx(0.25, abs=0.05)
    assert variance[True] == pytest.approx((0.4601 / 0.5) ** 2, abs=0.05)
    yy, xx = torch.meshgrid(torch.arange(32.0, dtype=torch.float64), torch.arange(32.0, dtype=torch.float64), indexing="ij")
    blob = torch.exp(-((xx - 17.3) ** 2 + (yy - 13.8) ** 2) / 18)[None]
    psi, dx, dy = (torch.tensor([a], dtype=torch.float64) for a in (0.2, 1.3, -0.7))
    centres = []
    for smooth in (False, True):
        image = recorded_to_ideal(blob, psi, dx, dy, (32, 32), smooth=smooth)[0]
        centres.append([float((image * c).sum() / image.sum()) for c in (xx, yy)])
    np.testing.assert_allclose(centres[0], centres[1], atol=0.02)
