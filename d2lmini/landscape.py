"""The loss of a kernel learned by least squares, as arrays: its matrix, its bowl, descent paths.

The squared error of a kernel ``k`` on an image ``X`` with target ``Y``,
``L(k) = sum((corr2d(X, k) - Y) ** 2)``, is a quadratic in the kernel's entries: every output
pixel is a weighted sum of the pixels under the kernel, so ``corr2d(X, k).ravel() == A @
k.ravel()`` with one column of ``A`` per kernel entry (the image shifted under that entry). Then

    L(k) = |A k - y|^2,   gradient 2 A^T (A k - y),   Hessian (curvature) H = 2 A^T A,

and plain gradient descent is ``k <- k - lr * 2 A^T (A k - y)``. The functions here compute
these pieces with NumPy alone, for the figures of the notebook, which draws them. Taught in
notebook 04.
"""
import numpy as np

__all__ = ["design_matrix", "hessian", "squared_error", "loss_grid", "descent_path",
           "largest_stable_lr"]


def _pair(func, name, value):
    """``value`` as a pair of positive ints, or a ValueError naming ``func`` and ``name``."""
    if (not isinstance(value, (tuple, list)) or len(value) != 2
            or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1
                       for v in value)):
        raise ValueError(f"{func}: {name} must be a pair of positive ints (kh, kw), got {value!r}")
    return int(value[0]), int(value[1])


def _matrix_and_target(func, A, y):
    """``A`` as a float (n, d) array and ``y`` as a float (n,) array, or a ValueError."""
    A = np.asarray(A, dtype=float)
    y = np.asarray(y, dtype=float)
    if A.ndim != 2 or A.size == 0:
        raise ValueError(f"{func}: A must be a non-empty 2-D array (n, d), got shape {A.shape}")
    if y.size != A.shape[0]:
        raise ValueError(f"{func}: y must hold one target per row of A, {A.shape[0]} values, "
                         f"got shape {y.shape}")
    return A, y.reshape(-1)  # (n, d), (n,)


