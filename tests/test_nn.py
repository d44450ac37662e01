"""d2lmini.nn and d2lmini.init: parameters, deferred initialization, and the seed's training."""
import numpy as np
import pytest

from d2lmini import autograd, conv2d, corr2d, init, nn
from d2lmini.data import stripes
from d2lmini.nn import DeferredInitializationError

X = stripes().reshape((1, 1, 6, 8))  # the seed's input, as (batch, channels, height, width)
Y = corr2d(stripes(), [[1, -1]]).reshape((1, 1, 6, 7))  # and its edge map
SEED_KERNEL = [[[[0.00683409, 0.01299842]]]]  # the seed's starting kernel (see the seeds README)


def snapshot(block):
    """Everything a failed call must leave alone: each parameter's shape, dtype, value, grad."""
    state = {}
    for name, p in block.collect_params().items():
        value = p._data
        state[name] = (p.shape, p.dtype, None if value is None else value.copy(),
                       None if value is None else p.grad().copy(), p._deferred is not None)
    return state


def assert_unchanged(block, before):
    after = snapshot(block)
    assert after.keys() == before.keys()
    for name in before:
        (shape, dtype, value, grad, deferred), (shape2, dtype2, value2, grad2, deferred2) = (
            before[name], after[name])
        assert (shape, dtype, deferred) == (shape2, dtype2, deferred2), name
        if value is None:
            assert value2 is None, name
        else:
            np.testing.assert_array_equal(value2, value)
            np.testing.assert_array_equal(grad2, grad)


# --------------------------------------------------------------------- deferred initialization
def test_weight_shape_is_inferred_at_the_first_call():
    layer = nn.Conv2D(1, kernel_size=(1, 2))
    assert layer.weight.shape == (1, 0, 1, 2)
    layer.initialize(seed=0)
    assert layer.weight.shape == (1, 0, 1, 2)
    with pytest.raises(DeferredInitializationError, match=r"weight.*\(1, 0, 1, 2\)"):
        layer.weight.data()
    with pytest.raises(DeferredInitializationError):
        layer.weight.grad()
    assert layer.bias.data().shape == (1,)  # the bias's shape is known: drawn at once
    out = layer(np.ones((2, 3, 6, 8)))
    assert out.shape == (2, 1, 6, 7)
    assert layer.weight.shape == layer.weight.data().shape == layer.weight.grad().shape == (1, 3, 1, 2)


def test_deferred_initialization_error_is_a_runtime_error():
    assert issubclass(DeferredInitializationError, RuntimeError)


def test_data_before_initialize_raises():
    layer = nn.Conv2D(2, kernel_size=3, in_channels=1)
    with pytest.raises(RuntimeError, match=r"weight has not been initialized.*initialize\(\)"):
        layer.weight.data()
    with pytest.raises(RuntimeError, match="initialize"):
        layer(np.ones((1, 1, 5, 5)))


def test_known_in_channels_initializes_at_once():
    layer = nn.Conv2D(4, kernel_size=3, in_channels=2)
    layer.initialize(seed=0)
    assert layer.weight.data().shape == (4, 2, 3, 3)


def test_deferred_draw_equals_immediate_draw():
    deferred, known = nn.Conv2D(3, (2, 2)), nn.Conv2D(3, (2, 2), in_channels=2)
    deferred.initialize(seed=7)
    known.initialize(seed=7)
    deferred(np.ones((1, 2, 4, 4)))
    np.testing.assert_array_equal(deferred.weight.data(), known.weight.data())


def test_initialize_twice_keeps_values_unless_forced():
    layer = nn.Conv2D(2, (2, 2), in_channels=1)
    layer.initialize(seed=0)
    first = layer.weight.data().copy()
    with pytest.warns(UserWarning) as record:
        layer.initialize(seed=1)
    # gluon's words, once per parameter; the warning points at the caller's line
    assert [str(w.message) for w in record] == [
        f"Parameter '{name}' is already initialized, ignoring. Set force_reinit=True to "
        "re-initialize." for name in ("weight", "bias")]
    assert all(w.filename == __file__ for w in record)
    np.testing.assert_array_equal(layer.weight.data(), first)
    layer.initialize(seed=1, force_reinit=True)
    assert not np.array_equal(layer.weight.data(), first)
    again = nn.Conv2D(2, (2, 2), in_channels=1)
    again.initialize(seed=1)
    np.testing.assert_array_equal(layer.weight.data(), again.weight.data())  # a true re-draw


