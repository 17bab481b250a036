"""The linear solvers of the training paths, as TensorFlow ops.

Module-level functions, one solver each (scikit-learn's
``linear_model/_ridge.py`` habit): they take and return tensors, run inside
a compiled graph (on the GPU when TensorFlow sees one) and know nothing of
estimators.

:func:`conjugate_gradient`
    Steps of conjugate gradients on a symmetric positive-definite system
    given by its product, one system or a batch of independent ones
    (BayesianMF's multi-hot draws, implicit ALS's per-user solves).
:func:`batched_ridge`
    Exact ridge solves :math:`(G + \\lambda I) x = b`, many small ``k x k``
    systems at once, by Cholesky (FunkMF's fold-in).
:func:`implicit_least_squares`
    One half-step of implicit-feedback alternating least squares (Hu, Koren
    and Volinsky 2008) with implicit's conjugate-gradient recipe (Takacs,
    Pilaszy and Tikk 2011): every row of one side, the other side fixed.
:func:`solve_item_weights`
    The closed-form item-item weights of EASE (Steck 2019): one regularised
    Gram inverse, by LAPACK's Cholesky on a CPU and TensorFlow's on a GPU,
    with :func:`check_memory` refusing a catalogue too large before
    allocating.
"""

import os

import numpy as np

from .backend import graph_loop, tf


def conjugate_gradient(apply, rhs, start, steps, *, batched=True):
    """``steps`` conjugate-gradient steps on ``A x = rhs`` from ``start``.

    With the residual :math:`r_0 = b - A x_0` and direction :math:`d_0 = r_0`,
    each step is

    .. math::

        a_t = \\frac{r_t^\\top r_t}{d_t^\\top A d_t}, \\quad
        x_{t+1} = x_t + a_t d_t, \\quad
        r_{t+1} = r_t - a_t A d_t, \\quad
        d_{t+1} = r_{t+1} + \\frac{r_{t+1}^\\top r_{t+1}}{r_t^\\top r_t} d_t .

    Every step lowers :math:`\\tfrac12 x^\\top A x - b^\\top x` (the
    A-norm of the error), so a few steps warm-started at the previous
    solution never undo it; ``k`` steps solve a ``k x k`` system exactly
    in exact arithmetic. A system already solved (zero residual) stays
    where it is.

    Parameters
    ----------
    apply : callable
        ``apply(x)`` returns :math:`A x` (same shape as ``x``), ``A``
        symmetric positive definite.
    rhs : tensor
        :math:`b`.
    start : tensor
        :math:`x_0`, the shape of ``rhs``.
    steps : int or scalar int32 tensor
        Conjugate-gradient steps (a loop in the graph).
    batched : bool, default=True
        True: each vector along the last axis is its own system, with its
        own step lengths (``A`` acts on each row alone, e.g. implicit ALS's
        per-user systems). False: the whole tensor is one vector of one
        system (BayesianMF's coupled multi-hot groups).

    Returns
    -------
    x : tensor
        The approximate solution, the shape of ``rhs``.
    """
    tf_ = tf()

    def dot(a, b):
        if batched:
            return tf_.reduce_sum(a * b, axis=-1, keepdims=True)
        return tf_.reduce_sum(a * b)

    x = tf_.convert_to_tensor(start)
    residual = rhs - apply(x)
    norm = dot(residual, residual)

    def step(_, x, residual, direction, norm):
        image = apply(direction)
        a = tf_.math.divide_no_nan(norm, dot(direction, image))
        x = x + a * direction
        residual = residual - a * image
        new_norm = dot(residual, residual)
        direction = residual + tf_.math.divide_no_nan(new_norm, norm) * direction
        return x, residual, direction, new_norm

    x, *_ = graph_loop(tf_.constant(steps, tf_.int32), step, x, residual, residual, norm)
    return x


def batched_ridge(gram, rhs, l2=0.0):
    """Solve :math:`(G + \\lambda I) x = b` exactly, for many systems at once.

    By Cholesky: :math:`G + \\lambda I = L L^\\top`, then two triangular
    solves. ``gram`` of shape ``(..., k, k)`` (one system per leading
    index) or ``(k, k)`` (one matrix shared by every row of ``rhs``: one
    factorisation for all of them); the dtype of the inputs is kept
    (float64 for an exact fold-in, float32 in training).

    Parameters
    ----------
    gram : tensor of shape (..., k, k) or (k, k)
        Symmetric positive semi-definite :math:`G`.
    rhs : tensor of shape (..., k)
        Right-hand sides :math:`b`.
    l2 : float or tensor of shape (...), default=0.0
        Ridge coefficient :math:`\\lambda`, one for all systems or one per
        system; with ``l2=0`` the Gram matrices must be positive definite.

    Returns
    -------
    x : tensor of shape (..., k)
    """
    tf_ = tf()
    gram = tf_.convert_to_tensor(gram)
    rhs = tf_.convert_to_tensor(rhs, dtype=gram.dtype)
    l2 = _constant(l2, gram.dtype)
    k = tf_.shape(gram)[-1]
    eye = tf_.eye(k, dtype=gram.dtype)
    if gram.shape.rank == 2:
        # one factorisation; the rows of rhs are its right-hand sides
        chol = tf_.linalg.cholesky(gram + l2 * eye)
        return tf_.transpose(tf_.linalg.cholesky_solve(chol, tf_.transpose(rhs)))
    chol = tf_.linalg.cholesky(gram + l2[..., None, None] * eye)
    return tf_.linalg.cholesky_solve(chol, rhs[..., None])[..., 0]


