"""Two-dimensional pooling: the book's loop and the vectorized version it checks.

- ``pool2d_naive``: the book's ``pool2d``, one output pixel at a time (the reference).
- ``pool2d``: the same result by one pass over the image per window tap, for one (H, W) image
  or a (N, C, H, W) batch, with strides and padding as ``gluon.nn.MaxPool2D`` and
  ``gluon.nn.AvgPool2D`` take them, and taped so that a network built on it can be trained.

Conventions, the same in both functions:

- ``strides=None`` means ``strides = pool_size`` (gluon's default): windows side by side.
- ``padding`` is added on each side. Max pooling pads with -inf, so padding never wins a
  window; average pooling pads with zeros and counts them (gluon's default,
  ``count_include_pad=True``): a window half in the padding averages to half its sum over 4.
- A padding must be smaller than the pool in each direction, so that every window holds at
  least one value of the input.
- NaN propagates as in ``np.max`` and ``np.mean``: a window holding a NaN gives NaN.
- Max pooling's gradient goes to one input per window: its maximum; when several values tie
  (or several are NaN), to the first of them in row-major order (top row first, left to right),
  as PyTorch's ``max_pool2d`` does for ties. Average pooling spreads the gradient of each
  window evenly, 1 / (kh * kw) to each of its cells, padding included.

Floating-point dtypes are kept; integers and booleans become float64. Taught in notebook 07.

References: d2l, "Pooling" (2nd edition 7.5; 1st edition 5.4, 池化层).
"""

import numpy as np

from .autograd import Tensor, is_recording, taped
from .conv import _float_array, _output_hw, _pair

__all__ = ["pool2d_naive", "pool2d"]

_MODES = ("max", "avg")


# --------------------------------------------------------------------- checking the input
def _check_pool2d(func, X, pool_size, mode, strides, padding):
    """The checked input as a float array, and the pool, stride and padding as pairs (the mode
    first, then X's dimensions, then the pairs, then whether a window fits)."""
    if not isinstance(mode, str) or mode not in _MODES:
        raise ValueError(f"{func}: mode must be 'max' or 'avg', got {mode!r}")
    x = _float_array(func, "X", X)
    if x.ndim not in (2, 4):
        raise ValueError(
            f"{func}: X must be 2-D (height, width) or 4-D (batch, channels, height, width), "
            f"got shape {x.shape}"
        )
    pool, stride, pad = _check_pool_args(func, pool_size, strides, padding)
    _check_windows(func, x, pool, pad)
    return x, pool, stride, pad


def _check_pool_args(func, pool_size, strides, padding):
    """The pool, stride and padding as pairs of ints; ``nn.MaxPool2D`` and ``nn.AvgPool2D``
    check theirs once, when made."""
    pool = _pair(func, "pool_size", pool_size, 1)
    stride = pool if strides is None else _pair(func, "strides", strides, 1)
    pad = _pair(func, "padding", padding, 0)
    if pad[0] >= pool[0] or pad[1] >= pool[1]:
        raise ValueError(
            f"{func}: padding {pad} must be smaller than pool_size {pool} in each direction, "
            "so that every window holds at least one value of X"
        )
    return pool, stride, pad


def _check_windows(func, x, pool, pad):
    """That the float array x (its dimensions checked) holds at least one window of the
    checked pairs pool and pad; the pooling layers check this at each call."""
    if x.shape[-2] == 0 or x.shape[-1] == 0:
        raise ValueError(
            f"{func}: X has shape {x.shape}; expected a height and width of at least 1"
        )
    padded = (x.shape[-2] + 2 * pad[0], x.shape[-1] + 2 * pad[1])
    if pool[0] > padded[0] or pool[1] > padded[1]:
        raise ValueError(
            f"{func}: the pool of height x width {pool} is larger than the padded input "
            f"{padded} (X {x.shape}, padding {pad}); expected a pool no larger than that"
        )


