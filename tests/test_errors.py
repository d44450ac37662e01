"""Bad inputs: each error names the argument, the shapes given and what was expected, and a
failed call changes nothing."""
import re

import numpy as np
import pytest

from d2lmini import autograd, conv2d, conv2d_grad, conv2d_naive, corr2d, corr2d_naive, init, nn
from d2lmini.autograd import Tensor
from d2lmini.data import stripes

IMAGE = np.ones((1, 2, 5, 5))
WEIGHT = np.ones((3, 2, 2, 2))


def shape(*sizes):
    """A regex matching the printed tuple ``sizes``, e.g. ``(1, 2)`` or ``(4,)``."""
    return re.escape(str(tuple(sizes)))


# --------------------------------------------------------------------- number of dimensions
@pytest.mark.parametrize("func", [corr2d, corr2d_naive])
@pytest.mark.parametrize("X, K, match", [
    (np.ones((2, 3, 4)), np.ones((1, 1)), r"X must be 2-D with axes \('height', 'width'\), got shape " + shape(2, 3, 4)),
    (np.ones(5), np.ones((1, 1)), r"X must be 2-D .*got shape " + shape(5)),
    (np.ones((4, 4)), np.ones(2), r"K must be 2-D .*got shape " + shape(2)),
    (np.ones((4, 4)), np.ones((1, 1, 2)), r"K must be 2-D .*got shape " + shape(1, 1, 2)),
    (np.float64(3.0), np.ones((1, 1)), r"X must be 2-D .*got shape \(\)"),
])
def test_corr2d_wrong_number_of_dimensions(func, X, K, match):
    with pytest.raises(ValueError, match=func.__name__ + ": " + match):
        func(X, K)


@pytest.mark.parametrize("func", [conv2d, conv2d_naive])
def test_conv2d_wrong_number_of_dimensions(func):
    name = func.__name__
    with pytest.raises(ValueError, match=name + r": X must be 4-D with axes \('batch', "
                       r"'in_channels', 'height', 'width'\), got shape " + shape(6, 8)):
        func(stripes(), WEIGHT)
    with pytest.raises(ValueError, match=name + r": weight must be 4-D with axes "
                       r"\('out_channels', 'in_channels', 'kernel_height', 'kernel_width'\), "
                       r"got shape " + shape(1, 2)):
        func(IMAGE, [[1.0, -1.0]])


@pytest.mark.parametrize("layer_in_channels", [0, 1])
def test_conv2d_layer_wrong_number_of_dimensions(layer_in_channels):
    layer = nn.Conv2D(1, (1, 2), in_channels=layer_in_channels)
    layer.initialize(seed=0)
    with pytest.raises(ValueError, match=r"Conv2D: x must be 4-D .*got shape " + shape(6, 8)
                       + r".*reshape"):
        layer(stripes())


# --------------------------------------------------------------------- kernel too large
@pytest.mark.parametrize("func", [corr2d, corr2d_naive])
@pytest.mark.parametrize("X, K", [((3, 3), (4, 2)), ((3, 3), (2, 4)), ((1, 5), (2, 1))])
def test_corr2d_kernel_larger_than_input(func, X, K):
    with pytest.raises(ValueError, match=func.__name__ + r": the kernel K of height x width "
                       + shape(*K) + r" is larger than the input X of " + shape(*X)
                       + r"; expected a kernel no larger"):
        func(np.ones(X), np.ones(K))


@pytest.mark.parametrize("func", [conv2d, conv2d_naive])
def test_conv2d_kernel_larger_than_padded_input(func):
    with pytest.raises(ValueError, match=r"kernel weight of height x width " + shape(8, 8)
                       + r" is larger than the padded input \(padding \(1, 1\)\) of "
                       + shape(7, 7)):
        func(IMAGE, np.ones((1, 2, 8, 8)), padding=1)
    assert func(IMAGE, np.ones((1, 2, 7, 7)), padding=1).shape == (1, 1, 1, 1)  # fits exactly
    with pytest.raises(ValueError, match=r"padding \(0, 2\)\) of " + shape(5, 9)):
        func(IMAGE, np.ones((1, 2, 6, 1)), padding=(0, 2))


