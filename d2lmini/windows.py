"""Where the windows of a convolution fall on its input, for any kernel size, padding and strides.

- ``output_shape``: the height and width of the output, by the formula with per-side padding.
- ``window_corners``: the top-left corner of every window, in the input's own coordinates
  (padded rows and columns have negative indices, or indices past the last row or column).
- ``coverage``: how many windows read each input pixel.
- ``window_step``: one step of the sliding window: where it is, its products, the output so far.

Padding means zeros added on *each* side, as ``padding=`` means in ``conv2d``, ``nn.Conv2D``
and gluon. Pure NumPy, for the figures and checks of notebooks 01 and 05.
"""
import operator

import numpy as np

__all__ = ["output_shape", "window_corners", "coverage", "window_step"]


def _pair(func, name, value, minimum):
    """An int or a pair of ints as a pair, each at least ``minimum``; else a clear error."""
    pair = (value, value) if np.ndim(value) == 0 else tuple(value)
    try:
        if len(pair) != 2 or any(isinstance(v, bool) for v in pair):
            raise TypeError
        pair = tuple(operator.index(v) for v in pair)
    except TypeError:
        raise TypeError(f"{func}: {name} must be an int or a pair of ints, got {value!r}") from None
    if min(pair) < minimum:
        raise ValueError(f"{func}: {name} must be at least {minimum} in each dimension, got "
                         f"{value!r}")
    return pair


def _checked(func, input_shape, kernel_size, padding, strides):
    """The four arguments as pairs, and the padded input's shape; errors name what is wrong."""
    hw = _pair(func, "input_shape", input_shape, 1)
    kernel = _pair(func, "kernel_size", kernel_size, 1)
    pad = _pair(func, "padding", padding, 0)
    stride = _pair(func, "strides", strides, 1)
    padded = (hw[0] + 2 * pad[0], hw[1] + 2 * pad[1])
    if kernel[0] > padded[0] or kernel[1] > padded[1]:
        raise ValueError(
            f"{func}: the kernel of {kernel} is larger than the padded input of {padded} (input "
            f"{hw}, padding {pad} on each side); expected a kernel no larger in each dimension"
        )
    return hw, kernel, pad, stride, padded