# --------------------------------------------------------------------- names and shapes
def test_parameter_names():
    assert list(nn.Conv2D(1, (1, 2)).collect_params()) == ["weight", "bias"]
    assert list(nn.Conv2D(1, (1, 2), use_bias=False).collect_params()) == ["weight"]
    layer = nn.Conv2D(1, (1, 2))
    assert layer.collect_params()["weight"] is layer.weight
    assert layer.weight.name == "weight" and layer.bias.name == "bias"


class Net(nn.Block):
    """A block holding a parameter of its own and two child blocks, one of them nested."""

    def __init__(self):
        super().__init__()
        self.scale = self.params.get("scale", shape=(1,))
        self.first = nn.Conv2D(2, (3, 3), padding=1)
        self.inner = Pair()

    def forward(self, x):
        return self.inner(self.first(x)) * self.scale.data()


class Pair(nn.Block):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2D(1, (1, 2), use_bias=False)

    def forward(self, x):
        return self.conv(x)


def test_nested_blocks_prefix_the_child_name():
    net = Net()
    params = net.collect_params()
    assert list(params) == ["scale", "first.weight", "first.bias", "inner.conv.weight"]
    assert params["inner.conv.weight"] is net.inner.conv.weight
    net.initialize(seed=0)
    assert net(np.ones((2, 3, 5, 5))).shape == (2, 1, 5, 4)
    assert params["first.weight"].shape == (2, 3, 3, 3)
    assert params["inner.conv.weight"].shape == (1, 2, 1, 2)


def test_assigning_a_block_before_super_init_raises():
    class Broken(nn.Block):
        def __init__(self):
            self.conv = nn.Conv2D(1, 1)

    with pytest.raises(RuntimeError, match=r"super\(\)\.__init__\(\)"):
        Broken()


@pytest.mark.parametrize("kernel_size, strides, padding", [
    (3, 1, 0), ((1, 2), 1, 0), (3, 2, 1), ((2, 3), (2, 1), (0, 1)), (1, 3, 2)])
def test_shapes_and_output_equal_conv2d(kernel_size, strides, padding):
    layer = nn.Conv2D(4, kernel_size, strides=strides, padding=padding)
    layer.initialize(init.Normal(1.0), seed=0)
    x = np.random.default_rng(1).normal(size=(2, 3, 7, 9))
    out = layer(x)
    kh, kw = (kernel_size, kernel_size) if np.ndim(kernel_size) == 0 else kernel_size
    assert layer.weight.shape == (4, 3, kh, kw) and layer.bias.shape == (4,)
    expected = conv2d(x, layer.weight.data(), layer.bias.data(), strides, padding)
    np.testing.assert_array_equal(out, expected)


def test_repr():
    layer = nn.Conv2D(2, (1, 2), strides=(1, 2), padding=1)
    assert repr(layer) == "Conv2D(0 -> 2, kernel_size=(1, 2), strides=(1, 2), padding=(1, 1))"
    assert repr(layer.weight) == "Parameter weight (shape=(2, 0, 1, 2), dtype=float32)"


# --------------------------------------------------------------------- initializers
def test_default_initializers():
    layer = nn.Conv2D(16, (3, 3), in_channels=8)
    layer.initialize(seed=0)
    weight, bias = layer.weight.data(), layer.bias.data()
    assert weight.dtype == bias.dtype == np.float32
    assert np.all(np.abs(weight) <= np.float32(0.07))
    assert np.abs(weight).max() > 0.06 and weight.std() > 0.03  # spread over the whole range
    np.testing.assert_array_equal(bias, np.zeros(16, np.float32))
    np.testing.assert_array_equal(layer.weight.grad(), 0)


def test_seeded_initialization_is_deterministic():
    def weights(seed):
        layer = nn.Conv2D(2, (3, 3), in_channels=2)
        layer.initialize(seed=seed)
        return layer.weight.data()

    np.testing.assert_array_equal(weights(0), weights(0))
    assert not np.array_equal(weights(0), weights(1))
    assert not np.array_equal(weights(None), weights(None))