def test_conv2d_layer_kernel_larger_than_input():
    layer = nn.Conv2D(1, (3, 3))
    layer.initialize(seed=0)
    with pytest.raises(ValueError, match=r"Conv2D: the kernel weight of height x width "
                       + shape(3, 3) + r" is larger than the padded input .* of " + shape(2, 8)):
        layer(np.ones((1, 1, 2, 8)))


# --------------------------------------------------------------------- channels and bias
@pytest.mark.parametrize("func", [conv2d, conv2d_naive])
def test_channel_mismatch(func):
    with pytest.raises(ValueError, match=r"X has 3 input channels \(shape " + shape(1, 3, 5, 5)
                       + r"\) but weight expects 2 \(shape " + shape(3, 2, 2, 2)
                       + r"\); expected X\.shape\[1\] == weight\.shape\[1\]"):
        func(np.ones((1, 3, 5, 5)), WEIGHT)


def test_conv2d_layer_channel_mismatch():
    layer = nn.Conv2D(1, (1, 2), in_channels=2)
    layer.initialize(seed=0)
    with pytest.raises(ValueError, match=r"Conv2D: x has 1 channels \(shape " + shape(1, 1, 6, 8)
                       + r"\), but this layer's weight " + shape(1, 2, 1, 2) + " expects 2"):
        layer(stripes().reshape(1, 1, 6, 8))


@pytest.mark.parametrize("func", [conv2d, conv2d_naive])
@pytest.mark.parametrize("bias", [np.ones(2), np.ones((3, 1)), np.ones(()), [[1.0, 2.0, 3.0]]])
def test_bias_of_wrong_shape(func, bias):
    given = np.shape(bias)
    with pytest.raises(ValueError, match=r"bias has shape " + re.escape(str(given))
                       + r", expected \(3,\): one value per output channel of weight "
                       + shape(3, 2, 2, 2)):
        func(IMAGE, WEIGHT, bias=bias)


# --------------------------------------------------------------------- strides and padding
@pytest.mark.parametrize("func", [conv2d, conv2d_naive])
@pytest.mark.parametrize("strides", [0, -1, (1, 0), (0, 2), [2, -3]])
def test_non_positive_stride(func, strides):
    with pytest.raises(ValueError, match=r"strides must be positive, got "
                       + re.escape(repr(strides))):
        func(IMAGE, WEIGHT, strides=strides)


@pytest.mark.parametrize("func", [conv2d, conv2d_naive])
@pytest.mark.parametrize("padding", [-1, (0, -1), (-2, 1)])
def test_negative_padding(func, padding):
    with pytest.raises(ValueError, match=r"padding must be non-negative, got "
                       + re.escape(repr(padding))):
        func(IMAGE, WEIGHT, padding=padding)


@pytest.mark.parametrize("func", [conv2d, conv2d_naive])
@pytest.mark.parametrize("argument", ["strides", "padding"])
@pytest.mark.parametrize("value", [1.5, (1, 2, 3), (1,), (1.0, 2), True, (1, False), "2", None,
                                   np.float64(2.0)])
def test_strides_and_padding_must_be_an_int_or_a_pair(func, argument, value):
    with pytest.raises(TypeError, match=argument + r" must be an int or a pair of ints, got "
                       + re.escape(repr(value))):
        func(IMAGE, WEIGHT, **{argument: value})


@pytest.mark.parametrize("kwargs, error, match", [
    ({"strides": 0}, ValueError, r"Conv2D: strides must be positive, got 0"),
    ({"padding": -1}, ValueError, r"Conv2D: padding must be non-negative, got -1"),
    ({"kernel_size": 0}, ValueError, r"Conv2D: kernel_size must be positive, got 0"),
    ({"kernel_size": (1, 2, 3)}, TypeError, r"Conv2D: kernel_size must be an int or a pair"),
    ({"channels": 0}, ValueError, r"Conv2D: channels must be >= 1, got 0"),
    ({"channels": 1.0}, TypeError, r"Conv2D: channels must be an int, got 1\.0"),
    ({"in_channels": -1}, ValueError, r"Conv2D: in_channels must be >= 0, got -1"),
    ({"in_channels": None}, TypeError, r"Conv2D: in_channels must be an int, got None"),
])
def test_conv2d_layer_bad_arguments(kwargs, error, match):
    arguments = {"channels": 1, "kernel_size": (1, 2), **kwargs}
    with pytest.raises(error, match=match):
        nn.Conv2D(**arguments)


