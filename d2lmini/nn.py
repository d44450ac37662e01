"""Layers: ``Parameter``, ``Block``, ``Conv2D`` and the rest of LeNet's (``Dense``, ``Activation``,
``Flatten``, ``MaxPool2D``, ``AvgPool2D``, ``Sequential``), with the names and habits of
``mxnet.gluon.nn``.

A :class:`Block` owns :class:`Parameter` objects (``self.params.get('weight', shape=...)``) and
computes in ``forward``; calling the block runs ``forward``. ``initialize()`` gives every
parameter its first value, or, when part of its shape is still unknown (0), waits for the first
call to learn it: gluon's *deferred initialization*. Taught in notebook 02; trained in 04;
the pooling layers in 07, a whole network in 08.

>>> import numpy as np
>>> layer = Conv2D(1, kernel_size=(1, 2))
>>> layer.initialize(seed=0)
>>> layer(np.ones((1, 3, 6, 8))).shape
(1, 1, 6, 7)
>>> layer.weight
Parameter weight (shape=(1, 3, 1, 2), dtype=float32)
"""
import math
import numbers
import warnings

import numpy as np

from . import autograd
from .activation import _relu_in_place, relu, sigmoid, tanh
from .autograd import unwrap
from .conv import _check_fits, _conv2d, _float_array, _one_dtype, _pair
from .init import Uniform, Zero, create
from .pool import _check_pool_args, _check_windows, _pool2d

__all__ = ["Parameter", "ParameterDict", "Block", "Conv2D", "DeferredInitializationError",
           "Dense", "Activation", "Flatten", "Sequential", "MaxPool2D", "AvgPool2D"]


class DeferredInitializationError(RuntimeError):
    """A parameter's value was asked for before its block saw an input to infer its shape."""


def _float_dtype(func, dtype):
    """``np.dtype(dtype)`` if it is a floating-point type, else a clear TypeError."""
    try:
        result = np.dtype(dtype)
    except TypeError:
        result = None
    if result is None or result.kind != "f":
        raise TypeError(
            f"{func}: dtype must be a floating-point type such as 'float32' or 'float64', got "
            f"{dtype!r}" + ("; an integer parameter could not take gradient steps"
                            if result is not None and result.kind in "biu" else "")
        )
    return result


def _shape(func, shape):
    """``shape`` (an int or a sequence of ints, 0 for a size to infer) as a tuple of ints."""
    dims = (shape,) if isinstance(shape, (numbers.Integral, np.integer)) else shape
    try:
        dims = tuple(dims)
    except TypeError:
        dims = None
    if dims is None or not all(isinstance(d, (numbers.Integral, np.integer))
                               and not isinstance(d, bool) for d in dims):
        raise TypeError(f"{func}: shape must be a tuple of ints, got {shape!r}")
    if any(d < 0 for d in dims):
        raise ValueError(
            f"{func}: shape must hold sizes >= 0 (0 for a size inferred from the first input), "
            f"got {shape!r}"
        )
    return tuple(int(d) for d in dims)


def _generator(func, seed):
    """A NumPy generator seeded with ``seed`` (None, or an int >= 0)."""
    if seed is not None and (not isinstance(seed, (numbers.Integral, np.integer))
                             or isinstance(seed, bool)):
        raise TypeError(f"{func}: seed must be None or an int >= 0, got {seed!r}")
    if seed is not None and seed < 0:
        raise ValueError(f"{func}: seed must be None or an int >= 0, got {seed!r}")
    return np.random.default_rng(seed)


