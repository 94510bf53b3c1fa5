import numpy as np
import pytest
import torch

from inrtomo.geometry import Poses, detector_coordinates
from inrtomo.projector import Projector
from inrtomo.simulate import Phantom, ellipsoid, make_phantom

from helpers import interior_pixels, relative_error

TILTS = np.arange(-60.0, 61.0, 15.0)
GENERAL = {
    "plain": Poses.nominal(TILTS),
    "shift_x only": Poses(TILTS, 0.0, np.linspace(-1.3, 2.2, TILTS.size), 0.0),
    "tilt axis and shifts": Poses(TILTS, 7.5, np.linspace(-1.3, 2.2, TILTS.size), np.linspace(0.7, -0.4, TILTS.size)),
    "out of plane": Poses(TILTS, -4.0, 0.5, -0.25, np.linspace(-3, 3, TILTS.size)),
}


@pytest.mark.parametrize("name", list(GENERAL))
@pytest.mark.parametrize("method", ["auto", "rays"])
def test_adjoint_matches_forward_in_float64(name, method):
    # A volume whose height differs from the detector's exercises the resampled path too.
    for shape, detector in (((10, 9, 14), (9, 16)), ((12, 7, 12), (9, 13))):
        projector = Projector(shape, GENERAL[name], detector, dtype=torch.float64, method=method)
        assert projector.adjointness_test(torch.Generator().manual_seed(0)) < 1e-5


def test_auto_picks_slices_unless_out_of_plane():
    assert Projector((8, 8, 8), GENERAL["tilt axis and shifts"], (8, 8)).method == "slices"
    assert Projector((8, 8, 8), GENERAL["out of plane"], (8, 8)).method == "rays"
    with pytest.raises(ValueError, match="out-of-plane"):
        Projector((8, 8, 8), GENERAL["out of plane"], (8, 8), method="slices")


