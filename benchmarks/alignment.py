"""Alignment, first version (issue 5): how well coarse alignment and the INR's ``--align``
recover a known tilt-axis error and shifts.

    .venv/bin/python benchmarks/alignment.py [--size 32] [--steps 300] [--align axis,shift]

Simulated series at ±60° in 3° steps, 5000 e/Å²; errors are against the true poses with
the part a moved volume explains removed (``inrtomo.geometry.shift_gauge``).
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from inrtomo.align import coarse_align
from inrtomo.geometry import Poses, shift_gauge
from inrtomo.recon.inr import INRConfig, train_inr
from inrtomo.simulate import Acquisition, make_phantom, simulate

CASES = [("nanoparticles", 3.0, 1.5), ("hyperbranched", -6.0, 3.0), ("nanoparticles", 0.0, 0.0),
         ("hyperbranched", 0.0, 0.0)]


def shift_error(found: Poses, true: Poses) -> float:
    """RMS per-axis shift error (pixels) in the gauge."""
    dx, dy = shift_gauge(*(torch.from_numpy(a) for a in (true.shift_x, true.shift_y, np.deg2rad(true.tilt),
                                                          np.deg2rad(true.tilt_axis))))
    return float(np.sqrt(np.mean((found.shift_x - dx.numpy()) ** 2 + (found.shift_y - dy.numpy()) ** 2) / 2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--align", default="axis,shift")
    args = parser.parse_args()
    print(f"{args.size}³, ±60° at 3°; INR: {args.steps} steps of 1024 rays, --align {args.align}")
    print(f"{'phantom':<14}{'true ψ':>7}{'true shift':>11}{'coarse ψ':>9}{'coarse err px':>14}{'s':>6}"
          f"{'INR ψ':>7}{'INR err px':>11}{'s':>6}")
    for phantom, psi, shift in CASES:
        acq = Acquisition(tilt_range=(-60, 60), tilt_step=3, fluence=5000.0, supersample=1, tilt_axis_error=psi,
                          shift_std=shift)
        sim = simulate(make_phantom(phantom, args.size, seed=1), args.size, acq, seed=1)
        start = time.perf_counter()
        coarse = coarse_align(sim.series.images, sim.series.angles)
        coarse_s = time.perf_counter() - start
        start = time.perf_counter()
        config = INRConfig(rays_per_step=1024, steps=args.steps, align=args.align)
        fine = train_inr(torch.from_numpy(sim.series.images), Poses.nominal(sim.series.angles), (args.size,) * 3,
                         config, quiet=True).poses
        fine_s = time.perf_counter() - start
        print(f"{phantom:<14}{psi:>7g}{shift:>11g}{coarse.tilt_axis[0]:>9.2f}{shift_error(coarse, sim.poses):>14.3f}"
              f"{coarse_s:>6.1f}{fine.tilt_axis.mean():>7.2f}{shift_error(fine, sim.poses):>11.3f}{fine_s:>6.1f}",
              flush=True)


if __name__ == "__main__":
    main()
