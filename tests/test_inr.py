import dataclasses
import math
import warnings

import numpy as np
import pytest
import torch

from inrtomo import InputError, metrics
from inrtomo.fields import FIELDS, LEARNING_RATES, HashGrid, make_field
from inrtomo.fields.encodings import _Gather
from inrtomo.geometry import Poses
from inrtomo.projector import Projector
from inrtomo.recon.classical import reconstruct
from inrtomo.recon.inr import (PASSES, RAYS, SPARSITY, INRConfig, _sparsity, choose_loss, mean_positive_count,
                               rate_factor, rays_per_step, sample_grid, train_inr)
from inrtomo.simulate import Acquisition, make_phantom, simulate

from helpers import relative_error

WEDGE_45 = Acquisition(tilt_range=(-45, 45), tilt_step=3, fluence=3000.0, supersample=2)
FAST = INRConfig(rays_per_step=1024)  # the default but half the rays per step, for test speed


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_inr_beats_sirt_on_a_missing_wedge_and_fits_the_data(seed):
    """32³ nanoparticles, ±45° at 3°, noisy: the INR's ssim exceeds SIRT's best (10 to 640
    iterations, chosen with the truth; measured margins 0.129–0.189), and its projections fit
    the measured images nearly as well as the truth's do (whose misfit is the noise)."""
    sim = simulate(make_phantom("nanoparticles", 32, seed=seed), 32, WEDGE_45, seed=seed)
    config = INRConfig(**{**vars(FAST), "seed": seed})
    result = train_inr(torch.from_numpy(sim.series.images), sim.poses, sim.truth.shape, config, quiet=True)
    truth = sim.truth.data
    sirt_best = max(metrics.ssim(reconstruct(sim.series, iterations=k, tol=0, quiet=True)[0].data, truth)
                    for k in (10, 40, 160, 640))
    inr = sample_grid(result.field, truth.shape)
    assert metrics.ssim(inr, truth) > sirt_best + 0.05
    assert np.isfinite(result.losses).all() and result.losses[-1] < 0.5 * result.losses[0]

    projector = Projector(truth.shape, sim.poses, sim.series.shape[1:])
    misfit = relative_error(projector.A(torch.from_numpy(inr)).numpy(), sim.series.images)
    noise = relative_error(projector.A(torch.from_numpy(truth)).numpy(), sim.series.images)
    assert misfit < 1.5 * noise


@pytest.mark.parametrize("name", FIELDS)
def test_every_field_trains_a_few_steps_without_nan(name):
    sim = simulate(make_phantom("nanoparticles", 16, seed=0), 16, Acquisition(tilt_step=10, supersample=1), seed=0)
    config = INRConfig(field=name, steps=5, rays_per_step=256, eval_every=2)
    result = train_inr(torch.from_numpy(sim.series.images), sim.poses, (16, 16, 16), config, quiet=True)
    assert len(result.losses) == 5 and np.isfinite(result.losses).all() and len(result.heldout) == 3
    volume = sample_grid(result.field, (16, 16, 16))
    assert np.isfinite(volume).all() and volume.min() >= 0  # softplus output


def test_a_collapsed_network_is_reported():
    """Too large a learning rate, at once (no warm-up), drives the positional MLP's output
    far below softplus's range: the volume is blank, and training says so."""
    sim = simulate(make_phantom("nanoparticles", 16, seed=0), 16, Acquisition(tilt_step=10, supersample=1), seed=0)
    images = torch.from_numpy(sim.series.images)
    with pytest.warns(UserWarning, match="zero everywhere"):
        collapsed = train_inr(images, sim.poses, (16, 16, 16),
                              INRConfig(field="positional", steps=20, rays_per_step=256, learning_rate=0.3,
                                        warmup=0), quiet=True)
    assert sample_grid(collapsed.field, (16, 16, 16)).max() == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        train_inr(images, sim.poses, (16, 16, 16), INRConfig(steps=20, rays_per_step=256), quiet=True)


