"""d2lmini.windows: output shapes and window corners, checked against conv2d itself."""
import numpy as np
import pytest

from d2lmini import conv2d, conv2d_grad
from d2lmini.windows import coverage, output_shape, window_corners

SETTINGS = [  # (input_shape, kernel_size, padding, strides)
    ((8, 8), 3, 0, 1),
    ((8, 8), 3, 1, 1),
    ((8, 8), (5, 3), (2, 1), 1),
    ((8, 8), 3, 1, 2),
    ((8, 8), (3, 5), (0, 1), (3, 4)),
    ((7, 9), (2, 4), (3, 0), (2, 5)),
    ((5, 6), 1, 0, 3),
    ((3, 3), 5, 1, 1),  # a kernel larger than the input fits once padding is added
    ((1, 1), 1, 2, 2),
]


def _pair(v):
    return (v, v) if np.ndim(v) == 0 else tuple(v)


@pytest.mark.parametrize("input_shape, kernel_size, padding, strides", SETTINGS)
def test_output_shape_is_conv2ds(input_shape, kernel_size, padding, strides):
    weight = np.zeros((1, 1, *_pair(kernel_size)))
    Y = conv2d(np.zeros((1, 1, *input_shape)), weight, strides=strides, padding=padding)
    assert output_shape(input_shape, kernel_size, padding, strides) == Y.shape[2:]
    assert window_corners(input_shape, kernel_size, padding, strides).shape == (*Y.shape[2:], 2)


@pytest.mark.parametrize("input_shape, kernel_size, padding, strides", SETTINGS)
def test_each_output_reads_the_window_at_its_corner(input_shape, kernel_size, padding, strides):
    rng = np.random.default_rng(0)
    (kh, kw), (ph, pw) = _pair(kernel_size), _pair(padding)
    X, K = rng.normal(size=input_shape), rng.normal(size=(kh, kw))
    Y = conv2d(X[None, None], K[None, None], strides=strides, padding=padding)[0, 0]
    padded = np.pad(X, ((ph, ph), (pw, pw)))  # input row r is padded row r + ph
    corners = window_corners(input_shape, kernel_size, padding, strides)
    for (i, j), _ in np.ndenumerate(Y):
        r, c = corners[i, j]
        window = padded[r + ph:r + ph + kh, c + pw:c + pw + kw]
        assert window.shape == (kh, kw)
        np.testing.assert_allclose(Y[i, j], (window * K).sum())


def test_corners_step_by_the_stride_from_minus_the_padding():
    corners = window_corners((10, 12), (3, 2), padding=(1, 2), strides=(2, 3))
    np.testing.assert_array_equal(corners[:, 0, 0], [-1, 1, 3, 5, 7])  # (10 + 2 - 3) // 2 + 1 = 5
    np.testing.assert_array_equal(corners[0, :, 1], [-2, 1, 4, 7, 10])
    assert (corners[:, :, 0] == corners[:, :1, 0]).all()  # a row of windows shares its top row
    assert corners.dtype.kind == "i"


def test_windows_stay_inside_the_padded_input():
    for input_shape, kernel_size, padding, strides in SETTINGS:
        (H, W), (kh, kw), (ph, pw) = input_shape, _pair(kernel_size), _pair(padding)
        corners = window_corners(input_shape, kernel_size, padding, strides)
        assert corners[..., 0].min() == -ph and corners[..., 1].min() == -pw
        assert corners[..., 0].max() + kh <= H + ph and corners[..., 1].max() + kw <= W + pw


@pytest.mark.parametrize("input_shape, kernel_size, padding, strides", SETTINGS)
def test_coverage_is_the_input_gradient_of_a_kernel_of_ones(input_shape, kernel_size, padding,
                                                            strides):
    # with ones as weight and as output gradient, dL/dX[r, c] counts the windows over (r, c)
    weight = np.ones((1, 1, *_pair(kernel_size)))
    out = output_shape(input_shape, kernel_size, padding, strides)
    grad_x, _, _ = conv2d_grad(np.zeros((1, 1, *input_shape)), weight, np.ones((1, 1, *out)),
                               strides=strides, padding=padding)
    counts = coverage(input_shape, kernel_size, padding, strides)
    assert counts.shape == tuple(input_shape) and counts.dtype.kind == "i"
    np.testing.assert_array_equal(counts, grad_x[0, 0])


