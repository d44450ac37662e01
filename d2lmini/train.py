"""Training: the ``Trainer`` that updates parameters, minibatches, and accuracy.

The pieces of d2l's training loop, with gluon's names::

    trainer = Trainer(net.collect_params(), "sgd", {"learning_rate": 0.5})
    for epoch in range(num_epochs):
        for X, y in batches(X_train, y_train, batch_size, seed=epoch):
            with autograd.record():
                l = loss(net(X), y)  # (batch_size,)
            l.backward()  # the gradient of the sum of the losses
            trainer.step(batch_size)  # divides by batch_size: the mean's gradient
        print(evaluate_accuracy(net, X_test, y_test))

Taught in notebook 08.
"""
import numbers
from collections.abc import Mapping

import numpy as np

from .autograd import unwrap
from .nn import Parameter

__all__ = ["Trainer", "batches", "accuracy", "evaluate_accuracy"]

# optimizer -> {option: default}; gluon's names (mxnet.optimizer.SGD)
_OPTIONS = {"sgd": {"learning_rate": 0.01, "momentum": 0.0, "wd": 0.0}}


def _check_number(func, name, value, low, high=np.inf, low_open=False):
    """``value`` as a float in [low, high) (or (low, high)); else an error naming it."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{func}: {name} must be a number, got {value!r}")
    value = float(value)
    if not (low < value if low_open else low <= value) or not value < high:
        left = "(" if low_open else "["
        raise ValueError(f"{func}: {name} must be in {left}{low:g}, {high:g}), got {value!r}")
    return value


class Trainer:
    """Update parameters from their gradients by minibatch SGD, as ``gluon.Trainer``.

    Args:
        params: the parameters to train: ``net.collect_params()`` (or any dict of them), or a
            list of Parameters. A parameter listed twice is updated once.
        optimizer: ``"sgd"`` (the only one here).
        optimizer_params: a dict of options: ``learning_rate`` (default 0.01), ``momentum``
            (default 0, in [0, 1)) and ``wd`` (weight decay, default 0).

    ``step(batch_size)`` does, for every parameter ``w`` with gradient ``g``::

        g = g / batch_size + wd * w
        v = momentum * v - learning_rate * g   # v starts at 0
        w += v                                 # with momentum 0: w -= learning_rate * g

    Dividing by ``batch_size`` turns the gradient of the *sum* of the losses, which
    ``backward()`` computes, into the gradient of their mean.

    >>> from d2lmini import autograd, init, nn
    >>> layer = nn.Dense(1, in_units=2, use_bias=False)
    >>> layer.initialize(init=init.Constant(1.0))
    >>> trainer = Trainer(layer.collect_params(), "sgd", {"learning_rate": 0.1})
    >>> with autograd.record():
    ...     l = layer(np.array([[1.0, 2.0], [3.0, 4.0]]))  # (2, 1): one output per example
    >>> l.backward()
    >>> layer.weight.grad()  # the sum over the 2 examples
    array([[4., 6.]], dtype=float32)
    >>> trainer.step(2)  # w -= 0.1 * grad / 2
    >>> layer.weight.data()
    array([[0.8, 0.7]], dtype=float32)

    Taught in notebook 08.
    """

    def __init__(self, params, optimizer, optimizer_params=None):
        if isinstance(params, Mapping) or hasattr(params, "values"):
            params = list(params.values())
        elif isinstance(params, Parameter):
            params = [params]
        elif isinstance(params, (list, tuple)):
            params = list(params)
        else:
            raise TypeError(
                "Trainer: params must be a ParameterDict (net.collect_params()), a dict or a "
                f"list of Parameters, got {type(params).__name__}"
            )
        for i, param in enumerate(params):
            if not isinstance(param, Parameter):
                raise TypeError(f"Trainer: params[{i}] must be a Parameter, got "
                                f"{type(param).__name__}")
        unique = {id(p): p for p in params}
        self._params = list(unique.values())
        if not isinstance(optimizer, str) or optimizer.lower() not in _OPTIONS:
            raise ValueError(
                f"Trainer: optimizer must be one of {sorted(_OPTIONS)}, got {optimizer!r}"
            )
        self._optimizer = optimizer.lower()
        options = {} if optimizer_params is None else optimizer_params
        if not isinstance(options, Mapping):
            raise TypeError(
                "Trainer: optimizer_params must be a dict such as {'learning_rate': 0.1}, got "
                f"{options!r}"
            )
        allowed = _OPTIONS[self._optimizer]
        unknown = sorted(set(options) - set(allowed), key=str)
        if unknown:
            raise ValueError(
                f"Trainer: unknown option(s) {unknown} for optimizer {self._optimizer!r}; "
                f"expected some of {sorted(allowed)}"
            )
        settings = {**allowed, **options}
        self._lr = _check_number("Trainer", "learning_rate", settings["learning_rate"], 0,
                                 low_open=True)
        self._momentum = _check_number("Trainer", "momentum", settings["momentum"], 0, 1)
        self._wd = _check_number("Trainer", "wd", settings["wd"], 0)
        self._velocity = {}  # id(param) -> the momentum's running update

    @property
    def learning_rate(self):
        """The current learning rate."""
        return self._lr

    def set_learning_rate(self, lr):
        """Change the learning rate (for a schedule), as gluon's ``Trainer.set_learning_rate``."""
        self._lr = _check_number("Trainer.set_learning_rate", "lr", lr, 0, low_open=True)

    def __repr__(self):
        return (f"Trainer({len(self._params)} parameters, {self._optimizer!r}, "
                f"learning_rate={self._lr:g}, momentum={self._momentum:g}, wd={self._wd:g})")

    def step(self, batch_size):
        """Make one update of every parameter, with gradients divided by ``batch_size``.

        Everything is checked and every update (``learning_rate * g``, or the momentum's new
        velocity) computed before any parameter is written, so a step that fails leaves all
        parameters (and the momentum) as they were.

        Raises:
            TypeError, ValueError: ``batch_size`` is not a positive number.
            RuntimeError: a parameter has no value yet (not initialized, or its shape waits
                for a first forward pass).
        """
        batch_size = _check_number("Trainer.step", "batch_size", batch_size, 0, low_open=True)
        for param in self._params:
            if param._data is None:
                param._check_initialized("data")  # raises, naming the parameter
        updates = []
        for param in self._params:
            value, g = param._data, param._grad / batch_size  # g: a new array, updated in place
            if self._wd:
                g += self._wd * value
            if self._momentum:
                v = self._momentum * self._velocity.get(id(param), 0.0) - self._lr * g
                updates.append((param, v))  # the new velocity, added to the value
            else:
                g *= self._lr
                updates.append((param, g))  # subtracted from the value
        for param, delta in updates:  # nothing below can fail
            if self._momentum:
                param._data += delta
                self._velocity[id(param)] = delta
            else:
                param._data -= delta  # value - learning_rate * (grad / batch_size)