class Parameter:
    """A named array a block learns, with the gradient ``backward()`` writes for it.

    Args:
        name: the name ``collect_params()`` lists it under.
        shape: a tuple; a 0 marks a size to infer from the first input.
        dtype: float32 by default, as in gluon.
        init: an initializer of its own (``d2lmini.init``); None takes the one given to
            ``initialize``.

    ``data()`` is the array itself: update it in place (``p.data()[:] -= lr * p.grad()``).
    While ``autograd.record()`` is on, ``data()`` hands out a Tensor wrapping that same array,
    so what is computed from it is taped and ``backward()`` writes ``grad()``.
    """

    def __init__(self, name, shape=(), dtype=np.float32, init=None):
        self.name = name
        self.shape = _shape(f"Parameter {name}", shape)
        self.dtype = _float_dtype(f"Parameter {name}", dtype)
        self.init = None if init is None else create(init, f"Parameter {name}")
        self._data = self._grad = self._leaf = None
        self._deferred = None  # (initializer, rng) until the shape is known

    def __repr__(self):
        return f"Parameter {self.name} (shape={self.shape}, dtype={self.dtype})"

    def initialize(self, init=None, rng=None, force_reinit=False):
        """Draw the first value (now, or at the first forward if the shape has a 0).

        An initialized parameter is left as it is, with a warning (as gluon), unless
        ``force_reinit`` is true; then it is drawn again.
        """
        self._apply_init(self._plan_init(init, rng, force_reinit), stacklevel=3)

    def _plan_init(self, init, rng, force_reinit):
        """What ``initialize`` will do, drawn but not applied: a failure here changes nothing."""
        if self._data is not None and not force_reinit:
            return "keep", None
        initializer = self.init or (None if init is None else create(init)) or Uniform()
        rng = np.random.default_rng() if rng is None else rng
        if 0 in self.shape:
            return "defer", (initializer, rng)
        return "set", initializer(self.shape, self.dtype, rng)

    def _apply_init(self, plan, stacklevel):
        what, value = plan
        if what == "keep":
            warnings.warn(f"Parameter '{self.name}' is already initialized, ignoring. Set "
                          "force_reinit=True to re-initialize.", stacklevel=stacklevel)
        elif what == "defer":
            self._deferred = value
        else:
            self._set(value)

    def _finish_deferred_init(self, shape):
        """Learn the unknown sizes from the first input and draw the value then."""
        if self._deferred is None:
            self._check_initialized("data")
        initializer, rng = self._deferred
        value = initializer(tuple(shape), self.dtype, rng)  # may raise: then nothing changes
        self.shape, self._deferred = tuple(shape), None
        self._set(value)

    def _set(self, array):
        self._data = array
        self._grad = np.zeros_like(array)
        self._leaf = autograd.Tensor(array)  # shares the array: in-place updates show through
        self._leaf.requires_grad = True
        self._leaf._parameter = self

    def _check_initialized(self, what):
        if self._data is not None:
            return
        if self._deferred is not None:
            raise DeferredInitializationError(
                f"Parameter {self.name}: {what}() is not available yet because its shape "
                f"{self.shape} has unknown (0) sizes; they are inferred when the block is first "
                "called on an input (deferred initialization)"
            )
        raise RuntimeError(
            f"Parameter {self.name} has not been initialized: call initialize() on its block first"
        )

    def data(self):
        """The value: the array itself, or, while recording, a Tensor wrapping it."""
        if self._data is None:
            self._check_initialized("data")  # raises, saying why
        return self._leaf if autograd.is_recording() else self._data

    def grad(self):
        """The gradient the last ``backward()`` wrote (zeros before the first)."""
        self._check_initialized("grad")
        return self._grad

    def set_data(self, value):
        """Overwrite the value in place with an array of the same shape."""
        self._check_initialized("set_data")
        value = _float_array(f"Parameter {self.name}.set_data", "value", value)
        if value.shape != self.shape:
            raise ValueError(
                f"Parameter {self.name}.set_data: value has shape {value.shape}, expected "
                f"{self.shape}"
            )
        self._data[...] = value

    def zero_grad(self):
        """Set the gradient to zeros."""
        self._check_initialized("zero_grad")
        self._grad[...] = 0

    def cast(self, dtype):
        """Store the value (now or once drawn) in another floating-point dtype."""
        dtype = _float_dtype(f"Parameter {self.name}.cast", dtype)
        self.dtype = dtype
        if self._data is not None:
            self._set(self._data.astype(dtype))


