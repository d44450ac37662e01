"""Two-dimensional cross-correlation: the book's loops and the vectorized versions they check.

- ``corr2d_naive`` / ``corr2d``: one 2-D image, one 2-D kernel (notebook 01).
- ``conv2d_naive`` / ``conv2d``: a batch of multi-channel images, a bank of multi-channel kernels,
  with strides and padding, as ``gluon.nn.Conv2D`` computes them (notebook 02).
- ``conv2d_grad``: the three gradients of ``conv2d`` (notebook 04).

Every function here accepts NumPy arrays (or anything ``np.asarray`` takes). Inside
``autograd.record()`` the vectorized ones also accept :class:`d2lmini.autograd.Tensor` and are
taped, so a block built on them can be trained. Floating-point dtypes are kept (float32 stays
float32); integer and boolean inputs are promoted to float64; NaN and inf propagate as in NumPy
(``0 * inf`` is NaN), touching only the outputs whose windows contain them.

References: d2l, "Convolutions for Images"; the im2col layout of Chellapilla et al., "High
Performance Convolutional Neural Networks for Document Processing" (2006).
"""
import numpy as np

from .autograd import Tensor, _needs_grad, as_array, is_recording, taped
from .im2col import _output_hw
from .im2col import conv2d_backward as _conv2d_backward
from .im2col import conv2d_forward as _conv2d_forward

__all__ = ["corr2d_naive", "corr2d", "conv2d_naive", "conv2d", "conv2d_grad"]


# --------------------------------------------------------------------- checking the input
def _float_array(func, name, value):
    """``value`` as a float array: floats keep their dtype, integers and booleans become float64."""
    array = value.data if isinstance(value, Tensor) else value
    if type(array) is np.ndarray and array.dtype.kind == "f":  # the usual case: as it is
        return array
    array = as_array(func, name, value)  # a clear error for ragged nested lists
    if array.dtype.kind in "biu":
        return array.astype(np.float64)
    if array.dtype.kind != "f":
        raise TypeError(
            f"{func}: {name} must hold real numbers (bool, int or float), got an array of dtype "
            f"{array.dtype}"
        )
    return array


def _check_ndim(func, name, array, layout):
    if array.ndim != len(layout):
        raise ValueError(
            f"{func}: {name} must be {len(layout)}-D with axes {layout}, got shape {array.shape}"
        )


def _pair(func, name, value, minimum):
    """An int or a pair of ints, as gluon takes ``strides`` and ``padding``, as a pair."""
    if isinstance(value, (tuple, list)):  # the types checked first: np.ndim costs microseconds
        pair = tuple(value)
    elif isinstance(value, (int, np.integer)) or np.ndim(value) == 0:
        pair = (value, value)
    else:
        pair = tuple(value)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                 for v in pair):
        raise TypeError(f"{func}: {name} must be an int or a pair of ints, got {value!r}")
    if min(pair) < minimum:
        kind = "positive" if minimum == 1 else "non-negative"
        raise ValueError(f"{func}: {name} must be {kind}, got {value!r}")
    return int(pair[0]), int(pair[1])


def _check_fits(func, input_name, input_shape, kernel_name, kernel_shape, padding=None):
    """That the kernel fits in the input; ``padding``, if given, is named after the input's name
    (formatted only for the error)."""
    if kernel_shape[0] > input_shape[0] or kernel_shape[1] > input_shape[1]:
        if padding is not None:
            input_name = f"{input_name} (padding {padding})"
        raise ValueError(
            f"{func}: the kernel {kernel_name} of height x width {tuple(kernel_shape)} is larger "
            f"than the {input_name} of {tuple(input_shape)}; expected a kernel no larger than the "
            "input in each dimension"
        )


def _check_not_empty(func, name, kernel_shape):
    """A kernel of no rows or no columns has no taps: refused (the output would mean nothing)."""
    if 0 in kernel_shape:
        raise ValueError(
            f"{func}: {name} has no taps (height x width {tuple(kernel_shape)}); expected a "
            "kernel of at least 1 x 1"
        )


def _check_corr2d(func, X, K):
    x, k = _float_array(func, "X", X), _float_array(func, "K", K)
    _check_ndim(func, "X", x, ("height", "width"))
    _check_ndim(func, "K", k, ("height", "width"))
    _check_not_empty(func, "the kernel K", k.shape)
    _check_fits(func, "input X", x.shape, "K", k.shape)
    return x, k


