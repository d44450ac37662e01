"""d2lmini.loss: softmax cross-entropy and L2, against their definitions, PyTorch and gradients."""
import numpy as np
import pytest

from d2lmini import autograd
from d2lmini.autograd import grad_check
from d2lmini.loss import L2Loss, SoftmaxCrossEntropyLoss


def reference_cross_entropy(z, y):
    """-log softmax(z)[y], written the naive way (fine for small logits)."""
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    return -np.log(p[np.arange(len(y)), y])


def test_cross_entropy_is_minus_log_softmax_of_the_label():
    rng = np.random.default_rng(0)
    z, y = rng.standard_normal((6, 4)), rng.integers(0, 4, 6)
    np.testing.assert_allclose(SoftmaxCrossEntropyLoss()(z, y), reference_cross_entropy(z, y),
                               rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_is_stable_at_large_logits(dtype):
    z = np.array([[1000.0, 0.0, -1000.0], [1000.0, 1000.0, 0.0], [-1000.0, 0.0, 1000.0]],
                 dtype=dtype)
    y = np.array([0, 1, 0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow is fine
        losses = SoftmaxCrossEntropyLoss()(z, y)
    assert losses.dtype == dtype
    np.testing.assert_allclose(losses, [0, np.log(2), 2000], rtol=1e-6)
    shifted = SoftmaxCrossEntropyLoss()(z - 1000, y)  # softmax ignores a shift of every logit
    np.testing.assert_allclose(losses, shifted, rtol=1e-6)


def test_cross_entropy_gradient_is_softmax_minus_one_hot():
    rng = np.random.default_rng(0)
    z, y = rng.standard_normal((5, 3)), rng.integers(0, 3, 5)
    assert grad_check(lambda z: SoftmaxCrossEntropyLoss()(z, y), z) < 1e-6
    x = autograd.Tensor(np.array([[1000.0, 0.0]]))
    x.attach_grad()
    with autograd.record():
        l = SoftmaxCrossEntropyLoss()(x, [1])
    l.backward()
    np.testing.assert_allclose(x.grad, [[1, -1]], atol=1e-12)  # finite at logits of 1000


def test_cross_entropy_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    z, y = rng.standard_normal((8, 10)) * 30, rng.integers(0, 10, 8)
    tz = torch.tensor(z, requires_grad=True)
    expected = torch.nn.functional.cross_entropy(tz, torch.tensor(y), reduction="none")
    expected.sum().backward()
    x = autograd.Tensor(z)
    x.attach_grad()
    with autograd.record():
        l = SoftmaxCrossEntropyLoss()(x, y)
    l.backward()
    np.testing.assert_allclose(l.data, expected.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(x.grad, tz.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_cross_entropy_options():
    rng = np.random.default_rng(0)
    z, y = rng.standard_normal((4, 3)), np.array([2, 0, 1, 1])
    one_hot = np.eye(3)[y]
    plain = SoftmaxCrossEntropyLoss()(z, y)
    np.testing.assert_allclose(SoftmaxCrossEntropyLoss(sparse_label=False)(z, one_hot), plain,
                               rtol=1e-12)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(SoftmaxCrossEntropyLoss(from_logits=True)(log_p, y), plain,
                               rtol=1e-12)
    np.testing.assert_allclose(SoftmaxCrossEntropyLoss(weight=2.0)(z, y), 2 * plain, rtol=1e-12)
    w = np.array([1.0, 0.0, 2.0, 0.5])
    np.testing.assert_allclose(SoftmaxCrossEntropyLoss()(z, y, w[:, None]), w * plain,
                               rtol=1e-12)
    soft = np.full((4, 3), 1 / 3)
    for loss, labels in [(SoftmaxCrossEntropyLoss(sparse_label=False), soft),
                         (SoftmaxCrossEntropyLoss(from_logits=True), y),
                         (SoftmaxCrossEntropyLoss(weight=3.0), y)]:
        assert grad_check(lambda z: loss(z, labels, w), z) < 1e-6


@pytest.mark.parametrize("label_dtype", [np.float64, np.int64])
def test_dense_labels_of_another_dtype_keep_the_dtype_of_pred(label_dtype):
    """With distributions as labels in another dtype than pred (float32), the losses come back
    in pred's dtype, and the gradient is computed in the dtype of the two (here float64)."""
    z = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    labels = np.eye(4, dtype=label_dtype)[[0, 3, 1]]
    x = autograd.Tensor(z)
    x.attach_grad()
    with autograd.record():
        l = SoftmaxCrossEntropyLoss(sparse_label=False)(x, labels)
    assert l.dtype == np.float32
    (g,) = l._backward(np.ones(3, np.float32))
    assert g.dtype == np.float64
    softmax = np.exp(z - z.max(axis=1, keepdims=True))
    softmax /= softmax.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(g, softmax - labels, rtol=1e-6, atol=1e-7)


def test_labels_may_be_floats_or_a_column():
    z = np.random.default_rng(0).standard_normal((3, 4))
    expected = SoftmaxCrossEntropyLoss()(z, np.array([0, 3, 1]))
    np.testing.assert_array_equal(SoftmaxCrossEntropyLoss()(z, np.array([0.0, 3.0, 1.0])), expected)
    np.testing.assert_array_equal(SoftmaxCrossEntropyLoss()(z, np.array([[0], [3], [1]])), expected)
    np.testing.assert_array_equal(SoftmaxCrossEntropyLoss()(z, np.array([0, 3, 1], np.uint8)),
                                  expected)


@pytest.mark.parametrize("pred, label, message", [
    (np.ones((3, 4)), [0, 1], r"label has shape \(2,\) and dtype int64, expected 3 class indices"),
    (np.ones((3, 4)), [0, 1, 4],
     r"label holds values from 0 to 4, expected class indices from 0 to 3"),
    (np.ones((3, 4)), [0, -1, 2], r"label holds values from -1 to 2"),
    (np.ones((3, 4)), [0.5, 1, 2], r"label holds non-integer values"),
    (np.ones((3, 4)), ["a", "b", "c"], r"label has shape \(3,\) and dtype <U1"),
    (np.ones(4), [0], r"pred must be 2-D \(batch, classes\).*got shape \(4,\)"),
    (np.ones((2, 0)), [0, 0], r"pred must be 2-D .* at least one class"),
    (np.ones((2, 3)), [[0], [1, 2]], r"label must be an array or a flat list of class indices, "
                                     r"got a ragged list"),
    (np.ones((2, 3)), [0, np.nan], r"label holds non-integer values"),
])
def test_cross_entropy_errors(pred, label, message):
    with pytest.raises(ValueError, match="SoftmaxCrossEntropyLoss: " + message):
        SoftmaxCrossEntropyLoss()(pred, label)


def test_cross_entropy_constructor_errors():
    with pytest.raises(ValueError, match="axis must be -1"):
        SoftmaxCrossEntropyLoss(axis=1)
    with pytest.raises(ValueError, match="batch_axis must be 0"):
        SoftmaxCrossEntropyLoss(batch_axis=1)
    with pytest.raises(TypeError, match="weight must be None or a finite number"):
        SoftmaxCrossEntropyLoss(weight="2")
    with pytest.raises(ValueError, match=r"sample_weight has shape \(2,\), expected .* \(3,\)"):
        SoftmaxCrossEntropyLoss()(np.ones((3, 2)), [0, 1, 0], np.ones(2))
    with pytest.raises(ValueError, match=r"label has shape \(3, 3\), expected the shape of pred"):
        SoftmaxCrossEntropyLoss(sparse_label=False)(np.ones((3, 2)), np.ones((3, 3)))


# --------------------------------------------------------------------- L2
def test_l2_is_half_the_mean_squared_error_per_example():
    rng = np.random.default_rng(0)
    p, y = rng.standard_normal((4, 2, 3)), rng.standard_normal((4, 2, 3))
    np.testing.assert_allclose(L2Loss()(p, y), 0.5 * ((p - y) ** 2).mean(axis=(1, 2)), rtol=1e-12)
    np.testing.assert_allclose(L2Loss(weight=4.0)(p, y), 2 * ((p - y) ** 2).mean(axis=(1, 2)),
                               rtol=1e-12)
    np.testing.assert_allclose(L2Loss()(p, y.reshape(4, 6)), L2Loss()(p, y))  # label reshaped
    assert grad_check(lambda p: L2Loss()(p, y), p) < 1e-6
    assert grad_check(lambda p: L2Loss()(p, y, np.arange(4.0)), p) < 1e-6


def test_l2_matches_torch_mse_halved():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    p, y = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    expected = 0.5 * torch.nn.functional.mse_loss(torch.tensor(p), torch.tensor(y),
                                                  reduction="none").mean(dim=1)
    np.testing.assert_allclose(L2Loss()(p, y), expected.numpy(), rtol=1e-12)


def test_l2_errors():
    with pytest.raises(ValueError, match=r"L2Loss: label has shape \(3,\) \(3 values\), expected "
                                         r"as many values as pred of shape \(2, 2\)"):
        L2Loss()(np.ones((2, 2)), np.ones(3))
    with pytest.raises(ValueError, match="L2Loss: pred must have a batch axis"):
        L2Loss()(np.float64(1.0), 1.0)


def test_l2_keeps_float32():
    assert L2Loss()(np.ones((2, 3), np.float32), np.zeros((2, 3))).dtype == np.float32