def test_uniform_passed_in():
    layer = nn.Conv2D(8, (3, 3), in_channels=8)
    layer.initialize(init.Uniform(0.5), seed=0)
    weight = layer.weight.data()
    assert np.all(np.abs(weight) <= 0.5) and np.abs(weight).max() > 0.4
    np.testing.assert_array_equal(layer.bias.data(), 0)  # the bias keeps its own zeros


def test_normal_passed_in():
    layer = nn.Conv2D(8, (3, 3), in_channels=8)
    layer.initialize(init.Normal(sigma=2.0), seed=0)
    weight = layer.weight.data()
    assert 1.8 < weight.std() < 2.2 and abs(weight.mean()) < 0.3


@pytest.mark.parametrize("value", [0.25, [[[[0.25, -1.0]]]], np.array([[[[0.25, -1.0]]]])])
def test_constant_passed_in(value):
    layer = nn.Conv2D(1, (1, 2), in_channels=1)
    layer.initialize(init.Constant(value))
    np.testing.assert_array_equal(layer.weight.data(), np.broadcast_to(value, (1, 1, 1, 2)))
    assert layer.weight.data().dtype == np.float32


def test_one_and_zero():
    assert np.all(init.One()((2, 3), np.float64, None) == 1)
    assert np.all(init.Zero()((2, 3), np.float64, None) == 0)


def test_constant_of_wrong_shape_raises():
    layer = nn.Conv2D(1, (1, 2), in_channels=1)
    with pytest.raises(ValueError, match=r"Constant: value has shape \(2, 2\).*\(1, 1, 1, 2\)"):
        layer.initialize(init.Constant(np.ones((2, 2))))


def test_constant_of_wrong_shape_on_a_deferred_layer_changes_nothing():
    layer = nn.Conv2D(1, (1, 2))
    layer.initialize(init.Constant(np.ones((2, 2))))
    before = snapshot(layer)
    with pytest.raises(ValueError, match=r"Constant: value has shape \(2, 2\)"):
        layer(X)
    assert_unchanged(layer, before)  # still deferred, weight shape still (1, 0, 1, 2)
    with pytest.raises(DeferredInitializationError):
        layer.weight.data()


@pytest.mark.parametrize("make", [lambda: init.Uniform(0), lambda: init.Uniform(-1),
                                  lambda: init.Normal(0)])
def test_initializer_scale_must_be_positive(make):
    with pytest.raises(ValueError, match="must be a finite positive number"):
        make()


def test_a_parameter_initializer_wins_over_the_blocks():
    class Block(nn.Block):
        def __init__(self):
            super().__init__()
            self.a = self.params.get("a", shape=(2,), init=init.One())
            self.b = self.params.get("b", shape=(2,))

    block = Block()
    block.initialize(init.Constant(3.0))
    np.testing.assert_array_equal(block.a.data(), 1)
    np.testing.assert_array_equal(block.b.data(), 3)


# --------------------------------------------------------------------- failures change nothing
def test_mismatched_input_to_a_layer_with_in_channels_changes_nothing():
    layer = nn.Conv2D(1, (1, 2), in_channels=2)
    layer.initialize(seed=0)
    before = snapshot(layer)
    with pytest.raises(ValueError, match=r"x has 3 channels.*\(1, 2, 1, 2\) expects 2"):
        layer(np.ones((1, 3, 6, 8)))
    assert_unchanged(layer, before)


@pytest.mark.parametrize("bad, error", [
    (np.ones((6, 8)), ValueError),  # 2-D: not reshaped
    (np.ones((1, 6, 8)), ValueError),  # 3-D
    (np.ones((1, 1, 6, 1)), ValueError),  # narrower than the kernel
    (np.array([[[["a", "b"]]]]), TypeError),  # strings
    (np.ones((1, 1, 6, 8), complex), TypeError),
])
def test_a_bad_input_to_a_deferred_layer_leaves_it_uninitialized(bad, error):
    layer = nn.Conv2D(1, (1, 2))
    layer.initialize(seed=0)
    before = snapshot(layer)
    with pytest.raises(error, match="Conv2D"):
        layer(bad)
    assert_unchanged(layer, before)
    with pytest.raises(DeferredInitializationError):
        layer.weight.data()
    layer(np.ones((1, 2, 6, 8)))  # a good input still works, and draws what a fresh layer draws
    fresh = nn.Conv2D(1, (1, 2), in_channels=2)
    fresh.initialize(seed=0)
    np.testing.assert_array_equal(layer.weight.data(), fresh.weight.data())


