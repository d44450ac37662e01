"""One LeNet training step timed the same way in the browser and natively.

The network is notebook 08's: its `def lenet()` is taken from the notebook's code, so the
timing follows the lesson. The step is the lesson's (forward, loss, backward, SGD update)
on the first 64 training digits, in float32 (the benchmark's) and in float64 (the lesson
trains in float64). The code prints a line per dtype, `step_ms <dtype> <best> <median>`: the
best and the median of REPEATS blocks of STEPS steps each, in milliseconds per step. It runs
in a scratch notebook of the test site (build/lite-tests), never in a lesson's outputs.
"""

import ast
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
LESSON = ROOT / "notebooks" / "08-lenet.ipynb"
NOTEBOOK = "lenet-step.ipynb"
STEPS, REPEATS = 5, 15
BATCH = 64

TIMING = """
import statistics
import time

import numpy as np

import d2lmini
from d2lmini import autograd, data, init, nn

X_train, y_train, _, _ = data.digits()
for dtype in ("float32", "float64"):
    X, y = X_train[:{batch}].astype(dtype), y_train[:{batch}]
    net = lenet()
    net.initialize(init=init.Uniform(0.3), seed=0)
    net(X[:1])  # the input size fixes the parameters' shapes
    net.cast(dtype)
    loss = d2lmini.loss.SoftmaxCrossEntropyLoss()
    trainer = d2lmini.Trainer(net.collect_params(), 'sgd', {{'learning_rate': 0.1}})

    def step():
        with autograd.record():
            l = loss(net(X), y)
        l.backward()
        trainer.step({batch})

    step()  # the first step allocates what the others reuse
    per_step = []
    for _ in range({repeats}):
        start = time.perf_counter()
        for _ in range({steps}):
            step()
        per_step.append((time.perf_counter() - start) / {steps} * 1e3)
    print(f"step_ms {{dtype}} {{min(per_step):.2f}} {{statistics.median(per_step):.2f}}")
"""


def lenet_source():
    """The source of `def lenet()` in notebook 08."""
    nb = nbformat.read(LESSON, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code" or "def lenet" not in cell.source:
            continue
        tree = ast.parse(cell.source)
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name == "lenet":
                return ast.get_source_segment(cell.source, node)
    raise LookupError(f"{LESSON.name} defines no lenet()")


def timing_code():
    """The whole program: notebook 08's imports it needs, lenet(), the timed steps."""
    return ("from d2lmini import nn\n\n\n" + lenet_source() + "\n\n"
            + TIMING.format(batch=BATCH, steps=STEPS, repeats=REPEATS))


def write_notebook(folder):
    """The scratch notebook holding the timing code, in `folder`; returns its path."""
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# One training step of notebook 08's LeNet, timed"),
        nbformat.v4.new_code_cell(timing_code())])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / NOTEBOOK
    nbformat.write(nb, path)
    return path


def parse(text):
    """{dtype: (best, median)} in ms from the printed lines."""
    times = {}
    for line in text.splitlines():
        if line.startswith("step_ms "):
            dtype, best, median = line.split()[1:]
            times[dtype] = (float(best), float(median))
    if not times:
        raise ValueError(f"no step_ms line in {text!r}")
    return times
