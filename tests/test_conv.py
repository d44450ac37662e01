"""d2lmini.conv: each vectorized function against its loop, SciPy and PyTorch, and its gradients
against central differences."""
import contextlib
import os
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.signal import correlate2d

from d2lmini import conv2d, conv2d_grad, conv2d_naive, corr2d, corr2d_naive
from d2lmini.autograd import Tensor, numerical_grad
from d2lmini.data import stripes

DTYPES = [np.float32, np.float64, np.int64, np.bool_]
FAST = settings(max_examples=60, deadline=None)
SLOW = settings(max_examples=12, deadline=None)  # each example differentiates every entry
# 0 * inf is NaN, and NumPy warns about it, as it should: these tests expect it.
INVALID_IS_EXPECTED = pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")


def elements(dtype):
    """Values of one dtype, small enough that sums of 400 products stay exact in float64."""
    if dtype == np.bool_:
        return st.booleans()
    if dtype == np.int64:
        return st.integers(-20, 20)
    return st.floats(-10, 10, width=np.dtype(dtype).itemsize * 8)


@st.composite
def image_and_kernel(draw):
    """An image up to 20 x 20 and a kernel that fits inside it, each of any supported dtype."""
    H, W = draw(st.integers(1, 20)), draw(st.integers(1, 20))
    kh, kw = draw(st.integers(1, H)), draw(st.integers(1, W))
    x_dtype, k_dtype = draw(st.sampled_from(DTYPES)), draw(st.sampled_from(DTYPES))
    X = draw(hnp.arrays(x_dtype, (H, W), elements=elements(x_dtype)))
    K = draw(hnp.arrays(k_dtype, (kh, kw), elements=elements(k_dtype)))
    return X, K


def expected_dtype(*arrays):
    """float32 only when every input is float32; float64 otherwise (ints and bools promote)."""
    return np.float32 if all(a.dtype == np.float32 for a in arrays) else np.float64


def assert_close_to_exact(Y, X, K):
    """Y agrees with the float64 correlation up to the rounding of its own dtype.

    Summing kh*kw products in a different order changes the result by at most about
    kh*kw*eps times the sum of the absolute values of the products.
    """
    x, k = X.astype(np.float64), K.astype(np.float64)
    exact = correlate2d(x, k, mode="valid")
    bound = correlate2d(np.abs(x), np.abs(k), mode="valid")
    finfo = np.finfo(Y.dtype)
    tolerance = 2 * K.size * (finfo.eps * bound + finfo.smallest_subnormal)  # subnormals too
    assert np.all(np.abs(Y.astype(np.float64) - exact) <= tolerance)


# --------------------------------------------------------------------- corr2d
@FAST
@given(image_and_kernel())
def test_corr2d_matches_loop_and_scipy(case):
    X, K = case
    Y, Y_naive = corr2d(X, K), corr2d_naive(X, K)
    shape = (X.shape[0] - K.shape[0] + 1, X.shape[1] - K.shape[1] + 1)
    assert Y.shape == Y_naive.shape == shape
    assert Y.dtype == Y_naive.dtype == expected_dtype(X, K)
    assert_close_to_exact(Y, X, K)
    assert_close_to_exact(Y_naive, X, K)
    if X.dtype.kind in "bi" and K.dtype.kind in "bi":  # small integers: every sum is exact
        exact = correlate2d(X.astype(np.float64), K.astype(np.float64), mode="valid")
        np.testing.assert_array_equal(Y, exact)
        np.testing.assert_array_equal(Y_naive, exact)


def test_conv2d_of_big_endian_arrays_computes_in_native_byte_order():
    """Arrays of another byte order (read from a file, say) give a result in the machine's
    own: the dtype NumPy's arithmetic gives them."""
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((4, 3, 3, 3))
    expected = conv2d(x.astype(np.float32), w.astype(np.float32))
    got = conv2d(x.astype(">f4"), w.astype(">f4"))
    assert got.dtype == np.dtype(np.float32) and got.dtype.isnative
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("dtype, expected", [
    (np.float32, np.float32), (np.float64, np.float64), (np.int64, np.float64),
    (np.int32, np.float64), (np.uint8, np.float64), (np.bool_, np.float64),
])
def test_corr2d_dtype_rules(dtype, expected):
    X, K = np.ones((4, 5), dtype=dtype), np.ones((2, 2), dtype=dtype)
    for func in (corr2d, corr2d_naive):
        Y = func(X, K)
        assert Y.dtype == expected
        np.testing.assert_array_equal(Y, np.full((3, 4), 4.0))


def test_corr2d_mixed_float32_and_float64_is_float64():
    X32, K64 = np.ones((3, 3), np.float32), np.ones((2, 2), np.float64)
    assert corr2d(X32, K64).dtype == corr2d(K64[:1], X32[:1, :1]).dtype == np.float64


@pytest.mark.parametrize("func", [corr2d, corr2d_naive])
def test_corr2d_accepts_lists_and_tensors_outside_record(func):
    np.testing.assert_array_equal(func([[1, 2, 3]], [[1, -1]]), [[-1.0, -1.0]])
    X, K = Tensor([[1.0, 2.0, 3.0]]), Tensor([[1.0, -1.0]])
    X.attach_grad()
    Y = func(X, K)
    assert type(Y) is np.ndarray
    np.testing.assert_array_equal(Y, [[-1.0, -1.0]])


@pytest.mark.parametrize("func", [corr2d, corr2d_naive])
def test_book_example(func):
    X = np.array([[0, 1, 2], [3, 4, 5], [6, 7, 8]])
    K = np.array([[0, 1], [2, 3]])
    Y = func(X, K)
    np.testing.assert_array_equal(Y, [[19.0, 25.0], [37.0, 43.0]])
    assert Y.dtype == np.float64


@pytest.mark.parametrize("func", [corr2d, corr2d_naive])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_book_edge_map(func, dtype):
    X = np.ones((6, 8), dtype=dtype)
    X[:, 2:6] = 0
    np.testing.assert_array_equal(X, stripes())
    Y = func(X, np.array([[1, -1]], dtype=dtype))
    assert Y.shape == (6, 7) and Y.dtype == dtype
    np.testing.assert_array_equal(Y[:, 1], 1)  # white to black
    np.testing.assert_array_equal(Y[:, 5], -1)  # black to white
    np.testing.assert_array_equal(np.delete(Y, [1, 5], axis=1), 0)


def test_corr2d_of_transposed_image_with_transposed_kernel():
    """The book's exercise: X.T with K finds the horizontal edges, none here."""
    np.testing.assert_array_equal(corr2d(stripes().T, [[1, -1]]), np.zeros((8, 5)))
    np.testing.assert_array_equal(corr2d(stripes().T, [[1], [-1]]), corr2d(stripes(), [[1, -1]]).T)


def test_corr2d_does_not_modify_its_inputs():
    X, K = np.arange(12.0).reshape(3, 4), np.array([[1.0, -2.0]])
    X0, K0 = X.copy(), K.copy()
    corr2d(X, K)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(K, K0)


def test_corr2d_large_image_crosses_strips():
    """Images taller than one cache strip (2**16 values) give the same result."""
    rng = np.random.default_rng(1)
    X, K = rng.normal(size=(300, 400)), rng.normal(size=(3, 4))
    np.testing.assert_allclose(corr2d(X, K), correlate2d(X, K, mode="valid"), rtol=1e-10,
                               atol=1e-12)


@INVALID_IS_EXPECTED
@FAST
@given(st.data())
def test_nan_and_inf_touch_only_the_windows_containing_them(data):
    H, W = data.draw(st.integers(1, 12), "H"), data.draw(st.integers(1, 12), "W")
    kh, kw = data.draw(st.integers(1, H), "kh"), data.draw(st.integers(1, W), "kw")
    dtype = data.draw(st.sampled_from([np.float32, np.float64]), "dtype")
    X = data.draw(hnp.arrays(dtype, (H, W), elements=st.floats(-5, 5, width=32)), "X")
    K = data.draw(hnp.arrays(dtype, (kh, kw), elements=st.floats(-5, 5, width=32)), "K")
    p, q = data.draw(st.integers(0, H - 1), "p"), data.draw(st.integers(0, W - 1), "q")
    bad = data.draw(st.sampled_from([np.nan, np.inf, -np.inf]), "bad")
    clean = corr2d(X, K)
    X[p, q] = bad
    Y = corr2d(X, K)
    covers = np.zeros(Y.shape, dtype=bool)  # output (i, j) sees X[p, q] iff its window covers it
    covers[max(p - kh + 1, 0):p + 1, max(q - kw + 1, 0):q + 1] = True
    if np.isnan(bad):
        np.testing.assert_array_equal(np.isnan(Y), covers)
    else:
        np.testing.assert_array_equal(~np.isfinite(Y), covers)
    np.testing.assert_array_equal(Y[~covers], clean[~covers])  # the rest is untouched
    np.testing.assert_allclose(Y, corr2d_naive(X, K), rtol=1e-5, atol=1e-4, equal_nan=True)


