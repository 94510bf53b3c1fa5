"""The ``inrtomo`` command line: parse, call the library, report. User mistakes end with
one line on stderr and exit code 2; internal errors with exit code 1 (a traceback only
with ``--debug``)."""
from __future__ import annotations

import json
import sys
import time
import warnings
from dataclasses import replace
from pathlib import Path

import click
import numpy as np

from . import distributed, figures, io, metrics
from .acquisition import SCHEMES, describe_scheme, scheme_times, unseen_range
from .align import align_series, aligned_stack
from .device import select_device
from .data import Volume
from .errors import InputError
from .fields import DYNAMIC_MODELS, FIELDS
from .geometry import Poses
from .recon import WINDOWS
from .recon.classical import reconstruct, reproject, series_poses
from .recon.inr import DYNAMIC_DEFAULTS, LOSSES, LOW_COUNTS, PRECISIONS, SPARSITY, STEPS, INRConfig, reconstruct_inr
from .record import write_record
from .simulate import CONTAMINATION, PHANTOMS, Acquisition, contaminate, make_phantom, simulate
from .simulate.atoms import ATOMIC_PHANTOMS, cnt_contamination
from .simulate.acquire import SHIFT_MODELS

# Existence is checked by the readers, which say so in one line.
file_arg = click.Path(dir_okay=False, path_type=Path)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show full tracebacks.")
@click.version_option(package_name="inrtomo")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Electron tomography with self-supervised implicit neural representations."""
    if distributed.launched() and ctx.invoked_subcommand not in ("reconstruct", "align"):
        raise InputError(f"torchrun with several processes runs 'inrtomo reconstruct --method inr' and "
                         f"'inrtomo align' only, not {ctx.invoked_subcommand}; run it as one process")


@cli.command()
@click.argument("path", type=file_arg)
@click.option("--angles", type=file_arg, help="Tilt angles (.rawtlt, .tlt, .csv) if the file has none.")
def info(path: Path, angles: Path | None) -> None:
    """Describe a tilt series or volume: shape, angles, pixel size, statistics."""
    contents = io.read_contents(path)
    data = contents.data
    click.echo(f"file:            {path}")
    click.echo(f"shape:           {data.shape} ({'views, rows, columns' if data.ndim == 3 else 'as stored'})")
    click.echo(f"dtype:           {data.dtype}")
    try:
        series = io.read_tilt_series(path, angles)
    except io.MissingAnglesError:
        series = None
        click.echo("tilt angles:     none found (pass --angles FILE for a tilt series)")
        pixel = f"{contents.pixel_size:g} Å" if contents.pixel_size else "not set"
        click.echo(f"pixel size:      {pixel}")
    if series is not None:
        a = series.angles
        steps = np.diff(np.sort(a))
        click.echo(f"tilt angles:     {a.size} from {a.min():g}° to {a.max():g}° (from {series.metadata['angles_from']})")
        click.echo(f"tilt step:       {np.median(steps):g}° median, {steps.min():g}–{steps.max():g}°" if steps.size else "")
        if series.metadata.get("times_from") == "file order":
            order = "file order (no acquisition times recorded; pass --angles with a time column)"
        else:
            order = f"{describe_scheme(a, series.times)} (half of it leaves {unseen_range(a, series.times):g}° of the range unseen)"
        click.echo(f"acquisition:     {order}")
        click.echo(f"pixel size:      {series.pixel_size:g} Å")
        click.echo(f"tilt-axis angle: {series.tilt_axis_angle:g}°")
        for note in series.metadata.get("notes", []):
            click.echo(f"note:            {note}")
    values = np.asarray(data, dtype=np.float64)
    click.echo(
        f"values:          min {values.min():.4g}, max {values.max():.4g}, "
        f"mean {values.mean():.4g}, std {values.std():.4g}"
    )


@cli.command(name="simulate")
@click.argument("outdir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--phantom", type=click.Choice([*PHANTOMS, *ATOMIC_PHANTOMS]), default="nanoparticles", show_default=True,
              help="cnt-contamination: seed 001's carbon nanotube, atom by atom, with amorphous carbon arriving during acquisition (abTEM potentials; needs inrtomo[atoms]; use --pixel-size 0.5 or so).")
@click.option("--size", type=click.IntRange(8, 1024), default=64, show_default=True, help="Volume and detector size N (N³ voxels, N × N pixels).")
@click.option("--tilt-range", nargs=2, type=float, default=(-60.0, 60.0), show_default=True, metavar="MIN MAX", help="Degrees.")
@click.option("--tilt-step", type=float, default=2.0, show_default=True, help="Degrees.")
@click.option("--scheme", type=click.Choice(SCHEMES), default="sequential", show_default=True, help="Acquisition order; sets each view's time.")
@click.option("--fluence", type=float, default=None, help="Total e/Å² over the series (Poisson noise); noise-free if omitted.")
@click.option("--pixel-size", type=float, default=1.0, show_default=True, help="Å.")
@click.option("--tilt-axis-error", type=float, default=0.0, show_default=True, help="True tilt-axis angle in degrees (the file reports 0).")
@click.option("--shift-std", type=float, default=0.0, show_default=True, help="RMS per-view shift in pixels.")
@click.option("--shift-model", type=click.Choice(SHIFT_MODELS), default="gaussian", show_default=True)
@click.option("--tilt-jitter", type=float, default=0.0, show_default=True, help="Std of reported-angle errors, degrees.")
@click.option("--contamination", type=click.Choice(CONTAMINATION), default=None,
              help="A carbon-like layer that grows on the particles during acquisition: sweep (from −x to +x, seed 001's) or uniform (sweep for cnt-contamination unless given). truth.mrc stays the clean sample; contamination.mrc holds what has grown by the last view.")
@click.option("--seed", type=int, default=0, show_default=True, help="Fixes the phantom layout and the noise.")
def simulate_cmd(outdir: Path, phantom: str, size: int, tilt_range, tilt_step, scheme, fluence, pixel_size,
                 tilt_axis_error, shift_std, shift_model, tilt_jitter, contamination, seed) -> None:
    """Simulate a tilt series with exact projections: tilts.mrc, tilts.rawtlt, truth.mrc,
    poses.csv and simulation.json in OUTDIR."""
    acq = Acquisition(
        tilt_range=tuple(tilt_range), tilt_step=tilt_step, scheme=scheme, fluence=fluence,
        pixel_size=pixel_size, tilt_axis_error=tilt_axis_error, shift_std=shift_std,
        shift_model=shift_model, tilt_jitter=tilt_jitter,
    )
    acq.validate()
    if outdir.exists() and not outdir.is_dir():
        raise InputError(f"{outdir} exists and is not a folder")
    start = time.perf_counter()
    if phantom in ATOMIC_PHANTOMS:
        contamination = contamination or "sweep"
        sample = cnt_contamination(size, pixel_size, contamination, seed)
    else:
        sample = make_phantom(phantom, size, seed)
        if contamination:
            sample = contaminate(sample, size, contamination)
    sim = simulate(sample, size, acq, seed=seed, name=phantom)
    sim.parameters["contamination"] = contamination
    outdir.mkdir(parents=True, exist_ok=True)
    io.write_tilt_series(outdir / "tilts.mrc", sim.series)
    io.write_volume(outdir / "truth.mrc", sim.truth)
    if contamination:
        grown = sample.voxelize((size,) * 3, t=float(sim.series.times.max())) - sim.truth.data
        io.write_volume(outdir / "contamination.mrc", Volume(grown, pixel_size))
    io.angles.write_poses(outdir / "poses.csv", sim.poses, sim.series.times, sim.series.dose)
    write_record(outdir / "simulation.json", command=_command(), parameters=sim.parameters, wall_time_s=time.perf_counter() - start)
    click.echo(f"wrote {sim.series.n_views} views of {size}×{size} and a {size}³ truth to {outdir}")


def _read_series_and_poses(tilts: Path, angles: Path | None, poses_file: Path | None,
                           tilt_axis_angle: float | None, pixel_size: float | None = None):
    """The tilt series and the poses to reconstruct it at (nominal unless a pose table is given)."""
    if poses_file is not None and (angles is not None or tilt_axis_angle is not None):
        raise InputError("--poses already holds the angles and tilt-axis angles; drop --angles/--tilt-axis-angle")
    series = io.read_tilt_series(tilts, poses_file or angles, pixel_size=pixel_size, tilt_axis_angle=tilt_axis_angle)
    return series, series_poses(series, None if poses_file is None else io.angles.read_poses(poses_file))


METHODS = ("sirt", "wbp", "inr")


def _reconstruction_options(command):
    """Options shared by every verb that runs a reconstruction."""
    options = [
        click.option("--angles", type=file_arg, help="Tilt angles (.rawtlt, .tlt, .csv) if the stack has none."),
        click.option("--poses", "poses_file", type=file_arg, help="Per-view pose table (CSV with tilt_angle_deg, tilt_axis_angle_deg, shift_x_px, shift_y_px), e.g. poses.csv from simulate."),
        click.option("--tilt-axis-angle", type=float, default=None, help="Degrees; overrides the file's value."),
        click.option("--method", type=click.Choice(METHODS), default="sirt", show_default=True),
        click.option("--iterations", type=click.IntRange(1, 100_000), default=100, show_default=True, help="SIRT iterations at most."),
        click.option("--tol", type=click.FloatRange(0), default=1e-4, show_default=True, help="SIRT stops once an iteration lowers the relative residual by less than this fraction of it; 0 runs every iteration."),
        click.option("--no-positivity", is_flag=True, help="Let SIRT keep negative voxels."),
        click.option("--filter", "window", type=click.Choice(WINDOWS), default="ramp", show_default=True, help="WBP filter window."),
        click.option("--field", type=click.Choice(FIELDS), default=None, help="INR network; with --dynamic spacetime, the encoding of space (hashgrid: finer, for atomic detail; not siren) [default: hashgrid; positional with --dynamic]."),
        click.option("--steps", type=click.IntRange(1), default=None, help=f"INR optimisation steps at most [default: {STEPS}; {DYNAMIC_DEFAULTS['spacetime']['steps']} with --dynamic, {DYNAMIC_DEFAULTS['decomposed']['steps']} with --dynamic decomposed]."),
        click.option("--loss", type=click.Choice(LOSSES), default=INRConfig.loss, show_default=True, help=f"INR loss (auto: poisson for raw counts below {LOW_COUNTS:g} per counted pixel, else smooth-l1)."),
        click.option("--tv", "tv_weight", type=click.FloatRange(0), default=INRConfig.tv_weight, show_default=True, help="INR total-variation weight (0: off)."),
        click.option("--sparsity", type=click.FloatRange(0), default=None, help=f"INR weight of the prior for empty space, which clears faint streaks in the missing wedge; 0 for samples that fill the volume [default: {SPARSITY[0]:g} for the hash grid, 0 with --align, --dynamic or another field]."),
        click.option("--align", default="", metavar="GROUPS", help="INR: learn these pose groups with the volume, comma-separated from axis, rotation, tilt, shift, out_of_plane (e.g. axis,shift)."),
        click.option("--precision", type=click.Choice(PRECISIONS), default=INRConfig.precision, show_default=True, help="INR field arithmetic (bfloat16: mixed precision, for GPUs)."),
        click.option("--compile", is_flag=True, help="INR: compile the field with torch.compile (pays off on GPUs)."),
        click.option("--seed", type=int, default=0, show_default=True, help="Seeds the INR (network, batches)."),
        click.option("--upsample", type=click.IntRange(1, 8), default=1, show_default=True, help="Sample the INR on a grid this many times finer."),
        click.option("--shape", nargs=3, type=click.IntRange(1), default=None, metavar="Z Y X", help="Volume size in voxels [default: NX NY NX of the stack]."),
        click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:K."),
        click.option("--quiet", is_flag=True, help="No progress bar."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@cli.command(name="reconstruct")
@click.argument("tilts", type=file_arg)
@click.option("-o", "--output", type=file_arg, required=True, help="Volume file (.mrc, .tif, .h5, .npy); OUTPUT.json is written beside it.")
@click.option("--pixel-size", type=float, default=None, help="Å; overrides the file's value.")
@click.option("--checkpoint", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="INR: save the training state in this folder every --checkpoint-every seconds and at the end.")
@click.option("--checkpoint-every", type=click.FloatRange(0), default=120.0, show_default=True, metavar="SECONDS",
              help="INR: seconds between checkpoints.")
@click.option("--resume", is_flag=True, help="INR: continue from the checkpoint in --checkpoint DIR.")
@click.option("--config", "config_file", type=file_arg, default=None,
              help="INR settings from a TOML file (keys as in inrtomo.recon.inr.INRConfig); flags given override it.")
@click.option("--dynamic", type=click.Choice(DYNAMIC_MODELS), default=None, is_flag=False, flag_value="spacetime",
              help="INR for a sample that changes during acquisition (e.g. growing contamination): spacetime (one network over x, y, z, t, as in seed 001; the default when given alone) or decomposed (static field + growing contamination). OUTPUT is the clean sample at the earliest view's time.")
@click.option("--times", "times_source", default=None, metavar="FILE|SCHEME",
              help=f"--dynamic: acquisition time of each view in file order: a CSV with a time column or one number per line, or the scheme the series was recorded in ({', '.join(SCHEMES)}), which orders the tilt angles [default: the angle file's time column, else file order].")
@click.option("--at-times", default=None, metavar="T1,T2,…",
              help="--dynamic: also write the volume and the contamination at these times (the series' time unit) to OUTPUT_times.h5, OUTPUT_tK.mrc and OUTPUT_times.png.")
@_reconstruction_options
def reconstruct_cmd(tilts: Path, output: Path, pixel_size, angles, poses_file, tilt_axis_angle, quiet, checkpoint,
                    checkpoint_every, resume, config_file, dynamic, times_source, at_times, **options) -> None:
    """Reconstruct a tilt series with SIRT, WBP or an INR; writes OUTPUT and OUTPUT.json
    (run record). The INR runs on several processes or GPUs when launched with torchrun
    (docs/distributed.md)."""
    io.check_volume_path(output)
    record_path = output.with_suffix(".json")
    if output.resolve() in (tilts.resolve(), record_path.resolve()):
        raise InputError(f"the output {output} would overwrite an input or its own run record; choose another name")
    if (checkpoint or resume or config_file or options["align"] or dynamic) and options["method"] != "inr":
        raise InputError("--checkpoint, --resume, --config, --align and --dynamic apply to --method inr only")
    if distributed.launched() and options["method"] != "inr":
        raise InputError(f"torchrun with several processes runs --method inr only; run {options['method']} as one process")
    if (times_source or at_times) and not dynamic:
        raise InputError("--times and --at-times apply to --dynamic only")
    chosen_times = _time_list(at_times)
    if config_file is not None:
        given = click.get_current_context().get_parameter_source
        flags = {name: options[name] for name in INR_FLAGS if given(name) == click.core.ParameterSource.COMMANDLINE}
        options["config"] = INRConfig.from_toml(config_file, **flags, **({"dynamic": dynamic} if dynamic else {}))
    elif dynamic:
        options["config"] = _inr_config(**options, dynamic=dynamic)
    series, poses = _read_series_and_poses(tilts, angles, poses_file, tilt_axis_angle, pixel_size)
    if times_source is not None:
        series = replace(series, times=_times(times_source, series),
                         metadata={**series.metadata, "times_from": times_source})
    start = time.perf_counter()
    with distributed.process_group(select_device(options.pop("device"))) as (ranks, device):
        volume, summary = _reconstruct(series, poses, quiet=quiet, checkpoint=checkpoint,
                                       checkpoint_every=checkpoint_every, resume=resume, at_times=chosen_times,
                                       output=output, device=device, **options)
    if not ranks.main:
        return
    poses = summary.pop("poses", poses)  # refined by --align
    wall = time.perf_counter() - start
    voxel = series.pixel_size / options["upsample"] if volume is None else volume.voxel_size
    if volume is not None:  # the INR has written its own, slab by slab
        io.write_volume(output, volume)
    write_record(record_path, command=_command(), input=str(tilts), output=str(output), parameters=summary,
                 wall_time_s=wall, seed=summary.get("config", {}).get("seed", options["seed"]),
                 poses=io.angles.pose_columns(poses))
    method = options["method"]
    done = {"sirt": lambda: f"{summary['iterations']} iterations, residual {summary['relative_residual']:.4g}, ",
            "inr": lambda: f"{summary['steps']} steps, {summary['loss']} loss {summary['final_loss']:.4g}, "}.get(method, lambda: "")()
    processes = f" × {ranks.world} processes" if ranks.world > 1 else ""
    click.echo(f"wrote {output} ({' × '.join(map(str, summary['shape']))} voxels of {voxel:g} Å; "
               f"{method}, {done}{wall:.1f} s on {summary['device']}{processes}) and {record_path}")


INR_FLAGS = ("field", "steps", "loss", "tv_weight", "sparsity", "seed", "align", "precision", "compile")  # command-line options that are INRConfig settings


def _inr_config(*, field, steps, loss, tv_weight, sparsity, seed, align, precision, compile, dynamic="", **_
                ) -> INRConfig:
    """The INR settings of the command line's options."""
    return INRConfig(field=field or "", steps=steps, loss=loss, tv_weight=tv_weight, sparsity=sparsity, seed=seed,
                     align=align, precision=precision, compile=compile, dynamic=dynamic)