def implicit_least_squares(fixed, observed, start, *, reg, negative_weight=1.0, offset=None,
                           steps=3, shared=False):
    """One side of implicit ALS: every row's weighted ridge, the other side fixed.

    Row ``u`` of the solved side (a user, or an item) has the vector
    :math:`x_u`; the fixed side's row ``j`` the vector :math:`f_j` and an
    offset :math:`o_j` (zero unless given: the item biases, when users are
    solved). Over *every* pair ``(u, j)``, observed with weight
    :math:`w_{uj}` (target 1) or not (weight :math:`\\nu`, the
    ``negative_weight``; target 0), each row solves

    .. math::

        \\min_{x_u} \\sum_{j \\in O_u} w_{uj} (1 - o_j - f_j^\\top x_u)^2
        + \\nu \\sum_{j \\notin O_u} (o_j + f_j^\\top x_u)^2
        + \\lambda_u \\|x_u\\|^2 ,

    whose normal equations are

    .. math::

        \\Big(\\nu F^\\top F + \\sum_{j \\in O_u} (w_{uj} - \\nu) f_j f_j^\\top
        + \\lambda_u I\\Big) x_u
        = \\sum_{j \\in O_u} \\big(w_{uj} (1 - o_j) + \\nu o_j\\big) f_j
        - \\nu F^\\top o .

    :math:`F^\\top F` is formed once for all rows (``k x k``), so a row
    costs its observed pairs only. With ``shared`` (every observed weight
    equals :math:`\\nu`) the sum over :math:`O_u` drops out of the matrix:
    every row has the same one up to its ridge, solved exactly by one
    Cholesky factorisation (one ``reg``) or one eigendecomposition (a
    ``reg`` per row). Otherwise ``steps`` conjugate-gradient steps per row,
    warm-started at ``start`` (implicit's recipe, Takacs et al. 2011),
    each one matrix product and two passes over the observed pairs; they
    never raise a row's objective.

    Parameters
    ----------
    fixed : tensor of shape (m, d)
        The fixed side's vectors :math:`f_j`.
    observed : tuple of tensors (rows, columns, weights)
        The observed pairs, sorted by ``rows`` (int32 row of the solved
        side, int32 row of ``fixed``, float32 weight :math:`w_{uj} > 0`).
    start : tensor of shape (n, d)
        The solved side's current vectors (the conjugate gradients' start).
    reg : float, scalar tensor or tensor of shape (n,)
        :math:`\\lambda`, one for every row or one per row (:math:`\\lambda_u`:
        implicit ALS's frequency-scaled penalty).
    negative_weight : float or scalar tensor, default=1.0
        :math:`\\nu`.
    offset : tensor of shape (m,), default=None
        :math:`o_j`; None is zero.
    steps : int, default=3
        Conjugate-gradient steps (unused with ``shared``).
    shared : bool, default=False
        Whether every observed weight equals :math:`\\nu` (the caller's
        promise): then the exact shared solve.

    Returns
    -------
    x : tensor of shape (n, d)
        The new vectors of the solved side.
    """
    tf_ = tf()
    rows, columns, weights = observed
    n = tf_.shape(start)[0]
    nu = _constant(negative_weight, fixed.dtype)
    reg = _constant(reg, fixed.dtype)
    # the right-hand side: one sparse product over the observed pairs
    pair_offset = 0.0 if offset is None else tf_.gather(offset, columns)
    coefficient = weights * (1.0 - pair_offset) + nu * pair_offset
    pairs = _pairs(rows, columns, n, fixed)
    rhs = pairs(coefficient)
    if offset is not None:
        rhs -= nu * tf_.linalg.matvec(fixed, offset, transpose_a=True)[None, :]
    gram = nu * tf_.matmul(fixed, fixed, transpose_a=True)
    per_row = reg.shape.rank == 1
    if shared and not per_row:
        return batched_ridge(gram, rhs, reg)
    if shared:
        return _shared_ridge(gram, rhs, reg)
    # each observed pair's vector, gathered once for all the steps
    vectors = tf_.gather(fixed, columns)
    excess = weights - nu
    if per_row:
        ridge = reg[:, None]
    else:
        gram += reg * tf_.eye(tf_.shape(fixed)[1], dtype=fixed.dtype)
        ridge = 0.0

    def apply(x):
        along = tf_.reduce_sum(vectors * tf_.gather(x, rows), axis=1)
        return tf_.matmul(x, gram) + ridge * x + pairs(excess * along)

    return conjugate_gradient(apply, rhs, start, steps, batched=True)