@INVALID_IS_EXPECTED
def test_zero_times_inf_is_nan():
    Y = corr2d(np.array([[np.inf, 1.0, 1.0]]), np.array([[0.0, 1.0]]))
    assert np.isnan(Y[0, 0]) and Y[0, 1] == 1.0
    np.testing.assert_array_equal(corr2d_naive(np.array([[np.inf, 1.0, 1.0]]), [[0.0, 1.0]]), Y)


def test_nan_in_kernel_makes_every_output_nan():
    assert np.isnan(corr2d(np.ones((4, 4)), [[1.0, np.nan]])).all()


# --------------------------------------------------------------------- conv2d
def pair_or_int(low, high):
    values = st.integers(low, high)
    return st.one_of(values, st.tuples(values, values), st.lists(values, min_size=2, max_size=2),
                     values.map(np.int64))


@st.composite
def conv_case(draw, max_size=9, max_batch=3, max_channels=3):
    """Arguments of conv2d: shapes, strides, padding and bias drawn; values from a seed."""
    N = draw(st.integers(1, max_batch))
    C_in, C_out = draw(st.integers(1, max_channels)), draw(st.integers(1, max_channels))
    H, W = draw(st.integers(1, max_size)), draw(st.integers(1, max_size))
    strides, padding = draw(pair_or_int(1, 3)), draw(pair_or_int(0, 2))
    ph, pw = (padding, padding) if np.ndim(padding) == 0 else padding
    kh, kw = draw(st.integers(1, H + 2 * ph)), draw(st.integers(1, W + 2 * pw))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    X = rng.normal(size=(N, C_in, H, W)).astype(dtype)
    weight = rng.normal(size=(C_out, C_in, kh, kw)).astype(dtype)
    bias = draw(st.sampled_from([None, rng.normal(size=C_out).astype(dtype)]))
    return X, weight, bias, strides, padding


def output_shape(X, weight, strides, padding):
    (sh, sw), (ph, pw) = [(v, v) if np.ndim(v) == 0 else tuple(v) for v in (strides, padding)]
    return (X.shape[0], weight.shape[0], (X.shape[2] + 2 * ph - weight.shape[2]) // sh + 1,
            (X.shape[3] + 2 * pw - weight.shape[3]) // sw + 1)


# conv2d's two layouts (d2lmini/im2col.py): the widest output worked batch last, to force one
LAYOUTS = {"grid": -1, "batch last": 1 << 30}
# the layout's work arrays: the grid's phases, their gradient, cols, out and spread; batch
# last's padded chunk, its gradient, cols and out
ROLES = {"grid": 5, "batch last": 4}
KINDS = {"grid": "_Grid", "batch last": "_BatchLast"}


@contextlib.contextmanager
def conv_layout(name):
    """Every conv2d call inside works in the layout ``name`` (a hypothesis test's examples
    cannot share pytest's monkeypatch)."""
    from d2lmini import im2col
    saved = im2col._BATCH_LAST_UP_TO
    im2col._BATCH_LAST_UP_TO = LAYOUTS[name]
    try:
        _, plan, _ = im2col._plan(np.zeros((1, 1, 40, 40)), (3, 3), (1, 1), (1, 1))
        assert type(plan[0][1]).__name__ == KINDS[name]  # the switch takes effect
        yield
    finally:
        im2col._BATCH_LAST_UP_TO = saved


each_layout = pytest.mark.parametrize("layout", list(LAYOUTS))


@each_layout
@FAST
@given(conv_case())
def test_conv2d_matches_loop(layout, case):
    X, weight, bias, strides, padding = case
    with conv_layout(layout):
        Y = conv2d(X, weight, bias, strides, padding)
    Y_naive = conv2d_naive(X, weight, bias, strides, padding)
    assert Y.shape == Y_naive.shape == output_shape(X, weight, strides, padding)
    assert Y.dtype == Y_naive.dtype == X.dtype
    tolerance = 1e-4 if X.dtype == np.float32 else 1e-11
    np.testing.assert_allclose(Y, Y_naive, rtol=tolerance, atol=tolerance)


@FAST
@given(conv_case(max_batch=1, max_channels=1))
def test_conv2d_with_one_channel_and_stride_1_is_corr2d(case):
    X, weight, bias, _, padding = case
    ph, pw = (padding, padding) if np.ndim(padding) == 0 else padding
    Y = conv2d(X, weight, bias, 1, padding)
    expected = corr2d(np.pad(X[0, 0], ((ph, ph), (pw, pw))), weight[0, 0])
    expected = expected + (0 if bias is None else bias[0])
    tolerance = 1e-4 if X.dtype == np.float32 else 1e-11
    np.testing.assert_allclose(Y[0, 0], expected, rtol=tolerance, atol=tolerance)


def test_conv2d_one_channel_equals_corr2d_on_the_book_example():
    X, K = stripes(), np.array([[1.0, -1.0]])
    np.testing.assert_array_equal(conv2d(X.reshape(1, 1, 6, 8), K.reshape(1, 1, 1, 2))[0, 0],
                                  corr2d(X, K))


def test_conv2d_hand_computed_stride_and_padding():
    X = np.arange(16.0).reshape(1, 1, 4, 4)
    weight = np.ones((1, 1, 2, 2))
    # padding 1 then stride 2: windows at rows/cols -1, 1, 3 of the input
    expected = [[[[0.0, 1 + 2, 3.0],
                  [4 + 8, 5 + 6 + 9 + 10, 7 + 11],
                  [12.0, 13 + 14, 15.0]]]]
    for func in (conv2d, conv2d_naive):
        np.testing.assert_array_equal(func(X, weight, strides=2, padding=1), expected)
        np.testing.assert_array_equal(func(X, weight, strides=(2, 2), padding=(1, 1)), expected)
    # unequal pairs: rows padded by 0 with stride 3, columns padded by 1 with stride 1
    Y = conv2d(X, weight, strides=(3, 1), padding=(0, 1))
    assert Y.shape == (1, 1, 1, 5)
    np.testing.assert_array_equal(Y[0, 0, 0], [0 + 4, 0 + 1 + 4 + 5, 1 + 2 + 5 + 6, 2 + 3 + 6 + 7,
                                               3 + 7])


def test_conv2d_sums_over_input_channels_and_adds_bias_per_output_channel():
    X = np.stack([np.ones((3, 3)), 2 * np.ones((3, 3))])[None]  # (1, 2, 3, 3)
    weight = np.array([np.ones((2, 1, 1)), np.array([[[1.0]], [[-1.0]]])])  # (2, 2, 1, 1)
    Y = conv2d(X, weight, bias=[10.0, 20.0])
    np.testing.assert_array_equal(Y[0, 0], np.full((3, 3), 13.0))
    np.testing.assert_array_equal(Y[0, 1], np.full((3, 3), 19.0))


def test_conv2d_images_of_a_batch_are_independent():
    rng = np.random.default_rng(2)
    X, weight = rng.normal(size=(4, 2, 5, 6)), rng.normal(size=(3, 2, 2, 3))
    Y = conv2d(X, weight, padding=1, strides=(1, 2))
    for n in range(4):
        np.testing.assert_allclose(Y[n:n + 1], conv2d(X[n:n + 1], weight, padding=1,
                                                      strides=(1, 2)), rtol=1e-12)


@each_layout
@settings(max_examples=15, deadline=None)
@given(conv_case())
def test_conv2d_matches_torch(layout, case):
    torch = pytest.importorskip("torch")
    X, weight, bias, strides, padding = case
    pair = [tuple(v) if np.ndim(v) else int(v) for v in (strides, padding)]
    expected = torch.nn.functional.conv2d(
        torch.from_numpy(X), torch.from_numpy(weight),
        None if bias is None else torch.from_numpy(bias), stride=pair[0], padding=pair[1]).numpy()
    tolerance = 1e-4 if X.dtype == np.float32 else 1e-11
    with conv_layout(layout):
        Y = conv2d(X, weight, bias, strides, padding)
    np.testing.assert_allclose(Y, expected, rtol=tolerance, atol=tolerance)


# --------------------------------------------------------------------- conv2d_grad
def relative_error(a, b):
    """|a - b| / (|a| + |b|), read as an absolute error where the gradients are below 1.

    Central differences lose about 1e-10 to rounding whatever the gradient's size, so a
    relative error alone fails on a gradient that happens to be tiny (a bias gradient of 3e-4
    is a sum of many terms that nearly cancel).
    """
    return np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1.0)


