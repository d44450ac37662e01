"""d2lmini.autograd: every taped operation against central differences, and the tape's rules."""
import re

import numpy as np
import pytest

from d2lmini import autograd, conv2d, corr2d, corr2d_naive
from d2lmini.autograd import Tensor, grad_check, record, taped

rng = np.random.default_rng(0)
A34 = rng.normal(size=(3, 4))
B34 = rng.normal(size=(3, 4))
COL = rng.normal(size=(3, 1))
ROW = rng.normal(size=(1, 4))
VEC = rng.normal(size=4)
POSITIVE = rng.uniform(0.5, 2.0, size=(3, 4))
POSITIVE_ROW = rng.uniform(0.5, 2.0, size=(1, 4))
CONSTANT = rng.normal(size=(3, 4))  # a plain array inside f: taped through, not differentiated


def leaf(array):
    """A float64 Tensor whose gradient backward() writes."""
    tensor = Tensor(np.array(array, dtype=np.float64))
    tensor.attach_grad()
    return tensor


# --------------------------------------------------------------------- every operation
CASES = {
    # two tensors, same shape and broadcast
    "tensor + tensor": (lambda a, b: a + b, [A34, B34]),
    "(3,1) + (1,4)": (lambda a, b: a + b, [COL, ROW]),
    "(3,4) + (4,)": (lambda a, b: a + b, [A34, VEC]),
    "tensor - tensor": (lambda a, b: a - b, [A34, B34]),
    "(1,4) - (3,1)": (lambda a, b: a - b, [ROW, COL]),
    "tensor * tensor": (lambda a, b: a * b, [A34, B34]),
    "(3,1) * (1,4)": (lambda a, b: a * b, [COL, ROW]),
    "(4,) * (3,4)": (lambda a, b: a * b, [VEC, A34]),
    "tensor / tensor": (lambda a, b: a / b, [A34, POSITIVE]),
    "(3,1) / (1,4)": (lambda a, b: a / b, [COL, POSITIVE_ROW]),
    "tensor ** tensor": (lambda a, b: a ** b, [POSITIVE, B34]),
    "(3,4) ** (1,4)": (lambda a, b: a ** b, [POSITIVE, ROW]),
    # a scalar on either side
    "tensor + scalar": (lambda a: a + 2.5, [A34]),
    "scalar + tensor": (lambda a: 2.5 + a, [A34]),
    "tensor - scalar": (lambda a: a - 2.5, [A34]),
    "scalar - tensor": (lambda a: 2.5 - a, [A34]),
    "tensor * scalar": (lambda a: a * -1.5, [A34]),
    "scalar * tensor": (lambda a: -1.5 * a, [A34]),
    "numpy scalar * tensor": (lambda a: np.float32(3e-2) * a, [A34]),
    "tensor / scalar": (lambda a: a / 4.0, [A34]),
    "scalar / tensor": (lambda a: 3.0 / a, [POSITIVE]),
    "tensor ** 2": (lambda a: a ** 2, [A34]),
    "tensor ** 3": (lambda a: a ** 3, [A34]),
    "tensor ** 0.5": (lambda a: a ** 0.5, [POSITIVE]),
    "tensor ** -1": (lambda a: a ** -1, [POSITIVE]),
    "2 ** tensor": (lambda a: 2 ** a, [A34]),
    "1.5 ** tensor": (lambda a: 1.5 ** a, [A34]),
    # a plain array on either side, with broadcasting
    "array + tensor": (lambda a: CONSTANT + a, [ROW]),
    "tensor - array": (lambda a: a - CONSTANT, [COL]),
    "array - tensor": (lambda a: CONSTANT - a, [A34]),
    "array * tensor": (lambda a: CONSTANT * a, [VEC]),
    "array / tensor": (lambda a: CONSTANT / a, [POSITIVE_ROW]),
    "tensor ** array": (lambda a: a ** CONSTANT, [POSITIVE]),
    "array ** tensor": (lambda a: POSITIVE ** a, [ROW]),
    # unary minus, reductions, reshape
    "-tensor": (lambda a: -a, [A34]),
    "sum": (lambda a: a.sum() * a.sum(), [A34]),
    "sum axis 0": (lambda a: a.sum(axis=0) ** 2, [A34]),
    "sum axis 1": (lambda a: a.sum(axis=1) ** 2, [A34]),
    "sum axis -1 keepdims": (lambda a: a.sum(axis=-1, keepdims=True) * a, [A34]),
    "sum axis 0 keepdims": (lambda a: a.sum(axis=0, keepdims=True) * a, [A34]),
    "sum axes (0, 1)": (lambda a: a.sum(axis=(0, 1)) * a, [A34]),
    "mean": (lambda a: a.mean() * a, [A34]),
    "mean axis 0": (lambda a: a.mean(axis=0) ** 2, [A34]),
    "mean axis 1 keepdims": (lambda a: a.mean(axis=1, keepdims=True) * a, [A34]),
    "reshape tuple": (lambda a: a.reshape((4, 3)) * CONSTANT.reshape(4, 3), [A34]),
    "reshape args": (lambda a: a.reshape(2, 6) ** 2, [A34]),
    "reshape -1": (lambda a: a.reshape(-1) * CONSTANT.reshape(-1), [A34]),
    # indexing
    "index int": (lambda a: a[1] ** 2, [A34]),
    "index slices": (lambda a: a[1:, ::2] * CONSTANT[:2, :2], [A34]),
    "index negative": (lambda a: a[-1, -2] * a, [A34]),
    "index repeated": (lambda a: a[[0, 0, 2], 1:3] ** 2, [A34]),  # an entry read twice
    "index mask": (lambda a: a[CONSTANT > 0] ** 2, [A34]),
    "index window": (lambda a: (a[0:2, 1:3] * CONSTANT[:2, :2]).sum(), [A34]),
    # matrix products, as np.matmul: 1-D operands, batches that broadcast, arrays on either side
    "(3,4) @ (4,2)": (lambda a, b: a @ b, [A34, rng.normal(size=(4, 2))]),
    "(4,) @ (4,2)": (lambda a, b: a @ b, [VEC, rng.normal(size=(4, 2))]),
    "(3,4) @ (4,)": (lambda a, b: a @ b, [A34, VEC]),
    "(4,) @ (4,)": (lambda a, b: (a @ b) * (a @ b), [VEC, VEC[::-1]]),
    "(2,3,4) @ (4,5)": (lambda a, b: a @ b, [rng.normal(size=(2, 3, 4)), rng.normal(size=(4, 5))]),
    "(2,1,3,4) @ (3,4,2)": (lambda a, b: a @ b,
                            [rng.normal(size=(2, 1, 3, 4)), rng.normal(size=(3, 4, 2))]),
    "(4,) @ (2,4,3)": (lambda a, b: a @ b, [VEC, rng.normal(size=(2, 4, 3))]),
    "(2,3,4) @ (4,)": (lambda a, b: a @ b, [rng.normal(size=(2, 3, 4)), VEC]),
    "tensor @ array": (lambda a: a @ CONSTANT.T, [A34]),
    "array @ tensor": (lambda a: CONSTANT.T @ a, [A34]),
    "array (4,) @ tensor (2,4,3)": (lambda a: VEC @ a, [rng.normal(size=(2, 4, 3))]),
    "list @ tensor": (lambda a: [1.0, -2.0, 0.5] @ a, [A34]),
    "tensor @ list": (lambda a: a @ [1.0, -2.0, 0.5, 3.0], [A34]),
    "matmul chain": (lambda a, b: ((a @ b.reshape(4, 3)) ** 2 @ a).sum(), [A34, B34]),
    # a composite: the squared error of the training loop
    "squared error": (lambda a, b: ((a * b - CONSTANT) ** 2).sum(), [A34, B34]),
    "tensor used twice": (lambda a: a * a + a / (a * a + 1), [A34]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_gradient_matches_central_differences(name):
    f, arrays = CASES[name]
    assert grad_check(f, *arrays) < 1e-6


@pytest.mark.parametrize("strides, padding", [(1, 0), (2, 1), ((1, 2), (2, 0)), (3, (1, 2))])
def test_conv2d_gradient(strides, padding):
    X, weight, bias = rng.normal(size=(2, 3, 6, 5)), rng.normal(size=(2, 3, 3, 2)), rng.normal(size=2)
    assert grad_check(lambda x, w, b: conv2d(x, w, b, strides, padding) ** 2, X, weight, bias) < 1e-6
    assert grad_check(lambda x, w: conv2d(x, w, None, strides, padding) ** 2, X, weight) < 1e-6


def test_conv2d_gradient_with_only_the_weight_or_only_the_input_taped():
    X, weight = rng.normal(size=(1, 2, 5, 5)), rng.normal(size=(3, 2, 2, 2))
    assert grad_check(lambda w: conv2d(X, w, padding=1) ** 2, weight) < 1e-6
    assert grad_check(lambda x: conv2d(x, weight, strides=2) ** 2, X) < 1e-6


@pytest.mark.parametrize("image, kernel", [((6, 8), (1, 2)), ((5, 5), (3, 3)), ((4, 7), (4, 1)),
                                           ((3, 3), (3, 3)), ((1, 1), (1, 1))])
def test_corr2d_gradient(image, kernel):
    X, K = rng.normal(size=image), rng.normal(size=kernel)
    assert grad_check(lambda x, k: corr2d(x, k) ** 2, X, K) < 1e-6
    assert grad_check(lambda k: corr2d(X, k) ** 2, K) < 1e-6  # only the kernel taped
    assert grad_check(lambda x: corr2d(x, K) ** 2, X) < 1e-6  # only the image taped


def test_gradient_of_a_float32_parameter_is_float32():
    x = Tensor(np.ones(3, np.float32))
    x.attach_grad()
    with record():
        y = (x * x).sum()
    y.backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, [2, 2, 2])


# --------------------------------------------------------------------- the rules of the tape
def test_backward_on_a_non_scalar_is_the_gradient_of_its_sum():
    x, y = leaf(A34), leaf(A34)
    with record():
        non_scalar = x * x * 3
        scalar = (y * y * 3).sum()
    non_scalar.backward()
    scalar.backward()
    np.testing.assert_allclose(x.grad, 6 * A34, rtol=1e-15)
    np.testing.assert_array_equal(x.grad, y.grad)


def test_backward_with_out_grad_weights_the_outputs():
    x = leaf(VEC)
    with record():
        y = x * x
    y.backward(np.array([1.0, 0.0, 2.0, -1.0]))
    np.testing.assert_allclose(x.grad, 2 * VEC * [1, 0, 2, -1], rtol=1e-15)


def test_backward_leaves_out_grad_and_the_leaves_apart():
    """The tape reads out_grad without copying it: nothing may write into it, and a leaf's
    gradient is a copy, not out_grad itself."""
    x = leaf(VEC)
    with record():
        y = x + 0.0  # the gradient reaching x is out_grad as it is
    out_grad = np.array([1.0, 0.0, 2.0, -1.0])
    y.backward(out_grad)
    np.testing.assert_array_equal(out_grad, [1.0, 0.0, 2.0, -1.0])
    x.grad[...] = 5.0
    np.testing.assert_array_equal(out_grad, [1.0, 0.0, 2.0, -1.0])


def test_two_backward_calls_write_not_accumulate():
    x = leaf(VEC)
    with record():
        y = (x * x).sum()
    y.backward()
    y.backward()
    np.testing.assert_allclose(x.grad, 2 * VEC, rtol=1e-15)


def test_a_second_recorded_pass_replaces_the_gradients():
    x = leaf(VEC)
    with record():
        first = (3 * x).sum()
    first.backward()
    np.testing.assert_array_equal(x.grad, 3.0)
    with record():
        second = (x * x).sum()
    second.backward()
    np.testing.assert_allclose(x.grad, 2 * VEC, rtol=1e-15)


def test_a_leaf_the_backward_does_not_reach_keeps_its_gradient():
    x, z = leaf(VEC), leaf(VEC)
    with record():
        y = (x * z).sum()
    y.backward()
    with record():
        y = (x * 5).sum()
    y.backward()
    np.testing.assert_array_equal(x.grad, 5.0)
    np.testing.assert_array_equal(z.grad, VEC)  # from the first pass


def test_gradients_from_two_paths_add_up():
    x = leaf(VEC)
    with record():
        y = x * 2
        z = (y + y * y).sum()  # dz/dx = 2 + 8x
    z.backward()
    np.testing.assert_allclose(x.grad, 2 + 8 * VEC, rtol=1e-14)


def test_shared_results_reached_by_many_paths_get_every_path():
    """Each node's gradient is complete before it passes it on, however the paths cross:
    a node comes after every node computed from it in the order backward() follows."""

    def f(x, w):
        a = x * w
        b = a + x  # made from a and x
        c = b * a  # from b and a: a reached again through b
        d = (c + b) * (a - w)  # a, b, w reached again
        return d * d + c

    assert grad_check(f, VEC, VEC[::-1].copy()) < 1e-6


def test_backward_by_default_makes_no_array_as_large_as_the_result():
    """``backward()`` with no out_grad uses a read-only view of a single 1 as the gradient of a
    non-scalar result (the gradient of its sum), not an array of ones as large as it."""
    import tracemalloc
    x = leaf(np.zeros(1 << 20))
    with record():
        y = x.reshape((1024, 1024))  # 8 MB; its backward reshapes the gradient (a view)
    tracemalloc.start()
    try:
        y.backward()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    np.testing.assert_array_equal(x.grad, 1.0)
    assert peak < 1 << 20


def test_a_long_chain_does_not_recurse():
    x = leaf([1.0])
    with record():
        y = x
        for _ in range(3000):
            y = y * 1.0
    y.backward()
    np.testing.assert_array_equal(x.grad, [1.0])


def test_outside_record_operations_return_plain_arrays():
    x = leaf(A34)
    results = [x + 1, 1 + x, x - B34, B34 - x, x * x, 2 * x, x / 2, 2 / x, x ** 2, 2 ** x, -x,
               x.sum(), x.sum(axis=0), x.mean(), x.reshape(4, 3), corr2d(x, [[1.0, -1.0]]),
               conv2d(x.reshape(1, 1, 3, 4), np.ones((1, 1, 2, 2)))]
    for result in results:
        assert not isinstance(result, Tensor)
        assert isinstance(result, (np.ndarray, np.generic))
    np.testing.assert_array_equal(results[0], A34 + 1)


def test_inside_record_operations_on_tensors_without_grad_are_not_taped():
    x = Tensor(A34)  # no attach_grad(): nothing to differentiate
    with record():
        y = x * 2 + 1
    assert isinstance(y, np.ndarray)
    np.testing.assert_array_equal(y, A34 * 2 + 1)


def test_record_nests_and_restores():
    assert not autograd.is_recording()
    with record():
        with record():
            assert autograd.is_recording()
        assert autograd.is_recording()
    assert not autograd.is_recording()
    with pytest.raises(KeyError):
        with record():
            raise KeyError
    assert not autograd.is_recording()


@pytest.mark.parametrize("array", [A34, np.arange(3.0), np.float32([1.5, -2.0]), np.array(7.0)])
def test_tensor_prints_like_numpy(array):
    assert repr(Tensor(array)) == repr(array)
    assert str(Tensor(array)) == str(array)


def test_tensor_holds_floats_and_shares_its_array():
    array = np.ones(3, np.float32)
    tensor = Tensor(array)
    assert tensor.data is array
    assert Tensor([1, 2]).dtype == Tensor([True]).dtype == np.float64
    assert tensor.shape == (3,) and tensor.ndim == 1 and tensor.size == 3 and len(tensor) == 3
    assert Tensor([[2.5]]).item() == 2.5
    copy = tensor.asnumpy()
    copy[0] = 5
    assert tensor.data[0] == 1


def test_backward_on_a_tensor_not_recorded_raises():
    with pytest.raises(ValueError, match=r"record"):
        Tensor(A34).backward()
    y = Tensor(A34)
    with record():
        z = y * 2  # y needs no gradient, so z is a plain array
    with pytest.raises(ValueError, match=r"not part of a recorded graph.*autograd\.record\(\)"):
        Tensor(z).backward()


def test_backward_with_out_grad_of_wrong_shape_names_both_shapes():
    x = leaf(A34)
    with record():
        y = x * 2
    with pytest.raises(ValueError, match=r"out_grad has shape \(4, 3\).*\(3, 4\)"):
        y.backward(np.ones((4, 3)))
    np.testing.assert_array_equal(x.grad, 0)


@pytest.mark.parametrize("taped_argument", ["kernel", "image"])
def test_corr2d_naive_cannot_be_differentiated_and_says_why(taped_argument):
    X, K = leaf(stripes_like()), leaf([[1.0, -1.0]])
    if taped_argument == "kernel":
        X = X.data
    else:
        K = K.data
    with pytest.raises(TypeError, match=r"Y\[i, j\] = \.\.\.") as error:
        with record():
            corr2d_naive(X, K)
    assert "tape" in str(error.value) and "corr2d" in str(error.value)


def stripes_like():
    X = np.ones((6, 8))
    X[:, 2:6] = 0
    return X


def test_recorded_tensor_refuses_to_become_an_array_or_float():
    x = leaf(2.0)
    with record():
        with pytest.raises(TypeError, match=r"record"):
            np.asarray(x)
        with pytest.raises(TypeError, match=r"record"):
            float(x)
    assert float(x) == 2.0  # outside record() it converts
    np.testing.assert_array_equal(np.asarray(x), 2.0)


def test_a_failing_backward_leaves_every_gradient_unchanged():
    x, w = leaf(VEC), leaf(VEC[::-1])
    with record():
        good = (x * w).sum()
    good.backward()
    before_x, before_w = x.grad.copy(), w.grad.copy()

    def explode(grad):
        raise RuntimeError("this backward fails")

    with record():
        broken = taped(x.data * 2, (x,), explode)  # a custom op whose backward raises
        loss = (w * w).sum() + (broken * w).sum() + (x * 3).sum()
    with pytest.raises(RuntimeError, match="this backward fails"):
        loss.backward()
    np.testing.assert_array_equal(x.grad, before_x)
    np.testing.assert_array_equal(w.grad, before_w)


def test_a_failing_backward_leaves_a_parameters_gradient_unchanged():
    from d2lmini import nn

    layer = nn.Conv2D(1, kernel_size=(1, 2), in_channels=1)
    layer.initialize(seed=0)
    X = stripes_like().reshape(1, 1, 6, 8)
    with record():
        loss = (layer(X) ** 2).sum()
    loss.backward()
    before, before_bias = layer.weight.grad().copy(), layer.bias.grad().copy()
    assert np.any(before != 0) and np.any(before_bias != 0)

    def explode(grad):
        raise FloatingPointError("custom op failed")

    with record():
        Y = layer(X)
        loss = (taped(Y.data, (Y,), explode) + Y).sum()
    with pytest.raises(FloatingPointError):
        loss.backward()
    np.testing.assert_array_equal(layer.weight.grad(), before)
    np.testing.assert_array_equal(layer.bias.grad(), before_bias)


# --------------------------------------------------------------------- matmul and NumPy functions
@pytest.mark.parametrize("left, right", [
    ((3, 4), (4, 2)), ((4,), (4, 2)), ((3, 4), (4,)), ((4,), (4,)), ((2, 3, 4), (4, 5)),
    ((2, 1, 3, 4), (3, 4, 2)), ((4,), (2, 4, 3)), ((5, 1, 2, 3), (1, 4, 3, 2)),
])
def test_matmul_gives_what_numpy_gives_on_either_side(left, right):
    a, b = rng.normal(size=left), rng.normal(size=right)
    expected = a @ b
    for x, y in [(leaf(a), b), (a, leaf(b)), (leaf(a), leaf(b)), (a.tolist(), leaf(b))]:
        with record():
            out = x @ y
        assert isinstance(out, Tensor)
        np.testing.assert_allclose(out.data, expected, rtol=1e-12)
    assert not isinstance(Tensor(a) @ b, Tensor)  # not recording: NumPy's result


def test_matmul_of_scalars_raises_as_numpy_does():
    with record(), pytest.raises(ValueError, match="matmul"):
        leaf(VEC) @ 2.0


@pytest.mark.parametrize("call, name, instead", [
    (lambda x: np.sum(x), "np.sum", r"l\.sum\(\)"),
    (lambda x: np.mean(x, axis=0), "np.mean", r"\.mean\(\)"),
    (lambda x: np.dot(x, CONSTANT.T), "np.dot", "`@`"),
    (lambda x: np.tensordot(x, CONSTANT, axes=2), "np.tensordot", "`@`"),
    (lambda x: np.einsum("ij,ij->", x, CONSTANT), "np.einsum", r"`\*`.*\.sum\(axis=\.\.\.\)"),
    (lambda x: np.einsum("ij,ij->", CONSTANT, x), "np.einsum", "`@`"),
    (lambda x: np.inner(x, CONSTANT), "np.inner", "`@`"),
    (lambda x: np.convolve(x[0], CONSTANT[0]), "np.convolve", "d2lmini.corr2d"),
    (lambda x: np.stack([x, x]), "np.stack", "recorded operations"),
    (lambda x: np.exp(x), "np.exp", "recorded operations"),
    (lambda x: np.maximum(x, 0), "np.maximum", "recorded operations"),
    (lambda x: np.add(x, 1, out=np.empty((3, 4))), "np.add", "recorded operations"),
])
def test_numpy_functions_on_a_recorded_tensor_say_what_to_use(call, name, instead):
    x = leaf(A34)
    with record():
        with pytest.raises(TypeError) as error:
            call(x)
    message = str(error.value)
    assert message.startswith(name + "()") and "record()" in message
    assert re.search(instead, message), message
    assert "Y[i, j]" not in message  # that message is for element-wise writes
    np.testing.assert_allclose(call(x), call(A34))  # outside record() they compute on the array


def test_numpy_ufuncs_with_an_array_on_the_left_are_taped():
    x = leaf(A34)
    with record():
        out = np.add(CONSTANT, x) * np.multiply(2.0, x) - np.subtract(CONSTANT, x) / np.float32(2)
        shape = np.shape(x), np.ndim(x)
        positive = np.greater(x, 0)  # a comparison has no gradient: a plain boolean array
    out.backward()
    np.testing.assert_allclose(x.grad, 2 * CONSTANT + 4 * A34 + 0.5)
    assert shape == ((3, 4), 2)
    assert positive.dtype == bool and not isinstance(positive, Tensor)


def test_elementwise_writes_keep_the_loops_message():
    x = leaf(A34)
    Y = np.zeros((3, 4))
    with record(), pytest.raises((TypeError, ValueError)) as error:
        Y[0, 0] = x[0, 0]
    # NumPy reports a Tensor as a sequence it cannot store, caused by the tape's refusal
    messages = str(error.value) + str(error.value.__cause__)
    assert "Y[i, j] = ..." in messages


# --------------------------------------------------------------------- operators as NumPy computes
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

OPERATORS = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "/": lambda a, b: a / b, "**": lambda a, b: a ** b,
}


