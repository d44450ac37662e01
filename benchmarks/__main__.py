"""Print median times and speed ratios of d2lmini's core against its references.

1. ``corr2d`` against the book's loop ``corr2d_naive``;
2. ``corr2d`` against ``scipy.signal.correlate2d(mode='valid')`` over image and kernel sizes;
3. ``conv2d`` forward and backward against PyTorch's CPU ``conv2d`` (if torch is installed:
   ``pip install torch==2.13.0``), with GFLOP/s next to the machine's ``np.matmul`` peak;
4. ``pool2d``, max and average, forward and forward + backward, against the book's loop
   ``pool2d_naive`` and (if installed) PyTorch's ``max_pool2d`` / ``avg_pool2d``;
5. what ``import d2lmini`` pulls in;
6. a whole LeNet training step against PyTorch and Deep Learning from Scratch's layers, and its
   peak memory (``benchmarks/training.py``, ``benchmarks/dlfs.py``);
7. the matmul peak, conv2d and the training step again with OPENBLAS_CORETYPE and
   OPENBLAS_L2_SIZE unset, in a child process (when the machine sets them).

Usage: python -m benchmarks [--quick] [--readme]  (--readme rewrites README.md's table)
"""
import ast
import json
import os
import subprocess
import tempfile
import sys
import time
import timeit

import numpy as np

import d2lmini
from d2lmini import autograd

from . import before, readme, training


def median_ms(func, repeat=7, number=1):
    """Median wall time of ``func()`` in milliseconds, after one warm-up call."""
    func()
    return 1e3 * float(np.median(timeit.repeat(func, repeat=repeat, number=number))) / number


def paired_median_ms(ours, theirs, rounds=3, block=5):
    """Median times of two functions, timed in alternating blocks of calls.

    Within a block each function runs warm, as in a training loop; alternating the blocks lets
    a change in the machine's load during the measurement weigh on both alike.
    """
    times = ([], [])
    for _ in range(rounds):
        for func, record in zip((ours, theirs), times):
            func()  # warm-up: the other function ran last
            record.extend(timeit.repeat(func, repeat=block, number=1))
    return tuple(1e3 * float(np.median(t)) for t in times)


def loop_vs_vectorized(rng):
    print("## corr2d vs the book's loop corr2d_naive (3x3 kernel, float64)\n")
    print(f"{'image':>9} {'naive ms':>10} {'corr2d ms':>10} {'speed-up':>9}")
    K = rng.standard_normal((3, 3))
    for n in (64, 128, 256):
        X = rng.standard_normal((n, n))
        naive = median_ms(lambda: d2lmini.corr2d_naive(X, K), repeat=3)
        fast = median_ms(lambda: d2lmini.corr2d(X, K))
        print(f"{n:>4}x{n:<4} {naive:>10.2f} {fast:>10.3f} {naive / fast:>8.0f}x")
    print("target: >= 100x at 256x256\n")
    return {"size": n, "speedup": naive / fast}


def against_scipy(rng, sizes, kernels):
    try:
        from scipy.signal import correlate2d
    except ImportError:
        print("## corr2d vs scipy: skipped, scipy is not installed\n")
        return []
    results = []
    print("## corr2d vs scipy.signal.correlate2d(mode='valid')\n")
    print(f"{'dtype':>8} {'image':>9} {'kernel':>7} {'scipy ms':>9} {'corr2d ms':>10} {'ratio':>6}")
    for dtype in (np.float32, np.float64):
        for n in sizes:
            for k in kernels:
                X = rng.standard_normal((n, n)).astype(dtype)
                K = rng.standard_normal((k, k)).astype(dtype)
                ours, theirs = paired_median_ms(lambda: d2lmini.corr2d(X, K),
                                                lambda: correlate2d(X, K, mode="valid"))
                print(f"{dtype.__name__:>8} {n:>4}x{n:<4} {k:>3}x{k:<3} {theirs:>9.2f} "
                      f"{ours:>10.2f} {theirs / ours:>5.1f}x")
                results.append({"dtype": dtype.__name__, "size": n, "kernel": k,
                                "ratio": theirs / ours})
    print("ratio = scipy time / corr2d time; target: > 1 for kernels up to 7x7\n")
    return results