@each_layout
@SLOW
@given(conv_case(max_size=5, max_batch=2, max_channels=2), st.integers(0, 2**32 - 1))
def test_conv2d_grad_matches_central_differences(layout, case, seed):
    X, weight, bias, strides, padding = case
    X, weight = X.astype(np.float64), weight.astype(np.float64)
    bias = np.random.default_rng(seed).normal(size=weight.shape[0])
    grad_out = np.random.default_rng(seed + 1).normal(
        size=output_shape(X, weight, strides, padding))  # dL/dY for L = sum(Y * grad_out)
    with conv_layout(layout):
        grad_X, grad_weight, grad_bias = conv2d_grad(X, weight, grad_out, strides, padding)
        numeric = numerical_grad(lambda x, w, b: conv2d(x, w, b, strides, padding) * grad_out,
                                 X, weight, bias)
    assert grad_X.shape == X.shape and grad_weight.shape == weight.shape
    assert grad_bias.shape == bias.shape
    for analytic, reference in zip((grad_X, grad_weight, grad_bias), numeric):
        assert relative_error(analytic, reference) < 1e-6


def test_conv2d_grad_of_one_channel_is_the_book_formula():
    """For one channel and stride 1, dL/dK = corr2d(X, dL/dY)."""
    rng = np.random.default_rng(3)
    X, K = rng.normal(size=(6, 8)), rng.normal(size=(2, 3))
    grad_out = rng.normal(size=(5, 6))
    _, grad_weight, grad_bias = conv2d_grad(X[None, None], K[None, None], grad_out[None, None])
    np.testing.assert_allclose(grad_weight[0, 0], corr2d(X, grad_out), rtol=1e-12)
    np.testing.assert_allclose(grad_bias, [grad_out.sum()], rtol=1e-12)


def test_conv2d_grad_keeps_float32():
    grads = conv2d_grad(np.ones((1, 1, 3, 3), np.float32), np.ones((1, 1, 2, 2), np.float32),
                        np.ones((1, 1, 2, 2), np.float32))
    assert [g.dtype for g in grads] == [np.float32] * 3


# --------------------------------------------------------------------- empty batches and kernel banks
@each_layout
@FAST
@given(n=st.integers(0, 2), c_in=st.integers(1, 2), c_out=st.integers(0, 2),
       size=st.integers(2, 5), k=st.integers(1, 2), stride=st.integers(1, 2),
       pad=st.integers(0, 1), bias=st.booleans(), seed=st.integers(0, 2**16))
def test_empty_batches_and_banks_agree_with_the_loop(layout, n, c_in, c_out, size, k, stride, pad,
                                                    bias, seed):
    """N = 0 or C_out = 0 gives an empty result of the right shape, as the loop (and NumPy's
    matmul) give; the gradients of an empty product are zeros of the operands' shapes."""
    assume(n == 0 or c_out == 0)
    rng = np.random.default_rng(seed)
    X, w = rng.normal(size=(n, c_in, size, size)), rng.normal(size=(c_out, c_in, k, k))
    b = rng.normal(size=c_out) if bias else None
    with conv_layout(layout):
        fast = conv2d(X, w, b, stride, pad)
        gx, gw, gb = conv2d_grad(X, w, np.ones(fast.shape), stride, pad)
    loop = conv2d_naive(X, w, b, stride, pad)
    assert fast.shape == loop.shape and fast.size == 0
    h_out = (size + 2 * pad - k) // stride + 1
    assert fast.shape == (n, c_out, h_out, h_out)
    assert (gx.shape, gw.shape, gb.shape) == (X.shape, w.shape, (c_out,))
    assert not gx.any() and not gw.any() and not gb.any()
    x, weight = Tensor(X), Tensor(w)
    x.attach_grad()
    weight.attach_grad()
    from d2lmini.autograd import record
    with conv_layout(layout):
        with record():
            out = conv2d(x, weight, b, stride, pad)
        out.backward()
    assert x.grad.shape == X.shape and weight.grad.shape == w.shape and not weight.grad.any()


# --------------------------------------------------------------------- the fast path (d2lmini.im2col)
def conv2d_grad_loop(X, weight, grad_out, strides, padding):
    """The three gradients by a loop over every output value: each adds its gradient times its
    window to dL/dweight, and times the kernel to dL/dX (the reference for conv2d_grad)."""
    (sh, sw), (ph, pw) = [(v, v) if np.ndim(v) == 0 else tuple(v) for v in (strides, padding)]
    kh, kw = weight.shape[2:]
    xp = np.pad(X, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    grad_xp, grad_w = np.zeros_like(xp), np.zeros_like(weight)
    N, C_out, H, W = grad_out.shape
    for n in range(N):
        for o in range(C_out):
            for i in range(H):
                for j in range(W):
                    rows, cols = slice(i * sh, i * sh + kh), slice(j * sw, j * sw + kw)
                    grad_w[o] += grad_out[n, o, i, j] * xp[n, :, rows, cols]
                    grad_xp[n, :, rows, cols] += grad_out[n, o, i, j] * weight[o]
    grad_x = grad_xp[:, :, ph:ph + X.shape[2], pw:pw + X.shape[3]]
    return grad_x, grad_w, grad_out.sum(axis=(0, 2, 3))


def assert_grads_close(fast, loop, dtype):
    tolerance = 1e-4 if dtype == np.float32 else 1e-11
    for a, b in zip(fast, loop):
        assert a.dtype == dtype and a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=tolerance, atol=tolerance)


@each_layout
@FAST
@given(conv_case(max_size=8, max_batch=3, max_channels=3), st.integers(0, 2**32 - 1))
def test_conv2d_grad_matches_the_loop_for_every_stride_and_padding(layout, case, seed):
    """Strides split the image into phases (grid) or skip rows and columns of the padded chunk
    (batch last), padding widens both: each gradient as the loop."""
    X, weight, _, strides, padding = case
    grad_out = np.random.default_rng(seed).normal(
        size=output_shape(X, weight, strides, padding)).astype(X.dtype)
    with conv_layout(layout):
        fast = conv2d_grad(X, weight, grad_out, strides, padding)
    assert_grads_close(fast, conv2d_grad_loop(X, weight, grad_out, strides, padding), X.dtype)


@each_layout
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("strides, padding, kernel", [
    (1, 0, 3), (2, 1, 3), (3, 2, 2), ((2, 3), (0, 1), 4), (2, 0, 1), (4, 0, 2), ((1, 3), 1, 5)])
def test_conv2d_and_grad_match_the_loops_on_fixed_cases(layout, dtype, strides, padding, kernel):
    """Kernels smaller than the stride (phases no tap reads), larger, and unequal pairs."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(3, 2, 11, 9)).astype(dtype)
    weight = rng.normal(size=(4, 2, kernel, kernel)).astype(dtype)
    bias = rng.normal(size=4).astype(dtype)
    grad_out = rng.normal(size=output_shape(X, weight, strides, padding)).astype(dtype)
    with conv_layout(layout):
        Y = conv2d(X, weight, bias, strides, padding)
        grads = conv2d_grad(X, weight, grad_out, strides, padding)
    tolerance = 1e-4 if dtype == np.float32 else 1e-11
    np.testing.assert_allclose(Y, conv2d_naive(X, weight, bias, strides, padding),
                               rtol=tolerance, atol=tolerance)
    assert_grads_close(grads, conv2d_grad_loop(X, weight, grad_out, strides, padding), dtype)


@pytest.mark.parametrize("shape, kernel, padding, expected", [
    ((64, 1, 8, 8), 3, 1, "_BatchLast"),   # notebook 08's LeNet: 8 x 8 digits
    ((64, 6, 4, 4), 3, 1, "_BatchLast"),   # and their 4 x 4 maps
    ((64, 6, 14, 14), 5, 0, "_BatchLast"),  # 10 outputs wide
    ((64, 1, 28, 28), 5, 2, "_Grid"),       # MNIST's 28 x 28
    ((1, 1, 6, 8), 2, 0, "_BatchLast"),     # notebook 04's stripes
    ((1, 1, 66, 56), 3, 0, "_Grid"),        # and its photograph
])
def test_small_images_are_worked_batch_last_and_wide_ones_on_the_grid(shape, kernel, padding,
                                                                       expected):
    from d2lmini import im2col
    _, plan, _ = im2col._plan(np.zeros(shape, np.float32), (kernel, kernel), (1, 1),
                           (padding, padding))
    assert {type(layout).__name__ for _, layout in plan} == {expected}


@each_layout
def test_rows_with_slack_give_what_the_loops_give(monkeypatch, layout):
    """A column matrix whose rows would be a multiple of 4 KiB gets a little slack (trick 6):
    its work arrays are then wider than the columns they hold, as in notebook 08's LeNet."""
    from d2lmini import im2col
    monkeypatch.setattr(im2col, "_BATCH_LAST_UP_TO", LAYOUTS[layout])
    rng = np.random.default_rng(14)
    shape = {"grid": (8, 2, 8, 6), "batch last": (8, 2, 8, 8)}[layout]  # 512 columns of 8 bytes
    X, weight, bias = rng.normal(size=shape), rng.normal(size=(3, 2, 3, 3)), rng.normal(size=3)
    _, ((_, chunk),), _ = im2col._plan(X, (3, 3), (1, 1), (1, 1))
    assert chunk.M == 512 and chunk.row > chunk.M
    grad_out = rng.normal(size=output_shape(X, weight, 1, 1))
    np.testing.assert_allclose(conv2d(X, weight, bias, 1, 1),
                               conv2d_naive(X, weight, bias, 1, 1), rtol=1e-11, atol=1e-11)
    assert_grads_close(conv2d_grad(X, weight, grad_out, 1, 1),
                       conv2d_grad_loop(X, weight, grad_out, 1, 1), np.float64)