def other_operand(data, kind, shape, positive):
    """A non-Tensor operand of the given kind; small values, no zeros where they would divide."""
    low = 1 if positive else 0
    values = data.draw(st.lists(st.integers(low, 3), min_size=int(np.prod(shape)),
                                max_size=int(np.prod(shape))))
    array = np.array(values).reshape(shape)
    if kind == "bool":
        return np.ones(shape, bool) if positive else array % 2 == 1
    if kind in ("uint8", "uint16", "int64", "float32"):
        return array.astype(kind)
    if kind == "list":
        return array.tolist()
    if kind == "int":
        return int(array.flat[0])
    if kind == "float":
        return float(array.flat[0]) + 0.5
    if kind == "np.uint8":
        return np.uint8(array.flat[0])
    return bool(array.flat[0]) or positive  # "bool scalar"


@settings(max_examples=300, deadline=None)
@given(data=st.data(), op=st.sampled_from(list(OPERATORS)), tensor_left=st.booleans(),
       kind=st.sampled_from(["bool", "uint8", "uint16", "int64", "float32", "list", "int",
                             "float", "np.uint8", "bool scalar"]),
       dtype=st.sampled_from([np.float32, np.float64]),
       shape=st.sampled_from([(3,), (2, 3), (1, 3)]))
