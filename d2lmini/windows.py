"""Where the windows of a convolution fall on its input, for any kernel size, padding and strides.

- ``output_shape``: the height and width of the output, by the formula with per-side padding.
- ``window_corners``: the top-left corner of every window, in the input's own coordinates
  (padded rows and columns have negative indices, or indices past the last row or column).
- ``coverage``: how many windows read each input pixel.

Padding means zeros added on *each* side, as ``padding=`` means in ``conv2d``, ``nn.Conv2D``
and gluon. Pure NumPy, for the figures and checks of notebook 05.
"""
import operator

import numpy as np

__all__ = ["output_shape", "window_corners", "coverage"]


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


def coverage(input_shape, kernel_size, padding=0, strides=1):
    """How many windows read each pixel of the input: one count per input pixel.

    Without padding the border pixels are read by fewer windows than the middle ones; pixels
    that no window reaches (past the last stride) count 0.

    Args:
        input_shape, kernel_size, padding, strides: as for :func:`output_shape`.

    Returns:
        An int array of shape (H, W).

    >>> coverage((4, 4), 3)
    array([[1, 2, 2, 1],
           [2, 4, 4, 2],
           [2, 4, 4, 2],
           [1, 2, 2, 1]])

    Taught in notebook 05.
    """
    (H, W), (kh, kw), (ph, pw), _, padded = _checked("coverage", input_shape, kernel_size,
                                                     padding, strides)
    counts = np.zeros(padded, dtype=int)  # (H + 2 ph, W + 2 pw)
    for r, c in window_corners(input_shape, kernel_size, padding, strides).reshape(-1, 2):
        counts[r + ph:r + ph + kh, c + pw:c + pw + kw] += 1  # padded row r + ph is input row r
    return counts[ph:ph + H, pw:pw + W]  # (H, W): the padding is read too, but is not input