@each_layout
def test_conv2d_batches_split_into_chunks_agree(monkeypatch, layout):
    """A batch worked a few images at a time (chunks of unequal sizes) gives what one chunk gives."""
    from d2lmini import im2col
    monkeypatch.setattr(im2col, "_BATCH_LAST_UP_TO", LAYOUTS[layout])
    rng = np.random.default_rng(6)
    X, weight = rng.normal(size=(7, 3, 10, 12)), rng.normal(size=(5, 3, 3, 3))
    grad_out = rng.normal(size=(7, 5, 5, 6))
    whole = conv2d(X, weight, None, 2, 1), *conv2d_grad(X, weight, grad_out, 2, 1)
    monkeypatch.setattr(im2col, "_CHUNK_BYTES", 1)  # one image per chunk
    _, plan, _ = im2col._plan(X, (3, 3), (2, 2), (1, 1))
    assert len(plan) == 7 and type(plan[0][1]).__name__ == KINDS[layout]
    single = conv2d(X, weight, None, 2, 1), *conv2d_grad(X, weight, grad_out, 2, 1)
    # rows (taps and ones) x columns (H_out * Wq on the grid, H_out * W_out batch last) x itemsize
    per_image = (3 * 3 * 3 + 1) * 5 * {"grid": 7}.get(layout, 6) * 8
    assert per_image == (plan[0][1].K + 1) * plan[0][1].M * 8
    monkeypatch.setattr(im2col, "_CHUNK_BYTES", 3 * per_image)  # 3 chunks, made 4 (even)
    assert [p.stop - p.start for p, _ in im2col._plan(X, (3, 3), (2, 2), (1, 1))[1]] == [2, 2, 2, 1]
    several = conv2d(X, weight, None, 2, 1), *conv2d_grad(X, weight, grad_out, 2, 1)
    for a, b, c in zip(whole, single, several):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(a, c, rtol=1e-12, atol=1e-12)


def fresh_work_arrays(monkeypatch, keep_from, layout="grid"):
    """conv2d's work arrays for this test only: none made yet, and a layout keeping its own
    from a column matrix of ``keep_from`` bytes (0: every layout; else the small ones share);
    every chunk in ``layout``."""
    from d2lmini import im2col
    monkeypatch.setattr(im2col, "_BATCH_LAST_UP_TO", LAYOUTS[layout])
    monkeypatch.setattr(im2col, "_KEEP_FROM_BYTES", keep_from)
    monkeypatch.setattr(im2col._local, "buffers", im2col.OrderedDict(), raising=False)
    monkeypatch.setattr(im2col._local, "scratch", {}, raising=False)
    monkeypatch.setattr(im2col._local, "views", {}, raising=False)


@each_layout
@pytest.mark.parametrize("keep_from", [0, 1 << 30], ids=["own-buffers", "shared-scratch"])
def test_kept_buffers_serve_shapes_and_dtypes_in_turn(monkeypatch, keep_from, layout):
    """Alternating geometries and dtypes, more of them than buffers are kept: every result is the
    loop's, including after a buffer was dropped and made again, and with the small layouts'
    shared scratch arrays, which grow and serve shapes of every size in turn."""
    from d2lmini import im2col
    fresh_work_arrays(monkeypatch, keep_from=keep_from, layout=layout)
    monkeypatch.setattr(im2col, "_KEPT_BYTES", 4096)
    rng = np.random.default_rng(7)
    cases = [((2, 1, 8, 8), (3, 1, 3, 3), 1, 0), ((1, 2, 9, 7), (2, 2, 2, 3), 2, 1),
             ((3, 2, 6, 6), (4, 2, 5, 5), 1, 2), ((2, 3, 5, 8), (1, 3, 1, 2), (1, 2), (0, 1))]
    arrays = [(rng.normal(size=xs), rng.normal(size=ws), s, p) for xs, ws, s, p in cases]
    for _ in range(2):
        for dtype in (np.float64, np.float32):
            for X, weight, s, p in arrays:
                X, weight = X.astype(dtype), weight.astype(dtype)
                Y = conv2d(X, weight, None, s, p)
                tolerance = 1e-4 if dtype == np.float32 else 1e-11
                np.testing.assert_allclose(Y, conv2d_naive(X, weight, None, s, p),
                                           rtol=tolerance, atol=tolerance)
                grad_out = np.cos(np.arange(Y.size)).reshape(Y.shape).astype(dtype)
                assert_grads_close(conv2d_grad(X, weight, grad_out, s, p),
                                   conv2d_grad_loop(X, weight, grad_out, s, p), dtype)
    kept = im2col._local.buffers.values()
    assert len(kept) == 1 or sum(a.nbytes for a in kept) <= 4096
    assert (len(kept) == 0) == (keep_from > 0)
    # the views remembered for the next call view the scratch arrays in use: not those a larger
    # call replaced, nor those dropped (as the memory benchmark drops them)
    X, weight, s, p = arrays[0]
    for drop in (False, True):
        if drop:
            im2col._local.scratch.clear()
        else:
            conv2d_grad(np.zeros((9, 9, 12, 12)), np.zeros((3, 9, 3, 3)), np.zeros((9, 3, 10, 10)))
        conv2d_grad(X, weight, np.ones(output_shape(X, weight, s, p)), s, p)
        views = im2col._local.views
        assert bool(views) == (keep_from > 0)
        for (role, shape, dtype), (flat, view) in views.items():
            assert im2col._local.scratch[role, dtype.str] is flat
            assert view.shape == shape and np.shares_memory(view, flat)
    if keep_from:  # and they are a bounded number, however many shapes the calls had
        for width in range(48, 8, -1):  # the widest first: no scratch array is replaced
            conv2d(np.ones((1, 1, 3, width)), np.ones((1, 1, 3, 3)))
        assert 0 < len(im2col._local.views) <= 64


@each_layout
@pytest.mark.parametrize("keep_from", [0, 1 << 20], ids=["own-buffers", "shared-scratch"])
def test_results_are_not_the_kept_buffers(monkeypatch, keep_from, layout):
    """A second call of the same shape leaves the first call's results as they were, whether the
    work buffers are kept between calls or made for each."""
    from d2lmini import im2col
    fresh_work_arrays(monkeypatch, keep_from=keep_from, layout=layout)
    rng = np.random.default_rng(8)
    X1, X2 = rng.normal(size=(2, 2, 6, 6)), rng.normal(size=(2, 2, 6, 6))
    weight, bias = rng.normal(size=(3, 2, 3, 3)), rng.normal(size=3)
    grad_out = rng.normal(size=(2, 3, 6, 6))
    Y1 = conv2d(X1, weight, bias, 1, 1)
    grads1 = conv2d_grad(X1, weight, grad_out, 1, 1)
    kept = [a.copy() for a in (Y1, *grads1)]
    Y2 = conv2d(X2, weight, bias, 1, 1)
    grads2 = conv2d_grad(X2, weight, 2 * grad_out, 1, 1)
    for first, second, copy in zip((Y1, *grads1), (Y2, *grads2), kept):
        np.testing.assert_array_equal(first, copy)
        assert not np.shares_memory(first, second)
    kept, scratch = im2col._local.buffers, im2col._local.scratch
    assert len(kept) == (ROLES[layout] if keep_from == 0 else 0)
    assert len(scratch) == (0 if keep_from == 0 else ROLES[layout])
    for buffer in [*kept.values(), *scratch.values()]:
        for result in (Y2, *grads2):
            assert not np.shares_memory(buffer, result)


