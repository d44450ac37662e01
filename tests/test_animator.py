"""d2lmini.plot.Animator: the data it shows, its errors, and its output in a notebook."""
import importlib.util
import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pytest

from d2lmini.plot import Animator

ROOT = Path(__file__).resolve().parent.parent


def shown(animator):
    """What the first Axes draws: [(label, x values, y values), ...]."""
    return [(line.get_label(), line.get_xdata().tolist(), line.get_ydata().tolist())
            for line in animator.axes[0].lines]


def test_curves_grow_with_each_add():
    animator = Animator(xlabel="epoch", legend=["train loss", "train acc", "test acc"],
                        xlim=[1, 3])
    animator.add(1, (2.0, 0.3, 0.25))
    animator.add(2, (1.0, 0.6, None))  # no test accuracy this time
    animator.add(3, [0.5, 0.9, 0.85])
    assert shown(animator) == [("train loss", [1, 2, 3], [2.0, 1.0, 0.5]),
                               ("train acc", [1, 2, 3], [0.3, 0.6, 0.9]),
                               ("test acc", [1, 3], [0.25, 0.85])]
    ax = animator.axes[0]
    assert ax.get_xlabel() == "epoch" and ax.get_xlim() == (1, 3)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train loss", "train acc",
                                                                   "test acc"]
    assert animator.X[2] == [1.0, 3.0] and animator.Y[0] == [2.0, 1.0, 0.5]


def test_one_curve_and_per_curve_x():
    animator = Animator(yscale="log", fmts=["r-", "b:"])
    animator.add(0, 1.0)
    animator.add(1, 0.1)
    assert shown(animator) == [("_child0", [0, 1], [1.0, 0.1])]
    assert animator.axes[0].get_yscale() == "log"
    two = Animator()
    two.add([1, 10], [5.0, 6.0])
    assert [x for _, x, _ in shown(two)] == [[1], [10]]
    scalars = Animator()  # what a training loop has at hand: NumPy scalars, 0-d arrays
    scalars.add(np.int64(1), (np.float32(0.5), np.array(0.25)))
    assert scalars.Y == [[0.5], [0.25]] and all(type(v) is float for v in scalars.Y[1])


def test_the_figure_is_not_left_to_pyplot():
    before = plt.get_fignums()
    animator = Animator(nrows=1, ncols=2)
    animator.add(1, 1.0)
    assert plt.get_fignums() == before  # plt.show() shows nothing twice; nothing to close
    assert len(animator.axes) == 2


@pytest.mark.parametrize("kwargs, message", [
    (dict(legend="loss"), "legend must be a list of str"),
    (dict(fmts=[]), "fmts must be a list of format strings"),
    (dict(nrows=0), "nrows must be a positive int"),
    (dict(xlim=(0,)), "xlim must be a pair of numbers"),
    (dict(yscale="symlog2"), "yscale must be 'linear' or 'log'"),
])
def test_constructor_errors(kwargs, message):
    with pytest.raises(ValueError, match="Animator: " + message):
        Animator(**kwargs)


def test_add_errors_leave_the_data_unchanged():
    animator = Animator(legend=["a", "b"])
    with pytest.raises(ValueError, match=r"Animator.add: 1 curves, but 4 fmts and 2 legend labels"):
        animator.add(1, 0.5)
    assert animator.Y is None
    animator.add(1, (0.5, 0.6))
    with pytest.raises(ValueError, match=r"got 3 x and 3 y values, expected one per curve \(2\)"):
        animator.add(2, (1, 2, 3))
    with pytest.raises(TypeError, match="y must hold numbers"):
        animator.add(2, ("x", 1))
    with pytest.raises(TypeError, match="x must hold numbers"):
        animator.add("2", (1, 1))
    assert animator.Y == [[0.5], [0.6]]
    assert len(animator.axes[0].lines) == 2