# --------------------------------------------------------------------- minibatches
def _check_int(func, name, value, minimum):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
        raise TypeError(f"{func}: {name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{func}: {name} must be at least {minimum}, got {value!r}")
    return int(value)


def _check_examples(func, X, y):
    arrays = []
    for name, value in (("X", X), ("y", y)):
        try:
            arrays.append(np.asarray(unwrap(value)))
        except ValueError:  # NumPy's "inhomogeneous shape"
            raise ValueError(f"{func}: {name} must be an array or nested lists of equal lengths, "
                             f"got a ragged {type(value).__name__}") from None
    X, y = arrays
    if X.ndim == 0 or y.ndim == 0 or len(X) != len(y):
        raise ValueError(
            f"{func}: X and y must hold the same number of examples along their first axis, "
            f"got X of shape {X.shape} and y of shape {y.shape}"
        )
    return X, y


def batches(X, y, batch_size, shuffle=True, seed=0):
    """Iterate over ``(X_batch, y_batch)`` minibatches, as d2l's ``data_iter``.

    Args:
        X: examples, shape (N, ...).
        y: labels, shape (N, ...).
        batch_size: examples per batch; the last batch holds the rest (it is smaller when
            ``batch_size`` does not divide N) and is kept.
        shuffle: visit the examples in a random order (True), or in order.
        seed: the seed of that order, an int: the same seed gives the same order, so pass a
            new one each epoch (``seed=epoch``); or a ``np.random.Generator``, which draws a
            new order at each call.

    Returns:
        An iterator of ``(X[idx], y[idx])`` pairs (copies); ``ceil(N / batch_size)`` of them.

    >>> X, y = np.arange(10).reshape(5, 2), np.arange(5)
    >>> [b.tolist() for _, b in batches(X, y, 2, shuffle=False)]
    [[0, 1], [2, 3], [4]]
    >>> sorted(sum((b.tolist() for _, b in batches(X, y, 2, seed=1)), []))
    [0, 1, 2, 3, 4]

    Taught in notebook 08.
    """
    X, y = _check_examples("batches", X, y)
    batch_size = _check_int("batches", "batch_size", batch_size, 1)
    if not isinstance(seed, np.random.Generator):
        seed = _check_int("batches", "seed", seed, 0)
    order = np.arange(len(X))
    if shuffle:
        order = np.random.default_rng(seed).permutation(len(X))

    def generate():
        for start in range(0, len(X), batch_size):
            idx = order[start:start + batch_size]
            yield X[idx], y[idx]

    return generate()


