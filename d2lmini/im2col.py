"""The matrix products behind ``d2lmini.conv2d``: im2col and col2im, in two layouts.

``conv2d`` is one matrix product once every window of the input is a column of a matrix
(im2col): ``Y = weight @ cols`` with the weight seen as (C_out, C_in*kh*kw). Its gradients are
two more products, ``dL/dweight = dL/dY @ cols.T`` and ``cols_grad = weight.T @ dL/dY``, and
col2im adds ``cols_grad`` back onto the windows. This module builds those matrices fast, in
pure NumPy; :mod:`d2lmini.conv` holds the loops they are checked against.

NumPy copies a strided view one row at a time, and pays for each row as much as for a few
dozen values: what makes a copy fast is long rows. Two layouts of a chunk of images give
them, one for wide images and one for small ones; each is a class that builds the column
matrix (``im2col``), writes the output from the product, sets out the output gradient, and
adds the columns' gradient back onto the image (``col2im``). The tricks, each explained where
it is used:

1. The flat grid (``_Grid``), for images more than ``_BATCH_LAST_UP_TO`` outputs wide.
   Flatten each padded channel into one long row. Output pixel (i, j) reads input (i + a, j + b)
   under kernel tap (a, b): on the flat row that is the position of (i, j) shifted by
   ``a * width + b``. So the whole im2col is kh*kw copies of long rows (one per tap, all made
   by one NumPy copy from a view whose axes step through the taps), and col2im kh*kw
   additions. The price: each output row is computed the whole padded width wide, and the
   positions past the last valid column (which wrap onto the next row) are discarded (for a
   3x3 kernel on 32x32, 2 columns in 32).
2. A stride s splits the padded image into s*s phases (every s-th row and column, from each
   offset): under a stride each tap reads one phase, shifted as in 1.
3. The bias is one more column of the weight, multiplied by a row of ones in ``cols``; its
   gradient comes out of the weight-gradient product as that column.
4. Work matrices are kept between calls, per thread: a fresh array of more than 128 KB costs
   page faults on every call (glibc's malloc maps such arrays anew). A large chunk (a column
   matrix of 1 MB or more) keeps its own; the small ones share one set (as large as the
   largest needs), so the small layers of a network hold one set between them. Results are
   always new arrays, never these buffers.
5. A batch is worked a few images at a time, so each column matrix is still in the CPU cache
   when the product reads it.
6. A matrix row of a multiple of 4 KiB slows OpenBLAS's kernels: rows get a little slack.
7. NumPy copies on one core. With ``threadpoolctl`` installed, the chunks of a call from the
   main thread are shared by as many threads as the BLAS may use (each takes the next chunk
   not yet taken, so one that the machine slows down takes fewer), the BLAS held to one
   thread per product meanwhile; without it, the products use the BLAS's threads and the
   copies one core. Each chunk's result has its own place, so a result never depends on
   which thread computed which chunk; it can differ in the last bits from a batch of one
   chunk, whose products the BLAS splits between its threads. The threads share Python's
   lock (the GIL), which NumPy lets go while it works on large arrays, but ``np.matmul`` not
   for a product of at most 500 values, however long its sums: a chunk's weight gradient,
   for a layer of few channels, goes through ``np.dot`` (``_weight_grad``).
8. Batch last (``_BatchLast``), for small images (LeNet's 8 x 8 digits and their 4 x 4
   maps). On the grid the taps' copies are long rows, but scattering the images onto the
   phases, writing the output, setting out its gradient and gathering the input gradient
   move rows as short as an image is wide, 8 values or fewer: on small images those copies
   are mostly cost per row. With the batch as the last axis of the padded chunk,
   (C, Hp, Wp, n), tap (a, b) reads the strided view ``padded[:, a:a + H_out, b:b + W_out, :]``
   (stride 1; a stride s steps by s), whose rows hold W_out * n values (n under a stride):
   im2col is one copy of a view of every tap, col2im kh*kw additions, and every column is an
   output (nothing discarded). The price is moving the chunk into and out of that layout value
   by value, which costs more than it saves on wide images.
9. A batch whose column matrices come to at most ``_KEEP_BATCH_BYTES`` (4 MB: LeNet's
   layers, or eight 128 x 128 RGB images under a 3 x 3 kernel of stride 2) keeps them from its
   forward pass for its backward pass, each chunk's in an array of its own that the tape holds
   (as long as the recorded graph lives): the backward pass builds none, and writes the input
   gradient's columns over them, so that a second ``backward()`` through the same graph builds
   them again. The backward pass then gives the large arrays back, for the next forward pass
   of the same geometry to take, on whichever thread (as trick 4, without page faults). Larger
   batches build theirs again in the backward pass, chunk by chunk: a whole batch's column
   matrices would no longer be in the CPU cache when the backward pass reads them, and reading
   them costs more than building them again (measured on 64 images of 28 x 28 under a 5 x 5
   kernel, 6 MB: 2-4% slower kept).

On the grid, gradients must not see the discarded positions: the output gradient is zero
there, and where an input (or a weight) holds inf or NaN, whose product with that zero would be
NaN, the discarded columns are zeroed too (checked by one sum, so finite inputs pay nothing
more). A column matrix kept for the backward pass (trick 9) has its discarded columns zeroed
once its forward product is made, so a backward pass that uses only kept ones checks nothing.

Where the time goes (forward and all three gradients, N=32, C_in=16, C_out=32, 32x32, 3x3,
on the grid, on one core; ``make bench`` measures it): about 60% in the three matrix products,
the rest in copies: building the column matrices about 11%, col2im about 13%, and moving the
output and its gradient between layouts (with the checks and the tape) about 15%.
"""
import functools
import math
import os
import queue
import sys
import threading
from collections import OrderedDict

