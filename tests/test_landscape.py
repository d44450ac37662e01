"""d2lmini.landscape: the least-squares view of learning a kernel, checked against corr2d and
against the autograd's training loop."""
import numpy as np
import pytest

import d2lmini
from d2lmini import autograd, data, init, nn
from d2lmini.landscape import descent_path, design_matrix, hessian, loss_grid, squared_error

STRIPES = data.stripes()
EDGES = d2lmini.corr2d(STRIPES, [[1.0, -1.0]])  # (6, 7)


@pytest.mark.parametrize("image_shape, kernel_shape", [((6, 8), (1, 2)), ((5, 7), (3, 2)),
                                                       ((4, 4), (4, 4)), ((3, 9), (1, 1))])
def test_design_matrix_times_kernel_is_the_cross_correlation(image_shape, kernel_shape):
    rng = np.random.default_rng(sum(image_shape) + sum(kernel_shape))
    X, k = rng.normal(size=image_shape), rng.normal(size=kernel_shape)
    A = design_matrix(X, kernel_shape)
    out_shape = (image_shape[0] - kernel_shape[0] + 1, image_shape[1] - kernel_shape[1] + 1)
    assert A.shape == (out_shape[0] * out_shape[1], k.size)
    np.testing.assert_allclose(A @ k.ravel(), d2lmini.corr2d(X, k).ravel(), atol=1e-12)


def test_hessian_of_the_stripes_is_18_12_and_the_mean_divides_by_n():
    A = design_matrix(STRIPES, (1, 2))
    np.testing.assert_array_equal(hessian(A), 2 * np.array([[18.0, 12.0], [12.0, 18.0]]))
    np.testing.assert_allclose(hessian(A, mean=True), hessian(A) / 42)


def test_a_2x2_kernel_on_the_stripes_has_singular_curvature_the_checkerboard_not():
    stripes = np.linalg.eigvalsh(hessian(design_matrix(STRIPES, (2, 2))))
    checker = np.linalg.eigvalsh(hessian(design_matrix(data.checkerboard(8, 2), (2, 2))))
    assert np.sum(np.abs(stripes) < 1e-9) == 2  # top and bottom rows see the same pixels
    assert checker.min() > 1.0


def test_hessian_is_the_curvature_of_the_loss():
    rng = np.random.default_rng(3)
    A, y, k, v = rng.normal(size=(20, 3)), rng.normal(size=20), rng.normal(size=3), rng.normal(size=3)
    # a quadratic: L(k + t v) = L(k) + t g.v + t^2 / 2 v^T H v exactly
    second_difference = (squared_error(A, y, k + v) - 2 * squared_error(A, y, k)
                         + squared_error(A, y, k - v))
    np.testing.assert_allclose(second_difference, v @ hessian(A) @ v)


def test_squared_error_is_the_sum_of_squares_for_one_kernel_and_for_a_stack():
    A = design_matrix(STRIPES, (1, 2))
    kernels = np.array([[1.0, -1.0], [0.0, 0.0], [0.5, 0.25]])  # (3, 2)
    expected = [((d2lmini.corr2d(STRIPES, k[None]) - EDGES) ** 2).sum() for k in kernels]
    np.testing.assert_allclose(squared_error(A, EDGES, kernels), expected)
    assert squared_error(A, EDGES, kernels[2]).shape == ()


def test_loss_grid_rows_follow_k1_and_columns_k0():
    A = design_matrix(STRIPES, (1, 2))
    k0, k1 = np.linspace(-1, 2, 4), np.linspace(-2, 1, 7)
    grid = loss_grid(A, EDGES, k0, k1)
    assert grid.shape == (7, 4)
    for i, j in [(0, 0), (6, 3), (2, 1), (4, 2)]:
        np.testing.assert_allclose(grid[i, j], squared_error(A, EDGES, [k0[j], k1[i]]))
    i, j = np.unravel_index(grid.argmin(), grid.shape)
    assert (k0[j], k1[i]) == (1.0, -1.0) and grid[i, j] == 0  # the edge kernel fits exactly