def design_matrix(X, kernel_shape):
    """The matrix ``A`` with ``A @ k.ravel() == corr2d(X, k).ravel()`` for every kernel ``k``.

    Column ``a * kw + b`` holds the pixels that kernel entry ``(a, b)`` multiplies, one per
    output pixel: the image shifted by ``(a, b)`` and cut to the output's shape.

    Args:
        X: a 2-D image (H, W).
        kernel_shape: ``(kh, kw)``, at most the image's shape.

    Returns:
        A float (H_out * W_out, kh * kw) array, with H_out = H - kh + 1, W_out = W - kw + 1.

    >>> X = np.arange(6.0).reshape(2, 3)
    >>> design_matrix(X, (1, 2))   # windows (0, 1), (1, 2), (3, 4), (4, 5)
    array([[0., 1.],
           [1., 2.],
           [3., 4.],
           [4., 5.]])

    Taught in notebook 04.
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise ValueError(f"design_matrix: X must be a 2-D image (H, W), got shape {X.shape}")
    kh, kw = _pair("design_matrix", "kernel_shape", kernel_shape)
    if kh > X.shape[0] or kw > X.shape[1]:
        raise ValueError(f"design_matrix: kernel_shape {(kh, kw)} does not fit in the image of "
                         f"shape {X.shape}")
    h_out, w_out = X.shape[0] - kh + 1, X.shape[1] - kw + 1
    columns = [X[a:a + h_out, b:b + w_out].ravel()  # (H_out * W_out,) per kernel entry
               for a in range(kh) for b in range(kw)]
    return np.stack(columns, axis=1)  # (H_out * W_out, kh * kw)


def hessian(A, mean=False):
    """The curvature of ``L(k) = |A k - y|^2``: ``H = 2 A^T A`` (divided by n with ``mean``).

    The loss is quadratic, so ``H`` is the same at every ``k``. Its eigenvectors are the axes of
    the loss bowl, and gradient descent is stable only for ``lr < 2 / lambda_max(H)``.

    Args:
        A: a design matrix (n, d).
        mean: the Hessian of the mean squared error ``L(k) / n`` instead of the sum.

    Returns:
        A symmetric float (d, d) array.

    >>> hessian([[1.0, 0.0], [1.0, 1.0]])
    array([[4., 2.],
           [2., 2.]])

    Taught in notebook 04.
    """
    A = np.asarray(A, dtype=float)
    if A.ndim != 2 or A.size == 0:
        raise ValueError(f"hessian: A must be a non-empty 2-D array (n, d), got shape {A.shape}")
    H = 2 * A.T @ A  # (d, n) @ (n, d) -> (d, d)
    return H / A.shape[0] if mean else H


def squared_error(A, y, kernels):
    """``|A k - y|^2`` for one kernel, or for many at once.

    Args:
        A: a design matrix (n, d).
        y: the target, n values (any shape).
        kernels: an array (..., d): one kernel's d entries, or a stack of them.

    Returns:
        A float array of shape ``kernels.shape[:-1]`` (a 0-d array for one kernel).

    >>> A, y = [[1.0, 0.0], [0.0, 1.0]], [1.0, -1.0]
    >>> squared_error(A, y, [[1.0, -1.0], [0.0, 0.0]])
    array([0., 2.])

    Taught in notebook 04.
    """
    A, y = _matrix_and_target("squared_error", A, y)
    kernels = np.asarray(kernels, dtype=float)
    if kernels.ndim == 0 or kernels.shape[-1] != A.shape[1]:
        raise ValueError(f"squared_error: kernels must have A's {A.shape[1]} columns as their "
                         f"last axis, (..., {A.shape[1]}), got shape {kernels.shape}")
    residuals = kernels @ A.T - y  # (..., d) @ (d, n) -> (..., n)
    return (residuals ** 2).sum(axis=-1)  # (...,)


def loss_grid(A, y, k0, k1):
    """The loss of a two-entry kernel on a grid, ready for ``plt.contour(k0, k1, loss)``.

    Args:
        A: a design matrix with two columns (n, 2).
        y: the target, n values.
        k0: the values of the first kernel entry, 1-D (the grid's columns, the x axis).
        k1: the values of the second entry, 1-D (the grid's rows, the y axis).

    Returns:
        A float (len(k1), len(k0)) array: ``loss[i, j]`` is the loss of ``[k0[j], k1[i]]``.

    >>> A, y = [[1.0, 0.0], [0.0, 1.0]], [1.0, -1.0]
    >>> loss_grid(A, y, [0.0, 1.0], [-1.0, 0.0, 1.0])
    array([[1., 0.],
           [2., 1.],
           [5., 4.]])

    Taught in notebook 04.
    """
    A, y = _matrix_and_target("loss_grid", A, y)
    if A.shape[1] != 2:
        raise ValueError(f"loss_grid: A must have two columns, one per kernel entry, "
                         f"got shape {A.shape}")
    k0, k1 = np.asarray(k0, dtype=float), np.asarray(k1, dtype=float)
    for name, values in (("k0", k0), ("k1", k1)):
        if values.ndim != 1 or values.size == 0:
            raise ValueError(f"loss_grid: {name} must be a non-empty 1-D array of values, "
                             f"got shape {values.shape}")
    grid = np.stack(np.meshgrid(k0, k1), axis=-1)  # (len(k1), len(k0), 2)
    return squared_error(A, y, grid)  # (len(k1), len(k0))


def descent_path(A, y, start, lr, num_steps):
    """The kernels that gradient descent on ``|A k - y|^2`` visits, the start first.

    Each step is ``k <- k - lr * 2 A^T (A k - y)``, the update of notebook 04's training loop.

    Args:
        A: a design matrix (n, d).
        y: the target, n values.
        start: the starting kernel, d values (any shape).
        lr: the learning rate, a positive number.
        num_steps: how many steps to take, an int >= 0.

    Returns:
        A float (num_steps + 1, d) array: row ``t`` is the kernel after ``t`` steps.

    >>> A, y = [[1.0, 0.0], [0.0, 1.0]], [1.0, -1.0]
    >>> descent_path(A, y, [0.0, 0.0], lr=0.25, num_steps=2)   # halves the error each step
    array([[ 0.  ,  0.  ],
           [ 0.5 , -0.5 ],
           [ 0.75, -0.75]])

    Taught in notebook 04.
    """
    A, y = _matrix_and_target("descent_path", A, y)
    start = np.asarray(start, dtype=float).reshape(-1)
    if start.size != A.shape[1]:
        raise ValueError(f"descent_path: start must hold one entry per column of A, "
                         f"{A.shape[1]} values, got shape {np.shape(start)}")
    if isinstance(lr, bool) or not np.isscalar(lr) or not np.isfinite(lr) or lr <= 0:
        raise ValueError(f"descent_path: lr must be a positive number, got {lr!r}")
    if (not isinstance(num_steps, (int, np.integer)) or isinstance(num_steps, bool)
            or num_steps < 0):
        raise ValueError(f"descent_path: num_steps must be an int >= 0, got {num_steps!r}")
    path = np.empty((num_steps + 1, A.shape[1]))  # (num_steps + 1, d)
    path[0] = start
    for t in range(num_steps):
        gradient = 2 * A.T @ (A @ path[t] - y)  # (d, n) @ (n,) -> (d,)
        path[t + 1] = path[t] - lr * gradient
    return path


def largest_stable_lr(A, mean=False):
    """The learning rate at which gradient descent on ``|A k - y|^2`` stops converging.

    Along the Hessian's eigenvector of eigenvalue ``lambda`` a step multiplies the error by
    ``1 - lr * lambda``; the largest eigenvalue fails first, at ``lr = 2 / lambda_max``. Below
    this rate every start converges, at it the steepest direction flips without shrinking, and
    above it the loss grows without bound (for a start with some error along that direction).

    Args:
        A: a design matrix (n, d).
        mean: for the mean squared error ``L(k) / n`` instead of the sum.

    Returns:
        A float: ``2 / lambda_max(H)``.

    >>> X = np.ones((6, 8)); X[:, 2:6] = 0   # the stripes of notebooks 03 and 04
    >>> lr = largest_stable_lr(design_matrix(X, (1, 2)))
    >>> round(lr, 4), round(1 / lr)   # the 1/30 limit
    (0.0333, 30)

    Taught in notebook 04.
    """
    A = np.asarray(A, dtype=float)
    if A.ndim != 2 or A.size == 0:
        raise ValueError(f"largest_stable_lr: A must be a non-empty 2-D array (n, d), got shape "
                         f"{A.shape}")
    top = np.linalg.eigvalsh(hessian(A, mean=mean))[-1]  # eigenvalues in ascending order
    if top <= 0:
        raise ValueError("largest_stable_lr: A is all zeros: the loss is flat and any learning "
                         "rate is stable")
    return float(2 / top)
