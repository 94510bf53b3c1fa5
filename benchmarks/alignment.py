"""Alignment (issue 5; seed 000, Figure 3): how well coarse alignment followed by the INR's
pose refinement recovers a known tilt-axis error, shifts and tilt-angle jitter, and what
that is worth in the reconstruction.

    .venv/bin/python benchmarks/alignment.py [--size 64] [--steps 200] [--align shift]
        [--cases 0 1 …] [--csv ROWS.csv]

Simulated series at ±60° in 3° steps, 5000 e/Å², pixels integrated over 3 × 3 rays (the
simulation default: a detector integrates), phantom and noise seed 1. Each case runs
``inrtomo.align.align_series`` (coarse, then an INR from the coarse poses learning the
``--align`` groups, plus ``tilt`` when the case has jitter) and, with the same settings,
an INR at the nominal poses (no alignment) and at the true poses (oracle); SIRT (100
iterations) at the aligned and at the true poses; the aligned poses get the true poses'
share of the shifts that a moved volume explains, so that volumes are compared in place
(alignment fixes that share at zero; the data cannot tell it). Pose errors are against the true poses
less what a moved or turned volume explains (``inrtomo.geometry.shift_gauge``; tilt
offsets less their mean). Targets (issue 5): tilt axis within 0.1°, shifts within
0.25 px RMS, INR ssim ≥ 0.97 × the oracle's, SIRT on our poses within 0.01 ssim of SIRT
on the true ones.
"""
from __future__ import annotations

import argparse
import csv
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from inrtomo import metrics
from inrtomo.align import align_series
from inrtomo.geometry import Poses, shift_gauge
from inrtomo.projector import Projector
from inrtomo.recon.inr import STEPS, INRConfig, sample_grid, train_inr
from inrtomo.recon.sirt import sirt
from inrtomo.simulate import Acquisition, make_phantom, simulate

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from helpers import shift_error  # noqa: E402

# phantom, tilt-axis error (°), shift spread (px RMS), shift model, tilt jitter (°)
CASES = [("nanoparticles", 0.0, 0.0, "gaussian", 0.0), ("hyperbranched", 1.0, 1.0, "gaussian", 0.0),
         ("nanoparticles", 2.0, 2.0, "random-walk", 0.0), ("hyperbranched", 4.0, 3.0, "random-walk", 0.0),
         ("nanoparticles", 6.0, 3.0, "gaussian", 0.0), ("hyperbranched", 2.0, 1.0, "gaussian", 0.5)]
COLUMNS = ("phantom", "axis_error", "shift_std", "shift_model", "jitter", "coarse_axis_err", "coarse_shift_err",
           "axis_err", "shift_err", "tilt_err", "steps", "align_s", "inr_none", "inr_aligned", "inr_oracle",
           "ratio", "sirt_true", "sirt_aligned")


def tilt_error(found: Poses, true: Poses) -> float:
    """RMS error of the tilt angles (degrees), their mean difference removed."""
    diff = found.tilt - true.tilt
    return float(np.sqrt(np.mean((diff - diff.mean()) ** 2)))


def in_truth_gauge(found: Poses, true: Poses) -> Poses:
    """``found`` with the part of the shifts that a moved volume explains (alignment sets it
    to zero, any value fits the data equally) taken from the true poses, so that the
    reconstruction is compared with the truth in place rather than moved."""
    def split(poses: Poses):
        shifts = [torch.from_numpy(a) for a in (poses.shift_x, poses.shift_y)]
        fixed = shift_gauge(*shifts, *(torch.from_numpy(np.deg2rad(a)) for a in (poses.tilt, poses.tilt_axis)))
        return fixed, [a - f for a, f in zip(shifts, fixed)]

    (fx, fy), _ = split(found)
    _, (gx, gy) = split(true)
    return replace(found, shift_x=(fx + gx).numpy(), shift_y=(fy + gy).numpy())


def inr_ssim(images, poses, truth, config) -> float:
    result = train_inr(images, poses, truth.shape, config, quiet=True)
    return metrics.ssim(sample_grid(result.field, truth.shape), truth)


def sirt_ssim(images, poses, truth) -> float:
    volume = sirt(Projector(truth.shape, poses, images.shape[1:]), images, 100, quiet=True).volume
    return metrics.ssim(volume.numpy(), truth)


def run_case(args, phantom, axis, spread, model, jitter) -> dict:
    acq = Acquisition(tilt_range=(-60, 60), tilt_step=3, fluence=5000.0, tilt_axis_error=axis,
                      shift_std=spread, shift_model=model, tilt_jitter=jitter)
    sim = simulate(make_phantom(phantom, args.size, seed=1), args.size, acq, seed=1)
    truth, images, true = sim.truth.data, torch.from_numpy(sim.series.images), sim.poses
    groups = args.align + (",tilt" if jitter else "")
    config = INRConfig(steps=args.steps, align=groups)
    start = time.perf_counter()
    found = align_series(sim.series, config=config, quiet=True)
    seconds = time.perf_counter() - start
    plain = INRConfig(steps=args.steps)
    row = dict(phantom=phantom, axis_error=axis, shift_std=spread, shift_model=model, jitter=jitter,
               coarse_axis_err=found.coarse.tilt_axis[0] - axis, coarse_shift_err=shift_error(found.coarse, true),
               axis_err=found.poses.tilt_axis.mean() - axis, shift_err=shift_error(found.poses, true),
               tilt_err=tilt_error(found.poses, true), steps=len(found.losses), align_s=seconds,
               inr_none=inr_ssim(images, Poses.nominal(sim.series.angles), truth, plain),
               inr_aligned=inr_ssim(images, in_truth_gauge(found.poses, true), truth, plain),
               inr_oracle=inr_ssim(images, true, truth, plain),
               sirt_true=sirt_ssim(images, true, truth), sirt_aligned=sirt_ssim(images, in_truth_gauge(found.poses, true), truth))
    row["ratio"] = row["inr_aligned"] / row["inr_oracle"]
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--align", default="shift", help="Pose groups to learn (tilt is added for jitter).")
    parser.add_argument("--cases", type=int, nargs="*", default=None, help="Indices into CASES (default: all).")
    parser.add_argument("--csv", type=Path, default=None, help="Append each row to this CSV as it is measured.")
    args = parser.parse_args()
    torch.manual_seed(0)
    print(f"{args.size}³, ±60° at 3°, 5000 e/Å²; INR {args.steps} steps, --align {args.align}; "
          "errors: measured − true (axis, °), RMS (shifts px, tilts °); ssim on x–z slices")
    head = ("phantom", "ψ°", "px", "model", "jit°", "coarse ψ err", "coarse px", "ψ err", "px err", "θ err",
            "steps", "align s", "INR none", "INR ali", "INR oracle", "ali/oracle", "SIRT true", "SIRT ali")
    print("| " + " | ".join(head) + " |\n|" + " --- |" * len(head))
    for index in args.cases if args.cases is not None else range(len(CASES)):
        row = run_case(args, *CASES[index])
        cells = [f"{row[c]:.3f}" if isinstance(row[c], float) else str(row[c]) for c in COLUMNS]
        print("| " + " | ".join(cells) + " |", flush=True)
        if args.csv is not None:
            new = not args.csv.exists()
            with args.csv.open("a", newline="") as f:
                writer = csv.DictWriter(f, COLUMNS)
                if new:
                    writer.writeheader()
                writer.writerow(row)


if __name__ == "__main__":
    main()