import numpy as np

__all__ = ["conv2d_forward", "conv2d_backward"]

_CHUNK_BYTES = 3 << 20  # column matrix per batch chunk (3 MB): small enough to stay in cache
_KEPT_BYTES = 32 << 20  # kept buffers per thread, and given-back column matrices, at most
_KEEP_FROM_BYTES = 1 << 20  # a layout keeps its own buffers if its column matrix is this large
_KEEP_BATCH_BYTES = 4 << 20  # a batch keeps its column matrices for its backward pass up to this
_BATCH_LAST_UP_TO = 12  # images at most this many outputs wide are worked batch last (trick 8)
_local = threading.local()  # each thread its own buffers: two threads never share one


def _buffer(layout, role, shape, dtype, zeros=True, ones_row=False):
    """A work array of a layout for this thread (trick 4): with ``zeros``, zeros wherever its
    callers do not write (a scratch array is zeroed on each call, a kept one only when made);
    else any values. The last row ones if ``ones_row`` (the bias row of trick 3).

    A small layout's arrays (under ``_KEEP_FROM_BYTES`` each) are the thread's scratch arrays,
    one per role, shared by every small layout (as large as the largest of them asks), set up
    as asked on each call. Every other array is kept for its layout, made when first asked
    for (and again if the least recently used were dropped): callers only ever write the same
    positions of a kept array, so what starts as zero (padding, the discarded grid) stays zero;
    the arrays that serve two purposes in turn (the column matrix and its gradient, the output
    and its gradient) say what they rewrite.
    """
    dtype = np.dtype(dtype)
    size = math.prod(shape)
    if not layout.kept and size * dtype.itemsize < _KEEP_FROM_BYTES:
        scratch = _local.__dict__.setdefault("scratch", {})
        # the view made for the same arguments last time (a training loop asks for the same few
        # again and again), if it still views the role's scratch array
        views = _local.__dict__.setdefault("views", {})
        flat, array = views.get((role, shape, dtype), (None, None))
        if flat is None or scratch.get((role, dtype.str)) is not flat:
            flat = scratch.get((role, dtype.str))
            if flat is None or flat.size < size:
                flat = scratch[role, dtype.str] = np.empty(size, dtype=dtype)
                views.clear()  # no view keeps a replaced array alive
            array = flat[:size].reshape(shape)
            if len(views) >= 64:  # more shapes than a network asks for: start again
                views.clear()
            views[role, shape, dtype] = flat, array
        if zeros:
            array[...] = 0
    else:
        kept = _local.__dict__.setdefault("buffers", OrderedDict())
        key = (role, layout.key, shape, dtype.str)
        array = kept.get(key)
        if array is not None:
            kept.move_to_end(key)
            return array
        array = kept[key] = np.zeros(shape, dtype=dtype)
        while len(kept) > 1 and sum(a.nbytes for a in kept.values()) > _KEPT_BYTES:
            kept.popitem(last=False)
    if ones_row:
        array[-1] = 1
    return array


