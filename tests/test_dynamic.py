import numpy as np
import pytest
import torch

from inrtomo import InputError
from inrtomo.fields import make_spacetime_field
from inrtomo.recon.inr import INRConfig, sample_grid, scaled_times, train_inr
from inrtomo.simulate import Acquisition, contaminate, make_phantom, simulate


@pytest.mark.parametrize("monotone", [True, False])
def test_decomposed_contamination_is_zero_at_t0_and_never_negative(monotone):
    model = make_spacetime_field("decomposed", "hashgrid", (16, 16, 16), scale=0.1, monotone=monotone)
    with torch.no_grad():  # make the amplitudes large and varied, as after training
        model.amplitudes.mlp[-1].bias.uniform_(-1.0, 2.0)
    points = (torch.rand(500, 3, generator=torch.Generator().manual_seed(0)) - 0.5) * 16
    times = torch.linspace(0, 1, 11)
    d = torch.stack([model.contamination(points, t) for t in times]).detach()
    assert torch.all(d[0] == 0) and torch.all(d >= 0) and float(d[-1].mean()) > 1e-3
    torch.testing.assert_close(model(points, times[5]), model.clean(points) + d[5])
    steps = d.diff(dim=0)
    if monotone:
        assert torch.all(steps >= -1e-7)  # only grows
    else:
        assert torch.any(steps < -1e-4)  # hats rise and fall


def test_space_time_model_sees_the_clean_sample_at_t0():
    model = make_spacetime_field("spacetime", "hashgrid", (16, 16, 16), scale=0.1)
    points = torch.randn(50, 3) * 5
    assert torch.all(model.contamination(points, torch.zeros(())) == 0)
    torch.testing.assert_close(model.at(0.0)(points), model.clean(points))
    assert not torch.allclose(model.at(1.0)(points), model.clean(points))


def test_times_are_scaled_from_their_source():
    np.testing.assert_allclose(scaled_times(None, 5), [0, 0.25, 0.5, 0.75, 1])  # file order
    np.testing.assert_allclose(scaled_times([30.0, 10.0, 20.0], 3), [1, 0, 0.5])  # minutes from a file
    np.testing.assert_allclose(scaled_times([2.0, 2.0], 2), [0, 0])
    sim = simulate(make_phantom("nanoparticles", 16, seed=0), 16,
                   Acquisition(tilt_range=(-20, 20), tilt_step=10, scheme="dose-symmetric", supersample=1))
    np.testing.assert_allclose(sim.series.times, [1, 0.5, 0, 0.25, 0.75])  # the scheme's order: 0, +10, −10, +20, −20


@pytest.mark.parametrize("model", ["sweep", "uniform"])
def test_contamination_grows_from_nothing_on_the_particles(model):
    clean = make_phantom("nanoparticles", 32, seed=1)
    dirty = contaminate(clean, 32, model)
    shape = (32, 32, 32)
    np.testing.assert_array_equal(dirty.voxelize(shape, 0.0), clean.voxelize(shape))
    mass = [float((dirty.voxelize(shape, t) - clean.voxelize(shape)).sum()) for t in (0.0, 0.3, 0.6, 1.0)]
    assert mass[0] == 0 and all(a < b for a, b in zip(mass, mass[1:]))
    grown = dirty.voxelize(shape, 0.5) - clean.voxelize(shape)
    left, right = grown[..., :16].sum(), grown[..., 16:].sum()
    if model == "sweep":  # the front comes from −x
        assert left > 2 * right
    else:
        assert 0.5 < left / right < 2
    with pytest.raises(InputError, match="contamination model"):
        contaminate(clean, 32, "rain")


@pytest.fixture(scope="module")
def contaminated():
    phantom = contaminate(make_phantom("nanoparticles", 24, seed=1), 24, "sweep")
    sim = simulate(phantom, 24, Acquisition(tilt_range=(-60, 60), tilt_step=4, fluence=5000.0, supersample=1), seed=1)
    return sim


def _clean_error(sim, dynamic: str, seed: int) -> float:
    config = INRConfig(steps=120, rays_per_step=1024, dynamic=dynamic, seed=seed)
    result = train_inr(torch.from_numpy(sim.series.images), sim.poses, (24,) * 3, config, times=sim.series.times,
                       quiet=True)
    clean = sample_grid(result.field.clean if dynamic else result.field, (24,) * 3)
    return float(np.linalg.norm(clean - sim.truth.data) / np.linalg.norm(sim.truth.data))


@pytest.mark.parametrize("seed", [0, 1])
def test_space_time_clean_volume_is_closer_to_the_truth_than_the_static_inr(contaminated, seed):
    """24³ nanoparticles with a sweeping contamination layer, ±60° at 4°: the space-time
    model's clean volume is nearer the uncontaminated truth than the static INR, which
    smears the contamination of every view into its volume."""
    static, dynamic = _clean_error(contaminated, "", seed), _clean_error(contaminated, "spacetime", seed)
    assert dynamic < 0.9 * static


def test_a_static_sample_fitted_with_the_dynamic_model_leaves_little_contamination():
    sim = simulate(make_phantom("nanoparticles", 24, seed=1), 24,
                   Acquisition(tilt_range=(-60, 60), tilt_step=4, fluence=5000.0, supersample=1), seed=1)
    config = INRConfig(steps=120, rays_per_step=1024, dynamic="decomposed")
    result = train_inr(torch.from_numpy(sim.series.images), sim.poses, (24,) * 3, config, times=sim.series.times,
                       quiet=True)
    grown = sample_grid(result.field.at(1.0, "contamination"), (24,) * 3)
    assert grown.min() >= 0
    assert grown.sum() < 0.05 * sim.truth.data.sum()
