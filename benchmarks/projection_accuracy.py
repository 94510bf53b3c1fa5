"""Exact phantom projections vs brute-force integration of the voxelised truth (64³).

Prints the relative L2 error on pixels >= 3 px from every solid outline and the total-mass
error, per phantom and tilt. Run: .venv/bin/python benchmarks/projection_accuracy.py
"""
import sys; sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1] / "tests"))
import numpy as np
from scipy.ndimage import binary_dilation, binary_erosion
from test_simulate import _brute_force_projection
from inrtomo.simulate import Phantom, make_phantom
from inrtomo.geometry import Poses
n = 64
for name in ("nanoparticles", "shepp-logan"):
    ph = make_phantom(name, n, seed=1); truth = ph.voxelize((n, n, n))
    poses = Poses([0.0, 37.0], [0.0, 8.0], [0.0, 1.5], [0.0, -0.75]); exact = ph.project(poses, (n, n), supersample=3)
    for i in range(2):
        pose = poses.subset([i]); num = _brute_force_projection(truth, pose); im = exact[i]
        near = np.zeros_like(im, bool)
        for s in ph.shapes:
            a = Phantom([s]).project(pose, (n, n), supersample=1)[0] != 0
            near |= binary_dilation(a, iterations=3) & ~binary_erosion(a, iterations=3)
        inner = ~near & (im > 0.05 * im.max())
        print(name, poses.tilt[i], f"{np.linalg.norm((num-im)[inner])/np.linalg.norm(im[inner]):.4f}", f"mass {abs(num.sum()/im.sum()-1):.5f}")