@each_layout
def test_a_large_work_array_of_a_small_layout_is_kept_not_scratch(monkeypatch, layout):
    """A small column matrix with a large output (many output channels of a 1x1 kernel): the
    output's work array is too large for the shared scratch, so it is kept for its layout,
    counted against ``_KEPT_BYTES`` (and dropped when that is exceeded), never held for good."""
    from d2lmini import im2col
    fresh_work_arrays(monkeypatch, keep_from=8192, layout=layout)
    rng = np.random.default_rng(13)
    X, weight = rng.normal(size=(1, 1, 16, 16)), rng.normal(size=(64, 1, 1, 1))
    _, ((_, chunk),), _ = im2col._plan(X, (1, 1), (1, 1), (0, 0))
    assert not chunk.kept  # its column matrix, (2, 256) float64, is 4 KiB
    np.testing.assert_allclose(conv2d(X, weight), conv2d_naive(X, weight), rtol=1e-12)
    assert all(a.nbytes < 8192 for a in im2col._local.scratch.values())
    assert [key[0] for key in im2col._local.buffers] == ["out"]  # (64, 256) float64: 128 KiB


@each_layout
def test_only_large_chunks_keep_their_buffers(monkeypatch, layout):
    """A chunk whose column matrix is smaller than ``_KEEP_FROM_BYTES`` works in the thread's
    shared scratch arrays (so the small layers of a network hold one set between them); a larger
    one keeps its own buffers, and both give the same results."""
    from d2lmini import im2col
    rng = np.random.default_rng(12)
    X, weight, bias = rng.normal(size=(4, 3, 9, 9)), rng.normal(size=(5, 3, 3, 3)), rng.normal(size=5)
    grad_out = rng.normal(size=(4, 5, 9, 9))
    results = {}
    for keep_from in (0, 1 << 30):  # every chunk kept; none
        fresh_work_arrays(monkeypatch, keep_from=keep_from, layout=layout)
        _, plan, _ = im2col._plan(X, (3, 3), (1, 1), (1, 1))
        assert [chunk.kept for _, chunk in plan] == [keep_from == 0]
        results[keep_from] = conv2d(X, weight, bias, 1, 1), *conv2d_grad(X, weight, grad_out, 1, 1)
        assert len(im2col._local.buffers) == (ROLES[layout] if keep_from == 0 else 0)
        assert len(im2col._local.scratch) == (0 if keep_from == 0 else ROLES[layout])
    for kept, made in zip(*results.values()):
        np.testing.assert_array_equal(kept, made)
    np.testing.assert_allclose(results[0][0], conv2d_naive(X, weight, bias, 1, 1), rtol=1e-12,
                               atol=1e-12)


@each_layout
def test_non_contiguous_inputs_and_broadcast_gradients(layout):
    rng = np.random.default_rng(9)
    X = rng.normal(size=(3, 9, 2, 8)).transpose(0, 2, 3, 1)[:, :, ::2, 1:]  # (3, 2, 4, 8), strided
    weight = np.asfortranarray(rng.normal(size=(2, 2, 2, 3)))
    grad_out = np.broadcast_to(rng.normal(size=(1, 2, 1, 4)), (3, 2, 3, 4))  # stride 0 axes
    with conv_layout(layout):
        Y = conv2d(X, weight, None, (1, 2), (0, 1))
        grads = conv2d_grad(X, weight, grad_out, (1, 2), (0, 1))
    np.testing.assert_allclose(Y, conv2d_naive(X, weight, None, (1, 2), (0, 1)), rtol=1e-11)
    assert_grads_close(grads, conv2d_grad_loop(X, weight, np.array(grad_out), (1, 2), (0, 1)),
                       np.float64)


def assert_same_nan_and_inf(fast, loop, dtype):
    """The same positions are NaN, the same are +-inf, and the finite rest agrees."""
    tolerance = 1e-4 if dtype == np.float32 else 1e-11
    for a, b in zip(fast, loop):
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
        np.testing.assert_array_equal(np.isposinf(a), np.isposinf(b))
        np.testing.assert_array_equal(np.isneginf(a), np.isneginf(b))
        np.testing.assert_allclose(a, b, rtol=tolerance, atol=tolerance, equal_nan=True)


@each_layout
@INVALID_IS_EXPECTED
@FAST
@given(conv_case(max_size=7, max_batch=2, max_channels=2), st.data())
def test_nan_and_inf_give_what_the_loops_give(layout, case, data):
    """A NaN or inf in the input, the kernel or the output gradient: the outputs and gradients
    it reaches are what the loops give; the discarded and padded grid adds no NaN of its own."""
    X, weight, bias, strides, padding = case
    where = data.draw(st.sampled_from(["X", "weight", "grad_out"]), "where")
    bad = data.draw(st.sampled_from([np.nan, np.inf, -np.inf]), "bad")
    grad_out = np.cos(np.arange(np.prod(output_shape(X, weight, strides, padding))))
    grad_out = grad_out.reshape(output_shape(X, weight, strides, padding)).astype(X.dtype)
    target = {"X": X, "weight": weight, "grad_out": grad_out}[where]
    index = tuple(data.draw(st.integers(0, n - 1), f"index {axis}")
                  for axis, n in enumerate(target.shape))
    target[index] = bad
    with conv_layout(layout):
        Y = conv2d(X, weight, bias, strides, padding)
        grads = conv2d_grad(X, weight, grad_out, strides, padding)
    assert_same_nan_and_inf([Y], [conv2d_naive(X, weight, bias, strides, padding)], X.dtype)
    assert_same_nan_and_inf(grads, conv2d_grad_loop(X, weight, grad_out, strides, padding),
                            X.dtype)


@INVALID_IS_EXPECTED
def test_inf_read_only_by_discarded_positions_leaves_the_weight_gradient_finite(monkeypatch):
    """Column 0 of the image is never under the kernel's second column; on the flat grid the
    discarded position before it reads it there. Its gradient (zero) must not make a NaN."""
    from d2lmini import im2col
    monkeypatch.setattr(im2col, "_BATCH_LAST_UP_TO", LAYOUTS["grid"])
    X = np.ones((1, 1, 3, 4))
    X[0, 0, 1, 0] = np.inf
    weight = np.ones((1, 1, 1, 2))
    grad_x, grad_w, grad_b = conv2d_grad(X, weight, np.ones((1, 1, 3, 3)))
    assert np.isinf(grad_w[0, 0, 0, 0]) and np.isfinite(grad_w[0, 0, 0, 1])
    weight[0, 0, 0, 1] = np.inf  # and an inf tap sends no NaN back to column 0
    grad_x, _, _ = conv2d_grad(np.ones((1, 1, 3, 4)), weight, np.ones((1, 1, 3, 3)))
    np.testing.assert_array_equal(grad_x[0, 0, :, 0], 1.0)
    assert np.isinf(grad_x[0, 0, :, 1:]).all()


def test_row_lengths_avoid_multiples_of_4_kib():
    from d2lmini.im2col import _row_length
    assert _row_length(1024, 4) * 4 % 4096 != 0 and _row_length(1024, 4) >= 1024
    assert _row_length(1000, 4) == 1000 and _row_length(512, 8) * 8 % 4096 != 0


@each_layout
def test_conv2d_from_several_threads_at_once(monkeypatch, layout):
    """Each thread keeps its own work buffers: concurrent calls of one shape do not mix."""
    from concurrent.futures import ThreadPoolExecutor
    from d2lmini import im2col
    monkeypatch.setattr(im2col, "_BATCH_LAST_UP_TO", LAYOUTS[layout])
    rng = np.random.default_rng(10)
    weight = rng.normal(size=(4, 3, 3, 3))
    inputs = [rng.normal(size=(4, 3, 12, 12)) for _ in range(8)]
    expected = [conv2d_naive(X, weight, None, 1, 1) for X in inputs]

    def run(X):
        return [conv2d(X, weight, None, 1, 1) for _ in range(20)]

    with ThreadPoolExecutor(4) as pool:
        for results, want in zip(pool.map(run, inputs), expected):
            for Y in results:
                np.testing.assert_allclose(Y, want, rtol=1e-11, atol=1e-11)


# --------------------------------------------------------------------- chunks on several cores
@pytest.fixture
def real_cores():
    """The conv2d chunks' sharing between cores as this machine allows it (its helper threads
    shut down after the test), or a skip."""
    from d2lmini import im2col
    cores = im2col._Cores()
    if cores.count() < 2:
        if cores.helpers is not None:
            cores.helpers.shutdown()
        pytest.skip("chunks run on one core here (one core, no threadpoolctl, or a one-thread BLAS)")
    helpers = cores.helpers  # a test may take them away
    yield cores
    helpers.shutdown()


class TwoThreadBlas:
    """Stands in for threadpoolctl's view of the BLAS where this machine has no second core or
    no threadpoolctl: two threads, and a limit that holds them to ``limits`` meanwhile."""

    def __init__(self):
        self.lib_controllers = [SimpleNamespace(num_threads=2)]

    @contextlib.contextmanager
    def limit(self, limits):
        saved, self.lib_controllers[0].num_threads = self.lib_controllers[0].num_threads, limits
        try:
            yield
        finally:
            self.lib_controllers[0].num_threads = saved


