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
  gradient as it was. A gradient is computed only for the operands that need one.
- The operators (``+ - * / ** @ %``, comparisons) give what NumPy gives for the same operands,
  with the Tensor on either side. Other NumPy functions on a recorded Tensor (``np.sum(l)``,
  ``np.dot``, ``np.einsum``, ``np.exp``, ...) raise a TypeError that says what to use instead.

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
import operator

import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple

__all__ = ["Tensor", "record", "is_recording", "taped", "unwrap", "numerical_grad", "grad_check"]

_recording = False


@contextlib.contextmanager
def _record():
    global _recording
    previous, _recording = _recording, True
    try:
        yield
    finally:
        _recording = previous


class _Record:
    """Tape the operations run inside the ``with`` block, as ``mxnet.autograd.record``.

    >>> with record():
    ...     print(is_recording())
    True
    >>> is_recording()
    False
    """

    def __call__(self):
        return _record()

    def __enter__(self):  # `with autograd.record:`, the parentheses forgotten
        raise TypeError(
            "autograd.record is a function: write `with autograd.record():`, with parentheses"
        )

    def __exit__(self, *exc_info):
        return False

    def __repr__(self):
        return "<function d2lmini.autograd.record>"


record = _Record()


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
    if _recording:
        for parent in parents:  # a plain loop: stops at the first parent that needs one
            if _needs_grad(parent):
                return Tensor(value, _parents=tuple(parents), _backward=backward)
    return value


def _needs_grad(value):
    """Whether ``value`` is a Tensor the tape computes a gradient for."""
    return isinstance(value, Tensor) and value.requires_grad


def as_array(func, name, value):
    """``np.asarray(value)``, with an error naming ``func`` and ``name`` for ragged nested lists.

    >>> as_array("corr2d", "X", [[1, 2], [3]])
    Traceback (most recent call last):
    ...
    ValueError: corr2d: X must be an array or nested lists of equal lengths; got a list whose rows differ in length ...
    """
    try:
        return np.asarray(unwrap(value))
    except ValueError as error:  # NumPy's "inhomogeneous shape" for ragged nested lists
        raise ValueError(
            f"{func}: {name} must be an array or nested lists of equal lengths; got a "
            f"{type(value).__name__} whose rows differ in length ({error})"
        ) from None


