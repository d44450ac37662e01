"""A small autograd over NumPy arrays, with MXNet's vocabulary.

Inside ``with autograd.record():`` every operation that involves a :class:`Tensor` needing a
gradient is taped; ``backward()`` walks the tape in reverse and writes the gradients of the
leaves. It is micrograd (karpathy/micrograd, ``engine.py``) with an array in each node instead of
a number, and with the names of MXNet's ``mxnet.autograd`` so that the book's training loop runs
unchanged. Taught in notebooks 02 and 04; used in 03 too.

Rules a learner can rely on:

- Outside ``record()`` nothing is taped and every operation returns a plain NumPy array. So a
  forgotten ``record()`` shows as ``AttributeError: 'numpy.ndarray' object has no attribute
  'backward'`` on the ``l.backward()`` line.
- ``backward()`` on a non-scalar result back-propagates the gradient of its sum, as MXNet does.
- Gradients are *written*, not added (gluon's default ``grad_req='write'``): each ``backward()``
  replaces the gradients of the leaves it reaches.
- The gradients are all computed before any is written, so a failing ``backward()`` leaves every
  gradient as it was.

>>> import numpy as np
>>> from d2lmini import autograd
>>> x = autograd.Tensor(np.array([1.0, 2.0, 3.0]))
>>> x.attach_grad()
>>> with autograd.record():
...     y = (x * x).sum()
>>> y.backward()
>>> x.grad
array([2., 4., 6.])
"""
import contextlib

import numpy as np

__all__ = ["Tensor", "record", "is_recording", "taped", "unwrap", "numerical_grad", "grad_check"]

_recording = False


@contextlib.contextmanager
def record():
    """Tape the operations run inside the ``with`` block, as ``mxnet.autograd.record``.

    >>> with record():
    ...     print(is_recording())
    True
    >>> is_recording()
    False
    """
    global _recording
    previous, _recording = _recording, True
    try:
        yield
    finally:
        _recording = previous


def is_recording():
    """Return whether operations are being taped right now."""
    return _recording


def unwrap(value):
    """Return the NumPy array inside a :class:`Tensor`, or ``value`` itself.

    >>> unwrap(Tensor([1.0, 2.0]))
    array([1., 2.])
    """
    return value.data if isinstance(value, Tensor) else value


def taped(value, parents, backward):
    """Return ``value`` as a recorded :class:`Tensor` when it must be, else as a NumPy array.

    This is the one door into the tape: every differentiable operation (the arithmetic below,
    ``d2lmini.corr2d`` and ``d2lmini.conv2d``) computes its result on arrays, then calls it.

    Args:
        value: the result of the operation, computed on arrays.
        parents: the operation's inputs (Tensors, arrays, scalars or None).
        backward: ``backward(grad)`` returns one gradient per parent (None where not needed),
            each shaped like that parent, given the gradient ``grad`` shaped like ``value``.

    Returns:
        A Tensor that remembers ``parents`` and ``backward`` while recording, if any parent
        needs a gradient; otherwise the plain array ``value``.
    """
    if _recording and any(isinstance(p, Tensor) and p.requires_grad for p in parents):
        return Tensor(value, _parents=tuple(parents), _backward=backward)
    return value


def _as_float_array(value):
    """Return ``value`` as a floating-point array (integers and booleans become float64)."""
    array = np.asarray(value)
    if array.dtype.kind in "biu":
        return array.astype(np.float64)
    if array.dtype.kind != "f":
        raise TypeError(f"Tensor: expected an array of real numbers, got dtype {array.dtype}")
    return array


def _unbroadcast(grad, shape):
    """Sum ``grad`` over the axes that broadcasting added or stretched, to get back ``shape``."""
    while grad.ndim > len(shape):  # leading axes broadcasting added
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):  # axes of length 1 that broadcasting stretched
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


