"""Activation functions: ``relu``, ``sigmoid`` and ``tanh``, elementwise and taped.

The nonlinearity between two layers: without it a stack of linear layers is one linear layer.
Each function takes an array (or a Tensor inside ``autograd.record()``, then it is taped) and
returns the same shape and floating-point dtype; integers and booleans become float64. NaN
stays NaN, as in NumPy. ``nn.Activation`` and the ``activation=`` argument of ``nn.Dense`` and
``nn.Conv2D`` call them by name. Used in notebook 08 (LeNet with ReLU, and with the book's
sigmoid in an exercise) and in an exercise of notebook 07 (max pooling built from ``relu``).
"""
import numpy as np

from .autograd import Tensor, taped, unwrap
from .conv import _float_array

__all__ = ["relu", "sigmoid", "tanh"]


def relu(x):
    """The rectified linear unit, ``max(x, 0)``, elementwise.

    Its gradient is 1 where ``x > 0`` and 0 elsewhere (0 at ``x = 0`` itself, as in PyTorch
    and MXNet).

    >>> relu(np.array([-2.0, 0.0, 3.0]))
    array([0., 0., 3.])
    """
    a = _float_array("relu", "x", x)
    return taped(np.maximum(a, _zeros(a)), (x,), lambda g: (g * (a > 0),))


_ZEROS_UP_TO = 1 << 20  # bytes: the largest array ReLU compares with an array of zeros


def _zeros(a):
    """What ReLU takes the maximum against: ``np.maximum(a, 0)`` computes the same, but NumPy's
    vectorized loop takes two arrays, so against an array of zeros it runs about 3x faster (and
    ``np.zeros`` costs little: the memory comes zeroed). Past ``_ZEROS_UP_TO`` bytes the number
    0: a temporary as large as ``a`` would double the memory of the in-place ReLU."""
    return np.zeros(a.shape, a.dtype) if a.nbytes <= _ZEROS_UP_TO else 0


def _relu_in_place(y):
    """``relu(y)`` written over ``y``: for a layer's own new output, which no one else holds
    (``nn.Dense`` and ``nn.Conv2D`` with ``activation="relu"``), so that the layer keeps one
    float array, not two. The same values and gradient as ``relu(y)``; where the input was
    positive is taken now, as booleans, so that writing to the output before ``backward()``
    does not change the gradient."""
    a = unwrap(y)
    positive = a > 0
    np.maximum(a, _zeros(a), out=a)
    if not isinstance(y, Tensor):
        return a
    # y is the layer's own new node on the tape (never a leaf): its backward now multiplies the
    # incoming gradient by the ReLU's mask first, so that the layer and its ReLU are one node
    backward = y._backward
    y._backward = lambda g: backward(g * positive)
    return y


def sigmoid(x):
    """The logistic function ``1 / (1 + exp(-x))``, elementwise, without overflow.

    ``exp(-x)`` overflows for x below about -710 (-89 in float32); written as
    ``exp(x) / (1 + exp(x))`` for negative x, only ``exp(-|x|) <= 1`` is ever computed, so
    ``sigmoid(-1000)`` is 0 and ``sigmoid(1000)`` is 1, without a warning. Its gradient is
    ``s * (1 - s)``.

    >>> sigmoid(np.array([-1000.0, 0.0, 1000.0]))
    array([0. , 0.5, 1. ])
    """
    a = _float_array("sigmoid", "x", x)
    e = np.exp(-np.abs(a))  # in (0, 1]: never overflows (NaN stays NaN)
    s = np.where(a >= 0, 1 / (1 + e), e / (1 + e)).astype(a.dtype, copy=False)
    return taped(s, (x,), lambda g: (g * s * (1 - s),))


def tanh(x):
    """The hyperbolic tangent, elementwise; its gradient is ``1 - tanh(x) ** 2``.

    >>> tanh(np.array([0.0, 1000.0]))
    array([0., 1.])
    """
    a = _float_array("tanh", "x", x)
    t = np.tanh(a)
    return taped(t, (x,), lambda g: (g * (1 - t * t),))
