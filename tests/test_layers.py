"""The chapter's layers: Dense, Activation, Flatten, pooling, Sequential, Conv2D(activation=)."""
import numpy as np
import pytest

import d2lmini
from d2lmini import autograd, init, nn
from d2lmini.autograd import grad_check

from test_nn import assert_unchanged, snapshot


def lenet():
    """A LeNet-style net for 8x8 digits, as notebook 08 builds one."""
    net = nn.Sequential()
    net.add(nn.Conv2D(6, kernel_size=3, padding=1, activation="sigmoid"), nn.AvgPool2D(2),
            nn.Conv2D(16, kernel_size=3, activation="sigmoid"), nn.Flatten(),
            nn.Dense(32, activation="sigmoid"), nn.Dense(10))
    return net


# --------------------------------------------------------------------- activations
@pytest.mark.parametrize("name, reference", [
    ("relu", lambda x: np.maximum(x, 0)),
    ("sigmoid", lambda x: 1 / (1 + np.exp(-x))),
    ("tanh", np.tanh),
])
def test_activation_values_and_gradients(name, reference):
    function = getattr(d2lmini, name)
    x = np.random.default_rng(0).standard_normal(50) * 3
    np.testing.assert_allclose(function(x), reference(x), rtol=1e-12)
    assert grad_check(function, x) < 1e-6
    np.testing.assert_array_equal(nn.Activation(name)(x), function(x))


def test_sigmoid_is_stable_for_large_inputs():
    for dtype in (np.float32, np.float64):
        x = np.array([-1e4, -1000, -100, 0, 100, 1000, 1e4], dtype=dtype)
        with np.errstate(over="raise", invalid="raise", divide="raise"):  # no overflow
            s = d2lmini.sigmoid(x)
        assert s.dtype == dtype
        assert np.all(np.isfinite(s)) and s[0] == 0 and s[-1] == 1 and s[3] == 0.5
    assert d2lmini.sigmoid(np.array([-50.0]))[0] == pytest.approx(np.exp(-50.0), rel=1e-12)