def _output_hw(padded_hw, kernel_hw, stride):
    """(H_out, W_out): how many windows of ``kernel_hw`` fit, ``stride`` apart, in ``padded_hw``."""
    return ((padded_hw[0] - kernel_hw[0]) // stride[0] + 1,
            (padded_hw[1] - kernel_hw[1]) // stride[1] + 1)


def _row_length(values, itemsize):
    """Row length for a matrix of ``values`` columns, off a multiple of 4 KiB (trick 6)."""
    return values + (64 // itemsize if values * itemsize % 4096 == 0 else 0)


class _Layout:
    """What both layouts share: the sizes of a chunk's column matrix, (K + 1, M) in rows of
    ``row`` values, and where its work arrays live.

    Subclasses set ``out_hw`` and ``M`` (the columns: one per output position, and on the grid
    the discarded ones too), then call ``_sizes``.
    """

    discards = False  # whether some columns are positions that are not outputs

    def _sizes(self, n, C, in_hw, kernel_hw, stride, pad, dtype):
        self.n, self.C, self.stride = n, C, stride
        self.kernel_hw = kernel_hw
        self.K = C * kernel_hw[0] * kernel_hw[1]  # rows of the column matrix, then one of ones
        self.row = _row_length(self.M, np.dtype(dtype).itemsize)
        self.key = (type(self).__name__, n, C, in_hw, kernel_hw, stride, pad)
        self.cols_bytes = (self.K + 1) * self.row * np.dtype(dtype).itemsize

    @property
    def kept(self):
        """Whether this layout keeps its own work arrays: a column matrix of
        ``_KEEP_FROM_BYTES`` or more (trick 4)."""
        return self.cols_bytes >= _KEEP_FROM_BYTES


class _Grid(_Layout):
    """Tricks 1 and 2: where each input pixel and each kernel tap sits on the flattened phases
    of a chunk.

    Each phase of each image is a (Hq, Wq) grid, stored flat; the outputs are computed on
    its first H_out rows, all Wq columns wide: the columns past W_out are the discarded ones.
    """

    discards = True

    def __init__(self, n, C, in_hw, kernel_hw, stride, pad, dtype):
        (H_in, W_in), (kh, kw), (sh, sw), (ph, pw) = in_hw, kernel_hw, stride, pad
        Hp, Wp = H_in + 2 * ph, W_in + 2 * pw
        self.out_hw = _output_hw((Hp, Wp), kernel_hw, stride)
        self.grid = (-(-Hp // sh), -(-Wp // sw))  # (Hq, Wq): one phase, padded to a common size
        Hq, Wq = self.grid
        self.image = Hq * Wq  # flat length of one image's phase
        self.span = self.out_hw[0] * Wq  # the outputs of one image: H_out rows of the grid
        self.M = n * self.span  # columns of the column matrix
        self._sizes(n, C, in_hw, kernel_hw, stride, pad, dtype)
        tail = (kh - 1) // sh * Wq + (kw - 1) // sw  # the largest shift reads this far past
        # each phase one flat row: its channels one after another, each ``pitch`` long (the
        # images, then zeros that the shifts read past them); and ``tail`` more at the end,
        # which only col2im's one window over all C * pitch values, shifted, reaches
        self.pitch = n * self.image + tail
        self.phase_shape = (sh * sw, C * self.pitch + tail)
        # tap (a, b) reads phase (a % sh, b % sw), shifted by (a // sh, b // sw) grid steps
        self.taps = [((a % sh) * sw + b % sw, (a // sh) * Wq + b // sw)
                     for a in range(kh) for b in range(kw)]
        # the same, a phase at a time: phase (pa, pb) is read by the taps (pa + i*sh, pb + j*sw)
        self.phase_taps = [(pa * sw + pb, slice(pa, kh, sh), slice(pb, kw, sw))
                           for pa in range(min(sh, kh)) for pb in range(min(sw, kw))]
        # input rows r0, r0 + sh, ... land in phase row pa, from grid row u0 on (same for columns)
        rows = [(pa, (pa - ph) % sh) for pa in range(sh)]
        cols = [(pb, (pb - pw) % sw) for pb in range(sw)]
        self.pieces = [(pa * sw + pb, r0, (r0 + ph) // sh, c0, (c0 + pw) // sw)
                       for pa, r0 in rows if r0 < H_in for pb, c0 in cols if c0 < W_in]

    def channels(self, P, phase, shift=0):
        """The images of each channel in one phase of P, shifted: (C, n, Hq * Wq)."""
        flat = self.n * self.image
        rows = P[phase, :self.C * self.pitch].reshape(self.C, self.pitch)  # (C, pitch)
        return rows[:, shift:shift + flat].reshape(self.C, self.n, self.image)

    def windows(self, P, phase, taps_hw):
        """The values every tap of a phase reads, as one strided view of the contiguous P (no
        copy): (C, taps_h, taps_w, n, H_out * Wq), tap (i, j) of the phase shifted by i * Wq + j.
        (``np.ndarray`` on P's memory, as ``np.lib.stride_tricks.as_strided`` would make it at
        ten times the cost. The largest shift, ``tail``, stays inside each channel's pitch.)"""
        Wq, item = self.grid[1], P.itemsize
        strides = (self.pitch * item, Wq * item, item, self.image * item, item)
        view = np.ndarray((self.C, *taps_hw, self.n, self.span), P.dtype, P,
                          phase * P.strides[0], strides)
        view.flags.writeable = False  # read only: its windows overlap
        return view

    def shifted(self, P, phase, shift):
        """The values tap (phase, shift) reads from the flat phases P: (C, n, H_out * Wq)."""
        return self.channels(P, phase, shift)[:, :, :self.span]

    def grid_view(self, flat):
        """(rows, M) -> (rows, n, H_out, Wq): a flat matrix seen on the grid of each image."""
        return flat.reshape(flat.shape[0], self.n, self.out_hw[0], self.grid[1])

    def valid_view(self, flat):
        """(rows, M) -> (rows, n, H_out, W_out): the positions that are outputs."""
        return self.grid_view(flat)[:, :, :, :self.out_hw[1]]

    def discard_view(self, flat):
        """(rows, M) -> (rows, n, H_out, Wq - W_out): the discarded positions."""
        return self.grid_view(flat)[:, :, :, self.out_hw[1]:]

    def phases(self, x):
        """Scatter a chunk x (n, C, H, W) onto the flat phases of its zero-padded image."""
        P = _buffer(self, "phases", self.phase_shape, x.dtype)  # (sh*sw, C*pitch + tail)
        sh, sw = self.stride
        for phase, r0, u0, c0, v0 in self.pieces:
            piece = x[:, :, r0::sh, c0::sw].transpose(1, 0, 2, 3)  # (C, n, rows, cols)
            grid = self.channels(P, phase).reshape(self.C, self.n, *self.grid)
            grid[:, :, u0:u0 + piece.shape[2], v0:v0 + piece.shape[3]] = piece  # (C, n, Hq, Wq)
        return P

    def im2col(self, x, finite, cols):
        """Write the columns of x (n, C, H, W) into the first K rows of cols (K + 1, M); with
        ``finite`` false (x holds inf or NaN), zeros in the discarded columns."""
        P = self.phases(x)
        taps = cols[:self.K].reshape(self.C, *self.kernel_hw, self.M)  # (C, kh, kw, M)
        for phase, a, b in self.phase_taps:  # trick 1: a tap is a shift; one copy per phase
            rows = taps[:, a, b]  # (C, taps_h, taps_w, M): the rows of the phase's taps
            rows.reshape(*rows.shape[:3], self.n, self.span)[...] = self.windows(
                P, phase, rows.shape[1:3])
        if not finite:  # 0 * inf is NaN: discarded columns must hold finite values for the gradient
            self.discard_view(cols[:self.K])[...] = 0

    def write_output(self, out, Y):
        """Y (n, C_out, H_out, W_out) from the product out (C_out, M)."""
        Y[...] = self.valid_view(out).transpose(1, 0, 2, 3)

    def write_output_grad(self, grad, g):
        """g (C_out, M) from dL/dY (n, C_out, H_out, W_out), zero at the discarded positions."""
        self.discard_view(g)[...] = 0
        self.valid_view(g)[...] = grad.transpose(1, 0, 2, 3)

    def col2im(self, base, finite_w, grad_x):
        """dL/dx (n, C, H, W) into grad_x, from the columns' gradient in base (K, row)."""
        dtype = grad_x.dtype
        if not finite_w:  # inf * 0 is NaN: nothing may flow back from a discarded position
            self.discard_view(base[:, :self.M])[...] = 0
        taps = base.reshape(self.C, len(self.taps), self.row)  # (C, kh*kw, row)
        dP = _buffer(self, "phases_grad", self.phase_shape, dtype, zeros=False)  # as the phases
        dP[...] = 0
        # each tap's rows are first spread onto whole images, laid out as a phase is (zero past
        # the output rows and between the channels), then added to the phase as one flat row:
        # NumPy adds two flat rows several times faster than the (C, n, H_out * Wq) views
        length = self.C * self.pitch
        # (1, C * pitch): laid out as phase 0 of a phase buffer, so self.shifted can view it
        spread = _buffer(self, "spread", (1, length), dtype)
        images = self.shifted(spread, 0, 0)  # (C, n, H_out * Wq), a view into spread
        for t, (phase, shift) in enumerate(self.taps):  # col2im: kh*kw shifted additions
            images[...] = taps[:, t, :self.M].reshape(self.C, self.n, self.span)
            window = dP[phase, shift:shift + length]  # every channel's images, shifted
            window += spread[0, :length]
        sh, sw = self.stride
        n, C = self.n, self.C
        for phase, r0, u0, c0, v0 in self.pieces:  # gather the phases back into the image
            grid = self.channels(dP, phase).reshape(C, n, *self.grid)  # (C, n, Hq, Wq)
            target = grad_x[:, :, r0::sh, c0::sw]  # (n, C, rows, cols)
            target[...] = grid[:, :, u0:u0 + target.shape[2],
                               v0:v0 + target.shape[3]].transpose(1, 0, 2, 3)


class _BatchLast(_Layout):
    """Trick 8: a chunk of small images with the batch as the last axis, zero-padded:
    (C, Hp, Wp, n). The columns are the outputs in the order (i, j, image), M = H_out*W_out*n."""

    def __init__(self, n, C, in_hw, kernel_hw, stride, pad, dtype):
        (H_in, W_in), (ph, pw) = in_hw, pad
        self.padded_shape = (C, H_in + 2 * ph, W_in + 2 * pw, n)
        self.out_hw = _output_hw(self.padded_shape[1:3], kernel_hw, stride)
        self.M = self.out_hw[0] * self.out_hw[1] * n
        self._sizes(n, C, in_hw, kernel_hw, stride, pad, dtype)
        self.inside = (slice(ph, ph + H_in), slice(pw, pw + W_in))  # the image in the padding
        # each tap (a, b) with the rows and columns of the padded chunk that it reads
        self.tap_reads = [(a, b, *self.tap_slices(a, b))
                          for a in range(kernel_hw[0]) for b in range(kernel_hw[1])]

    def as_outputs(self, flat):
        """(rows, M) -> (rows, H_out, W_out, n): a matrix of columns seen as output images."""
        return flat.reshape(flat.shape[0], *self.out_hw, self.n)

    def tap_slices(self, a, b):
        """The rows and columns of the padded chunk that kernel tap (a, b) reads."""
        (H, W), (sh, sw) = self.out_hw, self.stride
        return slice(a, a + sh * (H - 1) + 1, sh), slice(b, b + sw * (W - 1) + 1, sw)

    def im2col(self, x, finite, cols):
        """Write the columns of x (n, C, H, W) into the first K rows of cols (K + 1, M).
        (``finite`` is not needed: no column is discarded.)"""
        padded = _buffer(self, "padded", self.padded_shape, x.dtype)  # (C, Hp, Wp, n), zeros
        padded[:, self.inside[0], self.inside[1]] = x.transpose(1, 2, 3, 0)  # (C, H, W, n)
        # every tap's view at once, (C, kh, kw, H_out, W_out, n): ``np.ndarray`` on the padded
        # chunk's memory (as for the grid's windows), its axes stepping through the taps too
        s_c, s_h, s_w, s_n = padded.strides
        (sh, sw), (H, W) = self.stride, self.out_hw
        windows = np.ndarray((self.C, *self.kernel_hw, H, W, self.n), padded.dtype, padded, 0,
                             (s_c, s_h, s_w, sh * s_h, sw * s_w, s_n))
        windows.flags.writeable = False  # read only: its windows overlap
        cols[:self.K].reshape(windows.shape)[...] = windows

    def write_output(self, out, Y):
        """Y (n, C_out, H_out, W_out) from the product out (C_out, M)."""
        Y[...] = self.as_outputs(out).transpose(3, 0, 1, 2)

    def write_output_grad(self, grad, g):
        """g (C_out, M) from dL/dY (n, C_out, H_out, W_out)."""
        self.as_outputs(g)[...] = grad.transpose(1, 2, 3, 0)

    def col2im(self, base, finite_w, grad_x):
        """dL/dx (n, C, H, W) into grad_x, from the columns' gradient in base (K, row).
        (``finite_w`` is not needed: no column is discarded.)"""
        padded = _buffer(self, "padded_grad", self.padded_shape, grad_x.dtype, zeros=False)
        padded[...] = 0  # (C, Hp, Wp, n)
        kh, kw = self.kernel_hw
        taps = self.as_outputs(base[:, :self.M]).reshape(self.C, kh, kw, *self.out_hw, self.n)
        for a, b, rows, columns in self.tap_reads:  # kh*kw additions of long rows
            padded[:, rows, columns] += taps[:, a, b]  # (C, H_out, W_out, n)
        grad_x[...] = padded[:, self.inside[0], self.inside[1]].transpose(3, 0, 1, 2)


def _cols_buffer(layout, dtype):
    """The (C*kh*kw + 1, row) work array of a layout's column matrix, its last row ones."""
    return _buffer(layout, "cols", (layout.K + 1, layout.row), dtype, zeros=False,
                   ones_row=True)


def _out_rows(layout, C_out, dtype):
    """The (C_out, row) work array of a layout's output (and of its gradient)."""
    return _buffer(layout, "out", (C_out, layout.row), dtype, zeros=False)


def _out_buffer(layout, C_out, dtype):
    """The (C_out, M) work matrix of a layout's output (and of its gradient)."""
    return _out_rows(layout, C_out, dtype)[:, :layout.M]


def _im2col(layout, x, finite, base):
    """x (n, C, H, W) -> cols (C*kh*kw + 1, M): one column per output position (and, on the
    grid, per discarded one), then a row of 1s, written into ``base``, the layout's
    column-matrix buffer (:func:`_cols_buffer`)."""
    cols = base[:, :layout.M]  # (C*kh*kw + 1, M)
    layout.im2col(x, finite, cols)
    return cols


def _weight_grad(layout, base, g_rows, shared):
    """dL/d(weight, bias) of one chunk, (C_out, K + 1) (the last column the bias's), from its
    column matrix in ``base`` (K + 1, row) and dL/dY as columns in ``g_rows`` (C_out, row):
    ``g @ cols.T``, computed as the transpose of ``cols @ g.T``, the orientation OpenBLAS runs
    fastest for these shapes.

    With ``shared`` (a batch of several chunks, which may run on two threads at once, trick 7)
    by ``np.dot``: ``np.matmul`` keeps Python's lock (the GIL) through a product whose result
    has at most 500 values, however long its sums (the weight gradient of few channels), so the
    other thread would wait for it; ``np.dot`` lets the lock go, but copies a matrix that is not
    contiguous, so it gets the whole rows, their slack (trick 6) zeroed on both sides to add
    nothing. (Sums longer by those zeros than ``np.matmul``'s can differ in the last bits.)
    """
    M = layout.M
    if not shared:
        return np.matmul(base[:, :M], g_rows[:, :M].T).T
    if layout.row > M:
        base[:, M:] = 0
        g_rows[:, M:] = 0
    return np.dot(base, g_rows.T).T


def _input_grad(layout, w_t, g, finite_w, grad_x, base):
    """dL/dx of one chunk into grad_x: weight.T @ dL/dY, then col2im (the adjoint of im2col).

    In the column matrix's own buffer ``base``: the weight gradient has read its columns
    already, and the next im2col writes every one of them again (the ones row is left alone).
    """
    base = base[:layout.K]  # (K, row)
    np.matmul(w_t, g, out=base[:, :layout.M])  # (K, M)
    layout.col2im(base, finite_w, grad_x)


def _chunks(N, per_image, chunk_bytes):
    """Slices of a batch of N, sizes differing by at most one, each about ``chunk_bytes`` of
    column matrix (so at most two layouts, and a last chunk not much smaller than the rest).
    More than one chunk makes an even count where the batch allows, so that two cores share
    them equally."""
    count = -(-N // max(1, chunk_bytes // per_image))  # ceil
    count = min(N, count + count % 2) if count > 1 else count
    sizes = [N // count + (i < N % count) for i in range(count)]
    starts = np.cumsum([0] + sizes)
    return [slice(int(start), int(start) + size) for start, size in zip(starts, sizes)]


def _plan(x, kernel_hw, stride, pad):
    """The chunks of the batch of x and the layout of each, and whether the batch keeps its
    column matrices for the backward pass (trick 9): ((H_out, W_out), ((slice, layout), ...),
    keeps), made once per geometry (a training loop asks for the same few again and again)."""
    return _geometry_plan(x.shape, x.dtype.str, kernel_hw, stride, pad, _CHUNK_BYTES,
                          _BATCH_LAST_UP_TO, _KEEP_BATCH_BYTES)


@functools.lru_cache(maxsize=64)
def _geometry_plan(shape, dtype, kernel_hw, stride, pad, chunk_bytes, batch_last_up_to,
                   keep_batch_bytes):
    N, C, H_in, W_in = shape
    out_hw = _output_hw((H_in + 2 * pad[0], W_in + 2 * pad[1]), kernel_hw, stride)
    kind = _BatchLast if out_hw[1] <= batch_last_up_to else _Grid  # trick 8, or tricks 1 and 2
    one = kind(1, C, (H_in, W_in), kernel_hw, stride, pad, dtype)
    per_image = (one.K + 1) * one.M * np.dtype(dtype).itemsize
    layouts = {}
    plan = []
    for part in _chunks(N, per_image, chunk_bytes):
        n = part.stop - part.start
        if n not in layouts:
            layouts[n] = kind(n, C, (H_in, W_in), kernel_hw, stride, pad, dtype)
        plan.append((part, layouts[n]))
    keeps = sum(layout.cols_bytes for _, layout in plan) <= keep_batch_bytes  # trick 9
    return out_hw, tuple(plan), keeps


class _Helpers:
    """Threads that run the functions put in ``tasks``: each ``(func, replies)`` pair is run
    on whichever thread is free, and ``(result, error)`` is put in ``replies``, a queue of the
    caller's (one per call, so a reply can never be taken for another call's)."""

    def __init__(self, count):
        self.tasks = queue.SimpleQueue()
        self.threads = [threading.Thread(target=self._serve, name=f"d2lmini-conv2d_{i}",
                                         daemon=True) for i in range(count)]
        for thread in self.threads:
            thread.start()

    def _serve(self):
        while True:
            task = self.tasks.get()
            if task is None:  # shutdown()
                return
            func, replies = task
            try:
                replies.put((func(), None))
            except BaseException as error:  # given to the caller, who raises it
                replies.put((None, error))

    def shutdown(self):
        """End the threads, once each has finished what it was given."""
        for _ in self.threads:
            self.tasks.put(None)
        for thread in self.threads:
            thread.join()


class _Cores:
    """Trick 7: the chunks of a call shared between this thread and helper threads, while the
    BLAS runs each product on one thread (else the products of several threads would fight
    over the cores).

    Used only from the main thread (so never re-entered). How many threads share a call is
    read at each call: as many as the BLAS may use then (so ``OPENBLAS_NUM_THREADS=1``, or a
    caller's ``threadpoolctl`` limit of 1, keeps every chunk on the calling thread), at most
    the cores. Each thread takes one chunk to start with, then the next chunk not yet taken,
    until none is left: a thread that the machine slows down takes fewer. The BLAS's limit is
    process-wide: while a shared call runs, a product computed by another thread of the
    caller's also runs on one BLAS thread. Each helper thread keeps its own work buffers
    (trick 4). The browser has no threads, and neither has a machine without ``threadpoolctl``,
    as far as this module is concerned.
    """

    def __init__(self):
        self.blas, self.helpers, self.pid = None, None, os.getpid()
        cores = os.cpu_count() or 1  # read once: on Linux it reads a file, 10-80 us
        if sys.platform == "emscripten" or cores < 2:
            return
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            return
        self.blas = ThreadpoolController().select(user_api="blas")
        self.helpers = _Helpers(cores - 1)

    def count(self):
        """How many threads would share a call now: the BLAS's threads, at most the cores (this
        thread and a helper per other core)."""
        if self.helpers is None or not self.blas.lib_controllers:
            return 1
        threads = min(lib.num_threads for lib in self.blas.lib_controllers)
        return max(1, min(threads, len(self.helpers.threads) + 1))

    def map(self, work, plan):
        """[work(part, layout) for each chunk of the plan], in the plan's order."""
        count = min(self.count(), len(plan))
        if count < 2:
            return [work(part, layout) for part, layout in plan]
        results = [None] * len(plan)
        lock, rest = threading.Lock(), iter(range(count, len(plan)))  # chunks not yet taken
        failed = []  # once a chunk has failed, no thread takes another

        def share(first):  # chunk ``first``, then each next one not yet taken
            index = first
            try:
                while index is not None and not failed:
                    part, layout = plan[index]
                    results[index] = work(part, layout)
                    with lock:
                        index = next(rest, None)
            except BaseException:
                failed.append(True)
                raise

        replies = queue.SimpleQueue()
        with self.blas.limit(limits=1):
            for first in range(1, count):
                self.helpers.tasks.put((functools.partial(share, first), replies))
            try:
                share(0)
            finally:  # every helper has stopped before the BLAS is given back
                errors = [replies.get()[1] for _ in range(1, count)]
            for error in errors:
                if error is not None:  # a helper's (after this thread's own, if it failed)
                    raise error
        return results


_cores = None  # made on the first call that qualifies for sharing


def _each_chunk(work, plan):
    """[work(part, layout) for part, layout in plan], shared between the cores (trick 7) when
    this is the main thread (a caller's own threads already share the cores)."""
    global _cores
    if len(plan) < 2 or threading.current_thread() is not threading.main_thread():
        return [work(part, layout) for part, layout in plan]
    if _cores is None or _cores.pid != os.getpid():  # a forked process has no helper threads
        _cores = _Cores()
    return _cores.map(work, plan)


# Column matrices given back by backward passes (trick 9), by layout and dtype, for any
# thread's next forward pass: a chunk's backward pass may run on another thread than its
# forward pass did (trick 7). Guarded by a lock, made anew in a forked child.
_spare, _spare_lock = OrderedDict(), threading.Lock()


def _new_spares():
    global _spare, _spare_lock
    _spare, _spare_lock = OrderedDict(), threading.Lock()


if hasattr(os, "register_at_fork"):  # not on Windows, nor in the browser
    os.register_at_fork(after_in_child=_new_spares)


def _lend(layout, dtype):
    """A (K + 1, row) column-matrix array, its last row ones, for the tape to hold until the
    backward pass (trick 9): for a layout that keeps its own work arrays (trick 4), one that an
    earlier backward pass gave back if there is one; else a new one."""
    array = None
    if layout.kept:
        with _spare_lock:
            arrays = _spare.get((layout.key, dtype.str))
            if arrays:
                array = arrays.pop()
    if array is None:
        array = np.empty((layout.K + 1, layout.row), dtype=dtype)
    array[-1] = 1
    return array


def _give_back(layout, array):
    """Keep ``array``, a column matrix the backward pass has used, for the next forward pass
    of the layout, if the layout keeps its own work arrays (a column matrix of
    ``_KEEP_FROM_BYTES`` or more: a smaller one costs no page faults to make again, as trick 4
    found); at most ``_KEPT_BYTES`` of them, the geometry least recently given back going
    first."""
    if not layout.kept:
        return
    key = (layout.key, array.dtype.str)
    with _spare_lock:
        _spare.setdefault(key, []).append(array)
        _spare.move_to_end(key)
        while sum(a.nbytes for arrays in _spare.values() for a in arrays) > _KEPT_BYTES:
            oldest = next(iter(_spare.values()))
            oldest.pop(0)
            if not oldest:
                _spare.popitem(last=False)


def conv2d_forward(x, w, b, stride, pad, keep=None):
    """Y = conv2d(x, w, b) on checked arrays of one float dtype; b may be None.

    With ``keep`` a list, a batch whose column matrices are small enough (:func:`_plan`)
    appends them to it, one array per chunk in the plan's order, for
    ``conv2d_backward(..., cols=keep)`` (trick 9).
    """
    (N, C_in, _, _), (C_out, _, kh, kw) = x.shape, w.shape
    out_hw, plan, keeps = _plan(x, (kh, kw), stride, pad)
    Y = np.empty((N, C_out) + out_hw, dtype=x.dtype)  # a new array: the caller keeps it
    if Y.size == 0:
        return Y
    wb = np.empty((C_out, C_in * kh * kw + 1), dtype=x.dtype)  # trick 3: the bias as a column
    wb[:, :-1] = w.reshape(C_out, -1)
    wb[:, -1] = 0 if b is None else b
    keep_cols = keep is not None and keeps

    def chunk(part, layout):
        # (K + 1, row): lent to the caller (trick 9), or the layout's work array
        base = _lend(layout, x.dtype) if keep_cols else _cols_buffer(layout, x.dtype)
        cols = _im2col(layout, x[part], True, base)  # (K + 1, M)
        out = _out_buffer(layout, C_out, x.dtype)
        np.matmul(wb, cols, out=out)  # (C_out, M): every column (on the grid, discarded too)
        layout.write_output(out, Y[part])  # (n, C_out, H_out, W_out)
        if keep_cols and layout.discards:  # kept: zeros where the gradient is zero (no 0 * inf)
            layout.discard_view(cols[:layout.K])[...] = 0
        return base

    bases = _each_chunk(chunk, plan)  # in the plan's order, whichever thread made each
    if keep_cols:
        keep.extend(bases)
    return Y


def conv2d_backward(x, w, grad, stride, pad, need_x=True, cols=None):
    """(grad_x or None, grad_w, grad_b) of conv2d on checked arrays, given grad = dL/dY.

    The column matrix of each chunk is built again, unless ``cols`` is the list that
    ``conv2d_forward(..., keep=cols)`` filled for this batch (trick 9): its arrays are then
    used, written over (by the input gradient's columns) and given back for the next forward
    pass, so pass them once. (An array not of its chunk's shape and dtype, or a list not of
    this batch's length, is ignored: those columns are built again.) With ``need_x`` false the
    input gradient (a third of the work) is skipped.
    """
    (N, C_in, _, _), (C_out, _, kh, kw) = x.shape, w.shape
    K = C_in * kh * kw
    out_hw, plan, keeps = _plan(x, (kh, kw), stride, pad)
    grad_wb = np.zeros((C_out, K + 1), dtype=x.dtype)  # weight gradient, then the bias's
    grad_x = np.empty(x.shape, dtype=x.dtype) if need_x else None
    if N == 0 or C_out == 0:  # an empty product: zero gradients
        if need_x:
            grad_x[...] = 0
        return grad_x, grad_wb[:, :K].reshape(w.shape), grad_wb[:, K].copy()
    kept = {}  # the forward pass's column matrices (trick 9), by the start of their chunk
    if cols is not None and keeps and len(cols) == len(plan):
        kept = {part.start: a for a, (part, layout) in zip(cols, plan)
                if isinstance(a, np.ndarray) and a.dtype == x.dtype
                and a.shape == (layout.K + 1, layout.row)}
    finite_x = finite_w = True  # only discarded columns (the grid's) can make a NaN of inf
    if plan[0][1].discards:
        with np.errstate(over="ignore", invalid="ignore"):  # a sum is finite only if every term is
            finite_w = bool(np.isfinite(np.sum(w)))
            # kept columns are zero where discarded already: x matters only if some are built
            finite_x = len(kept) == len(plan) or bool(np.isfinite(np.sum(x)))
    w_t = np.ascontiguousarray(w.reshape(C_out, K).T)  # (K, C_out)
    shared = len(plan) > 1

    def chunk(part, layout):
        # dL/dY as a matrix of columns (on the grid zero at the discarded positions), in the
        # buffer that held the forward pass's output (so a layer keeps one such matrix, not two)
        g_rows = _out_rows(layout, C_out, x.dtype)  # (C_out, row)
        g = g_rows[:, :layout.M]  # (C_out, M)
        layout.write_output_grad(grad[part], g)
        base = kept.get(part.start)
        if base is None:
            base = _cols_buffer(layout, x.dtype)
            _im2col(layout, x[part], finite_x, base)  # (K + 1, M) of base
        # else the forward pass's (trick 9), zero in the discarded columns
        chunk_grad = _weight_grad(layout, base, g_rows, shared)  # (C_out, K + 1)
        if need_x:
            _input_grad(layout, w_t, g, finite_w, grad_x[part], base)
        if part.start in kept:
            _give_back(layout, base)
        return chunk_grad

    for chunk_grad in _each_chunk(chunk, plan):  # in the plan's order, always
        grad_wb += chunk_grad
    return grad_x, grad_wb[:, :K].reshape(w.shape), grad_wb[:, K].copy()