@pytest.fixture
def shared_cores(request, monkeypatch):
    """Sharing between two threads everywhere: the machine's own where it can share, else the
    same class on a stand-in BLAS of two threads and one helper thread, so that the dealing
    of chunks, their order and the error paths are tested on any machine."""
    from d2lmini import im2col
    cores = im2col._Cores()
    if cores.count() >= 2:
        helpers = cores.helpers
        yield cores
        helpers.shutdown()
        return
    if cores.helpers is not None:
        cores.helpers.shutdown()
    cores.blas = TwoThreadBlas()
    cores.helpers = helpers = im2col._Helpers(1)
    yield cores
    helpers.shutdown()


@each_layout
def test_chunks_on_two_cores_give_exactly_what_one_core_gives(monkeypatch, shared_cores, layout):
    """Chunks run on a helper thread too, and the results are bit for bit the same (the
    products here are small enough that the BLAS runs each on one thread either way)."""
    import threading
    from d2lmini import im2col
    monkeypatch.setattr(im2col, "_BATCH_LAST_UP_TO", LAYOUTS[layout])
    cores = shared_cores
    rng = np.random.default_rng(11)
    X, weight, bias = rng.normal(size=(6, 3, 10, 9)), rng.normal(size=(4, 3, 3, 3)), rng.normal(size=4)
    grad_out = rng.normal(size=(6, 4, 5, 5))
    monkeypatch.setattr(im2col, "_CHUNK_BYTES", 1)  # one image per chunk: six chunks
    seen = []
    real_im2col = im2col._im2col

    def im2col_on(*args, **kwargs):
        seen.append(threading.current_thread().name)
        return real_im2col(*args, **kwargs)

    monkeypatch.setattr(im2col, "_im2col", im2col_on)
    monkeypatch.setattr(im2col, "_cores", None)
    monkeypatch.setattr(im2col, "_Cores", lambda: cores)
    shared = conv2d(X, weight, bias, 2, 1), *conv2d_grad(X, weight, grad_out, 2, 1)
    assert any(name.startswith("d2lmini-conv2d") for name in seen)  # a helper did some chunks
    assert threading.current_thread().name in seen
    seen.clear()
    monkeypatch.setattr(cores, "helpers", None)  # now one core does every chunk
    alone = conv2d(X, weight, bias, 2, 1), *conv2d_grad(X, weight, grad_out, 2, 1)
    assert set(seen) == {threading.current_thread().name}
    for a, b in zip(shared, alone):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(shared[0], conv2d_naive(X, weight, bias, 2, 1), rtol=1e-11)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("keep", [True, False], ids=["kept columns", "columns built again"])
def test_a_shared_weight_gradient_adds_nothing_from_the_rows_slack(monkeypatch, dtype, keep):
    """A batch of several chunks takes its weight gradient over the work arrays' whole rows
    (d2lmini/im2col.py, _weight_grad); the slack past their columns (trick 6: rows of a multiple
    of 4 KiB get some) holds whatever an earlier call left there, NaN here: it adds nothing."""
    from d2lmini import im2col
    from d2lmini.autograd import record
    itemsize = np.dtype(dtype).itemsize
    H_out = 4096 // (32 * itemsize)  # H_out x Wq = H_out x 32 columns: a row of 4 KiB
    X = np.random.default_rng(12).normal(size=(3, 2, H_out + 2, 32)).astype(dtype)
    weight = np.random.default_rng(13).normal(size=(4, 2, 3, 3)).astype(dtype)
    grad_out = np.random.default_rng(14).normal(size=(3, 4, H_out, 30)).astype(dtype)
    monkeypatch.setattr(im2col, "_BATCH_LAST_UP_TO", -1)  # the grid
    monkeypatch.setattr(im2col, "_CHUNK_BYTES", 1)  # one image per chunk: three
    monkeypatch.setattr(im2col, "_KEEP_BATCH_BYTES", 1 << 30 if keep else 0)
    layout = im2col._plan(X, (3, 3), (1, 1), (0, 0))[1][0][1]
    assert layout.row > layout.M  # this geometry has slack
    real_lend = im2col._lend

    def lend_poisoned(layout, dtype):
        array = real_lend(layout, dtype)
        array[:, layout.M:] = np.nan
        return array

    monkeypatch.setattr(im2col, "_lend", lend_poisoned)
    # every chunk on this thread, whose scratch arrays are poisoned below (still "shared": the
    # plan has several chunks)
    monkeypatch.setattr(im2col, "_cores", SimpleNamespace(
        pid=im2col.os.getpid(), map=lambda work, plan: [work(*chunk) for chunk in plan]))
    loop = conv2d_grad_loop(X, weight, grad_out, 1, 0)
    conv2d_grad(X, weight, grad_out)  # the thread's scratch arrays now exist: poison them
    for array in im2col._local.scratch.values():
        array[...] = np.nan
    x, w = Tensor(X), Tensor(weight)
    for leaf in (x, w):
        leaf.attach_grad()
    with record():
        Y = conv2d(x, w)
    Y.backward(grad_out)
    assert_grads_close((x.grad, w.grad), loop[:2], dtype)


def test_a_shared_weight_gradient_lets_other_threads_run():
    """np.matmul holds Python's lock (the GIL) through a product of at most 500 values, however
    long its sums; a chunk's weight gradient on a helper thread must let the others run. Shown by
    the switch interval: a thread that holds the lock keeps it that long once another waits, so
    a call that lets the lock go to a busy thread takes at least that long to get it back."""
    import sys
    import threading
    import time
    from d2lmini import im2col
    layout = SimpleNamespace(M=200_000, row=200_000)
    rng = np.random.default_rng(15)
    base, g_rows = rng.normal(size=(10, layout.M)), rng.normal(size=(6, layout.M))  # 60 values
    stop = threading.Event()

    def busy():  # Python that needs the lock all the time
        while not stop.is_set():
            pass

    interval = sys.getswitchinterval()
    sys.setswitchinterval(0.5)
    helper = threading.Thread(target=busy)
    longest = 0.0
    try:
        helper.start()  # it runs until this thread takes the lock back, half a second later
        for _ in range(10):  # ten chances for the busy thread to take the lock
            start = time.perf_counter()
            im2col._weight_grad(layout, base, g_rows, shared=True)
            longest = max(longest, time.perf_counter() - start)
            if longest >= 0.4:
                break
    finally:
        sys.setswitchinterval(interval)
        stop.set()
        helper.join()
    assert longest >= 0.4, longest  # a product that kept the lock takes milliseconds


def test_a_chunk_failing_on_a_helper_core_fails_the_call_and_gives_back_the_blas_threads(
        real_cores):
    cores = real_cores
    before = [info["num_threads"] for info in cores.blas.info()]
    plan = [(slice(i, i + 1), None) for i in range(4)]

    def work(part, layout):
        if part.start == 1:  # a chunk of the helper's
            raise MemoryError("chunk 1")
        return part.start

    with pytest.raises(MemoryError, match="chunk 1"):
        cores.map(work, plan)
    assert [info["num_threads"] for info in cores.blas.info()] == before
    assert cores.map(lambda part, layout: part.start, plan) == [0, 1, 2, 3]  # in the plan's order
    assert [info["num_threads"] for info in cores.blas.info()] == before


def test_chunks_stay_on_a_thread_of_the_callers(monkeypatch, shared_cores):
    """Called from a thread other than the main one, conv2d runs every chunk on that thread."""
    import threading
    from concurrent.futures import ThreadPoolExecutor
    from d2lmini import im2col
    monkeypatch.setattr(im2col, "_cores", shared_cores)
    plan = [(slice(i, i + 1), None) for i in range(4)]
    with ThreadPoolExecutor(1, thread_name_prefix="caller") as pool:
        names = pool.submit(im2col._each_chunk, lambda part, layout: threading.current_thread().name,
                            plan).result()
    assert len(set(names)) == 1 and names[0].startswith("caller")


def test_a_plan_of_one_chunk_stays_on_the_calling_thread(monkeypatch, shared_cores):
    """One chunk (a small batch, as in notebook 08's training) is never handed to a helper."""
    import threading
    from d2lmini import im2col
    monkeypatch.setattr(im2col, "_cores", shared_cores)
    me = threading.current_thread().name
    assert im2col._each_chunk(lambda part, layout: threading.current_thread().name,
                              [(slice(0, 4), None)]) == [me]
    names = im2col._each_chunk(lambda part, layout: threading.current_thread().name,
                               [(slice(i, i + 1), None) for i in range(4)])
    assert me in names and any(name.startswith("d2lmini-conv2d") for name in names)


def test_a_blas_limit_of_one_thread_keeps_every_chunk_on_the_calling_thread(real_cores):
    """The count is read at each call: under a caller's limit of one BLAS thread, no sharing."""
    import threading
    from threadpoolctl import threadpool_limits
    plan = [(slice(i, i + 1), None) for i in range(4)]
    with threadpool_limits(limits=1, user_api="blas"):
        names = real_cores.map(lambda part, layout: threading.current_thread().name, plan)
    assert set(names) == {threading.current_thread().name}


