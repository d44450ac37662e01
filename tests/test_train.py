"""d2lmini.train: the Trainer, minibatches and accuracy; and a short training run on the digits."""
import numpy as np
import pytest

import d2lmini
from d2lmini import autograd, init, nn
from d2lmini.loss import L2Loss, SoftmaxCrossEntropyLoss
from d2lmini.train import Trainer, accuracy, batches, evaluate_accuracy

from test_nn import assert_unchanged, snapshot


def dense(seed=0, **kwargs):
    layer = nn.Dense(2, in_units=3, **kwargs)
    layer.initialize(seed=seed)
    return layer


def backward_once(layer, X=None):
    X = np.arange(6.0).reshape(2, 3) if X is None else X
    with autograd.record():
        l = L2Loss()(layer(X), np.zeros((len(X), 2)))
    l.backward()


# --------------------------------------------------------------------- Trainer
def test_trainer_is_exported_as_in_gluon():
    assert d2lmini.Trainer is Trainer


def test_step_is_sgd_on_the_mean_gradient():
    layer = dense()
    trainer = Trainer(layer.collect_params(), "sgd", {"learning_rate": 0.5})
    backward_once(layer)
    expected = {n: p.data() - 0.5 * p.grad() / 2 for n, p in layer.collect_params().items()}
    trainer.step(2)
    for name, p in layer.collect_params().items():
        np.testing.assert_allclose(p.data(), expected[name], rtol=1e-6)


def test_step_with_momentum_and_weight_decay():
    layer = dense()
    w = layer.weight
    trainer = Trainer([w], "SGD", {"learning_rate": 0.1, "momentum": 0.9, "wd": 0.01})
    v = np.zeros_like(w.data(), dtype=np.float64)
    value = w.data().astype(np.float64)
    for _ in range(3):
        backward_once(layer)
        g = w.grad() / 4 + 0.01 * value
        v = 0.9 * v - 0.1 * g
        value = value + v
        trainer.step(4)
        np.testing.assert_allclose(w.data(), value, rtol=1e-5)


@pytest.mark.parametrize("options", [{}, {"momentum": 0.9, "wd": 0.01}], ids=["sgd", "momentum"])
def test_a_step_is_the_formula_to_the_last_bit(options):
    """The update in float32, in the order the formula reads: ``w - lr * (grad / batch_size)``,
    with weight decay and momentum ``v = momentum * v - lr * (grad / batch_size + wd * w)``,
    ``w + v``; bit for bit, so that the stored outputs of the notebooks' training runs stay."""
    layer = dense()
    w = layer.weight
    lr = 0.1
    trainer = Trainer([w], "sgd", {"learning_rate": lr, **options})
    v = None
    for _ in range(3):
        backward_once(layer)
        value, g = w.data().copy(), w.grad() / 4
        if options:
            g += 0.01 * value
            v = 0.9 * (0.0 if v is None else v) - lr * g
            expected = value + v
        else:
            expected = value - lr * g
        trainer.step(4)
        np.testing.assert_array_equal(w.data(), expected)


def test_step_keeps_the_dtype_and_the_array():
    layer = dense()
    array = layer.weight.data()
    trainer = Trainer(layer.collect_params(), "sgd", {"learning_rate": 0.1})
    backward_once(layer)
    trainer.step(1)
    assert layer.weight.data() is array and array.dtype == np.float32


def test_a_parameter_listed_twice_is_updated_once():
    a, b = dense(), dense()
    backward_once(a)
    backward_once(b)
    Trainer([a.weight], "sgd", {"learning_rate": 1.0}).step(1)
    Trainer([b.weight, b.weight], "sgd", {"learning_rate": 1.0}).step(1)
    np.testing.assert_array_equal(a.weight.data(), b.weight.data())


def test_learning_rate_can_change():
    trainer = Trainer(dense().collect_params(), "sgd", {"learning_rate": 0.1})
    assert trainer.learning_rate == 0.1
    trainer.set_learning_rate(0.01)
    assert trainer.learning_rate == 0.01
    with pytest.raises(ValueError, match="Trainer.set_learning_rate: lr must be in"):
        trainer.set_learning_rate(0)


@pytest.mark.parametrize("args, error, message", [
    (("adam", {"learning_rate": 0.1}), ValueError,
     r"optimizer must be one of \['sgd'\], got 'adam'"),
    (("sgd", {"lr": 0.1}), ValueError, r"unknown option\(s\) \['lr'\] for optimizer 'sgd'; "
                                       r"expected some of \['learning_rate', 'momentum', 'wd'\]"),
    (("sgd", {"learning_rate": -1}), ValueError, r"learning_rate must be in \(0, inf\), got -1.0"),
    (("sgd", {"learning_rate": "0.1"}), TypeError, r"learning_rate must be a number, got '0.1'"),
    (("sgd", {"learning_rate": np.nan}), ValueError, r"learning_rate must be in"),
    (("sgd", {"momentum": 1.0}), ValueError, r"momentum must be in \[0, 1\)"),
    (("sgd", 0.1), TypeError, r"optimizer_params must be a dict"),
])
def test_trainer_bad_arguments(args, error, message):
    with pytest.raises(error, match="Trainer: " + message):
        Trainer(dense().collect_params(), *args)


def test_trainer_params_must_be_parameters():
    with pytest.raises(TypeError, match=r"Trainer: params\[1\] must be a Parameter, got ndarray"):
        Trainer([dense().weight, np.ones(3)], "sgd")
    with pytest.raises(TypeError, match="Trainer: params must be a ParameterDict"):
        Trainer(3, "sgd")


