"""Exact phantom projections vs brute-force integration of the voxelised truth (64³).

Prints, per phantom and view, the relative L2 error on pixels ≥ 3 px from every solid's
projected outline and the total-mass error; the same measurement the test asserts on.

Run from the repository root: .venv/bin/python benchmarks/projection_accuracy.py
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from test_simulate import ACCURACY_POSES, projection_errors  # noqa: E402

from inrtomo.simulate import make_phantom  # noqa: E402

N = 64
print(f"{'phantom':<14} {'tilt':>5} {'psi':>4} {'rel. L2 interior':>17} {'pixels':>7} {'mass error':>11}")
for name in ("nanoparticles", "shepp-logan", "hyperbranched"):
    phantom = make_phantom(name, N, seed=1)
    truth = phantom.voxelize((N, N, N))
    exact = phantom.project(ACCURACY_POSES, (N, N), supersample=3)
    for i in range(len(ACCURACY_POSES)):
        rel, pixels, mass = projection_errors(phantom, truth, ACCURACY_POSES.subset([i]), exact[i])
        print(f"{name:<14} {ACCURACY_POSES.tilt[i]:5.0f} {ACCURACY_POSES.tilt_axis[i]:4.0f} "
              f"{rel:17.4f} {pixels:7d} {mass:11.5f}")
