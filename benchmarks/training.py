"""A whole LeNet training step: d2lmini against PyTorch CPU and against the NumPy layers of
*Deep Learning from Scratch* (``benchmarks/dlfs.py``); its peak memory; the machine's matmul peak.
And the same step with d2lmini's functions called directly (``Direct``): what the layers, the
tape and the checks add to the time of the functions that compute.

The network is notebook 08's (two 3x3 convolutions with ReLU and 2x2 max pooling, three dense
layers), the batch 64 of ``d2lmini.data.digits()``; one step is forward, softmax cross-entropy,
backward and an SGD update. They all start from the same weights, and one step of each is
checked against d2lmini's before anything is timed.
"""
import gc
import time
import tracemalloc

import numpy as np

import d2lmini
from d2lmini import activation, autograd, data, im2col, init, nn, pool

from . import dlfs

BATCH = 64
LR = 0.1


def block_min_ms(funcs, block=0.2, rounds=5):
    """The per-call time of each function in ms: the best of ``rounds`` blocks of ~``block`` s.

    The functions take turns a block at a time (OpenBLAS's and PyTorch's worker threads spin
    for a while after a call, so alternating call by call would slow both); within a block a
    function runs warm, as in a training loop. The minimum over the blocks is the time the
    machine gives when other work leaves it alone.
    """
    best = [float("inf")] * len(funcs)
    for func in funcs:
        func()  # warm-up: first calls, deferred initialization
    for _ in range(rounds):
        for i, func in enumerate(funcs):
            func()  # the other function ran last
            calls, start = 0, time.perf_counter()
            while True:
                func()
                calls += 1
                elapsed = time.perf_counter() - start
                if elapsed >= block:
                    break
            best[i] = min(best[i], 1e3 * elapsed / calls)
    return best


def matmul_peaks(n=1024):
    """GFLOP/s of ``np.matmul`` on two n x n matrices, float32 and float64: the BLAS's limit."""
    rng = np.random.default_rng(0)
    peaks = {}
    for dtype in (np.float32, np.float64):
        A = rng.standard_normal((n, n)).astype(dtype)
        B = rng.standard_normal((n, n)).astype(dtype)
        (ms,) = block_min_ms([lambda: A @ B], rounds=3)
        peaks[np.dtype(dtype).name] = 2 * n ** 3 / ms / 1e6
    return peaks


def lenet():
    """Notebook 08's LeNet."""
    net = nn.Sequential()
    net.add(nn.Conv2D(6, kernel_size=3, padding=1, activation="relu"),
            nn.MaxPool2D(pool_size=2, strides=2),
            nn.Conv2D(16, kernel_size=3, padding=1, activation="relu"),
            nn.MaxPool2D(pool_size=2, strides=2),
            nn.Flatten(),  # (N, 16, 2, 2) -> (N, 64)
            nn.Dense(120, activation="relu"),
            nn.Dense(84, activation="relu"),
            nn.Dense(10))
    return net


def batch(dtype=np.float32):
    """The first 64 training digits, (64, 1, 8, 8), and their labels."""
    X_train, y_train, _, _ = data.digits()
    return X_train[:BATCH].astype(dtype), y_train[:BATCH]


class Ours:
    """d2lmini's training step, as notebook 08 writes it."""

    def __init__(self, X, y, dtype=np.float32):
        self.X, self.y = X, y
        self.net = lenet()
        self.net.initialize(init=init.Uniform(0.3), seed=0)
        self.net(X[:1])  # learn the input sizes
        self.net.cast(dtype)
        self.loss = d2lmini.loss.SoftmaxCrossEntropyLoss()
        self.trainer = d2lmini.Trainer(self.net.collect_params(), "sgd", {"learning_rate": LR})

    def weights(self):
        """(weight, bias) of the five learned layers, as float32 arrays."""
        layers = [self.net[i] for i in (0, 2, 5, 6, 7)]
        return [(layer.weight.data().astype(np.float32), layer.bias.data().astype(np.float32))
                for layer in layers]

    def step(self):
        with autograd.record():
            l = self.loss(self.net(self.X), self.y)  # (64,)
        l.backward()
        self.trainer.step(len(self.y))
        return l