class Tensor:
    """An array that the tape can differentiate through.

    A learner rarely builds one: ``Parameter.data()`` hands one out while recording, and every
    recorded operation returns one. It prints as the NumPy array it holds.

    Args:
        data: array-like; integers and booleans are promoted to float64.
    """

    __array_ufunc__ = None  # `ndarray + Tensor` defers to Tensor.__radd__, so it is taped

    def __init__(self, data, *, _parents=(), _backward=None):
        self.data = _as_float_array(data)
        self.grad = None
        self._parents = _parents
        self._backward = _backward
        self._parameter = None  # set for the leaf a Parameter hands out while recording
        self.requires_grad = bool(_parents)

    # ----------------------------------------------------------------- what it looks like
    shape = property(lambda self: self.data.shape)
    dtype = property(lambda self: self.data.dtype)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: self.data.size)

    def __repr__(self):
        return repr(self.data)

    def __str__(self):
        return str(self.data)

    def __len__(self):
        return len(self.data)

    def item(self):
        """Return the value of a one-element tensor as a Python number (MXNet's ``asscalar``)."""
        return self.data.item()

    def asnumpy(self):
        """Return a copy of the data as a NumPy array."""
        return self.data.copy()

    def _refuse_conversion(self, what):
        if _recording and self.requires_grad:
            raise TypeError(
                f"cannot convert a recorded Tensor of shape {self.shape} to {what} while "
                "autograd.record() is on: the value would leave the tape, and no gradient could "
                "flow back through it. This is what happens when code writes results into a "
                "NumPy array element by element (`Y[i, j] = ...`, as the loop in "
                "corr2d_naive does). Compute the result with recorded operations instead, "
                "for example d2lmini.corr2d."
            )

    def __array__(self, dtype=None, copy=None):
        self._refuse_conversion("a NumPy array")
        return self.data if dtype is None else self.data.astype(dtype)

    def __float__(self):
        self._refuse_conversion("a Python float")
        return float(self.data)

    # ----------------------------------------------------------------- leaves and backward
    def attach_grad(self):
        """Mark this tensor as a leaf whose gradient ``backward()`` writes into ``.grad``."""
        self.requires_grad = True
        self.grad = np.zeros_like(self.data)

    def backward(self, out_grad=None):
        """Back-propagate from this tensor and write the gradients of the leaves it depends on.

        Args:
            out_grad: the gradient of some scalar with respect to this tensor, same shape;
                by default all ones, which gives the gradient of ``self.sum()``.

        Raises:
            ValueError: this tensor was not computed inside ``autograd.record()`` from a
                tensor that needs a gradient, or ``out_grad`` has the wrong shape.
        """
        if not self.requires_grad:
            raise ValueError(
                "backward(): this Tensor is not part of a recorded graph. Compute it inside "
                "`with autograd.record():` from a parameter's data() or a tensor on which "
                "attach_grad() was called."
            )
        if out_grad is None:
            out_grad = np.ones_like(self.data)
        else:
            out_grad = np.asarray(out_grad, dtype=self.dtype)
            if out_grad.shape != self.shape:
                raise ValueError(
                    f"backward(): out_grad has shape {out_grad.shape}, expected the shape of "
                    f"this Tensor, {self.shape}"
                )
        grads = {id(self): out_grad}
        leaves = []
        for node in reversed(self._topological_order()):
            grad = grads.pop(id(node))
            if not node._parents:
                leaves.append((node, grad))
                continue
            for parent, parent_grad in zip(node._parents, node._backward(grad)):
                if isinstance(parent, Tensor) and parent.requires_grad:
                    key = id(parent)
                    grads[key] = grads[key] + parent_grad if key in grads else parent_grad
        for leaf, grad in leaves:  # write only once every gradient is known
            leaf._write_grad(grad)

    def _topological_order(self):
        """The recorded nodes this tensor depends on, each after all its parents.

        Depth-first, without recursion; a node is placed once, when all its parents are, even
        when several paths lead to it (``y + y * y`` reaches ``y`` twice).
        """
        order, seen, stack = [], set(), [(self, False)]
        while stack:
            node, parents_done = stack.pop()
            if parents_done:
                order.append(node)
                continue
            if id(node) in seen:  # reached again through another path: already placed
                continue
            seen.add(id(node))
            stack.append((node, True))
            for parent in node._parents:
                if isinstance(parent, Tensor) and parent.requires_grad and id(parent) not in seen:
                    stack.append((parent, False))
        return order

    def _write_grad(self, grad):
        target = self._parameter.grad() if self._parameter is not None else self.grad
        if target is None:  # a leaf that was never given a buffer
            self.grad = target = np.zeros_like(self.data)
        target[...] = grad

    # ----------------------------------------------------------------- operations
    def __add__(self, other):
        a, b = self.data, unwrap(other)
        return taped(a + b, (self, other),
                     lambda g: (_unbroadcast(g, np.shape(a)), _unbroadcast(g, np.shape(b))))

    def __radd__(self, other):
        return self + other

    def __neg__(self):
        return taped(-self.data, (self,), lambda g: (-g,))

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return (-self) + other

    def __mul__(self, other):
        a, b = self.data, unwrap(other)
        return taped(a * b, (self, other),
                     lambda g: (_unbroadcast(g * b, np.shape(a)), _unbroadcast(g * a, np.shape(b))))

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        return _divide(self, other)

    def __rtruediv__(self, other):
        return _divide(other, self)

    def __pow__(self, other):
        return _power(self, other)

    def __rpow__(self, other):
        return _power(other, self)

    def sum(self, axis=None, keepdims=False):
        """Sum over ``axis`` (all axes by default), recorded."""
        a = self.data

        def backward(g):
            if axis is not None and not keepdims:
                g = np.expand_dims(g, axis)
            return (np.broadcast_to(g, a.shape).copy(),)

        return taped(a.sum(axis=axis, keepdims=keepdims), (self,), backward)

    def mean(self, axis=None, keepdims=False):
        """Average over ``axis`` (all axes by default), recorded."""
        axes = range(self.ndim) if axis is None else np.atleast_1d(axis)
        count = int(np.prod([self.shape[ax] for ax in axes]))
        return self.sum(axis=axis, keepdims=keepdims) / count

    def reshape(self, *shape):
        """Return the same values in a new shape, recorded; ``shape`` as in ``ndarray.reshape``."""
        a = self.data
        return taped(a.reshape(*shape), (self,), lambda g: (g.reshape(a.shape),))

    def __getitem__(self, index):
        """Index or slice as NumPy does, recorded: the gradient flows back to the entries read."""
        a = self.data

        def backward(g):
            full = np.zeros_like(a)
            np.add.at(full, index, g)  # an entry read twice gets both gradients
            return (full,)

        return taped(a[index], (self,), backward)