# --------------------------------------------------------------------- non-numeric values
NOT_REAL = {
    "strings": (np.array([["a", "b"], ["c", "d"]]), r"<U1"),
    "list of strings": ([["a", "b"], ["c", "d"]], r"<U1"),
    "objects": (np.array([[1, None], [2, 3]], dtype=object), r"object"),
    "complex": (np.ones((2, 2), dtype=complex), r"complex128"),
    "complex64": (np.ones((2, 2), dtype=np.complex64), r"complex64"),
}


@pytest.mark.parametrize("func", [corr2d, corr2d_naive])
@pytest.mark.parametrize("kind", list(NOT_REAL))
@pytest.mark.parametrize("argument", ["X", "K"])
def test_corr2d_non_numeric(func, kind, argument):
    bad, dtype = NOT_REAL[kind]
    X, K = (bad, np.ones((1, 1))) if argument == "X" else (np.ones((3, 3)), bad)
    with pytest.raises(TypeError, match=func.__name__ + ": " + argument
                       + r" must hold real numbers \(bool, int or float\), got an array of dtype "
                       + dtype):
        func(X, K)


@pytest.mark.parametrize("func", [conv2d, conv2d_naive])
@pytest.mark.parametrize("kind", list(NOT_REAL))
@pytest.mark.parametrize("argument", ["X", "weight", "bias"])
def test_conv2d_non_numeric(func, kind, argument):
    bad, dtype = NOT_REAL[kind]
    arguments = {"X": IMAGE, "weight": WEIGHT, "bias": np.ones(3)}
    arguments[argument] = np.resize(np.asarray(bad), arguments[argument].shape)  # right shape
    with pytest.raises(TypeError, match=argument + r" must hold real numbers.*dtype " + dtype):
        func(**arguments)


@pytest.mark.parametrize("kind", list(NOT_REAL))
def test_tensor_and_layer_refuse_non_numeric(kind):
    bad, dtype = NOT_REAL[kind]
    with pytest.raises(TypeError, match=r"Tensor: data must hold real numbers.*dtype " + dtype):
        Tensor(bad)
    layer = nn.Conv2D(1, (1, 1))
    layer.initialize(seed=0)
    with pytest.raises(TypeError, match=r"Conv2D: x must hold real numbers.*dtype " + dtype):
        layer(np.asarray(bad).reshape(1, 1, 2, 2))


def test_set_data_refuses_non_numeric():
    layer = nn.Conv2D(1, (1, 2), in_channels=1)
    layer.initialize(seed=0)
    with pytest.raises(TypeError, match=r"weight\.set_data: value must hold real numbers.*complex"):
        layer.weight.set_data(np.ones((1, 1, 1, 2), complex))


# --------------------------------------------------------------------- other shapes
def test_conv2d_grad_out_of_wrong_shape():
    with pytest.raises(ValueError, match=r"conv2d_grad: grad_out has shape " + shape(1, 3, 3, 3)
                       + r", expected the output shape " + shape(1, 3, 4, 4)
                       + r" of conv2d for X " + shape(1, 2, 5, 5)
                       + r" and weight " + shape(3, 2, 2, 2)):
        conv2d_grad(IMAGE, WEIGHT, np.ones((1, 3, 3, 3)))