# --------------------------------------------------------------------- the book's loop
def pool2d_naive(X, pool_size, mode="max", strides=None, padding=0):
    """Max or average pooling by a loop over every output value, as the book writes it.

    Args:
        X: input, shape (H, W) or (N, C, H, W).
        pool_size: the window, an int or a pair (kh, kw).
        mode: ``"max"`` or ``"avg"``.
        strides: step between windows, an int or a pair; None (default) means ``pool_size``.
        padding: added on each side, an int or a pair, smaller than ``pool_size``.

    Returns:
        Y, shape (H_out, W_out) or (N, C, H_out, W_out), with
        ``H_out = (H + 2 * padding - kh) // stride + 1``.

    Not differentiable (it writes plain numbers into Y). Notebook 07 writes this loop; the
    tests check ``pool2d`` against it.

    >>> X = np.arange(9.0).reshape(3, 3)
    >>> pool2d_naive(X, 2, strides=1)
    array([[4., 5.],
           [7., 8.]])
    >>> pool2d_naive(X, 2, "avg", strides=1)
    array([[2., 3.],
           [5., 6.]])
    """
    x, (kh, kw), (sh, sw), (ph, pw) = _check_pool2d("pool2d_naive", X, pool_size, mode,
                                                     strides, padding)
    if isinstance(X, Tensor):
        X._refuse_conversion("a NumPy array element")  # raises while recording
    fill = -np.inf if mode == "max" else 0.0
    batch = x.reshape((-1,) + x.shape[-2:])  # (H, W) or (N, C, H, W) -> (N*C, H, W)
    xp = np.pad(batch, ((0, 0), (ph, ph), (pw, pw)), constant_values=fill)
    H, W = _output_hw(xp.shape[1:], (kh, kw), (sh, sw))
    Y = np.zeros((batch.shape[0], H, W), dtype=x.dtype)
    for m in range(batch.shape[0]):
        for i in range(H):
            for j in range(W):
                window = xp[m, i * sh:i * sh + kh, j * sw:j * sw + kw]  # (kh, kw)
                Y[m, i, j] = window.max() if mode == "max" else window.mean()
    return Y.reshape(x.shape[:-2] + (H, W))


# --------------------------------------------------------------------- vectorized
def _taps(xp, pool, stride, out_hw):
    """Yield, for every tap (i, j) of the window in row-major order, the strided view of the
    padded input ``xp`` that the tap reads: one entry per output pixel, (..., H_out, W_out)."""
    (kh, kw), (sh, sw), (H, W) = pool, stride, out_hw
    for i in range(kh):
        for j in range(kw):
            yield xp[..., i:i + sh * (H - 1) + 1:sh, j:j + sw * (W - 1) + 1:sw]


def _all_taps(xp, pool, stride, out_hw):
    """Every tap's view of ``xp`` as one strided view, (kh, kw, ..., H_out, W_out): what
    ``_taps`` yields, side by side without a copy, so that one NumPy call reads (or writes)
    them all. Its entries overlap when windows are closer than their size: then it must only
    be read."""
    (kh, kw), (sh, sw) = pool, stride
    s_h, s_w = xp.strides[-2:]
    shape = (kh, kw) + xp.shape[:-2] + out_hw
    strides = (s_h, s_w) + xp.strides[:-2] + (sh * s_h, sw * s_w)
    if not xp.flags.c_contiguous:  # a view of another array's memory: NumPy's general tool
        return np.lib.stride_tricks.as_strided(xp, shape, strides, writeable=False)
    # on xp's own memory ``np.ndarray`` makes the same view at a tenth of the cost (as for
    # conv2d's windows in d2lmini/im2col.py)
    return np.ndarray(shape, xp.dtype, xp, 0, strides)


def _stacked_taps(xp, pool, stride, out_hw):
    """The taps of ``xp`` copied side by side: (kh*kw, ..., H_out, W_out), contiguous.

    A tap's view reads every other value of short rows, which is slow; after this one copy
    of all the taps, every pass over them (the maximum, its gradient) reads contiguous memory.
    """
    view = _all_taps(xp, pool, stride, out_hw)  # (kh, kw, ..., H_out, W_out)
    taps = np.empty((pool[0] * pool[1],) + view.shape[2:], dtype=xp.dtype)
    taps.reshape(view.shape)[...] = view
    return taps


