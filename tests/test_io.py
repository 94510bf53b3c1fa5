import struct

import h5py
import mrcfile
import numpy as np
import pytest
import tifffile

from inrtomo import InputError, TiltSeries, Volume, io
from inrtomo.geometry import Poses
from inrtomo.io import angles as angle_files
from inrtomo.io.common import atomic_output


@pytest.fixture
def series(rng):
    return TiltSeries(rng.random((5, 6, 7)).astype(np.float32), [-40, -20, 0, 20, 40], pixel_size=3.5)


@pytest.fixture
def volume(rng):
    return Volume(rng.random((4, 6, 7)), 2.25)


@pytest.mark.parametrize("suffix", io.VOLUME_SUFFIXES)
def test_volume_round_trip(tmp_path, volume, suffix):
    path = tmp_path / f"vol{suffix}"
    io.write_volume(path, volume)
    back = io.read_volume(path)
    np.testing.assert_array_equal(back.data, volume.data)
    expected = 1.0 if suffix == ".npy" else volume.voxel_size  # .npy has no place for it
    assert back.voxel_size == pytest.approx(expected)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary left over


def test_tilt_series_round_trip_mrc_rawtlt(tmp_path, series):
    path = tmp_path / "ts.st"
    angle_path = io.write_tilt_series(path, series)
    assert angle_path.name == "ts.rawtlt"
    with mrcfile.open(path) as m:
        assert m.is_image_stack() and m.data.dtype == np.float32
    back = io.read_tilt_series(path)
    np.testing.assert_array_equal(back.images, series.images)
    np.testing.assert_allclose(back.angles, series.angles)
    assert back.pixel_size == pytest.approx(3.5)
    assert back.metadata["angles_from"].endswith("ts.rawtlt")


def test_explicit_angle_file_overrides_and_csv_columns(tmp_path, series):
    path = tmp_path / "ts.mrc"
    io.write_tilt_series(path, series)
    csv = tmp_path / "angles.csv"
    csv.write_text("Tilt_Angle,time,dose\n-41,0.4,1\n-21,0.3,1\n1,0,1\n21,0.1,1\n41,0.2,1\n")
    back = io.read_tilt_series(path, angles=csv)
    np.testing.assert_allclose(back.angles, [-41, -21, 1, 21, 41])
    np.testing.assert_allclose(back.times, [0.4, 0.3, 0, 0.1, 0.2])
    np.testing.assert_allclose(back.dose, 1)


def test_angle_files(tmp_path):
    tlt = tmp_path / "a.tlt"
    tlt.write_text("# comment\n-60.0\n\n0\n 60.5 extra\n")
    np.testing.assert_allclose(io.read_table(tlt).angles, [-60, 0, 60.5])
    angle_files.write_angles(tmp_path / "b.rawtlt", [-1.25, 3])
    np.testing.assert_allclose(io.read_table(tmp_path / "b.rawtlt").angles, [-1.25, 3])
    bad = tmp_path / "bad.tlt"
    bad.write_text("1\nabc\n")
    with pytest.raises(InputError, match="line 2"):
        io.read_table(bad)
    nocol = tmp_path / "x.csv"
    nocol.write_text("foo,bar\n1,2\n")
    with pytest.raises(InputError, match="no tilt-angle column"):
        io.read_table(nocol)


def test_pose_table_round_trip(tmp_path):
    poses = Poses([-30, 0, 30], [1.5, 1.5, 1.5], [0.25, -1, 2], [0, 0.5, -0.75])
    angle_files.write_poses(tmp_path / "p.csv", poses, times=[0, 1, 0.5])
    back = angle_files.read_poses(tmp_path / "p.csv")
    for name in ("tilt", "tilt_axis", "shift_x", "shift_y"):
        np.testing.assert_allclose(getattr(back, name), getattr(poses, name))
    np.testing.assert_allclose(io.read_table(tmp_path / "p.csv").times, [0, 1, 0.5])