# --------------------------------------------------------------------- cast and set_data
def test_cast_to_float64_keeps_the_values():
    layer = nn.Conv2D(2, (1, 2), in_channels=1)
    layer.initialize(seed=0)
    weight32 = layer.weight.data().copy()
    layer.cast("float64")
    assert layer.weight.data().dtype == layer.bias.data().dtype == np.float64
    assert layer.weight.grad().dtype == np.float64 and layer.weight.dtype == np.float64
    np.testing.assert_array_equal(layer.weight.data(), weight32)
    assert layer(X).dtype == np.float64


def test_cast_before_deferred_initialization_applies_when_drawn():
    layer = nn.Conv2D(1, (1, 2))
    layer.initialize(seed=0)
    layer.cast("float64")
    layer(X)
    assert layer.weight.data().dtype == np.float64


def test_cast_to_float32_gives_float32_outputs():
    layer = nn.Conv2D(1, (1, 2), in_channels=1)
    layer.initialize(seed=0)
    assert layer(X.astype(np.float32)).dtype == np.float32


def test_cast_to_a_non_float_raises():
    layer = nn.Conv2D(1, (1, 2), in_channels=1)
    layer.initialize(seed=0)
    with pytest.raises(TypeError, match=r"Conv2D.cast: dtype must be a floating-point type .*"
                                        r"got 'int32'"):
        layer.cast("int32")
    assert layer.weight.data().dtype == np.float32


def test_cast_parameter_is_still_trained_in_place():
    layer = nn.Conv2D(1, (1, 2), in_channels=1)
    layer.initialize(init.Constant(SEED_KERNEL))
    layer.cast("float64")
    with autograd.record():
        loss = (layer(X) - Y) ** 2
    loss.backward()
    assert np.any(layer.weight.grad() != 0)  # backward writes the new float64 gradient


def test_set_data():
    layer = nn.Conv2D(1, (1, 2), in_channels=1)
    layer.initialize(seed=0)
    array = layer.weight.data()
    layer.weight.set_data([[[[1, -1]]]])
    assert layer.weight.data() is array  # in place
    np.testing.assert_array_equal(array, [[[[1, -1]]]])
    np.testing.assert_array_equal(layer(X)[0, 0], corr2d(stripes(), [[1, -1]]))


def test_set_data_of_wrong_shape_raises_and_changes_nothing():
    layer = nn.Conv2D(1, (1, 2), in_channels=1)
    layer.initialize(seed=0)
    before = snapshot(layer)
    with pytest.raises(ValueError, match=r"weight\.set_data: value has shape \(2,\), "
                                         r"expected \(1, 1, 1, 2\)"):
        layer.weight.set_data([1.0, -1.0])
    assert_unchanged(layer, before)


def test_zero_grad():
    layer = nn.Conv2D(1, (1, 2), in_channels=1)
    layer.initialize(seed=0)
    with autograd.record():
        loss = (layer(X) - Y) ** 2
    loss.backward()
    assert np.any(layer.weight.grad() != 0)
    layer.collect_params().zero_grad()
    np.testing.assert_array_equal(layer.weight.grad(), 0)
    np.testing.assert_array_equal(layer.bias.grad(), 0)


def test_data_is_the_array_outside_record_and_a_tensor_sharing_it_inside():
    layer = nn.Conv2D(1, (1, 2), in_channels=1)
    layer.initialize(seed=0)
    array = layer.weight.data()
    assert isinstance(array, np.ndarray)
    with autograd.record():
        tensor = layer.weight.data()
    assert isinstance(tensor, autograd.Tensor) and tensor.data is array