# --------------------------------------------------------------------- accuracy
def _predictions(y_hat, n):
    """The predicted classes: the argmax of each row of scores, or the labels themselves."""
    scores = np.asarray(unwrap(y_hat))
    if scores.ndim == 2 and scores.shape[1] > 1:
        return scores.argmax(axis=1)  # (N, K) -> (N,); the first of tied maxima
    return scores.reshape(n) if scores.size == n else scores


def _count_correct(func, y_hat, y):
    """The number of examples whose predicted class is the label, and the number of examples."""
    labels = np.asarray(unwrap(y))
    labels = labels.reshape(-1) if labels.ndim == 2 and labels.shape[1:] == (1,) else labels
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(f"{func}: y must hold N >= 1 labels, shape (N,), got shape {labels.shape}")
    predicted = _predictions(y_hat, labels.size)
    if predicted.shape != labels.shape:
        raise ValueError(
            f"{func}: y_hat has shape {np.shape(unwrap(y_hat))}, expected ({labels.size}, K) "
            f"scores or ({labels.size},) classes for y of shape {labels.shape}"
        )
    return int(np.count_nonzero(predicted == labels)), labels.size


def accuracy(y_hat, y):
    """The fraction of examples whose predicted class is the label, as a Python float.

    Args:
        y_hat: scores, shape (N, K) (the prediction is the class of the largest; the first
            one when several tie), or predicted classes, shape (N,).
        y: labels, shape (N,).

    >>> accuracy(np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]]), np.array([1, 0, 0]))
    0.6666666666666666

    Taught in notebook 08.
    """
    correct, n = _count_correct("accuracy", y_hat, y)
    return correct / n


def evaluate_accuracy(net, X, y, batch_size=256):
    """The accuracy of ``net`` on the examples X with labels y, a batch at a time.

    Args:
        net: a block (or any function) mapping a batch (n, ...) to scores (n, K).
        X, y: the examples (N, ...) and their labels (N,).
        batch_size: examples per forward pass (it changes the memory used, not the result).

    Returns:
        The fraction of the N examples classified correctly, a Python float: a count over a
        fixed set, so it is the same on every machine.

    >>> def net(X):  # scores that pick the class of the larger of two features
    ...     return X
    >>> evaluate_accuracy(net, np.array([[0.0, 1.0], [2.0, 1.0], [3.0, 4.0]]), [1, 0, 0],
    ...                   batch_size=2)
    0.6666666666666666

    Taught in notebook 08.
    """
    X, y = _check_examples("evaluate_accuracy", X, y)
    batch_size = _check_int("evaluate_accuracy", "batch_size", batch_size, 1)
    if len(X) == 0:
        raise ValueError(f"evaluate_accuracy: X holds no examples (shape {X.shape})")
    correct = 0
    for Xb, yb in batches(X, y, batch_size, shuffle=False):
        correct += _count_correct("evaluate_accuracy", net(Xb), yb)[0]
    return correct / len(X)