def test_every_operator_gives_what_numpy_gives_on_either_side(data, op, tensor_left, kind, dtype,
                                                              shape):
    f = OPERATORS[op]
    # the Tensor's values: positive where it is a base or a divisor, so no warning is raised
    t_data = np.array(data.draw(st.lists(st.floats(0.5, 2.0), min_size=3, max_size=3)),
                      dtype=dtype)
    t_shape = data.draw(st.sampled_from([(3,), (1, 3)]))
    t_data = t_data.reshape(t_shape)
    other = other_operand(data, kind, shape, positive=tensor_left and op in "/**"
                          or not tensor_left and op == "**")
    if not tensor_left and op == "**" and kind in ("bool", "bool scalar"):
        other = np.asarray(other, dtype=np.uint8) + 1  # True ** x only, as 1 ** x
    left, right = (t_data, other) if tensor_left else (other, t_data)
    expected = f(left, right)  # NumPy's own result on the same operands

    x = leaf(t_data.astype(dtype))
    x.data = x.data.astype(dtype)
    x.grad = np.zeros_like(x.data)
    with record():
        out = f(x, other) if tensor_left else f(other, x)
    assert isinstance(out, Tensor)
    np.testing.assert_array_equal(out.data, expected)
    assert out.dtype == np.asarray(expected).dtype
    plain = f(Tensor(t_data), other) if tensor_left else f(other, Tensor(t_data))
    assert not isinstance(plain, Tensor)  # outside record(): NumPy's array
    np.testing.assert_array_equal(plain, expected)

    out.backward()
    numeric = autograd.numerical_grad(
        (lambda v: f(v, other)) if tensor_left else (lambda v: f(other, v)), t_data)[0]
    tolerance = 1e-3 if dtype == np.float32 else 1e-6
    np.testing.assert_allclose(x.grad, numeric, rtol=tolerance, atol=tolerance)


