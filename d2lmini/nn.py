"""Layers: ``Parameter``, ``Block`` and ``Conv2D``, with the names and habits of ``mxnet.gluon.nn``.

A :class:`Block` owns :class:`Parameter` objects (``self.params.get('weight', shape=...)``) and
computes in ``forward``; calling the block runs ``forward``. ``initialize()`` gives every
parameter its first value, or, when part of its shape is still unknown (0), waits for the first
call to learn it: gluon's *deferred initialization*. Taught in notebook 02; trained in 04.

>>> import numpy as np
>>> layer = Conv2D(1, kernel_size=(1, 2))
>>> layer.initialize(seed=0)
>>> layer(np.ones((1, 3, 6, 8))).shape
(1, 1, 6, 7)
>>> layer.weight
Parameter weight (shape=(1, 3, 1, 2), dtype=float32)
"""
import numbers
import warnings

import numpy as np

from . import autograd
from .conv import _check_fits, _float_array, _pair, conv2d
from .init import Uniform, Zero, create

__all__ = ["Parameter", "ParameterDict", "Block", "Conv2D", "DeferredInitializationError"]


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
        self._check_initialized("data")
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
        use_bias: whether to add one learned number per output channel.
        in_channels: C_in; 0 (the default) infers it from the first input.

    Input (N, C_in, H, W); output (N, C_out, H_out, W_out). Parameters ``weight`` of shape
    (C_out, C_in, kh, kw), drawn from ``Uniform(0.07)`` by default, and ``bias`` of shape
    (C_out,), zeros. Taught in notebook 02.
    """

    def __init__(self, channels, kernel_size, strides=1, padding=0, use_bias=True,
                 in_channels=0):
        super().__init__()
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
        shape = _float_array("Conv2D", "x", x).shape
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
        _check_fits("Conv2D", f"padded input (padding {self.padding})", padded, "weight",
                    self.kernel_size)
        if self.weight._data is None and self.weight._deferred is not None:
            self.weight._finish_deferred_init((c_out, shape[1], *self.kernel_size))
        weight = self.weight.data()  # first: a layer never initialized names its weight
        bias = None if self.bias is None else self.bias.data()
        return conv2d(x, weight, bias, self.strides, self.padding)