class Torch:
    """The same network and step in PyTorch (CPU, float32)."""

    def __init__(self, X, y, weights):
        import torch

        self.torch = torch
        F = torch.nn
        self.model = F.Sequential(
            F.Conv2d(1, 6, 3, padding=1), F.ReLU(), F.MaxPool2d(2, 2),
            F.Conv2d(6, 16, 3, padding=1), F.ReLU(), F.MaxPool2d(2, 2),
            F.Flatten(), F.Linear(64, 120), F.ReLU(), F.Linear(120, 84), F.ReLU(),
            F.Linear(84, 10))
        learned = [m for m in self.model if isinstance(m, (F.Conv2d, F.Linear))]
        with torch.no_grad():
            for module, (w, b) in zip(learned, weights):
                module.weight.copy_(torch.from_numpy(w))
                module.bias.copy_(torch.from_numpy(b))
        self.X, self.y = torch.from_numpy(X.astype(np.float32)), torch.from_numpy(y)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=LR)
        self.loss = F.CrossEntropyLoss()  # the mean over the batch

    def step(self):
        self.optimizer.zero_grad()
        l = self.loss(self.model(self.X), self.y)
        l.backward()
        self.optimizer.step()
        return l

    def weights(self):
        learned = [m for m in self.model if isinstance(m, (self.torch.nn.Conv2d,
                                                           self.torch.nn.Linear))]
        return [(m.weight.detach().numpy().copy(), m.bias.detach().numpy().copy())
                for m in learned]


class Peer:
    """The same network and step with Deep Learning from Scratch's layers (benchmarks/dlfs.py)."""

    def __init__(self, X, y, weights):
        params = {}
        for i, (w, b) in enumerate(weights, 1):
            params[f"W{i}"] = w.copy() if w.ndim == 4 else w.T.copy()  # the book's (in, out)
            params[f"b{i}"] = b.copy()
        self.network = dlfs.SimpleLeNet(params)
        self.optimizer = dlfs.SGD(lr=LR)
        self.X, self.y = X.astype(np.float32), y

    def step(self):
        grads = self.network.gradient(self.X, self.y)
        self.optimizer.update(self.network.params, grads)

    def weights(self):
        p = self.network.params
        return [(p[f"W{i}"] if p[f"W{i}"].ndim == 4 else p[f"W{i}"].T, p[f"b{i}"])
                for i in range(1, 6)]


class Direct:
    """The same step, loss included, on the functions d2lmini's layers call (``im2col``'s
    conv2d, ``pool``'s 2x2 maximum, the matrix products of ``Dense``), called directly: no
    layer, tape or check.

    Not a way to train (it knows this one network only); it measures what the layer path (the
    layers' checks, the tape, ``Trainer.step``) adds to the time of the functions that compute.
    """

    def __init__(self, X, y, weights):
        self.X, self.y = X, y
        self.params = [a.copy() for pair in weights for a in pair]  # w1, b1, ..., w5, b5

    @staticmethod
    def _relu(a):
        """ReLU over a, in place; returns where a was positive (the gradient's mask)."""
        positive = a > 0
        np.maximum(a, activation._zeros(a), out=a)  # as d2lmini's ReLU computes it
        return positive

    @staticmethod
    def _max_pool(x):
        """2x2 max pooling of x (N, C, H, W), and where each window's first maximum is."""
        return pool._max_2x2(x)

    @staticmethod
    def _max_pool_grad(grad, firsts):
        """The gradient of ``_max_pool``: each window's at its first maximum, zero elsewhere."""
        return pool._max_2x2_grad(grad, *firsts, grad.dtype)

    def step(self):
        w1, b1, w2, b2, w3, b3, w4, b4, w5, b5 = self.params
        n, one = len(self.y), (1, 1)
        kept1, kept2 = [], []  # the column matrices, for the backward pass (trick 9)
        h1 = im2col.conv2d_forward(self.X, w1, b1, one, one, kept1)  # (64, 6, 8, 8)
        m1 = self._relu(h1)
        p1, f1 = self._max_pool(h1)  # (64, 6, 4, 4)
        h2 = im2col.conv2d_forward(p1, w2, b2, one, one, kept2)  # (64, 16, 4, 4)
        m2 = self._relu(h2)
        p2, f2 = self._max_pool(h2)  # (64, 16, 2, 2)
        a0 = p2.reshape(n, -1)  # (64, 64)
        a1 = a0 @ w3.T
        a1 += b3
        m3 = self._relu(a1)  # (64, 120)
        a2 = a1 @ w4.T
        a2 += b4
        m4 = self._relu(a2)  # (64, 84)
        z = a2 @ w5.T
        z += b5  # (64, 10)
        z -= z.max(axis=1, keepdims=True)
        softmax = np.exp(z)
        total = softmax.sum(axis=1, keepdims=True)
        rows = np.arange(n)
        loss = np.mean(np.log(total[:, 0]) - z[rows, self.y])  # the mean cross-entropy
        softmax /= total
        g = softmax  # its gradient with respect to z
        g[rows, self.y] -= 1
        g /= n
        grads = [None] * 10
        grads[8], grads[9], g = g.T @ a2, g.sum(axis=0), (g @ w5) * m4
        grads[6], grads[7], g = g.T @ a1, g.sum(axis=0), (g @ w4) * m3
        grads[4], grads[5], g = g.T @ a0, g.sum(axis=0), (g @ w3).reshape(p2.shape)
        g = self._max_pool_grad(g, f2) * m2
        g, grads[2], grads[3] = im2col.conv2d_backward(p1, w2, g, one, one, True, kept2)
        g = self._max_pool_grad(g, f1) * m1
        _, grads[0], grads[1] = im2col.conv2d_backward(self.X, w1, g, one, one, False, kept1)
        for param, grad in zip(self.params, grads):
            param -= LR * grad
        return loss

    def weights(self):
        return list(zip(self.params[0::2], self.params[1::2]))