def test_subtracting_unsigned_labels_does_not_wrap():
    x = leaf([1.0, 1.0, 1.0])
    labels = np.array([1, 0, 1], np.uint8)
    with record():
        loss = ((x - labels) ** 2).sum()
        flipped = labels - x
    np.testing.assert_array_equal(loss.data, 1.0)
    np.testing.assert_array_equal(flipped.data, [0.0, -1.0, 0.0])
    loss.backward()
    np.testing.assert_array_equal(x.grad, [0.0, 2.0, 0.0])


def test_a_gradient_is_computed_only_for_operands_that_need_one():
    x = leaf(A34)
    seen = []

    class Watched(np.ndarray):  # an array that records every multiplication it takes part in
        def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
            seen.append(ufunc.__name__)
            inputs = [np.asarray(v) if isinstance(v, Watched) else v for v in inputs]
            return getattr(ufunc, method)(*inputs, **kwargs)

    G = CONSTANT.view(Watched)
    with record():
        loss = (x * G).sum()
    seen.clear()
    loss.backward()
    np.testing.assert_allclose(x.grad, CONSTANT)
    assert seen == ["multiply"]  # g * G for x; no g * x for the plain array G


def test_sum_backward_passes_a_broadcast_view_not_a_full_copy():
    x = leaf(A34)
    received = []
    with record():
        y = taped(x.data * 1.0, (x,), lambda g: received.append(g) or (g,))
        loss = y.sum()
    loss.backward()
    (g,) = received
    assert g.shape == (3, 4) and 0 in g.strides  # a view of one number
    np.testing.assert_array_equal(x.grad, np.ones((3, 4)))