# --------------------------------------------------------------------- the seed's training loop
def train(layer, X, Y, steps, lr=3e-2):
    """The seed's loop: squared error, record, backward, a step on the weight (bias ignored)."""
    losses = []
    for _ in range(steps):
        with autograd.record():
            Y_hat = layer(X)
            loss = (Y_hat - Y) ** 2
        loss.backward()
        layer.weight.data()[:] -= lr * layer.weight.grad()
        losses.append(float(loss.sum()))
    return losses


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_seeds_training_reproduces_its_printed_losses(dtype, capsys):
    layer = nn.Conv2D(1, kernel_size=(1, 2))
    layer.initialize(init.Constant(SEED_KERNEL))
    layer.cast(dtype)
    losses = train(layer, X.astype(dtype), Y.astype(dtype), 10)
    printed = ["batch %d, loss %.3f" % (i + 1, losses[i]) for i in range(1, 10, 2)]
    assert printed == ["batch 2, loss 4.949", "batch 4, loss 0.831", "batch 6, loss 0.140",
                       "batch 8, loss 0.024", "batch 10, loss 0.004"]
    weight = layer.weight.data()
    assert weight.dtype == dtype and layer.bias.data()[0] == 0
    if dtype == "float64":
        np.testing.assert_array_equal(weight.astype(np.float32).reshape(2),
                                      np.float32([0.9895, -0.9873705]))
    else:  # float32 rounds differently in the last digit
        np.testing.assert_allclose(weight.reshape(2), [0.9895, -0.9873705], atol=1e-6)


def test_the_seeds_gradient_is_corr2d_of_the_residual():
    layer = nn.Conv2D(1, kernel_size=(1, 2))
    layer.initialize(init.Constant(SEED_KERNEL))
    layer.cast("float64")
    with autograd.record():
        Y_hat = layer(X)
        loss = (Y_hat - Y) ** 2
    loss.backward()
    expected = corr2d(X[0, 0], 2 * (Y_hat.data - Y)[0, 0])  # (1, 2)
    np.testing.assert_allclose(layer.weight.grad()[0, 0], expected, rtol=1e-12)


def test_training_from_a_seeded_random_start_converges():
    layer = nn.Conv2D(1, kernel_size=(1, 2))
    layer.initialize(seed=0)
    losses = train(layer, X, Y, 30)
    assert losses[-1] < 1e-3
    assert all(later < earlier for earlier, later in zip(losses, losses[1:]))
    np.testing.assert_allclose(layer.weight.data().reshape(2), [1, -1], atol=1e-2)


class SeedConv2D(nn.Block):
    """The seed's own layer: a kernel-shaped weight, one bias, forward by corr2d."""

    def __init__(self, kernel_size, **kwargs):
        super().__init__(**kwargs)
        self.weight = self.params.get("weight", shape=kernel_size)
        self.bias = self.params.get("bias", shape=(1,))

    def forward(self, x):
        return corr2d(x, self.weight.data()) + self.bias.data()


def test_the_seeds_custom_layer_trains():
    layer = SeedConv2D(kernel_size=(1, 2))
    layer.initialize(seed=0)
    assert list(layer.collect_params()) == ["weight", "bias"]
    assert layer.weight.shape == (1, 2) and layer.bias.shape == (1,)
    assert abs(layer.bias.data()[0]) <= 0.07  # drawn, not zeroed: no initializer of its own
    X2, Y2 = stripes(), corr2d(stripes(), [[1, -1]])
    # The bias gradient sums 42 outputs, so its step must be smaller than the seed's 3e-2.
    losses = []
    for _ in range(60):
        with autograd.record():
            loss = (layer(X2) - Y2) ** 2
        loss.backward()
        for param in layer.collect_params().values():
            param.data()[:] -= 1e-2 * param.grad()
        losses.append(float(loss.sum()))
    assert losses[-1] < 1e-3 < losses[0]
    np.testing.assert_allclose(layer.weight.data(), [[1, -1]], atol=2e-2)
    assert abs(layer.bias.data()[0]) < 1e-3


# --------------------------------------------------------------------- state after a failed call
def test_zero_input_channels_raise_and_leave_the_layer_usable():
    layer = nn.Conv2D(1, kernel_size=2)
    layer.initialize(seed=0)
    before = snapshot(layer)
    with pytest.raises(ValueError, match=r"Conv2D: x has 0 channels \(shape \(1, 0, 3, 3\)\)"):
        layer(np.ones((1, 0, 3, 3)))
    assert_unchanged(layer, before)  # the weight is still (1, 0, 2, 2), deferred
    assert layer(np.ones((1, 2, 3, 3))).shape == (1, 1, 2, 2)  # a later valid call works


class TwoParams(nn.Block):
    def __init__(self, second_init):
        super().__init__()
        self.a = self.params.get("a", shape=(2,))
        self.b = self.params.get("b", shape=(3,), init=second_init)