def test_a_failing_chunk_of_the_calling_thread_waits_for_the_helpers(shared_cores):
    """The calling thread's own error is the one raised, after every helper has finished the
    chunk it had started; none starts another after the error."""
    import threading
    import time
    started, finished = [], []
    plan = [(slice(i, i + 1), None) for i in range(8)]

    def work(part, layout):
        if threading.current_thread() is threading.main_thread():
            raise KeyError("main")
        started.append(part.start)
        time.sleep(0.05)
        finished.append(part.start)

    with pytest.raises(KeyError, match="main"):
        shared_cores.map(work, plan)
    count = min(shared_cores.count(), len(plan))
    assert sorted(finished) == sorted(started)
    assert set(started) <= set(range(1, count))  # at most each helper's first chunk


def test_the_threads_take_the_chunks_a_slow_one_leaves(shared_cores):
    """Each thread takes one chunk to start with, then the next one not yet taken: a thread
    slowed down (here the calling one, by its first chunk) takes fewer; the results stay in
    the plan's order."""
    import threading
    import time
    plan = [(slice(i, i + 1), None) for i in range(8)]
    taken = {}

    def work(part, layout):
        taken[part.start] = threading.current_thread().name
        if part.start == 0:
            time.sleep(0.3)
        return part.start

    assert shared_cores.map(work, plan) == list(range(8))
    me = threading.current_thread().name
    assert taken[0] == me and [taken[i] for i in range(1, 8)].count(me) == 0


def test_a_failing_chunk_of_a_helper_fails_the_call_and_ends_the_limit(shared_cores):
    """On any machine: a helper's error is raised once every thread has stopped, with the
    BLAS's threads given back, and a second call deals the chunks again, in the plan's order."""
    plan = [(slice(i, i + 1), None) for i in range(6)]
    threads = [lib.num_threads for lib in shared_cores.blas.lib_controllers]
    ran = []

    def work(part, layout):
        ran.append(part.start)
        if part.start == 1:  # a chunk of the first helper's
            raise MemoryError("chunk 1")
        return part.start

    with pytest.raises(MemoryError, match="chunk 1"):
        shared_cores.map(work, plan)
    assert [lib.num_threads for lib in shared_cores.blas.lib_controllers] == threads
    assert 0 in ran and 1 in ran
    assert shared_cores.map(lambda part, layout: part.start, plan) == list(range(6))


# --------------------------------------------------------------------- trick 9
def count_im2col(monkeypatch):
    """Count the column matrices conv2d builds (a list that grows by one per build)."""
    from d2lmini import im2col
    built, original = [], im2col._im2col
    monkeypatch.setattr(im2col, "_im2col", lambda *args: built.append(1) or original(*args))
    return built


def spy_keep(monkeypatch):
    """Record the ``keep`` argument conv2d passes to im2col's forward pass (a list or None)."""
    from d2lmini import conv
    passed, original = [], conv._conv2d_forward
    monkeypatch.setattr(conv, "_conv2d_forward",
                        lambda *args: passed.append(args[5]) or original(*args))
    return passed


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("recorded, needs_grad", [(True, True), (True, False), (False, False)])
def test_a_small_batch_keeps_its_column_matrix_for_the_backward_pass(monkeypatch, dtype,
                                                                      recorded, needs_grad):
    """LeNet's layers (one small batch-last chunk) build their column matrix once a training
    step, in the forward pass, and keep it only when a backward pass will follow; the gradients
    are exactly those of conv2d_grad, which builds it again."""
    from d2lmini import autograd
    built, passed = count_im2col(monkeypatch), spy_keep(monkeypatch)
    rng = np.random.default_rng(21)
    X, weight = rng.normal(size=(8, 2, 6, 6)).astype(dtype), rng.normal(size=(3, 2, 3, 3))
    bias, grad_out = rng.normal(size=3).astype(dtype), rng.normal(size=(8, 3, 6, 6))
    w, b = Tensor(weight.astype(dtype)), Tensor(bias)
    if needs_grad:
        w.attach_grad()
        b.attach_grad()
    with autograd.record() if recorded else contextlib.nullcontext():
        Y = conv2d(X, w, b, 1, 1)
    assert len(built) == 1
    assert [keep is not None and len(keep) for keep in passed] == [1 if needs_grad else False]
    if needs_grad:
        Y.backward(grad_out)
        assert len(built) == 1  # the backward pass used the forward pass's
        _, grad_w, grad_b = conv2d_grad(X, w.data, grad_out.astype(dtype), 1, 1)
        np.testing.assert_array_equal(w.grad, grad_w)
        np.testing.assert_array_equal(b.grad, grad_b)
        assert len(built) == 2  # conv2d_grad builds its own


def test_column_matrices_not_of_this_batch_are_built_again():
    """conv2d_backward uses ``cols`` only if it is the list conv2d_forward filled for this
    batch (one array per chunk, each of its chunk's shape and dtype): any other is ignored, and
    the columns built again."""
    from d2lmini import im2col
    rng = np.random.default_rng(24)
    x, w = rng.normal(size=(4, 2, 5, 5)), rng.normal(size=(3, 2, 3, 3))
    grad = rng.normal(size=(4, 3, 5, 5))
    expected = conv2d_grad(x, w, grad, 1, 1)
    kept = []
    im2col.conv2d_forward(x, w, None, (1, 1), (1, 1), kept)
    (cols,) = kept
    for wrong in ([cols[:-1]], [np.zeros((7, 50))], [cols, cols], [], [cols.astype(np.float32)],
                  cols):
        got = im2col.conv2d_backward(x, w, grad, (1, 1), (1, 1), True, wrong)
        for a, e in zip(got, expected):
            np.testing.assert_array_equal(a, e)
    big = np.ones((1, 64, 100, 12))  # one image, one chunk, but a column matrix of 4.4 MB
    kept = []
    im2col.conv2d_forward(big, np.ones((2, 64, 3, 3)), None, (1, 1), (1, 1), kept)
    assert kept == []  # only small batches keep theirs


def test_the_kept_column_matrix_serves_one_backward_pass_then_is_built_again(monkeypatch):
    """The backward pass writes the input gradient's columns over the kept matrix: a second
    backward() through the same graph builds it again, and gives the same gradients."""
    from d2lmini import autograd
    built = count_im2col(monkeypatch)
    rng = np.random.default_rng(22)
    x, w = Tensor(rng.normal(size=(4, 2, 5, 5))), Tensor(rng.normal(size=(3, 2, 3, 3)))
    for leaf in (x, w):
        leaf.attach_grad()
    grad_out = rng.normal(size=(4, 3, 5, 5))
    with autograd.record():
        Y = conv2d(x, w, None, 1, 1)
    grads = []
    for _ in range(2):
        Y.backward(grad_out)
        grads.append((x.grad.copy(), w.grad.copy()))
    assert len(built) == 2  # the forward pass's, then the second backward pass's
    for first, second, expected in zip(*grads, conv2d_grad(x.data, w.data, grad_out, 1, 1)):
        np.testing.assert_array_equal(first, second)
        np.testing.assert_allclose(first, expected, rtol=1e-12, atol=1e-12)


@each_layout
@pytest.mark.parametrize("chunks", ["one chunk", "several chunks"])
@pytest.mark.parametrize("keep_up_to", [4 << 20, 0], ids=["small", "over the limit"])
def test_a_small_batch_keeps_every_chunks_columns_and_a_large_one_builds_them_again(
        monkeypatch, layout, chunks, keep_up_to):
    """On the grid and batch last, in one chunk or several, a batch whose column matrices come
    to at most _KEEP_BATCH_BYTES builds them once a step; a larger one builds them again in
    the backward pass. The gradients are conv2d_grad's, bit for bit, either way."""
    from d2lmini import autograd, im2col
    monkeypatch.setattr(im2col, "_BATCH_LAST_UP_TO", LAYOUTS[layout])
    monkeypatch.setattr(im2col, "_KEEP_BATCH_BYTES", keep_up_to)
    if chunks == "several chunks":
        monkeypatch.setattr(im2col, "_CHUNK_BYTES", 2000)
    built = count_im2col(monkeypatch)
    rng = np.random.default_rng(23)
    X, w = Tensor(rng.normal(size=(6, 2, 6, 6))), Tensor(rng.normal(size=(3, 2, 3, 3)))
    b = Tensor(rng.normal(size=3))
    for leaf in (X, w, b):
        leaf.attach_grad()
    count = len(im2col._plan(X.data, (3, 3), (1, 1), (1, 1))[1])
    assert (count == 1) == (chunks == "one chunk")
    grad_out = rng.normal(size=(6, 3, 6, 6))
    with autograd.record():
        Y = conv2d(X, w, b, 1, 1)
    Y.backward(grad_out)
    assert len(built) == (count if keep_up_to else 2 * count)
    for got, expected in zip((X.grad, w.grad, b.grad), conv2d_grad(X.data, w.data, grad_out, 1, 1)):
        np.testing.assert_array_equal(got, expected)