# --------------------------------------------------------------------- leaves, powers, division
def test_attach_grad_on_a_computed_tensor_makes_a_new_leaf():
    x = leaf([1.0, 2.0])
    with record():
        y = x * 3
    y.attach_grad()
    with record():
        z = (y * y).sum()
    z.backward()
    np.testing.assert_array_equal(y.grad, [6.0, 12.0])  # dz/dy = 2y, y = [3, 6]
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])  # the graph behind y is cut, as MXNet


def test_power_gradients_at_a_base_of_zero_are_zero_where_they_are_defined():
    x = leaf([0.0, 0.0, 2.0])
    with record():
        y = (x ** 0).sum()
    y.backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0])  # x ** 0 is the constant 1

    a, b = leaf([0.0, 0.0, 0.0, 2.0]), leaf([2.0, 0.0, 1.0, 3.0])
    with record():
        y = (a ** b).sum()
    y.backward()
    np.testing.assert_array_equal(a.grad, [0.0, 0.0, 1.0, 12.0])  # b * a ** (b - 1)
    np.testing.assert_array_equal(b.grad, [0.0, 0.0, 0.0, 8 * np.log(2.0)])  # as PyTorch
    assert np.all(np.isfinite(a.grad)) and np.all(np.isfinite(b.grad))