def test_descent_path_is_the_training_loop_of_the_layer():
    layer = nn.Conv2D(1, kernel_size=(1, 2), in_channels=1)
    layer.initialize(init=init.Constant([[[[0.3, 0.1]]]]))
    layer.cast("float64")
    X, Y = STRIPES.reshape(1, 1, 6, 8), EDGES.reshape(1, 1, 6, 7)
    kernels = [layer.weight.data().ravel().copy()]
    for _ in range(5):
        with autograd.record():
            l = (layer(X) - Y) ** 2
        l.backward()
        layer.weight.data()[:] -= 0.03 * layer.weight.grad()
        kernels.append(layer.weight.data().ravel().copy())
    path = descent_path(design_matrix(STRIPES, (1, 2)), EDGES, [0.3, 0.1], lr=0.03, num_steps=5)
    np.testing.assert_allclose(path, kernels, atol=1e-12)


def test_descent_path_converges_below_one_thirtieth_and_diverges_above():
    A = design_matrix(STRIPES, (1, 2))
    below = descent_path(A, EDGES, [0.0, 0.5], lr=0.033, num_steps=1000)
    above = descent_path(A, EDGES, [0.0, 0.5], lr=0.034, num_steps=1000)
    np.testing.assert_allclose(below[-1], [1.0, -1.0], atol=1e-6)
    assert np.abs(above[-1] - [1.0, -1.0]).max() > 1e3
    assert descent_path(A, EDGES, [0.0, 0.5], lr=0.01, num_steps=0).tolist() == [[0.0, 0.5]]


@pytest.mark.parametrize("call, message", [
    (lambda: design_matrix(np.ones(5), (1, 2)), "design_matrix: X must be a 2-D image"),
    (lambda: design_matrix(STRIPES, (7, 2)), r"design_matrix: kernel_shape \(7, 2\) does not fit"),
    (lambda: design_matrix(STRIPES, 2), "design_matrix: kernel_shape must be a pair"),
    (lambda: hessian(np.ones(3)), "hessian: A must be a non-empty 2-D array"),
    (lambda: squared_error(np.ones((4, 2)), np.ones(3), [1, 1]), "squared_error: y must hold"),
    (lambda: squared_error(np.ones((4, 2)), np.ones(4), [1, 1, 1]), r"\(\.\.\., 2\)"),
    (lambda: loss_grid(np.ones((4, 3)), np.ones(4), [0], [0]), "loss_grid: A must have two"),
    (lambda: loss_grid(np.ones((4, 2)), np.ones(4), [], [0]), "loss_grid: k0 must be"),
    (lambda: descent_path(np.ones((4, 2)), np.ones(4), [0], 0.1, 3), "descent_path: start must"),
    (lambda: descent_path(np.ones((4, 2)), np.ones(4), [0, 0], -0.1, 3), "lr must be a positive number"),
    (lambda: descent_path(np.ones((4, 2)), np.ones(4), [0, 0], 0.1, 2.5), "num_steps must be"),
])
def test_bad_input_names_the_function_and_argument(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_largest_stable_lr_is_one_thirtieth_on_the_stripes_and_splits_the_paths():
    from d2lmini.landscape import largest_stable_lr

    A = design_matrix(STRIPES, (1, 2))
    limit = largest_stable_lr(A)
    assert np.isclose(limit, 1 / 30)
    y, start = EDGES.ravel(), [0.0, 0.5]
    below = squared_error(A, y, descent_path(A, y, start, 0.99 * limit, 400))
    above = squared_error(A, y, descent_path(A, y, start, 1.01 * limit, 400))
    assert below[-1] < 1e-6 < 1e3 < above[-1]
    assert np.isclose(largest_stable_lr(A, mean=True), 42 / 30)  # the mean: n = 42 times larger
    with pytest.raises(ValueError, match="largest_stable_lr: A is all zeros"):
        largest_stable_lr(np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"largest_stable_lr: A must be .*got shape \(3,\)"):
        largest_stable_lr(np.zeros(3))