def test_training_is_reproducible_on_cpu():
    sim = simulate(make_phantom("nanoparticles", 16, seed=0), 16, Acquisition(tilt_step=10, supersample=1), seed=0)
    images = torch.from_numpy(sim.series.images)
    seen = []
    runs = [train_inr(images, sim.poses, (16, 16, 16), INRConfig(steps=6, rays_per_step=128, seed=s), quiet=True,
                      on_step=lambda step, net: seen.append(step)) for s in (3, 3, 4)]
    assert runs[0].losses == runs[1].losses and runs[0].losses != runs[2].losses
    assert seen == [1, 2, 3, 4, 5, 6] * 3


def test_grid_sampling_is_chunked_and_upsampled():
    net = make_field("fourier", (6, 8, 10), seed=1)
    whole = sample_grid(net, (6, 8, 10))
    torch.testing.assert_close(torch.from_numpy(sample_grid(net, (6, 8, 10), chunk=1)), torch.from_numpy(whole))
    fine = sample_grid(net, (6, 8, 10), upsample=2)
    assert fine.shape == (12, 16, 20)
    # voxel centres of the fine grid interleave with the coarse one: the fine grid's point
    # (x, y, z) = (±0.25, …) straddles the coarse centre (0.5 voxel offset for even sizes)
    with torch.no_grad():
        point = torch.tensor([[0.5 - 0.25, 0.5 - 0.25, 0.5 - 0.25]])
        assert float(net(point)) == pytest.approx(float(fine[6, 8, 10]), rel=1e-5)


def test_hash_grid_gradient_sums_repeated_entries():
    table = torch.randn(64, 2, dtype=torch.float64, requires_grad=True)
    index = torch.tensor([3, 5, 3, 63, 3])
    weights = torch.randn(5, 2, dtype=torch.float64)
    (grad,) = torch.autograd.grad((_Gather.apply(table, index) * weights).sum(), table)
    (expected,) = torch.autograd.grad((table[index] * weights).sum(), table)
    torch.testing.assert_close(grad, expected)
    grid = HashGrid(levels=3, log2_table=10, base_resolution=4, finest_resolution=32)
    assert grid.resolutions == [4, 11, 32] and grid.out_dim == 6
    points = torch.rand(100, 3) * 2 - 1
    assert torch.autograd.gradcheck(lambda t: _Gather.apply(t, torch.tensor([1, 1, 2])), (table,))
    assert grid(points).shape == (100, 6)


def test_coarse_to_fine_switches_finer_hash_grid_levels_on_during_training():
    grid = HashGrid(levels=4, log2_table=10, base_resolution=4, finest_resolution=32)
    points = torch.rand(200, 3) * 2 - 1
    grid.reveal(0.0)
    features = grid(points)
    assert features[:, 2:].abs().max() == 0 and features[:, :2].abs().max() > 0  # the coarsest level alone
    features.sum().backward()
    assert grid.tables.grad[1:].abs().max() == 0 and grid.tables.grad[0].abs().max() > 0
    grid.reveal(0.5)
    assert grid.weights.tolist() == [1.0, 1.0, 0.5, 0.0]
    grid.reveal(1.0)
    assert (grid(points)[:, 6:] != 0).any()

    sim = simulate(make_phantom("nanoparticles", 16, seed=0), 16, Acquisition(tilt_step=10, supersample=1), seed=0)
    seen = []
    train_inr(torch.from_numpy(sim.series.images), sim.poses, (16, 16, 16),
              INRConfig(steps=10, rays_per_step=128, coarse_to_fine=0.5), quiet=True,
              on_step=lambda step, net: seen.append(net.encoding.weights.tolist()))
    assert seen[0] == [1.0] + [0.0] * 7  # step 1: the coarsest level alone
    assert all(a <= b for before, after in zip(seen, seen[1:]) for a, b in zip(before, after))
    assert seen[4] != seen[5] == seen[-1] == [1.0] * 8  # all on from half of the steps
    with pytest.raises(InputError, match="coarse_to_fine"):
        INRConfig(coarse_to_fine=1.5).validate()


