"""The benchmark's README table generator (on made-up results, never timings) and its peer."""
import pathlib

import numpy as np
import pytest

import d2lmini
from d2lmini import autograd
from benchmarks import readme, training

ROOT = pathlib.Path(__file__).resolve().parents[1]


def fake_results(conv=None, unset=True, torch=True):
    def part(scale):
        return {"peaks": {"float32": 450.0 * scale, "float64": 206.0 * scale},
                "training": {"ours_ms": 2.0 * scale, "ours64_ms": 2.5, "peer_ms": 8.0,
                             "torch_ms": 1.25 if torch else None, "direct_ms": 1.6 * scale},
                "conv": conv}
    settings = {"set": part(1.0)}
    if unset:
        settings["unset"] = part(0.5)
    return {"blas": {"OPENBLAS_CORETYPE": "Haswell" if unset else None,
                     "OPENBLAS_L2_SIZE": None},
            "settings": settings,
            "memory": {"peak_bytes": 3 * 1024, "held_bytes": 2 * 1024},
            "loop": {"size": 256, "speedup": 212.4},
            "scipy": [{"dtype": "float32", "size": 64, "kernel": 3, "ratio": 1.24},
                      {"dtype": "float64", "size": 1024, "kernel": 7, "ratio": 10.96},
                      {"dtype": "float64", "size": 64, "kernel": 11, "ratio": 0.98}],
            "pool": [{"mode": "max", "case": "2/2/0", "speedup": 300.2, "torch_ratio": 1.5},
                     {"mode": "avg", "case": "3/2/1", "speedup": 1200.0, "torch_ratio": 2.25}],
            "imports": [], "load": (0.5, 3.4), "cores": 2}


def rows(text):
    return {line.split(" | ")[0][2:]: line.split(" | ")[1:] for line in text.splitlines()[2:]}


def test_table_has_a_column_per_blas_setting_with_the_ratios():
    text = readme.table(fake_results())
    head = text.splitlines()[0]
    assert "as set (OPENBLAS_CORETYPE=Haswell, OPENBLAS_L2_SIZE=(unset))" in head
    assert "BLAS variables unset" in head
    table = rows(text)
    step = next(v for k, v in table.items() if k.startswith("LeNet training step"))
    assert step[0] == "2.00 / 1.25 ms = 1.60x" and step[1] == "1.00 / 1.25 ms = 0.80x"
    peer = next(v for k, v in table.items() if "Deep Learning from Scratch" in k)
    assert peer[0] == "8.00 / 2.00 ms = 4.0x" and peer[1] == "8.00 / 1.00 ms = 8.0x"
    direct = next(v for k, v in table.items() if "directly" in k)
    peer_over_direct = "(Deep Learning from Scratch / the direct calls: {}x)"
    assert direct[0] == "2.00 / 1.60 ms = 1.25x " + peer_over_direct.format("5.0")
    assert direct[1] == "1.00 / 0.80 ms = 1.25x " + peer_over_direct.format("10.0")
    peak = next(v for k, v in table.items() if k.startswith("`np.matmul` peak"))
    assert peak[:2] == ["450 / 206 GFLOP/s", "225 / 103 GFLOP/s"]
    memory = next(v for k, v in table.items() if k.startswith("peak memory"))
    assert memory == ["3 / 2 KiB = 1.50x", "-", "<= 2x |"]
    scipy = next(v for k, v in table.items() if "kernels up to 7x7" in k)
    assert scipy[0] == "1.2-11.0x faster"
    pool = next(v for k, v in table.items() if k.startswith("`pool2d` forward vs"))
    assert pool[0] == "300-1200x faster"
    imports = next(v for k, v in table.items() if k.startswith("modules of"))
    assert imports[0] == "none"
    load = next(v for k, v in table.items() if k.startswith("the machine's load"))
    assert load[0] == "0.5 / 3.4"
    # every row has one cell per setting and a target
    assert {len(v) for v in table.values()} == {3}