def test_power_with_an_unsigned_exponent_does_not_wrap():
    x = leaf([2.0, 3.0])
    with record():
        y = (x ** np.array([0, 2], np.uint8)).sum()
    y.backward()
    np.testing.assert_array_equal(x.grad, [0.0, 6.0])


def test_division_gradient_does_not_overflow_in_float32():
    a = Tensor(np.array([1e20], np.float32))
    b = Tensor(np.array([1e20], np.float32))
    a.attach_grad()
    b.attach_grad()
    with record():
        y = (a / b).sum()
    y.backward()
    np.testing.assert_allclose(b.grad, [-1e-20], rtol=1e-6)  # -a / b**2, not -0
    np.testing.assert_allclose(a.grad, [1e-20], rtol=1e-6)


# --------------------------------------------------------------------- mistakes, said clearly
def test_record_without_parentheses_says_so():
    with pytest.raises(TypeError, match=r"write `with autograd.record\(\):`, with parentheses"):
        with autograd.record:
            pass
    assert not autograd.is_recording()


@pytest.mark.parametrize("update", [
    lambda w, g: w.__setitem__(slice(None), w.data - 0.1 * g),
    lambda w, g: w.__isub__(0.1 * g),
    lambda w, g: w.__iadd__(0.1 * g),
    lambda w, g: w.__imul__(0.5),
    lambda w, g: w.__itruediv__(2.0),
])
def test_an_update_inside_record_says_to_move_it_out(update):
    w = leaf(VEC)
    before = w.data.copy()
    with record():
        with pytest.raises(TypeError, match=r"Move the update out of the `with autograd.record"):
            update(w, np.ones(4))
    np.testing.assert_array_equal(w.data, before)  # nothing written
    update(w, np.ones(4))  # outside record() the update is made in place
    assert not np.array_equal(w.data, before)