def test_in_a_notebook_it_ends_as_one_figure_and_passes_nbval(tmp_path):
    spec = importlib.util.spec_from_file_location("tools_run", ROOT / "tools" / "run_notebooks.py")
    run_notebooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run_notebooks)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "import matplotlib.pyplot as plt\n"
        "from d2lmini.plot import Animator\n"
        "animator = Animator(legend=['loss'])\n"
        "for epoch in range(1, 4):\n"
        "    animator.add(epoch, 1 / epoch)\n"
        "plt.show()"
    ), nbformat.v4.new_code_cell("print(animator.Y)")]
    run_notebooks.execute(nb, tmp_path)
    outputs = nb.cells[0].outputs
    assert [o.output_type for o in outputs] == ["display_data"]  # one figure, updated in place
    assert {"image/png", "text/plain"} <= set(outputs[0].data)
    assert nb.cells[1].outputs[0].text == "[[1.0, 0.5, 0.3333333333333333]]\n"
    path = tmp_path / "animator.ipynb"
    nbformat.write(nb, path)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval",
         "--nbval-current-env", f"--nbval-sanitize-with={ROOT / 'tests' / 'sanitize.cfg'}",
         "-c", "/dev/null", "--rootdir", str(tmp_path), str(path)],
        capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


class FakeShell:
    """A notebook shell as far as the Animator uses one: its post_execute event."""

    def __init__(self):
        self.callbacks = []
        self.events = self

    def register(self, event, func):
        assert event == "post_execute"
        self.callbacks.append(func)

    def unregister(self, event, func):
        self.callbacks.remove(func)

    def end_cell(self):
        for func in list(self.callbacks):
            func()


@pytest.fixture
def notebook(monkeypatch):
    """Run the Animator as in a notebook; record the points of each picture it sends."""
    shell, pictures = FakeShell(), []
    monkeypatch.setattr("d2lmini.plot._notebook_shell", lambda: shell)

    def publish(self, bundle):
        assert bundle["image/png"]  # a real PNG was made
        pictures.append(shown(self))

    monkeypatch.setattr(Animator, "_publish", publish)
    monkeypatch.setattr(Animator, "redraw_interval", 1e9)  # a fast loop: no time has passed
    return shell, pictures


def test_in_a_notebook_a_fast_loop_sends_the_first_and_the_last_point_of_xlim(notebook):
    shell, pictures = notebook
    animator = Animator(legend=["loss"], xlim=[1, 4])
    for epoch in range(1, 5):
        animator.add(epoch, 1 / epoch)
    assert pictures == [[("loss", [1], [1.0])],
                        [("loss", [1, 2, 3, 4], [1.0, 0.5, 1 / 3, 0.25])]]
    shell.end_cell()  # everything was shown: nothing more to send
    assert len(pictures) == 2 and shell.callbacks == []


def test_in_a_notebook_the_cell_ends_with_every_point_shown(notebook):
    shell, pictures = notebook
    animator = Animator(legend=["loss"])  # no xlim: the last point is not known
    for epoch in range(1, 4):
        animator.add(epoch, float(epoch))
    assert pictures == [[("loss", [1], [1.0])]]
    assert shell.callbacks == [animator._flush]  # registered once, not per point
    shell.end_cell()
    assert pictures[-1] == [("loss", [1, 2, 3], [1.0, 2.0, 3.0])]
    assert shell.callbacks == []


def test_in_a_notebook_a_slow_loop_sends_every_point(notebook, monkeypatch):
    shell, pictures = notebook
    monkeypatch.setattr(Animator, "redraw_interval", 0.0)  # every epoch takes long enough
    animator = Animator()
    for epoch in range(1, 4):
        animator.add(epoch, float(epoch))
    assert [p[0][1] for p in pictures] == [[1], [1, 2], [1, 2, 3]]
    assert shell.callbacks == []


def test_the_curves_keep_their_lines_and_the_axes_follow_the_data():
    animator = Animator(legend=["a"])
    animator.add(1, 1.0)
    line = animator.axes[0].lines[0]
    animator.add(3, 5.0)
    assert animator.axes[0].lines[0] is line and len(animator.axes[0].lines) == 1
    low, high = animator.axes[0].get_ylim()
    assert low <= 1.0 and high >= 5.0  # autoscaled to the new point
