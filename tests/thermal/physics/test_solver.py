import numpy as np
import pytest
import scipy.sparse as sp
from skfem import Basis, BilinearForm, ElementTriP1, LinearForm, MeshTri
from skfem.helpers import dot, grad

from meshes.uniform import init_uniform
from thermal.errors import SolverError
from thermal.geometry.lumped import LumpedDie
from thermal.physics.solution import element_centroids
from thermal.physics.solver import ElementGeometry, assemble, heat_out, solve_linear
from tests.conftest import gap_floorplan


def test_closed_form_assembly_matches_scikit_fem():
    # On a mesh that follows the blocks the density is constant per element, so scikit-fem's
    # quadrature with the density at each centroid is exact too.
    fp = gap_floorplan()
    mesh = init_uniform(fp.domain(conform=True), 12)
    model = LumpedDie(conductivity=150.0, thickness=0.5e-3, htc=2e4)
    density = fp.density_at(*element_centroids(mesh))
    A, f = assemble(mesh, model, fp.power_moments(mesh.p, mesh.t))

    basis = Basis(mesh, ElementTriP1())
    q = basis.interpolate(np.zeros(mesh.p.shape[1]))  # shape holder
    kt, h = model.sheet_conductance, model.htc

    @BilinearForm
    def form(u, v, w):
        return kt * dot(grad(u), grad(v)) + h * u * v

    @LinearForm
    def load(v, w):
        return w["q"] * v

    q_elem = np.repeat(density[:, None], basis.X.shape[1], axis=1)
    A_ref = form.assemble(basis)
    f_ref = load.assemble(basis, q=q_elem)
    assert abs(A - A_ref).max() <= 1e-12 * abs(A_ref).max()
    np.testing.assert_allclose(f, f_ref, rtol=1e-12, atol=1e-12 * abs(f_ref).max())
    del q


@pytest.mark.parametrize("conform", [False, True])
@pytest.mark.parametrize("resolution,method", [(40, "direct"), (120, "amg-cg")])
def test_energy_balance_is_exact(resolution, method, conform):
    # Whether the mesh follows the blocks or cuts through them (resolution 40: elements of
    # 0.11 mm across 0.5-2 mm blocks at offsets the grid does not share), the load is exact.
    fp = gap_floorplan()
    mesh = init_uniform(fp.domain(conform), resolution)
    model = LumpedDie()
    geometry = ElementGeometry.of(mesh)
    A, f = assemble(mesh, model, fp.power_moments(mesh.p, mesh.t), geometry)
    u, info = solve_linear(A, f)
    assert info.method == method and info.residual <= 1e-10
    assert f.sum() == pytest.approx(fp.total_power, rel=1e-13)
    assert abs(heat_out(mesh, model, u, geometry) - fp.total_power) / fp.total_power < 1e-9


def test_load_is_the_exact_integral_of_density_times_shape_function():
    # The load of a mesh that cuts through the blocks, applied to the nodal values of a linear
    # function g, is the integral of q g (P1 reproduces linear functions exactly); against
    # scikit-fem's quadrature of q g on a mesh that follows the blocks, where it is exact too.
    fp = gap_floorplan()
    coarse = init_uniform(fp.domain(), 7)  # cuts through every block
    _, f = assemble(coarse, LumpedDie(), fp.power_moments(coarse.p, coarse.t))
    fine = init_uniform(fp.domain(conform=True), 280)
    basis = Basis(fine, ElementTriP1())
    q = fp.density_at(*element_centroids(fine))
    a, bx, by = 0.3, 200.0, -150.0

    @LinearForm
    def moment(v, w):
        x, y = w.x
        return w["q"] * (a + bx * x + by * y) * v

    ref = moment.assemble(basis, q=np.repeat(q[:, None], basis.X.shape[1], axis=1)).sum()
    px, py = coarse.p
    assert f @ (a + bx * px + by * py) == pytest.approx(ref, rel=1e-12)


def test_orientation_does_not_matter_and_degenerate_is_rejected():
    mesh = MeshTri.init_tensor(np.linspace(0, 1, 4), np.linspace(0, 2, 3))
    flipped = MeshTri(mesh.p, mesh.t[::-1], sort_t=False)
    a, b = ElementGeometry.of(mesh), ElementGeometry.of(flipped)
    np.testing.assert_allclose(a.area, b.area)
    np.testing.assert_allclose(a.grad, b.grad[:, ::-1])
    p = np.array([[0.0, 1.0, 2.0], [0.0, 0.0, 0.0]])
    with pytest.raises(ValueError, match="degenerate"):
        ElementGeometry.of(MeshTri(p, np.array([[0], [1], [2]]), validate=False))


def test_solver_refuses_non_finite_system():
    A = sp.identity(3, format="csr") * np.nan
    with pytest.raises(SolverError):
        solve_linear(A, np.ones(3))


def test_solver_never_returns_unconverged_answer():
    # A singular system (zero row) cannot be solved to the tolerance: must raise, not return.
    A = sp.csr_matrix(np.diag([1.0, 2.0, 0.0]))
    with pytest.raises((SolverError, RuntimeError)):
        u, info = solve_linear(A, np.ones(3))
        assert info.residual <= 1e-10  # pragma: no cover - reached only if the solver lied


def _variable_poisson(n: int, k: np.ndarray) -> sp.csr_matrix:
    """5-point finite volumes on an n x n grid, cell conductivities ``k`` (harmonic faces), a
    film on the boundary: SPD."""
    kx = 2 / (1 / k[:, :-1] + 1 / k[:, 1:])
    ky = 2 / (1 / k[:-1, :] + 1 / k[1:, :])
    idx = np.arange(n * n).reshape(n, n)
    rows = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    cols = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    g = np.concatenate([kx.ravel(), ky.ravel()])
    off = sp.coo_matrix((-g, (rows, cols)), shape=(n * n, n * n))
    off = off + off.T
    return (off + sp.diags(-np.asarray(off.sum(axis=1)).ravel() + 1e-3)).tocsr()


def test_a_cycle_lent_to_another_operator_solves_it_with_that_operators_coarse_levels():
    from scipy.sparse.linalg import spsolve

    from thermal.physics.line_multigrid import pcg
    from thermal.physics.solver import AmgCycle

    n = 60
    rng = np.random.default_rng(0)
    plain = _variable_poisson(n, np.ones((n, n)))
    k = np.ones((n, n))
    k[rng.random((n, n)) < 0.05] = 300.0  # scattered inclusions, copper in a bond
    contrasted = _variable_poisson(n, k)
    b = rng.random(n * n)
    own = AmgCycle.of(plain, max_coarse=100)
    lent = own.galerkin(contrasted)
    assert len(lent.matrices) == len(own.matrices) > 2
    for A, P, R, coarse in zip(lent.matrices, lent.P, lent.R, lent.matrices[1:]):
        assert abs(R @ A @ P - coarse).max() <= 1e-12 * abs(coarse).max()
    x, iterations = pcg(contrasted, b, lent, 1e-10, maxiter=200)
    exact = spsolve(contrasted.tocsc(), b)
    assert iterations < 40  # 22 here; its own hierarchy takes 12
    assert np.abs(x - exact).max() <= 1e-7 * np.abs(exact).max()
