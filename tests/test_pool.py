"""d2lmini.pool: pool2d against the book's loop, PyTorch and central differences; its edges."""
import warnings
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from d2lmini import autograd, pool2d, pool2d_naive
from d2lmini.autograd import numerical_grad


def taped_grad(X, out_grad=None, **kwargs):
    """The input gradient pool2d's tape gives for the loss ``sum(out_grad * pool2d(X))``."""
    x = autograd.Tensor(X)
    x.attach_grad()
    with autograd.record():
        Y = pool2d(x, **kwargs)
    Y.backward(out_grad)
    return Y.data, x.grad


# --------------------------------------------------------------------- the book's examples
def test_book_example_values():
    X = np.arange(9.0).reshape(3, 3)
    np.testing.assert_array_equal(pool2d(X, (2, 2), strides=1), [[4, 5], [7, 8]])
    np.testing.assert_array_equal(pool2d(X, (2, 2), "avg", strides=1), [[2, 3], [5, 6]])


def test_book_padding_and_stride_examples():
    X = np.arange(16.0).reshape(1, 1, 4, 4)
    np.testing.assert_array_equal(pool2d(X, 3), [[[[10]]]])  # strides default to pool_size
    np.testing.assert_array_equal(pool2d(X, 3, padding=1, strides=2), [[[[5, 7], [13, 15]]]])
    np.testing.assert_array_equal(pool2d(X, (2, 3), padding=(0, 1), strides=(2, 3)),
                                  [[[[5, 7], [13, 15]]]])


def test_channels_are_pooled_separately():
    X = np.arange(16.0).reshape(1, 1, 4, 4)
    X2 = np.concatenate([X, X + 1], axis=1)  # the book's two channels
    np.testing.assert_array_equal(pool2d(X2, 3, padding=1, strides=2),
                                  [[[[5, 7], [13, 15]], [[6, 8], [14, 16]]]])


# --------------------------------------------------------------------- against the loop
FAST = settings(max_examples=100, deadline=None)  # no deadline: the machine may be busy
SLOW = settings(max_examples=30, deadline=None)  # each example differentiates every entry
shapes = st.tuples(st.integers(1, 2), st.integers(1, 3), st.integers(1, 7), st.integers(1, 7))