def conv2d_step(X, W, b, G, input_grad, strides=1, padding=0, conv2d=d2lmini.conv2d):
    """One forward and backward pass of ``conv2d`` (d2lmini's, or the previous one of
    ``benchmarks/before.py``) through the tape.

    The weight and bias always need gradients (training); the input only if ``input_grad``.
    """
    leaves = [autograd.Tensor(a) for a in (X, W, b)]
    for leaf in leaves[0 if input_grad else 1:]:
        leaf.attach_grad()
    with autograd.record():
        Y = conv2d(*leaves, strides=strides, padding=padding)
    Y.backward(G)


def against_torch(rng, block_s=0.2, rounds=5, cpu_time=False):
    """conv2d forward + backward against PyTorch's CPU conv2d and the previous conv2d.

    OpenBLAS's idle workers and PyTorch's threads spin for a while after each call, so the two
    sides run in alternating blocks of about ``block_s`` seconds, and the best call of all the
    blocks counts (the machine's slow phases and other load only ever add time).

    With ``cpu_time`` the calls are timed by the CPU time of this thread, PyTorch on one thread:
    run so with ``OPENBLAS_NUM_THREADS=1`` (NumPy's BLAS on this thread too, and conv2d's chunks
    not shared: another thread's CPU time would not be counted). On a machine shared with other
    work this counts the work done, not the waits for a core.

    Returns:
        A list of dicts {"case", "dtype", "grads", "ours_ms", "torch_ms", "previous_ms"}
        (torch_ms NaN without PyTorch; previous_ms, the previous conv2d's time for every
        gradient, None for the weight-and-bias rows), one per printed row.
    """
    import os
    import time
    try:
        import torch
    except ImportError:
        torch = None
        print("(PyTorch not installed: `pip install torch==2.13.0` adds it to this table)")
    clock = time.thread_time if cpu_time else timeit.default_timer
    if torch is not None:
        threads = torch.get_num_threads()
        if cpu_time:
            torch.set_num_threads(1)

    def best_ms(funcs):
        best = [float("inf")] * len(funcs)
        for _ in range(rounds):
            for index, func in enumerate(funcs):
                func()  # warm-up: the other side ran last
                start = end = clock()
                while end - start < block_s:
                    call = clock()
                    func()
                    end = clock()
                    best[index] = min(best[index], end - call)
        return [1e3 * t for t in best]

    cases = [  # name, N, C_in, C_out, H, k, strides, padding, dtypes
        ("A", 32, 16, 32, 32, 3, 1, 0, (np.float32, np.float64)),
        ("B1", 64, 1, 6, 28, 5, 1, 2, (np.float32,)),
        ("B2", 64, 6, 16, 14, 5, 1, 0, (np.float32,)),
        ("C", 8, 3, 16, 128, 3, 2, 1, (np.float32,)),
    ]
    blas = {name: os.environ.get(name, "unset") for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    print("## conv2d forward + backward vs PyTorch CPU conv2d "
          f"(OPENBLAS_CORETYPE={blas['OPENBLAS_CORETYPE']}, "
          f"OPENBLAS_L2_SIZE={blas['OPENBLAS_L2_SIZE']}"
          + (f", torch threads {torch.get_num_threads()}" if torch else "")
          + (", CPU time of one thread" if cpu_time else ", wall time") + ")\n")
    for dtype in (np.float32, np.float64):
        A = rng.standard_normal((1024, 1024)).astype(dtype)
        peak = 2 * 1024 ** 3 / best_ms([lambda: A @ A])[0] / 1e6
        print(f"np.matmul 1024x1024 peak, {dtype.__name__}: {peak:.0f} GFLOP/s")
    print("\nA: N32 C16->32 32x32 k3; B1: LeNet conv1 N64 1->6 28x28 k5 pad 2; "
          "B2: LeNet conv2 N64 6->16 14x14 k5; C: N8 3->16 128x128 k3 pad 1 stride 2\n")
    print(f"{'case':>4} {'dtype':>8} {'gradients':>16} {'d2lmini ms':>11} {'torch ms':>9} "
          f"{'ratio':>6} {'GFLOP/s':>8} {'speed-up':>9}")
    rows = []
    for name, N, C_in, C_out, H, k, stride, pad, dtypes in cases:
        H_out = (H + 2 * pad - k) // stride + 1
        for dtype in dtypes:
            X = rng.standard_normal((N, C_in, H, H)).astype(dtype)
            W = rng.standard_normal((C_out, C_in, k, k)).astype(dtype)
            b = rng.standard_normal(C_out).astype(dtype)
            G = rng.standard_normal((N, C_out, H_out, H_out)).astype(dtype)
            for input_grad in ((False, True) if name == "A" else (True,)):
                products = 3 if input_grad else 2  # forward, weight gradient, input gradient
                flops = products * 2 * N * C_out * C_in * k * k * H_out * H_out

                def ours():
                    conv2d_step(X, W, b, G, input_grad, stride, pad)

                def previous():
                    conv2d_step(X, W, b, G, input_grad, stride, pad, conv2d=before.conv2d)

                funcs = [ours] + ([previous] if input_grad else [])
                if torch is None:
                    ours_ms, *previous_ms = best_ms(funcs)
                    theirs = float("nan")
                else:
                    tX = torch.tensor(X, requires_grad=input_grad)
                    tW, tb = (torch.tensor(a, requires_grad=True) for a in (W, b))
                    tG = torch.tensor(G)

                    def torch_step():
                        for t in (tX, tW, tb):
                            t.grad = None
                        torch.nn.functional.conv2d(tX, tW, tb, stride=stride,
                                                   padding=pad).backward(tG)

                    ours_ms, theirs, *previous_ms = best_ms([ours, torch_step] + funcs[1:])
                which = "X, weight, bias" if input_grad else "weight, bias"
                speedup = f"{previous_ms[0] / ours_ms:>8.2f}x" if previous_ms else f"{'':>9}"
                print(f"{name:>4} {dtype.__name__:>8} {which:>16} {ours_ms:>11.2f} {theirs:>9.2f} "
                      f"{ours_ms / theirs:>5.2f}x {flops / ours_ms / 1e6:>8.1f} {speedup}")
                rows.append({"case": name, "dtype": dtype.__name__,
                             "grads": "X, weight, bias" if input_grad else "weight, bias",
                             "ours_ms": ours_ms, "torch_ms": theirs,
                             "previous_ms": previous_ms[0] if previous_ms else None})
    print("ratio = d2lmini time / torch time, best call of alternating blocks; targets: case A\n"
          "float32 <= 2.5x (stretch 2x), float64 <= 1.0x. 'weight, bias' is the training case:\n"
          "the input needs no gradient, and both libraries skip it. speed-up = the previous\n"
          "conv2d's time (benchmarks/before.py: the textbook im2col, through the same tape) /\n"
          "d2lmini's; target >= 1.5x for B1, B2 and C\n")
    if torch is not None:
        torch.set_num_threads(threads)
    return rows


class _TimedNumPy:
    """NumPy as ``d2lmini.im2col`` sees it, with its products (``np.matmul``, ``np.dot``) timed
    into ``spent["products"]``."""

    def __init__(self, spent):
        self.spent = spent

    def __getattr__(self, name):
        return getattr(np, name)

    def _timed(self, product, *args, **kwargs):
        start = time.perf_counter()
        try:
            return product(*args, **kwargs)
        finally:
            self.spent["products"] += time.perf_counter() - start

    def matmul(self, *args, **kwargs):
        return self._timed(np.matmul, *args, **kwargs)

    def dot(self, *args, **kwargs):
        return self._timed(np.dot, *args, **kwargs)


def time_split(rng, repeat=30):
    """Where conv2d's time goes, case A float32 and float64, forward + every gradient, on one
    core (no chunks shared, the BLAS on one thread): the three products, building the column
    matrices (``_im2col``), col2im (``_input_grad`` less its product), and the rest (the
    output and its gradient moved between (N, C, H, W) and the columns' order, checks, the
    tape). Case A is worked on the grid (d2lmini/im2col.py, trick 1). The best of ``repeat``
    steps, each split by timing those functions as it runs."""
    from collections import Counter
    from contextlib import nullcontext

    from d2lmini import im2col
    try:
        from threadpoolctl import threadpool_limits
        one_thread, where = threadpool_limits(limits=1, user_api="blas"), "one core"
    except ImportError:  # the products on the BLAS's threads as set
        one_thread, where = nullcontext(), "the BLAS's threads as set (no threadpoolctl)"
    saved = im2col.np, im2col._im2col, im2col._input_grad
    spent = Counter()

    def timed(name, func):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - start
        return wrapper

    def input_grad(*args):  # col2im: the function less the product it makes
        before_products = spent["products"]
        timed("input gradient", saved[2])(*args)
        spent["col2im"] += spent.pop("input gradient") - (spent["products"] - before_products)

    print(f"## Where conv2d's time goes: case A, forward + every gradient, {where}, best of "
          f"{repeat} (ms)\n")
    print(f"{'dtype':>8} {'total':>7} {'products':>9} {'im2col':>7} {'col2im':>7} {'rest':>6} "
          f"{'products share':>15}")
    results = []
    with one_thread:
        im2col.np, im2col._input_grad = _TimedNumPy(spent), input_grad
        im2col._im2col = timed("im2col", saved[1])  # one BLAS thread: no chunks shared
        try:
            for dtype in (np.float32, np.float64):
                X = rng.standard_normal((32, 16, 32, 32)).astype(dtype)
                W = rng.standard_normal((32, 16, 3, 3)).astype(dtype)
                b = rng.standard_normal(32).astype(dtype)
                G = rng.standard_normal((32, 32, 30, 30)).astype(dtype)
                best = None
                for _ in range(repeat):
                    spent.clear()
                    start = time.perf_counter()
                    conv2d_step(X, W, b, G, True)
                    total = time.perf_counter() - start
                    if best is None or total < best[0]:
                        best = total, dict(spent)
                total, parts = best
                rest = total - sum(parts.values())
                ms = {name: 1e3 * parts.get(name, 0.0) for name in ("products", "im2col", "col2im")}
                print(f"{np.dtype(dtype).name:>8} {1e3 * total:>7.2f} {ms['products']:>9.2f} "
                      f"{ms['im2col']:>7.2f} {ms['col2im']:>7.2f} {1e3 * rest:>6.2f} "
                      f"{ms['products'] / (1e3 * total):>14.0%}")
                results.append({"dtype": np.dtype(dtype).name, "where": where,
                                "total_ms": 1e3 * total,
                                **{f"{k}_ms": v for k, v in ms.items()}, "rest_ms": 1e3 * rest})
        finally:
            im2col.np, im2col._im2col, im2col._input_grad = saved
    print()
    return results


def pool2d_step(X, G, pool, mode, stride, pad):
    """One forward and backward pass of d2lmini.pool2d through the tape."""
    x = autograd.Tensor(X)
    x.attach_grad()
    with autograd.record():
        Y = d2lmini.pool2d(x, pool, mode, stride, pad)
    Y.backward(G)


def pooling(rng, quick):
    try:
        import torch
        functions = {"max": torch.nn.functional.max_pool2d, "avg": torch.nn.functional.avg_pool2d}
    except ImportError:
        torch = None
    N, C, H = (8, 6, 28) if quick else (32, 6, 28)
    print(f"## pool2d vs the book's loop pool2d_naive and PyTorch, N={N}, C={C}, {H}x{H}, "
          "float32\n")
    if torch is not None:  # NumPy does this elementwise work on one core: so does torch here
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        print("(PyTorch on 1 thread, as NumPy's elementwise operations run)")
    print(f"{'mode':>4} {'pool/stride/pad':>15} {'naive ms':>9} {'fwd ms':>7} {'speed-up':>9} "
          f"{'fwd+bwd ms':>11} {'torch ms':>9} {'ratio':>6}")
    X = rng.standard_normal((N, C, H, H)).astype(np.float32)
    results = []
    for mode in ("max", "avg"):
        for pool, stride, pad in ((2, 2, 0), (3, 2, 1)):
            G = rng.standard_normal(d2lmini.pool2d(X, pool, mode, stride, pad).shape)
            G = G.astype(np.float32)
            naive = median_ms(lambda: d2lmini.pool2d_naive(X, pool, mode, stride, pad), repeat=3)
            forward = median_ms(lambda: d2lmini.pool2d(X, pool, mode, stride, pad))
            theirs = ratio = float("nan")
            if torch is None:
                ours = median_ms(lambda: pool2d_step(X, G, pool, mode, stride, pad))
            else:
                tX, tG = torch.tensor(X, requires_grad=True), torch.tensor(G)

                def torch_step():
                    tX.grad = None
                    functions[mode](tX, pool, stride, pad).backward(tG)

                ours, theirs = paired_median_ms(
                    lambda: pool2d_step(X, G, pool, mode, stride, pad), torch_step)
                ratio = ours / theirs
            print(f"{mode:>4} {f'{pool}/{stride}/{pad}':>15} {naive:>9.1f} {forward:>7.3f} "
                  f"{naive / forward:>8.0f}x {ours:>11.3f} {theirs:>9.3f} {ratio:>5.1f}x")
            results.append({"mode": mode, "case": f"{pool}/{stride}/{pad}",
                            "speedup": naive / forward,
                            "torch_ratio": None if torch is None else ratio})
    print("speed-up = naive time / pool2d forward time; ratio = d2lmini fwd+bwd / torch fwd+bwd"
          + ("" if torch else " (PyTorch not installed)") + "\n")
    if torch is not None:
        torch.set_num_threads(threads)
    return results


def imports():
    code = ("import sys, d2lmini; "
            "print(sorted({'matplotlib', 'scipy', 'sklearn'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    print(f"## of matplotlib, scipy and scikit-learn, import d2lmini loads: "
          f"{out.stdout.strip()} (target: [])\n")
    return ast.literal_eval(out.stdout.strip())


def blas_settings():
    """The machine's OpenBLAS variables as set in this process's environment (None: unset)."""
    return {name: os.environ.get(name) for name in readme.BLAS_VARS}


def setting_part(rng, quick):
    """What is measured under each BLAS setting: the matmul peak, conv2d, the training step."""
    peaks = training.matmul_peaks()
    print("## np.matmul peak, 1024x1024: "
          + ", ".join(f"{dtype} {gflops:.0f} GFLOP/s" for dtype, gflops in peaks.items()) + "\n")
    conv = against_torch(rng)
    return {"peaks": peaks, "conv": conv if isinstance(conv, list) else None,
            "training": training.lenet_step(quick)}


def unset_run(quick):
    """Run ``setting_part`` again in a child process whose environment lacks the BLAS variables
    (OpenBLAS reads them when it loads, so only a new process sees the change); print what the
    child prints and return its results. This command alone changes them, never a test."""
    env = {k: v for k, v in os.environ.items() if k not in readme.BLAS_VARS}
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "results.json")
        args = [sys.executable, "-m", "benchmarks", "--unset-part", path]
        subprocess.run(args + (["--quick"] if quick else []), env=env, check=True)
        with open(path) as file:
            return json.load(file)