def _pad(x, pad, fill):
    """``x`` with ``pad`` rows and columns of ``fill`` on each side of its last two axes."""
    ph, pw = pad
    if ph == pw == 0:
        return x
    xp = np.full(x.shape[:-2] + (x.shape[-2] + 2 * ph, x.shape[-1] + 2 * pw), fill, x.dtype)
    xp[..., ph:ph + x.shape[-2], pw:pw + x.shape[-1]] = x
    return xp


def pool2d(X, pool_size, mode="max", strides=None, padding=0):
    """Max or average pooling, vectorized: the same result as ``pool2d_naive``, far faster.

    Instead of visiting each output pixel, visit each tap (i, j) of the window: it reads the
    strided view ``Xp[..., i::stride, j::stride]`` of the padded input, one value per output
    pixel. The kh*kw views are stacked (one strided view of them all, copied by one NumPy
    call), and their maximum (or mean) over the stack is the output: kh*kw passes over the
    batch (4 for a 2x2 pool), whatever its size, and no Python loop over pixels. Max pooling
    of 2 x 2 windows side by side, the most common, takes a faster route to the same result
    (``_max_2x2``, which says how).

    Args:
        X: input, shape (H, W) or (N, C, H, W); a Tensor inside ``autograd.record()`` is taped.
        pool_size: the window, an int or a pair (kh, kw).
        mode: ``"max"`` or ``"avg"``.
        strides: step between windows, an int or a pair; None (default) means ``pool_size``.
        padding: added on each side, an int or a pair, smaller than ``pool_size``; -inf for
            max pooling, zeros (counted in the average) for average pooling.

    Returns:
        Y, shape (H_out, W_out) or (N, C, H_out, W_out), with
        ``H_out = (H + 2 * padding - kh) // stride + 1``, in the dtype of X.

    Gradients (for the tape): max pooling passes each output's gradient to the maximum of
    its window, the first in row-major order when several tie; average pooling gives each
    cell of the window 1 / (kh * kw) of it. Taught in notebook 07; used by
    ``nn.MaxPool2D`` and ``nn.AvgPool2D`` in notebook 08.

    >>> X = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> pool2d(X, 2)
    array([[[[ 5.,  7.],
             [13., 15.]]]])
    >>> pool2d(X, 3, padding=1, strides=2)
    array([[[[ 5.,  7.],
             [13., 15.]]]])
    >>> pool2d(np.arange(9.0).reshape(3, 3), 2, "avg", strides=1)
    array([[2., 3.],
           [5., 6.]])
    """
    x, pool, stride, pad = _check_pool2d("pool2d", X, pool_size, mode, strides, padding)
    return _pool2d(X, mode, x, pool, stride, pad)


def _pool2d(X, mode, x, pool, stride, pad):
    """``pool2d`` of X, whose checked array is x, with the pool, stride and padding as pairs;
    taped."""
    if (mode == "max" and pool == stride == (2, 2) and pad == (0, 0)
            and x.shape[-2] % 2 == 0 and x.shape[-1] % 2 == 0):
        # the most common pooling, faster; unless a window holds NaN: which NaN comes out, and
        # which one takes the gradient, as below
        Y, took = _max_2x2(np.ascontiguousarray(x), firsts=is_recording())
        if not np.isnan(Y).any():
            if took is None:
                return Y
            dtype = x.dtype  # (the backward pass keeps the booleans, not x)
            return taped(Y, (X,), lambda grad: (_max_2x2_grad(grad, *took, dtype),))
    xp = _pad(x, pad, -np.inf if mode == "max" else 0.0)  # (..., H + 2ph, W + 2pw)
    out_hw = _output_hw(xp.shape[-2:], pool, stride)
    taps = _stacked_taps(xp, pool, stride, out_hw)  # (kh*kw, ..., H_out, W_out)
    if mode == "max":
        Y = taps.max(axis=0)  # NaN propagates, as in np.max
        # what the gradient needs, while recording: booleans, a quarter of the taps' memory
        firsts = _first_maxima(taps, Y, x.shape, pool, stride, pad, out_hw) if is_recording() \
            else None
    else:
        Y = taps.sum(axis=0)  # tap by tap, in row-major order
        Y /= pool[0] * pool[1]
        firsts = None

    def backward(grad):  # grad: (..., H_out, W_out)
        return (_taps_grad(grad, mode, firsts, x.shape, x.dtype, pool, stride, pad),)

    return taped(Y, (X,), backward)