def test_a_low_dose_series_of_counts_is_fitted_with_the_poisson_loss(monkeypatch):
    """At 150 e/Å² most pixels count zero (1.4 counts where any were counted). ``auto``
    picks the Poisson loss, which fits each pixel's mean: the volume keeps its mass and is
    far ahead of SIRT (measured ssim 0.835 vs 0.414, psnr 27.4 vs 24.7 dB, mass 0.97).
    smooth-l1, asked for, warns: it fits medians, so even without the sparsity prior (with
    it the field empties) the volume keeps 0.43 of the mass; its β falling from 3 during the
    coarse phase is what keeps the field alive at all (β 0.1 throughout: zero)."""
    sim = simulate(make_phantom("nanoparticles", 32, seed=0), 32,
                   Acquisition(tilt_range=(-60, 60), tilt_step=2, fluence=150.0, supersample=1), seed=0)
    images, truth = torch.from_numpy(sim.series.images), sim.truth.data

    def fit(config):
        result = train_inr(images, sim.poses, truth.shape, config, quiet=True)
        return result.loss, sample_grid(result.field, truth.shape)

    with warnings.catch_warnings():
        warnings.filterwarnings("error", "the tilt series looks like raw counts")
        loss, volume = fit(FAST)
    sirt = [reconstruct(sim.series, iterations=k, tol=0, quiet=True)[0].data for k in (10, 20, 40)]
    assert loss == "poisson" and volume.sum() > 0.85 * truth.sum()
    assert metrics.ssim(volume, truth) > max(metrics.ssim(v, truth) for v in sirt) + 0.3
    assert metrics.psnr(volume, truth) > max(metrics.psnr(v, truth) for v in sirt) + 1.5
    median = dataclasses.replace(FAST, loss="smooth-l1", sparsity=0.0)
    with pytest.warns(UserWarning, match=r"raw counts, 1\.4 per pixel .* --loss poisson"):
        loss, volume = fit(median)
    assert loss == "smooth-l1" and 0.2 * truth.sum() < volume.sum() < 0.7 * truth.sum()
    monkeypatch.setattr("inrtomo.recon.inr.SMOOTH_L1_BETA", (0.1, 0.1))
    with pytest.warns(UserWarning, match="zero everywhere"), warnings.catch_warnings():
        warnings.filterwarnings("ignore", "the tilt series looks like raw counts")
        assert fit(median)[1].max() < 1e-6 * truth.max()


def test_auto_fits_analogue_data_and_higher_counts_with_smooth_l1():
    generator = np.random.default_rng(1)
    assert choose_loss("auto", torch.from_numpy(generator.poisson(1.0, 50_000) * 0.37)) == "poisson"
    assert choose_loss("auto", torch.from_numpy(generator.poisson(8.0, 50_000) * 0.37)) == "smooth-l1"
    assert choose_loss("auto", torch.from_numpy(generator.gamma(0.5, 1.0, 50_000))) == "smooth-l1"
    assert choose_loss("mse", torch.from_numpy(generator.poisson(1.0, 50_000) * 1.0)) == "mse"


def test_the_sparsity_prior_is_a_mean_over_the_volume_the_rays_cross():
    values = torch.tensor([[2.0, 2.0, 2.0], [5.0, 0.0, 9.0]])
    assert _sparsity(values, torch.tensor([0.7, 0.0]), 4.0) == pytest.approx(math.sqrt(0.5 + SPARSITY[1]))
    long_ray = _sparsity(torch.tensor([[0.0], [4.0]]), torch.tensor([3.0, 1.0]), 4.0)  # a ray 3× as long weighs 3×
    assert long_ray == pytest.approx((3 * math.sqrt(SPARSITY[1]) + math.sqrt(1 + SPARSITY[1])) / 4)


def test_the_sparsity_prior_is_on_for_a_static_hash_grid_with_fixed_poses_unless_given():
    assert INRConfig().sparsity == SPARSITY[0] > 0
    assert INRConfig(align="shift").sparsity == INRConfig(dynamic="spacetime").sparsity == 0.0
    assert INRConfig(field="positional").sparsity == INRConfig(field="fourier").sparsity == 0.0
    assert INRConfig(align="shift", sparsity=0.2).sparsity == 0.2 and INRConfig(sparsity=0.0).sparsity == 0.0
    with pytest.raises(InputError, match="sparsity weights must not be negative"):
        INRConfig(sparsity=-0.1).validate()