def main(argv):
    quick = "--quick" in argv
    rng = np.random.default_rng(0)
    if "--unset-part" in argv:  # the child of unset_run
        path = argv[argv.index("--unset-part") + 1]
        part = setting_part(rng, quick)
        with open(path, "w") as file:
            json.dump(part, file)
        return
    blas = blas_settings()
    print(f"numpy {np.__version__}, python {sys.version.split()[0]}; BLAS variables: "
          + ", ".join(f"{k}={v if v is not None else '(unset)'}" for k, v in blas.items()) + "\n")
    results = {"blas": blas, "settings": {}, "cores": os.cpu_count()}
    load_at_start = os.getloadavg()[0]  # other work on a shared machine slows every figure
    print("# With the BLAS variables as set\n")
    results["settings"]["set"] = setting_part(rng, quick)
    results["split"] = time_split(rng)
    results["memory"] = training.memory()
    results["loop"] = loop_vs_vectorized(rng)
    results["scipy"] = against_scipy(rng, (64, 256) if quick else (64, 256, 1024),
                                     (3, 5) if quick else (3, 5, 7, 11))
    results["pool"] = pooling(rng, quick)
    results["imports"] = imports()
    if any(v is not None for v in blas.values()):
        print("# With OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (a child process)\n",
              flush=True)
        results["settings"]["unset"] = unset_run(quick)
    else:
        print("(neither BLAS variable is set here: one setting measured)\n")
    results["load"] = (load_at_start, os.getloadavg()[0])
    table = readme.table(results)
    print("# The README's table\n\n" + table)
    if "--readme" in argv:
        path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                            "README.md")
        with open(path, encoding="utf-8") as file:
            text = file.read()
        with open(path, "w", encoding="utf-8") as file:
            file.write(readme.rewrite(text, table))
        print(f"(rewrote the benchmark table of {path})")


if __name__ == "__main__":
    main(sys.argv[1:])