def test_conv2d_grad_checks_its_other_arguments_too():
    with pytest.raises(ValueError, match=r"conv2d_grad: X has 1 input channels"):
        conv2d_grad(np.ones((1, 1, 5, 5)), WEIGHT, np.ones((1, 3, 4, 4)))
    with pytest.raises(ValueError, match=r"conv2d_grad: strides must be positive"):
        conv2d_grad(IMAGE, WEIGHT, np.ones((1, 3, 4, 4)), strides=0)


def test_set_data_of_wrong_shape():
    layer = nn.Conv2D(1, (1, 2), in_channels=1)
    layer.initialize(seed=0)
    with pytest.raises(ValueError, match=r"Parameter weight\.set_data: value has shape "
                       + shape(1, 2) + r", expected " + shape(1, 1, 1, 2)):
        layer.weight.set_data([[1.0, -1.0]])


def test_constant_of_wrong_shape():
    with pytest.raises(ValueError, match=r"Constant: value has shape " + shape(1, 2)
                       + r", but the parameter has shape " + shape(2, 1)
                       + r"; expected a number or an array of shape " + shape(2, 1)):
        init.Constant([[1.0, 2.0]])((2, 1), np.float32, None)


# --------------------------------------------------------------------- backward
def test_backward_outside_a_recorded_graph():
    x = Tensor([1.0, 2.0])
    x.attach_grad()
    y = Tensor(x * 2)  # computed outside record(): not on the tape
    with pytest.raises(ValueError, match=r"backward\(\): this Tensor is not part of a recorded "
                       r"graph\. Compute it inside `with autograd\.record\(\):`"):
        y.backward()


def test_backward_after_computing_outside_record_in_the_training_loop():
    layer = nn.Conv2D(1, (1, 2))
    layer.initialize(seed=0)
    loss = (layer(stripes().reshape(1, 1, 6, 8)) - 1) ** 2  # forgot `with autograd.record():`
    assert isinstance(loss, np.ndarray)  # a plain array: there is nothing to call backward on
    with pytest.raises(ValueError, match="record"):
        Tensor(loss).backward()


# --------------------------------------------------------------------- failures change nothing
def trained_layer():
    layer = nn.Conv2D(1, kernel_size=(1, 2))
    layer.initialize(seed=0)
    X = stripes().reshape(1, 1, 6, 8)
    with autograd.record():
        loss = (layer(X) - 1) ** 2
    loss.backward()
    return layer


@pytest.mark.parametrize("wrong_grad", [np.ones((1, 1, 1, 3)), np.ones((1, 1, 2, 2)),
                                        np.ones(3)])
def test_a_step_with_a_wrong_shape_gradient_raises_and_changes_nothing(wrong_grad):
    layer = trained_layer()
    before = layer.weight.data().copy()
    with pytest.raises(ValueError, match="broadcast"):
        layer.weight.data()[:] -= 3e-2 * wrong_grad
    np.testing.assert_array_equal(layer.weight.data(), before)


def test_a_forward_with_wrong_channels_on_an_initialized_layer_changes_nothing():
    layer = trained_layer()
    weight, bias = layer.weight.data().copy(), layer.bias.data().copy()
    grad_weight, grad_bias = layer.weight.grad().copy(), layer.bias.grad().copy()
    with pytest.raises(ValueError, match=r"x has 2 channels.*expects 1"):
        with autograd.record():
            layer(np.ones((1, 2, 6, 8)))
    assert layer.weight.shape == (1, 1, 1, 2)
    np.testing.assert_array_equal(layer.weight.data(), weight)
    np.testing.assert_array_equal(layer.bias.data(), bias)
    np.testing.assert_array_equal(layer.weight.grad(), grad_weight)
    np.testing.assert_array_equal(layer.bias.grad(), grad_bias)


# --------------------------------------------------------------------- ragged nested lists
RAGGED = [[1.0, 2.0], [3.0]]


def _layer_call():
    layer = nn.Conv2D(1, 1, in_channels=1)
    layer.initialize(seed=0)
    return lambda x: layer(x)


def _set_data():
    layer = nn.Conv2D(1, 1, in_channels=1)
    layer.initialize(seed=0)
    return lambda value: layer.weight.set_data(value)


