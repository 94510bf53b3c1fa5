"""Training speed of each field: rays/s, samples/s and peak memory, side by side.

    .venv/bin/python benchmarks/field_speed.py [--size 64] [--rays 2048] [--steps 10]

Each field trains ``steps`` steps of the default INR on a ``size³`` nanoparticles tilt
series (±60° at 2°) in a fresh process, timed from the end of the first step (so that
``torch.compile``'s compilation is left out); memory is the peak RSS above the process's
baseline after imports and data preparation. Besides every field in float32, the hash grid
runs in bfloat16 (autocast) and compiled. The last column is each row's time per step
relative to the float32 hash grid's.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def child(field: str, size: int, rays: int, steps: int, precision: str, compile: bool) -> None:
    import torch

    from inrtomo.geometry import Poses
    from inrtomo.projector import Projector
    from inrtomo.recon.inr import INRConfig, train_inr
    from inrtomo.simulate import make_phantom

    poses = Poses.nominal(np.arange(-60.0, 61.0, 2.0))
    truth = torch.from_numpy(make_phantom("nanoparticles", size, seed=0).voxelize((size,) * 3, supersample=1))
    images = Projector(truth.shape, poses, (size, size)).A(truth)
    baseline = _rss_mb()
    clock = {}
    config = INRConfig(field=field, steps=steps + 1, rays_per_step=rays, eval_every=steps + 2, precision=precision,
                       compile=compile)
    train_inr(images, poses, truth.shape, config, quiet=True, on_step=lambda k, _: clock.setdefault(k, time.perf_counter()))
    seconds = (clock[steps + 1] - clock[1]) / steps
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"step_s": seconds, "memory_mb": peak - baseline}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--rays", type=int, default=2048)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--child")
    parser.add_argument("--precision", default="float32")
    parser.add_argument("--compile", action="store_true")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.size, args.rays, args.steps, args.precision, args.compile)
        return

    import torch

    from inrtomo.fields import FIELDS

    samples = args.size  # the default: one sample per voxel of the volume's largest size
    variants = {field: [field] for field in FIELDS}
    variants.update({"hashgrid bf16": ["hashgrid", "--precision", "bfloat16"],
                     "hashgrid compiled": ["hashgrid", "--compile"]})
    rows = {}
    for name, flags in variants.items():
        out = subprocess.run([sys.executable, __file__, "--size", str(args.size), "--rays", str(args.rays),
                              "--steps", str(args.steps), "--child", *flags], capture_output=True, text=True, check=True)
        rows[name] = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"INR training speed, {args.size}³, {args.rays} rays × {samples} samples per step, "
          f"torch threads {torch.get_num_threads()}, CPU")
    print(f"{'field':<18}{'s/step':>8}{'rays/s':>9}{'samples/s':>12}{'memory (MB)':>13}{'vs hashgrid':>13}")
    for field, r in rows.items():
        print(f"{field:<18}{r['step_s']:>8.3f}{args.rays / r['step_s']:>9.0f}{args.rays * samples / r['step_s']:>12.3g}"
              f"{r['memory_mb']:>13.0f}{r['step_s'] / rows['hashgrid']['step_s']:>13.2f}")


if __name__ == "__main__":
    main()