def _reconstruct(series, poses, *, method, iterations, tol, no_positivity, window, upsample, shape, device, quiet,
                 checkpoint=None, checkpoint_every=120.0, resume=False, config=None, at_times=(), output=None,
                 **inr_options):
    """Run the chosen method with the command line's options (or a ready INR ``config``) on
    ``device`` (a torch device); ``(Volume, summary)``, or ``(None, summary)`` where the INR
    wrote ``output`` itself."""
    if method == "inr":
        return reconstruct_inr(series, poses, shape=shape or None, config=config or _inr_config(**inr_options),
                               upsample=upsample, device=device, quiet=quiet, checkpoint_dir=checkpoint,
                               checkpoint_every=checkpoint_every, resume=resume, at_times=at_times, output=output)
    return reconstruct(series, poses, method=method, shape=shape or None, device=device, iterations=iterations,
                       tol=tol, positivity=not no_positivity, window=window, quiet=quiet)


def _times(source: str, series) -> np.ndarray:
    """``--times``: the acquisition scheme's times for the series' angles, or a file's."""
    if source in SCHEMES:
        return scheme_times(series.angles, source)
    if not Path(source).is_file():
        raise InputError(f"--times {source}: no such file, nor an acquisition scheme ({', '.join(SCHEMES)})")
    return io.angles.read_times(source, series.n_views)