def _shared_ridge(gram, rhs, l2):
    """Solve :math:`(G + \\lambda_u I) x_u = b_u` for every row ``u``: one
    matrix, one ridge per row.

    One eigendecomposition :math:`G = V E V^\\top` serves every row:
    :math:`x_u = V (E + \\lambda_u I)^{-1} V^\\top b_u`, two products with
    ``V`` (a Cholesky factorisation per row would cost ``n`` of them). The
    ``k x k`` decomposition runs in float64, where it costs nothing.
    """
    tf_ = tf()
    values, vectors = tf_.linalg.eigh(tf_.cast(gram, tf_.float64))
    # G is a Gram matrix: rounding may leave its eigenvalues a hair below 0
    values = tf_.cast(tf_.maximum(values, 0.0), gram.dtype)
    vectors = tf_.cast(vectors, gram.dtype)
    return tf_.matmul(tf_.matmul(rhs, vectors) / (values[None, :] + l2[:, None]),
                      vectors, transpose_b=True)


def _pairs(rows, columns, n, dense):
    """``values -> S @ dense`` for the sparse ``(n, len(dense))`` matrix
    ``S`` with ``values`` at ``(rows, columns)`` (row-major order, no
    repeated pair).

    Through TensorFlow's CSR matrices: on a CPU their product is about
    20 times faster than ``tf.sparse.sparse_dense_matmul`` (4.6 ms against
    118 ms for 253k pairs times 64 columns on this 2-core machine), and a
    GPU runs it with cuSPARSE.
    """
    tf_ = tf()
    indices = tf_.cast(tf_.stack([rows, columns], axis=1), tf_.int64)
    shape = tf_.cast(tf_.stack([n, tf_.shape(dense)[0]]), tf_.int64)

    def product(values):
        matrix = tf_.raw_ops.SparseTensorToCSRSparseMatrix(
            indices=indices, values=values, dense_shape=shape)
        return tf_.raw_ops.SparseMatrixMatMul(a=matrix, b=dense)

    return product


def _constant(value, dtype):
    """``value`` as a tensor of ``dtype``; a Python float goes straight to
    ``dtype`` (``tf.cast`` would round it through float32 first)."""
    tf_ = tf()
    return tf_.cast(value, dtype) if tf_.is_tensor(value) else tf_.constant(value, dtype)


# bytes per item-item entry at the solve: the graph's float32 B, the float32
# Gram matrix inverted in place, and the float32 copy B takes on its way into
# the graph (a float64 retry, where float32 Cholesky fails, needs 4 more)
SOLVE_BYTES = 12


# -- the item-item solve (EASE) ------------------------------------------------
def available_memory():
    """Bytes of memory available to a new allocation, or None where unknown."""
    try:
        with open("/proc/meminfo") as info:
            for line in info:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(n_items, bytes_per_entry, purpose):
    """``ValueError`` when ``n_items**2 * bytes_per_entry`` exceeds the memory
    available now (checked before allocating anything that size)."""
    needed = float(n_items) ** 2 * bytes_per_entry
    available = available_memory()
    if available is not None and needed > available:
        raise ValueError(
            f"EASE needs about {needed / 2**30:.1f} GiB {purpose} its {n_items:,} x "
            f"{n_items:,} item-item matrices, more than the {available / 2**30:.1f} GiB "
            "of memory available: fit on fewer items (e.g. leave out the items with "
            "the fewest ratings), on a machine with more memory, or use ImplicitMF, "
            "whose size grows with n_items * n_factors")