def _backward():
    x = Tensor([1.0, 2.0])
    x.attach_grad()
    with autograd.record():
        y = x * 2
    return lambda out_grad: y.backward(out_grad)


def _plot(func):
    def call(value):
        from d2lmini import plot
        return getattr(plot, func)(value)
    return call


@pytest.mark.parametrize("where, call", [
    ("corr2d: X", lambda r: corr2d(r, np.ones((1, 1)))),
    ("corr2d: K", lambda r: corr2d(np.ones((3, 3)), r)),
    ("corr2d_naive: X", lambda r: corr2d_naive(r, np.ones((1, 1)))),
    ("corr2d_naive: K", lambda r: corr2d_naive(np.ones((3, 3)), r)),
    ("conv2d: X", lambda r: conv2d([[r]], WEIGHT)),
    ("conv2d: weight", lambda r: conv2d(IMAGE, [[r]])),
    ("conv2d: bias", lambda r: conv2d(IMAGE, WEIGHT, r)),
    ("conv2d_naive: X", lambda r: conv2d_naive([[r]], WEIGHT)),
    ("conv2d_naive: weight", lambda r: conv2d_naive(IMAGE, [[r]])),
    ("conv2d_naive: bias", lambda r: conv2d_naive(IMAGE, WEIGHT, r)),
    ("conv2d_grad: X", lambda r: conv2d_grad([[r]], WEIGHT, np.ones((1, 3, 4, 4)))),
    ("conv2d_grad: weight", lambda r: conv2d_grad(IMAGE, [[r]], np.ones((1, 3, 4, 4)))),
    ("conv2d_grad: grad_out", lambda r: conv2d_grad(IMAGE, WEIGHT, [[r]])),
    ("Tensor: data", lambda r: Tensor(r)),
    ("backward(): out_grad", lambda r: _backward()(r)),
    ("Conv2D: x", lambda r: _layer_call()([[r]])),
    ("Parameter weight.set_data: value", lambda r: _set_data()(r)),
    ("Constant: value", lambda r: init.Constant(r)),
    ("numerical_grad: arrays[0]", lambda r: autograd.numerical_grad(lambda x: x, r)),
    ("grad_check: arrays[0]", lambda r: autograd.grad_check(lambda x: x, r)),
    ("show_arrays: arrays[0]", lambda r: _plot("show_arrays")([r])),
    ("loss_curve: losses[1]", lambda r: _plot("loss_curve")([[1.0], r])),
    ("loss_curve: losses['a']", lambda r: _plot("loss_curve")({"a": r})),
])
def test_ragged_nested_lists_name_the_argument(where, call):
    with pytest.raises(ValueError) as error:
        call(RAGGED)
    message = str(error.value)
    assert message.startswith(where + " must be an array or nested lists of equal lengths"), \
        message


# --------------------------------------------------------------------- empty kernels and channels
@pytest.mark.parametrize("func", [corr2d, corr2d_naive])
@pytest.mark.parametrize("K", [np.ones((0, 0)), np.ones((0, 2)), np.ones((2, 0))])
def test_corr2d_with_an_empty_kernel(func, K):
    with pytest.raises(ValueError, match=r"the kernel K has no taps .* expected a kernel of at "
                                         r"least 1 x 1"):
        func(np.ones((3, 3)), K)


@pytest.mark.parametrize("func", [conv2d, conv2d_naive, lambda X, w: conv2d_grad(X, w, None)])
@pytest.mark.parametrize("X, weight, match", [
    (np.ones((1, 2, 4, 4)), np.ones((3, 2, 0, 2)), r"weight \(3, 2, 0, 2\) has no taps"),
    (np.ones((1, 2, 4, 4)), np.ones((3, 2, 2, 0)), r"weight \(3, 2, 2, 0\) has no taps"),
    (np.ones((1, 0, 4, 4)), np.ones((3, 0, 2, 2)), r"X has 0 input channels .*at least one"),
])
def test_conv2d_with_an_empty_kernel_or_no_input_channels(func, X, weight, match):
    with pytest.raises(ValueError, match=match):
        func(X, weight)