@st.composite
def cases(draw):
    N, C, H, W = draw(shapes)
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ph, pw = draw(st.integers(0, kh - 1)), draw(st.integers(0, kw - 1))
    if kh > H + 2 * ph or kw > W + 2 * pw:
        kh, kw, ph, pw = 1, 1, 0, 0
    strides = draw(st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    mode = draw(st.sampled_from(["max", "avg"]))
    values = draw(st.sampled_from(["normal", "ties"]))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    if values == "normal":
        X = rng.standard_normal((N, C, H, W))
    else:  # small integers: many ties
        X = rng.integers(0, 3, (N, C, H, W)) * 1.0
    return X, dict(pool_size=(kh, kw), mode=mode, strides=strides, padding=(ph, pw))


@FAST
@given(cases())
def test_matches_the_loop(case):
    X, kwargs = case
    np.testing.assert_allclose(pool2d(X, **kwargs), pool2d_naive(X, **kwargs), rtol=1e-12,
                               atol=1e-12)


@FAST
@given(cases())
def test_a_single_image_equals_a_batch_of_one(case):
    X, kwargs = case
    np.testing.assert_array_equal(pool2d(X[0, 0], **kwargs), pool2d(X[:1, :1], **kwargs)[0, 0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept(dtype):
    X = np.ones((1, 1, 4, 4), dtype=dtype)
    for mode in ("max", "avg"):
        assert pool2d(X, 2, mode).dtype == dtype
        assert pool2d_naive(X, 2, mode).dtype == dtype


def test_integers_and_booleans_become_float64():
    assert pool2d(np.ones((4, 4), dtype=np.int8), 2).dtype == np.float64
    np.testing.assert_array_equal(pool2d(np.eye(4, dtype=bool), 2, "avg"), [[0.5, 0], [0, 0.5]])


def test_padding_values():
    X = -np.ones((1, 1, 2, 2))  # all negative: -inf padding must not win, zero padding counts
    np.testing.assert_array_equal(pool2d(X, 2, strides=1, padding=1), -np.ones((1, 1, 3, 3)))
    avg = pool2d(X, 2, "avg", strides=1, padding=1)
    np.testing.assert_array_equal(avg[0, 0], [[-0.25, -0.5, -0.25], [-0.5, -1, -0.5],
                                              [-0.25, -0.5, -0.25]])


@FAST
@given(cases())
def test_an_array_that_is_a_strided_view_gives_what_its_copy_gives(case):
    """pool2d reads all taps through one strided view of the input's memory: a sliced input
    (not contiguous) gives the values and gradients of a contiguous copy."""
    X, kwargs = case
    view = np.repeat(X, 2, axis=-1)[..., ::2]  # every other column of a wider array
    np.testing.assert_array_equal(view, X)
    assert not view.flags.c_contiguous or X.shape[-1] == 1
    G = np.random.default_rng(1).standard_normal(pool2d(X, **kwargs).shape)
    for got, expected in zip(taped_grad(view, G, **kwargs), taped_grad(X.copy(), G, **kwargs)):
        np.testing.assert_array_equal(got, expected)


# --------------------------------------------------------------------- gradients
@SLOW
@given(cases())
def test_gradient_matches_central_differences(case):
    X, kwargs = case
    if kwargs["mode"] == "max":  # away from ties, where max has no derivative
        X = np.random.default_rng(0).permutation(X.size).reshape(X.shape) * 1.0
    G = np.random.default_rng(1).standard_normal(pool2d(X, **kwargs).shape)
    _, grad = taped_grad(X, G, **kwargs)
    numeric = numerical_grad(lambda x: G * pool2d(x, **kwargs), X)[0]
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-6)


def test_max_gradient_goes_to_the_maximum_only():
    X = np.array([[1.0, 5.0], [3.0, 2.0]])
    _, grad = taped_grad(X, pool_size=2)
    np.testing.assert_array_equal(grad, [[0, 1], [0, 0]])


def test_max_ties_give_the_gradient_to_the_first_in_row_major_order():
    X = np.array([[1.0, 7.0, 7.0], [7.0, 7.0, 0.0]])  # windows of 2x2, stride 1: all tie at 7
    _, grad = taped_grad(X, pool_size=2, strides=1)
    # window (0, 0) reads [[1, 7], [7, 7]]: its first 7 is X[0, 1]; window (0, 1) reads
    # [[7, 7], [7, 0]]: its first 7 is X[0, 1] again. So X[0, 1] gets both gradients.
    np.testing.assert_array_equal(grad, [[0, 2, 0], [0, 0, 0]])
    X = np.full((2, 2), 3.0)
    np.testing.assert_array_equal(taped_grad(X, pool_size=2)[1], [[1, 0], [0, 0]])


@pytest.mark.parametrize("strides", [2, 1])  # windows side by side, and overlapping
def test_cells_without_max_gradient_hold_positive_zeros(strides):
    """A negative output gradient times 0 is -0.0: a cell that is no window's maximum must
    still hold 0.0 (it prints as 0), as it would after adding to zeros."""
    X = np.arange(25.0).reshape(5, 5)
    G = -np.ones(pool2d(X, 2, strides=strides).shape)
    _, grad = taped_grad(X, G, pool_size=2, strides=strides)
    zero = grad == 0
    assert zero.any() and not np.signbit(grad[zero]).any()


def test_overlapping_windows_add_their_gradients():
    X = np.zeros((3, 3))
    X[1, 1] = 1.0  # the maximum of all four 2x2 windows
    _, grad = taped_grad(X, pool_size=2, strides=1)
    np.testing.assert_array_equal(grad, [[0, 0, 0], [0, 4, 0], [0, 0, 0]])


def test_avg_gradient_spreads_evenly_and_padding_takes_its_share():
    X = np.ones((2, 2))
    _, grad = taped_grad(X, pool_size=2, mode="avg", strides=1, padding=1)
    # each input cell sits in 4 of the 9 windows, each giving it 1/4
    np.testing.assert_array_equal(grad, np.ones((2, 2)))
    _, grad = taped_grad(np.ones((1, 3)), pool_size=(1, 2), mode="avg")  # the last column unread
    np.testing.assert_array_equal(grad, [[0.5, 0.5, 0]])


def test_padding_never_takes_the_max_gradient():
    X = np.full((2, 2), -np.inf)  # ties the -inf padding in every window
    Y, grad = taped_grad(X, pool_size=2, strides=1, padding=1)
    assert np.all(Y == -np.inf)
    assert grad.sum() == 9  # every window's gradient reached the input


def general_max_pool(X, G):
    """2 x 2 max pooling of stride 2 and its input gradient, the way every other pooling goes:
    through the stacked taps, their first maxima and the taps' gradient."""
    from d2lmini import pool
    out_hw = (X.shape[-2] // 2, X.shape[-1] // 2)
    taps = pool._stacked_taps(X, (2, 2), (2, 2), out_hw)
    Y = taps.max(axis=0)
    firsts = pool._first_maxima(taps, Y, X.shape, (2, 2), (2, 2), (0, 0), out_hw)
    return Y, pool._taps_grad(G, "max", firsts, X.shape, X.dtype, (2, 2), (2, 2), (0, 0))


def bits(a):
    return a.view(f"u{a.itemsize}")


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("shape", [(3, 2, 8, 8), (2, 3, 4, 2), (1, 1, 2, 2), (6, 10), (2, 4)])
def test_2x2_max_pooling_gives_what_the_general_way_gives_bit_for_bit(shape, dtype):
    """Max pooling of 2 x 2 windows side by side takes a faster route (``_max_2x2``): the same
    outputs and input gradients, bit for bit, and the same warnings, with ties in every
    direction, NaN (of either sign), +-inf and a non-contiguous input, and output gradients
    holding -0.0, 0, inf and NaN, in the input's dtype or in float64."""
    rng = np.random.default_rng(sum(shape))
    G = rng.standard_normal((*shape[:-2], shape[-2] // 2, shape[-1] // 2))
    finite_G = G.astype(dtype)
    G.flat[:4] = [-0.0, 0.0, np.inf, np.nan][:G.size]
    cases = [rng.standard_normal(shape), rng.integers(0, 3, shape) * 1.0]  # values, many ties
    special = rng.integers(0, 3, shape) * 1.0
    special.flat[rng.choice(special.size, size=3, replace=False)] = [np.nan, np.inf, -np.inf]
    special[..., 0, 0], special[..., 1, 1] = 5.0, np.nan  # a NaN after a larger value
    cases += [special, -special, np.full(shape, -np.inf), np.full(shape, np.nan)]
    for X in cases:
        X = X.astype(dtype)
        for x in (X, np.repeat(X, 2, axis=-1)[..., ::2]):  # contiguous, and a strided view
            for g in (finite_G, G.astype(dtype), G):
                with warnings.catch_warnings(record=True) as fast_warnings:
                    warnings.simplefilter("always")
                    Y, grad = taped_grad(x, g, pool_size=2)
                with warnings.catch_warnings(record=True) as general_warnings:
                    warnings.simplefilter("always")
                    expected_Y, expected_grad = general_max_pool(X, g)
                assert Y.dtype == grad.dtype == dtype
                np.testing.assert_array_equal(bits(Y), bits(expected_Y))
                np.testing.assert_array_equal(bits(grad), bits(expected_grad))
                assert ([str(w.message) for w in fast_warnings]
                        == [str(w.message) for w in general_warnings])
    # the gradient passed back to the layer before is in the input's dtype, whatever G's
    x = autograd.Tensor(cases[0].astype(dtype))
    x.attach_grad()
    with autograd.record():
        Y, Y1 = pool2d(x, 2), pool2d(x, 2, "avg", strides=1)  # and the general way
    assert Y._backward(finite_G.astype(np.float64))[0].dtype == dtype
    assert Y1._backward(np.ones(Y1.shape))[0].dtype == dtype


def test_2x2_max_pooling_takes_the_faster_route():
    """Without NaN in a window or inf in the gradient, 2 x 2 max pooling never stacks taps."""
    from d2lmini import pool
    X = np.random.default_rng(0).integers(0, 3, (4, 3, 6, 8)) * 1.0
    with mock.patch.object(pool, "_stacked_taps", side_effect=AssertionError("stacked")):
        taped_grad(X, pool_size=2)
        with pytest.raises(AssertionError, match="stacked"):  # the general way stacks them
            taped_grad(X, pool_size=2, strides=2, padding=1)


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_gradient_matches_torch(mode):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    # torch takes paddings up to half the pool only
    for (pool, stride, pad) in [((2, 2), None, (0, 0)), ((3, 3), (2, 2), (1, 1)),
                                ((2, 3), (2, 3), (1, 1)), ((3, 2), (1, 1), (1, 0))]:
        X = rng.integers(0, 4, (2, 3, 7, 8)) * 1.0  # many ties
        X[0, 0, 0, 0] = np.nan  # and a NaN
        G = rng.standard_normal(pool2d(X, pool, mode, stride, pad).shape)
        Y, grad = taped_grad(X, G, pool_size=pool, mode=mode, strides=stride, padding=pad)
        tX = torch.tensor(X, requires_grad=True)
        F = torch.nn.functional
        function = F.max_pool2d if mode == "max" else F.avg_pool2d
        tY = function(tX, pool, stride or pool, pad)
        tY.backward(torch.tensor(G))
        np.testing.assert_allclose(Y, tY.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(grad, tX.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_float32_gradients_stay_float32():
    x = autograd.Tensor(np.ones((1, 1, 4, 4), dtype=np.float32))
    x.attach_grad()
    with autograd.record():
        y = pool2d(x, 2, "avg")
    y.backward()
    assert x.grad.dtype == np.float32


# --------------------------------------------------------------------- NaN and inf
@pytest.mark.parametrize("mode", ["max", "avg"])
def test_nan_propagates_to_its_windows_only(mode):
    X = np.zeros((4, 4))
    X[0, 0] = np.nan
    Y = pool2d(X, 2, mode)
    assert np.isnan(Y[0, 0]) and np.isnan(pool2d_naive(X, 2, mode)[0, 0])
    assert not np.isnan(Y.ravel()[1:]).any()


def test_max_gradient_of_a_nan_window_goes_to_its_first_nan():
    X = np.array([[1.0, np.nan], [np.nan, 5.0]])
    Y, grad = taped_grad(X, pool_size=2)
    assert np.isnan(Y[0, 0])
    np.testing.assert_array_equal(grad, [[0, 1], [0, 0]])


def test_inf_is_a_value_like_any_other():
    X = np.array([[1.0, np.inf], [-np.inf, 0.0]])
    assert pool2d(X, 2)[0, 0] == np.inf
    for function in (pool2d, pool2d_naive):
        with pytest.warns(RuntimeWarning, match="invalid value"):  # inf - inf, as in np.mean
            assert np.isnan(function(X, 2, "avg")[0, 0])
    np.testing.assert_array_equal(taped_grad(X, pool_size=2)[1], [[0, 1], [0, 0]])


# --------------------------------------------------------------------- empty batches
@pytest.mark.parametrize("shape", [(0, 3, 4, 4), (2, 0, 4, 4)])
def test_empty_batch_or_channels_give_an_empty_result(shape):
    for function in (pool2d, pool2d_naive):
        Y = function(np.ones(shape), 2)
        assert Y.shape == shape[:2] + (2, 2)


# --------------------------------------------------------------------- bad input
@pytest.mark.parametrize("function", [pool2d, pool2d_naive])
@pytest.mark.parametrize("kwargs, error, message", [
    (dict(X=np.ones((4,))), ValueError, r"X must be 2-D .* or 4-D .*got shape \(4,\)"),
    (dict(X=np.ones((1, 4, 4))), ValueError, r"got shape \(1, 4, 4\)"),
    (dict(X=np.ones((4, 4)), mode="min"), ValueError, r"mode must be 'max' or 'avg', got 'min'"),
    (dict(X=np.ones((4, 4)), pool_size=0), ValueError, r"pool_size must be positive, got 0"),
    (dict(X=np.ones((4, 4)), pool_size=(2, 2, 2)), TypeError, r"pool_size must be an int or"),
    (dict(X=np.ones((4, 4)), pool_size=2.5), TypeError, r"pool_size must be an int or a pair"),
    (dict(X=np.ones((4, 4)), strides=0), ValueError, r"strides must be positive, got 0"),
    (dict(X=np.ones((4, 4)), padding=-1), ValueError, r"padding must be non-negative, got -1"),
    (dict(X=np.ones((4, 4)), padding=2), ValueError,
     r"padding \(2, 2\) must be smaller than pool_size \(2, 2\)"),
    (dict(X=np.ones((4, 4)), pool_size=5), ValueError,
     r"pool of height x width \(5, 5\) is larger than the padded input \(4, 4\)"),
    (dict(X=np.ones((0, 4))), ValueError, r"X has shape \(0, 4\); expected a height and width"),
    (dict(X=np.ones((4, 4), dtype=complex)), TypeError, r"X must hold real numbers.*complex"),
])
def test_errors_name_the_argument(function, kwargs, error, message):
    kwargs = {"pool_size": 2, **kwargs}
    with pytest.raises(error, match=message) as info:
        function(**kwargs)
    assert function.__name__ in str(info.value)


def test_the_loop_refuses_to_run_inside_record():
    x = autograd.Tensor(np.ones((4, 4)))
    x.attach_grad()
    with autograd.record(), pytest.raises(TypeError, match="recorded Tensor"):
        pool2d_naive(x, 2)