class ParameterDict:
    """An ordered collection of parameters by name, as ``block.params`` and ``collect_params()``."""

    def __init__(self, items=()):
        self._params = dict(items)

    def get(self, name, **kwargs):
        """Return the parameter ``name``, creating it with ``Parameter(name, **kwargs)`` if new.

        An existing parameter is returned only if the ``shape`` and ``dtype`` asked for agree
        with its own (a 0 in either shape matches any size), as gluon asserts.
        """
        if name not in self._params:
            self._params[name] = Parameter(name, **kwargs)
            return self._params[name]
        param = self._params[name]
        if "shape" in kwargs:
            shape = _shape(f"ParameterDict.get({name!r})", kwargs["shape"])
            if len(shape) != len(param.shape) or any(
                    a and b and a != b for a, b in zip(shape, param.shape)):
                raise ValueError(
                    f"ParameterDict.get: parameter {name!r} already exists with shape "
                    f"{param.shape}, but shape {shape} was asked for"
                )
        if "dtype" in kwargs:
            dtype = _float_dtype(f"ParameterDict.get({name!r})", kwargs["dtype"])
            if dtype != param.dtype:
                raise ValueError(
                    f"ParameterDict.get: parameter {name!r} already exists with dtype "
                    f"{param.dtype}, but dtype {dtype} was asked for"
                )
        return param

    def __getitem__(self, name):
        return self._params[name]

    def __iter__(self):
        return iter(self._params)

    def __len__(self):
        return len(self._params)

    def keys(self):
        return self._params.keys()

    def values(self):
        return self._params.values()

    def items(self):
        return self._params.items()

    def initialize(self, init=None, seed=None, force_reinit=False):
        """Initialize every parameter from one random generator seeded with ``seed``.

        Every value is drawn before any is stored: if one initializer fails, no parameter
        changes.
        """
        self._initialize(init, seed, force_reinit)

    def _initialize(self, init, seed, force_reinit, stacklevel=4):
        rng = _generator("initialize", seed)
        init = None if init is None else create(init)
        plans = [(param, param._plan_init(init, rng, force_reinit)) for param in self.values()]
        for param, plan in plans:
            param._apply_init(plan, stacklevel)  # the warning points at the caller's line

    def zero_grad(self):
        """Set every gradient to zeros; a parameter not drawn yet has none and is skipped (gluon)."""
        for param in self.values():
            if param._data is not None:
                param.zero_grad()

    def __repr__(self):
        lines = "".join(f"\n  {name}: {param!r}" for name, param in self.items())
        return f"ParameterDict({lines}\n)" if lines else "ParameterDict()"


class Block:
    """Base class of every layer and model: holds parameters and child blocks.

    Subclasses call ``super().__init__()``, create parameters with ``self.params.get(...)``,
    assign child blocks as attributes, and define ``forward``.
    """

    def __init__(self):
        self.params = ParameterDict()
        self._children = {}

    def __setattr__(self, name, value):
        if isinstance(value, Block):
            if "_children" not in self.__dict__:
                raise RuntimeError(
                    f"{type(self).__name__}: call super().__init__() before assigning blocks"
                )
            self._children[name] = value
        elif name in self.__dict__.get("_children", {}):  # a child replaced by a non-block
            del self._children[name]
        super().__setattr__(name, value)

    def __delattr__(self, name):
        self.__dict__.get("_children", {}).pop(name, None)
        super().__delattr__(name)

    def _all_params(self):
        """Every parameter of this block and its children, in a list, without names (cheap: no
        dicts)."""
        params = list(self.params.values())
        for child in self._children.values():
            params += child._all_params()
        return params

    def collect_params(self):
        """All parameters of this block and its children; a child's names are prefixed 'child.'."""
        items = list(self.params.items())
        for child_name, child in self._children.items():
            items += [(f"{child_name}.{name}", p) for name, p in child.collect_params().items()]
        return ParameterDict(items)

    def initialize(self, init=None, seed=None, force_reinit=False):
        """Give every parameter its first value.

        Args:
            init: the initializer for parameters without their own (default
                ``init.Uniform(0.07)``, as gluon; a ``Conv2D`` bias keeps its zeros).
            seed: seeds one NumPy generator for all draws, so the values are reproducible;
                None draws fresh values each time.
            force_reinit: re-draw parameters that already have a value.
        """
        self.collect_params()._initialize(init, seed, force_reinit)

    def cast(self, dtype):
        """Cast every parameter to ``dtype`` (e.g. ``'float64'``), as gluon's ``Block.cast``."""
        dtype = _float_dtype(f"{type(self).__name__}.cast", dtype)  # checked before any cast
        for param in self.collect_params().values():
            param.cast(dtype)

    def __call__(self, *args):
        return self.forward(*args)

    def forward(self, *args):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")


