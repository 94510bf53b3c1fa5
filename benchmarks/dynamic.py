"""Dynamic samples (issue 6; seed 001, Figure 3): how much of a contamination layer that
grows during acquisition each method leaves in the clean volume.

    .venv/bin/python benchmarks/dynamic.py [--size 64] [--steps 600] [--cases 0 1 …]
        [--models spacetime …] [--statics hashgrid positional] [--fields positional hashgrid] [--resolution 2] [--sparsity 0.15] [--weights 0.01 …] [--pulls 1 0.25 …] [--growths 0 1 …] [--starts 0 60 …] [--seeds 0 1] [--rays 2048]
        [--threads 2] [--floor]

Cases: the seed's conditions (0–180° at 1°, one time per view, noise-free) and realistic
ones (±60° at 3°, 5000 e/Å², optionally 1 px shifts given to every method as known poses,
or recorded in golden-ratio or four-pass order instead of from −60° to +60°: cases 6–10),
with the ``sweep`` and ``uniform`` contamination of :func:`inrtomo.simulate.contaminate`
on the nanoparticles phantom (seed 1), and seed 001's own sample, the nanotube of
:func:`inrtomo.simulate.atoms.cnt_contamination` in a 32 Å cube (carbon seed 1; cases 4,
5, 7 and 8, with the ``atoms`` extra). Methods: SIRT (100 iterations), the static INR with
the default hash grid and with the positional-encoding MLP (the network of the space-time
model), seed 001's space-time INR and the decomposition (its static part the positional
MLP; ``--fields hashgrid``: also both models with the hash grid for space,
``--resolution`` its finest level for every hash grid), all with the same steps and rays
per step. Columns: ``ssim`` of the clean volume against the uncontaminated truth (x–z
slices); ``left`` = contamination mass left in the clean volume
(:func:`inrtomo.metrics.contamination_left`: the clean volume's excess over the truth,
summed with its sign over the voxels the contamination covers by the last view and 3
voxels around them, as a fraction of the contamination's mass then); ``excess`` = the
older measure, the positive excess in the layer's voxels only
(:func:`inrtomo.metrics.contamination_excess`); ``D err`` = relative L2 error of the
recovered contamination at the last view's time. Targets (issue 6): space-time clean
``ssim`` above static INR above SIRT; ``left`` below 20 % of the static INR's.

``excess`` also counts what a method leaves in those voxels without any contamination (the
blur of the particles' surfaces, which the layer covers); ``left`` lets that blur cancel.
``--floor`` measures what remains: every method also reconstructs the same acquisition of
the uncontaminated sample (same noise seed), and three more columns give its ``left`` there
(``floor``), ``left − floor`` and its ``excess`` there (``excess floor``).
"""
from __future__ import annotations

import argparse
import importlib.util
import time
from dataclasses import replace

import numpy as np
import torch

from inrtomo import metrics
from inrtomo.fields import DYNAMIC_MODELS
from inrtomo.projector import Projector
from inrtomo.recon.inr import DYNAMIC_DEFAULTS, RAYS, INRConfig, sample_grid, train_inr
from inrtomo.recon.sirt import sirt
from inrtomo.simulate import Acquisition, contaminate, make_phantom, simulate
from inrtomo.simulate.atoms import cnt_contamination