def _taps_grad(grad, mode, firsts, x_shape, dtype, pool, stride, pad):
    """dL/dX of ``_pool2d`` (shape ``x_shape``, in ``dtype``) given ``grad`` = dL/dY,
    (..., H_out, W_out): each output's gradient back to its window's taps, to the first
    maximum (``firsts``) or 1 / (kh * kw) to each."""
    (ph, pw), out_hw = pad, grad.shape[-2:]
    grad_xp = np.zeros(x_shape[:-2] + (x_shape[-2] + 2 * ph, x_shape[-1] + 2 * pw),
                       dtype=dtype)  # (..., H + 2ph, W + 2pw)
    if mode == "avg":  # each tap's share, the same for all: (..., H_out, W_out)
        shares = grad / (pool[0] * pool[1])
    else:
        # (kh*kw, ..., H_out, W_out): each output's gradient, at the tap of its first maximum
        shares = grad * firsts
    # windows that do not overlap each own their cells: there a gradient is written, not added
    # (twice as fast on these strided views)
    if stride[0] >= pool[0] and stride[1] >= pool[1]:
        # every tap written by one call, shares + 0.0 as adding to the zeros would give:
        # -0.0 becomes 0.0
        targets = _all_taps(grad_xp, pool, stride, out_hw)
        np.add(shares if mode == "avg" else shares.reshape(targets.shape), 0.0, out=targets)
    else:
        for t, target in enumerate(_taps(grad_xp, pool, stride, out_hw)):
            target += shares if mode == "avg" else shares[t]
    return grad_xp[..., ph:ph + x_shape[-2], pw:pw + x_shape[-1]]  # (..., H, W)