class Conv2D(Block):
    """A 2-D convolutional layer (cross-correlation, as in every deep-learning library).

    Args:
        channels: number of output channels, C_out.
        kernel_size: an int or a pair (kh, kw).
        strides, padding: as in :func:`d2lmini.conv2d`.
        activation: None, or the name of a function applied to the output: ``'relu'``,
            ``'sigmoid'`` or ``'tanh'`` (as ``nn.Activation``).
        use_bias: whether to add one learned number per output channel.
        in_channels: C_in; 0 (the default) infers it from the first input.

    Input (N, C_in, H, W); output (N, C_out, H_out, W_out). Parameters ``weight`` of shape
    (C_out, C_in, kh, kw), drawn from ``Uniform(0.07)`` by default, and ``bias`` of shape
    (C_out,), zeros. Taught in notebook 02.
    """

    def __init__(self, channels, kernel_size, strides=1, padding=0, activation=None,
                 use_bias=True, in_channels=0):
        super().__init__()
        self.act = None if activation is None else Activation(activation)
        for name, value, minimum in (("channels", channels, 1), ("in_channels", in_channels, 0)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
                raise TypeError(f"Conv2D: {name} must be an int, got {value!r}")
            if value < minimum:
                raise ValueError(f"Conv2D: {name} must be >= {minimum}, got {value!r}")
        self.kernel_size = _pair("Conv2D", "kernel_size", kernel_size, 1)
        self.strides = _pair("Conv2D", "strides", strides, 1)
        self.padding = _pair("Conv2D", "padding", padding, 0)
        self.weight = self.params.get("weight", shape=(channels, in_channels, *self.kernel_size))
        self.bias = self.params.get("bias", shape=(channels,), init=Zero()) if use_bias else None

    def __repr__(self):
        c_out, c_in = self.weight.shape[:2]
        return (f"Conv2D({c_in} -> {c_out}, kernel_size={self.kernel_size}, "
                f"strides={self.strides}, padding={self.padding})")

    def forward(self, x):
        # Check everything before deferred initialization, so a bad input changes nothing.
        array = _float_array("Conv2D", "x", x)
        shape = array.shape
        if len(shape) != 4:
            raise ValueError(
                f"Conv2D: x must be 4-D with axes (batch, channels, height, width), got shape "
                f"{shape}; reshape a single image with x.reshape((1, 1, H, W))"
            )
        c_out, c_in = self.weight.shape[:2]
        if shape[1] == 0:
            raise ValueError(f"Conv2D: x has 0 channels (shape {shape}); expected at least one")
        if c_in and shape[1] != c_in:
            raise ValueError(
                f"Conv2D: x has {shape[1]} channels (shape {shape}), but this layer's weight "
                f"{self.weight.shape} expects {c_in}"
            )
        padded = (shape[2] + 2 * self.padding[0], shape[3] + 2 * self.padding[1])
        _check_fits("Conv2D", "padded input", padded, "weight", self.kernel_size, self.padding)
        if self.weight._data is None and self.weight._deferred is not None:
            self.weight._finish_deferred_init((c_out, shape[1], *self.kernel_size))
        weight = self.weight.data()  # first: a layer never initialized names its weight
        bias = None if self.bias is None else self.bias.data()
        # all checked above (a parameter is a float array of its declared shape): the
        # arrays only need one dtype
        arrays = _one_dtype(array, unwrap(weight), unwrap(bias))
        out = _conv2d(x, weight, bias, *arrays, self.strides, self.padding)
        return out if self.act is None else self.act._of_new(out)


# --------------------------------------------------------------------- the chapter's other layers
_ACTIVATIONS = {"relu": relu, "sigmoid": sigmoid, "tanh": tanh}


class Activation(Block):
    """Apply an activation function by name: ``'relu'``, ``'sigmoid'`` or ``'tanh'``.

    The same functions as :func:`d2lmini.relu` and friends, as a layer for ``Sequential``;
    ``Dense`` and ``Conv2D`` make one for their ``activation=`` argument (notebook 08's LeNet).

    >>> Activation("relu")(np.array([[-1.0, 2.0]]))
    array([[0., 2.]])
    """

    def __init__(self, activation):
        super().__init__()
        if not isinstance(activation, str) or activation not in _ACTIVATIONS:
            raise ValueError(
                f"Activation: activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}"
            )
        self.activation = activation
        self._function = _ACTIVATIONS[activation]

    def __repr__(self):
        return f"Activation({self.activation})"

    def forward(self, x):
        return self._function(x)

    def _of_new(self, out):
        """The activation of a layer's own new output ``out`` (Dense, Conv2D): ReLU overwrites
        it, as no one else holds it; the others make a new array."""
        return _relu_in_place(out) if self.activation == "relu" else self._function(out)


def _dense(x, weight, bias, flatten):
    """``x @ weight.T + bias`` on the last axis (after flattening all but the first), taped."""
    a = _float_array("Dense", "x", x)
    w = _float_array("Dense", "weight", weight)
    b = None if bias is None else _float_array("Dense", "bias", bias)
    return _dense_of(x, weight, bias, *_one_dtype(a, w, b), flatten)


def _dense_of(x, weight, bias, a, w, b, flatten):
    """``_dense`` of the arguments x, weight, bias, whose checked arrays are a, w, b (one
    dtype); taped."""
    a2 = a.reshape((a.shape[0], -1)) if flatten else a  # (N, C, H, W) -> (N, C*H*W) if flatten
    y = a2 @ w.T  # (..., in_units) -> (..., units)
    if b is not None:
        y += b

    def backward(grad):  # grad: (..., units)
        g = grad.reshape((-1, w.shape[0]))  # (M, units)
        grad_x = None
        if isinstance(x, autograd.Tensor) and x.requires_grad:  # not for the network's input
            grad_x = (grad @ w).reshape(a.shape)  # (..., in_units) -> the shape of x
        grad_w = g.T @ a2.reshape((-1, w.shape[1]))  # (units, in_units)
        return grad_x, grad_w, None if b is None else g.sum(axis=0)

    return autograd.taped(y, (x, weight, bias), backward)


def _check_units(name, value, minimum):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
        raise TypeError(f"Dense: {name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"Dense: {name} must be >= {minimum}, got {value!r}")


class Dense(Block):
    """A fully connected layer: ``activation(x @ weight.T + bias)``, as ``gluon.nn.Dense``.

    Args:
        units: number of outputs.
        activation: None, or ``'relu'``, ``'sigmoid'``, ``'tanh'``.
        use_bias: whether to add a learned bias, one per output.
        flatten: True (default): an input (N, d1, d2, ...) is seen as (N, d1*d2*...);
            False: the layer acts on the last axis only, keeping the others.
        in_units: the number of inputs; 0 (default) infers it from the first input.

    Input (N, ...) ; output (N, units) (or (..., units) with ``flatten=False``). Parameters
    ``weight`` of shape (units, in_units), drawn from ``Uniform(0.07)`` by default, and
    ``bias`` of shape (units,), zeros. Taught in notebook 08.

    >>> layer = Dense(3, activation="relu")
    >>> layer.initialize(seed=0)
    >>> layer(np.ones((2, 1, 4, 4))).shape
    (2, 3)
    >>> layer.weight
    Parameter weight (shape=(3, 16), dtype=float32)
    """

    def __init__(self, units, activation=None, use_bias=True, flatten=True, in_units=0):
        super().__init__()
        _check_units("units", units, 1)
        _check_units("in_units", in_units, 0)
        self.act = None if activation is None else Activation(activation)
        self._flatten = bool(flatten)
        self.weight = self.params.get("weight", shape=(units, in_units))
        self.bias = self.params.get("bias", shape=(units,), init=Zero()) if use_bias else None

    def __repr__(self):
        units, in_units = self.weight.shape
        return f"Dense({in_units or None} -> {units}, {self.act if self.act else 'linear'})"

    def forward(self, x):
        array = _float_array("Dense", "x", x)
        shape = array.shape
        if len(shape) < (2 if self._flatten else 1):
            raise ValueError(
                f"Dense: x must have a batch axis and at least one more, got shape {shape}; "
                "reshape a single example with x.reshape((1, -1))"
            )
        in_units = math.prod(shape[1:]) if self._flatten else shape[-1]
        units, expected = self.weight.shape
        if in_units == 0:
            raise ValueError(f"Dense: x of shape {shape} has no features; expected at least 1")
        if expected and in_units != expected:
            raise ValueError(
                f"Dense: x of shape {shape} has {in_units} features, but this layer's weight "
                f"{self.weight.shape} expects {expected}"
                + (" (flatten=True counts all axes but the first)" if self._flatten else "")
            )
        if self.weight._data is None and self.weight._deferred is not None:
            self.weight._finish_deferred_init((units, in_units))
        weight = self.weight.data()
        bias = None if self.bias is None else self.bias.data()
        # a parameter is a float array of its declared shape: the arrays only need one dtype
        arrays = _one_dtype(array, unwrap(weight), unwrap(bias))
        out = _dense_of(x, weight, bias, *arrays, self._flatten)
        return out if self.act is None else self.act._of_new(out)


class Flatten(Block):
    """Flatten all axes but the first: (N, C, H, W) -> (N, C*H*W), as ``gluon.nn.Flatten``.

    >>> Flatten()(np.zeros((2, 3, 4, 5))).shape
    (2, 60)

    Taught in notebook 08.
    """

    def forward(self, x):
        shape = _float_array("Flatten", "x", x).shape
        if len(shape) < 1:
            raise ValueError(f"Flatten: x must have a batch axis, got a 0-D array")
        if not isinstance(x, autograd.Tensor):
            x = _float_array("Flatten", "x", x)
        return x.reshape((shape[0], math.prod(shape[1:])))  # (N, ...) -> (N, prod(...))

    def __repr__(self):
        return "Flatten"


class _Pool2D(Block):
    """The layer around :func:`d2lmini.pool2d`; no parameters."""

    _mode = None
    _name = None

    def __init__(self, pool_size=2, strides=None, padding=0):
        super().__init__()
        self.pool_size, self.strides, self.padding = _check_pool_args(
            self._name, pool_size, strides, padding)

    def __repr__(self):
        return (f"{self._name}(size={self.pool_size}, stride={self.strides}, "
                f"padding={self.padding})")

    def forward(self, x):
        array = _float_array(self._name, "x", x)
        if array.ndim != 4:
            raise ValueError(
                f"{self._name}: x must be 4-D with axes (batch, channels, height, width), got "
                f"shape {array.shape}; reshape a single image with x.reshape((1, 1, H, W))"
            )
        # the pairs were checked when the layer was made: only the input is checked here
        _check_windows(self._name, array, self.pool_size, self.padding)
        return _pool2d(x, self._mode, array, self.pool_size, self.strides, self.padding)


class MaxPool2D(_Pool2D):
    """Max pooling over (N, C, H, W), each channel on its own, as ``gluon.nn.MaxPool2D``.

    Args:
        pool_size: the window, an int or a pair; 2 by default.
        strides: step between windows; None (default) means ``pool_size``.
        padding: -inf added on each side, smaller than ``pool_size``.

    See :func:`d2lmini.pool2d` for the shapes, padding and gradients (ties: the first maximum
    in row-major order). Taught in notebook 07; used in notebook 08.

    >>> MaxPool2D(2)(np.arange(16.0).reshape(1, 1, 4, 4))
    array([[[[ 5.,  7.],
             [13., 15.]]]])
    """

    _mode, _name = "max", "MaxPool2D"


class AvgPool2D(_Pool2D):
    """Average pooling over (N, C, H, W), as ``gluon.nn.AvgPool2D`` (padded zeros counted).

    Args:
        pool_size, strides, padding: as for :class:`MaxPool2D`; the padding is zeros.

    Taught in notebook 07; LeNet's pooling in notebook 08.

    >>> AvgPool2D(2)(np.arange(16.0).reshape(1, 1, 4, 4))
    array([[[[ 2.5,  4.5],
             [10.5, 12.5]]]])
    """

    _mode, _name = "avg", "AvgPool2D"


class Sequential(Block):
    """A stack of blocks, each fed the output of the one before, as ``gluon.nn.Sequential``.

    ``add(*blocks)`` appends blocks; they are children named ``'0'``, ``'1'``, ... in order,
    so ``collect_params()`` names their parameters ``'0.weight'``, ``'0.bias'``, ``'1.weight'``
    (gluon 2's structured names; a Sequential inside another gives ``'2.0.weight'``).
    ``for layer in net`` visits the blocks in order, ``net[i]`` is the i-th, ``net[:2]`` a
    Sequential of the first two (the same blocks, so ``net[:2](X)`` shows what the first two
    layers make of X), ``len(net)`` their number.

    A call that fails part-way (a later layer refusing the shape the earlier ones produced)
    undoes the deferred initializations it had done, so the net is as before the call.

    >>> net = Sequential()
    >>> net.add(Dense(4, activation="relu"), Dense(2))
    >>> net.initialize(seed=0)
    >>> net(np.ones((3, 5))).shape
    (3, 2)
    >>> list(net.collect_params())
    ['0.weight', '0.bias', '1.weight', '1.bias']

    Taught in notebook 08.
    """

    def add(self, *blocks):
        """Append ``blocks`` in order (each a Block; checked before any is added)."""
        for i, block in enumerate(blocks):
            if not isinstance(block, Block):
                raise TypeError(
                    f"Sequential.add: blocks[{i}] must be a Block (a layer such as nn.Dense), "
                    f"got {type(block).__name__}"
                )
            if block is self:
                raise ValueError(f"Sequential.add: blocks[{i}] is this Sequential itself")
        for block in blocks:
            self._children[str(len(self._children))] = block

    def forward(self, x):
        waiting = [(p, p.shape, p._deferred) for p in self._all_params()
                   if p._data is None and p._deferred]
        rngs = {id(d[1]): (d[1], d[1].bit_generator.state) for _, _, d in waiting}
        try:
            for block in self._children.values():
                x = block(x)
        except Exception:
            for p, shape, deferred in waiting:  # back to waiting for a first input
                p.shape, p._deferred, p._data, p._grad, p._leaf = shape, deferred, None, None, None
            for rng, state in rngs.values():  # and the draws not yet made
                rng.bit_generator.state = state
            raise
        return x

    def __getitem__(self, index):
        """The block at ``index``; a slice gives a Sequential of those blocks (shared, no copy)."""
        blocks = list(self._children.values())[index]
        if not isinstance(index, slice):
            return blocks
        net = Sequential()
        net.add(*blocks)
        return net

    def __iter__(self):
        return iter(list(self._children.values()))  # ``for layer in net``: the blocks in order

    def __len__(self):
        return len(self._children)

    def __repr__(self):
        lines = "".join(f"\n  ({name}): {block!r}" for name, block in self._children.items())
        return f"Sequential({lines}\n)"
