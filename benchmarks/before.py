"""The previous ``conv2d``: the textbook im2col, as d2lmini computed it before ``d2lmini/im2col.py``.

Kept as the baseline that the benchmark's "speed-up over the previous conv2d" is measured
against (the performance issue asked each of the cases B1, B2 and C to become at least 1.5x
faster than this). It is the im2col most books teach: pad the batch into a new array, copy
each kernel tap's strided view into a six-dimensional column matrix, one matrix product, and
for the input gradient add the columns back tap by tap (col2im). A few images at a time, so
that each column matrix is used while it is in the CPU cache.

It computes what d2lmini's ``conv.py`` computed at the issue's start (commit ffad789), with one
difference that matters: the column gradient goes straight into col2im, where that code named
it first and so kept it alive meanwhile. The work is the same, but the named array changes how
the C library reuses memory: in some processes each call then makes a thousand page faults,
and B1 and B2 take 1.5-1.7x as long. This baseline is the faster of the two, so a speed-up
over it is one over the old code at its best.

``conv2d`` is taped as ``d2lmini.conv2d`` is, with the same checks, so the two are timed
through the same layer path; ``forward`` and ``backward`` take checked arrays (one float dtype,
strides and padding as pairs), as ``d2lmini.im2col``'s functions do.
"""
import numpy as np

from d2lmini.autograd import Tensor, taped
from d2lmini.conv import _check_conv2d

CHUNK_BYTES = 3 << 19  # column matrix per batch chunk (1.5 MB)


def _output_hw(padded_hw, kernel_hw, stride):
    return tuple((p - k) // s + 1 for p, k, s in zip(padded_hw, kernel_hw, stride))


def _im2col(x, kernel_hw, stride, pad):
    """(N, C, H, W) -> (C*kh*kw, N*H_out*W_out): one copy of a strided view per kernel tap."""
    N, C, H_in, W_in = x.shape
    (kh, kw), (sh, sw) = kernel_hw, stride
    xp = np.zeros((C, N, H_in + 2 * pad[0], W_in + 2 * pad[1]), dtype=x.dtype)  # (C, N, Hp, Wp)
    xp[:, :, pad[0]:pad[0] + H_in, pad[1]:pad[1] + W_in] = x.transpose(1, 0, 2, 3)
    H, W = _output_hw(xp.shape[2:], kernel_hw, stride)
    cols = np.empty((C, kh, kw, N, H, W), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, i, j] = xp[:, :, i:i + sh * (H - 1) + 1:sh, j:j + sw * (W - 1) + 1:sw]
    return cols.reshape(C * kh * kw, N * H * W)


def _col2im(cols, x_shape, kernel_hw, stride, pad):
    """The adjoint of ``_im2col``: every column added back onto the window it came from."""
    N, C, H_in, W_in = x_shape
    (kh, kw), (sh, sw) = kernel_hw, stride
    xp = np.zeros((C, N, H_in + 2 * pad[0], W_in + 2 * pad[1]), dtype=cols.dtype)  # (C, N, Hp, Wp)
    H, W = _output_hw(xp.shape[2:], kernel_hw, stride)
    cols = cols.reshape(C, kh, kw, N, H, W)
    for i in range(kh):
        for j in range(kw):
            xp[:, :, i:i + sh * (H - 1) + 1:sh, j:j + sw * (W - 1) + 1:sw] += cols[:, i, j]
    x = xp[:, :, pad[0]:pad[0] + H_in, pad[1]:pad[1] + W_in]  # (C, N, H_in, W_in)
    return np.ascontiguousarray(x.transpose(1, 0, 2, 3))  # (N, C, H_in, W_in)


def _chunks(x, kernel_hw, out_hw):
    per_image = x.shape[1] * kernel_hw[0] * kernel_hw[1] * out_hw[0] * out_hw[1] * x.itemsize
    step = max(1, CHUNK_BYTES // per_image)
    return [slice(start, start + step) for start in range(0, x.shape[0], step)]


def forward(x, w, b, stride, pad):
    """Y = conv2d(x, w, b), (N, C_out, H_out, W_out)."""
    (N, _, H_in, W_in), C_out = x.shape, w.shape[0]
    H, W = _output_hw((H_in + 2 * pad[0], W_in + 2 * pad[1]), w.shape[2:], stride)
    Y = np.empty((N, C_out, H, W), dtype=x.dtype)
    for part in _chunks(x, w.shape[2:], (H, W)):
        cols = _im2col(x[part], w.shape[2:], stride, pad)  # (C_in*kh*kw, n*H*W)
        out = w.reshape(C_out, cols.shape[0]) @ cols  # (C_out, n*H*W)
        Y[part] = out.reshape(C_out, -1, H, W).transpose(1, 0, 2, 3)  # (n, C_out, H, W)
    Y += b[:, None, None]
    return Y


def backward(x, w, grad, stride, pad, need_x=True):
    """(grad_x or None, grad_w, grad_b) given grad = dL/dY."""
    C_out = w.shape[0]
    w2 = w.reshape(C_out, -1)  # (C_out, C_in*kh*kw)
    grad_w = np.zeros_like(w2)
    grad_x = np.empty_like(x) if need_x else None
    for part in _chunks(x, w.shape[2:], grad.shape[2:]):
        cols = _im2col(x[part], w.shape[2:], stride, pad)  # (C_in*kh*kw, n*H*W)
        g = np.ascontiguousarray(grad[part].transpose(1, 0, 2, 3)).reshape(C_out, -1)
        grad_w += (cols @ g.T).T
        if need_x:
            grad_x[part] = _col2im(w2.T @ g, x[part].shape, w.shape[2:], stride, pad)
    return grad_x, grad_w.reshape(w.shape), grad.sum(axis=(0, 2, 3))


def conv2d(X, weight, bias=None, strides=1, padding=0):
    """``d2lmini.conv2d`` computed the previous way: the same checks, result and tape."""
    x, w, b, stride, pad = _check_conv2d("conv2d", X, weight, bias, strides, padding)
    Y = forward(x, w, np.zeros(w.shape[0], x.dtype) if b is None else b, stride, pad)

    def grads(grad):
        need_x = isinstance(X, Tensor) and X.requires_grad
        grad_x, grad_w, grad_b = backward(x, w, grad, stride, pad, need_x)
        return grad_x, grad_w, None if b is None else grad_b

    return taped(Y, (X, weight, bias), grads)
