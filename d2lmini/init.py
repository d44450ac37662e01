"""Initializers: how a parameter gets its first value, as ``mxnet.init`` names them.

An initializer is called with the parameter's shape, dtype and a NumPy random generator, and
returns the starting array. Pass one to ``Block.initialize(init=...)``. Taught in notebook 02.

>>> import numpy as np
>>> Uniform(0.07)((1, 2), np.float32, np.random.default_rng(0)).dtype
dtype('float32')
>>> Constant([[1.0, -1.0]])((1, 2), np.float64, None)
array([[ 1., -1.]])
"""
import numbers

import numpy as np

from .autograd import _as_float_array

__all__ = ["Initializer", "Uniform", "Normal", "Constant", "Zero", "One", "create"]


class Initializer:
    """Base class: subclasses implement ``_draw(shape, rng)``, returning float64 values."""

    def __call__(self, shape, dtype, rng):
        values = np.asarray(self._draw(tuple(shape), rng), dtype=np.float64)
        with np.errstate(over="ignore"):
            cast = values.astype(dtype)
        if not np.all(np.isfinite(cast) | ~np.isfinite(values)):
            raise ValueError(
                f"{self!r}: the values drawn do not fit in {np.dtype(dtype)} (they overflow to "
                "inf); expected a smaller scale"
            )
        return cast

    def _draw(self, shape, rng):
        raise NotImplementedError

    def __repr__(self):
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({fields})"


def _positive(func, name, value):
    """``value`` if it is a finite positive real number, else a clear error."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{func}: {name} must be a positive number, got {value!r}")
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"{func}: {name} must be a finite positive number, got {value!r}")
    return value


class Uniform(Initializer):
    """Values drawn uniformly from [-scale, scale]; gluon's default for weights, scale 0.07."""

    def __init__(self, scale=0.07):
        self.scale = _positive("Uniform", "scale", scale)

    def _draw(self, shape, rng):
        return rng.uniform(-self.scale, self.scale, size=shape)


class Normal(Initializer):
    """Values drawn from a normal distribution with mean 0 and standard deviation ``sigma``."""

    def __init__(self, sigma=0.01):
        self.sigma = _positive("Normal", "sigma", sigma)

    def _draw(self, shape, rng):
        return rng.normal(0.0, self.sigma, size=shape)


class Constant(Initializer):
    """A given value: a number for every entry, or an array of the parameter's exact shape."""

    def __init__(self, value):
        self.value = _as_float_array(value, "Constant", "value").astype(np.float64)

    def _draw(self, shape, rng):
        if self.value.ndim and self.value.shape != shape:
            raise ValueError(
                f"Constant: value has shape {self.value.shape}, but the parameter has shape "
                f"{shape}; expected a number or an array of shape {shape}"
            )
        return np.broadcast_to(self.value, shape).copy()

    def __repr__(self):
        return f"Constant({self.value.tolist()!r})"


class Zero(Constant):
    """All zeros; gluon's default for biases."""

    def __init__(self):
        super().__init__(0.0)


class One(Constant):
    """All ones."""

    def __init__(self):
        super().__init__(1.0)


# gluon's names for its initializers (``mx.init.create``), case-insensitive
_NAMES = {"uniform": Uniform, "normal": Normal, "zero": Zero, "zeros": Zero, "one": One,
          "ones": One}


def create(init, func="initialize"):
    """An initializer from what ``initialize(init=...)`` accepts, as gluon does.

    Args:
        init: an initializer (``init.Normal(0.01)``), or gluon's name of one with its default
            arguments ("uniform", "normal", "zeros", "ones").
        func: the name used in the error message.

    >>> create("normal")
    Normal(sigma=0.01)
    >>> create(Normal)
    Traceback (most recent call last):
    ...
    TypeError: initialize: init is the class Normal; pass an instance, e.g. init=init.Normal()
    """
    if isinstance(init, Initializer):
        return init
    if isinstance(init, type) and issubclass(init, Initializer):
        raise TypeError(
            f"{func}: init is the class {init.__name__}; pass an instance, e.g. "
            f"init=init.{init.__name__}()"
        )
    if isinstance(init, str):
        if init.lower() not in _NAMES:
            raise ValueError(
                f"{func}: unknown initializer name {init!r}; expected one of "
                f"{', '.join(map(repr, _NAMES))} or an initializer such as init.Uniform(0.07)"
            )
        return _NAMES[init.lower()]()
    if callable(init):  # a function (shape, dtype, rng) -> array works as an initializer
        return init
    raise TypeError(
        f"{func}: init must be an initializer such as init.Uniform(0.07) or its name, got {init!r}"
    )