# --------------------------------------------------------------------- one image, one kernel
def corr2d_naive(X, K):
    """2-D cross-correlation by the book's double loop over output pixels: the reference.

    Args:
        X: input, shape (H, W).
        K: kernel, shape (kh, kw), no larger than X.

    Returns:
        Y, shape (H - kh + 1, W - kw + 1), with ``Y[i, j] = (X[i:i+kh, j:j+kw] * K).sum()``.

    Slow (one Python step per output pixel) and not differentiable: it writes each result into
    a NumPy array, where the autograd tape cannot follow. Taught in notebook 01.

    >>> corr2d_naive(np.arange(9.0).reshape(3, 3), np.arange(4.0).reshape(2, 2))
    array([[19., 25.],
           [37., 43.]])
    """
    x, k = _check_corr2d("corr2d_naive", X, K)
    h, w = k.shape
    Y = np.zeros((x.shape[0] - h + 1, x.shape[1] - w + 1), dtype=np.result_type(x, k))
    for value in (X, K):  # the loop stores plain numbers in Y, out of the tape's sight
        if isinstance(value, Tensor):
            value._refuse_conversion("a NumPy array element")  # raises while recording
    X, K = x, k
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y


_STRIP = 1 << 16  # values per strip of output rows: the strip and its inputs stay in cache