def test_raw_counts_are_recognised_by_their_quantum():
    generator = np.random.default_rng(0)
    counts = generator.poisson(0.8, 50_000).astype(np.float32)
    scaled = torch.from_numpy(counts * 0.37)
    assert mean_positive_count(scaled) == pytest.approx(counts[counts > 0].mean(), rel=1e-6)
    assert mean_positive_count(scaled + 0.05) is None  # an offset: not whole multiples
    assert mean_positive_count(scaled - 0.37) is None  # negative pixels
    assert mean_positive_count(torch.from_numpy(generator.gamma(2.0, 1.0, 50_000))) is None  # analogue signal


def test_learning_rate_warms_up_then_decays():
    rates = [rate_factor(step, 200, 20) for step in range(200)]
    assert rates[0] == pytest.approx(0.05, abs=1e-3) and rates[9] == pytest.approx(0.5, abs=1e-2)
    assert max(rates) == rates[19] and all(a >= b for a, b in zip(rates[19:], rates[20:]))
    assert rates[-1] == pytest.approx(0.05, abs=1e-3) and rate_factor(0, 200) == 1.0
    with pytest.raises(InputError, match="warm-up"):
        INRConfig(warmup=-1).validate()


def test_a_small_series_gets_fewer_rays_per_step_unless_they_are_given():
    default = INRConfig()
    assert rays_per_step(default, 61 * 64 * 64) == RAYS  # 64³, ±60° at 2°: the full batch
    small = rays_per_step(default, 18 * 64 * 64)  # ±70° at 8°
    assert small < RAYS and small * default.steps == pytest.approx(PASSES * 18 * 64 * 64, abs=default.steps)
    assert rays_per_step(default, 10) == 64 and rays_per_step(INRConfig(rays_per_step=500), 18 * 64 * 64) == 500
    for measured in (INRConfig(align="shift"), INRConfig(dynamic="spacetime")):  # keep the batch they were measured with
        assert rays_per_step(measured, 18 * 64 * 64) == RAYS
    sim = simulate(make_phantom("nanoparticles", 16, seed=0), 16, Acquisition(tilt_step=10, supersample=1), seed=0)
    config = INRConfig(steps=20)
    result = train_inr(torch.from_numpy(sim.series.images), sim.poses, (16, 16, 16), config, quiet=True)
    pixels = sim.series.images.size  # less the held-out ones (at most 2 %)
    assert rays_per_step(config, int(0.98 * pixels)) <= result.rays_per_step <= rays_per_step(config, pixels) < RAYS
    with pytest.raises(InputError, match="rays per step"):
        INRConfig(rays_per_step=-1).validate()


def test_poses_stay_fixed_during_training():
    sim = simulate(make_phantom("nanoparticles", 16, seed=0), 16, Acquisition(tilt_step=10, supersample=1), seed=0)
    poses = Poses(sim.poses.tilt, 3.0, 0.5, 0.0)
    result = train_inr(torch.from_numpy(sim.series.images), poses, (16, 16, 16), INRConfig(steps=3, rays_per_step=64),
                       quiet=True)
    assert all(p.requires_grad for p in result.field.parameters())
    for name in ("tilt", "tilt_axis", "shift_x", "shift_y", "out_of_plane"):
        np.testing.assert_allclose(getattr(result.poses, name), getattr(poses, name), atol=1e-5)