def _as_float_array(value, func="Tensor", name="data"):
    """Return ``value`` as a floating-point array (integers and booleans become float64)."""
    array = as_array(func, name, value)
    if array.dtype.kind in "biu":
        return array.astype(np.float64)
    if array.dtype.kind != "f":
        raise TypeError(
            f"{func}: {name} must hold real numbers (bool, int or float), got an array of dtype "
            f"{array.dtype}"
        )
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

    def __init__(self, data, *, _parents=(), _backward=None):
        # a float array as it is (every recorded result is one); anything else converted
        self.data = (data if type(data) is np.ndarray and data.dtype.kind == "f"
                     else _as_float_array(data))
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

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """NumPy's ufuncs on a Tensor: the arithmetic ones are taped, the others refused.

        ``ndarray + Tensor`` and ``np.float32(2) * Tensor`` arrive here as ``np.add`` and
        ``np.multiply``, and are taped as ``Tensor + ndarray`` is. Any other ufunc (``np.exp``,
        ``np.maximum``, ...) on a recorded Tensor would compute off the tape: it raises, saying
        what to use. Comparisons (``np.greater``, ``np.isnan``, ...) have no gradient and return
        plain boolean arrays.
        """
        if method == "__call__" and not kwargs:
            if ufunc in _BINARY and len(inputs) == 2:
                return _BINARY[ufunc](*inputs)
            if ufunc in (np.negative, np.positive, np.absolute) and len(inputs) == 1:
                return {np.negative: operator.neg, np.positive: operator.pos,
                        np.absolute: abs}[ufunc](inputs[0])
        outputs = kwargs.get("out", ())
        recorded = any(_needs_grad(x) for x in inputs + tuple(outputs))
        comparison = all(t.endswith("?") for t in ufunc.types if "O" not in t)
        if _recording and recorded and not comparison:
            raise TypeError(_refusal(f"np.{ufunc.__name__}", ufunc.__name__))
        if outputs:
            kwargs["out"] = tuple(unwrap(x) for x in outputs)
        return getattr(ufunc, method)(*(unwrap(x) for x in inputs), **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        """NumPy's other functions on a Tensor: refused on a recorded one, with what to use.

        ``np.sum(l)``, ``np.dot(A, B)``, ``np.einsum(...)`` would compute on the plain array,
        off the tape. Outside ``record()`` (or on a Tensor that needs no gradient) they compute
        on the array inside, as NumPy does; ``np.shape``, ``np.ndim`` and the like always do.
        """
        if _recording and func not in _SHAPE_FUNCTIONS and _holds_recorded((args, kwargs)):
            raise TypeError(_refusal(f"np.{func.__name__}", func.__name__))
        return func(*_unwrap_nested(args), **_unwrap_nested(kwargs))

    def __float__(self):
        self._refuse_conversion("a Python float")
        return float(self.data)

    # ----------------------------------------------------------------- leaves and backward
    def attach_grad(self):
        """Mark this tensor as a leaf whose gradient ``backward()`` writes into ``.grad``.

        On a computed tensor this makes it a new leaf, as in MXNet: the next ``backward()``
        writes its gradient, and stops there (what it was computed from gets none through it).
        """
        self._parents, self._backward = (), None
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
        if out_grad is None:  # a single 1 seen at every position: no array of this size
            # (np.broadcast_to(np.ones((), dtype), shape) makes the same read-only view, slower)
            out_grad = np.ndarray(self.shape, self.dtype, buffer=np.ones(1, self.dtype),
                                  strides=(0,) * self.ndim)
            out_grad.flags.writeable = False
        else:
            out_grad = _as_float_array(out_grad, "backward()", "out_grad").astype(
                self.dtype, copy=False)  # only read: never written by the tape
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
                if _needs_grad(parent):
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
                if _needs_grad(parent) and id(parent) not in seen:
                    stack.append((parent, False))
        return order

    def _write_grad(self, grad):
        target = self._parameter._grad if self._parameter is not None else self.grad
        if target is None:  # a leaf that was never given a buffer
            self.grad = target = np.zeros_like(self.data)
        target[...] = grad

    # ----------------------------------------------------------------- operations
    # Each operator gives what NumPy gives for the same operands, a Tensor on either side.
    def __add__(self, other):
        return _add(self, other)

    def __radd__(self, other):
        return _add(other, self)

    def __neg__(self):
        return taped(-self.data, (self,), lambda g: (-g,))

    def __sub__(self, other):
        return _subtract(self, other)

    def __rsub__(self, other):
        return _subtract(other, self)

    def __mul__(self, other):
        return _multiply(self, other)

    def __rmul__(self, other):
        return _multiply(other, self)

    def __truediv__(self, other):
        return _divide(self, other)

    def __rtruediv__(self, other):
        return _divide(other, self)

    def __pow__(self, other):
        return _power(self, other)

    def __rpow__(self, other):
        return _power(other, self)

    def __matmul__(self, other):
        return _matmul(self, other)

    def __rmatmul__(self, other):
        return _matmul(other, self)

    def __mod__(self, other):
        return _remainder(self, other)

    def __rmod__(self, other):
        return _remainder(other, self)

    def __floordiv__(self, other):  # piecewise constant: no gradient, a plain array
        return self.data // unwrap(other)

    def __rfloordiv__(self, other):
        return unwrap(other) // self.data

    def __pos__(self):
        return taped(+self.data, (self,), lambda g: (g,))

    def __abs__(self):
        a = self.data
        return taped(np.abs(a), (self,), lambda g: (g * np.sign(a),))

    # Comparisons give NumPy's boolean arrays: they have no gradient, so nothing is taped.
    def __eq__(self, other):
        return self.data == unwrap(other)

    def __ne__(self, other):
        return self.data != unwrap(other)

    def __lt__(self, other):
        return self.data < unwrap(other)

    def __le__(self, other):
        return self.data <= unwrap(other)

    def __gt__(self, other):
        return self.data > unwrap(other)

    def __ge__(self, other):
        return self.data >= unwrap(other)

    __hash__ = object.__hash__  # still usable as a key by identity, as before

    def __bool__(self):  # as NumPy: only for one element, else "ambiguous"
        return bool(self.data)

    def __int__(self):
        self._refuse_conversion("a Python int")
        return int(self.data)

    def _refuse_in_place(self, op):
        if _recording and self.requires_grad:
            raise TypeError(
                f"cannot update a recorded Tensor in place (`{op}`) while autograd.record() is "
                "on. Move the update out of the `with autograd.record():` block, after "
                "l.backward(): there param.data() is the array itself, e.g. "
                "`param.data()[:] -= lr * param.grad()`."
            )

    def __setitem__(self, index, value):
        self._refuse_in_place("x[...] = value")
        self.data[index] = unwrap(value)

    def __iadd__(self, other):
        self._refuse_in_place("x += ...")
        self.data += unwrap(other)
        return self

    def __isub__(self, other):
        self._refuse_in_place("x -= ...")
        self.data -= unwrap(other)
        return self

    def __imul__(self, other):
        self._refuse_in_place("x *= ...")
        self.data *= unwrap(other)
        return self

    def __itruediv__(self, other):
        self._refuse_in_place("x /= ...")
        self.data /= unwrap(other)
        return self

    def sum(self, axis=None, keepdims=False):
        """Sum over ``axis`` (all axes by default), recorded."""
        a = self.data

        def backward(g):
            if axis is not None and not keepdims:
                g = np.expand_dims(g, axis)
            return (np.broadcast_to(g, a.shape),)  # a read-only view: no full-size copy

        return taped(a.sum(axis=axis, keepdims=keepdims), (self,), backward)

    def mean(self, axis=None, keepdims=False):
        """Average over ``axis`` (all axes by default), recorded."""
        axes = range(self.ndim) if axis is None else normalize_axis_tuple(axis, self.ndim)
        count = int(np.prod([self.shape[ax] for ax in axes]))
        return self.sum(axis=axis, keepdims=keepdims) / count

    def reshape(self, *shape):
        """Return the same values in a new shape, recorded; ``shape`` as in ``ndarray.reshape``."""
        a = self.data
        try:
            value = a.reshape(*shape)
        except (TypeError, ValueError) as error:
            raise type(error)(f"Tensor.reshape: cannot reshape shape {a.shape} into "
                              f"{shape[0] if len(shape) == 1 else shape}: {error}") from None
        return taped(value, (self,), lambda g: (g.reshape(a.shape),))

    def __getitem__(self, index):
        """Index or slice as NumPy does, recorded: the gradient flows back to the entries read."""
        a = self.data

        def backward(g):
            full = np.zeros_like(a)
            np.add.at(full, index, g)  # an entry read twice gets both gradients
            return (full,)

        return taped(a[index], (self,), backward)


def _binary(left, right, value, grads):
    """Tape ``value``, computed from ``left`` and ``right`` (Tensors, arrays, lists or scalars).

    ``grads(g, need_left, need_right)`` returns the two gradients, broadcast-shaped, computing
    only those needed (None for the other): no gradient for a plain array or a number.
    """
    shape_left, shape_right = np.shape(unwrap(left)), np.shape(unwrap(right))

    def backward(g):
        need_left, need_right = _needs_grad(left), _needs_grad(right)
        grad_left, grad_right = grads(g, need_left, need_right)
        return (_unbroadcast(grad_left, shape_left) if need_left else None,
                _unbroadcast(grad_right, shape_right) if need_right else None)

    return taped(value, (left, right), backward)


def _add(left, right):
    return _binary(left, right, unwrap(left) + unwrap(right), lambda g, nl, nr: (g, g))


def _subtract(left, right):  # computed as NumPy does: no negation, so uint8 does not wrap
    return _binary(left, right, unwrap(left) - unwrap(right),
                   lambda g, nl, nr: (g, -g if nr else None))


def _multiply(left, right):
    a, b = unwrap(left), unwrap(right)
    return _binary(left, right, a * b,
                   lambda g, nl, nr: (g * b if nl else None, g * a if nr else None))


def _divide(numerator, denominator):
    """``numerator / denominator`` with either side a Tensor, an array or a scalar."""
    a, b = unwrap(numerator), unwrap(denominator)
    value = a / b
    # d(a/b)/db = -a / b**2, computed as -(a / b) / b: b * b would overflow for |b| > 1e19
    # in float32, and the gradient would come out as -0.
    return _binary(numerator, denominator, value,
                   lambda g, nl, nr: (g / b if nl else None, -(g * value) / b if nr else None))


def _power(base, exponent):
    """``base ** exponent`` with either side a Tensor, an array or a scalar."""
    a, b = unwrap(base), unwrap(exponent)
    value = a ** b

    def grads(g, need_base, need_exponent):
        grad_base = grad_exponent = None
        # In the result's float dtype: an unsigned exponent minus 1 would wrap around, and
        # the log of a uint8 base would come out in float16.
        dtype = np.result_type(value, np.float16)
        af, bf = np.asarray(a, dtype=dtype), np.asarray(b, dtype=dtype)
        with np.errstate(divide="ignore", invalid="ignore"):  # masked below, or truly inf/NaN
            if need_base:  # b * a**(b-1), which is 0 where b == 0 (x**0 is constant), even at 0
                grad_base = g * np.where(bf == 0, 0, bf * af ** (bf - 1))
            if need_exponent:  # a**b * log(a), which is 0 at a == 0 for b >= 0 (as PyTorch)
                zero = (af == 0) & (bf >= 0)
                grad_exponent = g * np.where(zero, 0, value * np.log(np.where(zero, 1, af)))
        return grad_base, grad_exponent

    return _binary(base, exponent, value, grads)


def _matmul(left, right):
    """``left @ right`` as ``np.matmul``: 1-D operands and broadcast batch axes included."""
    a, b = np.asarray(unwrap(left)), np.asarray(unwrap(right))
    value = a @ b

    def backward(g):
        need_left, need_right = _needs_grad(left), _needs_grad(right)
        a2 = a[None, :] if a.ndim == 1 else a  # (k,) -> (1, k): a row
        b2 = b[:, None] if b.ndim == 1 else b  # (k,) -> (k, 1): a column
        out_shape = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2]) + (a2.shape[-2],
                                                                         b2.shape[-1])
        g2 = np.reshape(g, out_shape)  # the axes matmul dropped for 1-D operands, back
        grad_left = grad_right = None
        if need_left:  # (..., n, m) @ (..., m, k) -> (..., n, k)
            grad_left = _unbroadcast(g2 @ np.swapaxes(b2, -1, -2), a2.shape).reshape(a.shape)
        if need_right:  # (..., k, n) @ (..., n, m) -> (..., k, m)
            grad_right = _unbroadcast(np.swapaxes(a2, -1, -2) @ g2, b2.shape).reshape(b.shape)
        return grad_left, grad_right

    return taped(value, (left, right), backward)