@pytest.mark.parametrize("force_reinit", [False, True])
def test_initialize_that_fails_on_the_second_parameter_changes_none(force_reinit):
    block = TwoParams(init.Constant([1.0, 2.0]))  # the wrong shape for b: fails when drawn
    if force_reinit:
        block.a.initialize(init.One())
    before = snapshot(block)
    with pytest.raises(ValueError, match=r"Constant: value has shape \(2,\).*\(3,\)"):
        block.initialize(seed=0, force_reinit=force_reinit)
    assert_unchanged(block, before)


@pytest.mark.parametrize("seed, error, match", [
    ("abc", TypeError, "seed must be None or an int >= 0, got 'abc'"),
    (-1, ValueError, "seed must be None or an int >= 0, got -1"),
    (1.5, TypeError, "seed must be None or an int >= 0"),
    (True, TypeError, "seed must be None or an int >= 0"),
])
def test_a_bad_seed_is_named_and_changes_nothing(seed, error, match):
    layer = nn.Conv2D(2, 2, in_channels=1)
    before = snapshot(layer)
    with pytest.raises(error, match=match):
        layer.initialize(seed=seed)
    assert_unchanged(layer, before)
    layer.initialize(seed=np.int64(3))  # NumPy ints are ints


# --------------------------------------------------------------------- initializers by name
@pytest.mark.parametrize("name, expected", [
    ("uniform", init.Uniform), ("Uniform", init.Uniform), ("normal", init.Normal),
    ("zeros", init.Zero), ("zero", init.Zero), ("ones", init.One), ("one", init.One),
])
def test_initialize_accepts_gluons_names(name, expected):
    layer = nn.Conv2D(2, 2, in_channels=1)
    layer.initialize(init=name, seed=0)
    reference = nn.Conv2D(2, 2, in_channels=1)
    reference.initialize(init=expected(), seed=0)
    np.testing.assert_array_equal(layer.weight.data(), reference.weight.data())
    param = nn.Parameter("w", shape=(2,), init=name)
    assert isinstance(param.init, expected)


@pytest.mark.parametrize("bad, error, match", [
    ("junk", ValueError, r"unknown initializer name 'junk'; expected one of 'uniform'"),
    (init.Normal, TypeError, r"init is the class Normal; pass an instance, e.g. "
                             r"init=init.Normal\(\)"),
    (0.5, TypeError, r"init must be an initializer such as init.Uniform\(0.07\)"),
])
def test_a_bad_initializer_is_named_and_changes_nothing(bad, error, match):
    layer = nn.Conv2D(2, 2, in_channels=1)
    before = snapshot(layer)
    with pytest.raises(error, match=match):
        layer.initialize(init=bad, seed=0)
    assert_unchanged(layer, before)