SEED_CONDITIONS = Acquisition(tilt_range=(0, 180), tilt_step=1)
REALISTIC = Acquisition(tilt_range=(-60, 60), tilt_step=3, fluence=5000.0)
CNT_CUBE = 32.0
"""Side of the atomic phantom's cube, Å (the voxel size follows from --size)."""
# name, sample, contamination model, acquisition
CASES = [
    ("seed: 0–180° at 1°, clean data", "nanoparticles", "sweep", SEED_CONDITIONS),
    ("±60° at 3°, 5000 e/Å²", "nanoparticles", "sweep", REALISTIC),
    ("±60° at 3°, 5000 e/Å²", "nanoparticles", "uniform", REALISTIC),
    ("±60° at 3°, 5000 e/Å², 1 px shifts", "nanoparticles", "sweep", replace(REALISTIC, shift_std=1.0)),
    ("seed: 0–180° at 1°, clean data", "cnt-contamination", "sweep", SEED_CONDITIONS),
    ("±60° at 3°, 5000 e/Å²", "cnt-contamination", "sweep", REALISTIC),
    ("±60° at 3°, 5000 e/Å², golden-ratio order", "nanoparticles", "sweep", replace(REALISTIC, scheme="golden-ratio")),
    ("±60° at 3°, 5000 e/Å², golden-ratio order", "cnt-contamination", "sweep", replace(REALISTIC, scheme="golden-ratio")),
    ("±60° at 3°, 5000 e/Å², four-pass order", "cnt-contamination", "sweep", replace(REALISTIC, scheme="four-pass")),
    ("±60° at 3°, 5000 e/Å², four-pass order", "nanoparticles", "sweep", replace(REALISTIC, scheme="four-pass")),
    ("±60° at 3°, 5000 e/Å², 1 px shifts, four-pass order", "nanoparticles", "sweep",
     replace(REALISTIC, shift_std=1.0, scheme="four-pass")),
]


def samples(name: str, model: str, size: int):
    """The contaminated sample and the same sample without contamination."""
    if name == "cnt-contamination":
        sample = cnt_contamination(size, CNT_CUBE / size, model, seed=1)
        return sample, sample.without_carbon()
    base = make_phantom(name, size, seed=1)
    return contaminate(base, size, model), base


def reconstruct(config: INRConfig | None, sim, shape):
    """The clean volume and the contamination at t = 1 (None for a static method) of the INR
    ``config`` (None: SIRT) on ``sim``."""
    images = torch.from_numpy(sim.series.images)
    if config is None:
        return sirt(Projector(shape, sim.poses, images.shape[1:]), images, 100, quiet=True).volume.numpy(), None
    result = train_inr(images, sim.poses, shape, config, times=sim.series.times, quiet=True)
    if config.dynamic:
        return sample_grid(result.field.clean, shape), sample_grid(result.field.at(1.0, "contamination"), shape)
    return sample_grid(result.field, shape), None