def test_in_place_subtraction_inside_record_is_not_silently_lost():
    w = leaf(VEC)
    with record(), pytest.raises(TypeError, match="in place"):
        w -= 1.0


def test_mean_over_a_missing_axis_raises_as_sum_does():
    x = leaf(A34)
    with record():
        with pytest.raises(np.exceptions.AxisError, match="axis 3 is out of bounds"):
            x.mean(axis=3)
        with pytest.raises(np.exceptions.AxisError, match="axis 3 is out of bounds"):
            x.sum(axis=3)
        np.testing.assert_allclose(x.mean(axis=(-1, 0)).data, A34.mean())


@pytest.mark.parametrize("func", [autograd.numerical_grad, autograd.grad_check])
@pytest.mark.parametrize("args, kwargs, error, match", [
    (("f", VEC), {}, TypeError, "f must be a function"),
    ((lambda x: x, VEC), {"eps": 0}, ValueError, r"eps must be a finite positive number.*got 0"),
    ((lambda x: x, VEC), {"eps": -1e-6}, ValueError, "eps must be a finite positive"),
    ((lambda x: x, VEC), {"eps": np.nan}, ValueError, "eps must be a finite positive"),
    ((lambda x: x, VEC), {"eps": "1e-6"}, ValueError, "eps must be a finite positive"),
    ((lambda x: x, VEC + 1j), {}, TypeError, r"arrays\[0\] must hold real numbers.*complex"),
    ((lambda x, y: x, VEC, [[1.0], [2.0, 3.0]]), {}, ValueError,
     r"arrays\[1\] must be an array or nested lists of equal lengths"),
])
def test_numerical_gradients_check_their_arguments(func, args, kwargs, error, match):
    with pytest.raises(error, match=match) as raised:
        func(*args, **kwargs)
    assert str(raised.value).startswith(func.__name__ + ":")