def test_relu_gradient_at_zero_is_zero():
    x = autograd.Tensor(np.array([-1.0, 0.0, 2.0]))
    x.attach_grad()
    with autograd.record():
        y = d2lmini.relu(x)
    y.backward()
    np.testing.assert_array_equal(x.grad, [0, 0, 1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_gives_what_np_maximum_with_0_gives_bit_for_bit(dtype):
    """ReLU takes the maximum against an array of zeros (faster than against the number 0,
    which large arrays still use): the same bits, NaN, infinities and zeros of either sign
    included, as a function and as a layer's activation (in place)."""
    special = np.array([np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, -1e-30, 1e-30, -2.5, 3.0],
                       dtype=dtype)
    large = d2lmini.activation._ZEROS_UP_TO // special.itemsize + 1  # compared with the number 0
    for x in (np.tile(special, 7),  # longer than one SIMD vector, with a tail
              np.tile(special, (7, 2))[:, ::2],  # not contiguous
              special[1:2].reshape(()), np.tile(special, large // special.size + 1)):
        expected = np.maximum(x, 0).view(f"u{special.itemsize}")
        np.testing.assert_array_equal(d2lmini.relu(x).view(expected.dtype), expected)
        in_place = d2lmini.activation._relu_in_place(x.copy())  # a layer's activation="relu"
        np.testing.assert_array_equal(in_place.view(expected.dtype), expected)


def test_in_place_relu_of_a_large_array_allocates_no_array_as_large():
    """A layer's ReLU overwrites its own output so that the layer holds one float array: past
    a megabyte it compares with the number 0, not with a temporary array of zeros."""
    import tracemalloc
    x = np.random.default_rng(0).standard_normal(2 * d2lmini.activation._ZEROS_UP_TO // 8)
    tracemalloc.start()
    try:
        d2lmini.activation._relu_in_place(x)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < x.nbytes / 4  # the booleans of the gradient's mask: an eighth of x


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh"])
def test_activations_keep_nan_and_dtype(name):
    x = np.array([np.nan, 1.0], dtype=np.float32)
    y = getattr(d2lmini, name)(x)
    assert y.dtype == np.float32 and np.isnan(y[0]) and not np.isnan(y[1])


def test_unknown_activation_names_the_choices():
    for make in (lambda: nn.Activation("softmax"), lambda: nn.Dense(3, activation="Relu"),
                 lambda: nn.Conv2D(3, 3, activation=np.tanh)):
        with pytest.raises(ValueError,
                           match=r"activation must be one of \['relu', 'sigmoid', 'tanh'\]"):
            make()


# --------------------------------------------------------------------- Dense
def test_dense_computes_x_weight_t_plus_bias():
    layer = nn.Dense(3, in_units=4)
    layer.initialize(seed=0)
    layer.bias.set_data(np.array([1.0, 2.0, 3.0]))
    x = np.random.default_rng(1).standard_normal((5, 4))
    np.testing.assert_allclose(layer(x), x @ layer.weight.data().T + [1, 2, 3], rtol=1e-6)


def test_dense_flattens_all_but_the_first_axis_unless_told_not_to():
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    flat = nn.Dense(5)
    flat.initialize(seed=0)
    assert flat(x).shape == (2, 5) and flat.weight.shape == (5, 12)
    last = nn.Dense(5, flatten=False)
    last.initialize(seed=0)
    assert last(x).shape == (2, 3, 5) and last.weight.shape == (5, 4)
    np.testing.assert_allclose(last(x)[1, 2], x[1, 2] @ last.weight.data().T, rtol=1e-6)


def test_dense_activation_is_applied():
    layer = nn.Dense(4, activation="relu", in_units=3)
    layer.initialize(seed=0, init=init.Constant(-1.0))
    np.testing.assert_array_equal(layer(np.ones((2, 3))), np.zeros((2, 4)))


def test_dense_without_bias_has_only_a_weight():
    layer = nn.Dense(2, use_bias=False)
    assert list(layer.collect_params()) == ["weight"] and layer.bias is None


@pytest.mark.parametrize("flatten", [True, False])
@pytest.mark.parametrize("use_bias", [True, False])
def test_dense_gradients(flatten, use_bias):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 2, 4))
    in_units = 8 if flatten else 4
    w, b = rng.standard_normal((5, in_units)), rng.standard_normal(5)
    G = rng.standard_normal((3, 5) if flatten else (3, 2, 5))

    def f(x, w, b):
        return G * nn._dense(x, w, b if use_bias else None, flatten)

    assert grad_check(f, x, w, b if use_bias else np.zeros(5)) < 1e-6


def test_dense_matches_torch_linear():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((4, 6)), rng.standard_normal((3, 6)), rng.standard_normal(3)
    expected = torch.nn.functional.linear(torch.tensor(x), torch.tensor(w), torch.tensor(b))
    np.testing.assert_allclose(nn._dense(x, w, b, True), expected.numpy(), rtol=1e-12)


def test_dense_repr():
    layer = nn.Dense(10, activation="relu")
    assert repr(layer) == "Dense(None -> 10, Activation(relu))"  # gluon's
    layer.initialize(seed=0)
    layer(np.ones((1, 3)))
    assert repr(layer) == "Dense(3 -> 10, Activation(relu))"


@pytest.mark.parametrize("make, error, message", [
    (lambda: nn.Dense(0), ValueError, r"Dense: units must be >= 1, got 0"),
    (lambda: nn.Dense(2.0), TypeError, r"Dense: units must be an int, got 2.0"),
    (lambda: nn.Dense(2, in_units=-1), ValueError, r"Dense: in_units must be >= 0, got -1"),
])
def test_dense_bad_arguments(make, error, message):
    with pytest.raises(error, match=message):
        make()


@pytest.mark.parametrize("x, message", [
    (np.ones((2, 5)),
     r"x of shape \(2, 5\) has 5 features, but this layer's weight \(3, 4\) expects 4"),
    (np.ones(4), r"x must have a batch axis and at least one more, got shape \(4,\)"),
    (np.ones((2, 0)), r"x of shape \(2, 0\) has no features"),
])
def test_dense_bad_input_changes_nothing(x, message):
    layer = nn.Dense(3, in_units=4)
    layer.initialize(seed=0)
    before = snapshot(layer)
    with pytest.raises(ValueError, match=message):
        layer(x)
    assert_unchanged(layer, before)


def test_dense_deferred_layer_stays_deferred_after_a_bad_input():
    layer = nn.Dense(3)
    layer.initialize(seed=0)
    with pytest.raises(ValueError, match="no features"):
        layer(np.ones((2, 0)))
    assert layer.weight.shape == (3, 0)
    layer(np.ones((2, 7)))
    assert layer.weight.shape == (3, 7)


# --------------------------------------------------------------------- Flatten
def test_flatten():
    x = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(nn.Flatten()(x), x.reshape(2, 12))
    assert nn.Flatten()(np.ones((0, 3, 4))).shape == (0, 12)
    assert nn.Flatten()(np.ones(3)).shape == (3, 1)
    with pytest.raises(ValueError, match="Flatten: x must have a batch axis"):
        nn.Flatten()(np.float64(1.0))


def test_flatten_is_taped():
    assert grad_check(lambda x: nn.Flatten()(x) * np.arange(6.0), np.ones((1, 2, 3))) < 1e-6


# --------------------------------------------------------------------- pooling layers
@pytest.mark.parametrize("layer, mode", [(nn.MaxPool2D, "max"), (nn.AvgPool2D, "avg")])
def test_pool_layers_call_pool2d(layer, mode):
    X = np.random.default_rng(0).standard_normal((2, 3, 7, 7))
    np.testing.assert_array_equal(layer()(X), d2lmini.pool2d(X, 2, mode))
    np.testing.assert_array_equal(layer(3, strides=2, padding=1)(X),
                                  d2lmini.pool2d(X, 3, mode, strides=2, padding=1))
    assert layer().collect_params().keys() == set()


@pytest.mark.parametrize("layer", [nn.MaxPool2D, nn.AvgPool2D])
def test_pool_layers_check_their_arguments(layer):
    name = layer.__name__
    with pytest.raises(ValueError, match=rf"{name}: pool_size must be positive"):
        layer(0)
    with pytest.raises(ValueError, match=rf"{name}: padding \(2, 2\) must be smaller than"):
        layer(2, padding=2)
    with pytest.raises(ValueError, match=rf"{name}: x must be 4-D .* got shape \(4, 4\)"):
        layer()(np.ones((4, 4)))
    with pytest.raises(ValueError, match=rf"{name}: the pool of height x width \(3, 3\) is larger"):
        layer(3)(np.ones((1, 1, 2, 2)))


def test_pool_layer_repr():
    assert repr(nn.MaxPool2D(3, 2, 1)) == "MaxPool2D(size=(3, 3), stride=(2, 2), padding=(1, 1))"


# --------------------------------------------------------------------- Conv2D(activation=)
def test_conv2d_activation():
    layer = nn.Conv2D(2, kernel_size=3, activation="relu")
    layer.initialize(seed=0)
    X = np.random.default_rng(0).standard_normal((1, 1, 5, 5))
    out = layer(X)
    plain = d2lmini.conv2d(X, layer.weight.data(), layer.bias.data())
    assert (plain < 0).any()
    np.testing.assert_array_equal(out, np.maximum(plain, 0))
    assert list(layer.collect_params()) == ["weight", "bias"]


@pytest.mark.parametrize("make, x", [
    (lambda act: nn.Dense(5, activation=act, in_units=4), np.array(
        [[1.0, -2.0, np.nan, 0.5], [0.0, 0.0, 0.0, 0.0], [-1.0, 3.0, 2.0, -4.0]])),
    (lambda act: nn.Conv2D(3, kernel_size=2, activation=act), np.concatenate(
        [np.random.default_rng(3).standard_normal((2, 2, 4, 4)), np.zeros((1, 2, 4, 4))])),
], ids=["Dense", "Conv2D"])
def test_a_layers_relu_gives_what_a_separate_relu_gives(make, x):
    """Dense and Conv2D apply their ReLU over their own new output (one array kept, not two):
    the values and every gradient are those of the layer without activation followed by
    ``relu``, bit for bit, NaN and exact zeros (whose gradient is 0) included; and, as with
    ``relu``, writing to the output before ``backward()`` leaves the gradients as they were."""
    fused, plain = make("relu"), make(None)
    for layer in (fused, plain):
        layer.initialize(seed=1, init=init.Uniform(1.0))
        layer.cast("float64")
    results = []
    for layer, activation in ((fused, lambda y: y), (plain, d2lmini.relu)):
        leaf = autograd.Tensor(x)
        leaf.attach_grad()
        with autograd.record():
            out = activation(layer(leaf))
            loss = (out * np.cos(np.arange(out.size)).reshape(out.shape)).sum()
        values = out.data.copy()
        out.data[...] = 7.0  # the learner's array, changed before backward()
        loss.backward()
        results.append([values, leaf.grad, layer.weight.grad(), layer.bias.grad()])
    assert np.isnan(results[0][0]).any() == np.isnan(x).any()
    assert (results[0][2] != 0).any()
    assert (results[0][0] == 0).any() and (results[0][0] > 0).any()
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("make, x", [
    (lambda: nn.Dense(5, activation="relu", in_units=4), np.ones((3, 4))),
    (lambda: nn.Conv2D(3, kernel_size=2, activation="relu"), np.ones((2, 2, 4, 4))),
], ids=["Dense", "Conv2D"])
def test_a_layer_and_its_relu_are_one_node_on_the_tape(make, x):
    """The ReLU of a layer's own output is folded into the layer's node (its backward applies
    the ReLU's mask first): one node whose parents are the layer's input and parameters."""
    layer = make()
    layer.initialize(seed=0)
    leaf = autograd.Tensor(x)
    leaf.attach_grad()
    with autograd.record():
        out = layer(leaf)
    weight, bias = out._parents[1:]
    assert out._parents[0] is leaf
    assert weight.data is layer.weight.data() and bias.data is layer.bias.data()


# --------------------------------------------------------------------- Sequential
def test_sequential_names_children_by_position():
    net = nn.Sequential()
    net.add(nn.Dense(4))
    net.add(nn.Dense(3, activation="relu"), nn.Dense(2))
    assert list(net.collect_params()) == ["0.weight", "0.bias", "1.weight", "1.bias",
                                          "2.weight", "2.bias"]
    assert len(net) == 3 and net[1].act.activation == "relu" and net[-1] is net[2]


def test_nested_sequential_names():
    inner = nn.Sequential()
    inner.add(nn.Conv2D(2, 3), nn.MaxPool2D())
    net = nn.Sequential()
    net.add(nn.Dense(3), inner)
    assert list(net.collect_params()) == ["0.weight", "0.bias", "1.0.weight", "1.0.bias"]


def test_sequential_feeds_each_block_the_last_output():
    net = lenet()
    net.initialize(seed=0)
    X = np.random.default_rng(0).random((4, 1, 8, 8))
    out = X
    assert [type(block) for block in net] == [type(net[i]) for i in range(len(net))]
    for block in net:
        out = block(out)
    np.testing.assert_array_equal(net(X), out)
    assert out.shape == (4, 10)


def test_deferred_initialization_through_a_sequential():
    net = lenet()
    net.initialize(seed=0)
    assert net[0].weight.shape == (6, 0, 3, 3) and net[4].weight.shape == (32, 0)
    net(np.zeros((1, 1, 8, 8)))
    shapes = {name: p.shape for name, p in net.collect_params().items()}
    assert shapes == {"0.weight": (6, 1, 3, 3), "0.bias": (6,), "2.weight": (16, 6, 3, 3),
                      "2.bias": (16,), "4.weight": (32, 64), "4.bias": (32,),
                      "5.weight": (10, 32), "5.bias": (10,)}


def test_deferred_draws_are_reproducible():
    a, b = lenet(), lenet()
    a.initialize(seed=3)
    b.initialize(seed=3)
    X = np.ones((1, 1, 8, 8))
    np.testing.assert_array_equal(a(X), b(X))


def test_a_call_failing_part_way_undoes_its_deferred_initializations():
    net = lenet()
    net.initialize(seed=0)
    before = snapshot(net)
    with pytest.raises(ValueError, match="larger than the padded input"):
        net(np.zeros((1, 1, 3, 3)))  # the first conv and pool run; the second conv refuses 1x1
    assert_unchanged(net, before)
    reference = lenet()
    reference.initialize(seed=0)
    X = np.random.default_rng(0).random((2, 1, 8, 8))
    np.testing.assert_array_equal(net(X), reference(X))  # the same draws as without the failure


def test_sequential_add_checks_every_block_first():
    net = nn.Sequential()
    with pytest.raises(TypeError,
                       match=r"Sequential.add: blocks\[1\] must be a Block .* got function"):
        net.add(nn.Dense(2), d2lmini.relu)
    assert len(net) == 0
    with pytest.raises(ValueError, match=r"blocks\[0\] is this Sequential itself"):
        net.add(net)


def test_sequential_gradients_against_central_differences():
    net = nn.Sequential()
    net.add(nn.Conv2D(2, 3, padding=1, activation="tanh", in_channels=1), nn.MaxPool2D(2),
            nn.Flatten(), nn.Dense(3, activation="sigmoid", in_units=8), nn.Dense(2, in_units=3))
    net.initialize(seed=0, init=init.Normal(0.5))
    net.cast("float64")
    X = np.random.default_rng(1).standard_normal((2, 1, 4, 4))
    params = list(net.collect_params().values())
    with autograd.record():
        out = net(X).sum()
    out.backward()
    for p in params:
        saved = p.data().copy()

        def f(value, p=p):
            p.data()[...] = value
            return net(X)

        numeric = autograd.numerical_grad(f, saved)[0]
        p.data()[...] = saved
        np.testing.assert_allclose(p.grad(), numeric, rtol=1e-5, atol=1e-8, err_msg=p.name)


def test_a_slice_of_a_sequential_is_a_sequential_of_the_same_blocks():
    net = lenet()
    net.initialize(seed=0)
    X = np.random.default_rng(0).random((2, 1, 8, 8))
    head = net[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2 and head[1] is net[1]
    np.testing.assert_array_equal(head(X), net[1](net[0](X)))
    np.testing.assert_array_equal(net[2:](head(X)), net(X))
    assert list(net[4:].collect_params()) == ["0.weight", "0.bias", "1.weight", "1.bias"]


def test_sequential_repr():
    net = nn.Sequential()
    net.add(nn.Dense(2), nn.Flatten())
    assert repr(net) == "Sequential(\n  (0): Dense(None -> 2, linear)\n  (1): Flatten\n)"