def _time_list(text: str | None) -> list[float]:
    """``--at-times`` as a list of numbers."""
    if not text:
        return []
    try:
        return [float(item) for item in text.split(",") if item.strip()]
    except ValueError:
        raise InputError(f"--at-times takes comma-separated numbers, got {text!r}") from None


@cli.command(name="align")
@click.argument("tilts", type=file_arg)
@click.option("-o", "--output", "prefix", type=click.Path(dir_okay=False, path_type=Path), required=True, metavar="PREFIX",
              help="Writes PREFIX.csv (poses), PREFIX.tlt, PREFIX.xf, PREFIX_ali.mrc (aligned stack), PREFIX.png and PREFIX.json.")
@click.option("--angles", type=file_arg, help="Tilt angles (.rawtlt, .tlt, .csv) if the stack has none.")
@click.option("--pixel-size", type=float, default=None, help="Å; overrides the file's value.")
@click.option("--tilt-axis-angle", type=float, default=None, help="Known tilt-axis angle in degrees: not estimated, only refined by --refine.")
@click.option("--search", type=click.FloatRange(0, 45), default=10.0, show_default=True, help="Degrees either side of the file's tilt-axis angle to search.")
@click.option("--refine", default="shift", show_default=True, metavar="GROUPS",
              help="Pose groups the INR refines after the coarse step (as reconstruct --align; axis,shift also moves the tilt axis, which the coarse step finds within about 0.1°); 'none' for coarse alignment only.")