def check_same_step(ours, others):
    """From the same weights, one step of every network makes the same update of every weight
    (to float32 rounding): the benchmark compares the same computation. The updates, not the
    weights, are compared: a weight moves by a few hundredths in a step, so a tolerance on the
    weight itself would let a wrong update through."""
    before = ours.weights()
    ours.step()
    expected = [(w - w0, b - b0) for (w, b), (w0, b0) in zip(ours.weights(), before)]
    for name, other in others.items():
        start = [(w.copy(), b.copy()) for w, b in other.weights()]
        other.step()
        moved = [(w - w0, b - b0) for (w, b), (w0, b0) in zip(other.weights(), start)]
        for layer, ((w, b), (w2, b2)) in enumerate(zip(expected, moved)):
            for a, a2 in ((w, w2), (b, b2)):
                if not np.allclose(a, a2, rtol=1e-4, atol=2e-7):
                    raise AssertionError(
                        f"{name}'s step differs from d2lmini's in layer {layer}: largest "
                        f"difference of the updates {np.abs(a - a2).max():.3g}")


def held_bytes(ours):
    """The bytes a step must hold: the batch, every layer's output, the parameters and their
    gradients, and one column matrix (N*H_out*W_out, C_in*kh*kw) per convolution."""
    X = ours.X
    total = X.nbytes + ours.y.nbytes
    parts = {"batch": X.nbytes + ours.y.nbytes, "outputs": 0, "parameters and grads": 0,
             "column matrices": 0}
    for layer in ours.net:
        if isinstance(layer, nn.Conv2D):
            c_out, c_in, kh, kw = layer.weight.shape
            Y = layer(X)
            parts["column matrices"] += (Y.shape[0] * Y.shape[2] * Y.shape[3] * c_in * kh * kw
                                         * X.itemsize)
        X = layer(X)
        parts["outputs"] += X.nbytes
    for param in ours.net.collect_params().values():
        parts["parameters and grads"] += param.data().nbytes + param.grad().nbytes
    total = sum(parts.values())
    return total, parts


def peak_bytes(ours):
    """tracemalloc's peak during one training step (everything alive counted: the batch, the
    parameters and gradients, conv2d's work arrays kept between calls, and what the step
    allocates)."""
    # made again under tracemalloc, so counted, even when an earlier step of this thread (the
    # timed ones) made them
    for kept in ("buffers", "scratch", "views"):
        im2col._local.__dict__.pop(kept, None)
    im2col._spare.clear()
    gc.collect()
    tracemalloc.start()
    try:
        fresh = Ours(ours.X.copy(), ours.y.copy(), ours.X.dtype)
        fresh.step()  # first step: buffers and caches made once
        gc.collect()
        tracemalloc.reset_peak()
        fresh.step()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak


def lenet_step(quick=False):
    """Time the step of each, print a table, and return the results as a dict."""
    X, y = batch()
    ours = Ours(X, y)
    ours64 = Ours(X.astype(np.float64), y, np.float64)
    start = ours.weights()
    others = {}
    try:
        others["torch"] = Torch(X, y, start)
    except ImportError:
        print("(PyTorch not installed: `pip install torch==2.13.0` adds it to this table)")
    others["peer"] = Peer(X, y, start)
    others["direct"] = Direct(X, y, start)
    check_same_step(ours, others)
    names = ["ours", "ours float64", *others]
    funcs = [ours.step, ours64.step, *(o.step for o in others.values())]
    times = dict(zip(names, block_min_ms(funcs, rounds=3 if quick else 5)))
    torch_threads = others["torch"].torch.get_num_threads() if "torch" in others else None
    print(f"## LeNet training step (notebook 08's network, batch {BATCH} digits 8x8: forward, "
          "loss, backward, SGD)\n")
    print(f"{'':>34} {'ms':>7} {'ours / it':>10}")
    rows = [("d2lmini, float32", times["ours"]), ("d2lmini, float64", times["ours float64"])]
    if "torch" in times:
        rows.append((f"PyTorch CPU float32 ({torch_threads} threads)", times["torch"]))
    rows.append(("Deep Learning from Scratch layers", times["peer"]))
    rows.append(("d2lmini, functions called directly", times["direct"]))
    for label, ms in rows:
        print(f"{label:>34} {ms:>7.3f} {times['ours'] / ms:>9.2f}x")
    result = {"ours_ms": times["ours"], "ours64_ms": times["ours float64"],
              "torch_ms": times.get("torch"), "peer_ms": times["peer"],
              "direct_ms": times["direct"]}
    if "torch" in times:
        print(f"\nours / PyTorch: {times['ours'] / times['torch']:.2f}x (target <= 2.0)")
    print(f"the Deep Learning from Scratch step / ours: {times['peer'] / times['ours']:.1f}x "
          "(target >= 3)")
    print(f"ours / d2lmini's functions called directly: {times['ours'] / times['direct']:.2f}x "
          f"(what the layers, the tape and the checks add); the Deep Learning from Scratch "
          f"step / the direct calls: {times['peer'] / times['direct']:.1f}x\n")
    return result


def memory():
    """Print and return tracemalloc's peak of one step next to the bytes the step must hold."""
    X, y = batch()
    ours = Ours(X, y)
    held, parts = held_bytes(ours)
    peak = peak_bytes(ours)
    print(f"## Memory of one LeNet training step, float32, batch {BATCH} (tracemalloc)\n")
    for name, nbytes in parts.items():
        print(f"{name:>22}: {nbytes / 1024:8.1f} KiB")
    print(f"{'held, in all':>22}: {held / 1024:8.1f} KiB")
    print(f"{'peak of a step':>22}: {peak / 1024:8.1f} KiB  ({peak / held:.2f}x what it must "
          "hold; target <= 2)\n")
    return {"peak_bytes": peak, "held_bytes": held}


def per_layer(ours, block=0.05, rounds=3):
    """Each layer of the step alone, in µs: its recorded forward, and forward + backward with
    the input gradient (the input a Tensor that needs one, as inside the network), then the
    loss and ``Trainer.step``. Where the step's time goes, layer by layer; not part of
    ``make bench``: ``python -c "from benchmarks import training; training.per_layer_table()"``.
    """
    rows = []
    x = ours.X
    for i, layer in enumerate(ours.net):
        out = layer(x)  # plain arrays: the next layer's input
        G = np.random.default_rng(i).standard_normal(out.shape).astype(out.dtype)
        leaf = autograd.Tensor(x)
        leaf.attach_grad()

        def forward(layer=layer, leaf=leaf):
            with autograd.record():
                return layer(leaf)

        def both(forward=forward, G=G):
            forward().backward(G)

        fwd, fwd_bwd = block_min_ms([forward, both], block=block, rounds=rounds)
        rows.append((f"{i}: {layer!r}", 1e3 * fwd, 1e3 * fwd_bwd))
        x = out
    leaf = autograd.Tensor(x)
    leaf.attach_grad()

    def loss():
        with autograd.record():
            return ours.loss(leaf, ours.y)

    def loss_both():
        loss().backward()

    fwd, fwd_bwd = block_min_ms([loss, loss_both], block=block, rounds=rounds)
    rows.append(("loss", 1e3 * fwd, 1e3 * fwd_bwd))
    (step,) = block_min_ms([lambda: ours.trainer.step(BATCH)], block=block, rounds=rounds)
    rows.append(("Trainer.step", 1e3 * step, float("nan")))
    return rows


def per_layer_table(dtype=np.float32):
    """Print :func:`per_layer` for notebook 08's network, and the whole step."""
    X, y = batch(dtype)
    ours = Ours(X, y, dtype)
    for name, fwd, fwd_bwd in per_layer(ours):
        print(f"{name[:58]:<58} {fwd:8.1f} {fwd_bwd:8.1f}")
    (ms,) = block_min_ms([ours.step], rounds=3)
    print(f"{'whole step':<58} {1e3 * ms:8.1f}")