def test_chunked_slices_equal_one_chunk():
    x = torch.rand(16, 6, 16, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    poses = GENERAL["shift_x only"]
    whole = Projector(x.shape, poses, (6, 20), dtype=torch.float64)
    pieces = Projector(x.shape, poses, (6, 20), dtype=torch.float64, memory=1)  # one view per chunk
    assert len(pieces._chunks) == len(poses) and len(whole._chunks) == 1
    torch.testing.assert_close(pieces.A(x), whole.A(x))
    y = whole.A(x)
    torch.testing.assert_close(pieces.A_adjoint(y), whole.A_adjoint(y))


@pytest.mark.parametrize("method", ["slices", "rays"])
def test_all_ones_cube_projects_to_its_side(method):
    """Line-integral units: a cube of ones of side N gives N at 0°, its chord at 90°."""
    n = 16
    images = Projector((n, n, n), Poses.nominal([0.0, 90.0, 45.0]), (n, n + 8), method=method).A(torch.ones(n, n, n))
    torch.testing.assert_close(images[:2, :, 4:-4], torch.full((2, n, n), float(n)))
    assert float(images[2, n // 2, (n + 8) // 2]) == pytest.approx(n * np.sqrt(2) - 0.5, abs=0.5)


@pytest.mark.parametrize("method", ["slices", "rays"])
@pytest.mark.parametrize("pose", [Poses.nominal([-50.0]), Poses.nominal([35.0]), Poses([30.0], 0.0, 2.0, -3.0),
                                  Poses([30.0], 90.0, 0.0, 0.0)])
def test_single_voxel_lands_where_conventions_say(method, pose):
    """A voxel at (0, 0, +d) appears at u = d sin θ; shifts add (dx, dy); ψ rotates the
    ideal position q by R(ψ)."""
    n, d = 33, 8
    volume = torch.zeros(n, n, n)
    volume[n // 2 + d, n // 2, n // 2] = 1.0  # (z, y, x) = (+d, 0, 0)
    image = Projector(volume.shape, pose, (n, n), method=method).A(volume)[0].numpy()
    uu, vv = detector_coordinates(n, n)
    centroid = np.array([(image * uu).sum(), (image * vv).sum()]) / image.sum()
    psi = np.deg2rad(pose.tilt_axis[0])
    rotation = np.array([[np.cos(psi), -np.sin(psi)], [np.sin(psi), np.cos(psi)]])
    expected = rotation @ [d * np.sin(np.deg2rad(pose.tilt[0])), 0.0] + [pose.shift_x[0], pose.shift_y[0]]
    np.testing.assert_allclose(centroid, expected, atol=0.05)  # bin discretisation, not geometry
    # One voxel of value 1 holds mass 1: exactly for the strip model, on average for rays.
    assert image.sum() == pytest.approx(1.0, abs=1e-5 if method == "slices" else 0.05)


def test_out_of_plane_tilt_moves_a_point_along_v():
    n, d, phi = 33, 8, 10.0
    volume = torch.zeros(n, n, n)
    volume[n // 2 + d, n // 2, n // 2] = 1.0
    image = Projector(volume.shape, Poses([0.0], 0.0, 0.0, 0.0, phi), (n, n)).A(volume)[0].numpy()
    uu, vv = detector_coordinates(n, n)
    v = (image * vv).sum() / image.sum()
    assert v == pytest.approx(-d * np.sin(np.deg2rad(phi)), abs=0.05)


@pytest.mark.parametrize("name", ["nanoparticles", "shepp-logan"])
@pytest.mark.parametrize("method", ["slices", "rays"])
def test_projector_matches_exact_projections_of_phantoms(name, method):
    """A applied to the voxelised truth agrees with the analytic line integrals of the
    solids to 2 % (relative L2) on pixels 3 px or more from every outline."""
    n = 64
    phantom = make_phantom(name, n, seed=2)
    poses = Poses([0.0, 37.0, -58.0], [0.0, 8.0, 0.0], [0.0, 1.5, -0.5], [0.0, -0.75, 0.0])
    exact = phantom.project(poses, (n, n), supersample=3)
    ours = Projector((n, n, n), poses, (n, n), method=method).A(torch.from_numpy(phantom.voxelize((n, n, n)))).numpy()
    for i in range(len(poses)):
        interior = interior_pixels(phantom, poses.subset([i]), exact[i])
        assert interior.sum() > 100
        assert relative_error(ours[i], exact[i], interior) < 0.02, (i, relative_error(ours[i], exact[i], interior))
        assert ours[i].sum() == pytest.approx(exact[i].sum(), rel=0.01)


def test_wrong_shapes_are_refused():
    projector = Projector((8, 8, 8), Poses.nominal([0.0, 10.0]), (8, 8))
    with pytest.raises(ValueError, match="volume of shape"):
        projector.A(torch.zeros(8, 8, 9))
    with pytest.raises(ValueError, match="images of shape"):
        projector.A_adjoint(torch.zeros(3, 8, 8))


def test_a_sphere_projects_to_its_chord_lengths():
    """Away from the rim, a voxelised ball's projection is its chord length 2√(r² − ρ²)."""
    n, r = 40, 12.0
    ball = Phantom([ellipsoid((0, 0, 0), (r, r, r), 1.0)])
    volume = torch.from_numpy(ball.voxelize((n, n, n)))
    uu, vv = detector_coordinates(n, n)
    rho2 = uu**2 + vv**2
    chord = 2 * np.sqrt(np.clip(r**2 - rho2, 0, None))
    inside = rho2 < (r - 3) ** 2
    for method in ("slices", "rays"):
        image = Projector(volume.shape, Poses.nominal([23.0]), (n, n), method=method).A(volume)[0].numpy()
        assert relative_error(image, chord, inside) < 0.01


def test_resampling_keeps_untilted_axis_views_exact():
    """When other views need resampling, a view with ψ = 0 and integer shifts still equals
    the plain projection (the ideal grid shares the detector's pixel centres)."""
    x = torch.rand(16, 12, 16, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    mixed = Poses([0.0, 30.0, 30.0], [0.0, 0.0, 9.0], [2.0, 0.0, 0.0], [-1.0, 0.0, 0.5])
    warped = Projector(x.shape, mixed, (12, 17), dtype=torch.float64)
    assert warped.warp
    plain = Projector(x.shape, Poses([0.0], 0.0, 2.0, 0.0), (12, 17), dtype=torch.float64).A(x)[0]
    torch.testing.assert_close(warped.A(x)[0, :-1], plain[1:])  # dy = −1: row v shows ideal row v + 1
    torch.testing.assert_close(warped.A(x)[1], Projector(x.shape, Poses.nominal([30.0]), (12, 17),
                                                        dtype=torch.float64).A(x)[0])