def test_xf_round_trip_and_imod_meaning(tmp_path):
    """``.xf`` holds the transform from recorded to aligned image: applied to where a point
    of the ideal image was recorded (by our geometry), it gives the ideal point back."""
    import torch

    from inrtomo.geometry import ideal_to_recorded

    poses = Poses([-30.0, 0.0, 30.0], [7.0, -3.0, 12.5], [1.5, -2.0, 0.0], [0.25, 3.0, -4.0])
    path = tmp_path / "a.xf"
    angle_files.write_xf(path, poses)
    psi, dx, dy = angle_files.read_xf(path)
    assert np.allclose(psi, poses.tilt_axis, atol=1e-4) and np.allclose([dx, dy], [poses.shift_x, poses.shift_y], atol=1e-3)

    n = 48
    u = np.arange(n) - (n - 1) / 2
    q = np.array([6.0, -4.0])  # a bright spot of the ideal image at (u, v)
    ideal = np.exp(-((u[None, :] - q[0]) ** 2 + (u[:, None] - q[1]) ** 2) / 4.0)
    t = poses.tensors(torch.float64)
    recorded = ideal_to_recorded(torch.from_numpy(np.repeat(ideal[None], 3, 0)), t[1], t[2], t[3], (n, n)).numpy()
    for view, row in enumerate(np.loadtxt(path)):
        image = recorded[view]
        p = np.array([(image * u[None, :]).sum(), (image * u[:, None]).sum()]) / image.sum()
        aligned = row[:4].reshape(2, 2) @ p + row[4:]
        assert np.allclose(aligned, q, atol=0.05), view

    path.write_text("1.1 0 0 1 0 0\n")
    with pytest.raises(InputError, match="scales or skews"):
        angle_files.read_xf(path)
    path.write_text("1 0 0 1 0\n")
    with pytest.raises(InputError, match="six numbers"):
        angle_files.read_xf(path)


def test_tiff_npy_npz_hdf5_series(tmp_path, series):
    tifffile.imwrite(tmp_path / "ts.tif", series.images)
    angle_files.write_angles(tmp_path / "ts.rawtlt", series.angles)
    np.save(tmp_path / "plain.npy", series.images)
    np.savez(tmp_path / "ts.npz", images=series.images, angles=series.angles, pixel_size=3.5)
    with h5py.File(tmp_path / "ts.h5", "w") as f:
        g = f.create_group("scan")
        ds = g.create_dataset("stack", data=series.images)
        ds.attrs["pixel_size"] = 3.5
        g.create_dataset("angles", data=series.angles)
        f.create_dataset("other", data=np.zeros((2, 2, 2)))
    for path, angles in [
        (tmp_path / "ts.tif", None),
        (tmp_path / "plain.npy", tmp_path / "ts.rawtlt"),
        (tmp_path / "ts.npz", None),
        (f"{tmp_path / 'ts.h5'}:/scan/stack", None),
    ]:
        back = io.read_tilt_series(path, angles=angles)
        np.testing.assert_array_equal(back.images, series.images)
        np.testing.assert_allclose(back.angles, series.angles)
    assert io.read_tilt_series(f"{tmp_path / 'ts.h5'}:/scan/stack").pixel_size == 3.5
    with pytest.raises(InputError, match="cannot tell which 3-D dataset"):
        io.read_tilt_series(tmp_path / "ts.h5")


def test_tomviz_emd(tmp_path, series):
    path = tmp_path / "tomviz.emd"
    with h5py.File(path, "w") as f:
        g = f.create_group("data/tomography")
        g.attrs["emd_group_type"] = 1
        g.create_dataset("data", data=series.images)
        d1 = g.create_dataset("dim1", data=series.angles)
        d1.attrs["name"], d1.attrs["units"] = "angles", "[deg]"
        for i, n in ((2, 6), (3, 7)):
            d = g.create_dataset(f"dim{i}", data=np.arange(n) * 0.35)
            d.attrs["name"], d.attrs["units"] = ("y", "x")[i - 2], "nm"
    back = io.read_tilt_series(path)
    np.testing.assert_array_equal(back.images, series.images)
    np.testing.assert_allclose(back.angles, series.angles)
    assert back.pixel_size == pytest.approx(3.5)


