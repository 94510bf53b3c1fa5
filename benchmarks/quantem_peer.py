"""The peer to beat: quantem's INR tomography against ours on the same case, time to equal ssim.

    .venv/bin/python benchmarks/quantem_peer.py --python QUANTEM_VENV/bin/python [--size 64]
        [--epochs 2] [--phantom nanoparticles] [--tilt-range 60] [--tilt-step 2] [--fluence 2000]

quantem (PyPI) lives in its own environment, installed with a constraint that pins
``torch==2.13.0``::

    python3.11 -m venv QUANTEM_VENV && echo torch==2.13.0 > c.txt
    QUANTEM_VENV/bin/pip install -c c.txt torch==2.13.0 quantem

It runs ``TomographyLiteINR`` with its defaults (benchmarks/quantem_runner.py) for
``--epochs`` passes over all pixels, the volume kept after each; ours runs the default
INR with its ssim tracked every 10 steps (outside the timed training). quantem's volume
comes out in its own axis order and intensity unit, so it is scored after the axis
permutation and flips (of 48) and the least-squares scale that fit the truth best: a
calibration given to the peer only. quantem needs images at least as wide as there are
views (it sizes its data set by the largest of the stack's dimensions).
"""
from __future__ import annotations

import argparse
import itertools
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import torch

from inrtomo import metrics
from inrtomo.recon.inr import INRConfig, sample_grid, train_inr
from inrtomo.simulate import Acquisition, make_phantom, simulate

from tracking import SsimTracker


def calibrate(volume: np.ndarray, truth: np.ndarray):
    """The axis permutation, flips and least-squares scale that bring ``volume`` closest
    to ``truth`` (by ssim), as a function of a volume."""
    def apply(v, perm, flips):
        v = np.transpose(v, perm)
        return np.flip(v, [a for a in range(3) if flips[a]]) if any(flips) else v

    def scaled(v):
        return v * (float((v * truth).sum()) / max(float((v * v).sum()), 1e-30))

    perm, flips = max(((p, f) for p in itertools.permutations(range(3)) for f in itertools.product((0, 1), repeat=3)),
                      key=lambda pf: metrics.ssim(scaled(apply(volume, *pf)), truth))
    return lambda v: scaled(np.ascontiguousarray(apply(v, perm, flips)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", required=True, help="the Python of quantem's environment")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--phantom", default="nanoparticles")
    parser.add_argument("--tilt-range", type=float, default=60.0)
    parser.add_argument("--tilt-step", type=float, default=2.0)
    parser.add_argument("--fluence", type=float, default=2000.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    acq = Acquisition(tilt_range=(-args.tilt_range, args.tilt_range), tilt_step=args.tilt_step, fluence=args.fluence,
                      supersample=2)
    sim = simulate(make_phantom(args.phantom, args.size, seed=args.seed), args.size, acq, seed=args.seed)
    truth = sim.truth.data
    with tempfile.TemporaryDirectory() as tmp:
        case, out = Path(tmp) / "case.npz", Path(tmp) / "out.npz"
        np.savez(case, images=sim.series.images, angles=sim.series.angles)
        runner = Path(__file__).with_name("quantem_runner.py")
        subprocess.run([args.python, str(runner), str(case), str(out), str(args.epochs)], check=True)
        peer = np.load(out)
        volumes, peer_seconds = peer["volumes"], peer["seconds"]
    fit = calibrate(volumes[-1], truth)
    peer_ssim = [metrics.ssim(fit(v), truth) for v in volumes]

    tracker = SsimTracker(truth, every=10)
    result = train_inr(torch.from_numpy(sim.series.images), sim.poses, truth.shape, INRConfig(seed=args.seed),
                       quiet=True, on_step=tracker)
    ours = metrics.ssim(sample_grid(result.field, truth.shape), truth)
    ours_seconds = tracker.elapsed()

    print(f"{args.phantom} {args.size}³, ±{args.tilt_range:g}° at {args.tilt_step:g}°, {args.fluence:g} e/Å², "
          f"CPU, torch threads {torch.get_num_threads()}")
    print(f"{'run':<28}{'seconds':>9}{'ssim':>7}{'ours: s to this ssim':>22}{'time ratio (ours/peer)':>24}")
    for epoch, (seconds, s) in enumerate(zip(peer_seconds, peer_ssim), 1):
        reached = tracker.seconds_to(s)
        print(f"{f'quantem, epoch {epoch}':<28}{seconds:>9.1f}{s:>7.3f}{reached:>22.1f}{reached / seconds:>24.3f}")
    print(f"{'inrtomo, default':<28}{ours_seconds:>9.1f}{ours:>7.3f}")


if __name__ == "__main__":
    main()