def run_case(args, label, sample, model, acq) -> list[dict]:
    phantom, base = samples(sample, model, args.size)
    if sample == "cnt-contamination":
        acq = replace(acq, pixel_size=CNT_CUBE / args.size)
    sim = simulate(phantom, args.size, acq, seed=1)
    uncontaminated = simulate(base, args.size, acq, seed=1) if args.floor else None
    shape = (args.size,) * 3
    truth = sim.truth.data
    grown = phantom.voxelize(shape, t=float(sim.series.times.max())) - truth

    def inr(field, seed, dynamic="", weight=None, pull=None, begin=None, growth=0.0) -> INRConfig:
        resolution = {"grid_resolution": args.resolution} if args.resolution else {}
        sparsity = {"sparsity": args.sparsity} if args.sparsity is not None and field == "hashgrid" else {}
        return INRConfig(steps=args.steps, rays_per_step=args.rays, field=field, dynamic=dynamic, seed=seed,
                         dynamic_weight=weight, dynamic_pull=pull, dynamic_start=begin, dynamic_growth=growth,
                         **resolution, **sparsity)

    methods = [("SIRT", None)]
    methods += [(f"static INR ({field})", inr(field, seed))
                for field in args.statics for seed in args.seeds]
    methods += [(name + (f" ({field})" if field != "positional" else ""), inr(field, seed, name, w, p, b, g))
                for name in args.models for field in args.fields for w in args.weights or [None]
                for p in (args.pulls or [None] if name == "spacetime" else [None])
                for g in (args.growths or [0.0] if name == "spacetime" else [0.0])
                for b in args.starts or [None] for seed in args.seeds]
    rows = []
    for method, config in methods:
        start = time.perf_counter()
        clean, contamination = reconstruct(config, sim, shape)
        seconds = time.perf_counter() - start
        if config is not None and config.dynamic:
            pulled = f", pull {config.dynamic_pull:g}" if config.dynamic == "spacetime" else ""
            pulled += f", growth {config.dynamic_growth:g}" if config.dynamic_growth else ""
            method += f" (λ={config.dynamic_weight:g}{pulled}, start {config.dynamic_start})"
        if config is not None and len(args.seeds) > 1:
            method += f", seed {config.seed}"
        row = dict(case=label, sample=sample, model=model, method=method, ssim=metrics.ssim(clean, truth),
                   left=metrics.contamination_left(clean, truth, grown),
                   excess=metrics.contamination_excess(clean, truth, grown), seconds=seconds,
                   d_err=float(np.linalg.norm(contamination - grown) / np.linalg.norm(grown))
                   if contamination is not None else float("nan"))
        line = f"| {label} | {sample} | {model} | {method} | {row['ssim']:.3f} | {row['left']:.3f} | {row['excess']:.3f} | "
        if uncontaminated is not None:
            plain = reconstruct(config, uncontaminated, shape)[0]
            row["floor"] = metrics.contamination_left(plain, truth, grown)
            row["excess_floor"] = metrics.contamination_excess(plain, truth, grown)
            line += f"{row['floor']:.3f} | {row['left'] - row['floor']:.3f} | {row['excess_floor']:.3f} | "
        rows.append(row)
        print(line + f"{row['d_err']:.3f} | {seconds:.0f} |", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=DYNAMIC_DEFAULTS["spacetime"]["steps"],
                        help="Steps of every INR, static ones included (default: %(default)s, the 4-D network's own).")
    parser.add_argument("--cases", type=int, nargs="*", default=None, help="Indices into CASES (default: all).")
    parser.add_argument("--weights", type=float, nargs="*", default=None,
                        help="Contamination penalty weights to try for the space-time models (default: each model's own).")
    parser.add_argument("--models", nargs="*", default=list(DYNAMIC_MODELS), choices=DYNAMIC_MODELS,
                        help="Space-time models to run (default: all).")
    parser.add_argument("--pulls", type=float, nargs="*", default=None,
                        help="Pulls of the penalty on the clean volume to try for the spacetime model (default: its own).")
    parser.add_argument("--growths", type=float, nargs="*", default=[0.0],
                        help="Weights of the penalty on a volume that falls over time to try for the spacetime model "
                             "(default: %(default)s, off).")
    parser.add_argument("--starts", type=int, nargs="*", default=None,
                        help="Static warm-up steps to try for the space-time models (default: each model's own).")
    parser.add_argument("--statics", nargs="*", default=["hashgrid", "positional"], choices=["hashgrid", "positional"],
                        help="Static INRs to run (default: both; the hash grid is the targets' reference).")
    parser.add_argument("--fields", nargs="*", default=["positional"], choices=["positional", "hashgrid", "fourier"],
                        help="Fields of space for the space-time models (default: positional, seed 001's network).")
    parser.add_argument("--resolution", type=float, default=0.0,
                        help="The hash grids' finest level, cells per voxel (0: the default).")
    parser.add_argument("--sparsity", type=float, default=None,
                        help="Sparsity weight of every hash-grid INR, static and space-time (default: each one's own).")
    parser.add_argument("--seeds", type=int, nargs="*", default=[0], help="INR seeds (every method runs with each).")
    parser.add_argument("--rays", type=int, default=RAYS,
                        help="Rays per INR step, the same for every method (0: each method's default).")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default).")
    parser.add_argument("--floor", action="store_true",
                        help="Also reconstruct the uncontaminated sample with every method: left's floor.")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"{args.size}³ samples + growing contamination, INR {args.steps} steps; clean ssim vs the "
          "uncontaminated truth (x–z slices); left: contamination left in the clean volume; D err at the last view")
    columns = ["case", "sample", "contamination", "method", "ssim", "left", "excess"] + ["floor", "left − floor", "excess floor"] * args.floor
    columns += ["D err", "s"]
    print("| " + " | ".join(columns) + " |\n|" + " --- |" * len(columns))
    for index in args.cases if args.cases is not None else range(len(CASES)):
        if CASES[index][1] == "cnt-contamination" and importlib.util.find_spec("abtem") is None:
            print(f"case {index} skipped: the atomic-level phantom needs inrtomo[atoms]")
            continue
        run_case(args, *CASES[index])


if __name__ == "__main__":
    main()