def gram_matrix(rows, dtype=np.float32):
    """:math:`X^\\top X` of a users x items CSR, dense and C-ordered; computed a
    block of items at a time, so the sparse products stay small."""
    columns = rows.T.tocsr()
    n = rows.shape[1]
    gram = np.empty((n, n), dtype=dtype)
    block = max(1, (1 << 22) // max(n, 1))
    for lo in range(0, n, block):
        gram[lo:lo + block] = (columns[lo:lo + block] @ rows).toarray()
    return gram


def solve_on_gpu():
    """Whether the solve runs in TensorFlow (a GPU is visible) or LAPACK."""
    return bool(tf().config.list_logical_devices("GPU"))


def solve_item_weights(rows, l2):
    """``(B, objective)`` of EASE for the binary users x items CSR ``rows``.

    ``B`` is float32 ``(n_items, n_items)`` (an ndarray, or a tensor on the
    GPU); the objective :math:`\\|X - XB\\|^2 + \\lambda\\|B\\|^2` equals
    :math:`\\sum_i 1/P_{ii} - n\\lambda` for :math:`P = (X^\\top X + \\lambda I)^{-1}`
    (from :math:`(G + \\lambda I)B = G + \\lambda I - \\mathrm{diag}(1/P_{ii})`),
    so it costs no product with :math:`X`.
    """
    n = rows.shape[1]
    check_memory(n, SOLVE_BYTES - 8, "to solve for")
    if solve_on_gpu():
        return _solve_tensorflow(rows, l2)
    inverse = _lapack_inverse(rows, l2, np.float32)
    if inverse is None:
        # float32 Cholesky failed (too ill-conditioned for it): float64
        check_memory(n, SOLVE_BYTES, "to solve in float64 for")
        inverse = _lapack_inverse(rows, l2, np.float64)
        if inverse is None:
            raise ValueError("EASE's regularised Gram matrix is not positive definite "
                             "even in float64: raise l2")
        inverse = inverse.astype(np.float32)
    return _weights_from_inverse(inverse, l2)


def _lapack_inverse(rows, l2, dtype):
    """:math:`(X^\\top X + \\lambda I)^{-1}` by LAPACK's Cholesky (potrf, potri), in
    place, as a full C-ordered matrix; None where the factorisation fails."""
    from scipy.linalg import lapack

    gram = gram_matrix(rows, dtype)
    n = len(gram)
    gram[np.diag_indices(n)] += dtype(l2)
    potrf, potri = (lapack.spotrf, lapack.spotri) if dtype == np.float32 else \
        (lapack.dpotrf, lapack.dpotri)
    # a symmetric C-ordered matrix is its own Fortran-ordered transpose, which
    # LAPACK factors and inverts in place
    factor, info = potrf(gram.T, lower=0, clean=0, overwrite_a=1)
    if info != 0:
        return None
    inverse, info = potri(factor, lower=0, overwrite_c=1)
    if info != 0:
        return None
    # the upper triangle of the Fortran array holds P: the lower one of its
    # C-ordered transpose; mirror it a block of rows at a time
    full = inverse.T
    block = max(1, (1 << 22) // max(n, 1))
    for lo in range(0, n, block):
        hi = min(n, lo + block)
        full[lo:hi, hi:] = full[hi:, lo:hi].T
        square = full[lo:hi, lo:hi]
        upper = np.triu_indices(hi - lo, 1)
        square[upper] = square.T[upper]
    return full


def _weights_from_inverse(inverse, l2):
    """``(B, objective)`` from :math:`P`, overwriting it."""
    diagonal = np.diag(inverse).astype(np.float64)
    objective = float(np.sum(1.0 / diagonal) - len(diagonal) * l2)
    inverse /= -diagonal.astype(inverse.dtype)[None, :]
    inverse[np.diag_indices(len(diagonal))] = 0.0
    return inverse, objective


def _solve_tensorflow(rows, l2):
    """The solve in TensorFlow (on the GPU it sees): Cholesky, then the inverse
    from the factor."""
    tf_ = tf()
    n = rows.shape[1]
    try:
        matrix = tf_.constant(gram_matrix(rows))
        matrix = tf_.linalg.set_diag(matrix, tf_.linalg.diag_part(matrix) + np.float32(l2))
        inverse = tf_.linalg.cholesky_solve(tf_.linalg.cholesky(matrix),
                                            tf_.eye(n, dtype=tf_.float32))
        del matrix
        diagonal = tf_.linalg.diag_part(inverse)
        objective = float(tf_.reduce_sum(1.0 / tf_.cast(diagonal, tf_.float64))) - n * l2
        weights = tf_.linalg.set_diag(-inverse / diagonal[None, :], tf_.zeros_like(diagonal))
    except tf_.errors.ResourceExhaustedError:
        raise ValueError(f"EASE's {n:,} x {n:,} item-item matrices do not fit in the "
                         "GPU's memory: fit on fewer items, or hide the GPU "
                         "(CUDA_VISIBLE_DEVICES='') to solve on the CPU") from None
    if not np.isfinite(objective):
        raise ValueError("EASE's regularised Gram matrix is not positive definite in "
                         "float32: raise l2")
    return weights, objective
