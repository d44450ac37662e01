"""Losses: ``SoftmaxCrossEntropyLoss`` and ``L2Loss``, as ``mxnet.gluon.loss`` names them.

A loss is called as ``loss(pred, label)`` and returns one value per example, shape (N,):
average it with ``.mean()``, or call ``backward()`` on it directly (the gradient of the sum,
as MXNet), then ``Trainer.step(batch_size)`` divides by the batch size. ``pred`` may be a Tensor
inside ``autograd.record()`` (then the loss is taped); ``label`` is data, never differentiated.
Taught in notebook 08.

>>> import numpy as np
>>> SoftmaxCrossEntropyLoss()(np.array([[0.0, 0.0], [1000.0, 0.0]]), np.array([0, 0]))
array([0.69314718, 0.        ])
>>> L2Loss()(np.array([[1.0, 3.0]]), np.array([[0.0, 0.0]]))
array([2.5])
"""
import numbers

import numpy as np

from .autograd import taped, unwrap
from .conv import _float_array

__all__ = ["Loss", "SoftmaxCrossEntropyLoss", "L2Loss"]


class Loss:
    """Base class: ``loss(pred, label, sample_weight=None)`` runs ``forward``.

    Args:
        weight: a number every loss is multiplied by (None for 1).
        batch_axis: the axis of the examples; only 0 is supported.
    """

    def __init__(self, weight=None, batch_axis=0):
        name = type(self).__name__
        if weight is not None and (not isinstance(weight, numbers.Real)
                                   or isinstance(weight, bool) or not np.isfinite(weight)):
            raise TypeError(f"{name}: weight must be None or a finite number, got {weight!r}")
        if batch_axis != 0 or isinstance(batch_axis, bool):
            raise ValueError(
                f"{name}: batch_axis must be 0 (examples along the first axis), got {batch_axis!r}"
            )
        self._weight = weight
        self._batch_axis = batch_axis

    def __call__(self, pred, label, sample_weight=None):
        return self.forward(pred, label, sample_weight)

    def __repr__(self):
        return f"{type(self).__name__}(batch_axis={self._batch_axis}, w={self._weight})"

    def _scale(self, name, n, sample_weight, dtype):
        """The factor each example's loss is multiplied by: weight times its sample weight."""
        scale = np.asarray(1.0 if self._weight is None else self._weight, dtype=dtype)
        if sample_weight is None:
            return scale
        w = _float_array(name, "sample_weight", sample_weight)
        if w.size != n or w.ndim > 2 or (w.ndim == 2 and w.shape[1] != 1):
            raise ValueError(
                f"{name}: sample_weight has shape {w.shape}, expected one weight per example: "
                f"({n},) or ({n}, 1)"
            )
        return scale * w.reshape(n).astype(dtype, copy=False)


def _log_softmax(z):
    """``log(softmax(z))`` along the last axis, without overflow: shift by the row's max first.

    ``exp(z - max)`` is at most 1, so logits of 1000 (or 1e30) give finite results.
    """
    shifted = z - z.max(axis=-1, keepdims=True)  # (N, K), every row's max is 0
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


