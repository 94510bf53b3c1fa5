import json
import subprocess
import sys

import numpy as np
import pytest

from inrtomo import io
from inrtomo.cli import main

from helpers import assert_user_error, run


@pytest.fixture(scope="module")
def simdir(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim") / "run"
    code = main(["simulate", str(out), "--phantom", "hyperbranched", "--size", "24", "--tilt-range", "-45", "45",
                 "--tilt-step", "5", "--scheme", "dose-symmetric", "--fluence", "800", "--tilt-axis-error", "1.5",
                 "--shift-std", "0.8", "--seed", "7"])
    assert code == 0
    return out


def test_help_lists_verbs_and_module_entry_point():
    result = subprocess.run([sys.executable, "-m", "inrtomo", "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    for verb in ("info", "simulate", "reconstruct", "evaluate", "demo"):
        assert verb in result.stdout


def test_simulate_writes_everything(simdir):
    assert sorted(p.name for p in simdir.iterdir()) == [
        "poses.csv", "simulation.json", "tilts.mrc", "tilts.rawtlt", "truth.mrc"]
    series = io.read_tilt_series(simdir / "tilts.mrc")
    assert series.shape == (19, 24, 24)
    np.testing.assert_allclose(series.angles, np.arange(-45, 46, 5))  # nominal angles
    assert series.tilt_axis_angle == 0.0
    poses = io.angles.read_poses(simdir / "poses.csv")
    assert np.all(poses.tilt_axis == 1.5) and np.std(poses.shift_x) > 0.2
    record = json.loads((simdir / "simulation.json").read_text())
    assert record["parameters"]["seed"] == 7 and record["parameters"]["scheme"] == "dose-symmetric"
    assert record["parameters"]["fluence"] == 800 and "torch" in record["versions"]
    assert io.read_volume(simdir / "truth.mrc").shape == (24, 24, 24)


def test_simulate_is_reproducible(tmp_path, simdir, capsys):
    code, _, _ = run(capsys, "simulate", tmp_path / "again", "--phantom", "hyperbranched", "--size", "24",
                     "--tilt-range", "-45", "45", "--tilt-step", "5", "--scheme", "dose-symmetric",
                     "--fluence", "800", "--tilt-axis-error", "1.5", "--shift-std", "0.8", "--seed", "7")
    assert code == 0
    again, first = (io.read_tilt_series(d / "tilts.mrc") for d in (tmp_path / "again", simdir))
    np.testing.assert_array_equal(again.images, first.images)
    assert (tmp_path / "again" / "poses.csv").read_text() == (simdir / "poses.csv").read_text()


def test_info_reports_the_series(simdir, capsys):
    code, out, _ = run(capsys, "info", simdir / "tilts.mrc", "--angles", simdir / "poses.csv")
    assert code == 0
    assert "(19, 24, 24)" in out and "-45° to 45°" in out and "5°" in out
    assert "dose-symmetric (half of it leaves 50° of the range unseen)" in out  # the last half: beyond ±20°
    code, out, _ = run(capsys, "info", simdir / "truth.mrc")
    assert code == 0 and "none found" in out


def test_evaluate_table_and_json(simdir, capsys):
    code, out, _ = run(capsys, "evaluate", simdir / "truth.mrc", "--truth", simdir / "truth.mrc", "--json")
    assert code == 0
    figures = json.loads(out)
    assert figures["ssim"] == pytest.approx(1.0) and figures["nrmse"] == 0.0
    code, out, _ = run(capsys, "evaluate", simdir / "truth.mrc", "--truth", simdir / "truth.mrc")
    assert code == 0 and out.splitlines()[0].startswith("ssim")


@pytest.mark.parametrize(
    "args, words",
    [
        (["info", "missing.mrc"], ["file not found", "missing.mrc"]),
        (["simulate", "{tmp}/out", "--tilt-step", "0"], ["step > 0"]),
        (["simulate", "{tmp}/out", "--phantom", "cat"], ["cat"]),
        (["simulate", "{tmp}/out", "--fluence", "-3"], ["fluence"]),
        (["simulate", "{tmp}/out", "--size", "3"], ["size"]),
        (["evaluate", "{tmp}/small.mrc", "--truth", "{tmp}/big.mrc"], ["shape"]),
        (["evaluate", "{tmp}/small.mrc"], ["--truth", "--holdout"]),
        (["evaluate", "{tmp}/series.mrc", "--holdout", "1"], ["--holdout", "between 2"]),
        (["reconstruct", "{tmp}/series.mrc", "-o", "{tmp}/rec.txt"], ["cannot write a volume", ".txt"]),
        (["reconstruct", "{tmp}/series.mrc", "-o", "{tmp}/series.mrc"], ["overwrite"]),
        (["reconstruct", "{tmp}/series.mrc", "-o", "{tmp}/rec.mrc", "--poses", "{tmp}/a.tlt"], ["3 tilt angles for 5"]),
        (["reconstruct", "{tmp}/series.mrc", "-o", "{tmp}/rec.mrc", "--poses", "{tmp}/p.csv", "--angles", "{tmp}/a.tlt"], ["--poses already"]),
        (["reconstruct", "{tmp}/series.mrc", "-o", "{tmp}/rec.mrc", "--method", "art"], ["art"]),
        (["reconstruct", "{tmp}/series.mrc", "-o", "{tmp}/rec.mrc", "--shape", "8", "0", "8"], ["--shape"]),
        (["reconstruct", "{tmp}/series.mrc", "-o", "{tmp}/rec.mrc", "--device", "tpu"], ["unknown device"]),
        (["reconstruct", "{tmp}/series.mrc", "-o", "{tmp}/rec.mrc", "--method", "wbp", "--filter", "box"], ["box"]),
        (["reconstruct", "{tmp}/series.mrc", "-o", "{tmp}/rec.mrc", "--checkpoint", "{tmp}/ck"], ["--method inr only"]),
        (["reconstruct", "{tmp}/series.mrc", "-o", "{tmp}/rec.mrc", "--method", "inr", "--config", "{tmp}/bad.toml"], ["unknown setting", "layers"]),
        (["reconstruct", "{tmp}/series.mrc", "-o", "{tmp}/rec.mrc", "--method", "inr", "--config", "{tmp}/a.tlt"], ["not valid TOML"]),
        (["reconstruct", "{tmp}/series.mrc", "-o", "{tmp}/rec.mrc", "--method", "inr", "--resume"], ["--checkpoint DIR"]),
        (["reconstruct", "{tmp}/series.mrc", "-o", "{tmp}/rec.mrc", "--method", "inr", "--field", "nerf"], ["nerf"]),
        (["reconstruct", "{tmp}/series.mrc", "-o", "{tmp}/rec.mrc", "--align", "shift"], ["--method inr only"]),
        (["reconstruct", "{tmp}/series.mrc", "-o", "{tmp}/rec.mrc", "--method", "inr", "--align", "shift,zoom"], ["unknown pose group", "zoom"]),
        (["reconstruct", "{tmp}/series.mrc", "-o", "{tmp}/rec.mrc", "--dynamic"], ["--method inr only"]),
        (["reconstruct", "{tmp}/series.mrc", "-o", "{tmp}/rec.mrc", "--method", "inr", "--at-times", "0,1"], ["--dynamic only"]),
        (["reconstruct", "{tmp}/series.mrc", "-o", "{tmp}/rec.mrc", "--method", "inr", "--dynamic", "--at-times", "0,a"], ["comma-separated"]),
        (["reconstruct", "{tmp}/series.mrc", "-o", "{tmp}/rec.mrc", "--method", "inr", "--dynamic", "--times", "{tmp}/p.csv"], ["no time column"]),
        (["reconstruct", "{tmp}/series.mrc", "-o", "{tmp}/rec.mrc", "--method", "inr", "--dynamic", "--times", "{tmp}/a.tlt"], ["3 times for 5 views"]),
        (["reconstruct", "{tmp}/series.mrc", "-o", "{tmp}/rec.mrc", "--method", "inr", "--dynamic", "--times", "zigzag"], ["--times zigzag", "golden-ratio"]),
        (["reconstruct", "{tmp}/series.mrc", "-o", "{tmp}/rec.mrc", "--method", "inr", "--dynamic", "--field", "siren"], ["hashgrid, fourier or positional"]),
        (["align", "{tmp}/series.mrc", "-o", "{tmp}/nowhere/a"], ["does not exist"]),
        (["align", "{tmp}/series.mrc", "-o", "{tmp}/a", "--refine", "shift,zoom"], ["unknown pose group", "zoom"]),
        (["info", "{tmp}/nan.npy", "--angles", "{tmp}/a.tlt"], ["NaN"]),
        (["info", "{tmp}/small.mrc", "--angles", "{tmp}/a.tlt"], ["tilt angles for"]),
        (["frobnicate"], ["frobnicate"]),
    ],
)
def test_user_errors_are_one_line_exit_2_and_write_nothing(tmp_path, capsys, args, words):
    from inrtomo import Volume

    io.write_volume(tmp_path / "small.mrc", Volume(np.random.default_rng(0).random((8, 8, 8))))
    io.write_volume(tmp_path / "big.mrc", Volume(np.random.default_rng(0).random((9, 8, 8))))
    bad = np.random.default_rng(0).random((3, 8, 8))
    bad[1, 2, 3] = np.nan
    np.save(tmp_path / "nan.npy", bad)
    (tmp_path / "a.tlt").write_text("-10\n0\n10\n")
    (tmp_path / "p.csv").write_text("tilt_angle_deg\n-20\n-10\n0\n10\n20\n")
    (tmp_path / "bad.toml").write_text("[inr]\nsteps = 5\nlayers = 3\n")
    from inrtomo import TiltSeries
    io.write_tilt_series(tmp_path / "series.mrc", TiltSeries(np.random.default_rng(1).random((5, 8, 8)),
                                                             np.linspace(-20, 20, 5)))
    before = sorted(p.name for p in tmp_path.iterdir())
    code, _, err = run(capsys, *[a.format(tmp=tmp_path) for a in args])
    assert_user_error(code, err, *words)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written, not even OUTDIR


def test_internal_errors_exit_1_without_traceback(monkeypatch, capsys, tmp_path):
    import inrtomo.cli as cli_module

    def boom(*args, **kwargs):
        raise ZeroDivisionError("oops")

    monkeypatch.setattr(cli_module, "simulate", boom)
    code, _, err = run(capsys, "simulate", tmp_path / "x", "--size", "16")
    assert code == 1 and "internal error" in err and "Traceback" not in err
    with pytest.raises(ZeroDivisionError):
        main(["--debug", "simulate", str(tmp_path / "y"), "--size", "16"])


def test_demo_runs(tmp_path, capsys):
    code, out, _ = run(capsys, "demo", "--out", tmp_path / "demo", "--size", "24", "--steps", "10")
    assert code == 0
    table = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.split()[:1] in (["wbp"], ["sirt"], ["inr"])}
    assert sorted(table) == ["inr", "sirt", "wbp"] and all(len(v) == 3 for v in table.values())
    names = sorted(p.name for p in (tmp_path / "demo").iterdir())
    assert names == ["demo.png", "inr-loss.png", "inr.mrc", "sirt.mrc", "tilts.mrc", "tilts.rawtlt", "truth.mrc", "wbp.mrc"]
    for png in ("demo.png", "inr-loss.png"):
        assert (tmp_path / "demo" / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_reconstruct_inr_writes_losses(simdir, tmp_path, capsys):
    out = tmp_path / "inr.mrc"
    code, stdout, _ = run(capsys, "reconstruct", simdir / "tilts.mrc", "-o", out, "--method", "inr", "--steps", "8",
                          "--upsample", "2", "--seed", "3", "--quiet")
    assert code == 0 and "8 steps" in stdout
    volume = io.read_volume(out)
    assert volume.shape == (48, 48, 48) and volume.voxel_size == 0.5
    record = json.loads((tmp_path / "inr.json").read_text())
    assert len(record["parameters"]["losses"]) == 8 and record["seed"] == 3
    assert record["parameters"]["config"]["field"] == "hashgrid"
    # a finished run with a checkpoint resumes to the same volume without training further
    args = ["reconstruct", simdir / "tilts.mrc", "-o", tmp_path / "a.mrc", "--method", "inr", "--steps", "4", "--quiet",
            "--checkpoint", tmp_path / "ck"]
    assert run(capsys, *args)[0] == 0 and (tmp_path / "ck" / "inr-checkpoint.pt").is_file()
    args[3] = tmp_path / "b.mrc"
    assert run(capsys, *args, "--resume")[0] == 0
    np.testing.assert_array_equal(io.read_volume(tmp_path / "a.mrc").data, io.read_volume(tmp_path / "b.mrc").data)


def test_dynamic_times_from_the_acquisition_scheme(tmp_path, capsys):
    """--times SCHEME orders the series' tilt angles as that scheme records them; a single
    sweep over ±60° is warned about (one line: its last half leaves −30° … +40° unseen), four
    passes are not."""
    sim = tmp_path / "sim"
    assert run(capsys, "simulate", sim, "--size", "16", "--tilt-step", "10")[0] == 0  # sequential
    reconstruct = ["reconstruct", sim / "tilts.mrc", "-o", tmp_path / "clean.mrc", "--method", "inr",
                   "--dynamic", "--steps", "2", "--quiet", "--times"]
    code, stdout, stderr = run(capsys, *reconstruct, "dose-symmetric")
    assert code == 0, stdout
    record = json.loads((tmp_path / "clean.json").read_text())["parameters"]
    # −60 … 60 in file order; recorded 0, +10, −10, +20, −20, …, +60, −60
    np.testing.assert_allclose(record["times"], np.array([12, 10, 8, 6, 4, 2, 0, 1, 3, 5, 7, 9, 11]) / 12)
    assert record["times_from"] == "dose-symmetric"
    warned = [line for line in stderr.splitlines() if "four-pass or golden-ratio" in line]
    assert len(warned) == 1 and warned[0].startswith("inrtomo: warning: half of this acquisition leaves 70° of the 120°")
    code, stdout, stderr = run(capsys, *reconstruct, "four-pass")
    assert code == 0, stdout
    assert "four-pass or golden-ratio" not in stderr


def test_dynamic_reconstruction_writes_the_clean_volume_and_a_time_stack(tmp_path, capsys):
    """simulate --contamination, then reconstruct --dynamic with times from a file: the
    clean volume, an HDF5 stack with named axes, one MRC per time and a PNG strip; the run
    record holds the times it used (the file's, not the series' own)."""
    sim = tmp_path / "sim"
    assert run(capsys, "simulate", sim, "--size", "16", "--tilt-step", "10", "--contamination", "sweep")[0] == 0
    assert io.read_volume(sim / "contamination.mrc").data.sum() > 0
    times = np.linspace(0.0, 30.0, 13)[::-1]  # minutes, last view first
    (tmp_path / "times.txt").write_text("".join(f"{t}\n" for t in times))
    out = tmp_path / "clean.mrc"
    code, stdout, _ = run(capsys, "reconstruct", sim / "tilts.mrc", "-o", out, "--method", "inr", "--dynamic", "spacetime",
                          "--steps", "4", "--times", tmp_path / "times.txt", "--at-times", "0,15,30", "--quiet")
    assert code == 0, stdout
    assert io.read_volume(out).shape == (16, 16, 16)
    record = json.loads((tmp_path / "clean.json").read_text())["parameters"]
    np.testing.assert_allclose(record["times"], times)
    assert record["config"]["dynamic"] == "spacetime" and record["times_from"].endswith("times.txt")
    import h5py
    with h5py.File(tmp_path / "clean_times.h5") as f:
        assert f["volume"].shape == f["contamination"].shape == (3, 16, 16, 16)
        assert [d.label for d in f["volume"].dims] == ["t", "z", "y", "x"]
        np.testing.assert_allclose(f["volume"].dims[0][0][:], [0, 15, 30])
        np.testing.assert_allclose(f["volume"][0], io.read_volume(tmp_path / "clean_t0.mrc").data)
        np.testing.assert_allclose(f["contamination"][0], 0, atol=1e-6)  # at the first view's time
    assert (tmp_path / "clean_t2.mrc").is_file() and (tmp_path / "clean_times.png").stat().st_size > 1000


def test_reconstruct_writes_volume_and_run_record(simdir, tmp_path, capsys):
    out = tmp_path / "rec.mrc"
    code, stdout, _ = run(capsys, "reconstruct", simdir / "tilts.mrc", "-o", out, "--poses", simdir / "poses.csv",
                          "--iterations", "30", "--tol", "0", "--device", "cpu")
    assert code == 0 and "30 iterations" in stdout
    volume = io.read_volume(out)
    assert volume.shape == (24, 24, 24) and volume.voxel_size == 1.0
    record = json.loads((tmp_path / "rec.json").read_text())
    assert record["parameters"]["method"] == "sirt" and record["parameters"]["iterations"] == 30
    assert record["parameters"]["device"] == "cpu" and record["wall_time_s"] > 0
    assert record["poses"]["tilt_axis_angle_deg"] == pytest.approx([1.5] * 19)
    assert "reconstruct" in record["command"] and record["versions"]["torch"]
    truth = io.read_volume(simdir / "truth.mrc").data
    from inrtomo import metrics
    assert metrics.ssim(volume.data, truth) > 0.3


def test_reconstruct_wbp_with_shape_and_tilt_axis(simdir, tmp_path, capsys):
    out = tmp_path / "wbp.tif"
    code, _, _ = run(capsys, "reconstruct", simdir / "tilts.mrc", "-o", out, "--method", "wbp", "--filter", "hann",
                     "--shape", "10", "24", "24", "--tilt-axis-angle", "1.5", "--quiet")
    assert code == 0
    assert io.read_volume(out).shape == (10, 24, 24)
    record = json.loads((tmp_path / "wbp.json").read_text())
    assert record["parameters"]["filter"] == "hann" and record["poses"]["tilt_axis_angle_deg"][0] == 1.5


def test_evaluate_holdout_prefers_the_true_poses(simdir, capsys):
    """Held-out projection error is lower with the true poses than with the nominal ones."""
    errors = []
    for extra in (["--poses", simdir / "poses.csv"], []):
        code, out, _ = run(capsys, "evaluate", simdir / "tilts.mrc", "--holdout", "4", "--iterations", "30",
                           "--json", "--quiet", *extra)
        assert code == 0
        figures = json.loads(out)
        assert figures["heldout_views"] == 5 and figures["training_views"] == 14
        errors.append(figures["heldout_nrmse"])
    assert 0 < errors[0] < errors[1]


def test_reconstruct_inr_config_file_with_flag_override(simdir, tmp_path, capsys):
    (tmp_path / "inr.toml").write_text('[inr]\nfield = "fourier"\nsteps = 5\nrays_per_step = 64\nlearning_rate = 0.005\n'
                                      'loss = "mse"\n')
    code, stdout, _ = run(capsys, "reconstruct", simdir / "tilts.mrc", "-o", tmp_path / "r.mrc", "--method", "inr",
                          "--config", tmp_path / "inr.toml", "--steps", "3", "--sparsity", "0", "--quiet")
    assert code == 0 and "3 steps, mse loss" in stdout
    parameters = json.loads((tmp_path / "r.json").read_text())["parameters"]
    config = parameters["config"]
    assert config["loss"] == parameters["loss"] == "mse"  # the file's, not the flag's default (auto)
    assert config["field"] == "fourier" and config["rays_per_step"] == 64 and config["learning_rate"] == 0.005
    assert config["steps"] == 3 and config["sparsity"] == 0.0


def test_reconstruct_inr_with_alignment_records_the_refined_poses(simdir, tmp_path, capsys):
    config = tmp_path / "align.toml"
    config.write_text('[inr]\nalign = "axis,shift"\nalign_start = 2\nalign_warmup = 2\nrays_per_step = 256\n')
    out = tmp_path / "aligned.mrc"
    code, _, _ = run(capsys, "reconstruct", simdir / "tilts.mrc", "-o", out, "--method", "inr", "--steps", "10",
                     "--config", config, "--quiet")
    assert code == 0
    record = json.loads((tmp_path / "aligned.json").read_text())
    assert record["parameters"]["config"]["align"] == "axis,shift" and record["parameters"]["config"]["sparsity"] == 0
    shifts = np.array(record["poses"]["shift_x_px"] + record["poses"]["shift_y_px"])
    assert np.abs(shifts).max() > 0 and abs(np.mean(record["poses"]["shift_y_px"])) < 1e-3  # moved, gauge-fixed


def test_align_writes_poses_for_us_and_imod_and_an_aligned_stack(simdir, tmp_path, capsys):
    prefix = tmp_path / "ali"
    code, out, _ = run(capsys, "align", simdir / "tilts.mrc", "-o", prefix, "--steps", "5", "--quiet")
    assert code == 0 and "tilt axis" in out
    for suffix in (".csv", ".tlt", ".xf", "_ali.mrc", "_ali.rawtlt", ".png", ".json"):
        assert (tmp_path / f"ali{suffix}").stat().st_size > 0, suffix
    poses = io.angles.read_poses(tmp_path / "ali.csv")
    record = json.loads((tmp_path / "ali.json").read_text())
    np.testing.assert_allclose(poses.shift_x, record["poses"]["shift_x_px"], atol=1e-5)
    assert len(record["parameters"]["losses"]) == 5
    psi, dx, dy = io.angles.read_xf(tmp_path / "ali.xf")
    np.testing.assert_allclose(psi, poses.tilt_axis, atol=1e-4)
    np.testing.assert_allclose(dx, poses.shift_x, atol=2e-3)
    np.testing.assert_allclose(io.angles.read_table(tmp_path / "ali.tlt").angles, poses.tilt, atol=1e-4)
    aligned = io.read_tilt_series(tmp_path / "ali_ali.mrc")
    assert aligned.shape == io.read_tilt_series(simdir / "tilts.mrc").shape
    code, _, _ = run(capsys, "reconstruct", simdir / "tilts.mrc", "-o", tmp_path / "sirt.mrc", "--poses",
                     tmp_path / "ali.csv", "--quiet")
    assert code == 0
    code, _, err = run(capsys, "align", tmp_path / "ali_ali.mrc", "-o", prefix, "--refine", "none")
    assert_user_error(code, err, "overwrite the input")