@pytest.mark.parametrize("batch_size, error", [(0, ValueError), (-2, ValueError),
                                               ("8", TypeError), (None, TypeError)])
def test_a_bad_batch_size_changes_nothing(batch_size, error):
    layer = dense()
    trainer = Trainer(layer.collect_params(), "sgd", {"learning_rate": 0.1, "momentum": 0.5})
    backward_once(layer)
    before = snapshot(layer)
    with pytest.raises(error, match="Trainer.step: batch_size must be"):
        trainer.step(batch_size)
    assert_unchanged(layer, before)
    assert trainer._velocity == {}


def test_a_step_with_an_uninitialized_parameter_changes_nothing():
    ready, waiting = dense(), nn.Dense(2)
    waiting.initialize(seed=0)  # shape still unknown: deferred
    backward_once(ready)
    trainer = Trainer([*ready.collect_params().values(), *waiting.collect_params().values()],
                      "sgd", {"learning_rate": 0.1})
    before = snapshot(ready)
    with pytest.raises(RuntimeError, match=r"Parameter weight: data\(\) is not available yet"):
        trainer.step(1)
    assert_unchanged(ready, before)


# --------------------------------------------------------------------- batches
def test_batches_cover_every_example_once_the_last_batch_smaller():
    X, y = np.arange(20).reshape(10, 2), np.arange(10)
    got = list(batches(X, y, 4, seed=0))
    assert [len(b) for _, b in got] == [4, 4, 2]
    assert sorted(np.concatenate([b for _, b in got]).tolist()) == list(range(10))
    for Xb, yb in got:
        np.testing.assert_array_equal(Xb, X[yb])  # examples stay with their labels


def test_batches_are_seeded():
    X, y = np.arange(10), np.arange(10)
    order = lambda **kw: np.concatenate([b for _, b in batches(X, y, 3, **kw)]).tolist()
    assert order(seed=1) == order(seed=1)
    assert order(seed=1) != order(seed=2)
    assert order(shuffle=False) == list(range(10))
    rng = np.random.default_rng(0)
    assert order(seed=rng) != order(seed=rng)  # a generator draws a new order each time


@pytest.mark.parametrize("args, kwargs, error, message", [
    ((np.ones((3, 2)), np.ones(4), 2), {}, ValueError,
     r"X and y must hold the same number of examples .* X of shape \(3, 2\) and y of shape \(4,\)"),
    ((np.ones(3), np.ones(3), 0), {}, ValueError, r"batch_size must be at least 1, got 0"),
    ((np.ones(3), np.ones(3), 2.0), {}, TypeError, r"batch_size must be an int, got 2.0"),
    ((np.ones(3), np.ones(3), 2), {"seed": -1}, ValueError, r"seed must be at least 0"),
    ((np.ones(3), np.ones(3), 2), {"seed": "a"}, TypeError, r"seed must be an int"),
    (([[1, 2], [3]], np.ones(2), 2), {}, ValueError,
     r"X must be an array or nested lists of equal lengths, got a ragged list"),
])
def test_batches_errors_come_at_the_call(args, kwargs, error, message):
    with pytest.raises(error, match="batches: " + message):
        batches(*args, **kwargs)  # not at the first next()


# --------------------------------------------------------------------- accuracy
def test_accuracy():
    y_hat = np.array([[0.1, 0.9], [0.8, 0.2], [0.5, 0.5]])  # the tie predicts class 0
    assert accuracy(y_hat, np.array([1, 0, 0])) == 1.0
    assert accuracy(y_hat, np.array([1, 1, 1])) == pytest.approx(1 / 3)
    assert accuracy(np.array([1, 0, 2]), np.array([1, 0, 0])) == pytest.approx(2 / 3)
    assert isinstance(accuracy(y_hat, np.array([[1], [0], [0]])), float)


def test_accuracy_errors():
    with pytest.raises(ValueError, match=r"accuracy: y_hat has shape \(3, 2\), expected \(2, K\)"):
        accuracy(np.ones((3, 2)), np.array([0, 1]))
    with pytest.raises(ValueError, match=r"accuracy: y must hold N >= 1 labels"):
        accuracy(np.ones((0, 2)), np.array([]))


def test_evaluate_accuracy_does_not_depend_on_the_batch_size():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((50, 3)), rng.integers(0, 2, 50)
    layer = dense()
    expected = accuracy(layer(X), y)
    for batch_size in (1, 7, 50, 256):
        assert evaluate_accuracy(layer, X, y, batch_size) == expected


# --------------------------------------------------------------------- the whole loop
def test_a_few_epochs_on_the_digits_learn_something():
    X_train, y_train, X_test, y_test = d2lmini.data.digits()
    net = nn.Sequential()
    net.add(nn.Conv2D(4, kernel_size=3, padding=1, activation="relu"), nn.MaxPool2D(2),
            nn.Flatten(), nn.Dense(10))
    net.initialize(seed=0, init=init.Normal(0.1))
    loss = SoftmaxCrossEntropyLoss()
    trainer = Trainer(net.collect_params(), "sgd", {"learning_rate": 0.2})
    before = evaluate_accuracy(net, X_test, y_test)
    for epoch in range(3):
        for X, y in batches(X_train, y_train, 32, seed=epoch):
            with autograd.record():
                l = loss(net(X), y)
            l.backward()
            trainer.step(len(y))
    after = evaluate_accuracy(net, X_test, y_test)
    assert before < 0.3 and after > 0.8