def test_pose_gradients_in_the_training_loop_match_finite_differences(monkeypatch):
    """The gradient that a training step leaves on the pose offsets (tilt-axis angle, tilt
    and shift of single views) equals central differences of that step's loss, each
    recomputed by a whole training run from nudged poses with the same seed (same field,
    rays and jitter). SIREN, a smooth field, so that differences converge (measured
    agreement 0.1–0.4 %)."""
    from inrtomo.geometry import PoseParameters
    from inrtomo.recon import inr

    made = []

    class Recording(PoseParameters):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(inr, "PoseParameters", Recording)
    sim = simulate(make_phantom("nanoparticles", 16, seed=0), 16, Acquisition(tilt_step=10, supersample=1), seed=0)
    images, poses = torch.from_numpy(sim.series.images), sim.poses
    config = INRConfig(field="siren", steps=1, rays_per_step=2048, loss="mse", align="axis,tilt,shift", align_start=0)

    def first_loss(**changed) -> float:
        nudged = Poses(**{**dict(tilt=poses.tilt, tilt_axis=poses.tilt_axis, shift_x=poses.shift_x,
                                 shift_y=poses.shift_y), **changed})
        return train_inr(images, nudged, (16, 16, 16), config, quiet=True).losses[0]

    first_loss()
    pose = made[0]
    np.testing.assert_array_equal(pose.to_poses().shift_x, poses.shift_x)  # no pose step in step 0
    eps = 0.03  # degrees or pixels
    checks = [("tilt_axis", None, float(pose.axis.grad) * np.pi / 180)]
    for view in (0, 6, 12):
        checks += [("tilt", view, float(pose.tilt.grad[view]) * np.pi / 180),
                   ("shift_x", view, float(pose.shift.grad[view, 0])), ("shift_y", view, float(pose.shift.grad[view, 1]))]
    autograd, central = [], []
    for name, view, gradient in checks:
        values = getattr(poses, name).astype(np.float64)
        nudge = np.full_like(values, eps) if view is None else np.eye(len(values))[view] * eps
        central.append((first_loss(**{name: values + nudge}) - first_loss(**{name: values - nudge})) / (2 * eps))
        autograd.append(gradient)
    autograd, central = np.array(autograd), np.array(central)
    assert np.abs(autograd).max() > 1e-4  # the poses matter to the loss
    np.testing.assert_allclose(autograd, central, rtol=0.03, atol=0.02 * np.abs(central).max())