def _max_2x2(x, firsts=True):
    """Max pooling of the contiguous x (..., H, W), H and W even, over 2 x 2 windows side by
    side; with ``firsts``, also where each window's first maximum is, for ``_max_2x2_grad``.
    The values of ``pool2d`` (where no window holds NaN), by another route.

    On small images a tap's strided view has short rows (as many values as the output is
    wide), which NumPy copies slowly. Here every pass but one reads long rows instead. Seen as
    one flat row, the left and right columns of the windows are every other value: their
    maximum is one pass over two long strided views, ``row_max`` (each window row's maximum),
    whose rows pair up. The upper and lower rows of a window then lie W_out apart in
    ``row_max``: the maximum of ``row_max`` and of ``row_max`` shifted by W_out is one pass
    too, right at the upper row of each pair (and unused at the lower). Only picking out
    those rows (for Y) has short ones, on a quarter of the data. The first maximum of a window
    (ties to the top row, then the left column) is where the right value is strictly larger
    than the left, then where the lower row's maximum is strictly larger than the upper's.

    Returns:
        Y (..., H / 2, W / 2), and (took_right, took_lower) or None: booleans laid out as
        ``row_max``, (... * H * W / 2,) (took_lower W / 2 shorter).
    """
    W_out = x.shape[-1] // 2
    flat = x.reshape(-1)  # (... * H * W,)
    left, right = flat[0::2], flat[1::2]  # every window's left and right column, row by row
    row_max = np.maximum(left, right)  # (... * H * W_out,)
    upper, lower = row_max[:-W_out], row_max[W_out:]  # a row, and the row below it
    window_max = np.empty_like(row_max)  # right at every upper row
    np.maximum(upper, lower, out=window_max[:-W_out])
    # the upper rows, (... * H_out, W_out): every other row of W_out values
    Y = window_max.reshape(-1, 2 * W_out)[:, :W_out].reshape(
        x.shape[:-2] + (x.shape[-2] // 2, W_out)).copy()
    return Y, ((right > left, lower > upper) if firsts else None)  # ties: left, upper


def _max_2x2_grad(grad, took_right, took_lower, dtype):
    """dL/dx of ``_max_2x2`` (in ``dtype``) given ``grad`` = dL/dY (..., H_out, W_out): each
    window's gradient at its first maximum, 0.0 elsewhere; the same long passes, backwards.
    The gradient of ``pool2d``, bit for bit."""
    W_out = grad.shape[-1]
    R = grad.size // W_out  # rows of windows: (... * H_out)
    if np.isinf(grad).any():  # inf * 0 is NaN: the general way, which warns once for it
        rows = took_right.reshape(R, 2, W_out)  # right or left, in the upper and lower row
        lower = np.zeros(R * 2 * W_out, bool)
        lower[:-W_out] = took_lower
        lower = lower.reshape(R, 2, W_out)[:, 0]  # (R, W_out): at each window's upper row
        firsts = np.stack([~lower & ~rows[:, 0], ~lower & rows[:, 0],
                           lower & ~rows[:, 1], lower & rows[:, 1]])  # taps in row-major order
        shape = grad.shape[:-2] + (2 * grad.shape[-2], 2 * W_out)
        return _taps_grad(grad, "max", firsts.reshape((4,) + grad.shape), shape, dtype,
                          (2, 2), (2, 2), (0, 0))
    # each output's gradient at its upper row, zero at the lower rows: (... * H * W_out,)
    spread = np.zeros(took_right.shape, dtype)
    spread.reshape(R, 2 * W_out)[:, :W_out] = grad.reshape(R, W_out)
    # the gradient of row_max: at the upper row, or (shifted by a row) at the lower; the
    # shifted addition also adds spread's zeros at the lower rows onto the next upper rows
    grad_rows = np.empty_like(spread)
    grad_rows[-W_out:] = 0
    np.multiply(spread[:-W_out], ~took_lower, out=grad_rows[:-W_out])
    grad_rows[W_out:] += spread[:-W_out] * took_lower
    grad_x = np.empty(grad.shape[:-2] + (2 * grad.shape[-2], 2 * W_out), dtype)
    grad_flat = grad_x.reshape(-1)
    np.multiply(grad_rows, took_right, out=grad_flat[1::2])  # to the right column, or
    np.multiply(grad_rows, ~took_right, out=grad_flat[0::2])  # to the left
    grad_x += 0.0  # -0.0 (a negative gradient times False) becomes 0.0, as elsewhere
    return grad_x


def _first_maxima(taps, Y, x_shape, pool, stride, pad, out_hw):
    """For each tap, in row-major order, where it holds the first maximum of its window.

    Returns booleans shaped like ``taps``, (kh*kw, ..., H_out, W_out): ``taken`` marks the
    windows whose maximum an earlier tap holds, so a later tap holding the same value (a tie)
    gets nothing. A NaN output is the first NaN of its window. Padding (-inf) never takes the
    gradient: it could only tie with a window whose every value is -inf, and ``real`` rules it
    out.
    """
    firsts = taps == Y  # (kh*kw, ..., H_out, W_out): every tap holding its window's maximum
    nan_out = np.isnan(Y)
    if nan_out.any():
        firsts |= nan_out & np.isnan(taps)
    if pad != (0, 0):  # which cells are the input, not padding: (kh*kw, 1, ..., H_out, W_out)
        real = _stacked_taps(_pad(np.ones(x_shape[-2:], dtype=bool), pad, False), pool,
                             stride, out_hw)
        firsts &= real.reshape((len(taps),) + (1,) * (Y.ndim - 2) + out_hw)
    taken = firsts[0].copy()  # (..., H_out, W_out): the first tap's maxima are all first
    for first in firsts[1:]:
        np.greater(first, taken, out=first)  # held here and not before: the first maximum
        taken |= first
    return firsts
