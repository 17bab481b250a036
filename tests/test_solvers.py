"""The solvers module against NumPy references (issue 31, the engine issue's solvers)."""

import numpy as np
import pytest

from skembrec._engine.backend import tf
from skembrec._engine.solvers import (
    batched_ridge,
    conjugate_gradient,
    implicit_least_squares,
)


def spd_batch(n, k, seed):
    """``n`` random symmetric positive-definite ``k x k`` matrices (float64)."""
    rng = np.random.default_rng(seed)
    factor = rng.normal(size=(n, k, 2 * k))
    return factor @ factor.transpose(0, 2, 1) / k + 0.1 * np.eye(k), rng.normal(size=(n, k))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_conjugate_gradient_solves_each_row_exactly_after_k_steps(seed):
    matrices, rhs = spd_batch(20, 6, seed)
    A = tf().constant(matrices)

    def apply(x):
        return tf().linalg.matvec(A, x)

    x = conjugate_gradient(apply, tf().constant(rhs), tf().zeros_like(rhs), 6).numpy()
    np.testing.assert_allclose(x, np.linalg.solve(matrices, rhs[..., None])[..., 0],
                               rtol=1e-6, atol=1e-8)


def test_conjugate_gradient_solves_one_coupled_system_when_not_batched():
    matrices, rhs = spd_batch(1, 12, 3)
    # one system over a (3, 4) tensor: the 12 x 12 matrix acts on it flattened
    A = tf().constant(matrices[0])

    def apply(x):
        return tf().reshape(tf().linalg.matvec(A, tf().reshape(x, [-1])), [3, 4])

    b = rhs[0].reshape(3, 4)
    x = conjugate_gradient(apply, tf().constant(b), tf().zeros([3, 4], tf().float64), 12,
                           batched=False).numpy()
    np.testing.assert_allclose(x.ravel(), np.linalg.solve(matrices[0], rhs[0]), rtol=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_conjugate_gradient_step_lowers_each_rows_objective(seed):
    matrices, rhs = spd_batch(30, 8, seed)
    A = tf().constant(matrices)
    start = np.random.default_rng(seed + 10).normal(size=rhs.shape)

    def objective(x):
        return (0.5 * np.einsum("ni,nij,nj->n", x, matrices, x)
                - np.einsum("ni,ni->n", rhs, x))

    previous = objective(start)
    for steps in range(1, 6):
        x = conjugate_gradient(lambda v: tf().linalg.matvec(A, v), tf().constant(rhs),
                               tf().constant(start), steps).numpy()
        current = objective(x)
        assert (current <= previous + 1e-10).all()
        previous = current


@pytest.mark.parametrize("l2", [0.0, 0.5, "per system"])
def test_batched_ridge_is_numpys_solve_of_the_regularised_systems(l2):
    matrices, rhs = spd_batch(50, 5, 4)
    l2 = np.linspace(0.1, 2.0, 50) if l2 == "per system" else l2
    expected = np.linalg.solve(matrices + np.asarray(l2)[..., None, None] * np.eye(5),
                               rhs[..., None])[..., 0]
    np.testing.assert_allclose(batched_ridge(matrices, rhs, l2).numpy(), expected,
                               rtol=1e-9)
    # float32 in, float32 out, to float32 precision
    single = batched_ridge(matrices.astype(np.float32), rhs.astype(np.float32), l2)
    assert single.dtype == tf().float32
    np.testing.assert_allclose(single.numpy(), expected, rtol=1e-3, atol=1e-4)


def test_batched_ridge_with_one_matrix_solves_every_row_against_it():
    matrices, rhs = spd_batch(1, 7, 5)
    rhs = np.random.default_rng(5).normal(size=(40, 7))
    expected = np.linalg.solve(matrices[0] + 0.3 * np.eye(7), rhs.T).T
    np.testing.assert_allclose(batched_ridge(matrices[0], rhs, 0.3).numpy(), expected,
                               rtol=1e-9)


def weighted_ridge_reference(fixed, rows, columns, weights, n, reg, nu, offset):
    """Each row's closed-form solve over every column (NumPy, float64):
    weight ``w`` and target 1 where observed, ``nu`` and 0 elsewhere."""
    m, d = fixed.shape
    offset = np.zeros(m) if offset is None else offset
    out = np.zeros((n, d))
    for u in range(n):
        c = np.full(m, nu)
        t = np.zeros(m)
        mine = rows == u
        c[columns[mine]] = weights[mine]
        t[columns[mine]] = 1.0
        gram = fixed.T @ (c[:, None] * fixed) + reg * np.eye(d)
        out[u] = np.linalg.solve(gram, fixed.T @ (c * (t - offset)))
    return out


def planted_pairs(n, m, seed, weights="uniform"):
    rng = np.random.default_rng(seed)
    mask = rng.random((n, m)) < 0.3
    rows, columns = np.nonzero(mask)  # row-major order
    if weights == "uniform":
        w = np.ones(len(rows))
    else:
        w = rng.uniform(0.5, 4.0, len(rows))
    return rows, columns, w


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("shared", [True, False])
def test_an_als_half_step_is_each_rows_closed_form_weighted_ridge(seed, shared):
    n, m, d = 25, 40, 6
    rng = np.random.default_rng(seed)
    rows, columns, w = planted_pairs(n, m, seed, "uniform" if shared else "varied")
    nu = 1.0 if shared else 0.7
    fixed = rng.normal(0, 0.5, (m, d))
    offset = rng.normal(0, 0.2, m)
    start = rng.normal(0, 0.1, (n, d))
    observed = (tf().constant(rows, tf().int32), tf().constant(columns, tf().int32),
                tf().constant(w, tf().float32))
    x = implicit_least_squares(
        tf().constant(fixed, tf().float32), observed, tf().constant(start, tf().float32),
        reg=0.1, negative_weight=nu, offset=tf().constant(offset, tf().float32),
        steps=4 * d, shared=shared).numpy()
    expected = weighted_ridge_reference(fixed, rows, columns, w, n, 0.1, nu, offset)
    np.testing.assert_allclose(x, expected, rtol=1e-3, atol=1e-4)


def test_a_few_warm_started_steps_only_lower_the_weighted_objective():
    n, m, d = 30, 50, 8
    rng = np.random.default_rng(7)
    rows, columns, w = planted_pairs(n, m, 7, "varied")
    fixed = rng.normal(0, 0.5, (m, d))
    start = rng.normal(0, 0.5, (n, d))

    def objective(x):
        c = np.full((n, m), 0.5)
        t = np.zeros((n, m))
        c[rows, columns], t[rows, columns] = w, 1.0
        return (c * (t - x @ fixed.T) ** 2).sum() + 0.1 * (x ** 2).sum()

    observed = (tf().constant(rows, tf().int32), tf().constant(columns, tf().int32),
                tf().constant(w, tf().float32))
    x, losses = start, [objective(start)]
    for _ in range(4):
        x = implicit_least_squares(tf().constant(fixed, tf().float32), observed,
                                   tf().constant(x, tf().float32), reg=0.1,
                                   negative_weight=0.5, steps=1).numpy()
        losses.append(objective(x))
    assert np.all(np.diff(losses) < 0)