@pytest.mark.parametrize("make, error, match", [
    (lambda: init.Uniform(np.inf), ValueError, "Uniform: scale must be a finite positive number"),
    (lambda: init.Normal(np.inf), ValueError, "Normal: sigma must be a finite positive number"),
    (lambda: init.Normal(np.nan), ValueError, "Normal: sigma must be a finite positive number"),
    (lambda: init.Uniform("0.1"), TypeError, "Uniform: scale must be a positive number"),
    (lambda: init.Uniform(None), TypeError, "Uniform: scale must be a positive number"),
    (lambda: init.Constant([[1.0], [2.0, 3.0]]), ValueError,
     "Constant: value must be an array or nested lists of equal lengths"),
    (lambda: init.Constant("a"), TypeError, "Constant: value must hold real numbers"),
])
def test_initializer_arguments_are_checked_when_made(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_an_initializer_that_overflows_the_dtype_says_so():
    layer = nn.Conv2D(1, 1, in_channels=1)
    before = snapshot(layer)
    with pytest.raises(ValueError, match=r"Uniform\(scale=1e\+300\).*do not fit in float32"):
        layer.initialize(init=init.Uniform(1e300), seed=0)
    assert_unchanged(layer, before)


# --------------------------------------------------------------------- parameters' dtype and shape
@pytest.mark.parametrize("kwargs, error, match", [
    (dict(dtype="junk"), TypeError, r"Parameter w: dtype must be a floating-point type .* got "
                                    r"'junk'"),
    (dict(dtype=np.int32), TypeError, "an integer parameter could not take gradient steps"),
    (dict(dtype=bool), TypeError, "dtype must be a floating-point type"),
    (dict(shape=(2, -1)), ValueError, r"Parameter w: shape must hold sizes >= 0 .* got \(2, -1\)"),
    (dict(shape=(2, 1.5)), TypeError, r"Parameter w: shape must be a tuple of ints"),
    (dict(shape="ab"), TypeError, r"Parameter w: shape must be a tuple of ints"),
])
def test_parameter_checks_its_dtype_and_shape_when_made(kwargs, error, match):
    with pytest.raises(error, match=match):
        nn.Parameter("w", **kwargs)


def test_parameter_shape_as_an_int():
    assert nn.Parameter("w", shape=3).shape == (3,)
    assert nn.Parameter("w", shape=np.int64(2)).shape == (2,)


@pytest.mark.parametrize("dtype", ["junk", "int64", np.complex64])
def test_cast_to_a_bad_dtype_names_it_and_casts_nothing(dtype):
    layer = nn.Conv2D(1, (1, 2), in_channels=1)
    layer.initialize(seed=0)
    before = snapshot(layer)
    with pytest.raises(TypeError, match=r"Conv2D.cast: dtype must be a floating-point type"):
        layer.cast(dtype)
    with pytest.raises(TypeError, match=r"Parameter weight.cast: dtype must be a floating-point"):
        layer.weight.cast(dtype)
    assert_unchanged(layer, before)


# --------------------------------------------------------------------- blocks and their parameters
def test_a_never_initialized_layer_names_its_weight():
    layer = nn.Conv2D(1, 2, in_channels=1)
    with pytest.raises(RuntimeError, match=r"Parameter weight has not been initialized"):
        layer(np.ones((1, 1, 3, 3)))


def test_parameterdict_get_refuses_another_shape_or_dtype():
    params = nn.ParameterDict()
    w = params.get("w", shape=(2, 3))
    assert params.get("w") is w and params.get("w", shape=(2, 3)) is w
    assert params.get("w", shape=(0, 3)) is w  # 0: a size not known yet matches any
    with pytest.raises(ValueError, match=r"parameter 'w' already exists with shape \(2, 3\), but "
                                         r"shape \(3,\) was asked for"):
        params.get("w", shape=(3,))
    with pytest.raises(ValueError, match=r"already exists with shape \(2, 3\), but shape \(2, 4\)"):
        params.get("w", shape=(2, 4))
    with pytest.raises(ValueError, match="already exists with dtype float32, but dtype float64"):
        params.get("w", dtype="float64")
    assert list(params) == ["w"] and params["w"].shape == (2, 3)


class Outer(nn.Block):
    def __init__(self):
        super().__init__()
        self.first = nn.Conv2D(1, 1, in_channels=1)
        self.second = nn.Conv2D(1, 1, in_channels=1)


@pytest.mark.parametrize("remove", [lambda b: setattr(b, "first", None),
                                    lambda b: delattr(b, "first")])
def test_a_child_replaced_by_none_or_deleted_leaves_collect_params(remove):
    block = Outer()
    remove(block)
    assert list(block.collect_params()) == ["second.weight", "second.bias"]
    block.initialize(seed=0)  # and initialize() does not reach the removed child
    block.first = nn.Conv2D(2, 1, in_channels=1)  # a new child takes the name again
    assert "first.weight" in block.collect_params()


def test_zero_grad_of_a_block_skips_parameters_not_drawn_yet():
    layer = nn.Conv2D(1, 2)
    layer.initialize(seed=0)  # the weight waits for the first input, the bias is drawn
    layer.bias.grad()[...] = 5.0
    layer.collect_params().zero_grad()
    np.testing.assert_array_equal(layer.bias.grad(), 0.0)
    with pytest.raises(DeferredInitializationError):
        layer.weight.zero_grad()  # asked of the one parameter, it says why it cannot


def test_sequential_forward_does_not_rebuild_the_parameter_dict(monkeypatch):
    net = nn.Sequential()
    net.add(nn.Dense(4, activation="relu"), nn.Dense(2))
    net.initialize(seed=0)
    expected = net(np.ones((3, 5)))  # the first call learns the shapes

    def refuse(self):
        raise AssertionError("collect_params called in forward")

    monkeypatch.setattr(nn.Block, "collect_params", refuse)
    np.testing.assert_array_equal(net(np.ones((3, 5))), expected)
    assert [p.shape for p in net._all_params()] == [(4, 5), (4,), (2, 4), (2,)]