def _remainder(left, right):
    """``left % right``; as ``a - b * floor(a / b)``, its gradients are 1 and -floor(a / b)."""
    a, b = unwrap(left), unwrap(right)
    return _binary(left, right, a % b,
                   lambda g, nl, nr: (g, -g * np.floor_divide(a, b) if nr else None))


_BINARY = {np.add: _add, np.subtract: _subtract, np.multiply: _multiply, np.divide: _divide,
           np.power: _power, np.matmul: _matmul, np.remainder: _remainder,
           np.floor_divide: lambda a, b: np.floor_divide(unwrap(a), unwrap(b))}

# NumPy functions that only look at the shape or dtype: allowed on a recorded Tensor.
_SHAPE_FUNCTIONS = {np.shape, np.ndim, np.size, np.result_type, np.iscomplexobj, np.isrealobj}

# What to use instead of a NumPy function on a recorded Tensor, by the function's name.
_INSTEAD = {
    "sum": "the Tensor's own method, `l.sum()` (or `l.sum(axis=...)`)",
    "mean": "the Tensor's own method, `l.mean()` (or `l.mean(axis=...)`)",
    "reshape": "the Tensor's own method, `x.reshape(...)`",
    "dot": "the `@` operator (`A @ B`)",
    "matmul": "the `@` operator (`A @ B`)",
    "tensordot": "the `@` operator, or `*` followed by `.sum(axis=...)`",
    "inner": "the `@` operator, or `*` followed by `.sum(axis=-1)`",
    "vdot": "`(a * b).sum()`",
    "einsum": "the `@` operator, or `*` with broadcasting followed by `.sum(axis=...)`",
    "outer": "`a.reshape(-1, 1) * b.reshape(1, -1)`",
    "convolve": "d2lmini.corr2d or d2lmini.conv2d",
    "correlate": "d2lmini.corr2d or d2lmini.conv2d",
}
_RECORDED_OPERATIONS = ("the recorded operations: + - * / ** @, .sum(), .mean(), .reshape(), "
                        "indexing, d2lmini.corr2d and d2lmini.conv2d")