def test_coverage_of_the_books_padding():
    counts = coverage((8, 8), 3, padding=1)
    assert counts[0, 0] == 4 and counts[0, 3] == 6 and counts[3, 3] == 9
    assert coverage((8, 8), 3).sum() == 6 * 6 * 9  # every window reads 9 input pixels
    assert coverage((5, 5), 1, strides=2).sum() == 9 and coverage((5, 5), 1, strides=2)[1, 1] == 0


@pytest.mark.parametrize("call, error, message", [
    (lambda: output_shape((8, 8), 9), ValueError,
     "output_shape: the kernel of (9, 9) is larger than the padded input of (8, 8)"),
    (lambda: window_corners((8, 8), 3, padding=-1), ValueError,
     "window_corners: padding must be at least 0 in each dimension, got -1"),
    (lambda: output_shape((8, 8), 3, strides=(1, 0)), ValueError,
     "output_shape: strides must be at least 1 in each dimension, got (1, 0)"),
    (lambda: output_shape((8, 8), 2.5), TypeError,
     "output_shape: kernel_size must be an int or a pair of ints, got 2.5"),
    (lambda: output_shape((8, 8, 1), 3), TypeError,
     "output_shape: input_shape must be an int or a pair of ints, got (8, 8, 1)"),
    (lambda: window_corners((8, 8), 3, strides=True), TypeError,
     "window_corners: strides must be an int or a pair of ints, got True"),
])
def test_bad_arguments_are_named(call, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        call()


# --------------------------------------------------------------------- window_step
from d2lmini import corr2d_naive  # noqa: E402
from d2lmini.windows import window_step  # noqa: E402


@pytest.mark.parametrize("x_shape, k_shape", [((3, 3), (2, 2)), ((4, 6), (2, 3)), ((5, 2), (5, 1))])
def test_window_step_walks_row_by_row_and_fills_in_corr2d(x_shape, k_shape):
    rng = np.random.default_rng(sum(x_shape))
    X, K = rng.normal(size=x_shape), rng.normal(size=k_shape)
    Y = corr2d_naive(X, K)
    for step in range(Y.size):
        (i, j), products, partial = window_step(X, K, step)
        assert (i, j) == divmod(step, Y.shape[1])
        np.testing.assert_allclose(products, X[i:i + k_shape[0], j:j + k_shape[1]] * K)
        assert np.isclose(products.sum(), Y[i, j])
        done = np.arange(Y.size).reshape(Y.shape) <= step  # the places visited so far
        np.testing.assert_allclose(partial[done], Y[done])
        assert np.isnan(partial[~done]).all()


def test_window_step_of_the_books_example():
    X, K = np.arange(9.0).reshape(3, 3), np.arange(4.0).reshape(2, 2)
    corner, products, partial = window_step(X, K, 3)
    assert corner == (1, 1)
    np.testing.assert_array_equal(products, [[0, 5], [14, 24]])
    np.testing.assert_array_equal(partial, [[19, 25], [37, 43]])


@pytest.mark.parametrize("X, K, step, message", [
    (np.zeros((3, 3)), np.zeros((2, 2)), 4, r"step must be an int from 0 to 3 .*got 4"),
    (np.zeros((3, 3)), np.zeros((2, 2)), -1, r"step must be an int from 0 to 3"),
    (np.zeros((3, 3)), np.zeros((4, 2)), 0, r"the kernel K of \(4, 2\) is larger than the input"),
    (np.zeros(3), np.zeros((1, 2)), 0, r"X and K must be non-empty 2-D arrays .* shapes \(3,\) and \(1, 2\)"),
])
def test_window_step_errors(X, K, step, message):
    with pytest.raises(ValueError, match="window_step: " + message):
        window_step(X, K, step)


@pytest.mark.parametrize("step", [1.0, True, "1"])
def test_window_step_refuses_a_step_that_is_not_an_int(step):
    with pytest.raises(TypeError, match=r"window_step: step must be an int from 0 to 3, got "):
        window_step(np.zeros((3, 3)), np.zeros((2, 2)), step)


def test_coverage_with_padding_counts_the_padded_cells_too():
    for input_shape, kernel_size, padding, strides in SETTINGS:
        (H, W), (kh, kw), (ph, pw) = input_shape, _pair(kernel_size), _pair(padding)
        full = coverage(input_shape, kernel_size, padding, strides, include_padding=True)
        assert full.shape == (H + 2 * ph, W + 2 * pw)
        np.testing.assert_array_equal(full[ph:ph + H, pw:pw + W],
                                      coverage(input_shape, kernel_size, padding, strides))
        assert full.sum() == output_shape(input_shape, kernel_size, padding, strides)[0] * \
            output_shape(input_shape, kernel_size, padding, strides)[1] * kh * kw