def _old_fei_header(angles, tilt_axis, pixel_m, slots=1024):
    records = np.zeros((slots, 32), dtype="<f4")
    records[: len(angles), 0] = angles  # a_tilt
    records[: len(angles), 10] = tilt_axis
    records[: len(angles), 11] = pixel_m
    return records.tobytes()


def test_fei_like_mrc_int16_with_extended_header_and_no_map_id(tmp_path):
    angles = np.array([-50.0, -25, 0, 25, 50])
    data = (np.arange(5 * 4 * 3).reshape(5, 4, 3) * 7 - 100).astype(np.int16)
    path = tmp_path / "fei.mrc"
    with mrcfile.new(path) as m:
        m.set_data(data)
        m.set_extended_header(np.frombuffer(_old_fei_header(angles, 86.5, 2.1e-10), dtype="V1"))
    raw = bytearray(path.read_bytes())
    raw[208:212] = b"\x00\x00\x00\x00"  # FEI files often lack the MAP id
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError):
        mrcfile.open(path)  # the strict reader refuses it
    back = io.read_tilt_series(path)
    np.testing.assert_array_equal(back.images, data.astype(np.float32))  # data offset past the ext header
    np.testing.assert_allclose(back.angles, angles)
    assert back.tilt_axis_angle == pytest.approx(86.5)
    assert back.pixel_size == pytest.approx(2.1, rel=1e-5)


def test_fei1_extended_header(tmp_path):
    angles = np.array([-30.0, 0, 30])
    dtype = mrcfile.dtypes.get_ext_header_dtype(b"FEI1")
    ext = np.zeros(3, dtype=dtype)
    ext["Metadata size"] = dtype.itemsize
    ext["Alpha tilt"] = angles
    ext["Pixel size X"] = 5e-10
    ext["Tilt axis angle"] = -12.0
    path = tmp_path / "fei1.mrc"
    with mrcfile.new(path) as m:
        m.set_data(np.random.default_rng(0).random((3, 4, 4)).astype(np.float32))
        m.set_extended_header(ext)
        m.header.exttyp = b"FEI1"
    back = io.read_tilt_series(path)
    np.testing.assert_allclose(back.angles, angles)
    assert back.pixel_size == pytest.approx(5.0)
    assert back.tilt_axis_angle == pytest.approx(-12.0)


def test_format_by_content_when_extension_unknown(tmp_path, volume):
    io.write_volume(tmp_path / "v.mrc", volume)
    (tmp_path / "v.mrc").rename(tmp_path / "v.dat")
    np.testing.assert_array_equal(io.read_volume(tmp_path / "v.dat").data, volume.data)
    (tmp_path / "junk.bin").write_bytes(b"hello world" * 100)
    with pytest.raises(InputError, match="cannot tell the format"):
        io.read_volume(tmp_path / "junk.bin")


def test_unreadable_and_missing_files(tmp_path):
    (tmp_path / "broken.mrc").write_bytes(b"\x00" * 10)
    with pytest.raises(InputError, match="broken.mrc"):
        io.read_volume(tmp_path / "broken.mrc")
    with pytest.raises(InputError, match="file not found"):
        io.read_volume(tmp_path / "nothere.tif")
    with pytest.raises(io.MissingAnglesError, match="--angles"):
        np.save(tmp_path / "s.npy", np.ones((2, 3, 3)))
        io.read_tilt_series(tmp_path / "s.npy")