def test_conv_rows_come_from_against_torchs_list_and_are_absent_without_it():
    conv = [{"case": "A", "dtype": "float32", "grads": "weight, bias", "ours_ms": 3.0,
             "torch_ms": 1.5},
            {"case": "B1", "dtype": "float32", "grads": "X, weight, bias", "ours_ms": 1.0,
             "torch_ms": None}]
    table = rows(readme.table(fake_results(conv=conv)))
    a = table["`conv2d` A, float32, gradients of weight, bias: d2lmini / PyTorch"]
    assert a[0] == "3.00 / 1.50 ms = 2.00x"
    assert table["`conv2d` B1, float32, gradients of X, weight, bias: d2lmini / PyTorch"][0] \
        == "1.00 ms"
    assert not any(k.startswith("`conv2d`") for k in rows(readme.table(fake_results())))
    assert not any("previous conv2d" in k for k in table)  # no baseline timed: no row


def test_speed_up_rows_over_the_previous_conv2d():
    conv = [{"case": "B2", "dtype": "float32", "grads": "X, weight, bias", "ours_ms": 2.0,
             "torch_ms": 1.0, "previous_ms": 3.5},
            {"case": "A", "dtype": "float64", "grads": "weight, bias", "ours_ms": 2.0,
             "torch_ms": 1.0, "previous_ms": None}]
    table = rows(readme.table(fake_results(conv=conv)))
    b2 = table["`conv2d` B2, float32, every gradient: the previous conv2d (`benchmarks/before.py`)"
               " / d2lmini"]
    assert b2[0] == "3.50 / 2.00 ms = 1.75x" and b2[-1].rstrip(" |") == ">= 1.5x"
    assert not any("A, float64, every gradient" in k for k in table)


def test_the_time_split_row_gives_each_part_as_a_share_of_the_total():
    results = fake_results()
    results["split"] = [{"dtype": "float32", "total_ms": 20.0, "products_ms": 13.0,
                         "im2col_ms": 3.0, "col2im_ms": 2.5, "rest_ms": 1.5}]
    table = rows(readme.table(results))
    split = table["where `conv2d` A's time goes, float32, one core: the products / im2col / "
                  "col2im / the rest"]
    assert split[0] == "20.00 ms: 65% / 15% / 12% / 8%" and split[1] == "-"


def test_time_split_restores_what_it_times(monkeypatch):
    """The split patches d2lmini.im2col's functions while it runs, and puts them back."""
    from benchmarks import __main__ as bench
    from d2lmini import im2col
    saved = im2col.np, im2col._im2col, im2col._input_grad
    (f32, f64) = bench.time_split(np.random.default_rng(0), repeat=1)
    assert (im2col.np, im2col._im2col, im2col._input_grad) == saved
    for split in (f32, f64):
        parts = [split[f"{name}_ms"] for name in ("products", "im2col", "col2im")]
        assert all(part > 0 for part in parts) and sum(parts) < split["total_ms"]


def test_time_split_times_every_product(monkeypatch):
    """Each of conv2d's three products per chunk (np.matmul or np.dot) counts as a product."""
    from benchmarks import __main__ as bench
    from d2lmini import im2col
    timed, real = [], bench._TimedNumPy._timed

    def counted(self, product, *args, **kwargs):
        timed.append(product)
        return real(self, product, *args, **kwargs)

    monkeypatch.setattr(bench._TimedNumPy, "_timed", counted)
    bench.time_split(np.random.default_rng(0), repeat=1)
    chunks = sum(len(im2col._plan(np.empty((32, 16, 32, 32), dtype), (3, 3), (1, 1), (0, 0))[1])
                 for dtype in (np.float32, np.float64))
    assert len(timed) == 3 * chunks and np.dot in timed


@pytest.mark.parametrize("strides, padding", [(1, 0), (2, 1), (1, 2)])
def test_the_previous_conv2d_computes_what_conv2d_computes(strides, padding):
    """The baseline of the speed-up row does the same work: the same output and gradients."""
    from benchmarks import before
    rng = np.random.default_rng(3)
    X, W = rng.normal(size=(5, 3, 9, 8)), rng.normal(size=(4, 3, 3, 3))
    b = rng.normal(size=4)
    Y = d2lmini.conv2d(X, W, b, strides, padding)
    pair = ((strides, strides), (padding, padding))
    np.testing.assert_allclose(before.forward(X, W, b, *pair), Y, rtol=1e-12, atol=1e-12)
    G = rng.normal(size=Y.shape)
    for ours, theirs in zip(d2lmini.conv2d_grad(X, W, G, strides, padding),
                            before.backward(X, W, G, *pair)):
        np.testing.assert_allclose(theirs, ours, rtol=1e-12, atol=1e-12)
    leaves = [d2lmini.autograd.Tensor(a) for a in (X, W, b)]
    for leaf in leaves:
        leaf.attach_grad()
    with d2lmini.autograd.record():
        taped = before.conv2d(*leaves, strides, padding)
    taped.backward(G)
    np.testing.assert_allclose(taped.data, Y, rtol=1e-12, atol=1e-12)
    for leaf, ours in zip(leaves, d2lmini.conv2d_grad(X, W, G, strides, padding)):
        np.testing.assert_allclose(leaf.grad, ours, rtol=1e-12, atol=1e-12)