@pytest.mark.parametrize("make", [
    lambda: Tensor([[1.0, 2.0], [3.0]]),
    lambda: leaf(VEC).backward([[1.0], [1.0, 2.0]]),
])
def test_ragged_lists_name_the_argument(make):
    with pytest.raises(ValueError, match=r"(Tensor: data|backward\(\): out_grad) must be an "
                                         r"array or nested lists of equal lengths"):
        make()


def test_remainder_floor_division_abs_and_plus_as_numpy():
    a = np.array([0.7, -1.3, 2.6, 5.2])
    b = np.array([0.5, 2.0, 1.5, np.float32(2.5)], np.float32)
    x, y = leaf(a), leaf(b)
    with record():
        loss = ((x % y) * CONSTANT[0] + (x % 2.0) + abs(x) * 3 + (+x) + (7.0 % y)).sum()
        floor = x // y  # piecewise constant: NumPy's array, no gradient
        rfloor = 7 // x
    np.testing.assert_array_equal(floor, a // b)
    np.testing.assert_array_equal(rfloor, 7 // a)
    assert not isinstance(floor, Tensor) and not isinstance(rfloor, Tensor)
    np.testing.assert_allclose(loss.data, ((a % b) * CONSTANT[0] + a % 2.0 + abs(a) * 3 + a
                                           + 7.0 % b).sum())
    loss.backward()
    np.testing.assert_allclose(x.grad, CONSTANT[0] + 1 + 3 * np.sign(a) + 1)
    np.testing.assert_allclose(y.grad, -CONSTANT[0] * (a // b) - 7.0 // b, rtol=1e-6)
    assert grad_check(lambda u, v: (u % v) ** 2 + abs(u), a, np.array([2.0, 2.0, 2.0, 2.0])) < 1e-6


def test_comparisons_and_truth_as_numpy():
    x = leaf([1.0, -2.0, 3.0])
    with record():
        checks = [x > 0, x >= 1, x < 0, x <= -2, x == 3, x != 3, 0 < x, np.array([0]) == x]
    expected = [[1, 0, 1], [1, 0, 1], [0, 1, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [1, 0, 1],
                [0, 0, 0]]
    for got, want in zip(checks, expected):
        assert isinstance(got, np.ndarray) and got.dtype == bool
        np.testing.assert_array_equal(got, np.array(want, bool))
    assert bool(Tensor([0.0])) is False and bool(Tensor([2.0])) is True  # not len() == 1
    with pytest.raises(ValueError, match="ambiguous"):
        bool(x)
    assert int(Tensor(3.7)) == 3
    assert len({x, leaf([1.0])}) == 2  # hashed by identity, as before


def test_reshape_to_an_impossible_shape_names_both():
    with record(), pytest.raises(ValueError, match=r"Tensor.reshape: cannot reshape shape "
                                                   r"\(3, 4\) into \(5,\)"):
        leaf(A34).reshape((5,))