def test_vendor_formats_name_the_extra(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_rsciio(name, *args, **kwargs):
        if name.startswith("rsciio"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_rsciio)
    (tmp_path / "scan.dm4").write_bytes(b"\x00" * 64)
    with pytest.raises(InputError, match=r"inrtomo\[vendor\]"):
        io.read_tilt_series(tmp_path / "scan.dm4", angles=None)


def test_atomic_output_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.mrc"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_output(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mrc"]


def test_write_rejects_unknown_suffix(tmp_path, volume, series):
    with pytest.raises(InputError, match="cannot write a volume"):
        io.write_volume(tmp_path / "v.xyz", volume)
    with pytest.raises(InputError, match="MRC stacks"):
        io.write_tilt_series(tmp_path / "t.tif", series)
    assert list(tmp_path.iterdir()) == []


def test_mrc_header_byte_order_independent(tmp_path):
    # A big-endian MRC (as some older instruments write) reads the same values.
    data = np.arange(24, dtype=">f4").reshape(2, 3, 4)
    path = tmp_path / "be.mrc"
    with mrcfile.new(path) as m:
        m.set_data(data)
    assert struct.unpack(">i", path.read_bytes()[:4])[0] == 4  # nx stored big-endian
    np.testing.assert_array_equal(io.read_volume(path).data, data.astype(np.float32))


@pytest.mark.parametrize("suffix", [".mrc", ".h5", ".tif", ".npy", ".npz"])
def test_volume_written_by_slabs_equals_one_write(tmp_path, rng, suffix):
    volume = Volume(rng.normal(size=(9, 6, 7)), 1.5)
    io.write_volume(tmp_path / f"whole{suffix}", volume)
    with io.volume_writer(tmp_path / f"slabs{suffix}", volume.shape, 1.5) as out:
        for start in range(0, 9, 4):
            out[start:start + 4] = volume.data[start:start + 4]
    whole, slabs = io.read_volume(tmp_path / f"whole{suffix}"), io.read_volume(tmp_path / f"slabs{suffix}")
    np.testing.assert_array_equal(slabs.data, whole.data)
    assert slabs.data.dtype == np.float32
    if suffix != ".npy":  # .npy keeps no voxel size
        assert slabs.voxel_size == pytest.approx(whole.voxel_size) and whole.voxel_size == pytest.approx(1.5)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"slabs{suffix}", f"whole{suffix}"]  # no scratch left
    if suffix == ".mrc":  # the header's statistics, as mrcfile computes them for one write
        with mrcfile.open(tmp_path / "whole.mrc") as a, mrcfile.open(tmp_path / "slabs.mrc") as b:
            for name in ("dmin", "dmax", "dmean", "rms"):
                assert float(b.header[name]) == pytest.approx(float(a.header[name]), rel=1e-5), name


@pytest.mark.parametrize("suffix", [".mrc", ".h5", ".tif", ".npy", ".npz"])
def test_volume_writer_is_atomic_and_complete(tmp_path, suffix):
    with pytest.raises(RuntimeError):
        with io.volume_writer(tmp_path / f"v{suffix}", (4, 3, 3), 1.0) as out:
            out[0:2] = np.ones((2, 3, 3))
            raise RuntimeError("crash")
    with pytest.raises(RuntimeError, match="only 18 of 36 voxels"):
        with io.volume_writer(tmp_path / f"v{suffix}", (4, 3, 3), 1.0) as out:
            out[0:2] = np.ones((2, 3, 3))
    assert list(tmp_path.iterdir()) == []


def test_mrc_tilt_series_is_memory_mapped_not_copied(tmp_path, series):
    io.write_tilt_series(tmp_path / "s.mrc", series)
    images = io.read_tilt_series(tmp_path / "s.mrc").images
    base = images
    while base is not None and not isinstance(base, np.memmap):
        base = base.base
    assert isinstance(base, np.memmap)
    np.testing.assert_array_equal(images, series.images)