def test_the_backward_pass_gives_the_kept_matrices_back_for_the_next_step(monkeypatch):
    """The arrays a forward pass lends to the tape come back after its backward pass and serve
    the next forward pass of that geometry (no new arrays a step); a layer of the same geometry
    recorded meanwhile gets arrays of its own, so its columns never overwrite the first's."""
    from collections import OrderedDict
    from d2lmini import autograd, im2col
    monkeypatch.setattr(im2col, "_CHUNK_BYTES", 2000)  # several chunks, on two threads or one
    monkeypatch.setattr(im2col, "_KEEP_FROM_BYTES", 0)  # every matrix given back, small or not
    monkeypatch.setattr(im2col, "_local", type(im2col._local)())  # this thread's arrays afresh
    monkeypatch.setattr(im2col, "_spare", OrderedDict())  # none given back yet
    rng = np.random.default_rng(25)
    X = rng.normal(size=(6, 2, 6, 6))
    w1, w2 = Tensor(rng.normal(size=(2, 2, 3, 3))), Tensor(rng.normal(size=(2, 2, 3, 3)))
    for w in (w1, w2):
        w.attach_grad()
    lent = spy_keep(monkeypatch)

    def step():
        with autograd.record():
            Y = conv2d(conv2d(X, w1, None, 1, 1), w2, None, 1, 1)  # the same geometry twice
        arrays = [id(a) for keep in lent for a in keep]
        Y.backward(np.ones(Y.shape))
        lent.clear()
        return arrays

    first = step()
    assert len(first) == len(set(first)) > 2  # every chunk of each layer an array of its own
    assert sorted(step()) == sorted(first)  # the same arrays again, given back and lent anew
    expected_h = conv2d(X, w1.data, None, 1, 1)
    _, expected_w1, _ = conv2d_grad(X, w1.data, conv2d_grad(expected_h, w2.data,
                                                            np.ones(expected_h.shape), 1, 1)[0],
                                    1, 1)
    np.testing.assert_allclose(w1.grad, expected_w1, rtol=1e-12, atol=1e-12)


def test_given_back_matrices_are_held_to_the_kept_bytes(monkeypatch):
    """At most _KEPT_BYTES of given-back matrices are kept: past it, the geometry given back
    least recently goes first."""
    from collections import OrderedDict
    from d2lmini import im2col
    monkeypatch.setattr(im2col, "_KEEP_FROM_BYTES", 0)
    monkeypatch.setattr(im2col, "_local", type(im2col._local)())
    monkeypatch.setattr(im2col, "_spare", OrderedDict())
    w = np.ones((1, 1, 3, 3))

    def kept_and_given_back(width):  # one step of a geometry; the bytes it kept
        x, kept = np.ones((2, 1, 6, width)), []
        im2col.conv2d_forward(x, w, None, (1, 1), (1, 1), kept)
        im2col.conv2d_backward(x, w, np.ones((2, 1, 6, width)), (1, 1), (1, 1), True, kept)
        return sum(a.nbytes for a in kept)

    sizes = [kept_and_given_back(width) for width in (6, 7, 8)]  # three geometries
    spare = im2col._spare
    assert len(spare) == 3
    monkeypatch.setattr(im2col, "_KEPT_BYTES", sizes[1] + sizes[2])
    kept_and_given_back(6)  # width 6 again
    widths = [key[0][3][1] for key in spare]  # the layouts' (H, W), oldest first
    assert widths == [8, 6]  # width 7, given back least recently, went first


def test_a_matrix_given_back_on_one_thread_is_lent_on_another(monkeypatch):
    """A chunk's backward pass may run on another thread than its forward pass (each thread
    takes the next chunk not yet taken): the matrices given back serve every thread."""
    import threading
    from collections import OrderedDict
    from d2lmini import im2col
    monkeypatch.setattr(im2col, "_KEEP_FROM_BYTES", 0)
    monkeypatch.setattr(im2col, "_spare", OrderedDict())
    layout = im2col._Grid(2, 1, (6, 6), (3, 3), (1, 1), (1, 1), np.float64)
    array = im2col._lend(layout, np.dtype(np.float64))
    helper = threading.Thread(target=im2col._give_back, args=(layout, array))
    helper.start()
    helper.join()
    assert im2col._lend(layout, np.dtype(np.float64)) is array
    assert im2col._lend(layout, np.dtype(np.float64)) is not array  # lent once only


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork() here")
@pytest.mark.filterwarnings("ignore:This process:DeprecationWarning")  # fork with threads
def test_a_forked_child_has_its_own_given_back_matrices():
    """A child forked while another thread held the lock of the given-back matrices can still
    lend and give back (it starts with none of its own)."""
    from d2lmini import im2col
    with im2col._spare_lock:
        pid = os.fork()
        if pid == 0:  # the child: report by its exit code, never return into pytest
            fine = im2col._spare_lock.acquire(timeout=5) and not im2col._spare
            os._exit(0 if fine else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_small_matrices_are_made_afresh_not_given_back(monkeypatch):
    """A column matrix under _KEEP_FROM_BYTES is not kept after its backward pass: the next
    step makes a new one, and memory holds none between steps."""
    from collections import OrderedDict
    from d2lmini import im2col
    monkeypatch.setattr(im2col, "_local", type(im2col._local)())
    monkeypatch.setattr(im2col, "_spare", OrderedDict())
    x, w = np.ones((2, 1, 6, 6)), np.ones((1, 1, 3, 3))
    kept = []
    im2col.conv2d_forward(x, w, None, (1, 1), (1, 1), kept)
    assert len(kept) == 1 and kept[0].nbytes < im2col._KEEP_FROM_BYTES
    im2col.conv2d_backward(x, w, np.ones((2, 1, 6, 6)), (1, 1), (1, 1), True, kept)
    assert not any(im2col._spare.values())


@each_layout
@INVALID_IS_EXPECTED
@pytest.mark.parametrize("where", ["X", "weight"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_kept_columns_give_the_loops_nan_and_inf(monkeypatch, layout, where, bad):
    """Through the tape (the kept column matrices), an inf or NaN in the input or the kernel
    reaches the gradients the loops say, and the grid's discarded columns add no NaN."""
    from d2lmini import autograd, im2col
    monkeypatch.setattr(im2col, "_BATCH_LAST_UP_TO", LAYOUTS[layout])
    monkeypatch.setattr(im2col, "_CHUNK_BYTES", 2000)  # several chunks
    X, weight = np.ones((3, 1, 5, 6)), np.ones((2, 1, 2, 3))
    {"X": X, "weight": weight}[where][0, 0, 1, 0] = bad  # column 0: read by a discarded position
    grad_out = np.cos(np.arange(3 * 2 * 4 * 4)).reshape(3, 2, 4, 4)
    x, w = Tensor(X), Tensor(weight)
    for leaf in (x, w):
        leaf.attach_grad()
    with autograd.record():
        Y = conv2d(x, w, None, 1, 0)
    Y.backward(grad_out)
    assert_same_nan_and_inf([x.grad, w.grad], conv2d_grad_loop(X, weight, grad_out, 1, 0)[:2],
                            np.float64)



@INVALID_IS_EXPECTED
def test_a_chunk_built_again_beside_kept_ones_still_minds_inf(monkeypatch):
    """Where some chunks' kept columns are used and one chunk's are built again (its array
    not of its shape), the chunk built again zeroes its discarded columns for an inf input,
    as conv2d_grad does: the gradients are the loops'."""
    from d2lmini import im2col
    monkeypatch.setattr(im2col, "_BATCH_LAST_UP_TO", LAYOUTS["grid"])
    monkeypatch.setattr(im2col, "_CHUNK_BYTES", 2000)  # one image a chunk
    X, weight = np.ones((3, 1, 5, 6)), np.ones((2, 1, 2, 3))
    X[0, 0, 1, 0] = np.inf  # column 0 of image 0: read by a discarded position too
    grad_out = np.cos(np.arange(3 * 2 * 4 * 4)).reshape(3, 2, 4, 4)
    kept = []
    im2col.conv2d_forward(X, weight, None, (1, 1), (0, 0), kept)
    assert len(kept) == 3
    kept[0] = np.zeros((1, 1))  # image 0's columns: built again
    got = im2col.conv2d_backward(X, weight, grad_out, (1, 1), (0, 0), True, kept)
    assert_same_nan_and_inf(got[:2], conv2d_grad_loop(X, weight, grad_out, 1, 0)[:2], np.float64)
