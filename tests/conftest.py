import os

import numpy as np
import pytest
import torch

if os.environ.get("PYTEST_XDIST_WORKER"):
    torch.set_num_threads(1)  # one thread per worker: the workers already fill the cores

from inrtomo.simulate import Acquisition, make_phantom, simulate


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture(scope="session")
def small_sim():
    """A 24³ noisy nanoparticle simulation with misalignment, shared by tests that only read it."""
    acq = Acquisition(tilt_range=(-60, 60), tilt_step=6, fluence=500.0, shift_std=1.0, tilt_axis_error=2.0,
                      scheme="bidirectional", supersample=2)
    return simulate(make_phantom("nanoparticles", 24, seed=3), 24, acq, seed=3, name="nanoparticles")