@click.option("--steps", type=click.IntRange(1), default=STEPS, show_default=True, help="INR steps of the refinement.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seeds the INR.")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:K.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def align_cmd(tilts: Path, prefix: Path, angles, pixel_size, tilt_axis_angle, search, refine, steps, seed, device,
              quiet) -> None:
    """Align a tilt series: tilt-axis angle and shifts by coarse alignment, then refined
    with an INR fitted to the series; writes the poses for inrtomo (CSV, for --poses) and
    IMOD (.tlt, .xf), the aligned stack, a picture of the corrections and a run record.
    The INR runs on several processes or GPUs when launched with torchrun."""
    outputs = {suffix: prefix.parent / f"{prefix.name}{suffix}" for suffix in (".csv", ".tlt", ".xf", "_ali.mrc", ".png", ".json")}
    if tilts.resolve() in {path.resolve() for path in outputs.values()}:
        raise InputError(f"the output prefix {prefix} would overwrite the input {tilts}; choose another")
    if not prefix.parent.is_dir():
        raise InputError(f"output folder {prefix.parent} does not exist")
    config = None if refine.strip().lower() == "none" else INRConfig(align=refine, steps=steps, seed=seed)
    if config is not None and not config.align_groups:
        raise InputError("--refine needs pose groups (e.g. axis,shift) or 'none'")
    series = io.read_tilt_series(tilts, angles, pixel_size=pixel_size)
    start = time.perf_counter()
    with distributed.process_group(select_device(device)) as (ranks, device):
        found = align_series(series, tilt_axis=tilt_axis_angle, search=search, config=config, device=device,
                             quiet=quiet)
    if not ranks.main:
        return
    wall = time.perf_counter() - start
    poses = found.poses
    io.angles.write_poses(outputs[".csv"], poses, series.times, series.dose)
    io.angles.write_angles(outputs[".tlt"], poses.tilt)
    io.angles.write_xf(outputs[".xf"], poses)
    io.write_tilt_series(outputs["_ali.mrc"], aligned_stack(series, poses))
    nominal = Poses.nominal(series.angles, series.tilt_axis_angle)
    figures.pose_corrections(nominal, found.coarse, poses, found.losses, outputs[".png"], title=tilts.name)
    write_record(outputs[".json"], command=_command(), input=str(tilts), outputs={k: str(v) for k, v in outputs.items()},
                 parameters={"search_deg": search, "tilt_axis_angle_given": tilt_axis_angle,
                             "config": None if config is None else vars(config), "losses": found.losses,
                             "processes": ranks.world},
                 wall_time_s=wall, seed=seed, coarse_poses=io.angles.pose_columns(found.coarse),
                 poses=io.angles.pose_columns(poses))
    rms = float(np.sqrt(np.mean(poses.shift_x**2 + poses.shift_y**2)))
    click.echo(f"tilt axis {np.mean(poses.tilt_axis):.2f}° (coarse {found.coarse.tilt_axis[0]:.2f}°), shifts {rms:.2f} px RMS; "
               f"wrote {prefix}.csv/.tlt/.xf/_ali.mrc/.png/.json in {wall:.1f} s"
               + (f" × {ranks.world} processes" if ranks.world > 1 else ""))