class SoftmaxCrossEntropyLoss(Loss):
    """Softmax then cross-entropy, per example: ``-log softmax(pred)[label]``.

    Computed as one operation, through the log-sum-exp with the row's maximum subtracted, so
    it is stable for any finite logits (``pred`` of 1000 gives 0, not NaN). Its gradient with
    respect to the logits is ``softmax(pred) - one_hot(label)``.

    Args:
        axis: the class axis; only -1 (the last) is supported.
        sparse_label: True (default): ``label`` holds class indices, shape (N,), integers
            (or floats with integer values); False: ``label`` holds a probability
            distribution per example, shape (N, K).
        from_logits: True when ``pred`` already holds log-probabilities (no softmax applied).
        weight: a number every loss is multiplied by.
        batch_axis: the axis of the examples; only 0.

    Call:
        ``loss(pred, label, sample_weight=None)`` with ``pred`` of shape (N, K), the scores of
        K classes (logits); returns the N losses, shape (N,), in the dtype of ``pred``.

    >>> loss = SoftmaxCrossEntropyLoss()
    >>> loss(np.array([[2.0, 0.0, 0.0]]), np.array([0])).round(4)
    array([0.2395])

    Taught in notebook 08.
    """

    def __init__(self, axis=-1, sparse_label=True, from_logits=False, weight=None,
                 batch_axis=0):
        super().__init__(weight, batch_axis)
        if axis not in (-1,) or isinstance(axis, bool):
            raise ValueError(
                f"SoftmaxCrossEntropyLoss: axis must be -1 (classes along the last axis), "
                f"got {axis!r}"
            )
        self._axis = axis
        self._sparse_label = bool(sparse_label)
        self._from_logits = bool(from_logits)

    def _check_label(self, label, shape):
        name = "SoftmaxCrossEntropyLoss"
        n, k = shape
        if not self._sparse_label:
            dense = _float_array(name, "label", label)
            if dense.shape != shape:
                raise ValueError(
                    f"{name}: label has shape {dense.shape}, expected the shape of pred, "
                    f"{shape}, with sparse_label=False (one distribution per example)"
                )
            return dense
        try:
            labels = np.asarray(unwrap(label))
        except ValueError:  # NumPy's "inhomogeneous shape"
            raise ValueError(f"{name}: label must be an array or a flat list of class indices, "
                             f"got a ragged {type(label).__name__}") from None
        if labels.dtype.kind not in "iuf" or labels.size != n or labels.ndim > 2 or (
                labels.ndim == 2 and labels.shape[1] != 1):
            raise ValueError(
                f"{name}: label has shape {labels.shape} and dtype {labels.dtype}, expected "
                f"{n} class indices, shape ({n},), for pred of shape {shape}"
            )
        labels = labels.reshape(n)
        if labels.dtype.kind == "f" and not np.array_equal(labels, np.round(labels)):
            raise ValueError(f"{name}: label holds non-integer values; expected class indices")
        if n and (labels.min() < 0 or labels.max() >= k):
            raise ValueError(
                f"{name}: label holds values from {labels.min():g} to {labels.max():g}, "
                f"expected class indices from 0 to {k - 1} (pred has {k} classes)"
            )
        return labels.astype(np.intp)

    def forward(self, pred, label, sample_weight=None):
        name = "SoftmaxCrossEntropyLoss"
        z = _float_array(name, "pred", pred)
        if z.ndim != 2 or z.shape[1] == 0:
            raise ValueError(
                f"{name}: pred must be 2-D (batch, classes) with at least one class, got shape "
                f"{z.shape}"
            )
        target = self._check_label(label, z.shape)
        # None: every loss as it is (no weight given), not multiplied by 1
        scale = (None if self._weight is None and sample_weight is None
                 else self._scale(name, z.shape[0], sample_weight, z.dtype))
        logp = z if self._from_logits else _log_softmax(z)  # (N, K)
        rows = np.arange(z.shape[0])
        if self._sparse_label:
            losses = 0.0 - logp[rows, target]  # (N,); 0.0 - so that a loss of 0 is not -0
        else:
            losses = 0.0 - (logp * target).sum(axis=-1)  # (N,)
        losses = (losses if scale is None else losses * scale).astype(z.dtype, copy=False)

        def backward(grad):  # grad: (N,)
            g = (grad if scale is None else grad * scale)[:, None]  # (N, 1)
            if self._from_logits:
                if self._sparse_label:
                    one_hot = np.zeros_like(z)
                    one_hot[rows, target] = 1
                    return (-g * one_hot,)
                return (-g * target,)
            softmax = np.exp(logp)  # (N, K)
            if self._sparse_label:
                softmax[rows, target] -= 1  # softmax - one_hot, in its place (each row once)
                return (g * softmax,)
            softmax *= target.sum(axis=-1, keepdims=True)  # a distribution not summing to 1
            return (g * (softmax - target),)  # in the dtype of the two

        return taped(losses, (pred,), backward)


class L2Loss(Loss):
    """Half the squared error, averaged over all axes but the first: gluon's ``L2Loss``.

    ``loss[n] = weight / 2 * mean((pred[n] - label[n]) ** 2)``; ``label`` is reshaped to the
    shape of ``pred`` (it must hold as many values). The 1/2 makes the gradient
    ``pred - label``.

    Args:
        weight: a number every loss is multiplied by (default 1).
        batch_axis: only 0.

    >>> L2Loss()(np.array([1.0, 2.0]), np.array([1.0, 0.0]))
    array([0., 2.])

    The squared loss of notebook 04's training loop (written there by hand), as gluon
    packages it.
    """

    def __init__(self, weight=1.0, batch_axis=0):
        super().__init__(weight, batch_axis)

    def forward(self, pred, label, sample_weight=None):
        name = "L2Loss"
        p = _float_array(name, "pred", pred)
        y = _float_array(name, "label", label)
        if p.ndim == 0:
            raise ValueError(f"L2Loss: pred must have a batch axis, got a 0-D array")
        if y.size != p.size:
            raise ValueError(
                f"L2Loss: label has shape {y.shape} ({y.size} values), expected as many values "
                f"as pred of shape {p.shape}"
            )
        y = y.reshape(p.shape).astype(p.dtype, copy=False)
        scale = self._scale(name, p.shape[0], sample_weight, p.dtype)
        count = int(np.prod(p.shape[1:]))  # values per example
        diff = p - y  # (N, ...)
        losses = (diff * diff).reshape((p.shape[0], -1)).sum(axis=1) / (2 * max(count, 1))
        losses = (losses * scale).astype(p.dtype, copy=False)  # (N,)

        def backward(grad):  # grad: (N,)
            g = (grad * scale / max(count, 1)).reshape((-1,) + (1,) * (p.ndim - 1))
            return ((g * diff).astype(p.dtype, copy=False),)

        return taped(losses, (pred,), backward)