def _refusal(what, name):
    return (
        f"{what}() was called on a recorded Tensor while autograd.record() is on: NumPy would "
        "compute it on the plain array, off the tape, and no gradient could flow back through "
        f"it. Use {_INSTEAD.get(name, _RECORDED_OPERATIONS)} instead."
    )


def _holds_recorded(value):
    if isinstance(value, (list, tuple)):
        return any(_holds_recorded(v) for v in value)
    if isinstance(value, dict):
        return any(_holds_recorded(v) for v in value.values())
    return _needs_grad(value)


def _unwrap_nested(value):
    if isinstance(value, (list, tuple)):
        return type(value)(_unwrap_nested(v) for v in value)
    if isinstance(value, dict):
        return {k: _unwrap_nested(v) for k, v in value.items()}
    return unwrap(value)


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
    points = _check_numerical("numerical_grad", f, arrays, eps)
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
    leaves = [Tensor(a) for a in _check_numerical("grad_check", f, arrays, eps)]
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


def _check_numerical(func, f, arrays, eps):
    """The checks of ``numerical_grad`` and ``grad_check``; the points as float64 copies."""
    if not callable(f):
        raise TypeError(f"{func}: f must be a function of the arrays, got {f!r:.60}")
    if (not isinstance(eps, (int, float, np.integer, np.floating)) or isinstance(eps, bool)
            or not (np.isfinite(eps) and eps > 0)):
        raise ValueError(f"{func}: eps must be a finite positive number (the step), got {eps!r}")
    # complex inputs would lose their imaginary part: refused with the dtype named
    return [_as_float_array(a, func, f"arrays[{i}]").astype(np.float64)
            for i, a in enumerate(arrays)]