def _corr2d_taps(x, k):
    """Shift-and-add: one pass over the image per kernel tap, no loop over pixels.

    The output is filled a strip of rows at a time so that every pass over a strip finds it
    still in the CPU cache (twice as fast as whole-image passes on a 1024x1024 float64 image).
    """
    h, w = k.shape
    H, W = x.shape[0] - h + 1, x.shape[1] - w + 1
    Y = np.empty((H, W), dtype=x.dtype)
    rows = max(1, _STRIP // W)
    scratch = np.empty((min(rows, H), W), dtype=x.dtype)
    for top in range(0, H, rows):
        bottom = min(top + rows, H)
        strip, product = Y[top:bottom], scratch[:bottom - top]  # (rows, W) each
        np.multiply(x[top:bottom, :W], k[0, 0], out=strip)
        for i in range(h):
            for j in range(w):
                if i or j:
                    np.multiply(x[top + i:bottom + i, j:j + W], k[i, j], out=product)
                    strip += product
    return Y


def corr2d(X, K):
    """2-D cross-correlation, vectorized: the same result as ``corr2d_naive``, far faster.

    Instead of visiting each output pixel, visit each kernel tap ``K[i, j]``: it multiplies the
    shifted view ``X[i:i+H, j:j+W]`` of the whole image, and the kh*kw products add up to Y.
    The Python loop makes kh*kw passes (9 for a 3x3 kernel) instead of H*W steps.

    Args:
        X: input, shape (H_in, W_in); a Tensor inside ``autograd.record()`` is taped.
        K: kernel, shape (kh, kw), no larger than X; likewise.

    Returns:
        Y, shape (H_in - kh + 1, W_in - kw + 1), in the dtype of ``X * K`` (float32 stays float32).

    Gradients (for the tape): dL/dX is the "full" correlation of the output gradient with the
    flipped kernel, and dL/dK = corr2d(X, dL/dY), a cross-correlation of the input with the
    output gradient. Taught in notebook 01; its gradient in notebook 04.

    >>> corr2d(np.arange(9).reshape(3, 3), np.arange(4).reshape(2, 2))
    array([[19., 25.],
           [37., 43.]])
    """
    x, k = _check_corr2d("corr2d", X, K)
    dtype = np.result_type(x, k)
    x, k = x.astype(dtype, copy=False), k.astype(dtype, copy=False)
    h, w = k.shape

    def backward(grad):  # grad: (H, W)
        H, W = grad.shape
        grad_x = None
        if isinstance(X, Tensor) and X.requires_grad:
            padded = np.pad(grad, ((h - 1, h - 1), (w - 1, w - 1)))  # (H + 2h - 2, W + 2w - 2)
            grad_x = _corr2d_taps(padded, k[::-1, ::-1])  # (H_in, W_in)
        grad_k = np.array([[np.sum(x[i:i + H, j:j + W] * grad) for j in range(w)]
                           for i in range(h)], dtype=dtype)  # (kh, kw): corr2d(x, grad)
        return grad_x, grad_k

    return taped(_corr2d_taps(x, k), (X, K), backward)


# --------------------------------------------------------------------- batches and channels
def _check_conv2d(func, X, weight, bias, strides, padding):
    x, w = _float_array(func, "X", X), _float_array(func, "weight", weight)
    _check_ndim(func, "X", x, ("batch", "in_channels", "height", "width"))
    _check_ndim(func, "weight", w, ("out_channels", "in_channels", "kernel_height", "kernel_width"))
    if x.shape[1] != w.shape[1]:
        raise ValueError(
            f"{func}: X has {x.shape[1]} input channels (shape {x.shape}) but weight expects "
            f"{w.shape[1]} (shape {w.shape}); expected X.shape[1] == weight.shape[1]"
        )
    if x.shape[1] == 0:
        raise ValueError(
            f"{func}: X has 0 input channels (shape {x.shape}); expected at least one"
        )
    _check_not_empty(func, f"weight {w.shape}", w.shape[2:])
    b = None
    if bias is not None:
        b = _float_array(func, "bias", bias)
        if b.shape != (w.shape[0],):
            raise ValueError(
                f"{func}: bias has shape {b.shape}, expected ({w.shape[0]},): one value per "
                f"output channel of weight {w.shape}"
            )
    stride = _pair(func, "strides", strides, 1)
    pad = _pair(func, "padding", padding, 0)
    padded_hw = (x.shape[2] + 2 * pad[0], x.shape[3] + 2 * pad[1])
    _check_fits(func, "padded input", padded_hw, "weight", w.shape[2:], pad)
    return (*_one_dtype(x, w, b), stride, pad)


def _one_dtype(*arrays):
    """The arrays (None left out of it) in the dtype NumPy gives their arithmetic: float32
    with float64 computes in float64."""
    present = [a for a in arrays if a is not None]
    dtypes = [a.dtype for a in present]
    if dtypes[0].isnative and dtypes.count(dtypes[0]) == len(dtypes):  # the usual case
        return arrays
    dtype = np.result_type(*present)
    return tuple(None if a is None else a.astype(dtype, copy=False) for a in arrays)


def conv2d_naive(X, weight, bias=None, strides=1, padding=0):
    """Batched multi-channel cross-correlation by loops over every output value: the reference.

    Same arguments and result as :func:`conv2d`, computed the way the definition reads.

    >>> conv2d_naive(np.ones((1, 2, 3, 3)), np.ones((1, 2, 2, 2)), bias=[0.5])
    array([[[[8.5, 8.5],
             [8.5, 8.5]]]])
    """
    x, w, b, (sh, sw), (ph, pw) = _check_conv2d("conv2d_naive", X, weight, bias, strides, padding)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    (N, C_out), (kh, kw) = (x.shape[0], w.shape[0]), w.shape[2:]
    H, W = _output_hw(xp.shape[2:], (kh, kw), (sh, sw))
    Y = np.zeros((N, C_out, H, W), dtype=x.dtype)
    for n in range(N):
        for o in range(C_out):
            for i in range(H):
                for j in range(W):
                    window = xp[n, :, i * sh:i * sh + kh, j * sw:j * sw + kw]  # (C_in, kh, kw)
                    Y[n, o, i, j] = np.sum(window * w[o]) + (0 if b is None else b[o])
    return Y


def conv2d(X, weight, bias=None, strides=1, padding=0):
    """Batched multi-channel 2-D cross-correlation, as ``gluon.nn.Conv2D`` computes it.

    Vectorized by im2col: every (C_in, kh, kw) window of the padded input becomes one column
    of a matrix, and one matrix product with the weights, seen as a (C_out, C_in*kh*kw)
    matrix, gives every output value at once. How the column matrix is built fast (on wide
    images a kernel tap is a shift of the flattened padded image and a stride splits it into
    phases; small images are worked with the batch as the last axis; the bias is a row of
    ones) is in :mod:`d2lmini.im2col`; :func:`conv2d_naive` is the loop it is checked against.

    Args:
        X: input, shape (N, C_in, H, W).
        weight: kernels, shape (C_out, C_in, kh, kw).
        bias: shape (C_out,), or None for no bias.
        strides: step between windows, an int or a pair (height, width); positive.
        padding: zeros added on each side, an int or a pair (height, width); non-negative.

    Returns:
        Y, shape (N, C_out, H_out, W_out) with ``H_out = (H + 2 * padding - kh) // stride + 1``.

    Inside ``autograd.record()`` a Tensor argument is taped; see :func:`conv2d_grad` for the
    gradients. Taught in notebook 02.

    >>> conv2d(np.ones((1, 2, 3, 3)), np.ones((1, 2, 2, 2)), bias=[0.5], padding=1).shape
    (1, 1, 4, 4)
    >>> conv2d(np.ones((1, 2, 3, 3)), np.ones((1, 2, 2, 2)), bias=[0.5])
    array([[[[8.5, 8.5],
             [8.5, 8.5]]]])
    """
    x, w, b, stride, pad = _check_conv2d("conv2d", X, weight, bias, strides, padding)
    return _conv2d(X, weight, bias, x, w, b, stride, pad)


def _conv2d(X, weight, bias, x, w, b, stride, pad):
    """``conv2d`` of the arguments X, weight, bias, whose checked arrays are x, w, b (one
    dtype), with the stride and padding as pairs; taped."""
    # a small batch's column matrices are kept for the backward pass, if there will be one
    kept = [] if is_recording() and (_needs_grad(X) or _needs_grad(weight)
                                     or _needs_grad(bias)) else None
    Y = _conv2d_forward(x, w, b, stride, pad, kept)  # (N, C_out, H_out, W_out)

    def backward(grad):
        need_x = isinstance(X, Tensor) and X.requires_grad
        cols = None
        if kept:  # used once: a second backward() builds them again
            cols, kept[:] = kept[:], []
        grad_x, grad_w, grad_b = _conv2d_backward(x, w, grad, stride, pad, need_x, cols)
        return grad_x, grad_w, None if b is None else grad_b

    return taped(Y, (X, weight, bias), backward)


def conv2d_grad(X, weight, grad_out, strides=1, padding=0):
    """The gradients of a loss L with respect to the input, weight and bias of :func:`conv2d`.

    Given ``grad_out = dL/dY`` for ``Y = conv2d(X, weight, bias, strides, padding)``:

    - dL/dweight is itself a cross-correlation, of the input with the output gradient: for one
      channel and stride 1, ``dL/dK = corr2d(X, dL/dY)``. Here: ``dL/dY @ cols.T``, summed over N.
    - dL/dX spreads each output gradient back over the window it came from, weighted by the
      kernel: a "full" correlation with the flipped kernel (``weight.T @ dL/dY``, then col2im).
    - dL/dbias sums the output gradient over the batch and the pixels of each channel.

    Args:
        X, weight, strides, padding: as for :func:`conv2d`.
        grad_out: dL/dY, shape (N, C_out, H_out, W_out).

    Returns:
        (grad_X, grad_weight, grad_bias), shaped (N, C_in, H, W), (C_out, C_in, kh, kw), (C_out,).
        No notebook calls it: notebook 04 takes these gradients with ``backward()``.

    >>> gx, gw, gb = conv2d_grad(np.ones((1, 1, 3, 3)), np.ones((1, 1, 2, 2)), np.ones((1, 1, 2, 2)))
    >>> gx[0, 0]
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    >>> gw[0, 0], gb
    (array([[4., 4.],
           [4., 4.]]), array([4.]))
    """
    x, w, _, stride, pad = _check_conv2d("conv2d_grad", X, weight, None, strides, padding)
    g = _float_array("conv2d_grad", "grad_out", grad_out)
    H, W = _output_hw((x.shape[2] + 2 * pad[0], x.shape[3] + 2 * pad[1]), w.shape[2:], stride)
    expected = (x.shape[0], w.shape[0], H, W)
    if g.shape != expected:
        raise ValueError(
            f"conv2d_grad: grad_out has shape {g.shape}, expected the output shape {expected} "
            f"of conv2d for X {x.shape} and weight {w.shape}"
        )
    return _conv2d_backward(x, w, g.astype(x.dtype, copy=False), stride, pad)