def test_one_column_when_no_blas_variable_is_set_and_no_torch():
    text = readme.table(fake_results(unset=False, torch=False))
    assert "BLAS variables unset" not in text.splitlines()[0]
    step = next(v for k, v in rows(text).items() if k.startswith("LeNet training step"))
    assert step == ["2.00 ms (PyTorch not installed)", "<= 2.0x |"]


def test_rewrite_replaces_only_the_marked_section():
    text = f"# Title\n\nbefore\n{readme.START}\nold table\n{readme.END}\nafter\n"
    new = readme.rewrite(text, "| new |\n")
    assert new == f"# Title\n\nbefore\n{readme.START}\n| new |\n{readme.END}\nafter\n"
    assert readme.rewrite(new, "| new |\n") == new  # a second run changes nothing


@pytest.mark.parametrize("text", ["no markers", f"{readme.END}\n{readme.START}\n"])
def test_rewrite_refuses_text_without_the_markers_in_order(text):
    with pytest.raises(ValueError, match="rewrite"):
        readme.rewrite(text, "| t |\n")


def test_the_readme_holds_the_markers_once():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert text.count(readme.START) == 1 and text.count(readme.END) == 1
    assert text.index(readme.START) < text.index(readme.END)


def test_the_peer_computes_the_same_training_step():
    X, y = training.batch()
    ours = training.Ours(X, y)
    peer = training.Peer(X, y, ours.weights())
    training.check_same_step(ours, {"peer": peer})  # raises if any weight differs
    ours.weights()[0][0][0, 0, 0, 0] += 1.0  # a copy: the check compares values, not objects
    peer.network.params["W1"][0, 0, 0, 0] += 1.0
    with pytest.raises(AssertionError, match="layer 0"):
        training.check_same_step(ours, {"peer": peer})


def test_the_direct_calls_compute_the_same_training_step():
    """The step on d2lmini's functions called directly, without layers or tape, is the layers'
    step, loss included: the ratio between the two is the layer path's own cost, nothing else."""
    X, y = training.batch()
    ours = training.Ours(X, y)
    direct = training.Direct(X, y, ours.weights())
    with autograd.record():
        loss = ours.loss(ours.net(X), y).data.mean()
    np.testing.assert_allclose(direct.step(), loss, rtol=1e-6)
    ours.step()
    training.check_same_step(ours, {"direct": direct})  # the second step of each
    direct.params[9][0] += 1.0  # the last layer's bias
    with pytest.raises(AssertionError, match="direct's step differs from d2lmini's"):
        training.check_same_step(ours, {"direct": direct})


def test_the_check_compares_the_updates_not_the_weights(monkeypatch):
    """A learning rate 0.02% too large moves a weight by at most about 1e-5 more: inside a
    tolerance relative to the weights (up to 0.3), not to the updates (a few hundredths)."""
    X, y = training.batch()
    ours = training.Ours(X, y)
    direct = training.Direct(X, y, ours.weights())
    monkeypatch.setattr(training, "LR", training.LR * 1.0002)  # the direct step reads it
    with pytest.raises(AssertionError, match="direct's step differs"):
        training.check_same_step(ours, {"direct": direct})


def test_held_bytes_counts_the_column_matrices():
    X, y = training.batch()
    _, parts = training.held_bytes(training.Ours(X, y))
    # conv 1: 64 * 8 * 8 positions of 1 * 3 * 3 values; conv 2: 64 * 4 * 4 of 6 * 3 * 3; float32
    assert parts["column matrices"] == 4 * (64 * 64 * 9 + 64 * 16 * 54)
    assert parts["batch"] == X.nbytes + y.nbytes
    assert np.isfinite(parts["outputs"]) and parts["outputs"] > 0
