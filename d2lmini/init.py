"""Initializers: how a parameter gets its first value, as ``mxnet.init`` names them.

An initializer is called with the parameter's shape, dtype and a NumPy random generator, and
returns the starting array. Pass one to ``Block.initialize(init=...)``. Taught in notebook 02.

>>> import numpy as np
>>> Uniform(0.07)((1, 2), np.float32, np.random.default_rng(0)).dtype
dtype('float32')
>>> Constant([[1.0, -1.0]])((1, 2), np.float64, None)
array([[ 1., -1.]])
"""
import numpy as np

__all__ = ["Initializer", "Uniform", "Normal", "Constant", "Zero", "One"]


class Initializer:
    """Base class: subclasses implement ``_draw(shape, rng)``, returning float64 values."""

    def __call__(self, shape, dtype, rng):
        return np.asarray(self._draw(tuple(shape), rng), dtype=dtype)

    def _draw(self, shape, rng):
        raise NotImplementedError

    def __repr__(self):
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({fields})"


class Uniform(Initializer):
    """Values drawn uniformly from [-scale, scale]; gluon's default for weights, scale 0.07."""

    def __init__(self, scale=0.07):
        if not scale > 0:
            raise ValueError(f"Uniform: scale must be positive, got {scale!r}")
        self.scale = scale

    def _draw(self, shape, rng):
        return rng.uniform(-self.scale, self.scale, size=shape)


class Normal(Initializer):
    """Values drawn from a normal distribution with mean 0 and standard deviation ``sigma``."""

    def __init__(self, sigma=0.01):
        if not sigma > 0:
            raise ValueError(f"Normal: sigma must be positive, got {sigma!r}")
        self.sigma = sigma

    def _draw(self, shape, rng):
        return rng.normal(0.0, self.sigma, size=shape)


class Constant(Initializer):
    """A given value: a number for every entry, or an array of the parameter's exact shape."""

    def __init__(self, value):
        self.value = np.asarray(value, dtype=np.float64)

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