@cli.command()
@click.argument("path", type=file_arg)
@click.option("--truth", type=file_arg, help="Ground-truth volume of the same shape as the reconstruction PATH.")
@click.option("--holdout", type=int, default=None, metavar="K", help="PATH is a tilt series: leave out every K-th view, reconstruct from the rest and compare the held-out images with their reprojection.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@_reconstruction_options
def evaluate(path: Path, truth: Path | None, holdout: int | None, as_json: bool, angles, poses_file, tilt_axis_angle,
             quiet, **options) -> None:
    """Score a reconstruction against the truth (--truth: ssim on x–z slices, psnr, nrmse,
    FSC) or a tilt series without truth by held-out projection error (--holdout K)."""
    if (truth is None) == (holdout is None):
        raise InputError("give either --truth FILE (PATH is a reconstruction) or --holdout K (PATH is a tilt series)")
    if truth is not None:
        r, t = io.read_volume(path), io.read_volume(truth)
        scores = metrics.all_metrics(r.data, t.data, t.voxel_size)
    else:
        series, poses = _read_series_and_poses(path, angles, poses_file, tilt_axis_angle)
        train, held = metrics.holdout_split(series.n_views, holdout)
        options["upsample"] = 1  # the reprojection needs the grid of the detector's pixels
        options["device"] = device = select_device(options["device"])
        volume, _ = _reconstruct(series.subset(train), poses.subset(train), quiet=quiet, **options)
        predicted = reproject(volume, poses.subset(held), series.shape[1:], device).numpy()
        scores = {"heldout_nrmse": metrics.heldout_error(predicted, series.images[held]),
                   "heldout_views": float(held.size), "training_views": float(train.size)}
    if as_json:
        click.echo(json.dumps(scores, indent=2))
        return
    for name, value in scores.items():
        click.echo(f"{name:<20} {value:.4f}")


@cli.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("demo-output"), show_default=True)
@click.option("--size", type=click.IntRange(16, 256), default=64, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--steps", type=click.IntRange(1), default=STEPS, show_default=True, help="INR steps.")
def demo(out: Path, size: int, seed: int, steps: int) -> None:
    """Simulate the nanoparticle phantom with a 60° missing wedge at moderate dose and
    reconstruct it with WBP, SIRT and the INR; prints a quality table and writes orthogonal
    slices and the INR's loss curve as PNGs."""
    from .figures import loss_curve, orthoslices

    acq = Acquisition(tilt_range=(-60.0, 60.0), tilt_step=2.0, fluence=2000.0, pixel_size=1.0)
    click.echo(f"simulating nanoparticles {size}³, ±60° at 2°, {acq.fluence:g} e/Å² total (seed {seed}) …")
    sim = simulate(make_phantom("nanoparticles", size, seed), size, acq, seed=seed, name="nanoparticles")
    out.mkdir(parents=True, exist_ok=True)
    io.write_tilt_series(out / "tilts.mrc", sim.series)
    io.write_volume(out / "truth.mrc", sim.truth)
    device = select_device("auto")
    rows = []
    for method in METHODS:
        start = time.perf_counter()
        if method == "inr":
            rec, summary = reconstruct_inr(sim.series, config=INRConfig(steps=steps, seed=seed), device=device)
            loss_curve(summary["losses"], summary["heldout_losses"], out / "inr-loss.png", title="INR training")
        else:
            rec, _ = reconstruct(sim.series, method=method, device=device, window="hann")
        rows.append((method, time.perf_counter() - start, rec))
        io.write_volume(out / f"{method}.mrc", rec)
    click.echo(f"{'method':<8} {'time (s)':>9} {'ssim':>7} {'psnr':>7}")
    for name, seconds, vol in rows:
        click.echo(f"{name:<8} {seconds:9.2f} {metrics.ssim(vol.data, sim.truth.data):7.3f} "
                   f"{metrics.psnr(vol.data, sim.truth.data):7.2f}")
    orthoslices({"truth": sim.truth.data, **{n: v.data for n, _, v in rows}}, out / "demo.png",
                title="nanoparticles, ±60° at 2°")
    click.echo(f"wrote {out / 'demo.png'}, {out / 'inr-loss.png'} and the volumes in {out}")


def _command() -> list[str] | None:
    """The command line as typed, for run records (None outside :func:`main`)."""
    obj = click.get_current_context().obj
    return obj["argv"] if obj else None


def _warning_line(message, category, filename, lineno, file=None, line=None) -> None:
    click.echo(f"inrtomo: warning: {message}", err=True)


def main(argv: list[str] | None = None) -> int:
    """Console entry point; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    warnings.showwarning = _warning_line
    try:
        result = cli.main(args=argv, prog_name="inrtomo", standalone_mode=False, obj={"argv": ["inrtomo", *argv]})
        return result if isinstance(result, int) else 0
    except click.exceptions.Abort:
        click.echo("inrtomo: aborted", err=True)
        return 130
    except distributed.DistributedError as exc:
        if debug:
            raise
        click.echo(f"inrtomo: error: {exc}", err=True)
        return 1
    except (click.ClickException, InputError) as exc:
        if debug:
            raise
        message = exc.format_message() if isinstance(exc, click.ClickException) else str(exc)
        click.echo(f"inrtomo: error: {message}", err=True)
        return 2
    except Exception as exc:  # anything else is our bug
        if debug:
            raise
        click.echo(f"inrtomo: internal error: {type(exc).__name__}: {exc} (rerun with --debug for details)", err=True)
        return 1


def run() -> None:
    sys.exit(main())