def _divide(numerator, denominator):
    """``numerator / denominator`` with either side a Tensor, an array or a scalar."""
    a, b = unwrap(numerator), unwrap(denominator)
    return taped(a / b, (numerator, denominator),
                 lambda g: (_unbroadcast(g / b, np.shape(a)),
                            _unbroadcast(-g * a / (b * b), np.shape(b))))


def _power(base, exponent):
    """``base ** exponent`` with either side a Tensor, an array or a scalar."""
    a, b = unwrap(base), unwrap(exponent)
    value = a ** b

    def backward(g):
        grad_base = _unbroadcast(g * b * a ** (b - 1), np.shape(a))
        needs_exponent = isinstance(exponent, Tensor) and exponent.requires_grad
        grad_exponent = _unbroadcast(g * value * np.log(a), np.shape(b)) if needs_exponent else None
        return grad_base, grad_exponent

    return taped(value, (base, exponent), backward)


# --------------------------------------------------------------------- numerical gradients
def numerical_grad(f, *arrays, eps=1e-6):
    """Central-difference gradients of ``f(*arrays).sum()`` with respect to each array.

    The reference every analytic gradient in d2lmini is tested against: nudge one entry by
    ``+eps`` and ``-eps`` and take the slope, ``(f(x + eps) - f(x - eps)) / (2 * eps)``.

    Args:
        f: a function of NumPy arrays returning an array or a number.
        *arrays: the points at which to differentiate (converted to float64).
        eps: the step.

    Returns:
        A list with one float64 array per input, shaped like it.

    >>> numerical_grad(lambda x: x ** 2, np.array([1.0, -3.0]))[0].round(6)
    array([ 2., -6.])
    """
    points = [np.array(a, dtype=np.float64) for a in arrays]
    grads = []
    for x in points:
        grad = np.zeros_like(x)
        flat, flat_grad = x.reshape(-1), grad.reshape(-1)  # views: nudging flat nudges x
        for k in range(flat.size):
            saved = flat[k]
            flat[k] = saved + eps
            up = np.sum(unwrap(f(*points)))
            flat[k] = saved - eps
            down = np.sum(unwrap(f(*points)))
            flat[k] = saved
            flat_grad[k] = (up - down) / (2 * eps)
        grads.append(grad)
    return grads


def grad_check(f, *arrays, eps=1e-6):
    """Compare the taped gradients of ``f(*arrays).sum()`` with central differences.

    Returns:
        The largest relative error over the inputs, ``|g - n| / max(|g| + |n|, 1e-12)``
        with ``|.|`` the Euclidean norm; below about 1e-6 in float64 means they agree.

    >>> grad_check(lambda x, y: x * y + x ** 3, np.array([1.0, 2.0]), np.array([0.5, -1.0])) < 1e-6
    True
    """
    leaves = [Tensor(np.array(a, dtype=np.float64)) for a in arrays]
    for leaf in leaves:
        leaf.attach_grad()
    with record():
        out = f(*leaves)
    if not isinstance(out, Tensor):
        raise ValueError("grad_check: f did not use its inputs in recorded operations")
    out.backward()
    worst = 0.0
    for leaf, numeric in zip(leaves, numerical_grad(f, *arrays, eps=eps)):
        scale = max(np.linalg.norm(leaf.grad) + np.linalg.norm(numeric), 1e-12)
        worst = max(worst, float(np.linalg.norm(leaf.grad - numeric) / scale))
    return worst