def output_shape(input_shape, kernel_size, padding=0, strides=1):
    """The (height, width) of a convolution's output: ``(H + 2 * p - k) // s + 1`` each.

    Args:
        input_shape: (H, W) of the input, or one int for a square input.
        kernel_size: (kh, kw), or one int.
        padding: zeros added on each side, (ph, pw) or one int; non-negative.
        strides: the step between windows, (sh, sw) or one int; positive.

    Returns:
        ``(H_out, W_out)``, a pair of ints: the shape ``conv2d`` gives for these settings.

    >>> output_shape((8, 8), 3, padding=1)
    (8, 8)
    >>> output_shape((8, 8), (3, 5), padding=(0, 1), strides=(3, 4))
    (2, 2)

    Taught in notebook 05.
    """
    _, kernel, _, stride, padded = _checked("output_shape", input_shape, kernel_size, padding,
                                            strides)
    return tuple((p - k) // s + 1 for p, k, s in zip(padded, kernel, stride))


def window_corners(input_shape, kernel_size, padding=0, strides=1):
    """The top-left corner (row, column) of every window, in the coordinates of the input.

    Output value ``Y[i, j]`` reads the window of rows ``r .. r + kh - 1`` and columns
    ``c .. c + kw - 1`` of the input, with ``(r, c) = (i * sh - ph, j * sw - pw)``. Rows and
    columns outside ``0 .. H - 1`` and ``0 .. W - 1`` are padding (zeros).

    Args:
        input_shape, kernel_size, padding, strides: as for :func:`output_shape`.

    Returns:
        An int array of shape (H_out, W_out, 2): ``corners[i, j] = (r, c)``.

    >>> corners = window_corners((8, 8), 3, padding=1, strides=2)
    >>> corners.shape
    (4, 4, 2)
    >>> corners[0, 0].tolist(), corners[0, 1].tolist(), corners[1, 0].tolist()
    ([-1, -1], [-1, 1], [1, -1])

    Taught in notebook 05 (the figures of the windows).
    """
    _, kernel, pad, stride, padded = _checked("window_corners", input_shape, kernel_size,
                                              padding, strides)
    H_out, W_out = ((p - k) // s + 1 for p, k, s in zip(padded, kernel, stride))
    rows = np.arange(H_out) * stride[0] - pad[0]  # (H_out,)
    cols = np.arange(W_out) * stride[1] - pad[1]  # (W_out,)
    corners = np.empty((H_out, W_out, 2), dtype=int)  # (H_out, W_out, 2)
    corners[..., 0] = rows[:, None]
    corners[..., 1] = cols[None, :]
    return corners


def coverage(input_shape, kernel_size, padding=0, strides=1, include_padding=False):
    """How many windows read each pixel of the input: one count per input pixel.

    Without padding the border pixels are read by fewer windows than the middle ones; pixels
    that no window reaches (past the last window, or between windows when the stride exceeds
    the kernel) count 0.

    Args:
        input_shape, kernel_size, padding, strides: as for :func:`output_shape`.
        include_padding: count the padded zeros' pixels too, on the padded input.

    Returns:
        An int array of shape (H, W), or (H + 2 ph, W + 2 pw) with ``include_padding``
        (padded row ``r + ph`` is input row ``r``).

    >>> coverage((4, 4), 3)
    array([[1, 2, 2, 1],
           [2, 4, 4, 2],
           [2, 4, 4, 2],
           [1, 2, 2, 1]])
    >>> coverage((2, 2), 2, padding=1, strides=2, include_padding=True)
    array([[1, 1, 1, 1],
           [1, 1, 1, 1],
           [1, 1, 1, 1],
           [1, 1, 1, 1]])

    Taught in notebook 05.
    """
    (H, W), (kh, kw), (ph, pw), _, padded = _checked("coverage", input_shape, kernel_size,
                                                     padding, strides)
    counts = np.zeros(padded, dtype=int)  # (H + 2 ph, W + 2 pw)
    for r, c in window_corners(input_shape, kernel_size, padding, strides).reshape(-1, 2):
        counts[r + ph:r + ph + kh, c + pw:c + pw + kw] += 1  # padded row r + ph is input row r
    if include_padding:
        return counts  # (H + 2 ph, W + 2 pw)
    return counts[ph:ph + H, pw:pw + W]  # (H, W): the padding is read too, but is not input


def window_step(X, K, step):
    """The sliding window of ``corr2d(X, K)`` after ``step + 1`` of its moves, as arrays.

    The window visits the output's places row by row: step ``t`` computes output value
    ``Y[t // W_out, t % W_out]``. This returns what a learner following the recipe by hand has
    in front of them at that step.

    Args:
        X: a 2-D input (H, W).
        K: a 2-D kernel (kh, kw), at most as large as ``X``.
        step: which step, an int from 0 to ``H_out * W_out - 1``.

    Returns:
        ``(corner, products, partial)``: ``corner`` is the window's top-left ``(i, j)`` (also the
        place of the value this step computes), ``products`` the (kh, kw) array
        ``X[i:i + kh, j:j + kw] * K`` whose sum is ``Y[i, j]``, and ``partial`` the float
        (H_out, W_out) output with the values of steps ``0 .. step`` filled in and NaN where the
        window has not been yet.

    >>> X = np.arange(9.0).reshape(3, 3)
    >>> K = np.array([[0.0, 1.0], [2.0, 3.0]])
    >>> corner, products, partial = window_step(X, K, 1)
    >>> corner
    (0, 1)
    >>> products
    array([[ 0.,  2.],
           [ 8., 15.]])
    >>> partial
    array([[19., 25.],
           [nan, nan]])

    Taught in notebook 01.
    """
    X, K = np.asarray(X, dtype=float), np.asarray(K, dtype=float)
    if X.ndim != 2 or K.ndim != 2 or X.size == 0 or K.size == 0:
        raise ValueError(f"window_step: X and K must be non-empty 2-D arrays (H, W) and (kh, kw), "
                         f"got shapes {X.shape} and {K.shape}")
    (H, W), (kh, kw) = X.shape, K.shape
    if kh > H or kw > W:
        raise ValueError(f"window_step: the kernel K of {K.shape} is larger than the input X of "
                         f"{X.shape}; expected a kernel no larger in each dimension")
    H_out, W_out = H - kh + 1, W - kw + 1
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)):
        raise TypeError(f"window_step: step must be an int from 0 to {H_out * W_out - 1}, got "
                        f"{type(step).__name__} {step!r}")
    if not 0 <= step < H_out * W_out:
        raise ValueError(f"window_step: step must be an int from 0 to {H_out * W_out - 1} (the "
                         f"output has {H_out} x {W_out} values), got {step!r}")
    partial = np.full((H_out, W_out), np.nan)  # (H_out, W_out): NaN where not computed yet
    for t in range(step + 1):  # the book's loop, row by row, stopped after this step
        i, j = divmod(t, W_out)
        partial[i, j] = (X[i:i + kh, j:j + kw] * K).sum()
    i, j = divmod(int(step), W_out)
    return (i, j), X[i:i + kh, j:j + kw] * K, partial  # (kh, kw) products