def test_checkpoint_kill_and_resume_reach_the_uninterrupted_state(tmp_path, monkeypatch):
    import inrtomo.recon.inr as inr

    sim = simulate(make_phantom("nanoparticles", 16, seed=0), 16, Acquisition(tilt_step=10, supersample=1), seed=0)
    images = torch.from_numpy(sim.series.images)
    config = INRConfig(steps=12, rays_per_step=128, eval_every=4, align="axis,shift,tilt", align_start=2, align_warmup=2)
    whole = train_inr(images, sim.poses, (16, 16, 16), config, quiet=True)
    assert np.abs(whole.poses.shift_x).max() > 0  # the poses moved, so their state must survive the kill

    checkpoint = tmp_path / "inr-checkpoint.pt"
    calls = {"n": 0}
    real = inr.ray_samples

    def dies_at_step_8(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 8 + 1:  # the 9th ray sampling: training step 8 (one held-out pass at step 4)
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(inr, "ray_samples", dies_at_step_8)
    with pytest.raises(KeyboardInterrupt):
        train_inr(images, sim.poses, (16, 16, 16), config, quiet=True, checkpoint=checkpoint, checkpoint_every=0)
    monkeypatch.setattr(inr, "ray_samples", real)
    assert len(torch.load(checkpoint, weights_only=True)["losses"]) == 7

    resumed = train_inr(images, sim.poses, (16, 16, 16), config, quiet=True, checkpoint=checkpoint, resume=True)
    assert resumed.losses == whole.losses and resumed.heldout == whole.heldout
    for name in ("tilt", "tilt_axis", "shift_x", "shift_y"):
        np.testing.assert_array_equal(getattr(resumed.poses, name), getattr(whole.poses, name))
    for a, b in zip(resumed.field.state_dict().values(), whole.field.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    other = INRConfig(steps=12, rays_per_step=64, eval_every=4)
    with pytest.raises(InputError, match="other settings"):
        train_inr(images, sim.poses, (16, 16, 16), other, quiet=True, checkpoint=checkpoint, resume=True)
    with pytest.raises(InputError, match="no checkpoint"):
        train_inr(images, sim.poses, (16, 16, 16), config, quiet=True, checkpoint=tmp_path / "none.pt", resume=True)


@pytest.fixture(scope="module")
def tiny():
    sim = simulate(make_phantom("nanoparticles", 16, seed=0), 16, Acquisition(tilt_step=10, fluence=500.0, supersample=1),
                   seed=0)
    return torch.from_numpy(sim.series.images), sim.poses


@pytest.mark.parametrize("loss", ["smooth-l1", "mse", "poisson"])
def test_every_loss_lowers_itself(tiny, loss):
    images, poses = tiny
    result = train_inr(images, poses, (16, 16, 16), INRConfig(loss=loss, steps=30, rays_per_step=256), quiet=True)
    assert np.isfinite(result.losses).all()
    assert np.mean(result.losses[-5:]) < np.mean(result.losses[:5])


def test_poisson_loss_refuses_negative_pixels(tiny):
    images, poses = tiny
    with pytest.raises(InputError, match="non-negative"):
        train_inr(images - images.mean(), poses, (16, 16, 16), INRConfig(loss="poisson", steps=1), quiet=True)


def test_total_variation_smooths_the_field(tiny):
    images, poses = tiny

    def roughness(weight):
        result = train_inr(images, poses, (16, 16, 16), INRConfig(tv_weight=weight, steps=40, rays_per_step=256),
                           quiet=True)
        volume = sample_grid(result.field, (16, 16, 16))
        return sum(np.abs(np.diff(volume, axis=a)).sum() for a in range(3)) / np.abs(volume).sum()

    assert roughness(1.0) < 0.8 * roughness(0.0)


def test_config_from_toml_checks_types_and_takes_overrides(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('steps = 300\nlearning_rate = 1\nloss = "mse"\n')
    config = INRConfig.from_toml(path, seed=5)
    assert (config.steps, config.learning_rate, config.loss, config.seed) == (300, 1.0, "mse", 5)
    path.write_text('steps = "many"\n')
    with pytest.raises(InputError, match="steps must be of type int"):
        INRConfig.from_toml(path)


def test_each_field_gets_its_own_learning_rate_unless_one_is_given(tmp_path):
    assert {name: INRConfig(field=name).learning_rate for name in FIELDS} == LEARNING_RATES
    assert INRConfig(field="siren", learning_rate=0.5).learning_rate == 0.5
    path = tmp_path / "c.toml"
    path.write_text('[inr]\nfield = "fourier"\nfourier_sigma = 2\n')
    config = INRConfig.from_toml(path)
    assert (config.learning_rate, config.fourier_sigma) == (LEARNING_RATES["fourier"], 2.0)
    with pytest.raises(InputError, match="must be positive"):
        INRConfig(fourier_sigma=0).validate()


def test_fourier_scale_sets_the_spread_of_frequencies():
    low, high = (make_field("fourier", (8, 8, 8), sigma=s, seed=0).encoding.matrix for s in (1.0, 4.0))
    assert torch.allclose(high, 4 * low)  # same seed, same draws, scaled by σ


def test_bfloat16_and_compiled_fields_train_like_float32(tiny):
    """Mixed precision (autocast to bfloat16) and torch.compile change the arithmetic, not
    the method: the same seeded run ends at nearly the same loss and volume."""
    images, poses = tiny

    def run(**options):
        config = INRConfig(steps=20, rays_per_step=256, **options)
        result = train_inr(images, poses, (16, 16, 16), config, quiet=True)
        return result, sample_grid(result.field, (16, 16, 16))

    reference, volume = run()
    for options in ({"precision": "bfloat16"}, {"compile": True}):
        result, other = run(**options)
        assert np.isfinite(result.losses).all()
        assert abs(result.losses[-1] - reference.losses[-1]) < 0.1 * reference.losses[-1], options
        assert relative_error(other, volume) < 0.1, options
    with pytest.raises(InputError, match="precision"):
        INRConfig(precision="float16").validate()


@pytest.mark.parametrize("suffix", [".mrc", ".tif", ".npy"])
def test_streamed_export_equals_in_memory_and_memory_stays_at_a_slab(tmp_path, suffix):
    import tracemalloc

    from inrtomo import io

    net = make_field("hashgrid", (96, 96, 96), seed=2)
    whole = sample_grid(net, (96, 96, 96), chunk=96 * 96)
    tracemalloc.start()
    try:
        sample_grid(net, (96, 96, 96), chunk=96 * 96)
        in_memory = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        with io.volume_writer(tmp_path / f"v{suffix}", whole.shape, 1.0) as out:
            sample_grid(net, (96, 96, 96), chunk=96 * 96, out=out)
        streamed = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    np.testing.assert_array_equal(io.read_volume(tmp_path / f"v{suffix}").data, whole)
    assert in_memory >= whole.nbytes  # the measure sees a whole volume ...
    assert streamed < whole.nbytes / 8  # ... and the streamed export holds about one slab (1/96)
