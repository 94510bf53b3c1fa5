"""Projections of the voxelised truth (64³) against the phantoms' exact line integrals.

For each phantom and view: the relative L2 error, on pixels ≥ 3 px from every solid's
projected outline, of brute-force integration through the truth (the simulator check the
tests assert, < 1 %) and of our voxel projector ``A`` with its two models, slices (strip)
and rays (trilinear), which the tests hold to < 2 %; plus the brute-force total-mass error.

Run from the repository root: .venv/bin/python benchmarks/projection_accuracy.py
"""
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from helpers import interior_pixels, relative_error  # noqa: E402
from test_simulate import ACCURACY_POSES, projection_errors  # noqa: E402

from inrtomo.projector import Projector  # noqa: E402
from inrtomo.simulate import make_phantom  # noqa: E402

N = 64
print(f"{'phantom':<14} {'tilt':>5} {'psi':>4} {'brute force':>12} {'A slices':>9} {'A rays':>8} {'pixels':>7} {'mass error':>11}")
for name in ("nanoparticles", "shepp-logan", "hyperbranched"):
    phantom = make_phantom(name, N, seed=1)
    truth = phantom.voxelize((N, N, N))
    exact = phantom.project(ACCURACY_POSES, (N, N), supersample=3)
    ours = {m: Projector(truth.shape, ACCURACY_POSES, (N, N), method=m).A(torch.from_numpy(truth)).numpy()
            for m in ("slices", "rays")}
    for i in range(len(ACCURACY_POSES)):
        pose = ACCURACY_POSES.subset([i])
        rel, pixels, mass = projection_errors(phantom, truth, pose, exact[i])
        interior = interior_pixels(phantom, pose, exact[i])
        errors = [relative_error(ours[m][i], exact[i], interior) if pixels else float("nan") for m in ours]
        print(f"{name:<14} {ACCURACY_POSES.tilt[i]:5.0f} {ACCURACY_POSES.tilt_axis[i]:4.0f} {rel:12.4f} "
              f"{errors[0]:9.4f} {errors[1]:8.4f} {pixels:7d} {mass:11.5f}")
